//! Internationalised host names without Unicode tables.
//!
//! The component is built with `idna_adapter` 1.0 (see `core/Cargo.toml`): `url` then
//! parses only ASCII hosts. This module maps a host the way a browser's UTS-46 processing
//! would, for the part of Unicode it can map *faithfully* with a few ranges and no tables,
//! and rejects everything else:
//!
//! - U+3002 `。`, U+FF0E `．` and U+FF61 `｡` are label separators (`.`);
//! - fullwidth ASCII letters and digits (U+FF10..U+FF5A) are their ASCII forms; fullwidth
//!   punctuation other than `．` and `－` is rejected (it maps to URL syntax or wildcards);
//! - letters are lowercased; only letters of a few blocks that UTS-46 keeps unchanged
//!   (Latin-1, Latin Extended-A and Additional, Greek, Cyrillic, kana, CJK, Hangul
//!   syllables) are accepted, each NFC-stable with combining class 0, so a label of them
//!   is NFC;
//! - every non-ASCII label becomes an A-label (`xn--` + Punycode, RFC 3492).
//!
//! Rejected, with the reason: combining marks (the text may not be NFC), invisible and
//! formatting characters (zero-width, bidi controls, variation selectors, non-ASCII
//! spaces), right-to-left characters (bidi rules are not checked), the IDNA deviation
//! characters `ß` and `ς` (browsers disagree on their A-label), other characters, and
//! A-labels that decode to any of these. Stricter than a browser, never looser: whatever
//! is accepted maps to the host a browser visits. That was checked once, outside the test
//! suite, against `url` 2.5.8 with the ICU4X back end (`idna_adapter` 1.2.2) for every code
//! point in five host contexts, every 1- and 2-character A-label and 2M random URLs (no
//! mismatch where this module accepts, 2026-11-29). The suite now makes the same check on
//! every code point (`idn/icu_oracle.rs`, ICU4X's UTS-46 mapping as a dev-dependency, never
//! in the component); the tests below pin known vectors.

use std::borrow::Cow;
use std::fmt;

/// Why a host cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A combining mark: the text may not be in Unicode normalisation form C.
    CombiningMark(char),
    /// Zero-width, bidi control, variation selector, soft hyphen, non-ASCII space...
    Invisible(char),
    /// A right-to-left character: the IDNA bidi rules are not checked here.
    RightToLeft(char),
    /// `ß` or `ς`: transitional and non-transitional IDNA give different A-labels.
    Deviation(char),
    /// A fullwidth character that maps to ASCII punctuation (`／`, `＠`, `＊`...).
    FullwidthPunctuation(char),
    /// Any other character outside the mapped subset.
    Unsupported(char),
    /// A non-ASCII label that starts with `xn--`.
    PrefixedULabel(String),
    /// An A-label (`xn--`) that decodes to something this module would not accept.
    ALabel(String),
    /// Percent-escapes in the host that are not UTF-8.
    InvalidUtf8,
    /// URL syntax (`/`, `?`, `@`, `%`...) after mapping or percent-decoding.
    Syntax(char),
    /// A label too long for Punycode.
    TooLong,
}

/// A host that cannot be mapped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The host as written.
    pub host: String,
    pub why: Why,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = |c: &char| format!("U+{:04X}", u32::from(*c));
        match self {
            Why::CombiningMark(c) => write!(
                f,
                "the combining mark {} (the text may not be in normalisation form C)",
                u(c)
            ),
            Why::Invisible(c) => write!(f, "the invisible or formatting character {}", u(c)),
            Why::RightToLeft(c) => write!(
                f,
                "the right-to-left character {} (bidi rules are not checked)",
                u(c)
            ),
            Why::Deviation(c) => write!(
                f,
                "`{c}` ({}), whose A-label browsers disagree on (IDNA deviation character)",
                u(c)
            ),
            Why::FullwidthPunctuation(c) => write!(
                f,
                "the fullwidth `{c}` ({}), which browsers read as URL syntax",
                u(c)
            ),
            Why::Unsupported(c) => {
                write!(f, "`{c}` ({}), outside the characters microvet maps", u(c))
            }
            Why::PrefixedULabel(l) => write!(f, "the non-ASCII label `{l}` starting with `xn--`"),
            Why::ALabel(l) => write!(f, "the A-label `{l}`, which decodes to a disallowed label"),
            Why::InvalidUtf8 => write!(f, "percent-escapes that are not UTF-8"),
            Why::Syntax(c) => write!(f, "`{c}` after mapping, which is URL syntax"),
            Why::TooLong => write!(f, "a label too long for Punycode"),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host `{}` contains {}", self.host, self.why)
    }
}

/// Code points UTS-46 keeps unchanged that this module accepts: lowercase (or caseless)
/// letters of a few blocks, NFC-stable, combining class 0, left-to-right.
fn is_kept_letter(c: char) -> bool {
    let n = u32::from(c);
    match n {
        // Latin-1 Supplement (not `÷`; `ß` is a deviation character).
        0xE0..=0xFF => n != 0xF7,
        // Latin Extended-A and Additional, Greek, Cyrillic: lowercase letters that are
        // not compatibility characters (UTS-46 maps those: `ĳ`, `ŀ`, `ŉ`, `ſ`, `ẚ`, `ẛ`).
        0x0100..=0x017F | 0x1E00..=0x1EFF | 0x0390..=0x03CE | 0x0430..=0x04FF => {
            !matches!(
                n,
                0x0133 | 0x0140 | 0x0149 | 0x017F | 0x1E9A | 0x1E9B | 0x03C2
            ) && c.is_lowercase()
                && !c.is_uppercase()
        }
        // Hiragana and Katakana letters and marks of repetition and length (not the
        // combining voicing marks U+3099/U+309A, `゛゜`, `ゟ`, `・` or `ヿ`).
        0x3041..=0x3096 | 0x309D..=0x309E | 0x30A1..=0x30FA | 0x30FC..=0x30FE => true,
        // CJK Unified Ideographs as of Unicode 3.0 (Extension A and the URO).
        0x3400..=0x4DB5 | 0x4E00..=0x9FA5 => true,
        // Hangul syllables (precomposed: NFC-stable; conjoining jamo are not accepted).
        0xAC00..=0xD7A3 => true,
        _ => false,
    }
}

/// Why a character outside the accepted set is rejected.
fn classify_rejected(c: char) -> Why {
    let n = u32::from(c);
    match n {
        0xDF | 0x03C2 | 0x1E9E => Why::Deviation(c),
        0x0300..=0x036F
        | 0x0483..=0x0489
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x20D0..=0x20FF
        | 0x302A..=0x302F
        | 0x3099..=0x309A
        | 0xFE20..=0xFE2F => Why::CombiningMark(c),
        0xAD
        | 0x061C
        | 0x115F..=0x1160
        | 0x17B4..=0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200F
        | 0x2028..=0x202F
        | 0x205F..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xFFF0..=0xFFFB
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF => Why::Invisible(c),
        0x0590..=0x08FF
        | 0xFB1D..=0xFDFF
        | 0xFE70..=0xFEFE
        | 0x10800..=0x10FFF
        | 0x1E800..=0x1EFFF => Why::RightToLeft(c),
        _ if c.is_whitespace() || c.is_control() => Why::Invisible(c),
        _ => Why::Unsupported(c),
    }
}

/// Map one non-ASCII character of a host: `Ok('.')` for a label separator, an ASCII
/// letter or digit for its fullwidth form, or a lowercase letter kept by UTS-46.
fn map_non_ascii(c: char) -> Result<char, Why> {
    let n = u32::from(c);
    match n {
        0x3002 | 0xFF0E | 0xFF61 => return Ok('.'),
        0xFF01..=0xFF5E => {
            let ascii = char::from_u32(n - 0xFEE0).unwrap_or('\u{FFFD}');
            return if ascii.is_ascii_alphanumeric() || ascii == '-' {
                Ok(ascii.to_ascii_lowercase())
            } else {
                Err(Why::FullwidthPunctuation(c))
            };
        }
        _ => {}
    }
    if is_kept_letter(c) {
        return Ok(c);
    }
    // An uppercase letter of the accepted blocks: its one-character lowercase form.
    let mut lower = c.to_lowercase();
    if let (Some(l), None) = (lower.next(), lower.next())
        && l != c
        && is_kept_letter(l)
        && ((0x0C0..=0x04FF).contains(&n) || (0x1E00..=0x1EFF).contains(&n))
    {
        return Ok(l);
    }
    Err(classify_rejected(c))
}

/// WHATWG forbidden domain code points that are URL syntax (plus controls and space).
fn is_syntax(c: char) -> bool {
    c <= ' '
        || c == '\u{7F}'
        || matches!(
            c,
            '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
        )
}

/// Check an ASCII label: an `xn--` label must decode to a label this module would have
/// produced (accepted letters, already lowercase). Labels that are not valid Punycode are
/// left to `url`, which rejects them.
fn check_a_label(label: &str) -> Result<(), Why> {
    let Some(rest) = label
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("xn--"))
        .and_then(|_| label.get(4..))
    else {
        return Ok(());
    };
    let Some(decoded) = idna::punycode::decode_to_string(&rest.to_ascii_lowercase()) else {
        return Ok(());
    };
    let fine = decoded.chars().all(|c| {
        if c.is_ascii() {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        } else {
            map_non_ascii(c) == Ok(c) && c != '.'
        }
    });
    if fine {
        Ok(())
    } else {
        Err(Why::ALabel(label.to_string()))
    }
}

/// Percent-decode `%XX` escapes with the decoder `url` uses (exactly two hex digits; other
/// `%` are kept as they are).
fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// The ASCII form of a domain as written in a URL (percent-escapes allowed): what a
/// browser visits, or why it cannot be told without Unicode tables. ASCII hosts without
/// escapes of non-ASCII come back unchanged (`url` lowercases and checks them).
pub fn to_ascii(host: &str) -> Result<Cow<'_, str>, Rejection> {
    let reject = |why| Rejection {
        host: host.to_string(),
        why,
    };
    // Percent-decoded first: `%78n--` is the A-label prefix `xn--` to `url` and a browser.
    let decoded: Cow<'_, str> = if host.contains('%') {
        Cow::Owned(String::from_utf8(percent_decode(host)).map_err(|_| reject(Why::InvalidUtf8))?)
    } else {
        Cow::Borrowed(host)
    };
    if decoded.is_ascii() {
        for label in decoded.split('.') {
            check_a_label(label).map_err(reject)?;
        }
        // `url` decodes ASCII escapes itself, exactly as a browser does.
        return Ok(Cow::Borrowed(host));
    }
    let mut mapped = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        let m = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            map_non_ascii(c).map_err(reject)?
        };
        if is_syntax(m) {
            return Err(reject(Why::Syntax(m)));
        }
        mapped.push(m);
    }
    let mut out = String::with_capacity(mapped.len() + 8);
    for (i, label) in mapped.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_ascii() {
            check_a_label(label).map_err(reject)?;
            out.push_str(label);
        } else if label.starts_with("xn--") {
            return Err(reject(Why::PrefixedULabel(label.to_string())));
        } else {
            let puny = idna::punycode::encode_str(label).ok_or_else(|| reject(Why::TooLong))?;
            out.push_str("xn--");
            out.push_str(&puny);
        }
    }
    Ok(Cow::Owned(out))
}

/// The Unicode form of an ASCII domain: `xn--` labels decoded (others unchanged).
pub fn to_unicode(host: &str) -> String {
    let mut out = String::with_capacity(host.len());
    for (i, label) in host.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        let decoded = label
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("xn--"))
            .and_then(|_| label.get(4..))
            .and_then(|rest| idna::punycode::decode_to_string(&rest.to_ascii_lowercase()))
            .filter(|u| !u.is_ascii());
        match decoded {
            Some(u) => out.push_str(&u),
            None => out.push_str(label),
        }
    }
    out
}

/// Schemes whose URLs have a domain host in WHATWG URL (`file` aside), ASCII
/// case-insensitive.
pub(crate) fn is_special(scheme: &str) -> bool {
    ["http", "https", "ws", "wss", "ftp"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
}

/// The byte range of the host in a URL with a special scheme, as the WHATWG parser finds
/// it: slashes and backslashes after the scheme skipped, the authority ending at `/`, `\`,
/// `?` or `#`, the host after the last `@` and before a `:` outside brackets.
fn special_host_span(text: &str) -> Option<(usize, usize)> {
    special_authority(text).map(|(_, host, end)| (host, end))
}

/// [`special_host_span`] with the start of the authority (where userinfo would begin).
fn special_authority(text: &str) -> Option<(usize, usize, usize)> {
    let colon = text.find(':')?;
    let scheme = text.get(..colon)?;
    if !is_special(scheme) {
        return None;
    }
    let after = text.get(colon + 1..)?;
    let start = colon + 1 + (after.len() - after.trim_start_matches(['/', '\\']).len());
    let rest = text.get(start..)?;
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let hostport = authority.get(host_start..)?;
    let mut in_brackets = false;
    let mut host_len = hostport.len();
    for (i, c) in hostport.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => {
                host_len = i;
                break;
            }
            _ => {}
        }
    }
    Some((start, start + host_start, start + host_start + host_len))
}

/// `text` as a browser reads it before parsing: C0 controls and spaces trimmed, tabs and
/// newlines dropped.
fn cleaned(text: &str) -> Cow<'_, str> {
    let needs_cleaning = text.contains(['\t', '\n', '\r'])
        || text.starts_with(|c: char| c <= ' ')
        || text.ends_with(|c: char| c <= ' ');
    if needs_cleaning {
        Cow::Owned(
            text.trim_matches(|c: char| c <= ' ')
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// The userinfo of a URL with a special scheme, split off without reading the host (which
/// may be one [`to_ascii`] rejects): the text with the host replaced by the placeholder
/// `h.invalid` (for `url` to parse the rest), the text without its userinfo, and the
/// userinfo as written (without the `@`). `None` unless the scheme is special and there is
/// an `@` in the authority.
pub(crate) struct Userinfo {
    pub placeholder: String,
    pub without: String,
    pub userinfo: String,
}

/// See [`Userinfo`].
pub(crate) fn userinfo(text: &str) -> Option<Userinfo> {
    let text = cleaned(text);
    let (start, host, end) = special_authority(&text)?;
    if host <= start {
        return None;
    }
    let userinfo = text.get(start..host.checked_sub(1)?)?;
    Some(Userinfo {
        placeholder: format!("{}h.invalid{}", text.get(..host)?, text.get(end..)?),
        without: format!("{}{}", text.get(..start)?, text.get(host..)?),
        userinfo: userinfo.to_string(),
    })
}

/// Parse an absolute URL as a browser would, IDN hosts included: [`url_text`] maps a
/// Unicode host to its A-labels first (the `url` crate is built with the ASCII-only IDNA
/// back end to keep the component small), then `url` parses. The error is a sentence.
pub fn parse_url(text: &str) -> Result<url::Url, String> {
    let ascii = url_text(text).map_err(|e| e.to_string())?;
    url::Url::parse(&ascii).map_err(|e| e.to_string())
}

/// The text to give `url` for a redirect URI: unchanged unless the host of a special
/// URL has non-ASCII (or percent-escaped non-ASCII), which is replaced by its ASCII form.
/// Tabs and newlines are dropped and C0 controls and spaces trimmed first when the host
/// is rewritten, as a browser does (`url` does the same with unchanged text).
pub fn url_text(text: &str) -> Result<Cow<'_, str>, Rejection> {
    if let Cow::Owned(cleaned) = cleaned(text) {
        return match url_text(&cleaned)? {
            Cow::Borrowed(_) => Ok(Cow::Borrowed(text)),
            Cow::Owned(s) => Ok(Cow::Owned(s)),
        };
    }
    let Some((start, end)) = special_host_span(text) else {
        return Ok(Cow::Borrowed(text));
    };
    let host = text.get(start..end).unwrap_or_default();
    if host.is_ascii() && !host.contains('%') && !has_a_label(host) {
        // Nothing to map and no A-label to check: `url` reads it as a browser does.
        return Ok(Cow::Borrowed(text));
    }
    match to_ascii(host)? {
        Cow::Borrowed(_) => Ok(Cow::Borrowed(text)),
        Cow::Owned(ascii) => {
            let mut out = String::with_capacity(text.len() + ascii.len());
            out.push_str(text.get(..start).unwrap_or_default());
            out.push_str(&ascii);
            out.push_str(text.get(end..).unwrap_or_default());
            Ok(Cow::Owned(out))
        }
    }
}

/// Whether a label of the host starts with `xn--` (any case).
fn has_a_label(host: &str) -> bool {
    host.split('.')
        .any(|l| l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
}

#[cfg(test)]
mod icu_oracle;

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percent_decoding_is_the_whatwg_one() {
        // Exactly two hex digits after `%`, as `url` decodes hosts; `%+6` is not an escape.
        assert_eq!(
            percent_decode("a%41%c3%BC%+61%4%"),
            b"aA\xc3\xbc%+61%4%".to_vec()
        );
    }

    fn ascii(host: &str) -> String {
        to_ascii(host).unwrap().into_owned()
    }

    fn why(host: &str) -> Why {
        to_ascii(host).unwrap_err().why
    }

    #[test]
    fn known_a_labels() {
        assert_eq!(ascii("b\u{fc}cher"), "xn--bcher-kva");
        assert_eq!(ascii("B\u{dc}CHER.example"), "xn--bcher-kva.example");
        assert_eq!(ascii("m\u{fc}nchen.de"), "xn--mnchen-3ya.de");
        // Cyrillic homographs of Latin letters.
        assert_eq!(ascii("ex\u{430}mple.com"), "xn--exmple-4nf.com");
        assert_eq!(
            ascii("\u{430}\u{440}\u{440}\u{4cf}\u{435}.com"),
            "xn--80ak6aa92e.com"
        );
        assert_eq!(
            ascii("\u{410}\u{420}\u{420}\u{4cf}\u{415}.com"),
            "xn--80ak6aa92e.com"
        );
        assert_eq!(
            ascii("\u{440}\u{443}\u{441}.\u{440}\u{444}"),
            "xn--p1acf.xn--p1ai"
        );
        assert_eq!(ascii("\u{3b5}\u{3bb}"), "xn--qxam");
        assert_eq!(
            ascii("\u{4f8b}\u{3048}.\u{30c6}\u{30b9}\u{30c8}"),
            "xn--r8jz45g.xn--zckzah"
        );
        assert_eq!(ascii("\u{d55c}\u{ad6d}"), "xn--3e0b707e");
        assert_eq!(ascii("ex\u{e4}mple.com"), "xn--exmple-cua.com");
    }

    /// RFC 3492 §7.1 samples whose characters are in the accepted set (the others are
    /// Arabic, Hebrew, Devanagari or contain ASCII uppercase/digit mixes Punycode keeps).
    #[test]
    fn rfc3492_samples() {
        // (A) Arabic (Egyptian): right-to-left, rejected.
        assert!(matches!(
            why(
                "\u{644}\u{64a}\u{647}\u{645}\u{627}\u{628}\u{62a}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64a}\u{61f}"
            ),
            Why::RightToLeft(_)
        ));
        // (B) Chinese (simplified).
        assert_eq!(
            ascii("\u{4ed6}\u{4eec}\u{4e3a}\u{4ec0}\u{4e48}\u{4e0d}\u{8bf4}\u{4e2d}\u{6587}"),
            "xn--ihqwcrb4cv8a8dqg056pqjye"
        );
        // (C) Chinese (traditional).
        assert_eq!(
            ascii("\u{4ed6}\u{5011}\u{7232}\u{4ec0}\u{9ebd}\u{4e0d}\u{8aaa}\u{4e2d}\u{6587}"),
            "xn--ihqwctvzc91f659drss3x8bo0yb"
        );
        // (D) Czech (lowercased by UTS-46 first: the sample has an uppercase P).
        assert_eq!(
            ascii("Pro\u{10d}prost\u{11b}nemluv\u{ed}\u{10d}esky"),
            format!(
                "xn--{}",
                idna::punycode::encode_str("pro\u{10d}prost\u{11b}nemluv\u{ed}\u{10d}esky")
                    .unwrap()
            )
        );
        assert_eq!(
            idna::punycode::encode_str("Pro\u{10d}prost\u{11b}nemluv\u{ed}\u{10d}esky").unwrap(),
            "Proprostnemluvesky-uyb24dma41a"
        );
        // (E) Hebrew: right-to-left, rejected.
        assert!(matches!(why("\u{5dc}\u{5de}\u{5d4}"), Why::RightToLeft(_)));
        // (I) Russian (lowercased: the sample's `D` and `P` in Punycode are uppercase hints).
        assert_eq!(
            ascii(
                "\u{43f}\u{43e}\u{447}\u{435}\u{43c}\u{443}\u{436}\u{435}\u{43e}\u{43d}\u{438}\u{43d}\u{435}\u{433}\u{43e}\u{432}\u{43e}\u{440}\u{44f}\u{442}\u{43f}\u{43e}\u{440}\u{443}\u{441}\u{441}\u{43a}\u{438}"
            ),
            "xn--b1abfaaepdrnnbgefbadotcwatmq2g4l"
        );
        // (J) Spanish.
        assert_eq!(
            ascii("porqu\u{e9}nopuedensimplementehablarenespa\u{f1}ol"),
            "xn--porqunopuedensimplementehablarenespaol-fmd56a"
        );
        // (K) Vietnamese.
        assert_eq!(
            ascii(
                "t\u{1ea1}isaoh\u{1ecd}kh\u{f4}ngth\u{1ec3}ch\u{1ec9}n\u{f3}iti\u{1ebf}ngvi\u{1ec7}t"
            ),
            "xn--tisaohkhngthchnitingvit-kjcr8268qyxafd2f1b9g"
        );
        // (L) Japanese with ASCII: `3年B組金八先生` (uppercase B lowercased).
        assert_eq!(
            ascii("3\u{5e74}b\u{7d44}\u{91d1}\u{516b}\u{5148}\u{751f}"),
            "xn--3b-ww4c5e180e575a65lsy2b"
        );
        // (M)..(R) Japanese.
        assert_eq!(
            ascii("\u{5b89}\u{5ba4}\u{5948}\u{7f8e}\u{6075}-with-super-monkeys"),
            "xn---with-super-monkeys-pc58ag80a8qai00g7n9n"
        );
        assert_eq!(
            ascii("\u{3072}\u{3068}\u{3064}\u{5c4b}\u{6839}\u{306e}\u{4e0b}2"),
            "xn--2-u9tlzr9756bt3uc0v"
        );
        assert_eq!(
            ascii("maji\u{3067}koi\u{3059}\u{308b}5\u{79d2}\u{524d}"),
            "xn--majikoi5-783gue6qz075azm5e"
        );
        assert_eq!(
            ascii("\u{30d1}\u{30d5}\u{30a3}\u{30fc}de\u{30eb}\u{30f3}\u{30d0}"),
            "xn--de-jg4avhby1noc0d"
        );
        assert_eq!(
            ascii("\u{305d}\u{306e}\u{30b9}\u{30d4}\u{30fc}\u{30c9}\u{3067}"),
            "xn--d9juau41awczczp"
        );
    }

    #[test]
    fn separators_fullwidth_and_case() {
        assert_eq!(
            ascii("apps.example.com\u{3002}evil.io"),
            "apps.example.com.evil.io"
        );
        assert_eq!(ascii("apps\u{ff0e}example\u{ff61}com"), "apps.example.com");
        assert_eq!(
            ascii("\u{ff21}\u{ff50}\u{ff50}\u{ff53}.example.com"),
            "apps.example.com"
        );
        assert_eq!(ascii("\u{ff11}\u{ff12}\u{ff17}.0.0.1"), "127.0.0.1");
        assert_eq!(ascii("b%C3%BCcher.example"), "xn--bcher-kva.example");
        // ASCII hosts are left to `url` as written.
        assert_eq!(
            to_ascii("Apps.Example.com"),
            Ok(Cow::Borrowed("Apps.Example.com"))
        );
        assert_eq!(
            to_ascii("%61pps.example.com"),
            Ok(Cow::Borrowed("%61pps.example.com"))
        );
    }

    #[test]
    fn what_cannot_be_mapped_faithfully_is_rejected() {
        assert_eq!(why("exa\u{200b}mple.com"), Why::Invisible('\u{200b}'));
        assert_eq!(why("exa\u{200d}mple.com"), Why::Invisible('\u{200d}'));
        assert_eq!(why("exa\u{ad}mple.com"), Why::Invisible('\u{ad}'));
        assert_eq!(why("exa\u{202e}mple.com"), Why::Invisible('\u{202e}'));
        assert_eq!(why("example\u{fe0f}.com"), Why::Invisible('\u{fe0f}'));
        assert_eq!(why("exa\u{a0}mple.com"), Why::Invisible('\u{a0}'));
        assert_eq!(why("exa\u{3000}mple.com"), Why::Invisible('\u{3000}'));
        // `bu` + combining diaeresis is `bü` in NFC: not composed here, rejected.
        assert_eq!(why("bu\u{308}cher.com"), Why::CombiningMark('\u{308}'));
        assert_eq!(why("stra\u{df}e.de"), Why::Deviation('\u{df}'));
        assert_eq!(why("\u{3c2}.gr"), Why::Deviation('\u{3c2}'));
        assert_eq!(why("\u{5d0}.com"), Why::RightToLeft('\u{5d0}'));
        // Compatibility characters UTS-46 maps (`ﬁ`, `ℯ`, `①`, math letters): unsupported.
        assert_eq!(why("\u{fb01}le.com"), Why::Unsupported('\u{fb01}'));
        assert_eq!(why("\u{212f}xample.com"), Why::Unsupported('\u{212f}'));
        assert_eq!(why("\u{1d41e}pps.com"), Why::Unsupported('\u{1d41e}'));
        assert_eq!(why("\u{130}.com"), Why::Unsupported('\u{130}'));
        // Fullwidth URL syntax and wildcards.
        assert_eq!(
            why("apps.example.com\u{ff0f}evil.io"),
            Why::FullwidthPunctuation('\u{ff0f}')
        );
        assert_eq!(
            why("\u{ff0a}.example.com"),
            Why::FullwidthPunctuation('\u{ff0a}')
        );
        assert_eq!(
            why("a\u{ff20}evil.io"),
            Why::FullwidthPunctuation('\u{ff20}')
        );
        // Percent-escapes: not UTF-8, or URL syntax once decoded next to non-ASCII.
        assert_eq!(why("b%FCcher.example"), Why::InvalidUtf8);
        assert_eq!(why("b\u{fc}cher%2Fevil.io"), Why::Syntax('/'));
        // `xn--` labels: a non-ASCII one, and A-labels decoding to rejected text.
        assert!(matches!(why("xn--b\u{fc}cher.com"), Why::PrefixedULabel(_)));
        let zw = format!(
            "xn--{}",
            idna::punycode::encode_str("exa\u{200b}mple").unwrap()
        );
        assert!(matches!(why(&format!("{zw}.com")), Why::ALabel(_)));
        // An uppercase non-ASCII letter inside an A-label (ASCII case does not matter).
        let upper = format!("xn--{}", idna::punycode::encode_str("b\u{dc}cher").unwrap());
        assert!(matches!(why(&upper), Why::ALabel(_)));
        assert_eq!(
            to_ascii("xn--Bcher-kva"),
            Ok(Cow::Borrowed("xn--Bcher-kva"))
        );
        // Valid A-labels pass as written.
        assert_eq!(
            to_ascii("xn--bcher-kva.example"),
            Ok(Cow::Borrowed("xn--bcher-kva.example"))
        );
        assert_eq!(
            to_ascii("XN--BCHER-KVA.example"),
            Ok(Cow::Borrowed("XN--BCHER-KVA.example"))
        );
    }

    /// An A-label prefix written with percent-escapes (`%78n--`, `%58N--`) is the prefix
    /// `url` and a browser see: the label is checked like `xn--` written out.
    #[test]
    fn escaped_a_label_prefixes_are_checked() {
        let zwj = idna::punycode::encode_str("exa\u{200d}mple").unwrap();
        for prefix in ["%78n--", "%58N--", "x%6E--", "%78%6E%2D%2D", "X%4e-%2d"] {
            let host = format!("{prefix}{zwj}.com");
            assert!(matches!(why(&host), Why::ALabel(_)), "{host}");
            let url = format!("https://{host}/cb");
            assert!(url_text(&url).is_err(), "{url}");
            assert!(parse_url(&url).is_err(), "{url}");
            // The same prefix before a sound A-label passes as written.
            let good = format!("{prefix}bcher-kva.com");
            assert_eq!(to_ascii(&good), Ok(Cow::Borrowed(good.as_str())));
        }
        // Escapes that are not UTF-8 are refused whether they decode to ASCII or not.
        assert_eq!(why("b%FCcher.example"), Why::InvalidUtf8);
    }

    #[test]
    fn special_schemes_any_case() {
        for s in ["http", "HTTPS", "Ws", "wss", "ftp"] {
            assert!(is_special(s), "{s}");
        }
        for s in ["file", "https+x", "com.example.app", ""] {
            assert!(!is_special(s), "{s}");
        }
    }

    #[test]
    fn unicode_forms() {
        assert_eq!(to_unicode("xn--exmple-4nf.com"), "ex\u{430}mple.com");
        assert_eq!(to_unicode("xn--bcher-kva.example"), "b\u{fc}cher.example");
        assert_eq!(to_unicode("apps.example.com"), "apps.example.com");
        // Not Punycode: kept as written.
        assert_eq!(to_unicode("xn--.com"), "xn--.com");
    }

    #[test]
    fn url_texts() {
        let t = |s: &str| url_text(s).map(Cow::into_owned);
        assert_eq!(
            t("https://ex\u{430}mple.com/cb?x=\u{430}"),
            Ok("https://xn--exmple-4nf.com/cb?x=\u{430}".into())
        );
        assert_eq!(
            t("https://user@b\u{fc}cher.example:8443/cb"),
            Ok("https://user@xn--bcher-kva.example:8443/cb".into())
        );
        // The WHATWG reading: backslashes are slashes, extra slashes skipped.
        assert_eq!(
            t("https:\\\\b\u{fc}cher.example\\cb"),
            Ok("https:\\\\xn--bcher-kva.example\\cb".into())
        );
        assert_eq!(
            t("  https://b\u{fc}\tcher.example/cb "),
            Ok("https://xn--bcher-kva.example/cb".into())
        );
        // Non-special schemes and non-ASCII outside the host are left to `url`.
        let same = [
            "com.example.app://h\u{f4}te/cb",
            "https://apps.example.com/\u{fc}?q=\u{fc}#\u{fc}",
        ];
        for s in same {
            assert!(matches!(url_text(s), Ok(Cow::Borrowed(_))), "{s}");
        }
        assert!(url_text("https://exa\u{200b}mple.com/cb").is_err());
    }

    /// Every accepted character maps to a character whose own mapping is itself, or to
    /// ASCII: mapping is idempotent.
    #[test]
    fn mapping_is_idempotent() {
        for n in 0x80..=0x10FFFFu32 {
            let Some(c) = char::from_u32(n) else { continue };
            if let Ok(m) = map_non_ascii(c)
                && !m.is_ascii()
            {
                assert_eq!(map_non_ascii(m), Ok(m), "U+{n:04X}");
            }
        }
    }

    proptest! {
        /// ASCII hosts: the mapping is the identity (after lowercasing) and nothing is
        /// rejected unless it has an `xn--` label.
        /// (Percent-escapes included: what matters is the decoded text, as `url` sees it.)
        #[test]
        fn ascii_is_identity(host in "([ -~]|%[0-7][0-9A-Fa-f]){0,40}") {
            match String::from_utf8(percent_decode(&host)) {
                Err(_) => prop_assert_eq!(to_ascii(&host).unwrap_err().why, Why::InvalidUtf8),
                Ok(d) if d.is_ascii() && !d.to_ascii_lowercase().contains("xn--") => {
                    let got = to_ascii(&host).unwrap();
                    prop_assert_eq!(got.to_ascii_lowercase(), host.to_ascii_lowercase());
                }
                Ok(_) => {}
            }
        }

        /// URL texts that are ASCII are given to `url` as they are.
        #[test]
        fn ascii_urls_unchanged(text in "([ -~]|%[0-7][0-9A-Fa-f]){0,60}") {
            if let Ok(decoded) = String::from_utf8(percent_decode(&text))
                && decoded.is_ascii()
                && !decoded.to_ascii_lowercase().contains("xn--")
            {
                prop_assert!(matches!(url_text(&text), Ok(Cow::Borrowed(_))));
            }
        }

        /// Percent-escaping ASCII characters of a host changes nothing about whether it
        /// is accepted: a label is judged by what `url` decodes it to.
        #[test]
        fn escapes_do_not_change_the_answer(
            label in "[a-z\u{e0}-\u{f6}\u{200b}-\u{200d}\u{308}\u{5d0}]{1,8}",
            prefixed in any::<bool>(),
            upper in any::<bool>(),
            escape in proptest::collection::vec(any::<bool>(), 40),
        ) {
            let a = idna::punycode::encode_str(&label).unwrap();
            let plain = match (prefixed, upper) {
                (true, true) => format!("XN--{a}.com"),
                (true, false) => format!("xn--{a}.com"),
                (false, _) => format!("{a}.com"),
            };
            let escaped: String = plain
                .chars()
                .zip(escape.iter().chain(std::iter::repeat(&false)))
                .map(|(c, &e)| if e { format!("%{:02X}", u32::from(c)) } else { c.to_string() })
                .collect();
            prop_assert_eq!(to_ascii(&plain).is_ok(), to_ascii(&escaped).is_ok(), "{}", escaped);
        }

        /// Accepted hosts come out as ASCII whose Unicode form is the lowercased input.
        #[test]
        fn round_trip(host in "[a-z0-9\u{e0}-\u{f6}\u{430}-\u{44f}\u{4e00}-\u{4e80}\u{ac00}-\u{ac80}.-]{1,30}") {
            let got = to_ascii(&host);
            if host.split('.').any(|l| l.starts_with("xn--")) {
                // The one legitimate failure: an `xn--` label, refused when non-ASCII,
                // judged as an A-label when ASCII.
                if let Err(e) = got {
                    prop_assert!(
                        matches!(e.why, Why::PrefixedULabel(_) | Why::ALabel(_)),
                        "{:?}: {}", host, e
                    );
                }
            } else {
                let a = got.map_err(|e| TestCaseError::fail(format!("{host:?}: {e}")))?;
                prop_assert!(a.is_ascii());
                prop_assert_eq!(to_unicode(&a), host.clone());
            }
        }
    }
}
