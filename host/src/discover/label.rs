//! Labels: a client matched to an approved app (a manifest in `--manifests DIR`, or an app
//! of the inventory) by `client_id`, else by name, is `approved` when its live
//! configuration is what was approved and `drifted` when it is not; an unmatched client is
//! `unvetted` (shadow IT), or `built-in` when it is one of the IdP's own. `ownerless` is
//! added when no owner is known anywhere: the manifest, the IdP's owner fields, `contacts`.
//!
//! Manifests are read with the engine's own reader (`microvet_core`), so what is compared
//! is what the vet reads. Matching by name is used only for a manifest without a
//! `client.client_id` and only on the exact name: a near miss is `unvetted`, never
//! `approved`.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Discovered;
use super::drift::{ClientConfig, Difference, differences};

/// The label of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    Approved,
    Drifted,
    Unvetted,
    BuiltIn,
}

impl Label {
    pub const ALL: [Label; 4] = [
        Label::Approved,
        Label::Drifted,
        Label::Unvetted,
        Label::BuiltIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Approved => "approved",
            Label::Drifted => "drifted",
            Label::Unvetted => "unvetted",
            Label::BuiltIn => "built-in",
        }
    }
}

/// An approved app: what its manifest (or inventory entry) approved.
#[derive(Debug, Clone)]
pub struct Approved {
    /// The manifest file, or `inventory:NAME`.
    pub source: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub client_id: Option<String>,
    pub config: ClientConfig,
    /// The inventory status (`active`, `revoked`, ...); `None` for a manifest.
    pub status: Option<&'static str>,
    /// Whether the inventory status says the client should exist at the IdP.
    pub live: bool,
}

/// How a client was matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// `client_id` or `name`.
    pub by: &'static str,
    /// The manifest file or `inventory:NAME`.
    pub source: String,
}

/// What a client is labelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Labelled {
    pub label: Label,
    pub ownerless: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<Match>,
    pub differences: Vec<Difference>,
    /// The owner: the manifest's, else the IdP's first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Labelled {
    /// The label plus `ownerless`.
    pub fn labels(&self) -> Vec<&'static str> {
        let mut l = vec![self.label.as_str()];
        if self.ownerless {
            l.push("ownerless");
        }
        l
    }
}

/// The approved apps, indexed.
#[derive(Debug, Default)]
pub struct Approvals {
    apps: Vec<Approved>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

impl Approvals {
    pub fn len(&self) -> usize {
        self.apps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    /// Adds an approved app. Two apps claiming one `client_id` (or, without one, one name)
    /// is an error naming both: which one approved the client would be a guess.
    ///
    /// # Errors
    /// The duplicate, as a message.
    pub fn add(&mut self, app: Approved) -> Result<(), String> {
        let i = self.apps.len();
        if let Some(id) = &app.client_id {
            if let Some(&j) = self.by_id.get(id) {
                return Err(format!(
                    "`{}` and `{}` both approve client_id `{id}`",
                    self.apps.get(j).map(|a| a.source.as_str()).unwrap_or("?"),
                    app.source
                ));
            }
            self.by_id.insert(id.clone(), i);
        } else if let Some(name) = &app.name {
            if let Some(&j) = self.by_name.get(name) {
                return Err(format!(
                    "`{}` and `{}` both approve an app named `{name}` without a client_id",
                    self.apps.get(j).map(|a| a.source.as_str()).unwrap_or("?"),
                    app.source
                ));
            }
            self.by_name.insert(name.clone(), i);
        }
        self.apps.push(app);
        Ok(())
    }

    /// Every manifest (`*.yaml`, `*.yml`, `*.json`) of `dir`, in name order.
    ///
    /// # Errors
    /// A file that cannot be read or is not a manifest, or a duplicate: discovery stops,
    /// since a missing approval would mislabel its client.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            format!(
                "cannot read the manifest directory `{}`: {e}",
                dir.display()
            )
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            })
            .collect();
        paths.sort();
        for p in paths {
            let shown = p.display().to_string();
            let text = crate::input_file::read_text(&p, crate::input_file::Input::Manifest)
                .map_err(|e| e.to_string())?;
            self.add(from_manifest(&shown, &text, None)?)?;
        }
        Ok(())
    }

    /// The approved app of a client: by `client_id`, else by exact name.
    pub fn find(&self, client: &Discovered) -> Option<(&Approved, &'static str)> {
        if let Some(app) = self
            .by_id
            .get(&client.client_id)
            .and_then(|&i| self.apps.get(i))
        {
            return Some((app, "client_id"));
        }
        client
            .name
            .as_ref()
            .and_then(|n| self.by_name.get(n))
            .and_then(|&i| self.apps.get(i))
            .map(|a| (a, "name"))
    }
}

/// An approved app from a manifest's text. `status`: the inventory's, for an app of the
/// inventory (`client_id` then comes from its registration when the manifest has none).
///
/// # Errors
/// When the text is not a manifest (the engine's error, naming the source).
pub fn from_manifest(
    source: &str,
    text: &str,
    inventory: Option<(&'static str, bool, Option<&str>)>,
) -> Result<Approved, String> {
    use microvet_core::manifest::extract;
    use microvet_core::yaml::{Limits, parse};
    let root = parse(text, Limits::MANIFEST).map_err(|e| format!("`{source}`: {}", e.message))?;
    let m = extract(&root);
    let client = m.client.unwrap_or_default();
    let strings =
        |v: &Option<microvet_core::manifest::Sp<Vec<microvet_core::manifest::Sp<String>>>>| {
            v.as_ref()
                .map(|l| l.value.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
    let one = |v: &Option<microvet_core::manifest::Sp<String>>| v.as_ref().map(|s| s.value.clone());
    let mut doc = Map::new();
    let mut put_list = |k: &str, l: Vec<String>| {
        if !l.is_empty() {
            doc.insert(k.to_owned(), super::string_list(&l));
        }
    };
    put_list("redirect_uris", strings(&client.redirect_uris));
    put_list("grant_types", strings(&client.grant_types));
    put_list("response_types", strings(&client.response_types));
    put_list(
        "post_logout_redirect_uris",
        strings(&client.post_logout_redirect_uris),
    );
    let scopes = strings(&m.oauth_scopes);
    if !scopes.is_empty() {
        doc.insert("scope".into(), Value::String(scopes.join(" ")));
    }
    for (k, v) in [
        (
            "token_endpoint_auth_method",
            one(&client.token_endpoint_auth_method),
        ),
        ("code_challenge_method", one(&client.code_challenge_method)),
        ("application_type", one(&client.application_type)),
        ("jwks_uri", one(&client.jwks_uri)),
    ] {
        if let Some(v) = v {
            doc.insert(k.into(), Value::String(v));
        }
    }
    // Values of the manifest appear in the differences: scrub them as the export is.
    let mut doc = Value::Object(doc);
    microvet_core::scrub_secrets(&mut doc).map_err(|e| format!("`{source}`: {}", e.message))?;
    let config = doc
        .as_object()
        .map(ClientConfig::from_metadata)
        .unwrap_or_default();
    let (status, live, registered_id) = match inventory {
        Some((s, l, id)) => (Some(s), l, id.map(str::to_owned)),
        None => (None, true, None),
    };
    Ok(Approved {
        source: source.to_owned(),
        name: one(&m.name).or_else(|| one(&client.client_name)),
        owner: one(&m.owner).filter(|o| !o.trim().is_empty()),
        // An inventory app is the client the IdP issued: a `client_id` written in its
        // manifest is not trusted (it could claim another app's client).
        client_id: match inventory {
            Some(_) => registered_id,
            None => one(&client.client_id),
        },
        config,
        status,
        live,
    })
}

/// The approved apps of the inventory (issue "Close the loop"): every app of
/// [`crate::lifecycle::store::Store::list`], its manifest read as above.
///
/// # Errors
/// The store's error, or an app whose manifest cannot be read.
pub fn from_store(
    store: &dyn crate::lifecycle::store::Store,
    approvals: &mut Approvals,
) -> Result<(), String> {
    let apps = store.list().map_err(|e| e.to_string())?;
    for app in apps {
        let text = String::from_utf8_lossy(&app.manifest);
        let source = format!("inventory:{}", app.name);
        let status = app.status.as_str();
        let a = from_manifest(
            &source,
            &text,
            Some((status, app.status.is_live(), app.client_id.as_deref())),
        )?;
        approvals.add(Approved {
            owner: a.owner.or(Some(app.owner).filter(|o| !o.trim().is_empty())),
            ..a
        })?;
    }
    Ok(())
}

/// Label one client.
pub fn label(client: &Discovered, approvals: &Approvals) -> Labelled {
    let live = ClientConfig::from_metadata(&client.metadata);
    let idp_owner = client.owners.first().cloned();
    match approvals.find(client) {
        Some((app, by)) => {
            let mut diffs = differences(&app.config, &live);
            // A setting the export's format cannot express is reported in `unmapped`, not
            // as a change.
            diffs.retain(|d| !client.not_compared.contains(&d.field.as_str()));
            if !app.live {
                diffs.insert(
                    0,
                    Difference {
                        field: "status".into(),
                        change: "changed",
                        value: Some("present at the IdP".into()),
                        approved: app.status.map(str::to_owned),
                    },
                );
            }
            let owner = app.owner.clone().or(idp_owner);
            Labelled {
                label: if diffs.is_empty() {
                    Label::Approved
                } else {
                    Label::Drifted
                },
                ownerless: owner.is_none(),
                matched: Some(Match {
                    by,
                    source: app.source.clone(),
                }),
                differences: diffs,
                owner,
            }
        }
        None => Labelled {
            label: if client.builtin {
                Label::BuiltIn
            } else {
                Label::Unvetted
            },
            // The IdP's own clients belong to the IdP.
            ownerless: idp_owner.is_none() && !client.builtin,
            matched: None,
            differences: Vec::new(),
            owner: idp_owner,
        },
    }
}
