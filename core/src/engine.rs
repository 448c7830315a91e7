//! The public entry point: a parsed [`Policy`] vets manifests.

use crate::error::{Error, ErrorCode, Result};
use crate::verdict::Verdict;

/// What kind of document is being vetted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A microvet manifest (YAML or JSON).
    Manifest,
    /// A raw RFC 7591 dynamic client registration request (JSON).
    Dcr,
}

/// A parsed, validated policy: parse once, vet many.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) sha256: String,
    pub(crate) name: String,
}

impl Policy {
    /// Parse and validate a policy document (YAML or JSON).
    pub fn parse(text: &str) -> Result<Policy> {
        Ok(Policy {
            sha256: crate::sha256_hex(text.as_bytes()),
            name: String::from("default"),
        })
    }

    /// The built-in default policy (`policies/default.yaml`).
    pub fn builtin() -> Result<Policy> {
        Policy::parse(crate::DEFAULT_POLICY)
    }

    /// Lowercase hex sha256 of the policy text.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Vet a manifest (YAML or JSON text).
    pub fn vet(&self, text: &str) -> Result<Verdict> {
        self.vet_kind(InputKind::Manifest, text)
    }

    /// Vet a document of the given kind.
    pub fn vet_kind(&self, _kind: InputKind, _text: &str) -> Result<Verdict> {
        Err(Error::new(ErrorCode::Structure, "not yet implemented"))
    }
}
