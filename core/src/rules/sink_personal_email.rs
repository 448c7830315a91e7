//! MV-SINK-003 sink-personal-email
use super::owner_not_email::email_domain;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-003",
    name: "sink-personal-email",
    category: Category::Sinks,
    severity: Severity::High,
    summary: "data is mailed to a personal mailbox",
    what: "Each `mailto:` sink (a bare address such as `jane@gmail.com` is read as its `mailto:` URL) whose recipient domain is a personal mailbox provider, or outside the organisation. Addresses are compared in normal form (no padding, invisible or full-width characters, see MV-SCHEMA-005) and domains ignoring case.",
    why: "Personal email is a disallowed sink in Micro Apps, Macro Risk: mail to a personal mailbox leaves every control the organisation has.",
    example: "external_sinks: [mailto:jane.doe@gmail.com]",
    fix: "Mail a shared mailbox under the organisation's domain, or store the data in an approved sink.",
    references: &[
        "Micro Apps, Macro Risk (2026): disallowed sinks (personal email)",
        "policy: organisation.personal_email_domains",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &cx.sinks {
        let Ok(url) = &s.url else { continue };
        if url.scheme() != "mailto" {
            continue;
        }
        let decoded: String = url::form_urlencoded::parse(url.path().as_bytes())
            .map(|(k, v)| {
                if v.is_empty() {
                    k.into_owned()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        for addr in decoded.split(',') {
            // In normal form: `jane@ｇｍａｉｌ.com` and `jane@gmail.com\u{ad}` are gmail.com.
            let addr = crate::normalise::normalise(addr);
            match email_domain(&addr) {
                Some(d) if super::support::matching::is_personal_domain(cx.policy, d) => {
                    out.at(
                        s.raw,
                        format!("sink mails data to a personal mailbox (`{d}`)"),
                    );
                }
                Some(d) if !super::support::matching::is_org_domain(cx.policy, d) => {
                    out.at(
                        s.raw,
                        format!("sink mails data outside the organisation (`{d}`)"),
                    );
                }
                Some(_) => {}
                None => {
                    out.at(s.raw, "sink `mailto:` has no valid recipient address");
                }
            }
        }
    }
}
