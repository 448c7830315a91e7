//! Keycloak: a realm export (`{"realm": ..., "clients": [...]}`, as `kc.sh export` and the
//! admin console's partial export write it) or the admin API's client list
//! (`GET /admin/realms/{realm}/clients`, an array of ClientRepresentation). The mapping is
//! the Keycloak table of docs/DISCOVERY.md.

use serde_json::{Map, Value};

use super::{Discovered, Mapped, Unmapped, discovered, push_unique, required_id, string_list};

/// Clients every Keycloak realm has (and the master realm's `<realm>-realm` clients).
pub const BUILTIN: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Fields that say nothing about what the client may obtain or where tokens go.
const INFORMATIONAL: &[&str] = &[
    "id",
    "clientId",
    "name",
    "description",
    "enabled",
    "alwaysDisplayInConsole",
    "rootUrl",
    "baseUrl",
    "adminUrl",
    "surrogateAuthRequired",
    "notBefore",
    "nodeReRegistrationTimeout",
    "registeredNodes",
    "origin",
    "access",
    "clientTemplate",
    "useTemplateConfig",
    "useTemplateScope",
    "useTemplateMappers",
];

/// Fields the mapping reads.
const MAPPED: &[&str] = &[
    "redirectUris",
    "publicClient",
    "clientAuthenticatorType",
    "standardFlowEnabled",
    "implicitFlowEnabled",
    "directAccessGrantsEnabled",
    "serviceAccountsEnabled",
    "defaultClientScopes",
    "optionalClientScopes",
    "attributes",
    "protocol",
    "secret",
];

/// Attributes the mapping reads (others are reported).
const MAPPED_ATTRIBUTES: &[&str] = &[
    "pkce.code.challenge.method",
    "use.refresh.tokens",
    "access.token.lifespan",
    "post.logout.redirect.uris",
    "oauth2.device.authorization.grant.enabled",
    "oidc.ciba.grant.enabled",
    "use.jwks.url",
    "jwks.url",
    "token.endpoint.auth.signing.alg",
    "id.token.signed.response.alg",
    "user.info.response.signature.alg",
    "request.object.signature.alg",
    "authorization.signed.response.alg",
    "dpop.bound.access.tokens",
    "tls.client.certificate.bound.access.tokens",
    "contacts",
    "client.secret.creation.time",
    "display.on.consent.screen",
    "consent.screen.text",
    "login_theme",
    "logoUri",
    "policyUri",
    "tosUri",
];

/// The clients of a realm export or of a client list.
pub(crate) fn clients(doc: Value) -> Result<Vec<Value>, String> {
    super::list_at(doc, "clients", "Keycloak clients (a realm export)")
}

fn flag(raw: &Value, key: &str, default: bool) -> Result<bool, Mapped> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        // Older exports (and hand-written ones, like Keycloak's own test realm) quote them.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(Mapped::error(
            None,
            key,
            format!(
                "should be `true` or `false`, found {}",
                super::type_name(other)
            ),
        )),
    }
}

fn attr_true(attrs: &Map<String, Value>, key: &str) -> bool {
    attrs
        .get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"))
}

/// Map one client.
pub(crate) fn map(raw: &Value, had_secret: bool) -> Mapped {
    let Some(obj) = raw.as_object() else {
        return Mapped::error(
            None,
            "",
            format!(
                "a client should be an object, found {}",
                super::type_name(raw)
            ),
        );
    };
    let name = obj.get("name").and_then(Value::as_str);
    let client_id = match required_id(raw, "clientId", name) {
        Ok(id) => id.to_owned(),
        Err(e) => return e,
    };
    match map_client(obj, &client_id, name, had_secret) {
        Ok(c) => Mapped::Client(Box::new(c)),
        Err(Mapped::Error { field, message, .. }) => Mapped::Error {
            client: Some(client_id),
            field,
            message,
        },
        Err(other) => other,
    }
}

fn map_client(
    obj: &Map<String, Value>,
    client_id: &str,
    name: Option<&str>,
    had_secret: bool,
) -> Result<Discovered, Mapped> {
    let raw = Value::Object(obj.clone());
    let mut c = discovered(client_id.to_owned(), name.map(str::to_owned));
    let empty = Map::new();
    let attrs = match obj.get("attributes") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(a)) => a,
        Some(other) => {
            return Err(Mapped::error(
                None,
                "attributes",
                format!("should be an object, found {}", super::type_name(other)),
            ));
        }
    };
    c.enabled = flag(&raw, "enabled", true)?;
    let protocol = obj
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("openid-connect");
    if protocol != "openid-connect" {
        c.unmapped.push(Unmapped {
            field: "protocol".into(),
            note: format!(
                "`{protocol}` is not OpenID Connect: its settings are not RFC 7591 metadata; only the URIs and flags below are vetted"
            ),
        });
    }
    let m = &mut c.metadata;
    m.insert("client_id".into(), Value::String(client_id.to_owned()));
    if let Some(n) = name {
        m.insert("client_name".into(), Value::String(n.to_owned()));
    }

    // Grants: Keycloak's flags (defaults of the admin console and the import).
    let public = flag(&raw, "publicClient", false)?;
    let bearer_only = flag(&raw, "bearerOnly", false)?;
    let standard = flag(&raw, "standardFlowEnabled", true)?;
    let implicit = flag(&raw, "implicitFlowEnabled", false)?;
    let password = flag(&raw, "directAccessGrantsEnabled", false)?;
    let service = flag(&raw, "serviceAccountsEnabled", false)?;
    let device = attr_true(attrs, "oauth2.device.authorization.grant.enabled");
    let ciba = attr_true(attrs, "oidc.ciba.grant.enabled");
    let refresh = attrs
        .get("use.refresh.tokens")
        .and_then(Value::as_str)
        .is_none_or(|s| !s.trim().eq_ignore_ascii_case("false"));
    let mut grants: Vec<String> = Vec::new();
    let mut responses: Vec<String> = Vec::new();
    if bearer_only {
        c.unmapped.push(Unmapped {
            field: "bearerOnly".into(),
            note: "a bearer-only client obtains no tokens (a resource server); its flags are vetted as written".into(),
        });
    }
    if standard {
        push_unique(&mut grants, "authorization_code");
        push_unique(&mut responses, "code");
    }
    if implicit {
        push_unique(&mut grants, "implicit");
        push_unique(&mut responses, "token");
        push_unique(&mut responses, "id_token token");
    }
    if password {
        push_unique(&mut grants, "password");
    }
    if service {
        push_unique(&mut grants, "client_credentials");
    }
    if device {
        push_unique(&mut grants, "urn:ietf:params:oauth:grant-type:device_code");
    }
    if ciba {
        push_unique(&mut grants, "urn:openid:params:grant-type:ciba");
    }
    if refresh && (standard || password || device || ciba) {
        push_unique(&mut grants, "refresh_token");
    }
    m.insert("grant_types".into(), string_list(&grants));
    m.insert("response_types".into(), string_list(&responses));

    // Client authentication.
    let method = if public {
        "none".to_owned()
    } else {
        match obj.get("clientAuthenticatorType").and_then(Value::as_str) {
            None | Some("client-secret") => "client_secret_basic".to_owned(),
            Some("client-jwt") => "private_key_jwt".to_owned(),
            Some("client-secret-jwt") => "client_secret_jwt".to_owned(),
            Some("client-x509") => "tls_client_auth".to_owned(),
            // Vetted as written: the component reports a method it does not know.
            Some(other) => other.to_owned(),
        }
    };
    m.insert("token_endpoint_auth_method".into(), Value::String(method));
    if public && had_secret {
        c.unmapped.push(Unmapped {
            field: "secret".into(),
            note:
                "a public client with a secret stored at the IdP (redacted): the secret is not used"
                    .into(),
        });
    }

    // Redirect URIs: relative ones are relative to `rootUrl`.
    let root = obj
        .get("rootUrl")
        .and_then(Value::as_str)
        .map(|r| r.trim_end_matches('/').to_owned());
    let redirects = super::strings(obj.get("redirectUris"))
        .map_err(|t| Mapped::error(None, "redirectUris", format!("should be {t}")))?;
    let redirects: Vec<String> = redirects
        .into_iter()
        .map(|u| match (&root, u.starts_with('/')) {
            (Some(r), true) if !r.is_empty() => format!("{r}{u}"),
            _ => u,
        })
        .collect();
    if redirects.iter().any(|u| u.starts_with('/')) {
        c.unmapped.push(Unmapped {
            field: "redirectUris".into(),
            note: "a relative redirect URI without `rootUrl` is relative to the Keycloak server; vetted as written".into(),
        });
    }
    m.insert("redirect_uris".into(), string_list(&redirects));

    // Scopes: default scopes are always granted, optional ones on request.
    let mut scopes = super::strings(obj.get("defaultClientScopes"))
        .map_err(|t| Mapped::error(None, "defaultClientScopes", format!("should be {t}")))?;
    for s in super::strings(obj.get("optionalClientScopes"))
        .map_err(|t| Mapped::error(None, "optionalClientScopes", format!("should be {t}")))?
    {
        push_unique(&mut scopes, &s);
    }
    if !scopes.is_empty() {
        m.insert("scope".into(), Value::String(scopes.join(" ")));
    }

    // Attributes.
    if let Some(p) = attrs
        .get("pkce.code.challenge.method")
        .and_then(Value::as_str)
        && !p.trim().is_empty()
    {
        m.insert("code_challenge_method".into(), Value::String(p.to_owned()));
    }
    if let Some(secs) = attrs
        .get("access.token.lifespan")
        .and_then(Value::as_str)
        .and_then(|s| s.trim().parse::<i64>().ok())
        && secs > 0
    {
        m.insert(
            "access_token_ttl_minutes".into(),
            Value::from(secs.saturating_add(59) / 60),
        );
    }
    if let Some(list) = attrs
        .get("post.logout.redirect.uris")
        .and_then(Value::as_str)
    {
        let uris: Vec<String> = list
            .split("##")
            .filter(|s| !s.is_empty() && *s != "+")
            .map(str::to_owned)
            .collect();
        if !uris.is_empty() {
            m.insert("post_logout_redirect_uris".into(), string_list(&uris));
        }
    }
    if attr_true(attrs, "use.jwks.url")
        && let Some(u) = attrs.get("jwks.url").and_then(Value::as_str)
    {
        m.insert("jwks_uri".into(), Value::String(u.to_owned()));
    }
    for (attr, field) in [
        (
            "token.endpoint.auth.signing.alg",
            "token_endpoint_auth_signing_alg",
        ),
        (
            "id.token.signed.response.alg",
            "id_token_signed_response_alg",
        ),
        (
            "user.info.response.signature.alg",
            "userinfo_signed_response_alg",
        ),
        ("request.object.signature.alg", "request_object_signing_alg"),
        (
            "authorization.signed.response.alg",
            "authorization_signed_response_alg",
        ),
    ] {
        if let Some(v) = attrs.get(attr).and_then(Value::as_str)
            && !v.trim().is_empty()
        {
            m.insert(field.into(), Value::String(v.to_owned()));
        }
    }
    for (attr, field) in [
        ("dpop.bound.access.tokens", "dpop_bound_access_tokens"),
        (
            "tls.client.certificate.bound.access.tokens",
            "tls_client_certificate_bound_access_tokens",
        ),
    ] {
        if attr_true(attrs, attr) {
            m.insert(field.into(), Value::Bool(true));
        }
    }
    if let Some(contacts) = attrs.get("contacts").and_then(Value::as_str) {
        for ct in contacts.split("##").filter(|s| !s.trim().is_empty()) {
            push_unique(&mut c.owners, ct.trim());
        }
    }
    if !c.owners.is_empty() {
        c.metadata.insert("contacts".into(), string_list(&c.owners));
    }

    // What the mapping cannot express.
    for (k, v) in obj {
        if INFORMATIONAL.contains(&k.as_str()) || MAPPED.contains(&k.as_str()) {
            continue;
        }
        let note = match k.as_str() {
            "webOrigins" => web_origins_note(v),
            "fullScopeAllowed" if v.as_bool() != Some(false) && v.as_str() != Some("false") => {
                "every role of the user is put in the tokens (full scope allowed)".to_owned()
            }
            "fullScopeAllowed" => continue,
            "consentRequired" => {
                "whether users consent to the client: not client metadata".to_owned()
            }
            "protocolMappers" => "protocol mappers add claims to the tokens: not vetted".to_owned(),
            "authorizationServicesEnabled" | "authorizationSettings" => {
                "Keycloak authorization services (resources, policies): not vetted".to_owned()
            }
            "bearerOnly" => continue,
            "frontchannelLogout" => continue,
            _ => "not RFC 7591 client metadata: not vetted".to_owned(),
        };
        c.unmapped.push(Unmapped {
            field: k.clone(),
            note,
        });
    }
    for k in attrs.keys() {
        if MAPPED_ATTRIBUTES.contains(&k.as_str()) {
            continue;
        }
        c.unmapped.push(Unmapped {
            field: format!("attributes.{k}"),
            note: "a Keycloak client attribute with no RFC 7591 counterpart: not vetted".into(),
        });
    }
    c.unmapped.sort_by(|a, b| a.field.cmp(&b.field));

    c.builtin = is_builtin(client_id, name);
    Ok(c)
}

fn web_origins_note(v: &Value) -> String {
    let origins = super::strings(Some(v)).unwrap_or_default();
    if origins.iter().any(|o| o == "*") {
        "CORS: `*` lets every origin call the token endpoint with this client".to_owned()
    } else if origins.iter().any(|o| o == "+") {
        "CORS: `+` allows the origins of the redirect URIs".to_owned()
    } else {
        format!("CORS: {} allowed origin(s), not vetted", origins.len())
    }
}

/// A Keycloak built-in client: its id is one of [`BUILTIN`] (or the master realm's
/// `<realm>-realm`) and its name, if any, is Keycloak's own (`${client_<id>}`, `<realm>
/// Realm`). A client that only borrows the id keeps its label (`unvetted`).
pub fn is_builtin(client_id: &str, name: Option<&str>) -> bool {
    if BUILTIN.contains(&client_id) {
        return name.is_none_or(|n| n == format!("${{client_{client_id}}}"));
    }
    if let Some(realm) = client_id.strip_suffix("-realm")
        && !realm.is_empty()
    {
        return name.is_none_or(|n| n == format!("{realm} Realm"));
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn client(v: Value) -> Discovered {
        match map(&v, false) {
            Mapped::Client(c) => *c,
            _ => panic!("not mapped"),
        }
    }

    #[test]
    fn flags_become_grant_types() {
        let c = client(
            json!({"clientId": "a", "publicClient": true, "implicitFlowEnabled": true,
            "directAccessGrantsEnabled": "true", "attributes": {"pkce.code.challenge.method": "S256"}}),
        );
        assert_eq!(
            c.metadata["grant_types"],
            json!([
                "authorization_code",
                "implicit",
                "password",
                "refresh_token"
            ])
        );
        assert_eq!(c.metadata["token_endpoint_auth_method"], "none");
        assert_eq!(c.metadata["code_challenge_method"], "S256");
    }

    #[test]
    fn builtin_needs_keycloaks_own_name() {
        assert!(is_builtin("admin-cli", Some("${client_admin-cli}")));
        assert!(is_builtin("broker", None));
        assert!(!is_builtin("admin-cli", Some("Payroll export")));
        assert!(is_builtin("acme-realm", Some("acme Realm")));
        assert!(!is_builtin("my-app", None));
    }

    #[test]
    fn unknown_fields_are_reported_not_dropped() {
        let c = client(
            json!({"clientId": "a", "webOrigins": ["*"], "frobnicate": 1,
            "attributes": {"saml.encrypt": "true"}}),
        );
        let fields: Vec<&str> = c.unmapped.iter().map(|u| u.field.as_str()).collect();
        assert_eq!(
            fields,
            ["attributes.saml.encrypt", "frobnicate", "webOrigins"]
        );
        assert!(c.unmapped[2].note.contains("every origin"));
    }

    #[test]
    fn a_client_without_id_is_an_error_naming_the_field() {
        match map(&json!({"name": "Payroll", "redirectUris": []}), false) {
            Mapped::Error { client, field, .. } => {
                assert_eq!(client.as_deref(), Some("Payroll"));
                assert_eq!(field, "clientId");
            }
            _ => panic!("mapped"),
        }
    }
}
