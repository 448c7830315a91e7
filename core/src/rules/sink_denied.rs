//! MV-SINK-002 sink-denied
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-002",
    name: "sink-denied",
    category: Category::Sinks,
    severity: Severity::High,
    summary: "data goes to a denied sink (consumer storage, pastebin)",
    what: "Each sink against the policy's `sinks.deny` list: consumer storage (Dropbox, Google Drive, OneDrive personal, Box personal, WeTransfer, MEGA), pastebins and gists.",
    why: "Micro Apps, Macro Risk's case study: a consumer cloud bucket with public permissions exposed candidate PII. Micro Apps, Macro Risk: block consumer sinks (playbook step 6).",
    example: "external_sinks: [https://www.dropbox.com/s/abc/candidates.csv]",
    fix: "Send the data to an approved enterprise sink (e.g. an `s3://corp-*` bucket) with DLP scanning.",
    references: &[
        "policy: sinks.deny",
        "Micro Apps, Macro Risk (2026): case study and playbook step 6",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &cx.sinks {
        let Ok(url) = &s.url else { continue };
        if let Some(p) = s.denied {
            let category = p.category.as_deref().unwrap_or("denied");
            out.at(
                s.raw,
                format!(
                    "sink `{}` is {category} (denied by policy)",
                    host_or_scheme(url)
                ),
            );
        }
    }
}

pub(crate) fn host_or_scheme(url: &url::Url) -> String {
    match url.host_str() {
        Some(h) if !h.is_empty() => format!("{}://{h}", url.scheme()),
        _ => format!("{}:", url.scheme()),
    }
}
