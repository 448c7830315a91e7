//! Hostile input gets a clear error naming what and where, never a panic or a hang.
//! (Limits are documented in docs/LIMITS.md.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{ErrorCode, Policy};
use proptest::prelude::*;

fn policy() -> Policy {
    Policy::builtin().unwrap()
}

#[test]
fn billion_laughs_alias_bomb_is_a_limit_error() {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        s.push_str(&format!(
            "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = n;
    }
    let e = policy().vet(&s).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.message.contains("nodes"), "{e:?}");
    assert!(e.help.as_deref().unwrap_or("").contains("alias"));
    assert!(e.line.is_some());
}

#[test]
fn ten_megabyte_document_is_refused_before_parsing() {
    let s = format!("name: big\npurpose: \"{}\"\n", "x".repeat(10 * 1024 * 1024));
    let e = policy().vet(&s).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.message.contains("bytes"));
}

#[test]
fn ten_thousand_levels_of_nesting() {
    for s in [
        "[".repeat(10_000) + &"]".repeat(10_000),
        "{a: ".repeat(10_000) + &"}".repeat(10_000),
        "- ".repeat(10_000) + "x",
    ] {
        let e = policy().vet(&s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit, "{e:?}");
        assert!(e.message.contains("nesting"), "{e:?}");
    }
}

/// Limits hold for documents in the loader's fast-path subset too (plain block and
/// single-line flow YAML): the fast path declines and the full loader reports them.
#[test]
fn limits_hold_for_plain_block_and_flow_documents() {
    let mut deep = String::new();
    for i in 0..70 {
        deep.push_str(&" ".repeat(i));
        deep.push_str("a:\n");
    }
    deep.push_str(&" ".repeat(70));
    deep.push_str("b: 1\n");
    let flow_deep = "a: ".to_string() + &"{a: ".repeat(70) + "1" + &"}".repeat(70) + "\n";
    for s in [deep, flow_deep] {
        let e = policy().vet(&s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit, "{e:?}");
        assert!(e.message.contains("nesting deeper than 64"), "{e:?}");
    }
    let wide_flow = format!("name: a\nitems: [{}x]\n", "x, ".repeat(100_000));
    let wide_block = format!("name: a\nitems:\n{}", "  - x\n".repeat(100_000));
    for s in [wide_flow, wide_block] {
        assert!(s.len() < 1024 * 1024);
        let e = policy().vet(&s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit, "{e:?}");
        assert!(e.message.contains("more than 100000 nodes"), "{e:?}");
    }
    let e = policy()
        .vet("name: a\nclient: {grant_types: [x], grant_types: [y]}\n")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Structure);
    assert!(e.message.contains("duplicate key `grant_types`"), "{e:?}");
    let e = policy().vet("name: a\n---\nname: b\n").unwrap_err();
    assert_eq!(e.code, ErrorCode::Structure);
    assert_eq!(e.line, Some(2));
}

#[test]
fn nul_bytes_are_named_with_their_line() {
    let e = policy()
        .vet("name: a\nowner: b\0@example.com\n")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Syntax);
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("NUL"));
}

#[test]
fn duplicate_keys_name_both_lines() {
    let e = policy()
        .vet("name: a\nexpiry_days: 30\nowner: x@example.com\nexpiry_days: 365\n")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Structure);
    assert_eq!(e.line, Some(4));
    assert!(
        e.message.contains("`expiry_days`") && e.message.contains("line 2"),
        "{e:?}"
    );
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = policy()
        .vet("name: a\nowner: [x\npurpose: y\n")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Syntax);
    assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    assert!(e.help.is_some());
}

#[test]
fn odd_but_valid_documents_are_findings_not_errors() {
    // Tags, anchors, odd scalars, a huge number, unicode: still a verdict.
    let text = "name: !!str 123\nowner: &o \"ops@example.com\"\ncontact_copy: *o\nexpiry_days: 99999999999999999999\npurpose: \"\u{202e}txet desrever\"\n";
    let v = policy().vet(text).unwrap();
    assert!(!v.findings.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text never panics: it is a verdict or a typed error.
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let p = policy();
        match p.vet(&s) {
            Ok(v) => prop_assert!(v.risk.score <= 100),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    /// YAML-shaped noise (keys, indentation, flow markers, anchors) never panics either.
    #[test]
    fn yaml_shaped_noise_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("name: "), Just("owner: "), Just("\n"), Just("  "), Just("- "), Just("["), Just("]"), Just("{"), Just("}"),
        Just(", "), Just(": "), Just("&a "), Just("*a"), Just("'"), Just("\""), Just("? "), Just("|\n"), Just(">\n"),
        Just("oauth_scopes"), Just("client"), Just("redirect_uris"), Just("https://a.example.com/cb"), Just("#"), Just("---\n"),
        Just("!!str "), Just("\t"), Just("x"), Just("42"),
    ], 0..60)) {
        let s: String = parts.concat();
        let _ = policy().vet(&s);
    }
}
