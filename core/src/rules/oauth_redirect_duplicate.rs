//! MV-OAUTH-028 redirect-uri-duplicate
use super::prelude::*;
use super::support::oauth_client as oc;
use std::collections::BTreeMap;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-028",
    name: "redirect-uri-duplicate",
    category: Category::Oauth,
    severity: Severity::Low,
    summary: "the same redirect URI is registered twice",
    what: "Redirect URIs that are equal after canonicalisation (see MV-OAUTH-027); every repeat after the first is reported (a repeat that differs by a fragment is left to MV-OAUTH-019).",
    why: "Duplicates hide in long lists, make reviews harder and usually mean a copy-paste variant (`:443`, a trailing dot, uppercase) that someone believed was different.",
    example: "client:\n  redirect_uris: [https://apps.example.com/cb, \"https://apps.example.com:443/cb\"]",
    fix: "Remove the repeat (the fix removes it).",
    references: &[
        "RFC 9700 §4.1.3 (exact redirect URIs)",
        "RFC 7591 §2 (`redirect_uris`)",
    ],
    relational: false,
    check,
};

/// The canonical form of a sound URI, else its text.
fn key<'r>(r: &'r oc::Redirect<'_>) -> &'r str {
    r.canonical.as_deref().unwrap_or(r.text)
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let list = cx.redirects();
    // First index of each canonical form (a map, not a scan: lists may be long).
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in list.iter().enumerate() {
        let k = key(r);
        let earlier = match first.get(k) {
            Some(j) => list.get(*j),
            None => {
                first.insert(k, i);
                None
            }
        };
        // A URI with a fragment is MV-OAUTH-019's: its fix rewrites the item.
        if r.url.as_ref().is_some_and(|u| u.fragment().is_some()) {
            continue;
        }
        if let Some(earlier) = earlier {
            out.at(
                r.raw,
                format!(
                    "redirect URI `{}` repeats `{}` (`{k}`)",
                    r.raw.value,
                    crate::manifest::display_path(&earlier.raw.path)
                ),
            )
            .fix(
                "remove",
                &r.raw.path,
                None,
                "remove the repeated redirect URI",
            );
        }
    }
}
