//! The policy's matchers (`glob_match`, `host_in_domain`, `SinkPattern::matches`, ...),
//! without allocating: comparisons are done in place (ASCII case folding byte by byte).
//! This is the one implementation; the `crate::policy` functions call it. The tests hold
//! it to the original allocating versions (lowercased `String`s, `Vec<char>`s), kept there
//! as oracles.

use crate::policy::{PolicyDoc, SinkPattern};

/// `*` glob over a whole string (case-sensitive), without allocating. Working on bytes instead of chars
/// gives the same answer: `*` is ASCII, and a literal pattern character can only match
/// at a character boundary of the text (a UTF-8 lead byte never equals a continuation
/// byte), so every byte-level match is a char-level match and vice versa.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes(), |a, b| a == b)
}

/// `glob_match(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())`.
pub(crate) fn glob_match_ignore_ascii_case(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes(), |a, b| {
        a.eq_ignore_ascii_case(&b)
    })
}

fn glob_bytes(p: &[u8], t: &[u8], eq: impl Fn(u8, u8) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&pc) if eq(pc, tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

/// Whether `host` equals `domain` or is a subdomain of it (ASCII case-insensitive).
pub(crate) fn host_in_domain(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').as_bytes();
    let domain = domain.trim_end_matches('.').as_bytes();
    if host.eq_ignore_ascii_case(domain) {
        return true;
    }
    // `host.ends_with(".{domain}")`, ASCII case-insensitive.
    let Some(cut) = host.len().checked_sub(domain.len() + 1) else {
        return false;
    };
    host.get(cut) == Some(&b'.')
        && host
            .get(cut + 1..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
}

/// Whether a parsed URL matches a sink pattern ([`SinkPattern::matches`]).
pub(crate) fn sink_matches(p: &SinkPattern, url: &url::Url) -> bool {
    if let Some(s) = &p.scheme
        && !url.scheme().eq_ignore_ascii_case(s)
    {
        return false;
    }
    let host = url.host_str().unwrap_or("");
    if let Some(h) = &p.host
        && !glob_match_ignore_ascii_case(h, host)
    {
        return false;
    }
    if let Some(d) = &p.domain
        && !host_in_domain(host, d)
    {
        return false;
    }
    true
}

/// Whether an email/host domain is one of the organisation's (or a subdomain).
pub(crate) fn is_org_domain(policy: &PolicyDoc, domain: &str) -> bool {
    policy
        .organisation
        .domains
        .iter()
        .any(|d| host_in_domain(domain, d))
}

/// Whether a domain is a personal mailbox provider.
pub(crate) fn is_personal_domain(policy: &PolicyDoc, domain: &str) -> bool {
    policy
        .organisation
        .personal_email_domains
        .iter()
        .any(|d| host_in_domain(domain, d))
}

/// The catalogue entry of a scope (in normal form): the exact name, else the one name
/// equal to it ignoring ASCII case (authorization servers such as Microsoft Entra ID
/// compare scopes case-insensitively, so `Hr.Write` gets `hr.write`'s review and denial;
/// MV-SCOPE-008 reports the case). An exact match wins.
pub(crate) fn catalogued<'p>(
    policy: &'p PolicyDoc,
    scope: &str,
) -> Option<(&'p str, &'p crate::policy::ScopeDef)> {
    if let Some((k, d)) = policy.scopes.get_key_value(scope) {
        return Some((k.as_str(), d));
    }
    policy
        .scopes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(scope))
        .map(|(k, d)| (k.as_str(), d))
}

/// Whether a scope definition grants a data type (patterns allowed in `grants`).
pub(crate) fn scope_grants(def: &crate::policy::ScopeDef, data_type: &str) -> bool {
    def.grants.iter().any(|g| glob_match(g, data_type))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    /// The original allocating implementations, the oracles the tests compare against.
    mod policy {
        use crate::policy::{PolicyDoc, ScopeDef, SinkPattern};

        pub fn glob_match(pattern: &str, text: &str) -> bool {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            let (mut pi, mut ti) = (0usize, 0usize);
            let mut star: Option<(usize, usize)> = None;
            while ti < t.len() {
                match p.get(pi) {
                    Some('*') => {
                        star = Some((pi, ti));
                        pi += 1;
                    }
                    Some(c) if Some(c) == t.get(ti) => {
                        pi += 1;
                        ti += 1;
                    }
                    _ => match star {
                        Some((sp, st)) => {
                            pi = sp + 1;
                            ti = st + 1;
                            star = Some((sp, st + 1));
                        }
                        None => return false,
                    },
                }
            }
            p.get(pi..)
                .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
        }

        pub fn host_in_domain(host: &str, domain: &str) -> bool {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            host == domain || host.ends_with(&format!(".{domain}"))
        }

        pub fn sink_matches(p: &SinkPattern, url: &url::Url) -> bool {
            if let Some(s) = &p.scheme
                && !url.scheme().eq_ignore_ascii_case(s)
            {
                return false;
            }
            let host = url.host_str().unwrap_or("").to_ascii_lowercase();
            if let Some(h) = &p.host
                && !glob_match(&h.to_ascii_lowercase(), &host)
            {
                return false;
            }
            if let Some(d) = &p.domain
                && !host_in_domain(&host, d)
            {
                return false;
            }
            true
        }

        pub fn scope_grants(def: &ScopeDef, data_type: &str) -> bool {
            def.grants.iter().any(|g| glob_match(g, data_type))
        }

        pub fn is_org_domain(doc: &PolicyDoc, domain: &str) -> bool {
            doc.organisation
                .domains
                .iter()
                .any(|d| host_in_domain(domain, d))
        }

        pub fn is_personal_domain(doc: &PolicyDoc, domain: &str) -> bool {
            doc.organisation
                .personal_email_domains
                .iter()
                .any(|d| host_in_domain(domain, d))
        }
    }

    const WORDS: &[&str] = &[
        "",
        "*",
        "**",
        "a",
        "A",
        "a*",
        "*a",
        "*.admin",
        "admin.*",
        "*:admin",
        "*.All",
        "*.all",
        "corp-*",
        "CORP-*",
        "corp-hr-temp",
        "Corp-HR",
        "hr.*",
        "hr.read_only",
        "user.profile",
        "x.admin",
        "admin.x",
        "a*b*c",
        "abc",
        "aXbYc",
        "é*",
        "éa",
        "*é",
        "ü.admin",
        "example.com",
        "EXAMPLE.com.",
        "apps.example.com",
        "apps.Example.COM",
        "badexample.com",
        ".example.com",
        "com",
        "gmail.com",
        "mail.gmail.com.",
        "a.b.",
        ".",
        "..",
    ];

    #[test]
    fn glob_and_domains_agree_with_the_policy_versions() {
        for p in WORDS {
            for t in WORDS {
                assert_eq!(
                    glob_match(p, t),
                    policy::glob_match(p, t),
                    "glob {p:?} {t:?}"
                );
                assert_eq!(
                    glob_match_ignore_ascii_case(p, t),
                    policy::glob_match(&p.to_ascii_lowercase(), &t.to_ascii_lowercase()),
                    "iglob {p:?} {t:?}"
                );
                assert_eq!(
                    host_in_domain(p, t),
                    policy::host_in_domain(p, t),
                    "domain {p:?} {t:?}"
                );
            }
        }
    }

    #[test]
    fn sink_patterns_agree_with_the_policy_version() {
        let doc = crate::engine::Policy::builtin().unwrap();
        let urls = [
            "s3://corp-hr-temp",
            "s3://CORP-x",
            "S3://corp-y/z",
            "https://apps.example.com/x",
            "https://example.com.",
            "https://www.dropbox.com/s/x",
            "dropbox://x",
            "mailto:a@b.com",
            "https://gist.github.com/u/1",
            "http://[::1]/x",
            "file:///etc/passwd",
        ];
        let pats = doc
            .doc()
            .sinks
            .allow
            .iter()
            .chain(doc.doc().sinks.deny.iter());
        for p in pats {
            for u in urls {
                let url = url::Url::parse(u).unwrap();
                assert_eq!(
                    sink_matches(p, &url),
                    policy::sink_matches(p, &url),
                    "{p:?} {u}"
                );
            }
        }
    }

    #[test]
    fn policy_lookups_agree_with_the_policy_versions() {
        let policy = crate::engine::Policy::builtin().unwrap();
        let doc = policy.doc();
        for w in WORDS {
            assert_eq!(
                is_org_domain(doc, w),
                policy::is_org_domain(doc, w),
                "{w:?}"
            );
            assert_eq!(
                is_personal_domain(doc, w),
                policy::is_personal_domain(doc, w),
                "{w:?}"
            );
            for def in doc.scopes.values() {
                assert_eq!(scope_grants(def, w), policy::scope_grants(def, w), "{w:?}");
            }
        }
    }
}
