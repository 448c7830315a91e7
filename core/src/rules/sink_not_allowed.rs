//! MV-SINK-005 sink-not-allowlisted
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-005",
    name: "sink-not-allowlisted",
    category: Category::Sinks,
    severity: Severity::Medium,
    summary: "a sink is not on the policy's enterprise allowlist",
    what: "Each parseable sink that is neither denied nor a personal mailbox against `sinks.allow` (scheme + host glob or domain).",
    why: "Only approved enterprise sinks pass (Micro Apps, Macro Risk: storage only to approved enterprise buckets with DLP scanning); anything else needs a review of where the data goes.",
    example: "external_sinks: [https://reports.partner.io/upload]",
    fix: "Use an allowlisted sink (e.g. `s3://corp-*` or a host under the organisation's domain), or have the destination approved.",
    references: &[
        "policy: sinks.allow",
        "Micro Apps, Macro Risk (2026): Mitigations applied (approved enterprise buckets)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &cx.sinks {
        let Ok(url) = &s.url else { continue };
        if url.scheme() == "mailto" || s.denied.is_some() || s.allowed {
            continue;
        }
        out.at(
            s.raw,
            format!(
                "sink `{}` is not on the enterprise allowlist",
                super::sink_denied::host_or_scheme(url)
            ),
        );
    }
}
