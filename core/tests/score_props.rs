//! "Adding a risky item never lowers the score": data types, scopes, sinks, dependencies,
//! redirect URIs and grants only ever add to the risk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::Policy;
use proptest::prelude::*;

const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "hr.read_only",
    "hr.write",
    "customer.read",
    "customer.write",
    "payments.read",
    "files.*",
    "directory.admin",
    "mystery.scope",
    "offline_access",
    "calendar.full_access",
    "tickets.write",
];
const SINKS: &[&str] = &[
    "s3://corp-hr-temp",
    "https://www.dropbox.com/s/x",
    "http://reports.example.com/u",
    "mailto:x@gmail.com",
    "https://partner.io/in",
    "not a url",
    "https://files.example.com/up",
    "ftp://old.example.com/",
];
const DATA: &[&str] = &[
    "user.profile",
    "user.email",
    "hr.employee_records",
    "hr.candidate_records",
    "customer.pii",
    "payment.cards",
    "finance.reports",
    "unknown.stuff",
    "secrets.credentials",
];
const DEPS: &[&str] = &[
    "{ name: a, vendor: slack.com }",
    "{ name: b, vendor: evil.io }",
    "{ name: c }",
    "{ name: d, vendor: x.io, data: [customer.pii] }",
    "{ name: e, vendor: y.io, dpa: true, data: [hr.payroll] }",
];
const REDIRECTS: &[&str] = &[
    "https://apps.example.com/cb",
    "http://apps.example.com/cb",
    "https://evil.io/cb",
    "https://*.example.com/cb",
    "com.example.app:/cb",
    "http://127.0.0.1:8080/cb",
];
const GRANTS: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "implicit",
    "password",
    "client_credentials",
];

#[derive(Debug, Clone, Default)]
struct M {
    scopes: Vec<usize>,
    sinks: Vec<usize>,
    data: Vec<usize>,
    deps: Vec<usize>,
    redirects: Vec<usize>,
    grants: Vec<usize>,
}

impl M {
    fn yaml(&self) -> String {
        let list = |ix: &[usize], pool: &[&str]| {
            ix.iter()
                .map(|i| format!("\"{}\"", pool[*i]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let data = self
            .data
            .iter()
            .map(|i| format!("{{ type: \"{}\" }}", DATA[*i]))
            .collect::<Vec<_>>()
            .join(", ");
        let deps = self
            .deps
            .iter()
            .map(|i| DEPS[*i].to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "name: prop-app\nowner: dev@example.com\npurpose: a property test application manifest\nexpiry_days: 60\nretention_days: 30\n\
             data_access: [{data}]\noauth_scopes: [{}]\nexternal_sinks: [{}]\nthird_party_deps: [{deps}]\n\
             client:\n  token_endpoint_auth_method: none\n  response_types: [code]\n  code_challenge_method: S256\n  grant_types: [{}]\n  redirect_uris: [{}]\n",
            list(&self.scopes, SCOPES),
            list(&self.sinks, SINKS),
            list(&self.grants, GRANTS),
            list(&self.redirects, REDIRECTS),
        )
    }
}

fn arb_m() -> impl Strategy<Value = M> {
    (
        proptest::collection::vec(0..SCOPES.len(), 0..4),
        proptest::collection::vec(0..SINKS.len(), 0..3),
        proptest::collection::vec(0..DATA.len(), 0..4),
        proptest::collection::vec(0..DEPS.len(), 0..3),
        proptest::collection::vec(0..REDIRECTS.len(), 0..3),
        proptest::collection::vec(0..GRANTS.len(), 0..3),
    )
        .prop_map(|(scopes, sinks, data, deps, redirects, grants)| M {
            scopes,
            sinks,
            data,
            deps,
            redirects,
            grants,
        })
}

fn score(p: &Policy, m: &M) -> u32 {
    p.vet(&m.yaml()).unwrap().risk.score
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_risky_item_never_lowers_the_score(m in arb_m(), kind in 0usize..6, pick in 0usize..64) {
        let p = Policy::builtin().unwrap();
        let before = score(&p, &m);
        let mut more = m.clone();
        match kind {
            0 => more.scopes.push(pick % SCOPES.len()),
            1 => more.sinks.push(pick % SINKS.len()),
            2 => more.data.push(pick % DATA.len()),
            3 => more.deps.push(pick % DEPS.len()),
            4 => more.redirects.push(pick % REDIRECTS.len()),
            _ => more.grants.push(pick % GRANTS.len()),
        }
        let after = score(&p, &more);
        prop_assert!(after >= before, "score fell from {before} to {after} adding kind {kind}\n--- before\n{}\n--- after\n{}", m.yaml(), more.yaml());
    }

    #[test]
    fn every_point_is_explained(m in arb_m()) {
        let v = Policy::builtin().unwrap().vet(&m.yaml()).unwrap();
        let sum: u32 = v.risk.factors.iter().map(|f| f.points).sum();
        prop_assert_eq!(v.risk.score, sum.min(100));
        prop_assert!(v.risk.factors.iter().all(|f| f.points > 0 && !f.reason.is_empty()));
    }
}

/// The score and MV-VENDOR-001 agree about a vendor written as a URL: an approved vendor's
/// domain with a scheme and a path is approved for both (the score used to count
/// `https://slack.com/x` as unapproved while the rule was silent).
#[test]
fn score_and_vendor_rule_agree_on_vendor_urls() {
    let policy = Policy::builtin().unwrap();
    for (vendor, approved) in [
        ("slack.com", true),
        ("https://slack.com/x", true),
        ("slack.com/", true),
        ("http://api.slack.com", true),
        ("plugin-vendor.com", false),
        ("https://slack.com.evil.example/x", false),
    ] {
        let manifest = format!(
            "name: chat\nowner: ops@example.com\npurpose: post notices\ndata_access: []\n\
             oauth_scopes: [openid]\nexpiry_days: 30\n\
             third_party_deps:\n  - name: chat\n    vendor: \"{vendor}\"\n"
        );
        let v = policy.vet(&manifest).unwrap();
        let flagged = v
            .findings
            .iter()
            .any(|f| f.rule == rule("MV-VENDOR-001").id);
        assert_eq!(flagged, !approved, "{vendor}: {}", v.to_json());
        let factor = v
            .risk
            .factors
            .iter()
            .find(|f| f.reason.contains("vendor)"))
            .unwrap_or_else(|| panic!("{vendor}: no vendor factor in {}", v.to_json()));
        let (points, word) = if approved {
            (3, "(approved vendor)")
        } else {
            (8, "(unapproved vendor)")
        };
        assert_eq!(factor.points, points, "{vendor}: {}", v.to_json());
        assert!(factor.reason.contains(word), "{vendor}: {}", factor.reason);
    }
}
