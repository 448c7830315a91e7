//! MV-SINK-001 sink-unparseable
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SINK-001",
    name: "sink-unparseable",
    category: Category::Sinks,
    severity: Severity::High,
    summary: "an external sink is not an absolute URL",
    what: "That each `external_sinks` entry parses as an absolute URL (WHATWG URL parsing, as browsers do); a bare email address is read as its `mailto:` URL.",
    why: "A sink that cannot be parsed cannot be matched against the allowlist, so data could leave to anywhere. Micro Apps, Macro Risk: define accepted data connectors and disallowed sinks.",
    example: "external_sinks: [\"my bucket\"]",
    fix: "Write the sink as a URL, e.g. `s3://corp-hr-temp` or `https://reports.example.com/upload`.",
    references: &[
        "WHATWG URL Standard",
        "Micro Apps, Macro Risk (2026): accepted connectors and disallowed sinks",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &cx.sinks {
        if let Err(e) = &s.url {
            out.at(
                s.raw,
                format!("sink `{}` is not an absolute URL ({e})", s.raw.value),
            );
        }
    }
}
