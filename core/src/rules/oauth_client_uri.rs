//! MV-OAUTH-036 client-uri-unsafe
use super::prelude::*;
use super::support::oauth_client::{self as oc, Hard};
use crate::manifest::Sp;
use url::Host;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-036",
    name: "client-uri-unsafe",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a post-logout redirect, request, sector identifier or initiate-login URI fails the redirect URI checks",
    what: "Each of `post_logout_redirect_uris`, `request_uris`, `sector_identifier_uri` and `initiate_login_uri`, read as a browser reads it (the redirect URI analysis): it must be an absolute `https` URL without wildcard, whitespace, backslash, missing slashes or a doubtful Unicode host; without userinfo (`user@`); without a fragment (except `request_uris`, whose fragment carries the hash of the request object, OIDC Core §6.2); and its host must be one of the organisation's domains (no IP literal, no `localhost`). A native app's post-logout redirect may also use a loopback IP over http or a private-use scheme, like its redirect URIs. One finding per URI lists every problem.",
    why: "These URIs get none of the attention of `redirect_uris`, yet each steers a flow: the OP sends the user's browser to a post-logout redirect (an open redirector for phishing right after a trusted logout page), fetches the authorization request itself from a request URI (a foreign or plain-http host decides what the user is asked to consent to), derives pairwise subject identifiers from the sector identifier's host and fetches its redirect list (RFC 7591 and OIDC Registration §5), and lets third parties start a login at the initiate-login URI. The specifications require https for all four.",
    example: "client:\n  post_logout_redirect_uris: [\"http://apps.example.com/bye\"]\n  request_uris: [\"https://*.example.com/req.jwt\"]\n  sector_identifier_uri: \"https://user:pw@apps.example.com/sector.json\"",
    fix: "Use exact https URLs under the organisation's domains; the fix rewrites `http` to `https` when that is the only problem.",
    references: &[
        "OpenID Connect RP-Initiated Logout 1.0 §3.1 (`post_logout_redirect_uris`)",
        "OpenID Connect Core 1.0 §6.2 (`request_uri`: https, the fragment hash)",
        "OpenID Connect Dynamic Client Registration 1.0 §2 (`request_uris`, `sector_identifier_uri`, `initiate_login_uri`: https), §5 (sector identifier validation)",
        "OpenID Connect Core 1.0 §4 (initiating login from a third party), §8.1 (pairwise identifiers)",
        "RFC 9700 §4.1, §4.11 (open redirection)",
        "policy key `organisation.domains`",
    ],
    relational: false,
    check,
};

/// Which field a URI comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    PostLogout,
    Request,
    Sector,
    InitiateLogin,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::PostLogout => "post-logout redirect URI",
            Kind::Request => "request URI",
            Kind::Sector => "`sector_identifier_uri`",
            Kind::InitiateLogin => "`initiate_login_uri`",
        }
    }
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let native = oc::is_native(c);
    let lists = [
        (Kind::PostLogout, &c.post_logout_redirect_uris),
        (Kind::Request, &c.request_uris),
    ];
    for (kind, list) in lists {
        for raw in list.iter().flat_map(|l| l.value.iter()) {
            one(cx, out, kind, native, raw);
        }
    }
    if let Some(raw) = &c.sector_identifier_uri {
        one(cx, out, Kind::Sector, native, raw);
    }
    if let Some(raw) = &c.initiate_login_uri {
        one(cx, out, Kind::InitiateLogin, native, raw);
    }
}

fn hard_problem(h: &Hard) -> String {
    match h {
        Hard::OutOfBand => String::from("it is the out-of-band value, not a URL"),
        Hard::DangerousScheme(s) => format!("it uses the `{s}:` scheme"),
        Hard::Wildcard => String::from("it contains a wildcard `*`"),
        Hard::Unparseable(e) => format!("it is not an absolute URL ({e})"),
        Hard::Backslash => String::from("it contains a backslash, which browsers read as `/`"),
        Hard::Whitespace => String::from("it contains whitespace or control characters"),
        Hard::MissingSlashes => String::from("it lacks the `//` after the scheme"),
        Hard::Host(_) => String::from("its Unicode host cannot be mapped to one ASCII form"),
    }
}

fn one(cx: &Ctx<'_>, out: &mut Out<'_>, kind: Kind, native: bool, raw: &Sp<String>) {
    let a = oc::analyse(raw);
    let mut problems: Vec<String> = Vec::new();
    let mut http_only = false;
    match (&a.hard, a.sound()) {
        (Some(h), _) => problems.push(hard_problem(h)),
        (None, None) => problems.push(String::from("it is not an absolute URL")),
        (None, Some(url)) => {
            let scheme = url.scheme();
            let host = url.host();
            let loopback = host.as_ref().is_some_and(oc::is_loopback_ip);
            let native_logout = native && kind == Kind::PostLogout;
            let private_scheme = !oc::is_special(scheme)
                && native_logout
                && scheme.contains('.')
                && !url.has_authority();
            if scheme == "http" && native_logout && loopback {
                // RFC 8252 §7.3, as for redirect URIs.
            } else if private_scheme {
                // A reverse-domain private-use scheme, as for redirect URIs (RFC 8252 §7.1).
            } else if scheme == "http" {
                problems.push(String::from("it uses plain http"));
                http_only = matches!(host, Some(Host::Domain(_)));
            } else if scheme != "https" {
                problems.push(format!("it uses the `{scheme}:` scheme, not https"));
            }
            if oc::raw_authority(a.text).is_some_and(|x| x.userinfo.is_some()) {
                problems.push(format!(
                    "it contains userinfo: the browser goes to host {}",
                    url.host_str().map(oc::show_host).unwrap_or_default()
                ));
            }
            if kind != Kind::Request && url.fragment().is_some() {
                problems.push(String::from("it has a fragment"));
            }
            match host {
                Some(Host::Domain(d)) if oc::is_localhost(&Host::Domain(d)) => {
                    problems.push(String::from("its host is `localhost`"));
                }
                Some(Host::Domain(d)) if !super::support::matching::is_org_domain(cx.policy, d) => {
                    problems.push(format!(
                        "its host {} is outside the organisation's domains ({})",
                        oc::show_host(d),
                        oc::org_domains(cx)
                    ));
                }
                Some(Host::Domain(_)) | None => {}
                Some(_) if native_logout && loopback && scheme == "http" => {}
                Some(ip) => problems.push(format!("its host is the IP address `{ip}`")),
            }
        }
    }
    if problems.is_empty() {
        return;
    }
    let only_http = http_only && problems.len() == 1;
    let rep = out.at(
        raw,
        format!("{} `{}`: {}", kind.name(), raw.value, problems.join("; ")),
    );
    if only_http
        && let Some(mut u) = a.url.clone()
        && u.set_scheme("https").is_ok()
    {
        if u.port() == Some(80) {
            let _ = u.set_port(None);
        }
        let fixed = u.as_str().to_string();
        rep.fix(
            "replace",
            &raw.path,
            Some(json!(fixed)),
            format!("use `{fixed}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, manifest, of, vet, vet_dcr};

    fn check(app_type: &str, field: &str, value: &str) -> Vec<(String, String)> {
        let v = serde_json::to_string(value).unwrap();
        let line = if field.ends_with('s') {
            format!("  {field}: [{v}]\n")
        } else {
            format!("  {field}: {v}\n")
        };
        of(
            &vet(&manifest(&format!(
                "  application_type: {app_type}\n{line}"
            ))),
            &super::RULE,
        )
    }

    #[test]
    fn every_field_gets_the_redirect_checks() {
        for field in [
            "post_logout_redirect_uris",
            "request_uris",
            "sector_identifier_uri",
            "initiate_login_uri",
        ] {
            assert!(
                check("web", field, "https://apps.example.com/x").is_empty(),
                "{field}"
            );
            for bad in [
                "http://apps.example.com/x",
                "HTTP://apps.example.com/x",
                "https://*.example.com/x",
                "https://apps.example.com.evil.io/x",
                "https://apps.example.com@evil.io/x",
                "https://apps.example.com\\@evil.io/x",
                "https://203.0.113.7/x",
                "https://localhost/x",
                "javascript:alert(1)",
                "urn:ietf:wg:oauth:2.0:oob",
                "/relative",
                "com.example.app:/x",
            ] {
                let f = check("web", field, bad);
                assert_eq!(f.len(), 1, "{field} {bad}");
                assert!(f[0].0.starts_with(&format!("/client/{field}")), "{f:?}");
            }
        }
        // A fragment: a problem everywhere but in request URIs (the hash of the object).
        assert_eq!(
            check(
                "web",
                "post_logout_redirect_uris",
                "https://apps.example.com/x#y"
            )
            .len(),
            1
        );
        assert!(
            check(
                "web",
                "request_uris",
                "https://apps.example.com/r.jwt#qpXaRL"
            )
            .is_empty()
        );
        // Native apps may leave to a loopback or a reverse-domain scheme after logout, not
        // elsewhere.
        assert!(
            check(
                "native",
                "post_logout_redirect_uris",
                "http://127.0.0.1:5000/bye"
            )
            .is_empty()
        );
        assert!(
            check(
                "native",
                "post_logout_redirect_uris",
                "com.example.app:/bye"
            )
            .is_empty()
        );
        assert_eq!(
            check("native", "request_uris", "http://127.0.0.1/r").len(),
            1
        );
        assert_eq!(
            check("native", "post_logout_redirect_uris", "http://10.0.0.1/bye").len(),
            1
        );
        // Every problem of one URI in one finding.
        let f = check("web", "initiate_login_uri", "http://user@evil.io/x#f");
        assert_eq!(f.len(), 1);
        for part in ["plain http", "userinfo", "fragment", "`evil.io`"] {
            assert!(f[0].1.contains(part), "{part}: {f:?}");
        }
        let m = manifest("  post_logout_redirect_uris: [\"http://apps.example.com:80/bye\"]\n");
        assert_eq!(
            fix_value(&vet(&m), &super::RULE).unwrap(),
            serde_json::json!("https://apps.example.com/bye")
        );
        let f = vet_dcr(
            r#"{"redirect_uris":["https://apps.example.com/cb"],"sector_identifier_uri":"http://apps.example.com/s.json"}"#,
        );
        assert_eq!(of(&f, &super::RULE)[0].0, "/sector_identifier_uri");
    }
}
