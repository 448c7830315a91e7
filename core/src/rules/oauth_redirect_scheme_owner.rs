//! MV-OAUTH-026 redirect-uri-scheme-not-org
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-026",
    name: "redirect-uri-scheme-not-org",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a native app's private-use scheme is not under the organisation's reversed domain",
    what: "For native apps, a reverse-domain private-use scheme (one with a dot) that is not the reverse of one of the policy's `organisation.domains` or below it (`com.example` or `com.example.*` for `example.com`).",
    why: "RFC 8252 §7.1 says apps MUST use a scheme based on a domain name under their control: `com.evil.app` or another vendor's namespace means the scheme, and the codes sent to it, belong to someone else or can collide with their app. The organisation's domains are a proxy for \"under the publisher's control\" that cannot see every legitimate case (RFC 8252 §7.1 itself allows a domain the authorization server assigns to the client, such as `com.googleusercontent.apps.<id>`, and a vendor publishes under its own domain), so this is medium, not high: a reviewer confirms, or the policy waives it for the app.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"org.other.notes:/callback\"]",
    fix: "Use the organisation's reversed domain, e.g. `com.example.notes:/callback`, or a claimed https redirect under the organisation's domains.",
    references: &[
        "RFC 8252 §7.1 (MUST: a reverse domain name of a domain under the publisher's control), §8.6 (client impersonation)",
        "policy key `organisation.domains`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_native(c) {
        return;
    }
    let prefixes: Vec<String> = cx
        .policy
        .organisation
        .domains
        .iter()
        .map(|d| oc::reversed(d))
        .collect();
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        let scheme = url.scheme();
        if matches!(scheme, "http" | "https") || !scheme.contains('.') {
            continue;
        }
        let ours = prefixes
            .iter()
            .any(|p| scheme == p || scheme.starts_with(&format!("{p}.")));
        if !ours {
            out.at(
                r.raw,
                format!(
                    "private-use scheme `{scheme}` is not under the organisation's reversed domain ({})",
                    prefixes
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
}
