//! MV-SINK-004 sink-plain-http
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-004",
    name: "sink-plain-http",
    category: Category::Sinks,
    severity: Severity::High,
    summary: "data is sent over plain http (or ftp)",
    what: "Each sink whose scheme is `http`, `ftp` or `ws` (unencrypted transport).",
    why: "Data sent in clear text can be read and altered on the way; tokens and PII in transit must be protected by TLS (RFC 9700 §2.6 / BCP 195).",
    example: "external_sinks: [http://reports.example.com/upload]",
    fix: "Use `https` (the fix rewrites the scheme).",
    references: &["RFC 9700 §2.6", "BCP 195 (RFC 9325)"],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &cx.sinks {
        let Ok(url) = &s.url else { continue };
        let secure = match url.scheme() {
            "http" => Some("https"),
            "ws" => Some("wss"),
            "ftp" => Some("sftp"),
            _ => None,
        };
        if let Some(secure) = secure {
            let r = out.at(s.raw, format!("sink uses unencrypted `{}`", url.scheme()));
            if secure == "https" || secure == "wss" {
                let mut fixed = url.clone();
                if fixed.set_scheme(secure).is_ok() {
                    r.fix(
                        "replace",
                        &s.raw.path,
                        Some(json!(fixed.as_str())),
                        format!("use `{secure}`"),
                    );
                }
            }
        }
    }
}
