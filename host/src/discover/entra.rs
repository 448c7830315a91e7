//! Microsoft Entra ID: Microsoft Graph `GET /applications` (`{"value": [application, ...]}`,
//! or a bare array; `$expand=owners` adds the owners). Redirect URIs come per platform
//! (`web`, `spa`, `publicClient`); grants follow from the platforms, the implicit grant
//! settings, the credentials and `isFallbackPublicClient`.

use serde_json::{Map, Value};

use super::{Mapped, Unmapped, discovered, push_unique, string_list};

/// Members that say nothing about what the client may obtain (or describe the app as an
/// API that others call).
const INFORMATIONAL: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "description",
    "createdDateTime",
    "deletedDateTime",
    "publisherDomain",
    "verifiedPublisher",
    "certification",
    "info",
    "tags",
    "notes",
    "applicationTemplateId",
    "disabledByMicrosoftStatus",
    "serviceManagementReference",
    "uniqueName",
    "api",
    "appRoles",
    "identifierUris",
    "addIns",
    "parentalControlSettings",
    "samlMetadataUrl",
    "tokenEncryptionKeyId",
    "defaultRedirectUri",
    "@odata.id",
    "@odata.type",
    // Mapped below.
    "web",
    "spa",
    "publicClient",
    "isFallbackPublicClient",
    "requiredResourceAccess",
    "passwordCredentials",
    "keyCredentials",
    "owners",
];

pub(crate) fn clients(doc: Value) -> Result<Vec<Value>, String> {
    super::list_at(
        doc,
        "value",
        "applications (Microsoft Graph `GET /applications`)",
    )
}

/// Removes what the scrub cannot recognise as secret by itself: a password credential's
/// `secretText` (only in a creation response) and `hint` (its first characters).
pub(crate) fn pre_scrub(raw: &mut Value) -> usize {
    let mut n = 0;
    if let Some(creds) = raw
        .get_mut("passwordCredentials")
        .and_then(Value::as_array_mut)
    {
        for cred in creds.iter_mut().filter_map(Value::as_object_mut) {
            for k in ["secretText", "hint"] {
                if let Some(v) = cred.remove(k)
                    && !v.is_null()
                {
                    n += 1;
                }
            }
        }
    }
    n
}

fn uris(obj: &Map<String, Value>, platform: &str) -> Result<Vec<String>, Mapped> {
    match obj.get(platform) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(p) => super::strings(p.get("redirectUris")).map_err(|t| {
            Mapped::error(
                None,
                &format!("{platform}.redirectUris"),
                format!("should be {t}"),
            )
        }),
    }
}

fn nonempty(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

pub(crate) fn map(raw: &Value) -> Mapped {
    let Some(obj) = raw.as_object() else {
        return Mapped::error(
            None,
            "",
            format!(
                "an application should be an object, found {}",
                super::type_name(raw)
            ),
        );
    };
    let name = obj
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let client_id = match super::required_id(raw, "appId", name.as_deref()) {
        Ok(id) => id.to_owned(),
        Err(e) => return e,
    };
    match map_app(obj, client_id.clone(), name) {
        Ok(m) => m,
        Err(Mapped::Error { field, message, .. }) => Mapped::Error {
            client: Some(client_id),
            field,
            message,
        },
        Err(other) => other,
    }
}

fn map_app(
    obj: &Map<String, Value>,
    client_id: String,
    name: Option<String>,
) -> Result<Mapped, Mapped> {
    let mut c = discovered(client_id.clone(), name.clone());
    let web = uris(obj, "web")?;
    let spa = uris(obj, "spa")?;
    let native = uris(obj, "publicClient")?;
    let implicit = obj
        .get("web")
        .and_then(|w| w.get("implicitGrantSettings"))
        .cloned()
        .unwrap_or(Value::Null);
    let implicit_access = implicit
        .get("enableAccessTokenIssuance")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let implicit_id = implicit
        .get("enableIdTokenIssuance")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let fallback_public = obj
        .get("isFallbackPublicClient")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let secrets = nonempty(obj, "passwordCredentials");
    let keys = nonempty(obj, "keyCredentials");

    let mut redirects: Vec<String> = Vec::new();
    for u in web.iter().chain(&spa).chain(&native) {
        push_unique(&mut redirects, u);
    }
    let mut grants: Vec<String> = Vec::new();
    let mut responses: Vec<String> = Vec::new();
    if !redirects.is_empty() {
        push_unique(&mut grants, "authorization_code");
        push_unique(&mut grants, "refresh_token");
        push_unique(&mut responses, "code");
    }
    if implicit_access || implicit_id {
        push_unique(&mut grants, "implicit");
    }
    if implicit_access {
        push_unique(&mut responses, "token");
    }
    if implicit_id {
        push_unique(&mut responses, "id_token");
    }
    if secrets || keys {
        push_unique(&mut grants, "client_credentials");
    }
    if fallback_public {
        // Public client flows: resource owner password and device code.
        push_unique(&mut grants, "password");
        push_unique(&mut grants, "urn:ietf:params:oauth:grant-type:device_code");
    }
    let method = if keys {
        "private_key_jwt"
    } else if secrets {
        "client_secret_post"
    } else {
        "none"
    };
    let m = &mut c.metadata;
    m.insert("client_id".into(), Value::String(client_id));
    if let Some(n) = &name {
        m.insert("client_name".into(), Value::String(n.clone()));
    }
    m.insert("redirect_uris".into(), string_list(&redirects));
    m.insert("grant_types".into(), string_list(&grants));
    m.insert("response_types".into(), string_list(&responses));
    m.insert(
        "token_endpoint_auth_method".into(),
        Value::String(method.into()),
    );
    if !native.is_empty() && web.is_empty() && spa.is_empty() {
        m.insert("application_type".into(), Value::String("native".into()));
    }
    // Entra requires PKCE on the SPA platform's redirect URIs.
    if !spa.is_empty() && web.is_empty() && native.is_empty() {
        m.insert("code_challenge_method".into(), Value::String("S256".into()));
    }

    // Permissions: `resourceAppId/permission id` (the names live on the resource's
    // service principal, which the list does not include).
    let mut scopes: Vec<String> = Vec::new();
    let mut app_roles = 0usize;
    if let Some(rra) = obj.get("requiredResourceAccess") {
        let Some(list) = rra.as_array() else {
            return Err(Mapped::error(
                None,
                "requiredResourceAccess",
                format!("should be a list, found {}", super::type_name(rra)),
            ));
        };
        for r in list {
            let resource = r
                .get("resourceAppId")
                .and_then(Value::as_str)
                .unwrap_or("?");
            for a in r
                .get("resourceAccess")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = a.get("id").and_then(Value::as_str).unwrap_or("?");
                if a.get("type").and_then(Value::as_str) == Some("Role") {
                    app_roles += 1;
                }
                push_unique(&mut scopes, &format!("{resource}/{id}"));
            }
        }
    }
    if !scopes.is_empty() {
        m.insert("scope".into(), Value::String(scopes.join(" ")));
    }
    if app_roles > 0 {
        c.unmapped.push(Unmapped {
            field: "requiredResourceAccess".into(),
            note: format!(
                "{app_roles} application permission(s) (`Role`): granted to the app itself, without a user; vetted as scopes"
            ),
        });
    }

    for o in obj
        .get("owners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(who) = ["userPrincipalName", "mail", "displayName"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
        {
            push_unique(&mut c.owners, who);
        }
    }
    if !c.owners.is_empty() {
        c.metadata.insert("contacts".into(), string_list(&c.owners));
    }

    for (k, v) in obj {
        if INFORMATIONAL.contains(&k.as_str()) {
            continue;
        }
        let note = match k.as_str() {
            "signInAudience" => match v.as_str() {
                Some("AzureADMyOrg") | None => continue,
                Some(a) => format!("`{a}`: accounts outside the organisation can sign in"),
            },
            "optionalClaims" | "groupMembershipClaims" => {
                "adds claims to the tokens: not vetted".to_owned()
            }
            "isDeviceOnlyAuthSupported" | "oauth2RequirePostResponse" => {
                "an Entra flow setting with no RFC 7591 counterpart: not vetted".to_owned()
            }
            _ => {
                "an Entra application property with no RFC 7591 counterpart: not vetted".to_owned()
            }
        };
        c.unmapped.push(Unmapped {
            field: k.clone(),
            note,
        });
    }
    if let Some(w) = obj.get("web").and_then(Value::as_object) {
        for k in w.keys() {
            if ![
                "redirectUris",
                "implicitGrantSettings",
                "homePageUrl",
                "logoutUrl",
                "redirectUriSettings",
            ]
            .contains(&k.as_str())
            {
                c.unmapped.push(Unmapped {
                    field: format!("web.{k}"),
                    note: "not vetted".into(),
                });
            }
        }
    }
    c.unmapped.sort_by(|a, b| a.field.cmp(&b.field));
    Ok(Mapped::Client(Box::new(c)))
}
