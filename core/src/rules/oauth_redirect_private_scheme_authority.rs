//! MV-OAUTH-037 redirect-uri-private-scheme-authority
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-037",
    name: "redirect-uri-private-scheme-authority",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a native app's private-use scheme redirect URI has an authority (`scheme://`)",
    what: "For native apps, each redirect URI with a scheme other than `http`/`https` that has an authority (`com.example.app://callback`, two slashes) instead of the one-slash form (`com.example.app:/callback`).",
    why: "RFC 8252 §7.1: as there is no naming authority for private-use URI scheme redirects, only a single slash appears after the scheme (following RFC 3986 §3.2). With two slashes the first path segment becomes a host, which platforms and authorization servers normalise differently (case, trailing dots), so the registered and the sent URI can stop matching or match more than intended. A form requirement rather than a MUST of the profile: medium.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"com.example.app://callback\"]",
    fix: "Use one slash; the fix rewrites `scheme://host/path` to `scheme:/host/path` when the scheme is a reverse domain name.",
    references: &[
        "RFC 8252 §7.1 (only a single slash after a private-use scheme)",
        "RFC 3986 §3.2 (authority), §3.3",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_native(c) {
        return;
    }
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        let scheme = url.scheme();
        if matches!(scheme, "http" | "https") || !url.has_authority() {
            continue;
        }
        let rep = out.at(
            r.raw,
            format!(
                "redirect URI `{}` has an authority: private-use scheme URIs take one slash (`{scheme}:/path`)",
                r.raw.value
            ),
        );
        if scheme.contains('.') {
            let canonical = oc::canonical(url);
            let rest = canonical
                .get(scheme.len() + 1..)
                .unwrap_or("")
                .trim_start_matches('/');
            let fixed = format!("{scheme}:/{rest}");
            if url::Url::parse(&fixed).is_ok_and(|u| !u.has_authority()) {
                rep.fix(
                    "replace",
                    &r.raw.path,
                    Some(json!(fixed)),
                    format!("use `{fixed}`"),
                );
            }
        }
    }
}
