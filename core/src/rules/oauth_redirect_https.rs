//! MV-OAUTH-020 redirect-uri-not-https
use super::prelude::*;
use super::support::oauth_client as oc;
use url::Host;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-020",
    name: "redirect-uri-not-https",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI is not https where https is required",
    what: "Web apps (`application_type: web`, the default): every redirect URI must be `https` (no `http`, no private-use schemes, which belong to native apps). Native apps: `http` only on a loopback IP literal (`127.0.0.1`, `[::1]`); `localhost` is MV-OAUTH-024.",
    why: "The authorization code travels in the redirect: over plain http anyone on the network path reads or rewrites it. A web app has no business with a custom scheme, which any installed app can claim.",
    example: "client:\n  application_type: web\n  redirect_uris: [http://apps.example.com/callback]",
    fix: "Use `https` (the fix rewrites the scheme when the host is a domain name).",
    references: &[
        "RFC 6749 §3.1.2.1 (TLS for the redirection endpoint)",
        "RFC 9700 §2.6 (no cleartext http)",
        "RFC 8252 §7.3 (loopback http for native apps only), §8.3",
        "OAuth 2.1 draft §2.3 (redirect URI registration)",
        "Micro Apps, Macro Risk (2026): exact https redirect URIs",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let native = oc::is_native(c);
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        let scheme = url.scheme();
        if scheme == "https" {
            continue;
        }
        let domain = matches!(url.host(), Some(Host::Domain(_)))
            && !url.host().is_some_and(|h| oc::is_localhost(&h));
        if native {
            if scheme != "http" || oc::native_loopback(true, url) || !domain {
                // Private-use schemes: MV-OAUTH-025; localhost: MV-OAUTH-024.
                continue;
            }
            let host = url.host_str().map(oc::show_host).unwrap_or_default();
            let rep = out.at(
                r.raw,
                format!(
                    "redirect URI `{}` uses `http` with host {host}: native apps may use http only on a loopback IP",
                    r.raw.value
                ),
            );
            https_fix(rep, url, &r.raw.path);
            continue;
        }
        let msg = if oc::is_special(scheme) {
            format!(
                "redirect URI `{}` uses `{scheme}`: web apps must use https",
                r.raw.value
            )
        } else {
            format!(
                "redirect URI `{}` uses the `{scheme}:` scheme: web apps must use https (private-use schemes are for native apps)",
                r.raw.value
            )
        };
        let rep = out.at(r.raw, msg);
        if scheme == "http" && domain {
            https_fix(rep, url, &r.raw.path);
        }
    }
}

fn https_fix(rep: super::Reported<'_>, url: &url::Url, path: &str) {
    let mut u = url.clone();
    if u.set_scheme("https").is_ok() {
        if u.port() == Some(80) {
            let _ = u.set_port(None);
        }
        let fixed = oc::canonical(&u);
        rep.fix(
            "replace",
            path,
            Some(json!(fixed)),
            format!("use `{fixed}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    #[test]
    fn web_apps_use_https() {
        let f = vet(&with_uris("web", &["http://apps.example.com:80/cb"]));
        assert_eq!(
            fix_value(&f, &super::RULE).unwrap(),
            serde_json::json!("https://apps.example.com/cb")
        );
        // No fix for an IP literal: there is no certificate to switch to.
        let f = vet(&with_uris("web", &["http://127.0.0.1/cb"]));
        assert!(fix_value(&f, &super::RULE).is_none());
        assert!(uri("web", "https://apps.example.com/cb", &super::RULE).is_empty());
        assert_eq!(
            uri("native", "http://notes.example.com/cb", &super::RULE).len(),
            1
        );
        assert!(uri("native", "https://apps.example.com/cb", &super::RULE).is_empty());
    }
}
