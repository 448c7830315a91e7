//! MV-OAUTH-034 response-mode-fragment
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-034",
    name: "response-mode-fragment",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "`response_modes` returns the authorization response in the URL fragment, or names a mode not understood",
    what: "Each item of `response_modes` (ASCII case-insensitive, surrounding whitespace ignored): `fragment` is reported, and so is any value that is not a registered response mode (`query`, `fragment`, `form_post`, and the JARM modes `query.jwt`, `fragment.jwt`, `form_post.jwt`, `jwt`): a gate cannot vet a mode it does not understand.",
    why: "With `fragment` the authorization response (the code, and with implicit response types the tokens) is appended to the redirect URI's fragment: it stays in browser history, is readable by every script on the callback page, and survives redirects that keep the fragment, so an open redirector on the callback host forwards it to an attacker (RFC 9700 §4.1.3, §4.2.4). `query` or `form_post` keep it out of the fragment; JARM's `*.jwt` modes sign it.",
    example: "client:\n  response_modes: [fragment]",
    fix: "Use `query` (or `form_post`); the fix replaces `fragment` with `query`.",
    references: &[
        "OAuth 2.0 Multiple Response Type Encoding Practices §2.1 (response modes), §5 (security)",
        "OAuth 2.0 Form Post Response Mode §2; JWT Secured Authorization Response Mode (JARM) §2.3",
        "RFC 9700 §2.1.2 (no implicit grant), §4.1.3, §4.2.4 (leakage of the authorization response)",
    ],
    relational: false,
    check,
};

/// Registered response modes.
const MODES: &[&str] = &[
    "query",
    "fragment",
    "form_post",
    "query.jwt",
    "fragment.jwt",
    "form_post.jwt",
    "jwt",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(modes) = &c.response_modes else {
        // Present but not a list of strings (`response_modes: fragment`): not understood.
        if let Some(node) = oc::raw_field(cx, "response_modes") {
            out.report(
                &oc::field(c, "response_modes"),
                Some(node.line),
                "`response_modes` is not a list of response modes: it cannot be vetted",
            );
        }
        return;
    };
    for m in &modes.value {
        let v = m.value.trim().to_ascii_lowercase();
        if v == "fragment" {
            out.at(
                m,
                format!(
                    "response mode `{}` returns the authorization response in the URL fragment, where history, scripts and redirects expose it",
                    m.value
                ),
            )
            .fix(
                "replace",
                &m.path,
                Some(json!("query")),
                "use the `query` response mode",
            );
        } else if !MODES.contains(&v.as_str()) {
            out.at(
                m,
                format!(
                    "response mode `{}` is not one microvet understands (`query`, `form_post`, `query.jwt`, `form_post.jwt`, `jwt`, `fragment.jwt`): it cannot be vetted",
                    m.value
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, manifest, of, vet};

    fn modes(list: &str) -> Vec<(String, String)> {
        of(
            &vet(&manifest(&format!(
                "  redirect_uris: [https://apps.example.com/cb]\n  response_modes: {list}\n"
            ))),
            &super::RULE,
        )
    }

    #[test]
    fn fragment_and_unknown_modes() {
        assert!(modes("[query, form_post, Query.JWT]").is_empty());
        let f = modes("[query, FRAGMENT, \" fragment \", fragmnet, \"\"]");
        let paths: Vec<&str> = f.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/client/response_modes/1",
                "/client/response_modes/2",
                "/client/response_modes/3",
                "/client/response_modes/4"
            ]
        );
        // A wrong type blocks as well (and is MV-SCHEMA-002).
        let f = modes("fragment");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, "/client/response_modes");
        let all = vet(&manifest("  response_modes: [fragment]\n"));
        assert_eq!(
            fix_value(&all, &super::RULE),
            Some(serde_json::json!("query"))
        );
    }
}
