//! The normal form values are matched in against the policy's allow and deny lists.
//!
//! A value is normalised by dropping Unicode's default-ignorable code points (soft hyphen,
//! zero-width characters, variation selectors, bidi controls, tags: they render as nothing),
//! applying NFKC where it yields ASCII (UAX #15: full-width `ａｄｍｉｎ` becomes `admin`, `＠`
//! becomes `@`, U+3000 becomes a space; see [`normalise`]) and trimming white space (Unicode
//! `White_Space`) at both ends.
//! Case is not changed here: the matchers compare case-insensitively where a list is
//! about names (scope deny patterns, domains, hosts, schemes).
//!
//! The extraction in [`crate::manifest`] vets the normal form of every value matched
//! against a list, and reports a value whose raw form differs (`MV-SCHEMA-005`).

use std::borrow::Cow;
mod table;

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

/// Push the NFKC form of `c` when it is ASCII (full-width forms, mathematical
/// alphanumerics, ligatures, circled, super- and subscript letters and digits, Roman
/// numerals, compatibility spaces: [`table`]), else `c` itself.
fn push_folded(out: &mut String, c: char) {
    let n = u32::from(c);
    let run = table::RUNS.partition_point(|&(start, _, _)| start <= n);
    if let Some(&(start, len, first)) = run.checked_sub(1).and_then(|i| table::RUNS.get(i))
        && n < start + u32::from(len)
        && let Some(a) = u32::from(first)
            .checked_add(n - start)
            .and_then(char::from_u32)
    {
        out.push(a);
        return;
    }
    match table::MULTI.binary_search_by_key(&n, |&(k, _)| k) {
        Ok(i) => out.push_str(table::MULTI.get(i).map_or("", |m| m.1)),
        Err(_) => out.push(c),
    }
}

/// The normal form of `s` (see the module documentation). Borrows when `s` is already
/// normal (printable ASCII without white space at either end: the common case).
///
/// NFKC is applied where it yields ASCII, which is where it matters for matching: every
/// name in an allow or deny list that microvet compares against is ASCII (scope tokens,
/// RFC 6749 §3.3; mail domains; hosts after UTS-46). When NFKC of the whole value is ASCII,
/// this is exactly NFKC (the tests hold it to ICU4X's NFKC); other characters are kept, so
/// a value that stays non-ASCII matches no ASCII list entry and the scope-token and e-mail
/// checks report it. Shipping only this table instead of the full NFKC data (the
/// `unicode-normalization` crate) keeps the browser component ~68 KB gzip smaller.
pub fn normalise(s: &str) -> Cow<'_, str> {
    let plain =
        s.bytes().all(|b| (0x20..0x7F).contains(&b)) && !s.starts_with(' ') && !s.ends_with(' ');
    if plain {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if !is_default_ignorable(c) {
            push_folded(&mut out, c);
        }
    }
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

    /// Prints `table.rs` from ICU4X's NFKC: `cargo test -p microvet-core --lib
    /// print_ascii_table -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn print_ascii_table() {
        let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
        let mut runs: Vec<(u32, u16, u8)> = Vec::new();
        let mut multi: Vec<(u32, String)> = Vec::new();
        for n in 0x80..=0x10FFFFu32 {
            let Some(c) = char::from_u32(n) else { continue };
            let s = c.to_string();
            let k = nfkc.normalize(&s);
            if k == s || !k.is_ascii() || k.is_empty() {
                continue;
            }
            if k.len() == 1 {
                let a = k.as_bytes()[0];
                if let Some(last) = runs.last_mut()
                    && last.0 + u32::from(last.1) == n
                    && u32::from(last.2) + u32::from(last.1) == u32::from(a)
                {
                    last.1 += 1;
                    continue;
                }
                runs.push((n, 1, a));
            } else {
                multi.push((n, k.into_owned()));
            }
        }
        println!("BEGIN");
        println!("pub(super) const RUNS: &[(u32, u16, u8)] = &[");
        for (n, len, a) in &runs {
            println!("    (0x{n:04X}, {len}, 0x{a:02X}),");
        }
        println!("];");
        println!("pub(super) const MULTI: &[(u32, &str)] = &[");
        for (n, k) in &multi {
            println!("    (0x{n:04X}, {k:?}),");
        }
        println!("];");
        println!("END");
    }

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

    /// docs/LIMITS.md: the normal form is at most 4/3 of the input's bytes.
    #[test]
    fn folding_grows_text_by_at_most_a_third() {
        for &(n, k) in table::MULTI {
            let c = char::from_u32(n).unwrap();
            assert!(3 * k.len() <= 4 * c.len_utf8(), "U+{n:04X} -> {k}");
        }
    }

    #[test]
    fn table_is_icu4x_nfkc_where_it_yields_ascii() {
        let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
        for n in 0x80..=0x10FFFFu32 {
            let Some(c) = char::from_u32(n) else { continue };
            if is_default_ignorable(c) {
                continue;
            }
            let s = c.to_string();
            let want = nfkc.normalize(&s);
            let mut got = String::new();
            push_folded(&mut got, c);
            if want.is_ascii() {
                assert_eq!(got, want, "U+{n:04X}");
            } else {
                assert_eq!(got, s, "U+{n:04X} is kept");
            }
        }
    }

    proptest::proptest! {
        /// Where NFKC of a whole value is ASCII, the normal form is exactly NFKC (trimmed,
        /// without default-ignorables).
        #[test]
        fn normal_form_is_nfkc_when_nfkc_is_ascii(
            s in "[a-z.: @\\u{a0}\\u{ad}\\u{200b}\\u{301}\\u{3000}\\u{ff21}-\\u{ff3a}\\u{1d400}-\\u{1d433}\\u{2160}-\\u{217f}\\u{fb00}-\\u{fb06}\\u{e9}\\u{2474}-\\u{2487}]{0,12}"
        ) {
            let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
            let without: String = s.chars().filter(|c| !is_default_ignorable(*c)).collect();
            let want = nfkc.normalize(&without);
            if want.is_ascii() {
                let got = normalise(&s);
                proptest::prop_assert_eq!(got.as_ref(), want.trim());
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
