//! Typed errors of the core. An [`Error`] means the input could not be vetted at all
//! (not YAML/JSON, over a limit, an invalid policy, a malformed PKCE value); problems
//! *inside* a well-formed manifest are findings, never errors.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes (the WIT `error-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
///
/// One type in every Rust place an error goes: the core returns it, the guest hands it
/// over the WIT `error` record, and the host gives it back as its own `VetError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// Stable machine code, e.g. `syntax`, `limit`, `policy`, `pkce-length`.
    pub code: ErrorCode,
    /// Lowercase, no trailing period; user input in backticks.
    pub message: String,
    /// The likely fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// RFC 6901 pointer, where the error is at a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

    /// Render for a terminal, about the input named `source_name` (`None`: an error that
    /// is not about a file, such as a malformed PKCE verifier: no `-->` line):
    ///
    /// ```text
    /// error[syntax]: invalid YAML: ...
    ///   --> file:3:7 at `/owner`
    ///   help: ...
    /// ```
    pub fn render(&self, source_name: Option<&str>) -> String {
        let mut out = format!("error[{}]: {}", self.code.as_str(), self.message);
        if let Some(source_name) = source_name {
            match (self.line, self.column) {
                (Some(l), Some(c)) => out.push_str(&format!("\n  --> {source_name}:{l}:{c}")),
                (Some(l), None) => out.push_str(&format!("\n  --> {source_name}:{l}")),
                _ => out.push_str(&format!("\n  --> {source_name}")),
            }
            if let Some(p) = &self.path {
                out.push_str(&format!(" at `{p}`"));
            }
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("\n  help: {h}"));
        }
        out
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
