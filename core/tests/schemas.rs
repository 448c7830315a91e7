//! The JSON Schemas in `schemas/` are generated from the types (schemars) and must be up
//! to date: `MICROVET_BLESS=1 cargo test -p microvet-core --features schema --test schemas`
//! rewrites them. The manifest schema is written by hand (the manifest model is lenient, not
//! serde-derived); this test keeps its field lists equal to the model's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn check(name: &str, mut schema: serde_json::Value, title: &str) {
    let obj = schema.as_object_mut().unwrap();
    obj.insert(
        "$id".into(),
        format!("https://microvet.dev/schemas/{name}").into(),
    );
    obj.insert("title".into(), title.into());
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = schemas_dir().join(name);
    if std::env::var_os("MICROVET_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        have, text,
        "{name} is out of date: rerun with MICROVET_BLESS=1"
    );
}

#[test]
fn verdict_schema_is_current() {
    let s = schemars::schema_for!(microvet_core::Verdict);
    check(
        "verdict.schema.json",
        serde_json::to_value(s).unwrap(),
        "microvet verdict",
    );
}

#[test]
fn policy_schema_is_current() {
    let s = schemars::schema_for!(microvet_core::policy::PolicyDoc);
    check(
        "policy.schema.json",
        serde_json::to_value(s).unwrap(),
        "microvet policy",
    );
}

#[test]
fn manifest_schema_lists_exactly_the_model_fields() {
    let text = std::fs::read_to_string(schemas_dir().join("manifest.schema.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let sorted = |f: &[&str]| {
        let mut k: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), sorted(microvet_core::manifest::FIELDS));
    assert_eq!(
        keys(&v["properties"]["client"]),
        sorted(microvet_core::manifest::CLIENT_FIELDS)
    );
}
