//! MV-OAUTH-015 refresh-without-offline-need
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-015",
    name: "refresh-without-offline-need",
    category: Category::Oauth,
    severity: Severity::Info,
    summary: "refresh tokens are enabled but the app states no need to work while the user is away",
    what: "The `refresh_token` grant when the app requests no offline scope (`offline_access` or a policy scope with `offline: true`) and its `purpose` mentions no background work (offline, background, scheduled, nightly, daily, weekly, periodic, sync, batch, cron, unattended). Advice only: a heuristic over free text. The reverse (offline scope without the grant) is MV-SCOPE-007.",
    why: "Micro apps are used interactively; when the access token expires the user can sign in again silently through the SSO session. Every refresh token is one more long-lived credential to leak, so Micro Apps, Macro Risk (2026) asks to disable them unless strictly necessary.",
    example: "purpose: fill in onboarding checklists\nclient:\n  grant_types: [authorization_code, refresh_token]",
    fix: "Drop the `refresh_token` grant, or request `offline_access` and say in `purpose` what runs while the user is away.",
    references: &[
        "Micro Apps, Macro Risk (2026): disable refresh tokens for micro apps unless strictly necessary",
        "OpenID Connect Core 1.0 §11 (offline access)",
        "RFC 9700 §4.14",
    ],
    relational: true,
    check,
};

const OFFLINE_WORDS: &[&str] = &[
    "offline",
    "background",
    "schedul",
    "nightly",
    "overnight",
    "daily",
    "hourly",
    "weekly",
    "periodic",
    "sync",
    "batch",
    "cron",
    "unattended",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(g) = oc::grant_item(c, "refresh_token") else {
        return;
    };
    if oc::requests_offline(cx) {
        return;
    }
    let purpose = cx
        .manifest
        .purpose
        .as_ref()
        // Per-character lowercasing: the words are ASCII, so the context rule of
        // `str::to_lowercase` (final sigma) cannot change a match, and its tables stay out
        // of the component. ASCII characters (the usual ones) are lowercased
        // inline, into a string sized once: the same text.
        .map(|p| {
            let mut lower = String::with_capacity(p.value.len());
            for c in p.value.chars() {
                if c.is_ascii() {
                    lower.push(c.to_ascii_lowercase());
                } else {
                    lower.extend(c.to_lowercase());
                }
            }
            lower
        })
        .unwrap_or_default();
    if OFFLINE_WORDS.iter().any(|w| purpose.contains(w)) {
        return;
    }
    // A registration request has no `purpose`: only the scope can justify the grant.
    let msg = if cx.dcr {
        "refresh tokens enabled, but the request's `scope` has no offline scope (`offline_access`)"
    } else {
        "refresh tokens enabled, but the app requests no offline scope and its purpose names no background work"
    };
    out.at(g, msg);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::support::testing::{manifest, of, vet};

    /// The purpose is lowercased per character: words in capitals, next to a final sigma
    /// (which `str::to_lowercase` maps by context), match as they did.
    #[test]
    fn purpose_words_in_any_case() {
        let plain = manifest(
            "  grant_types: [authorization_code, refresh_token]\n  redirect_uris: [https://apps.example.com/cb]\n",
        );
        assert_eq!(of(&vet(&plain), &super::RULE).len(), 1);
        for purpose in ["NIGHTLY export ΟΔΟΣ", "ΟΔΟΣ BACKGROUND ΟΔΟΣ", "Cron"] {
            let text = plain.replace("test the client rules", purpose);
            assert!(of(&vet(&text), &super::RULE).is_empty(), "{purpose}");
        }
    }
}
