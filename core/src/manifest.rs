//! The manifest model (v1): the seed's fields plus the OAuth client section.
//!
//! Extraction is lenient: the builder UI vets half-written manifests live, so a missing
//! or mistyped field becomes a finding (rules `MV-SCHEMA-*`) and never an error. Only
//! text that is not YAML/JSON, or that breaks the input limits, is an error.

use crate::policy::did_you_mean;
use crate::yaml::{Key, Node, Value, escape_token};

/// A value with the pointer and line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub path: String,
    pub line: u32,
}

/// Access mode of a data_access item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataAccess {
    pub data_type: Sp<String>,
    pub access: Access,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub name: Option<Sp<String>>,
    pub vendor: Option<Sp<String>>,
    pub dpa: Option<Sp<bool>>,
    /// Data types the dependency receives.
    pub data: Option<Sp<Vec<Sp<String>>>>,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Client {
    pub application_type: Option<Sp<String>>,
    pub token_endpoint_auth_method: Option<Sp<String>>,
    pub grant_types: Option<Sp<Vec<Sp<String>>>>,
    pub response_types: Option<Sp<Vec<Sp<String>>>>,
    pub redirect_uris: Option<Sp<Vec<Sp<String>>>>,
    pub code_challenge_method: Option<Sp<String>>,
    pub refresh_token_rotation: Option<Sp<bool>>,
    pub refresh_token_ttl_days: Option<Sp<i64>>,
    pub access_token_ttl_minutes: Option<Sp<i64>>,
    pub client_secret: Option<Sp<String>>,
    pub client_id: Option<Sp<String>>,
    pub client_name: Option<Sp<String>>,
    pub jwks_uri: Option<Sp<String>>,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instrumentation {
    pub audit_log: Option<Sp<String>>,
    pub contact: Option<Sp<String>>,
    pub path: String,
    pub line: u32,
}

/// A schema problem found while extracting (becomes a `MV-SCHEMA-*` finding).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaIssue {
    pub kind: SchemaIssueKind,
    pub path: String,
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaIssueKind {
    UnknownField,
    WrongType,
}

/// The manifest, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub name: Option<Sp<String>>,
    pub owner: Option<Sp<String>>,
    pub purpose: Option<Sp<String>>,
    pub data_access: Option<Sp<Vec<DataAccess>>>,
    pub retention_days: Option<Sp<i64>>,
    pub oauth_scopes: Option<Sp<Vec<Sp<String>>>>,
    pub external_sinks: Option<Sp<Vec<Sp<String>>>>,
    pub expiry_days: Option<Sp<i64>>,
    pub third_party_deps: Option<Sp<Vec<Dependency>>>,
    pub client: Option<Client>,
    pub instrumentation: Option<Instrumentation>,
    pub issues: Vec<SchemaIssue>,
}

/// Top-level fields of manifest v1.
pub const FIELDS: &[&str] = &[
    "manifest_version",
    "name",
    "owner",
    "purpose",
    "description",
    "data_access",
    "retention_days",
    "oauth_scopes",
    "external_sinks",
    "expiry_days",
    "third_party_deps",
    "client",
    "instrumentation",
];
const DATA_FIELDS: &[&str] = &["type", "access", "purpose"];
const DEP_FIELDS: &[&str] = &["name", "vendor", "dpa", "data", "purpose"];
/// Fields of the `client` section (RFC 7591 / OIDC registration names).
pub const CLIENT_FIELDS: &[&str] = &[
    "application_type",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "redirect_uris",
    "code_challenge_method",
    "refresh_token_rotation",
    "refresh_token_ttl_days",
    "access_token_ttl_minutes",
    "client_secret",
    "client_id",
    "client_name",
    "jwks_uri",
    "jwks",
];
const INSTR_FIELDS: &[&str] = &["audit_log", "contact"];

struct Cx {
    issues: Vec<SchemaIssue>,
}

/// `format!("{path}/{}", escape_token(key))`, in one allocation.
fn child(path: &str, key: &str) -> String {
    if crate::yaml::needs_escape(key) {
        return format!("{path}/{}", escape_token(key));
    }
    let mut out = String::with_capacity(path.len() + 1 + key.len());
    out.push_str(path);
    out.push('/');
    out.push_str(key);
    out
}

/// `format!("{path}/{i}")`.
fn index(path: &str, i: usize) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    out.push_str(path);
    out.push('/');
    crate::yaml::push_index(&mut out, i);
    out
}

impl Cx {
    fn wrong(&mut self, node: &Node, path: &str, expected: &str) {
        self.issues.push(SchemaIssue {
            kind: SchemaIssueKind::WrongType,
            path: path.to_string(),
            line: node.line,
            message: format!(
                "`{}` should be {expected}, found {}",
                display_path(path),
                node.kind()
            ),
        });
    }

    fn unknown_fields(&mut self, node: &Node, path: &str, known: &[&str]) {
        if let Value::Map(entries) = &node.value {
            for (k, _) in entries {
                if !known.contains(&k.name.as_str()) {
                    self.unknown(k, path, known);
                }
            }
        }
    }

    fn unknown(&mut self, k: &Key, path: &str, known: &[&str]) {
        // A key that is a secret (MV-SECRET-001) is neither quoted nor put in the path.
        if crate::rules::key_is_secret(&k.name) {
            self.issues.push(SchemaIssue {
                kind: SchemaIssueKind::UnknownField,
                path: child(path, crate::rules::REDACTED_KEY),
                line: k.line,
                message: "unknown field (its name is a secret, redacted)".to_string(),
            });
            return;
        }
        let mut message = format!("unknown field `{}`", k.name);
        if let Some(s) = did_you_mean(&k.name, known.iter().copied()) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        self.issues.push(SchemaIssue {
            kind: SchemaIssueKind::UnknownField,
            path: child(path, &k.name),
            line: k.line,
            message,
        });
    }

    /// A string field; numbers and booleans are wrong types (a YAML `owner: 123`).
    fn string(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<String>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Str(s) => Some(Sp {
                value: s.clone(),
                path: p,
                line: node.line,
            }),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "a string");
                None
            }
        }
    }

    fn int(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<i64>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Int(i) => Some(Sp {
                value: *i,
                path: p,
                line: node.line,
            }),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "a whole number of days/minutes");
                None
            }
        }
    }

    fn boolean(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<bool>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Bool(b) => Some(Sp {
                value: *b,
                path: p,
                line: node.line,
            }),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "`true` or `false`");
                None
            }
        }
    }

    /// A list of strings. A single string is accepted as a one-item list is NOT done:
    /// it is reported, since `oauth_scopes: openid profile` is a common mistake.
    fn strings(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<Vec<Sp<String>>>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    match &item.value {
                        Value::Str(s) => out.push(Sp {
                            value: s.clone(),
                            path: ip,
                            line: item.line,
                        }),
                        _ => self.wrong(item, &ip, "a string"),
                    }
                }
                Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                })
            }
            Value::Null => Some(Sp {
                value: Vec::new(),
                path: p,
                line: node.line,
            }),
            _ => {
                self.wrong(node, &p, "a list of strings");
                None
            }
        }
    }

    fn map<'a>(&mut self, parent: &'a Node, path: &str, key: &str) -> Option<&'a Node> {
        let node = parent.get(key)?;
        match &node.value {
            Value::Map(_) => Some(node),
            Value::Null => None,
            _ => {
                self.wrong(node, &child(path, key), "a mapping");
                None
            }
        }
    }
}

impl Cx {
    fn client(&mut self, c: &Node, p: &str) -> Client {
        Client {
            application_type: self.string(c, p, "application_type"),
            token_endpoint_auth_method: self.string(c, p, "token_endpoint_auth_method"),
            grant_types: self.strings(c, p, "grant_types"),
            response_types: self.strings(c, p, "response_types"),
            redirect_uris: self.strings(c, p, "redirect_uris"),
            code_challenge_method: self.string(c, p, "code_challenge_method"),
            refresh_token_rotation: self.boolean(c, p, "refresh_token_rotation"),
            refresh_token_ttl_days: self.int(c, p, "refresh_token_ttl_days"),
            access_token_ttl_minutes: self.int(c, p, "access_token_ttl_minutes"),
            client_secret: self.string(c, p, "client_secret"),
            client_id: self.string(c, p, "client_id"),
            client_name: self.string(c, p, "client_name"),
            jwks_uri: self.string(c, p, "jwks_uri"),
            path: p.to_string(),
            line: c.line,
        }
    }
}

/// Read a raw RFC 7591 dynamic client registration request. Its metadata lands in
/// [`Manifest::client`]; `scope` (space-separated) becomes `oauth_scopes`, `contacts[0]`
/// the owner, `client_name` the name. Unknown members are allowed (RFC 7591 §2 is
/// extensible), so only wrong types are issues.
pub fn extract_dcr(root: &Node) -> Manifest {
    let mut cx = Cx { issues: Vec::new() };
    let mut m = Manifest::default();
    let mut client = cx.client(root, "");
    client.line = root.line;
    if let Some(scope) = cx.string(root, "", "scope") {
        let list = scope
            .value
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| Sp {
                value: s.to_string(),
                path: scope.path.clone(),
                line: scope.line,
            })
            .collect();
        m.oauth_scopes = Some(Sp {
            value: list,
            path: scope.path,
            line: scope.line,
        });
    }
    if let Some(contacts) = cx.strings(root, "", "contacts") {
        m.owner = contacts.value.into_iter().next();
    }
    m.name = client.client_name.clone();
    m.client = Some(client);
    m.issues = cx.issues;
    m
}

/// `/client/redirect_uris/0` → `client.redirect_uris[0]`, for messages.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for tok in pointer.split('/').skip(1) {
        if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{tok}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&tok.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// Read a manifest from its parsed tree. `root` must be a mapping or null.
pub fn extract(root: &Node) -> Manifest {
    let mut cx = Cx { issues: Vec::new() };
    let mut m = Manifest::default();
    cx.unknown_fields(root, "", FIELDS);
    m.name = cx.string(root, "", "name");
    m.owner = cx.string(root, "", "owner");
    m.purpose = cx.string(root, "", "purpose");
    m.retention_days = cx.int(root, "", "retention_days");
    m.expiry_days = cx.int(root, "", "expiry_days");
    m.oauth_scopes = cx.strings(root, "", "oauth_scopes");
    m.external_sinks = cx.strings(root, "", "external_sinks");

    if let Some(node) = root.get("data_access") {
        let p = String::from("/data_access");
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    match &item.value {
                        // `- hr.employee_records` is accepted as shorthand for `- type: ...`.
                        Value::Str(s) => out.push(DataAccess {
                            data_type: Sp {
                                value: s.clone(),
                                path: ip.clone(),
                                line: item.line,
                            },
                            access: Access::Read,
                            path: ip,
                            line: item.line,
                        }),
                        Value::Map(_) => {
                            cx.unknown_fields(item, &ip, DATA_FIELDS);
                            let access = match cx.string(item, &ip, "access") {
                                Some(a) if a.value == "write" || a.value == "read-write" => {
                                    Access::Write
                                }
                                Some(a) if a.value == "read" => Access::Read,
                                Some(a) => {
                                    cx.issues.push(SchemaIssue {
                                        kind: SchemaIssueKind::WrongType,
                                        path: a.path,
                                        line: a.line,
                                        message: format!(
                                            "access `{}` should be `read` or `write`",
                                            a.value
                                        ),
                                    });
                                    Access::Read
                                }
                                None => Access::Read,
                            };
                            if let Some(t) = cx.string(item, &ip, "type") {
                                out.push(DataAccess {
                                    data_type: t,
                                    access,
                                    path: ip,
                                    line: item.line,
                                });
                            } else if item.get("type").is_none() {
                                cx.issues.push(SchemaIssue {
                                    kind: SchemaIssueKind::WrongType,
                                    path: ip,
                                    line: item.line,
                                    message: format!("`data_access[{i}]` has no `type`"),
                                });
                            }
                        }
                        _ => cx.wrong(item, &ip, "a mapping with `type`"),
                    }
                }
                m.data_access = Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                });
            }
            Value::Null => {
                m.data_access = Some(Sp {
                    value: Vec::new(),
                    path: p,
                    line: node.line,
                })
            }
            _ => cx.wrong(node, &p, "a list of `{ type, access }` items"),
        }
    }

    if let Some(node) = root.get("third_party_deps") {
        let p = String::from("/third_party_deps");
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    if matches!(item.value, Value::Map(_)) {
                        cx.unknown_fields(item, &ip, DEP_FIELDS);
                        out.push(Dependency {
                            name: cx.string(item, &ip, "name"),
                            vendor: cx.string(item, &ip, "vendor"),
                            dpa: cx.boolean(item, &ip, "dpa"),
                            data: cx.strings(item, &ip, "data"),
                            path: ip,
                            line: item.line,
                        });
                    } else {
                        cx.wrong(item, &ip, "a mapping with `name` and `vendor`");
                    }
                }
                m.third_party_deps = Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                });
            }
            Value::Null => {
                m.third_party_deps = Some(Sp {
                    value: Vec::new(),
                    path: p,
                    line: node.line,
                })
            }
            _ => cx.wrong(node, &p, "a list of `{ name, vendor }` items"),
        }
    }

    if let Some(c) = cx.map(root, "", "client") {
        cx.unknown_fields(c, "/client", CLIENT_FIELDS);
        m.client = Some(cx.client(c, "/client"));
    }

    if let Some(i) = cx.map(root, "", "instrumentation") {
        let p = "/instrumentation";
        cx.unknown_fields(i, p, INSTR_FIELDS);
        m.instrumentation = Some(Instrumentation {
            audit_log: cx.string(i, p, "audit_log"),
            contact: cx.string(i, p, "contact"),
            path: p.to_string(),
            line: i.line,
        });
    }
    m.issues = cx.issues;
    m
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;
    use crate::yaml::{Limits, parse};

    #[test]
    fn reads_the_seed_example_without_issues() {
        let text = "name: hr-onboarding-helper\nowner: hr@example.com\npurpose: automate candidate onboarding checklists\ndata_access:\n  - type: user.profile\n  - type: hr.employee_records\nretention_days: 30\noauth_scopes:\n  - openid\n  - profile\n  - hr.read_only\nexternal_sinks:\n  - s3://corp-hr-temp\nexpiry_days: 60\nthird_party_deps:\n  - name: chat-plugin\n    vendor: plugin-vendor.com\n";
        let m = extract(&parse(text, Limits::MANIFEST).unwrap());
        assert!(m.issues.is_empty(), "{:?}", m.issues);
        assert_eq!(m.owner.unwrap().line, 2);
        let scopes = m.oauth_scopes.unwrap().value;
        assert_eq!(scopes[2].value, "hr.read_only");
        assert_eq!(scopes[2].path, "/oauth_scopes/2");
        assert_eq!(
            m.data_access.unwrap().value[1].data_type.value,
            "hr.employee_records"
        );
    }

    #[test]
    fn unknown_and_wrong_types_are_issues_not_errors() {
        let m = extract(
            &parse(
                "oauth_scope: [x]\nexpiry_days: soon\nclient: {grant_type: [code]}\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        assert_eq!(m.issues.len(), 3);
        assert!(
            m.issues[0].message.contains("did you mean `oauth_scopes`?"),
            "{:?}",
            m.issues
        );
        assert_eq!(m.issues[1].path, "/expiry_days");
        assert!(m.issues[2].message.contains("did you mean `grant_types`?"));
    }

    #[test]
    fn display_paths() {
        assert_eq!(
            display_path("/client/redirect_uris/0"),
            "client.redirect_uris[0]"
        );
    }
}
