//! Shared helpers of the `MV-OAUTH-*` rules (this file is not a rule): the client's
//! effective metadata with the RFC 7591 §2 defaults, and the analysis of one redirect URI
//! as a browser (WHATWG URL) would read it. No DNS lookups: only the text is looked at.
//!
//! Defaults (RFC 7591 §2, OIDC Registration §2): no `grant_types` means
//! `[authorization_code]`, no `response_types` means `[code]`, no
//! `token_endpoint_auth_method` means `client_secret_basic`, no `application_type` means
//! `web`. A client is *public* when it authenticates with `none` or is a native app
//! (RFC 8252 §8.4: a secret shipped in an app is no secret).

use crate::manifest::{Client, Sp};
use crate::rules::Ctx;
use url::{Host, Url};

/// The client section, if the manifest has one (a DCR request always has one).
pub(crate) fn client<'a>(cx: &Ctx<'a>) -> Option<&'a Client> {
    cx.manifest.client.as_ref()
}

/// Pointer to a (possibly absent) field of the client: `/client/x`, or `/x` for DCR.
pub(crate) fn field(c: &Client, name: &str) -> String {
    format!("{}/{name}", c.path)
}

/// The raw node of a client field (`/client/x`, or `/x` in a DCR request), to see what a
/// field holds when the model could not read it (a wrong type is then also MV-SCHEMA-002).
pub(crate) fn raw_field<'a>(cx: &Ctx<'a>, name: &str) -> Option<&'a crate::yaml::Node> {
    let section = if cx.dcr {
        cx.root
    } else {
        cx.root.get("client")?
    };
    section
        .get(name)
        .filter(|n| !matches!(n.value, crate::yaml::Value::Null))
}

/// `token_endpoint_auth_method` when absent (RFC 7591 §2).
pub(crate) const DEFAULT_AUTH: &str = "client_secret_basic";

/// Authentication methods that rest on a shared secret.
pub(crate) const SECRET_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
];

/// Grant types that can issue a refresh token (RFC 6749 §4.4.3: not `client_credentials`,
/// §4.2.2: not `implicit`).
pub(crate) const REFRESH_ISSUING: &[&str] = &[
    "authorization_code",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:openid:params:grant-type:ciba",
];

/// Whether the client is a native app (RFC 8252).
pub(crate) fn is_native(c: &Client) -> bool {
    c.application_type
        .as_ref()
        .is_some_and(|t| t.value.trim().eq_ignore_ascii_case("native"))
}

/// The effective token endpoint authentication method.
pub(crate) fn auth_method(c: &Client) -> &str {
    c.token_endpoint_auth_method
        .as_ref()
        .map_or(DEFAULT_AUTH, |m| m.value.trim())
}

/// Whether the client authenticates with `none` (explicitly).
pub(crate) fn auth_none(c: &Client) -> bool {
    auth_method(c) == "none"
}

/// Whether the client is public: `none`, or a native app.
pub(crate) fn is_public(c: &Client) -> bool {
    auth_none(c) || is_native(c)
}

/// Why the client is public, for messages.
pub(crate) fn public_reason(c: &Client) -> &'static str {
    if auth_none(c) {
        "public client (`token_endpoint_auth_method: none`)"
    } else {
        "native app (a public client, RFC 8252 §8.4)"
    }
}

/// How the client's tokens are sender-constrained, if it declares so: `dpop`
/// (`dpop_bound_access_tokens: true`, RFC 9449 §5.2) or `mtls`
/// (`tls_client_certificate_bound_access_tokens: true`, RFC 8705 §3.4).
pub(crate) fn sender_constrained(c: &Client) -> Option<&'static str> {
    if c.dpop_bound_access_tokens.as_ref().is_some_and(|b| b.value) {
        Some("dpop")
    } else if c
        .tls_client_certificate_bound_access_tokens
        .as_ref()
        .is_some_and(|b| b.value)
    {
        Some("mtls")
    } else {
        None
    }
}

/// The declared grant items (empty when absent).
pub(crate) fn grant_items(c: &Client) -> &[Sp<String>] {
    c.grant_types.as_ref().map_or(&[], |g| g.value.as_slice())
}

/// The effective grant types (`[authorization_code]` when absent).
pub(crate) fn grants(c: &Client) -> Vec<&str> {
    match &c.grant_types {
        Some(g) => g.value.iter().map(|s| s.value.trim()).collect(),
        None => vec!["authorization_code"],
    }
}

/// Whether the effective grant types contain `g`.
pub(crate) fn has_grant(c: &Client, g: &str) -> bool {
    // `grants(c).contains(&g)`, without building the list.
    match &c.grant_types {
        Some(list) => list.value.iter().any(|s| s.value.trim() == g),
        None => g == "authorization_code",
    }
}

/// The declared grant item equal to `g`.
pub(crate) fn grant_item<'a>(c: &'a Client, g: &str) -> Option<&'a Sp<String>> {
    grant_items(c).iter().find(|s| s.value.trim() == g)
}

/// Whether the client runs the authorization code flow.
pub(crate) fn code_flow(c: &Client) -> bool {
    has_grant(c, "authorization_code")
}

/// The declared response type items (empty when absent).
pub(crate) fn response_items(c: &Client) -> &[Sp<String>] {
    c.response_types
        .as_ref()
        .map_or(&[], |r| r.value.as_slice())
}

/// The space-separated components of one response type value.
pub(crate) fn components(response_type: &str) -> impl Iterator<Item = &str> {
    response_type.split_ascii_whitespace()
}

/// Whether a response type returns an access token from the authorization endpoint
/// (`token`, `id_token token`, `code token`, `code id_token token`...).
pub(crate) fn is_implicit_response(response_type: &str) -> bool {
    components(response_type).any(|c| c == "token")
}

/// Whether the app requests a scope the policy marks `offline` (or `offline_access`).
pub(crate) fn requests_offline(cx: &Ctx<'_>) -> bool {
    cx.scopes
        .iter()
        .any(|(s, def)| s.value == "offline_access" || def.is_some_and(|d| d.offline))
}

/// An organisation domain reversed for private-use URI schemes: `example.com` → `com.example`.
pub(crate) fn reversed(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut labels: Vec<&str> = d.split('.').collect();
    labels.reverse();
    labels.join(".")
}

// ---------------------------------------------------------------------------------------
// Redirect URIs
// ---------------------------------------------------------------------------------------

/// Schemes that run code or read local data in the browser: never a redirect target.
pub(crate) const DANGEROUS_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "blob"];

/// A problem that makes every other check of the URI meaningless (one rule reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hard {
    /// `urn:ietf:wg:oauth:2.0:oob` (or `:auto`): not a redirect at all; the code is shown
    /// to the user to copy (MV-OAUTH-031).
    OutOfBand,
    /// `javascript:`, `data:`, `file:`, `vbscript:`, `blob:` (MV-OAUTH-017).
    DangerousScheme(String),
    /// A `*` anywhere in the raw text (MV-OAUTH-018).
    Wildcard,
    /// Not an absolute URL at all (MV-OAUTH-019).
    Unparseable(String),
    /// A backslash in a special-scheme URL: browsers read it as `/` (MV-OAUTH-019).
    Backslash,
    /// Whitespace or control characters inside (browsers drop tabs and newlines) (MV-OAUTH-019).
    Whitespace,
    /// `https:host/path` or `https:/host`: browsers add the missing slashes (MV-OAUTH-019).
    MissingSlashes,
    /// A Unicode host that cannot be mapped to its ASCII form without the Unicode tables
    /// (combining marks, invisible or right-to-left characters...) (MV-OAUTH-019).
    Host(crate::idn::Rejection),
}

/// One redirect URI, analysed once per vet (see [`Ctx::redirects`]).
pub(crate) struct Redirect<'a> {
    pub raw: &'a Sp<String>,
    /// The raw text without surrounding whitespace.
    pub text: &'a str,
    /// The URL as a browser parses it (absent when unparseable).
    pub url: Option<Url>,
    pub hard: Option<Hard>,
    /// [`canonical`] of the URL when it is sound.
    pub canonical: Option<String>,
}

impl Redirect<'_> {
    /// The parsed URL when there is no hard problem.
    pub fn sound(&self) -> Option<&Url> {
        if self.hard.is_some() {
            None
        } else {
            self.url.as_ref()
        }
    }
}

/// The client's redirect URIs, analysed.
fn redirects(c: &Client) -> Vec<Redirect<'_>> {
    c.redirect_uris
        .iter()
        .flat_map(|r| r.value.iter())
        .map(analyse)
        .collect()
}

impl<'a> Ctx<'a> {
    /// The client's redirect URIs, analysed once per vet and shared by the
    /// `MV-OAUTH-*` redirect rules (empty without a client).
    pub(crate) fn redirects(&self) -> &[Redirect<'a>] {
        self.shared.redirects.get_or_init(|| {
            self.manifest
                .client
                .as_ref()
                .map(redirects)
                .unwrap_or_default()
        })
    }
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// The scheme as a browser would read it from the raw text (tabs and newlines dropped,
/// leading C0 controls and spaces trimmed), lowercased.
fn raw_scheme(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    if chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(is_scheme_char) {
        Some(scheme.to_ascii_lowercase())
    } else {
        None
    }
}

/// Schemes with a host in WHATWG URL ("special" schemes other than `file`), ASCII
/// case-insensitive (callers pass schemes `url` or `raw_scheme` already lowercased).
pub(crate) use crate::idn::is_special;

/// The out-of-band "redirect" values (Google's installed-app flow, RFC 6749 era clients),
/// ASCII case-insensitive (URN namespace identifiers and `urn:` are, RFC 8141 §3.1).
pub(crate) const OUT_OF_BAND: &[&str] = &[
    "urn:ietf:wg:oauth:2.0:oob",
    "urn:ietf:wg:oauth:2.0:oob:auto",
];

/// Whether a redirect value is an out-of-band value (see [`OUT_OF_BAND`]), whatever its case
/// and surrounding whitespace, tabs or newlines inside.
pub(crate) fn is_out_of_band(text: &str) -> bool {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    OUT_OF_BAND.iter().any(|o| cleaned.eq_ignore_ascii_case(o))
}

/// Not inlined: one copy serves the redirect, `jwks_uri` and other client URI rules (the
/// component's size).
#[inline(never)]
pub(crate) fn analyse(raw: &Sp<String>) -> Redirect<'_> {
    let text = raw.value.trim();
    if is_out_of_band(text) {
        return Redirect {
            raw,
            text,
            url: None,
            hard: Some(Hard::OutOfBand),
            canonical: None,
        };
    }
    // `url` parses ASCII hosts only (idna_adapter 1.0): Unicode hosts of http(s) URLs are
    // mapped to their A-label form first, or rejected when that cannot be done faithfully.
    let host = crate::idn::url_text(text);
    let parsed = Url::parse(host.as_deref().unwrap_or(text));
    let scheme = match &parsed {
        Ok(u) => Some(u.scheme().to_string()),
        Err(_) => raw_scheme(text),
    };
    let hard = if let Some(s) = scheme.as_deref().filter(|s| DANGEROUS_SCHEMES.contains(s)) {
        Some(Hard::DangerousScheme(s.to_string()))
    } else if text.contains('*') {
        Some(Hard::Wildcard)
    } else if let Err(e) = host {
        Some(Hard::Host(e))
    } else if let Err(e) = &parsed {
        Some(Hard::Unparseable(e.to_string()))
    } else if scheme.as_deref().is_some_and(is_special) && text.contains('\\') {
        Some(Hard::Backslash)
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(Hard::Whitespace)
    } else if scheme.as_deref().is_some_and(is_special) && !after_scheme(text).starts_with("//") {
        Some(Hard::MissingSlashes)
    } else {
        None
    };
    let url = parsed.ok();
    let canonical = url.as_ref().filter(|_| hard.is_none()).map(canonical);
    Redirect {
        raw,
        text,
        url,
        hard,
        canonical,
    }
}

/// What follows the first `:` of the raw text.
fn after_scheme(text: &str) -> &str {
    text.split_once(':').map_or("", |(_, rest)| rest)
}

/// The parts of a raw URI as RFC 3986 reads them (no normalisation): the authority's
/// userinfo, host and port.
pub(crate) struct RawAuthority<'a> {
    pub userinfo: Option<&'a str>,
    pub host: &'a str,
    pub port: Option<&'a str>,
}

/// Split the authority of a raw URI the RFC 3986 way: after `//`, up to the first `/`,
/// `?` or `#`; userinfo ends at the last `@`. (WHATWG also ends it at `\` for special
/// schemes, which is the source of the differential.)
pub(crate) fn raw_authority(text: &str) -> Option<RawAuthority<'_>> {
    let rest = after_scheme(text).strip_prefix("//")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (authority.get(..i), authority.get(i + 1..)?),
        None => (None, authority),
    };
    // A port follows the last `:` outside an IPv6 literal.
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport.get(i..)?.contains(']') => {
            (hostport.get(..i)?, Some(hostport.get(i + 1..)?))
        }
        _ => (hostport, None),
    };
    Some(RawAuthority {
        userinfo,
        host,
        port,
    })
}

/// The raw path of a URI with an authority (RFC 3986), without query and fragment.
pub(crate) fn raw_path(text: &str) -> &str {
    let rest = after_scheme(text);
    let rest = match rest.strip_prefix("//") {
        Some(r) => r.find('/').and_then(|i| r.get(i..)).unwrap_or(""),
        None => rest,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or("")
}

/// The canonical form of a URL: WHATWG serialization, without fragment and without the
/// trailing dot of a domain.
pub(crate) fn canonical(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    if let Some(Host::Domain(d)) = u.host() {
        let trimmed = d.trim_end_matches('.').to_string();
        if trimmed.len() != d.len() && !trimmed.is_empty() {
            // Cannot fail: the domain was valid with its trailing dot.
            let _ = u.set_host(Some(&trimmed));
        }
    }
    u.as_str().to_string()
}

/// A host as a message shows it: the ASCII form a browser uses, plus the Unicode form
/// when it is an IDN (`xn--` labels), so a homograph is visible.
pub(crate) fn show_host(host: &str) -> String {
    if host.split('.').any(|l| l.starts_with("xn--")) {
        let unicode = crate::idn::to_unicode(host);
        if !unicode.is_empty() && unicode != host {
            return format!("`{host}` (`{unicode}`)");
        }
    }
    format!("`{host}`")
}

/// Whether a parsed host is a loopback IP literal (127.0.0.0/8 or ::1).
pub(crate) fn is_loopback_ip(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => a.is_loopback(),
        Host::Domain(_) => false,
    }
}

/// Whether a parsed host is `localhost` or under `.localhost`.
pub(crate) fn is_localhost(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
        _ => false,
    }
}

/// Whether a URL may use plain `http`: a native app on a loopback IP (RFC 8252 §7.3).
pub(crate) fn native_loopback(native: bool, url: &Url) -> bool {
    native && url.host().is_some_and(|h| is_loopback_ip(&h))
}

/// The organisation's domains, for messages: `example.com, example.org`.
pub(crate) fn org_domains(cx: &Ctx<'_>) -> String {
    cx.policy.organisation.domains.join(", ")
}

/// Percent-decode a string (lossy; invalid escapes are kept).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    fn sp(s: &str) -> Sp<String> {
        Sp {
            value: s.to_string(),
            path: "/client/redirect_uris/0".into(),
            line: 1,
        }
    }

    fn hard(s: &str) -> Option<Hard> {
        let raw = sp(s);
        analyse(&raw).hard
    }

    #[test]
    fn hard_problems() {
        assert_eq!(
            hard("javascript:alert(1)"),
            Some(Hard::DangerousScheme("javascript".into()))
        );
        // Browsers drop the tab: it is still `javascript:`.
        assert_eq!(
            hard("java\tscript:alert(1)"),
            Some(Hard::DangerousScheme("javascript".into()))
        );
        assert_eq!(
            hard("DATA:text/html,x"),
            Some(Hard::DangerousScheme("data".into()))
        );
        assert_eq!(hard("https://*.example.com/cb"), Some(Hard::Wildcard));
        assert_eq!(hard("https://apps.example.com/*"), Some(Hard::Wildcard));
        assert!(matches!(hard("/callback"), Some(Hard::Unparseable(_))));
        assert_eq!(
            hard("https://apps.example.com\\@evil.io"),
            Some(Hard::Backslash)
        );
        assert_eq!(
            hard("https://apps.exa\tmple.com/cb"),
            Some(Hard::Whitespace)
        );
        assert_eq!(
            hard("https:apps.example.com/cb"),
            Some(Hard::MissingSlashes)
        );
        assert_eq!(hard("  https://apps.example.com/cb  "), None);
        assert_eq!(hard("com.example.app:/cb"), None);
    }

    #[test]
    fn raw_authority_is_rfc3986() {
        let a = raw_authority("https://apps.example.com\\@evil.io").unwrap();
        assert_eq!(a.host, "evil.io");
        assert_eq!(a.userinfo, Some("apps.example.com\\"));
        let a = raw_authority("http://[::1]:8080/cb").unwrap();
        assert_eq!((a.host, a.port), ("[::1]", Some("8080")));
        let a = raw_authority("https://APPS.example.com:443").unwrap();
        assert_eq!((a.host, a.port), ("APPS.example.com", Some("443")));
        assert!(raw_authority("com.example.app:/cb").is_none());
        assert_eq!(raw_path("https://a.example.com/x/./y?q#f"), "/x/./y");
        assert_eq!(raw_path("https://a.example.com"), "");
    }

    #[test]
    fn canonical_forms() {
        let c = |s: &str| canonical(&Url::parse(s).unwrap());
        assert_eq!(
            c("HTTPS://APPS.Example.com:443/a/./b/../c#frag"),
            "https://apps.example.com/a/c"
        );
        assert_eq!(
            c("https://apps.example.com./cb"),
            "https://apps.example.com/cb"
        );
        assert_eq!(
            c("https://%61pps.example.com/cb"),
            "https://apps.example.com/cb"
        );
        assert_eq!(c("COM.Example.App:/cb"), "com.example.app:/cb");
    }

    #[test]
    fn hosts_are_shown_in_both_forms() {
        assert_eq!(
            show_host("xn--exmple-4nf.com"),
            "`xn--exmple-4nf.com` (`ex\u{430}mple.com`)"
        );
        assert_eq!(show_host("apps.example.com"), "`apps.example.com`");
        assert_eq!(reversed("Example.com."), "com.example");
        assert_eq!(percent_decode("https%3A%2F%2Fevil.io"), "https://evil.io");
    }
}
