//! MV-OAUTH-027 redirect-uri-not-canonical
use super::prelude::*;
use super::support::oauth_client as oc;
use url::Host;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-027",
    name: "redirect-uri-not-canonical",
    category: Category::Oauth,
    severity: Severity::Low,
    summary: "a redirect URI is not written in its canonical form",
    what: "Each well-formed redirect URI against its canonical form, the WHATWG serialization without fragment and without a host's trailing dot: explicit default ports (`:443` on https), uppercase scheme or host, percent-encoded or Unicode hosts (shown in their `xn--` form), non-decimal IP forms, dot segments (`/./`, `/../`), an empty path, surrounding whitespace. A repeat of an earlier URI is left to MV-OAUTH-028.",
    why: "The authorization server compares redirect URIs as exact strings, while browsers and frameworks normalise them: a non-canonical registration either breaks sign-in or, worse, hides what the URI really points to from a human reviewer (`https://%61pps.example.com` is `apps.example.com`).",
    example: "client:\n  redirect_uris: [\"https://Apps.Example.com:443/cb/./\"]",
    fix: "Register the canonical URI (the fix replaces it) and make the app send exactly that.",
    references: &[
        "RFC 9700 §4.1.3 (exact string matching)",
        "RFC 3986 §6.2.2 (syntax-based normalization), §6.2.3 (scheme-based normalization)",
        "WHATWG URL §4.5 (URL serializing)",
    ],
    relational: false,
    check,
};

fn reasons(r: &oc::Redirect<'_>, url: &url::Url) -> Vec<String> {
    let mut out = Vec::new();
    let text = r.text;
    if text.len() != r.raw.value.len() {
        out.push(String::from("surrounding whitespace"));
    }
    if text
        .split(':')
        .next()
        .is_some_and(|s| s.chars().any(|c| c.is_ascii_uppercase()))
    {
        out.push(String::from("uppercase scheme"));
    }
    if let Some(a) = oc::raw_authority(text) {
        let parsed = url.host_str().unwrap_or_default();
        let raw_host = a.host;
        if raw_host.contains('%') {
            out.push(format!("percent-encoded host `{raw_host}`"));
        } else if !raw_host.is_ascii() {
            out.push(format!("unicode host `{raw_host}` is `{parsed}`"));
        } else if raw_host.ends_with('.') {
            out.push(String::from("trailing dot in the host"));
        } else if raw_host.chars().any(|c| c.is_ascii_uppercase())
            && raw_host.eq_ignore_ascii_case(parsed)
        {
            out.push(String::from("uppercase host"));
        } else if !raw_host.eq_ignore_ascii_case(parsed) {
            let kind = if matches!(url.host(), Some(Host::Ipv4(_) | Host::Ipv6(_))) {
                "IP address"
            } else {
                "host"
            };
            out.push(format!("{kind} `{raw_host}` is `{parsed}`"));
        }
        if let Some(p) = a.port {
            match url.port() {
                None => out.push(format!("explicit default port `:{p}`")),
                Some(n) if n.to_string() != p => out.push(format!("port `{p}` is `{n}`")),
                Some(_) => {}
            }
        }
    }
    let path = oc::raw_path(text);
    let lower = path.to_ascii_lowercase();
    if lower
        .split('/')
        .any(|seg| matches!(seg, "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."))
    {
        out.push(String::from("dot segments in the path"));
    } else if path.is_empty() && url.has_authority() && oc::is_special(url.scheme()) {
        out.push(String::from("empty path (browsers send `/`)"));
    }
    out
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    // A map like MV-OAUTH-028's and `fix`'s (one instance of the map code).
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in cx.redirects() {
        let (Some(url), Some(canonical)) = (r.sound(), r.canonical.as_deref()) else {
            continue;
        };
        // A repeat is MV-OAUTH-028's (removed, not rewritten: two fixes on one item
        // would conflict).
        if seen.insert(canonical, 0).is_some() {
            continue;
        }
        // A fragment is MV-OAUTH-019's (with the same canonical fix).
        let without_fragment = r.raw.value.split('#').next().unwrap_or_default();
        if canonical == without_fragment {
            continue;
        }
        let mut why = reasons(r, url);
        if why.is_empty() {
            why.push(String::from("other normalisation"));
        }
        out.at(
            r.raw,
            format!(
                "redirect URI `{}` is not canonical ({}); canonical form `{canonical}`",
                r.raw.value,
                why.join(", ")
            ),
        )
        .fix(
            "replace",
            &r.raw.path,
            Some(json!(canonical)),
            format!("use the canonical `{canonical}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    fn canon(u: &str) -> (String, Option<serde_json::Value>) {
        let f = vet(&with_uris("web", &[u]));
        let msg = f
            .iter()
            .find(|f| f.rule == super::RULE.id)
            .map(|f| f.message.clone())
            .unwrap_or_default();
        (msg, fix_value(&f, &super::RULE))
    }

    #[test]
    fn non_canonical_forms_get_the_serialization_as_fix() {
        for (raw, why, fixed) in [
            (
                "https://apps.example.com:443/cb",
                "explicit default port `:443`",
                "https://apps.example.com/cb",
            ),
            (
                "https://Apps.Example.com/cb",
                "uppercase host",
                "https://apps.example.com/cb",
            ),
            (
                "HTTPS://apps.example.com/cb",
                "uppercase scheme",
                "https://apps.example.com/cb",
            ),
            (
                "https://apps.example.com/a/./b/../cb",
                "dot segments",
                "https://apps.example.com/a/cb",
            ),
            (
                "https://%61pps.example.com/cb",
                "percent-encoded host `%61pps.example.com`",
                "https://apps.example.com/cb",
            ),
            (
                "https://apps.example.com./cb",
                "trailing dot",
                "https://apps.example.com/cb",
            ),
            (
                "https://b\u{fc}cher.example.com/cb",
                "is `xn--bcher-kva.example.com`",
                "https://xn--bcher-kva.example.com/cb",
            ),
            (
                "https://apps.example.com",
                "empty path",
                "https://apps.example.com/",
            ),
            (
                "https://apps.example.com:08443/cb",
                "port `08443` is `8443`",
                "https://apps.example.com:8443/cb",
            ),
        ] {
            let (msg, fix) = canon(raw);
            assert!(msg.contains(why), "{raw}: {msg}");
            assert_eq!(fix, Some(serde_json::json!(fixed)), "{raw}");
        }
        assert!(uri("web", "https://apps.example.com/cb", &super::RULE).is_empty());
        assert!(uri("native", "com.example.app:/cb", &super::RULE).is_empty());
    }

    #[test]
    fn repeats_are_left_to_the_duplicate_rule() {
        let f = vet(&with_uris(
            "web",
            &[
                "https://apps.example.com/cb",
                "https://apps.example.com:443/cb",
            ],
        ));
        assert!(f.iter().all(|f| f.rule != super::RULE.id), "{f:?}");
        let d: Vec<_> = f
            .iter()
            .filter(|f| f.rule == crate::rules::oauth_redirect_duplicate::RULE.id)
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "/client/redirect_uris/1");
        assert_eq!(d[0].fix.as_ref().unwrap().op, "remove");
    }
}
