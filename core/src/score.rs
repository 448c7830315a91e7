//! Risk score, tier, decision and controls.
//!
//! The score (0-100) is a sum of explained factors: data sensitivity, scopes, sinks, third
//! parties, the client, and *exposure* findings. Every factor only grows when an item
//! (data type, scope, sink, dependency, redirect URI, grant) is added, so adding a risky
//! item never lowers the score (a property test holds us to that). Findings of relational
//! rules (`Rule::relational`), which can disappear when an item is added (e.g. `MV-SCOPE-005`,
//! satisfied by declaring the data), drive the decision but not the score.

use crate::policy::{Access as ScopeAccess, Sensitivity};
use crate::rules::json;
use crate::rules::{Category, Ctx};
use crate::verdict::{Control, Decision, Finding, Risk, RiskFactor, Severity, Tier};

fn finding_points(s: Severity) -> u32 {
    match s {
        Severity::Critical => 25,
        Severity::High => 10,
        Severity::Medium => 4,
        Severity::Low => 1,
        Severity::Info => 0,
    }
}

fn exposure_finding(f: &Finding) -> bool {
    // `f.rule` is a `Rule::id` itself: an exact comparison finds it (IDs are unique).
    matches!(
        crate::rules::RULES
            .iter()
            .find(|r| r.id == f.rule)
            .filter(|r| !r.relational)
            .map(|r| r.category),
        Some(
            Category::Sinks
                | Category::Secrets
                | Category::Vendors
                | Category::Scopes
                | Category::Data
                | Category::Oauth
        )
    )
}

fn push(factors: &mut Vec<RiskFactor>, factor: &str, points: u32, reason: String) {
    if points > 0 {
        factors.push(RiskFactor {
            factor: factor.to_string(),
            points,
            reason,
        });
    }
}

/// Compute the explained risk.
pub fn risk(cx: &Ctx<'_>, findings: &[Finding]) -> Risk {
    // Room for every factor (there are seven).
    let mut factors = Vec::with_capacity(7);

    // Data: the most sensitive class sets a base; each sensitive type adds more.
    if let Some(max) = cx.max_sensitivity {
        let base = match max {
            Sensitivity::Public => 0,
            Sensitivity::Internal => 5,
            Sensitivity::Confidential => 15,
            Sensitivity::Restricted => 25,
        };
        let names: Vec<&str> = cx
            .data
            .iter()
            .filter(|d| d.class.is_some_and(|c| c.1.sensitivity == max))
            .map(|d| d.name.value.as_str())
            .collect();
        push(
            &mut factors,
            "data-sensitivity",
            base,
            [
                "most sensitive data is ",
                max.as_str(),
                " (",
                &names.join(", "),
                ")",
            ]
            .concat(),
        );
    }
    let sensitive = cx.sensitive_types();
    push(
        &mut factors,
        "sensitive-data-types",
        5 * u32::try_from(sensitive.len()).unwrap_or(u32::MAX / 8),
        {
            let mut reason = String::with_capacity(64);
            crate::yaml::push_index(&mut reason, sensitive.len());
            reason.push_str(" sensitive data type(s): ");
            reason.push_str(&sensitive.join(", "));
            reason
        },
    );
    let unknown_data = cx.data.iter().filter(|d| d.class.is_none()).count();
    // Usually none: no reason to format then (`push` drops a factor worth 0 points).
    if unknown_data > 0 {
        push(
            &mut factors,
            "unclassified-data",
            4 * count(unknown_data),
            format!("{unknown_data} data type(s) not in the catalogue"),
        );
    }

    // Scopes.
    let mut scope_points = 0u32;
    let mut scope_reasons = Vec::new();
    for (s, def) in &cx.scopes {
        let (p, why) = match def {
            None => (4, "unknown"),
            Some(d) if d.denied => (10, "denied"),
            Some(d) if d.review && d.access == ScopeAccess::Write => (10, "write, needs review"),
            Some(d) if d.review => (6, "needs review"),
            Some(d) if d.access == ScopeAccess::Write => (6, "write"),
            Some(d) if d.offline => (4, "offline access"),
            Some(_) => (0, ""),
        };
        if p > 0 {
            scope_points += p;
            scope_reasons.push([s.value.as_str(), " (", why, ")"].concat());
        }
    }
    push(
        &mut factors,
        "scopes",
        scope_points,
        scope_reasons.join(", "),
    );

    // Sinks: data leaving the app at all, more when not allowlisted.
    let mut sink_points = 0u32;
    let mut sink_reasons = Vec::new();
    for s in &cx.sinks {
        let allowed = s.url.is_ok() && s.allowed;
        sink_points += if allowed { 2 } else { 10 };
        let mut reason = redact_sink(&s.url);
        reason.push_str(if allowed {
            " (enterprise)"
        } else {
            " (not allowlisted)"
        });
        sink_reasons.push(reason);
    }
    push(
        &mut factors,
        "external-sinks",
        sink_points,
        sink_reasons.join(", "),
    );

    // Third parties.
    let mut dep_points = 0u32;
    let mut deps = Vec::new();
    // The same lookup MV-VENDOR-001 uses (scheme and path stripped), so the score and the
    // rule never disagree about a vendor.
    for (d, approved) in cx
        .manifest
        .third_party_deps
        .iter()
        .flat_map(|d| d.value.iter())
        .zip(cx.approved_vendors())
    {
        let approved = approved.is_some();
        dep_points += if approved { 3 } else { 8 };
        let name = d
            .name
            .as_ref()
            .or(d.vendor.as_ref())
            .map_or("unnamed", |n| n.value.as_str());
        deps.push(
            [
                name,
                if approved {
                    " (approved vendor)"
                } else {
                    " (unapproved vendor)"
                },
            ]
            .concat(),
        );
    }
    push(&mut factors, "third-parties", dep_points, deps.join(", "));

    // Exposure findings.
    let mut by_sev = [0u32; 5];
    let mut finding_total = 0u32;
    for f in findings.iter().filter(|f| exposure_finding(f)) {
        finding_total += finding_points(f.severity);
        if let Some(slot) = by_sev.get_mut(f.severity as usize) {
            *slot += 1;
        }
    }
    let parts: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .iter()
    .filter_map(|s| {
        by_sev.get(*s as usize).filter(|n| **n > 0).map(|n| {
            let mut part = String::with_capacity(16);
            crate::yaml::push_index(&mut part, usize::try_from(*n).unwrap_or(usize::MAX));
            part.push(' ');
            part.push_str(s.as_str());
            part
        })
    })
    .collect();
    push(
        &mut factors,
        "exposure-findings",
        finding_total,
        [&parts.join(", "), " finding(s) that widen exposure"].concat(),
    );

    let total: u32 = factors.iter().map(|f| f.points).sum();
    let score = total.min(100);
    let t = cx.policy.decision.tiers;
    let tier = if score >= t.critical {
        Tier::Critical
    } else if score >= t.high {
        Tier::High
    } else if score >= t.medium {
        Tier::Medium
    } else {
        Tier::Low
    };
    Risk {
        score,
        tier,
        factors,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX / 8)
}

/// A sink as shown in reasons: scheme and host only (never userinfo, paths or queries).
/// Takes the sink as [`Ctx`] parsed it (`idn::parse_url` of the trimmed text).
fn redact_sink(url: &Result<url::Url, String>) -> String {
    match url {
        Ok(u) => match u.host_str() {
            Some(h) if !h.is_empty() => [u.scheme(), "://", h].concat(),
            _ => [u.scheme(), ":"].concat(),
        },
        Err(_) => String::from("unparseable sink"),
    }
}

/// Decision: any critical → reject; any high → remediate; medium findings or a medium+
/// tier → approve-with-controls; else approve.
pub fn decide(findings: &[Finding], tier: Tier) -> Decision {
    let worst = findings.iter().map(|f| f.severity).max();
    match worst {
        Some(Severity::Critical) => Decision::Reject,
        Some(Severity::High) => Decision::Remediate,
        Some(Severity::Medium) => Decision::ApproveWithControls,
        _ if tier >= Tier::Medium => Decision::ApproveWithControls,
        _ => Decision::Approve,
    }
}

/// Concrete, machine-readable controls.
pub fn controls(cx: &Ctx<'_>, risk: &Risk, findings: &[Finding]) -> Vec<Control> {
    // Room for every control (there are eight).
    let mut out = Vec::with_capacity(8);
    let r = cx.policy.lifecycle.ttl_days;
    let by_tier = match risk.tier {
        Tier::Low => r.max,
        Tier::Medium => ((r.min + r.max) / 2).clamp(r.min, r.max),
        Tier::High | Tier::Critical => r.min,
    };
    let ttl = match &cx.manifest.expiry_days {
        Some(e) if e.value >= r.min && e.value < by_tier => e.value,
        _ => by_tier,
    };
    if !cx.dcr || ttl > 0 {
        out.push(Control {
            control: "client_ttl_days",
            value: json!(ttl),
            reason: {
                use crate::yaml::push_i64;
                let mut reason = String::with_capacity(96);
                reason.push_str(risk.tier.as_str());
                reason.push_str(" risk: provision a client that expires after ");
                push_i64(&mut reason, ttl);
                reason.push_str(" days (policy ");
                push_i64(&mut reason, r.min);
                reason.push('-');
                push_i64(&mut reason, r.max);
                reason.push(')');
                reason
            },
        });
    }
    let (recert, days) = match risk.tier {
        Tier::Low => (180, "180"),
        Tier::Medium => (90, "90"),
        Tier::High | Tier::Critical => (30, "30"),
    };
    out.push(Control {
        control: "recertify_every_days",
        value: json!(recert),
        reason: [
            risk.tier.as_str(),
            " risk: the owner re-approves the app every ",
            days,
            " days or it is disabled",
        ]
        .concat(),
    });
    // Sinks that are not URLs have their own finding (MV-SINK-001); they are not sinks a
    // DLP scanner could be put on.
    let sinks: Vec<String> = cx
        .sinks
        .iter()
        .filter(|s| s.url.is_ok())
        .map(|s| redact_sink(&s.url))
        .collect();
    if cx.sensitive() && !sinks.is_empty() {
        out.push(Control {
            control: "dlp_required",
            value: json!(sinks),
            reason: [
                "sensitive data (",
                &cx.sensitive_types().join(", "),
                ") leaves the app: DLP scanning on these sinks",
            ]
            .concat(),
        });
    }
    let review: Vec<&str> = cx
        .scopes
        .iter()
        .filter(|(_, d)| d.is_some_and(|d| d.review))
        .map(|(s, _)| s.value.as_str())
        .collect();
    if !review.is_empty() || risk.tier >= Tier::High {
        let reason = if review.is_empty() {
            [risk.tier.as_str(), " risk tier"].concat()
        } else {
            ["scopes need review: ", &review.join(", ")].concat()
        };
        out.push(Control {
            control: "security_review",
            value: json!(true),
            reason,
        });
    }
    // Resolved from `third_party_deps` (looked up once): from the root, each pointer would
    // scan the top-level keys again, O(keys x vendors).
    let deps = cx.root.get("third_party_deps");
    let unapproved: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == crate::rules::VENDOR_UNAPPROVED.id)
        .filter_map(|f| {
            let node = match (deps, f.path.strip_prefix("/third_party_deps")) {
                (Some(deps), Some(rest)) if rest.starts_with('/') => deps.pointer(rest),
                _ => cx.root.pointer(&f.path),
            };
            node.and_then(|n| n.as_str()).map(|s| s.trim().to_string())
        })
        .collect();
    if !unapproved.is_empty() {
        out.push(Control {
            control: "vendor_review",
            value: json!(unapproved),
            reason: String::from(
                "unapproved vendors: review the vendor and its contract before data flows to it",
            ),
        });
    }
    if cx
        .manifest
        .instrumentation
        .as_ref()
        .and_then(|i| i.audit_log.as_ref())
        .is_none()
        && !cx.dcr
    {
        out.push(Control {
            control: "audit_logging",
            value: json!("required"),
            reason: String::from(
                "no audit log declared: send consent, token and data-access events to the SIEM",
            ),
        });
    }
    client_controls(cx, &mut out);
    out
}

/// What the authorization server must enforce for the client whatever the manifest says
/// (a DCR request cannot even express PKCE or rotation): Micro Apps, Macro Risk's "PKCE S256 for public
/// clients" and "refresh rotation, TTL <= 30 days", as Keycloak's `pkce-enforcer` and
/// "Revoke Refresh Token" would apply them.
fn client_controls(cx: &Ctx<'_>, out: &mut Vec<Control>) {
    use crate::rules::support::oauth_client as oc;
    let Some(c) = oc::client(cx) else { return };
    if oc::code_flow(c) {
        out.push(Control {
            control: "pkce_required",
            value: json!("S256"),
            reason: String::from(
                "authorization code flow: reject authorization requests without an S256 code challenge (RFC 9700 §2.1.1)",
            ),
        });
    }
    if oc::has_grant(c, "refresh_token") {
        let max = cx.policy.client.refresh_token_max_days;
        let days = c
            .refresh_token_ttl_days
            .as_ref()
            .map_or(max, |t| t.value.min(max).max(0));
        // RFC 9700 §4.14.2: rotated or sender-constrained. A client that declares bound
        // tokens (RFC 9449 §5, RFC 8705 §4) need not rotate, unless it says it does.
        let bound = oc::sender_constrained(c);
        let rotation =
            bound.is_none() || c.refresh_token_rotation.as_ref().is_some_and(|r| r.value);
        let value = match bound {
            Some(b) => json!({ "rotation": rotation, "sender_constrained": b, "max_days": days }),
            None => json!({ "rotation": true, "max_days": days }),
        };
        out.push(Control {
            control: "refresh_token",
            value,
            reason: {
                use crate::yaml::push_i64;
                let mut reason = String::with_capacity(112);
                reason.push_str(match (bound, rotation) {
                    (Some("dpop"), false) => "refresh tokens are bound to the client's DPoP key (RFC 9449 §5)",
                    (Some(_), false) => "refresh tokens are bound to the client's TLS certificate (RFC 8705 §4)",
                    (Some("dpop"), true) => "refresh tokens are bound to the client's DPoP key and one-time use (rotated)",
                    (Some(_), true) => "refresh tokens are bound to the client's TLS certificate and one-time use (rotated)",
                    (None, _) => "refresh tokens are one-time use (rotated)",
                });
                reason.push_str(" and expire within ");
                push_i64(&mut reason, days);
                reason.push_str(" days (RFC 9700 §4.14; policy max ");
                push_i64(&mut reason, max);
                reason.push(')');
                reason
            },
        });
    }
}
