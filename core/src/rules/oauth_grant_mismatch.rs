//! MV-OAUTH-003 response-grant-mismatch
use super::oauth_unknown_value::GRANTS;
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-003",
    name: "response-grant-mismatch",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "response types and grant types do not agree",
    what: "The RFC 7591 §2.1 consistency of `response_types` and `grant_types` (with their defaults `[code]` and `[authorization_code]`): a `code` response type needs the `authorization_code` grant and the `authorization_code` grant needs a `code` response type; a `refresh_token` grant needs a grant that issues refresh tokens (not `client_credentials` alone, RFC 6749 §4.4.3). Skipped when MV-OAUTH-001/002 fire (their fixes settle the lists); the first check is skipped when a grant is unknown (MV-OAUTH-005).",
    why: "An inconsistent registration is either rejected by the authorization server or silently enables a flow nobody reviewed; a no-code builder that writes half a configuration usually means the app does something other than what was vetted.",
    example: "client:\n  grant_types: [client_credentials, refresh_token]\n  response_types: [code]",
    fix: "Make the lists agree; the fix adds the missing `authorization_code` grant or `code` response type, or removes a `refresh_token` grant nothing can use.",
    references: &[
        "RFC 7591 §2.1 (relationship between grant types and response types)",
        "RFC 6749 §4.4.3 (no refresh token for client credentials)",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let grants = oc::grants(c);
    // Implicit and password findings come with fixes that rewrite these lists.
    if grants.iter().any(|g| matches!(*g, "implicit" | "password"))
        || oc::response_items(c)
            .iter()
            .any(|r| oc::is_implicit_response(&r.value))
    {
        return;
    }
    let code_grant = grants.contains(&"authorization_code");
    // An unknown grant (a typo of `authorization_code`?) is MV-OAUTH-005's, with its fix.
    let typo = grants.iter().any(|g| !GRANTS.contains(g));
    let mut adds_code_grant = false;
    if let Some(gt) = &c.grant_types
        && !code_grant
        && !typo
    {
        for r in oc::response_items(c) {
            if oc::components(&r.value).any(|x| x == "code") {
                adds_code_grant = true;
                out.at(
                    r,
                    format!(
                        "response type `{}` needs the `authorization_code` grant, which `grant_types` does not list",
                        r.value
                    ),
                )
                .fix(
                    "add",
                    &format!("{}/-", gt.path),
                    Some(json!("authorization_code")),
                    "add the `authorization_code` grant",
                );
            }
        }
    }
    if let Some(rt) = &c.response_types {
        let code_response = rt
            .value
            .iter()
            .any(|r| oc::components(&r.value).any(|x| x == "code"));
        if code_grant && !code_response {
            let r = match oc::grant_item(c, "authorization_code") {
                Some(g) => out.at(
                    g,
                    "grant `authorization_code` has no `code` response type in `response_types`",
                ),
                None => out.at(
                    rt,
                    "`response_types` has no `code`, but the client uses the default `authorization_code` grant",
                ),
            };
            r.fix(
                "add",
                &format!("{}/-", rt.path),
                Some(json!("code")),
                "add the `code` response type",
            );
        }
    }
    // Once the fix above adds `authorization_code`, the refresh grant is usable.
    if let Some(rt) = oc::grant_item(c, "refresh_token").filter(|_| !adds_code_grant)
        && !grants.iter().any(|g| oc::REFRESH_ISSUING.contains(g))
    {
        out.at(
            rt,
            "grant `refresh_token` is unusable: no other grant of this client issues refresh tokens",
        )
        .fix("remove", &rt.path, None, "remove the `refresh_token` grant");
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{manifest, of, vet};

    fn mismatch(client: &str) -> Vec<(String, String)> {
        of(&vet(&manifest(client)), &super::RULE)
    }

    #[test]
    fn rfc7591_table() {
        // Defaults agree.
        assert!(mismatch("  redirect_uris: [https://apps.example.com/cb]\n").is_empty());
        // `code` without the grant: adding the grant also makes refresh usable.
        let m = mismatch(
            "  grant_types: [client_credentials, refresh_token]\n  response_types: [code]\n",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        // The grant without `code`.
        let m = mismatch(
            "  grant_types: [authorization_code]\n  response_types: [id_token]\n  redirect_uris: [https://apps.example.com/cb]\n",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        // Refresh with nothing that issues refresh tokens.
        let m =
            mismatch("  grant_types: [client_credentials, refresh_token]\n  response_types: []\n");
        assert_eq!(m.len(), 1, "{m:?}");
        // Implicit and typos are other rules' business.
        assert!(mismatch("  grant_types: [implicit]\n  response_types: [code]\n").is_empty());
        assert!(
            mismatch("  grant_types: [authorisation_code]\n  response_types: [code]\n").is_empty()
        );
    }
}
