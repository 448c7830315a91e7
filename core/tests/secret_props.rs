//! For every secret the scanner knows (vendor tokens, webhook URLs, passwords under
//! secret-named keys...), wherever it is written (a value, prose, a URL, a redirect URI, a
//! mapping key, the app's name) and however it is padded, the verdict JSON holds it in no
//! form: not as written, trimmed, lowercased or percent-encoded; and it is found.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::Policy;
use percent_encoding::{CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use proptest::prelude::*;

const BASE: &str = "\
owner: ops@example.com
purpose: post notices
data_access: []
retention_days: 7
oauth_scopes: [openid]
expiry_days: 30
instrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"ops@example.com\" }
";

/// (token, whether it is recognised outside a secret-named key).
fn token() -> impl Strategy<Value = (String, bool)> {
    let vendor = prop_oneof![
        "ghp_[A-Za-z0-9]{36}",
        "github_pat_11[A-Z0-9]{20}_[A-Za-z0-9]{59}",
        "glpat-[A-Za-z0-9]{8}[0-9][a-z][A-Z][A-Za-z0-9_-]{9}",
        "xox[bpar]-[0-9]{12}-[0-9]{12}-[A-Za-z0-9]{24}",
        "xapp-1-[A-Z0-9]{11}-[0-9]{13}-[a-f0-9]{64}",
        "(sk|rk)_(live|test)_[a-z][A-Z0-9][A-Za-z0-9]{22}",
        "whsec_[a-z][0-9][A-Za-z0-9]{30}",
        "AKIA[A-Z0-9]{16}",
        "AIza[A-Za-z0-9_-]{35}",
        "GOCSPX-[a-z][A-Z][A-Za-z0-9_-]{26}",
        "SG\\.[a-z][0-9][A-Za-z0-9_-]{20}\\.[A-Za-z0-9_-]{43}",
        "npm_[a-z][0-9][A-Za-z0-9]{34}",
        "sk-proj-[a-z][0-9][A-Za-z0-9]{46}",
        "eyJ[A-Za-z0-9_-]{20}\\.eyJ[A-Za-z0-9_-]{30}\\.[A-Za-z0-9_-]{43}",
        "https://hooks\\.slack\\.com/services/T[A-Z0-9]{8}/B[A-Z0-9]{10}/[A-Za-z0-9]{24}",
        "[a-f][0-9][a-f0-9]{38}",
        "[a-z][A-Z][0-9][A-Za-z0-9]{37}",
    ];
    prop_oneof![
        4 => vendor.prop_map(|t| (t, true)),
        1 => "[!-~]{8,24}".prop_map(|t| (t, false)),
    ]
}

/// Where the token goes: a YAML fragment, given the token as a JSON (= YAML double-quoted)
/// string, and whether the placement is a secret-named key's value.
const PLACES: &[(&str, bool)] = &[
    ("client:\n  client_secret: {}\n", true),
    ("client:\n  db_password: {}\n", true),
    ("notes: {}\n", false),
    ("client:\n  {}: 1\n", false),
    ("name: {}\n", false),
];

fn json(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn forms(secret: &str) -> Vec<String> {
    const URL: &percent_encoding::AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'#')
        .add(b'?')
        .add(b'{')
        .add(b'}');
    let t = secret.trim();
    let mut out = vec![secret.to_string(), t.to_string()];
    for set in [NON_ALPHANUMERIC, URL] {
        out.push(utf8_percent_encode(t, set).to_string());
    }
    out.push(percent_decode_str(t).decode_utf8_lossy().into_owned());
    out.into_iter()
        .filter(|f| f.chars().count() >= 4)
        .map(|f| f.to_lowercase())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn detected_secrets_are_never_shown(
        (tok, recognised) in token(),
        place in 0..PLACES.len(),
        text in prop_oneof![Just(0u8), Just(1), Just(2), Just(3)],
        pad in prop::sample::select(vec!["", " ", "\n", "  \t", "\u{a0}"]),
    ) {
        let (fragment, keyed) = PLACES[place];
        prop_assume!(recognised || keyed);
        // Prose and URLs only where the key does not already make it a secret.
        let written = match (text, keyed) {
            (1, false) if !tok.starts_with("https://") => format!("deploy with {tok} daily"),
            (2, false) if !tok.starts_with("https://") => {
                format!("https://hooks.example.com/x?user=a&token={tok}&b=1")
            }
            (3, _) => tok.to_uppercase(),
            _ => tok.clone(),
        };
        let secret = if text == 3 { tok.to_uppercase() } else { tok.clone() };
        let value = format!("{pad}{written}{pad}");
        let fragment = fragment.replace("{}", &json(&value));
        // `name:` is the fragment itself in one place, else the first line.
        let manifest = if place == 4 {
            format!("{fragment}{BASE}")
        } else {
            format!("name: props\n{BASE}{fragment}")
        };
        // The upper-cased vendor token of most formats is no longer that format.
        prop_assume!(text != 3 || keyed);
        let v = Policy::builtin().unwrap().vet(&manifest).unwrap();
        let out = v.to_json().to_lowercase();
        prop_assert!(
            v.findings.iter().any(|f| f.rule == rule("MV-SECRET-001").id),
            "not found:\n{}\n{}", manifest, out
        );
        for f in forms(&secret) {
            prop_assert!(!out.contains(&f), "`{}` shown:\n{}\n{}", f, manifest, out);
        }
    }
}
