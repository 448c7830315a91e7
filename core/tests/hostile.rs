//! Hostile input gets a clear error naming what and where, never a panic or a hang.
//! (Limits are documented in docs/LIMITS.md.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::yaml::{self, Limits, Value};
use microvet_core::{Decision, ErrorCode, InputKind, Policy};
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

/// A clean manifest the merge-key and alias cases add to.
const BASE: &str = "name: a\nowner: it@example.com\npurpose: sync a roster\ndata_access: [{ type: user.profile }]\nretention_days: 30\nexpiry_days: 30\n";

#[test]
fn merge_keys_are_refused_in_every_form() {
    let cases = [
        // (document, line of the `<<` key)
        (
            format!("{BASE}<<: {{oauth_scopes: [\"*\", admin.all, hr.write]}}\n"),
            7,
        ),
        (
            format!("{BASE}client:\n  client_id: x\n  <<: {{grant_types: [password]}}\n"),
            9,
        ),
        (
            format!("x-base: &b {{oauth_scopes: [admin.all]}}\n{BASE}<<: *b\n"),
            8,
        ),
        (
            format!(
                "x-a: &a {{oauth_scopes: [admin.all]}}\nx-b: &b {{sinks: [x]}}\n{BASE}<<: [*a, *b]\n"
            ),
            9,
        ),
        (format!("{BASE}\"<<\": {{oauth_scopes: [admin.all]}}\n"), 7),
        (format!("{BASE}'<<': {{oauth_scopes: [admin.all]}}\n"), 7),
        (
            format!("{BASE}client: {{<<: {{grant_types: [password]}}}}\n"),
            7,
        ),
        (format!("{BASE}? <<\n: {{oauth_scopes: [admin.all]}}\n"), 7),
        (
            "{\"name\": \"a\",\n \"<<\": {\"oauth_scopes\": [\"*\"]}}".to_string(),
            2,
        ),
        (format!("{BASE}third_party_deps:\n  - <<: {{name: x}}\n"), 8),
    ];
    for (text, line) in cases {
        let e = policy().vet(&text).unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure, "{text}\n{e:?}");
        assert!(e.message.contains("merge key `<<`"), "{e:?}");
        assert!(
            e.help
                .as_deref()
                .unwrap_or("")
                .contains("write the keys out"),
            "{e:?}"
        );
        assert_eq!(e.line, Some(line), "{text}\n{e:?}");
        assert!(e.column.is_some(), "{e:?}");
    }
    // The same through the registration-request door.
    let e = policy()
        .vet_kind(
            InputKind::Dcr,
            "{\"client_name\": \"a\", \"<<\": {\"grant_types\": [\"password\"]}}",
        )
        .unwrap_err();
    assert!(e.message.contains("merge key"), "{e:?}");
    // A `<<` in a value is just text.
    assert!(
        policy()
            .vet(&BASE.replace("sync a roster", "\"<<\""))
            .is_ok()
    );
}

/// The value of `v: <text>`, positions left out.
fn value(text: &str) -> serde_json::Value {
    let n = yaml::parse(&format!("v: {text}\n"), Limits::MANIFEST).unwrap();
    n.get("v").unwrap().to_json()
}

#[test]
fn core_schema_tags_apply_their_meaning() {
    assert_eq!(value("!!int \"5\""), serde_json::json!(5));
    assert_eq!(value("!!int '0x1F'"), serde_json::json!(31));
    assert_eq!(value("!!str true"), serde_json::json!("true"));
    assert_eq!(value("!!str 0x1"), serde_json::json!("0x1"));
    assert_eq!(value("!!bool \"false\""), serde_json::json!(false));
    assert_eq!(value("!!null ''"), serde_json::Value::Null);
    assert_eq!(value("!!null ~"), serde_json::Value::Null);
    assert_eq!(value("!!float 5"), serde_json::json!(5.0));
    assert_eq!(value("!!float \"1.5e3\""), serde_json::json!(1500.0));
    assert_eq!(
        value("!<tag:yaml.org,2002:int> \"7\""),
        serde_json::json!(7)
    );
    assert_eq!(value("!!seq [a]"), value("[a]"));
    assert_eq!(value("!!map {a: 1}"), value("{a: 1}"));
    // A `%TAG` handle for the core prefix is the core prefix.
    let n = yaml::parse(
        "%TAG !e! tag:yaml.org,2002:\n---\nv: !e!int \"7\"\n",
        Limits::MANIFEST,
    )
    .unwrap();
    assert_eq!(n.get("v").unwrap().value, Value::Int(7));
    // Through the engine: a tagged number is the number.
    let v = policy()
        .vet(&BASE.replace("expiry_days: 30", "expiry_days: !!int \"9999\""))
        .unwrap();
    assert!(v.findings.iter().any(|f| f.path == "/expiry_days"), "{v:?}");
}

#[test]
fn a_core_tag_on_a_value_that_cannot_have_it_is_an_error() {
    for (text, tag) in [
        ("!!int abc_secret", "!!int"),
        ("!!int 1_000", "!!int"),
        ("!!int 1.5", "!!int"),
        ("!!int 99999999999999999999", "!!int"),
        ("!!bool yes_secret", "!!bool"),
        ("!!null nothing_secret", "!!null"),
        ("!!float abc_secret", "!!float"),
        ("!!seq abc_secret", "!!seq"),
        ("!!map abc_secret", "!!map"),
        ("!!seq {a: 1}", "!!seq"),
        ("!!map [a]", "!!map"),
        ("!!str [a]", "!!str"),
        ("!!int {a: 1}", "!!int"),
    ] {
        let e = yaml::parse(&format!("a: 1\nv: {text}\n"), Limits::MANIFEST).unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure, "{text}: {e:?}");
        assert!(e.message.contains(&format!("`{tag}`")), "{text}: {e:?}");
        assert!(!format!("{e:?}").contains("secret"), "{text}: {e:?}");
        assert_eq!(e.line, Some(2), "{text}: {e:?}");
        assert!(e.column.is_some(), "{e:?}");
    }
}

#[test]
fn other_tags_are_refused_without_naming_them() {
    for text in [
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [{a: 1}]",
        "!!timestamp 2026-01-01",
        "!!merge x",
        "!!python/object:os.system x",
        "!!python/object/apply:os.system [\"id\"]",
        "!ghp_0123456789abcdefghijklmnopqrstuvwxyz x",
        "!custom {a: 1}",
        "!custom [a]",
        "! x",
        "!<tag:example.com,2026:sk_live_secret> x",
        "!<!str> x",
        "!str x",
    ] {
        let e = yaml::parse(&format!("a: 1\nv: {text}\n"), Limits::MANIFEST).unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure, "{text}: {e:?}");
        assert_eq!(e.message, "an unsupported tag", "{text}: {e:?}");
        assert_eq!(e.line, Some(2), "{text}: {e:?}");
        assert!(e.column.is_some(), "{e:?}");
        let all = format!("{e:?}");
        for secret in [
            "ghp_",
            "sk_live",
            "python",
            "os.system",
            "custom",
            "example.com",
        ] {
            assert!(!all.contains(secret), "{text}: {e:?}");
        }
    }
    // A `%TAG` that moves `!!` elsewhere makes `!!str` a foreign tag.
    let e = yaml::parse(
        "%TAG !! tag:evil.example,2026:\n---\nv: !!str x\n",
        Limits::MANIFEST,
    )
    .unwrap_err();
    assert_eq!(e.message, "an unsupported tag");
    // `!!merge` on a key: refused as a tag, before it could merge anything.
    let e = policy()
        .vet(&format!("{BASE}!!merge x: {{oauth_scopes: [admin.all]}}\n"))
        .unwrap_err();
    assert_eq!((e.code, e.line), (ErrorCode::Structure, Some(7)), "{e:?}");
}

#[test]
fn values_reached_through_aliases_are_vetted_at_the_alias() {
    let text = format!(
        "x-scopes: &s [openid, directory.admin]\nx-uris: &r [\"http://198.51.100.7/cb\"]\nx-grants: &g [password]\n{BASE}oauth_scopes: *s\nclient:\n  client_id: a\n  redirect_uris: *r\n  grant_types: *g\n"
    );
    let v = policy().vet(&text).unwrap();
    assert_eq!(v.decision, Decision::Reject, "{v:?}");
    let at = |rule: &str, path: &str| {
        v.findings
            .iter()
            .find(|f| f.rule == rule && f.path == path)
            .unwrap_or_else(|| panic!("{rule} at {path}: {v:?}"))
            .line
    };
    // Denied scope, second item of the aliased list: on the alias's line.
    assert_eq!(at("MV-SCOPE-001", "/oauth_scopes/1"), Some(10));
    let redirect_line = v
        .findings
        .iter()
        .filter(|f| f.path.starts_with("/client/redirect_uris/0"))
        .map(|f| f.line)
        .collect::<Vec<_>>();
    assert!(!redirect_line.is_empty(), "{v:?}");
    assert!(redirect_line.iter().all(|l| *l == Some(13)), "{v:?}");
    let password = v
        .findings
        .iter()
        .filter(|f| f.path.starts_with("/client/grant_types/0"))
        .collect::<Vec<_>>();
    assert!(!password.is_empty(), "{v:?}");
    assert!(password.iter().all(|f| f.line == Some(14)), "{v:?}");
    // Written out, the same findings (rule, path, severity).
    let written = format!(
        "x-scopes: [openid, directory.admin]\nx-uris: [\"http://198.51.100.7/cb\"]\nx-grants: [password]\n{BASE}oauth_scopes: [openid, directory.admin]\nclient:\n  client_id: a\n  redirect_uris: [\"http://198.51.100.7/cb\"]\n  grant_types: [password]\n"
    );
    let w = policy().vet(&written).unwrap();
    let key = |v: &microvet_core::Verdict| {
        v.findings
            .iter()
            .map(|f| (f.rule, f.path.clone(), f.severity))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&v), key(&w));
    assert_eq!((v.decision, v.risk.score), (w.decision, w.risk.score));
}

#[test]
fn duplicate_keys_are_refused_in_json_and_after_key_resolution() {
    for (kind, text) in [
        (
            InputKind::Manifest,
            "{\"name\": \"a\", \"oauth_scopes\": [\"openid\"],\n \"oauth_scopes\": [\"admin.all\"]}",
        ),
        (
            InputKind::Manifest,
            "{\"name\": \"a\", \"oauth_scopes\": [],\n \"oauth\\u005fscopes\": [\"admin.all\"]}",
        ),
        (
            InputKind::Dcr,
            "{\"client_name\": \"a\", \"grant_types\": [\"authorization_code\"],\n \"grant_types\": [\"password\"]}",
        ),
        (InputKind::Manifest, "name: a\n1: x\n0x1: y\n"),
        (InputKind::Manifest, "name: a\nnull: x\n~: y\n"),
        (InputKind::Manifest, "\"name\": a\nname: b\n"),
    ] {
        let e = policy().vet_kind(kind, text).unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure, "{text}: {e:?}");
        assert!(e.message.starts_with("duplicate key"), "{text}: {e:?}");
        assert!(e.line.is_some(), "{e:?}");
    }
}

#[test]
fn a_leading_byte_order_mark_is_not_content() {
    for text in [
        "\u{feff}# a manifest\nname: a\nowner: it@example.com\n",
        "\u{feff}{\"name\": \"a\", \"owner\": \"it@example.com\"}",
        "\u{feff}name: a\nowner: it@example.com\n",
        "\u{feff}name: a\nowner: &o it@example.com\nx: *o\n",
    ] {
        let v = policy()
            .vet(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        let bare = policy().vet(text.trim_start_matches('\u{feff}')).unwrap();
        // The verdict's hash is over the bytes sent (with the mark); the rest is the same.
        assert_eq!(
            v.manifest_sha256,
            microvet_core::sha256_hex(text.as_bytes())
        );
        assert_ne!(v.manifest_sha256, bare.manifest_sha256);
        assert_eq!(format!("{:?}", v.findings), format!("{:?}", bare.findings));
    }
}

/// A mapping of 100,000 keys (about 1.2 MB) or a list of 100,000 items, under the limits,
/// is vetted in linear time: a quadratic duplicate-key check took minutes here.
#[test]
fn huge_mappings_are_parsed_in_linear_time() {
    let mut s = String::from("name: a\nowner: it@example.com\nclient:\n");
    for i in 0..45_000 {
        s.push_str(&format!("  k{i}: {i}\n"));
    }
    assert!(s.len() < 1024 * 1024);
    let t = std::time::Instant::now();
    let n = yaml::parse(&s, Limits::MANIFEST).unwrap();
    let elapsed = t.elapsed();
    assert_eq!(
        n.pointer("/client/k44999").unwrap().value,
        Value::Int(44_999)
    );
    // Linear: tens of milliseconds in a debug build; quadratic: over a minute.
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
    // The same keys with one repeated at the end: found, naming its first line.
    s.push_str("  k7: 1\n");
    let e = yaml::parse(&s, Limits::MANIFEST).unwrap_err();
    assert!(
        e.message
            .contains("duplicate key `k7` (first defined on line 11)"),
        "{e:?}"
    );
}

/// A scope repeated 16,000 times next to 16,000 data entries: the scope rules look at the
/// data once per scope definition (quadratic before: seconds in a release build).
#[test]
fn repeated_scopes_and_many_data_entries_vet_in_linear_time() {
    let n = 16_000;
    let scopes = vec!["calendar.write"; n].join(", ");
    let data = (0..n)
        .map(|i| format!("{{type: t{i}.x}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!("{BASE}oauth_scopes: [{scopes}]\ndata_access: [{data}]\n")
        .replace("data_access: [{ type: user.profile }]\n", "");
    assert!(text.len() < 1024 * 1024);
    let t = std::time::Instant::now();
    let v = policy().vet(&text).unwrap();
    let elapsed = t.elapsed();
    // Every repeat is still reported (MV-SCOPE-005: the scope's calendar data is undeclared).
    assert_eq!(
        v.findings
            .iter()
            .filter(|f| f.rule == rule("MV-SCOPE-005").id)
            .count(),
        n
    );
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
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
