//! MV-OAUTH-005 unknown-client-metadata-value
use super::prelude::*;
use super::support::oauth_client as oc;
use crate::manifest::Sp;
use crate::policy::did_you_mean;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-005",
    name: "unknown-client-metadata-value",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a client metadata value is not one the registries define",
    what: "`grant_types`, `response_types` (each space-separated component), `application_type` and `token_endpoint_auth_method` against the values of the IANA OAuth and OIDC registries (case-sensitive).",
    why: "A typo such as `authorisation_code` or `private-key-jwt` is rejected by one authorization server and ignored by another, and it hides the client from every other check here: the vetted configuration is not the one that runs.",
    example: "client:\n  grant_types: [authorisation_code]",
    fix: "Use the registered name; the fix replaces a near miss with the closest registered value.",
    references: &[
        "RFC 7591 §2 (client metadata) and §4.1 (registries)",
        "OpenID Connect Dynamic Client Registration 1.0 §2 (`application_type`)",
        "IANA OAuth Parameters: grant types, token endpoint authentication methods",
    ],
    relational: false,
    check,
};

/// Registered grant types (IANA OAuth parameters, OIDC CIBA).
pub(crate) const GRANTS: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:openid:params:grant-type:ciba",
];
const RESPONSES: &[&str] = &["code", "token", "id_token", "none"];
const APP_TYPES: &[&str] = &["web", "native"];
/// Token endpoint authentication methods (IANA registry).
pub(crate) const AUTH_METHODS: &[&str] = &[
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
];

fn report(out: &mut Out<'_>, sp: &Sp<String>, what: &str, known: &'static [&'static str]) {
    let v = sp.value.trim();
    let suggestion = did_you_mean(
        &v.to_ascii_lowercase().replace("-", "_"),
        known.iter().copied(),
    );
    let mut msg = format!("unknown {what} `{}`", sp.value);
    if let Some(s) = suggestion {
        msg.push_str(&format!("; did you mean `{s}`?"));
    }
    let r = out.at(sp, msg);
    if let Some(s) = suggestion {
        r.fix("replace", &sp.path, Some(json!(s)), format!("use `{s}`"));
    }
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    for g in oc::grant_items(c) {
        if !GRANTS.contains(&g.value.trim()) {
            report(out, g, "grant type", GRANTS);
        }
    }
    for r in oc::response_items(c) {
        let parts: Vec<&str> = oc::components(&r.value).collect();
        let unknown: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|p| !RESPONSES.contains(p))
            .collect();
        if parts.is_empty() {
            out.at(r, "empty response type");
        } else if let Some(first) = unknown.first() {
            let s = did_you_mean(
                &first.to_ascii_lowercase().replace("-", "_"),
                RESPONSES.iter().copied(),
            );
            let mut msg = format!("unknown response type `{}`", r.value);
            if let Some(s) = s {
                msg.push_str(&format!("; did you mean `{s}` for `{first}`?"));
            }
            out.at(r, msg);
        }
    }
    if let Some(t) = &c.application_type
        && !APP_TYPES.contains(&t.value.trim())
    {
        report(out, t, "application type", APP_TYPES);
    }
    if let Some(m) = &c.token_endpoint_auth_method
        && !AUTH_METHODS.contains(&m.value.trim())
    {
        report(out, m, "token endpoint auth method", AUTH_METHODS);
    }
}
