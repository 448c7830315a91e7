//! API tokens of the app lifecycle routes: a file of `NAME ROLE SHA256HEX` lines (the
//! sha256 of the bearer token, never the token itself; `#` starts a comment), roles
//! `register` and `admin` (admin may also register). A presented token is hashed and
//! compared in constant time against every entry.

use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Register apps, list and show them, recertify them.
    Register,
    /// Everything, and revoke and sweep.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Register => "register",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

#[derive(Clone)]
struct Entry {
    name: String,
    role: Role,
    sha256: [u8; 32],
}

/// The parsed tokens file.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field(
                "names",
                &self.entries.iter().map(|e| &e.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Most entries in a tokens file (each request is compared against all of them).
pub const MAX_TOKENS: usize = 1000;

/// Who presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        let pair = s.get(i * 2..i * 2 + 2)?;
        *o = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

impl Tokens {
    /// Parses a tokens file's text; errors name the line.
    ///
    /// # Errors
    /// `line N: …` for a malformed line, an unknown role, a bad hash or a repeated name.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            let [name, role, hash] = fields.as_slice() else {
                return Err(format!(
                    "line {n}: expected `NAME ROLE SHA256HEX`, found {} field{}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" }
                ));
            };
            let role = match *role {
                "register" => Role::Register,
                "admin" => Role::Admin,
                other => {
                    return Err(format!(
                        "line {n}: unknown role `{}`: use `register` or `admin`",
                        other.escape_debug()
                    ));
                }
            };
            let Some(sha256) = hex32(hash) else {
                return Err(format!(
                    "line {n}: the third field is not a sha256 (64 hex digits): write the sha256 of the token, e.g. `printf %s TOKEN | sha256sum`"
                ));
            };
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._@".contains(&b))
            {
                return Err(format!(
                    "line {n}: the name `{}` may hold only letters, digits, `-`, `.`, `_`, `@`",
                    name.escape_debug()
                ));
            }
            if entries.iter().any(|e| e.name == *name) {
                return Err(format!("line {n}: the name `{name}` is listed twice"));
            }
            if entries.len() >= MAX_TOKENS {
                return Err(format!("line {n}: more than {MAX_TOKENS} tokens"));
            }
            entries.push(Entry {
                name: (*name).to_owned(),
                role,
                sha256,
            });
        }
        Ok(Tokens { entries })
    }

    /// How many tokens are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads and parses a tokens file.
    ///
    /// # Errors
    /// `FILE: …` when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the API tokens file: {e}", path.display()))?;
        let tokens = Tokens::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if tokens.entries.is_empty() {
            return Err(format!("{}: no tokens in the file", path.display()));
        }
        Ok(tokens)
    }

    /// The principal of a bearer token, if it is listed. Every entry is compared (in
    /// constant time), whichever matches.
    pub fn lookup(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<&Entry> = None;
        for e in &self.entries {
            if bool::from(e.sha256.ct_eq(&digest)) && found.is_none() {
                found = Some(e);
            }
        }
        found.map(|e| Principal {
            name: e.name.clone(),
            role: e.role,
        })
    }

    /// The principal of an `Authorization` header value (`Bearer TOKEN`).
    pub fn authorize(&self, header: Option<&str>) -> Option<Principal> {
        let value = header?.trim();
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        self.lookup(token)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn sha(s: &str) -> String {
        Sha256::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn parses_roles_comments_and_looks_up_by_hash() {
        let text = format!(
            "# portal and the security team\nportal register {}\n\n  sec admin {}  # on call\n",
            sha("tok-portal"),
            sha("tok-sec").to_uppercase()
        );
        let t = Tokens::parse(&text).unwrap();
        assert_eq!(
            t.authorize(Some("Bearer tok-portal")),
            Some(Principal {
                name: "portal".into(),
                role: Role::Register
            })
        );
        assert_eq!(
            t.authorize(Some("bearer tok-sec")).unwrap().role,
            Role::Admin
        );
        assert_eq!(t.authorize(Some("Bearer tok-other")), None);
        assert_eq!(t.authorize(Some("Basic tok-portal")), None);
        assert_eq!(t.authorize(Some("Bearer ")), None);
        assert_eq!(t.authorize(None), None);
        // The hash itself is not a token.
        assert_eq!(
            t.authorize(Some(&format!("Bearer {}", sha("tok-portal")))),
            None
        );
        assert!(Role::Admin.allows(Role::Register));
        assert!(!Role::Register.allows(Role::Admin));
    }

    #[test]
    fn errors_name_the_line() {
        let h = sha("x");
        for (text, want) in [
            (
                format!("a register {h}\nb root {h}\n"),
                "line 2: unknown role `root`",
            ),
            (
                "a register deadbeef\n".to_owned(),
                "line 1: the third field is not a sha256",
            ),
            (
                format!("\n\na register\n{h}"),
                "line 3: expected `NAME ROLE SHA256HEX`, found 2 fields",
            ),
            (
                format!("a register {h}\na admin {h}\n"),
                "line 2: the name `a` is listed twice",
            ),
            (
                format!("a b register {h}\n"),
                "line 1: expected `NAME ROLE SHA256HEX`, found 4 fields",
            ),
        ] {
            let e = Tokens::parse(&text).unwrap_err();
            assert!(e.starts_with(want), "{e:?} should start with {want:?}");
        }
        // Never the hash of another line in an error.
        let e = Tokens::parse(&format!("a register {h}\nb nope {h}\n")).unwrap_err();
        assert!(!e.contains(&h), "{e}");
    }
}
