//! MV-OAUTH-030 redirect-uri-missing
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-030",
    name: "redirect-uri-missing",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a code-flow client registers no redirect URI",
    what: "A client with the `authorization_code` grant (the default when `grant_types` is absent) and no or an empty `redirect_uris`.",
    why: "Without a registered redirect URI the authorization server either refuses the client or, worse, accepts whatever `redirect_uri` the request carries: the root of the redirect attacks RFC 9700 §4.1 describes. It also leaves the app's real callback unvetted.",
    example: "client:\n  grant_types: [authorization_code]",
    fix: "Register the app's exact https callback, e.g. `redirect_uris: [https://apps.example.com/my-app/callback]`; a client that never signs users in drops the `authorization_code` grant.",
    references: &[
        "RFC 7591 §2 (`redirect_uris` for redirect-based flows)",
        "RFC 6749 §3.1.2.2 (registration requirements)",
        "RFC 9700 §4.1.3",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::code_flow(c) {
        return;
    }
    match &c.redirect_uris {
        Some(list) if list.value.is_empty() => {
            out.at(
                list,
                "`redirect_uris` is empty, but the client uses the authorization code flow",
            );
        }
        Some(_) => {}
        None => {
            out.report(
                &oc::field(c, "redirect_uris"),
                Some(c.line),
                "no `redirect_uris`, but the client uses the authorization code flow",
            );
        }
    }
}
