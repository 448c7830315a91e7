//! Typed errors of the core. An [`Error`] means the input could not be vetted at all
//! (not YAML/JSON, over a limit, an invalid policy, a malformed PKCE value); problems
//! *inside* a well-formed manifest are findings, never errors.

use serde::Serialize;

/// Stable, machine-readable error codes (the WIT `error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The text is not valid YAML/JSON.
    Syntax,
    /// The input breaks a documented limit (size, depth, nodes, alias expansion).
    Limit,
    /// The document is YAML but not the expected shape at the top level, or has duplicate keys.
    Structure,
    /// The policy is invalid.
    Policy,
    /// A PKCE verifier has the wrong length.
    PkceLength,
    /// A PKCE verifier or challenge has a character outside its alphabet.
    PkceCharset,
    /// A PKCE challenge is malformed.
    PkceChallenge,
    /// An argument is invalid (e.g. a bad URL for `authorize-url`).
    InvalidArgument,
}

impl ErrorCode {
    /// The kebab-case code string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "syntax",
            ErrorCode::Limit => "limit",
            ErrorCode::Structure => "structure",
            ErrorCode::Policy => "policy",
            ErrorCode::PkceLength => "pkce-length",
            ErrorCode::PkceCharset => "pkce-charset",
            ErrorCode::PkceChallenge => "pkce-challenge",
            ErrorCode::InvalidArgument => "invalid-argument",
        }
    }
}

/// An error with a message (lowercase, no trailing period, user input in backticks),
/// an optional help text with the likely fix, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Error {
    /// A new error with only a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            help: None,
            path: None,
            line: None,
            column: None,
        }
    }

    /// Attach a help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attach an RFC 6901 pointer.
    #[must_use]
    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Attach a 1-based line and column.
    #[must_use]
    pub fn at(mut self, line: u32, column: u32) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Render for a terminal: `error: message\n  --> line:col (path)\n  help: ...`.
    pub fn render(&self, source_name: &str) -> String {
        let mut out = format!("error[{}]: {}", self.code.as_str(), self.message);
        match (self.line, self.column) {
            (Some(l), Some(c)) => out.push_str(&format!("\n  --> {source_name}:{l}:{c}")),
            (Some(l), None) => out.push_str(&format!("\n  --> {source_name}:{l}")),
            _ => out.push_str(&format!("\n  --> {source_name}")),
        }
        if let Some(p) = &self.path {
            out.push_str(&format!(" at `{p}`"));
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("\n  help: {h}"));
        }
        out
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
