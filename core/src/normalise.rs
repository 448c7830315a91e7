//! The normal form values are matched in against the policy's allow and deny lists.
//!
//! A value is normalised by dropping Unicode's default-ignorable code points (soft hyphen,
//! zero-width characters, variation selectors, bidi controls, tags: they render as nothing),
//! applying NFKC (UAX #15: full-width `ａｄｍｉｎ` becomes `admin`, `＠` becomes `@`, U+3000
//! becomes a space) and trimming white space (Unicode `White_Space`) at both ends.
//! Case is not changed here: the matchers compare case-insensitively where a list is
//! about names (scope deny patterns, domains, hosts, schemes).
//!
//! The extraction in [`crate::manifest`] vets the normal form of every value matched
//! against a list, and reports a value whose raw form differs (`MV-SCHEMA-005`).

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 16.0; the
/// unit test checks the table against ICU4X's property data for every code point).
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Whether `c` is a default-ignorable code point (rendered as nothing).
pub fn is_default_ignorable(c: char) -> bool {
    let n = u32::from(c);
    if n < 0xAD {
        return false;
    }
    DEFAULT_IGNORABLE.iter().any(|&(lo, hi)| lo <= n && n <= hi)
}

/// The normal form of `s` (see the module documentation). Borrows when `s` is already
/// normal (printable ASCII without white space at either end: the common case).
pub fn normalise(s: &str) -> Cow<'_, str> {
    let plain =
        s.bytes().all(|b| (0x20..0x7F).contains(&b)) && !s.starts_with(' ') && !s.ends_with(' ');
    if plain {
        return Cow::Borrowed(s);
    }
    let out: String = s
        .chars()
        .filter(|c| !is_default_ignorable(*c))
        .nfkc()
        .filter(|c| !is_default_ignorable(*c))
        .collect();
    let trimmed = out.trim();
    if trimmed == s {
        Cow::Borrowed(s)
    } else if trimmed.len() == out.len() {
        Cow::Owned(out)
    } else {
        Cow::Owned(trimmed.to_string())
    }
}

/// `s` with what a reader cannot see made visible (`adm\u{ad}in`), for messages.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == ' ' || (c.is_ascii_graphic()) {
            out.push(c);
        } else if c.is_whitespace() || c.is_control() || is_default_ignorable(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn table_is_unicodes_default_ignorable_property() {
        let set = icu_properties::CodePointSetData::new::<
            icu_properties::props::DefaultIgnorableCodePoint,
        >();
        for n in 0..=0x10FFFFu32 {
            if let Some(c) = char::from_u32(n) {
                assert_eq!(is_default_ignorable(c), set.contains(c), "U+{n:04X}");
            }
        }
    }

    #[test]
    fn look_alikes_normalise_to_the_plain_name() {
        for raw in [
            " admin",
            "admin ",
            "\tadmin\n",
            "adm\u{ad}in",
            "ad\u{200b}min",
            "\u{feff}admin",
            "admin\u{fe0f}",
            "\u{202e}admin\u{202c}",
            "ａｄｍｉｎ",
            "\u{3000}admin\u{a0}",
            "a\u{e0061}dmin",
        ] {
            assert_eq!(normalise(raw), "admin", "{raw:?}");
        }
        assert_eq!(normalise("ｊａｎｅ＠ｇｍａｉｌ．ｃｏｍ"), "jane@gmail.com");
        assert!(matches!(normalise("hr.read_only"), Cow::Borrowed(_)));
        assert!(matches!(normalise("Files.ReadWrite.All"), Cow::Borrowed(_)));
        // Interior white space is kept: `ad min` is another name.
        assert_eq!(normalise(" ad min "), "ad min");
        // Already-normal non-ASCII text borrows too.
        assert!(matches!(normalise("café"), Cow::Borrowed(_)));
    }

    #[test]
    fn normalising_is_idempotent() {
        for raw in ["\u{3000}ａ\u{ad}ｂ ", "ﬁle", "Ⅻ", "e\u{301}", "\u{115f}x"] {
            let once = normalise(raw).into_owned();
            assert_eq!(normalise(&once), once, "{raw:?}");
        }
    }

    #[test]
    fn visible_shows_invisibles() {
        assert_eq!(visible("adm\u{ad}in"), "adm\\u{ad}in");
        assert_eq!(visible(" a\u{200b}"), " a\\u{200b}");
        assert_eq!(visible("ａ"), "ａ");
    }
}
