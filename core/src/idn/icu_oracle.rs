//! The claim of the module, as a test: whatever [`to_ascii`] accepts maps to the host a
//! browser visits. The browser is modelled by ICU4X's UTS-46 mapping (`icu_normalizer`,
//! the data `idna_adapter` 1.2 gives `url`; a dev-dependency only) with the parameters of
//! WHATWG URL host parsing: non-transitional, `CheckHyphens=false`, `CheckBidi=true`,
//! `CheckJoiners=true`, `UseSTD3ASCIIRules=false`, `VerifyDnsLength=false`, then the
//! forbidden domain code points.
//!
//! The oracle is exact for mapping, normalisation, code point status and Punycode, and
//! conservative (it refuses more than a browser) for the two contextual rules: any label
//! with a joiner (U+200C, U+200D) and any bidi domain (a label with a character of
//! Bidi_Class R, AL or AN) is refused instead of checked by the CONTEXTJ and RFC 5893
//! rules. This module rejects all of them, so a conservative oracle can only turn a
//! hidden divergence into a test failure, never the other way round.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;
use icu_normalizer::properties::Decomposed;
use icu_normalizer::properties::{CanonicalCompositionBorrowed, CanonicalDecompositionBorrowed};
use icu_normalizer::uts46::Uts46MapperBorrowed;
use icu_properties::CodePointMapData;
use icu_properties::props::{
    BidiClass, CanonicalCombiningClass, GeneralCategory, GeneralCategoryGroup,
};
use proptest::prelude::*;
use std::collections::HashSet;

const MAPPER: Uts46MapperBorrowed<'static> = Uts46MapperBorrowed::new();

/// WHATWG forbidden domain code points (C0 controls, space, `%`, DEL and URL syntax).
fn is_forbidden_domain_code_point(c: char) -> bool {
    c <= ' '
        || c == '\u{7F}'
        || matches!(
            c,
            '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
        )
}

fn is_bidi_rtl(c: char) -> bool {
    matches!(
        CodePointMapData::<BidiClass>::new().get(c),
        BidiClass::RightToLeft | BidiClass::ArabicLetter | BidiClass::ArabicNumber
    )
}

/// UTS-46 validity criteria of one label (non-transitional, `CheckHyphens=false`,
/// `UseSTD3ASCIIRules=false`); joiners refused outright (conservative CONTEXTJ).
fn valid_label(label: &str) -> Result<(), String> {
    let validated: String = MAPPER.normalize_validate(label.chars()).collect();
    if validated != label || label.contains('\u{FFFD}') {
        return Err(format!("{label:?}: not NFC or not valid ({validated:?})"));
    }
    if label.starts_with("xn--") {
        return Err(format!("{label:?}: starts with xn--"));
    }
    if label.contains('.') {
        return Err(format!("{label:?}: contains a dot"));
    }
    if let Some(first) = label.chars().next()
        && GeneralCategoryGroup::Mark
            .contains(CodePointMapData::<GeneralCategory>::new().get(first))
    {
        return Err(format!("{label:?}: starts with a mark"));
    }
    if label.contains(['\u{200C}', '\u{200D}']) {
        return Err(format!("{label:?}: joiner (CONTEXTJ not modelled)"));
    }
    Ok(())
}

/// The host a browser visits for `domain` (already percent-decoded), by ICU4X's UTS-46
/// mapping: WHATWG "domain to ASCII" with `beStrict=false`.
fn browser_to_ascii(domain: &str) -> Result<String, String> {
    let mapped: String = MAPPER.map_normalize(domain.chars()).collect();
    let mut labels = Vec::new();
    for label in mapped.split('.') {
        let label = if let Some(rest) = label.strip_prefix("xn--") {
            if !label.is_ascii() {
                return Err(format!("{label:?}: non-ASCII A-label"));
            }
            let decoded = idna::punycode::decode_to_string(rest)
                .ok_or_else(|| format!("{label:?}: bad Punycode"))?;
            if decoded.is_empty() || decoded.is_ascii() {
                return Err(format!("{label:?}: decodes to ASCII"));
            }
            decoded
        } else {
            label.to_string()
        };
        valid_label(&label)?;
        labels.push(label);
    }
    if labels.iter().any(|l| l.chars().any(is_bidi_rtl)) {
        return Err("bidi domain (RFC 5893 rules not modelled)".into());
    }
    let mut out = String::new();
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_ascii() {
            out.push_str(label);
        } else {
            out.push_str("xn--");
            out.push_str(&idna::punycode::encode_str(label).ok_or("Punycode overflow")?);
        }
    }
    if out.is_empty() || out.contains(is_forbidden_domain_code_point) {
        return Err(format!("{out:?}: empty or forbidden domain code point"));
    }
    Ok(out)
}

/// If microvet accepts `host`, the answer must be the browser's: the ASCII text
/// [`to_ascii`] gives (ASCII case aside: `url` lowercases) is the browser's, which `url`
/// (a WHATWG parser for ASCII hosts) then parses as the browser does. [`to_ascii`] leaves
/// A-labels that are not sound Punycode to `url`, which must then refuse the URL: a host
/// counts as accepted when [`to_ascii`] accepts it and [`parse_url`] parses it. Returns
/// whether accepted.
fn agrees(host: &str) -> Result<bool, String> {
    let Ok(ours) = to_ascii(host) else {
        return Ok(false);
    };
    let decoded = String::from_utf8(percent_decode(host)).map_err(|e| e.to_string())?;
    let ours = String::from_utf8(percent_decode(&ours))
        .map_err(|e| e.to_string())?
        .to_ascii_lowercase();
    let theirs = browser_to_ascii(&decoded);
    if theirs.as_ref() == Ok(&ours) {
        return Ok(true);
    }
    match parse_url(&format!("https://{host}/")) {
        Err(_) => Ok(false),
        Ok(u) => Err(format!(
            "{host:?} (U+ {:04X?}): microvet {ours:?} (`url`: {:?}), browser {theirs:?}",
            host.chars()
                .filter(|c| !c.is_ascii())
                .map(u32::from)
                .collect::<Vec<_>>(),
            u.host_str()
        )),
    }
}

/// Characters that are the second of a primary composite: NFC may join them to the
/// character before (NFC_Quick_Check=Maybe).
fn composition_seconds() -> HashSet<char> {
    let decompose = CanonicalDecompositionBorrowed::new();
    let compose = CanonicalCompositionBorrowed::new();
    (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter_map(|c| match decompose.decompose(c) {
            Decomposed::Expansion(a, b) if compose.compose(a, b) == Some(c) => Some(b),
            _ => None,
        })
        .collect()
}

/// Every code point, alone and in a few host contexts: what microvet accepts, ICU maps to
/// the same text, and the whole host to the same A-labels. Accepted characters are also
/// checked to be safe in *any* sequence of accepted characters (starters that nothing
/// composes with, not marks, not right-to-left), which is what makes the per-character
/// comparison cover whole labels.
#[test]
fn accepted_code_points_map_as_icu_does() {
    let seconds = composition_seconds();
    let ccc = CodePointMapData::<CanonicalCombiningClass>::new();
    let gc = CodePointMapData::<GeneralCategory>::new();
    let mut mismatches = Vec::new();
    let mut accepted = 0usize;
    for c in (0x80..=0x10FFFFu32).filter_map(char::from_u32) {
        let a_label = format!(
            "xn--{}",
            idna::punycode::encode_str(&format!("a{c}b")).unwrap()
        );
        let Ok(m) = map_non_ascii(c) else {
            // Rejected characters stay rejected inside A-labels.
            if to_ascii(&a_label).is_ok() {
                mismatches.push(format!("{a_label:?} (U+{:04X}) accepted", u32::from(c)));
            }
            continue;
        };
        accepted += 1;
        let icu: String = MAPPER.map_normalize(std::iter::once(c)).collect();
        if icu != m.to_string() {
            mismatches.push(format!(
                "U+{:04X}: microvet {m:?}, ICU {icu:?}",
                u32::from(c)
            ));
            continue;
        }
        if !m.is_ascii() {
            let safe = ccc.get(m) == CanonicalCombiningClass::NotReordered
                && !seconds.contains(&m)
                && !GeneralCategoryGroup::Mark.contains(gc.get(m))
                && !is_bidi_rtl(m);
            if !safe {
                mismatches.push(format!("U+{:04X}: combines, mark or RTL", u32::from(m)));
            }
        }
        let hosts = [
            format!("a{c}b.example"),
            format!("{c}.example"),
            format!(
                "xn--{}.example",
                idna::punycode::encode_str(&c.to_string()).unwrap()
            ),
            a_label,
        ];
        for host in &hosts {
            if let Err(e) = agrees(host) {
                mismatches.push(e);
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches: {mismatches:#?}",
        mismatches.len()
    );
    // The accepted set is not empty by accident (letters, digits and dots of the blocks).
    assert!(accepted > 39_000, "{accepted}");
}

/// The oracle itself, on known vectors: it is a browser, not a copy of the module.
#[test]
fn oracle_vectors() {
    let ok = |h: &str| browser_to_ascii(h).unwrap();
    assert_eq!(ok("B\u{dc}cher.example"), "xn--bcher-kva.example");
    assert_eq!(ok("stra\u{df}e.de"), "xn--strae-oqa.de");
    assert_eq!(ok("\u{fb01}le.com"), "file.com");
    assert_eq!(ok("exa\u{ad}mple.com"), "example.com");
    assert_eq!(ok("bu\u{308}cher.com"), "xn--bcher-kva.com");
    assert_eq!(ok("a\u{3002}b\u{ff0e}c"), "a.b.c");
    assert_eq!(ok("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
    assert_eq!(ok("a_b.example"), "a_b.example");
    assert!(browser_to_ascii("a\u{ff0f}b.example").is_err());
    assert!(browser_to_ascii("xn--a.example").is_err());
    assert!(browser_to_ascii("\u{301}a.example").is_err());
    assert!(browser_to_ascii("\u{5d0}.example").is_err());
    assert!(browser_to_ascii("a\u{e000}b").is_err());
}

proptest! {
    /// Random hosts over the accepted blocks and their neighbours (uppercase, fullwidth,
    /// dots, digits, hyphens, `xn--` prefixes, escapes): accepted ones agree with ICU.
    #[test]
    fn accepted_hosts_agree_with_icu(
        labels in proptest::collection::vec(
            (
                any::<bool>(),
                "[a-zA-Z0-9\u{c0}-\u{24f}\u{370}-\u{4ff}\u{1e00}-\u{1eff}\u{3040}-\u{30ff}\u{4e00}-\u{4e0f}\u{ac00}-\u{ac0f}\u{ff01}-\u{ff5e}\u{3002}\u{ff61}-]{1,8}",
            ),
            1..4,
        ),
        escape in any::<bool>(),
    ) {
        let host = labels
            .iter()
            .map(|(a, l)| if *a {
                format!("xn--{}", idna::punycode::encode_str(l).unwrap())
            } else {
                l.clone()
            })
            .collect::<Vec<_>>()
            .join(".");
        let host = if escape {
            host.replace('\u{fc}', "%C3%BC").replace('a', "%61")
        } else {
            host
        };
        prop_assert!(agrees(&host).is_ok(), "{:?}", agrees(&host));
    }
}
