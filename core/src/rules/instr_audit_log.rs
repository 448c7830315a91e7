//! MV-INSTR-001 audit-log-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-INSTR-001",
    name: "audit-log-missing",
    category: Category::Instrumentation,
    severity: Severity::Medium,
    summary: "the app does not say where its structured audit log goes",
    what: "That `instrumentation.audit_log` is present and an absolute URI (e.g. `siem://corp/micro-apps` or `https://logs.example.com/ingest`).",
    why: "The seed's vet, step 6: require instrumentation, structured audit logs and usage telemetry; playbook step 5: log consent events and token issuance to the SIEM. An app without logs is invisible to detection.",
    example: "# instrumentation: missing",
    fix: "Add `instrumentation: { audit_log: <URI of the log destination> }`.",
    references: &[
        "the seed: 7-step vet, step 6",
        "the seed: playbook step 5",
        "policy: rules.MV-INSTR-001.severity",
    ],
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    match cx
        .manifest
        .instrumentation
        .as_ref()
        .and_then(|i| i.audit_log.as_ref())
    {
        None => {
            out.report(
                "/instrumentation/audit_log",
                None,
                "no `instrumentation.audit_log`: say where the app's structured audit log goes",
            );
        }
        Some(a) if url::Url::parse(a.value.trim()).is_err() => {
            out.at(a, format!("audit_log `{}` is not an absolute URI", a.value));
        }
        Some(_) => {}
    }
}
