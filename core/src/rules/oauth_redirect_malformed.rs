//! MV-OAUTH-019 redirect-uri-malformed
use super::prelude::*;
use super::support::oauth_client::{self as oc, Hard};

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-019",
    name: "redirect-uri-malformed",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI is not an absolute URI without fragment and userinfo, or parsers disagree on it",
    what: "Each redirect URI must parse as an absolute URL; must not carry a fragment (`#...`) or userinfo (`user:pass@`, or a lone `@`); and must not contain what makes parsers disagree: a backslash (WHATWG reads `\\` as `/` in http(s) URLs, RFC 3986 parsers do not), whitespace or control characters (browsers drop tabs and newlines), or a special scheme without `//` (`https:host/cb`); and an http(s) host with Unicode must map to its ASCII form without doubt: fullwidth letters and digits and the dots `。．｡` are mapped, letters of Latin, Greek, Cyrillic, kana, CJK and Hangul are lowercased and encoded as A-labels (`xn--`), while combining marks, invisible and formatting characters (zero-width, bidi controls, variation selectors, non-ASCII spaces), right-to-left text, the deviation characters `ß` and `ς`, fullwidth punctuation and other characters are reported (so are `xn--` labels that decode to them). The message says what a browser would read.",
    why: "`https://apps.example.com\\@evil.io` is `apps.example.com` to a browser but `evil.io` to an RFC 3986 parser: the authorization server may validate one host and the browser visit the other. Userinfo is the classic way to make a foreign host look like the organisation's (`https://apps.example.com@evil.io`). A fragment is forbidden (the response would be appended after it) and a relative URI has no defined target. An invisible or combining character in a host makes two different-looking registrations one host, or one harmless-looking host another: the A-label is what the server compares and the browser visits.",
    example: "client:\n  redirect_uris: [\"https://apps.example.com\\\\@evil.io/cb\", \"https://apps.example.com@evil.io/cb\", \"/callback\"]",
    fix: "Write the callback as a plain absolute `https://host/path` URI, with an internationalised host in its A-label (`xn--`) form; the fix removes a fragment, the other shapes need a person to say which host was meant.",
    references: &[
        "RFC 6749 §3.1.2 (absolute URI, no fragment)",
        "RFC 3986 §3.2.1 (userinfo), §4.3 (absolute URI)",
        "WHATWG URL §4.4 (backslash, tab and newline handling in special URLs)",
        "RFC 9700 §4.1 (redirect URI validation attacks)",
        "UTS #46 §4 (IDNA processing), RFC 5891 §4.2 (A-labels), RFC 3492 (Punycode)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for r in cx.redirects() {
        let raw = &r.raw.value;
        let browser = r.url.as_ref().map(|u| u.as_str().to_string());
        match &r.hard {
            Some(Hard::Unparseable(e)) => {
                out.at(
                    r.raw,
                    format!("redirect URI `{raw}` is not an absolute URI ({e})"),
                );
                continue;
            }
            Some(Hard::Backslash) => {
                let host = r
                    .url
                    .as_ref()
                    .and_then(|u| u.host_str().map(oc::show_host))
                    .unwrap_or_else(|| String::from("no host"));
                let other = oc::raw_authority(r.text)
                    .map(|a| format!("`{}`", a.host))
                    .unwrap_or_else(|| String::from("another host"));
                out.at(
                    r.raw,
                    format!(
                        "redirect URI `{raw}` contains a backslash: browsers read host {host} (`{}`), RFC 3986 parsers read host {other}",
                        browser.unwrap_or_default()
                    ),
                );
                continue;
            }
            Some(Hard::Whitespace) => {
                out.at(
                    r.raw,
                    format!(
                        "redirect URI `{}` contains whitespace or control characters: browsers read `{}`",
                        raw.escape_debug(),
                        browser.unwrap_or_default()
                    ),
                );
                continue;
            }
            Some(Hard::Host(rejected)) => {
                out.at(
                    r.raw,
                    format!(
                        "redirect URI `{raw}`: {rejected}, which microvet cannot map to the host a browser visits; register the host's ASCII form (IDN labels as A-labels, `xn--...`)"
                    ),
                );
                continue;
            }
            Some(Hard::MissingSlashes) => {
                out.at(
                    r.raw,
                    format!(
                        "redirect URI `{raw}` lacks `//` after the scheme: browsers read `{}`, other parsers see no host",
                        browser.unwrap_or_default()
                    ),
                );
                continue;
            }
            Some(_) => continue,
            None => {}
        }
        let Some(url) = &r.url else { continue };
        if let Some(userinfo) = oc::raw_authority(r.text).and_then(|a| a.userinfo) {
            let host = url
                .host_str()
                .map(oc::show_host)
                .unwrap_or_else(|| String::from("no host"));
            out.at(
                r.raw,
                format!(
                    "redirect URI `{raw}` contains userinfo `{userinfo}@`: the browser goes to host {host}"
                ),
            );
        }
        if url.fragment().is_some() {
            let fixed = oc::canonical(url);
            out.at(
                r.raw,
                format!("redirect URI `{raw}` has a fragment, which redirect URIs must not have"),
            )
            .fix(
                "replace",
                &r.raw.path,
                Some(json!(fixed)),
                format!("remove the fragment: `{fixed}`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    fn m(u: &str) -> Vec<String> {
        uri("web", u, &super::RULE)
    }

    #[test]
    fn backslash_shows_both_readings() {
        let got = m("https://apps.example.com\\@evil.io/callback");
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("browsers read host `apps.example.com` (`https://apps.example.com/@evil.io/callback`)"),
            "{got:?}"
        );
        assert!(
            got[0].contains("RFC 3986 parsers read host `evil.io`"),
            "{got:?}"
        );
        // No other rule second-guesses a URI parsers disagree on.
        let all = vet(&with_uris(
            "web",
            &["https://apps.example.com\\@evil.io/callback"],
        ));
        assert!(
            all.iter().all(|f| f.rule == super::RULE.id
                || !f.rule.starts_with("MV-OAUTH-0")
                || f.rule == crate::rules::oauth_refresh_need::RULE.id),
            "{all:?}"
        );
    }

    #[test]
    fn relative_missing_slashes_whitespace_userinfo() {
        assert!(m("/callback")[0].contains("is not an absolute URI"));
        assert!(m("apps.example.com/callback")[0].contains("is not an absolute URI"));
        assert!(
            m("https:apps.example.com/cb")[0]
                .contains("browsers read `https://apps.example.com/cb`")
        );
        assert!(
            m("https://apps.exa\tmple.com/cb")[0]
                .contains("browsers read `https://apps.example.com/cb`")
        );
        let u = m("https://apps.example.com@evil.io/cb");
        assert!(
            u[0].contains("userinfo `apps.example.com@`: the browser goes to host `evil.io`"),
            "{u:?}"
        );
        assert_eq!(m("https://@apps.example.com/cb").len(), 1);
    }

    #[test]
    fn unicode_hosts_that_cannot_be_mapped_faithfully() {
        for (u, why) in [
            // A browser visits `example.com`; the server compares another string.
            (
                "https://exa\u{200b}mple.com/cb",
                "invisible or formatting character U+200B",
            ),
            // A browser reads the fullwidth `＊` as a wildcard host `*.example.com`.
            (
                "https://\u{ff0a}.example.com/cb",
                "fullwidth `\u{ff0a}` (U+FF0A)",
            ),
            (
                "https://bu\u{308}cher.example.com/cb",
                "combining mark U+0308",
            ),
            ("https://stra\u{df}e.example.com/cb", "deviation character"),
            (
                "https://\u{5d0}.example.com/cb",
                "right-to-left character U+05D0",
            ),
        ] {
            let got = m(u);
            assert_eq!(got.len(), 1, "{u}: {got:?}");
            assert!(got[0].contains(why), "{u}: {got:?}");
            assert!(got[0].contains("A-labels, `xn--...`"), "{u}: {got:?}");
            // Nothing else is said about a host microvet cannot read.
            let all = vet(&with_uris("web", &[u]));
            assert!(
                all.iter().all(|f| !f.rule.starts_with("MV-OAUTH-02")
                    || f.rule == crate::rules::oauth_redirect_count::RULE.id),
                "{u}: {all:?}"
            );
        }
        // Mapped hosts are not malformed.
        assert!(m("https://b\u{fc}cher.example.com/cb").is_empty());
        assert!(m("https://\u{ff41}pps.example.com/cb").is_empty());
    }

    #[test]
    fn fragment_is_removed_by_the_fix() {
        let f = vet(&with_uris("web", &["https://apps.example.com/cb#x"]));
        assert_eq!(
            fix_value(&f, &super::RULE).unwrap(),
            serde_json::json!("https://apps.example.com/cb")
        );
        assert!(m("https://apps.example.com/cb").is_empty());
    }
}
