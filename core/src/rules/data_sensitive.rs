//! MV-DATA-002 sensitive-data
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-DATA-002",
    name: "sensitive-data",
    category: Category::Data,
    severity: Severity::Info,
    summary: "the app touches sensitive data (PII, HR, payment, credentials)",
    what: "Each declared data type whose class is confidential or restricted.",
    why: "Sensitive classes raise the risk score and tighten other rules: shorter retention, enterprise-only sinks, DPAs for vendors, DLP on sinks. Micro Apps, Macro Risk: require additional approval and a DPA for third-party processors of PII or payment data.",
    example: "data_access: [{ type: hr.employee_records }]",
    fix: "Nothing to fix: this records why tighter controls apply. Drop the data type if the app does not need it.",
    references: &[
        "policy: data_classes",
        "Micro Apps, Macro Risk (2026): Identity governance & compliance (PII, payment)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for d in &cx.data {
        if let Some((class, c)) = d.class
            && c.sensitivity.is_sensitive()
        {
            out.at(
                d.name,
                [
                    "`",
                    d.name.value.as_str(),
                    "` is ",
                    c.sensitivity.as_str(),
                    " data (class `",
                    class,
                    "`): tighter controls apply",
                ]
                .concat(),
            );
        }
    }
}
