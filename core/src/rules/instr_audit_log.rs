//! MV-INSTR-001 audit-log-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-INSTR-001",
    name: "audit-log-missing",
    category: Category::Instrumentation,
    severity: Severity::Medium,
    summary: "the app does not say where its structured audit log goes",
    what: "That `instrumentation.audit_log` is present and an absolute URI (e.g. `siem://corp/micro-apps` or `https://logs.example.com/ingest`).",
    why: "Micro Apps, Macro Risk's vet, step 6: require instrumentation, structured audit logs and usage telemetry; playbook step 5: log consent events and token issuance to the SIEM. An app without logs is invisible to detection.",
    example: "# instrumentation: missing",
    fix: "Add `instrumentation: { audit_log: <URI of the log destination> }`.",
    references: &[
        "Micro Apps, Macro Risk (2026): 7-step vet, step 6",
        "Micro Apps, Macro Risk (2026): playbook step 5",
        "policy: rules.MV-INSTR-001.severity",
    ],
    relational: false,
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
        // Read as a browser would: an IDN host is mapped to its A-labels first.
        Some(a) => match crate::idn::url_text(a.value.trim()) {
            Err(e) => {
                out.at(
                    a,
                    format!(
                        "audit_log `{}` is not an absolute URI microvet can read ({e})",
                        a.value
                    ),
                );
            }
            Ok(t) if url::Url::parse(&t).is_err() => {
                out.at(a, format!("audit_log `{}` is not an absolute URI", a.value));
            }
            Ok(_) => {}
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::vet;

    fn audit(uri: &str) -> Vec<String> {
        let text = format!(
            "name: t\nowner: it@example.com\npurpose: test the audit log rule\ndata_access: [{{type: user.profile}}]\nretention_days: 30\noauth_scopes: [openid]\nexpiry_days: 60\ninstrumentation: {{audit_log: {}, contact: it@example.com}}\n",
            serde_json::to_string(uri).unwrap()
        );
        vet(&text)
            .into_iter()
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn idn_hosts_are_absolute_uris() {
        assert!(audit("https://logs.b\u{fc}cher.example/ingest").is_empty());
        assert!(audit("https://logs.\u{ff45}xample.com/ingest").is_empty());
        assert!(audit("siem://corp/micro-apps").is_empty());
    }

    #[test]
    fn what_is_not_an_absolute_uri() {
        let m = audit("logs/ingest");
        assert_eq!(m, ["audit_log `logs/ingest` is not an absolute URI"]);
        let m = audit("https://exa\u{200b}mple.com/ingest");
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("U+200B"), "{m:?}");
    }
}
