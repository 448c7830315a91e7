//! MV-OAUTH-001 implicit-flow
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-001",
    name: "implicit-flow",
    category: Category::Oauth,
    severity: Severity::Critical,
    summary: "the client uses the implicit flow (access tokens in the front channel)",
    what: "Each `response_types` value with a `token` component (`token`, `id_token token`, `code token`, `code id_token token`), and the `implicit` grant type.",
    why: "The implicit flow returns access tokens in the URL fragment, where browser history, referrers, open redirectors and injected scripts can read them, and the token cannot be sender-constrained. RFC 9700 says clients SHOULD NOT use it and OAuth 2.1 removes it; the fix in Micro Apps, Macro Risk (2026) is \"no implicit flow\".",
    example: "client:\n  response_types: [token]\n  grant_types: [implicit]",
    fix: "Use the authorization code flow with PKCE: `response_types: [code]`, `grant_types: [authorization_code]`, `code_challenge_method: S256` (the fix rewrites the lists).",
    references: &[
        "RFC 9700 §2.1.2 (implicit grant)",
        "RFC 9700 §4.2, §4.3 (leakage via referrers and browser history)",
        "OAuth 2.1 draft §10 (the implicit grant is omitted)",
        "RFC 7591 §2.1 (grant and response types)",
        "Micro Apps, Macro Risk (2026): no implicit flow",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if let Some(list) = &c.response_types {
        for r in &list.value {
            if oc::is_implicit_response(&r.value) {
                out.at(
                    r,
                    format!(
                        "response type `{}` returns an access token from the authorization endpoint (implicit flow)",
                        r.value
                    ),
                )
                .fix(
                    "replace",
                    &list.path,
                    Some(json!(["code"])),
                    "use the authorization code flow: `response_types: [code]`",
                );
            }
        }
    }
    if let Some(g) = oc::grant_item(c, "implicit") {
        let r = out.at(
            g,
            "grant type `implicit` is forbidden (OAuth 2.1 removes it)",
        );
        if oc::has_grant(c, "authorization_code") {
            r.fix("remove", &g.path, None, "remove the `implicit` grant");
        } else {
            r.fix(
                "replace",
                &g.path,
                Some(json!("authorization_code")),
                "replace `implicit` with `authorization_code`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::support::testing::{manifest, of, vet, vet_dcr};

    #[test]
    fn every_response_type_with_a_token_component() {
        let f = vet(&manifest(
            "  response_types: [token, id_token token, code token, code id_token token, code id_token, code]\n  grant_types: [authorization_code, implicit]\n  redirect_uris: [https://apps.example.com/cb]\n",
        ));
        let mut paths: Vec<String> = of(&f, &super::RULE).into_iter().map(|x| x.0).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/client/grant_types/1",
                "/client/response_types/0",
                "/client/response_types/1",
                "/client/response_types/2",
                "/client/response_types/3"
            ]
        );
        // With authorization_code present, the implicit grant is removed, not replaced.
        let fix = f
            .iter()
            .find(|x| x.path == "/client/grant_types/1")
            .and_then(|x| x.fix.as_ref())
            .unwrap();
        assert_eq!(fix.op, "remove");
    }

    #[test]
    fn dcr_paths_are_top_level() {
        let f = vet_dcr(
            r#"{"redirect_uris":["https://apps.example.com/cb"],"response_types":["token"],"grant_types":["implicit"],"token_endpoint_auth_method":"none"}"#,
        );
        let got = of(&f, &super::RULE);
        assert_eq!(got.len(), 2);
        assert!(got.iter().any(|(p, _)| p == "/response_types/0"));
        assert!(got.iter().any(|(p, _)| p == "/grant_types/0"));
        let fix = f
            .iter()
            .find(|x| x.path == "/response_types/0")
            .and_then(|x| x.fix.as_ref())
            .unwrap();
        assert_eq!((fix.op, fix.path.as_str()), ("replace", "/response_types"));
    }
}
