//! MV-OAUTH-022 redirect-uri-ip-literal
use super::prelude::*;
use super::support::oauth_client as oc;
use url::Host;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-022",
    name: "redirect-uri-ip-literal",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI uses an IP address as its host",
    what: "An IP literal host in an `http`/`https` redirect URI, as a browser reads it (`0x7f.1`, `2130706433` and `127.1` are all `127.0.0.1`). Exempt: native apps on a loopback IP (`http://127.0.0.1:{port}/path`, `http://[::1]:{port}/path`, RFC 8252 §7.3).",
    why: "An IP address is outside every organisation domain, cannot normally carry a publicly trusted certificate, and is reassigned without notice; a loopback address in a web app sends codes to whatever listens on the user's machine.",
    example: "client:\n  redirect_uris: [https://203.0.113.10/callback]",
    fix: "Use a host name under the organisation's domains (web apps), or the loopback form for native apps.",
    references: &[
        "RFC 8252 §7.3 (loopback redirects are for native apps), §8.3",
        "RFC 9700 §4.1",
        "WHATWG URL §3.5 (IPv4 parser: hex, octal and integer forms)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let native = oc::is_native(c);
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let Some(host) = url.host() else { continue };
        if matches!(host, Host::Domain(_)) || (native && oc::is_loopback_ip(&host)) {
            continue;
        }
        let shown = url.host_str().unwrap_or_default();
        let msg = if oc::is_loopback_ip(&host) {
            format!(
                "redirect URI `{}` uses the loopback address `{shown}`: loopback redirects are for native apps only",
                r.raw.value
            )
        } else {
            format!(
                "redirect URI `{}` uses the IP address `{shown}` as its host",
                r.raw.value
            )
        };
        out.at(r.raw, msg);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::super::support::testing::uri;

    #[test]
    fn ip_forms_are_reported_as_the_browser_reads_them() {
        let m = uri("web", "https://2130706433/cb", &super::RULE);
        assert!(m[0].contains("loopback address `127.0.0.1`"), "{m:?}");
        let m = uri("web", "https://0x0a.0.0.1/cb", &super::RULE);
        assert!(m[0].contains("IP address `10.0.0.1`"), "{m:?}");
        let m = uri("web", "https://[2001:db8::1]/cb", &super::RULE);
        assert!(m[0].contains("`[2001:db8::1]`"), "{m:?}");
    }

    #[test]
    fn native_loopback_is_allowed() {
        for u in [
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb",
            "http://[::1]:61023/cb",
        ] {
            assert!(uri("native", u, &super::RULE).is_empty(), "{u}");
            assert!(
                uri("native", u, &crate::rules::oauth_redirect_https::RULE).is_empty(),
                "{u}"
            );
        }
        assert_eq!(uri("native", "https://10.0.0.5/cb", &super::RULE).len(), 1);
    }
}
