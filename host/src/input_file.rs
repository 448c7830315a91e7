//! Reading an input file — a manifest, a registration request, a policy or a waivers
//! file — as UTF-8 text, bounded by the component's input limit: the one reader of the
//! CLI's commands and of the server's policies directory, with one wording of its errors.
//!
//! At most the limit + 1 bytes are read: a larger input is refused without being held in
//! memory.

use std::io::{self, Read};
use std::path::Path;

/// The input limit of a manifest or registration request (the component's own limit).
pub const MANIFEST_MAX_BYTES: usize = 1 << 20;

/// The input limit of a policy or waivers file (the component's own limit).
pub const POLICY_MAX_BYTES: usize = 4 << 20;

/// What is being read: it sets the input limit and names the input in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A manifest or an RFC 7591 registration request.
    Manifest,
    /// A policy or a waivers file.
    Policy,
}

impl Input {
    /// The input limit, in bytes.
    pub fn limit(self) -> usize {
        match self {
            Input::Manifest => MANIFEST_MAX_BYTES,
            Input::Policy => POLICY_MAX_BYTES,
        }
    }

    /// `a manifest` or `a policy`.
    pub fn what(self) -> &'static str {
        match self {
            Input::Manifest => "a manifest",
            Input::Policy => "a policy",
        }
    }
}

/// Why an input file could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read `{name}`: {error}")]
    Io { name: String, error: io::Error },
    /// The input is over the limit of its kind; reading stopped there.
    #[error(
        "`{name}` is over the input limit of {} bytes ({} MiB) for {}; reading stopped there",
        input.limit(),
        input.limit() >> 20,
        input.what()
    )]
    TooLarge { name: String, input: Input },
    /// The input is not UTF-8; `offset` is the byte offset of the first invalid byte.
    #[error("file `{name}` is not valid UTF-8 (byte offset {offset})")]
    NotUtf8 { name: String, offset: usize },
}

/// Read the file at `path` as text (see the module docs); its name in errors is the path
/// as given.
///
/// # Errors
/// See [`ReadError`].
pub fn read_text(path: &Path, input: Input) -> Result<String, ReadError> {
    let name = || path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| ReadError::Io {
        name: name(),
        error,
    })?;
    read_text_from(file, &name(), input)
}

/// Read `reader` to its end as text (see the module docs), named `name` in errors.
///
/// # Errors
/// See [`ReadError`].
pub fn read_text_from(reader: impl Read, name: &str, input: Input) -> Result<String, ReadError> {
    let limit = input.limit();
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::Io {
            name: name.to_owned(),
            error,
        })?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge {
            name: name.to_owned(),
            input,
        });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        name: name.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn text_within_the_limit_is_read_and_more_is_refused() {
        let text = read_text_from(&b"name: ok\n"[..], "m.yaml", Input::Manifest).unwrap();
        assert_eq!(text, "name: ok\n");
        let exact = vec![b'a'; MANIFEST_MAX_BYTES];
        assert!(read_text_from(&exact[..], "m.yaml", Input::Manifest).is_ok());
        let over = vec![b'a'; MANIFEST_MAX_BYTES + 1];
        let err = read_text_from(&over[..], "m.yaml", Input::Manifest).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`m.yaml` is over the input limit of 1048576 bytes (1 MiB) for a manifest; reading stopped there"
        );
        assert!(read_text_from(&over[..], "p.yaml", Input::Policy).is_ok());
    }

    #[test]
    fn errors_name_the_file() {
        let err = read_text_from(&b"name: \xff"[..], "p.yaml", Input::Policy).unwrap_err();
        assert_eq!(
            err.to_string(),
            "file `p.yaml` is not valid UTF-8 (byte offset 6)"
        );
        let err = read_text(Path::new("/nonexistent/p.yaml"), Input::Policy).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read `/nonexistent/p.yaml`: "),
            "{err}"
        );
    }
}
