//! MV-SINK-006 sensitive-data-to-non-enterprise-sink
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-006",
    name: "sensitive-data-to-non-enterprise-sink",
    category: Category::Sinks,
    severity: Severity::Critical,
    summary: "sensitive data can flow to a sink outside the enterprise allowlist",
    what: "When the app declares confidential or restricted data: each sink that is not on `sinks.allow` (including unparseable, denied and mail sinks).",
    why: "This is Micro Apps, Macro Risk's whole case study: candidate PII synced to a personal cloud bucket. Sensitive data may only leave to enterprise sinks with DLP; anything else is refused.",
    example: "data_access: [{ type: hr.candidate_records }]\nexternal_sinks: [https://www.dropbox.com/s/abc/cv.zip]",
    fix: "Send the sensitive data only to an allowlisted enterprise sink with DLP scanning.",
    references: &[
        "Micro Apps, Macro Risk (2026): case study (consumer cloud bucket)",
        "policy: sinks.allow, data_classes",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if !cx.sensitive() {
        return;
    }
    let types = cx.sensitive_types().join(", ");
    for s in &cx.sinks {
        let allowed = s
            .url
            .as_ref()
            .is_ok_and(|u| s.allowed && u.scheme() != "http");
        if !allowed {
            out.at(
                s.raw,
                format!("sensitive data ({types}) can flow to a non-enterprise sink"),
            );
        }
    }
}
