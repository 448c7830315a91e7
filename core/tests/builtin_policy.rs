//! `src/policy/builtin.rs` is the built-in policy (`policies/default.yaml`) as parsed,
//! written out as the Rust code that builds it, so that a fresh instance of the component
//! builds it instead of parsing YAML before its first vet. This test writes the file from
//! the parsed policy with `MICROVET_BLESS=1`, and otherwise fails when the file differs
//! from what it would write. (The library's own tests check that the built policy equals
//! the parsed one.)
//!
//! The code is written by [`Rs`], a few lines per type below: `databake`, the library for
//! this, derives only for borrowed data (its derive requires `BakeSize`, which `String`,
//! `Vec` and `BTreeMap` do not implement), and the policy's types own theirs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microvet_core::Date;
use microvet_core::policy::{
    Access, ClientPolicy, DataClass, DataType, DecisionCfg, Lifecycle, Organisation, PolicyDoc,
    Range, RuleOverride, ScopeDef, Sensitivity, SinkPattern, Sinks, Tiers, Vendor, Vendors,
};
use microvet_core::verdict::Severity;
use microvet_core::waiver::{Waiver, Waivers};
use std::collections::BTreeMap;
use std::path::Path;

/// The Rust expression that evaluates to a value.
trait Rs {
    fn rs(&self) -> String;
}

impl Rs for String {
    fn rs(&self) -> String {
        // Debug escapes as Rust string literals do.
        format!("s({self:?})")
    }
}

macro_rules! rs_number {
    ($($t:ty),*) => {$(
        impl Rs for $t {
            fn rs(&self) -> String {
                format!("{self}{}", stringify!($t))
            }
        }
    )*};
}
rs_number!(u32, i64, usize);

impl Rs for bool {
    fn rs(&self) -> String {
        self.to_string()
    }
}

impl<T: Rs> Rs for Option<T> {
    fn rs(&self) -> String {
        self.as_ref()
            .map_or_else(|| "None".to_owned(), |v| format!("Some({})", v.rs()))
    }
}

/// A list of strings is one call on a static slice.
trait RsList {
    fn rs_list(items: &[Self]) -> String
    where
        Self: Sized;
}

impl RsList for String {
    fn rs_list(items: &[String]) -> String {
        let items: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("v(&[{}])", items.join(", "))
    }
}

macro_rules! rs_list_each {
    ($($t:ty),*) => {$(
        impl RsList for $t {
            fn rs_list(items: &[$t]) -> String {
                rs_vec(items)
            }
        }
    )*};
}
rs_list_each!(SinkPattern, Vendor, Waiver);

fn rs_vec<T: Rs>(items: &[T]) -> String {
    if items.is_empty() {
        return "Vec::new()".to_owned();
    }
    let items: Vec<String> = items.iter().map(Rs::rs).collect();
    format!("Vec::from([{}])", items.join(", "))
}

impl<T: Rs + RsList> Rs for Vec<T> {
    fn rs(&self) -> String {
        T::rs_list(self)
    }
}

impl<K: Rs, V: Rs> Rs for BTreeMap<K, V> {
    fn rs(&self) -> String {
        if self.is_empty() {
            return "std::collections::BTreeMap::new()".to_owned();
        }
        let items: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("({}, {})", k.rs(), v.rs()))
            .collect();
        format!("m(Vec::from([{}]))", items.join(", "))
    }
}

impl Rs for Date {
    fn rs(&self) -> String {
        format!("crate::date::Date::from_days({}i64)", self.days())
    }
}

/// Unit enums: their path and the variant's name.
macro_rules! rs_enum {
    ($($t:ty => $path:literal),*) => {$(
        impl Rs for $t {
            fn rs(&self) -> String {
                format!("{}::{self:?}", $path)
            }
        }
    )*};
}
rs_enum!(
    Sensitivity => "crate::policy::Sensitivity",
    Access => "crate::policy::Access",
    Severity => "crate::verdict::Severity"
);

/// Structs: their path and every field (a field left out here is a field missing from
/// the struct literal, which does not compile).
macro_rules! rs_struct {
    ($($t:ty => $path:literal { $($f:ident),* })*) => {$(
        impl Rs for $t {
            fn rs(&self) -> String {
                let fields: Vec<String> =
                    vec![$(format!("{}: {}", stringify!($f), self.$f.rs())),*];
                format!("{} {{ {} }}", $path, fields.join(", "))
            }
        }
    )*};
}
rs_struct! {
    PolicyDoc => "crate::policy::PolicyDoc" {
        policy_version, name, description, organisation, lifecycle, client, data_classes,
        data_types, scopes, denied_scope_patterns, sinks, vendors, decision, rules, waivers
    }
    Organisation => "crate::policy::Organisation" { domains, personal_email_domains }
    Range => "crate::policy::Range" { min, max }
    Lifecycle => "crate::policy::Lifecycle" { ttl_days, retention_max_days, recertify_grace_days }
    ClientPolicy => "crate::policy::ClientPolicy" {
        refresh_token_max_days, access_token_max_minutes, max_redirect_uris, auth_methods
    }
    DataClass => "crate::policy::DataClass" { sensitivity, personal }
    DataType => "crate::policy::DataType" { class, description }
    ScopeDef => "crate::policy::ScopeDef" {
        access, grants, review, denied, offline, read_alternative
    }
    SinkPattern => "crate::policy::SinkPattern" { scheme, host, domain, category, description }
    Sinks => "crate::policy::Sinks" { allow, deny }
    Vendor => "crate::policy::Vendor" { domain, dpa }
    Vendors => "crate::policy::Vendors" { approved }
    Tiers => "crate::policy::Tiers" { medium, high, critical }
    DecisionCfg => "crate::policy::DecisionCfg" { tiers }
    RuleOverride => "crate::policy::RuleOverride" { severity, enabled }
    Waivers => "crate::waiver::Waivers" { max_days, never, list }
    Waiver => "crate::waiver::Waiver" {
        id, rule, path, app, manifest_sha256, reason, approved_by, approved_on, expires
    }
}

const HEADER: &str = "// @generated by core/tests/builtin_policy.rs from policies/default.yaml: do not edit.\n// Regenerate with `MICROVET_BLESS=1 cargo test -p microvet-core --test builtin_policy`.\n\n";

fn generated() -> String {
    let (doc, _) =
        microvet_core::policy::parse(microvet_core::DEFAULT_POLICY).expect("default policy");
    let code = format!(
        "/// The sha256 of the `policies/default.yaml` this file was written from (the build\n/// refuses a file written from another: `core/build.rs`).\npub(crate) const SOURCE_SHA256: &str = {:?};\n\n/// The built-in policy, as `policy::parse` reads `policies/default.yaml`.\npub(crate) fn doc() -> crate::policy::PolicyDoc {{ {} }}\n\n/// One call per string instead of an allocation and copy written out at each (a smaller component).\n#[inline(never)]\nfn s(text: &str) -> String {{ text.to_owned() }}\n\n/// A map from its entries in order, by the same `insert` the policy reader uses (no sort\n/// of its own to ship).\nfn m<K: Ord, V>(entries: Vec<(K, V)>) -> std::collections::BTreeMap<K, V> {{ let mut map = std::collections::BTreeMap::new(); for (k, v) in entries {{ map.insert(k, v); }} map }}\n\n/// A list of strings from a static slice.\n#[inline(never)]\nfn v(items: &[&str]) -> Vec<String> {{ items.iter().map(|i| s(i)).collect() }}",
        microvet_core::sha256_hex(microvet_core::DEFAULT_POLICY.as_bytes()),
        doc.rs()
    );
    let file: syn::File = syn::parse_str(&code).expect("the generated code parses");
    format!("{HEADER}{}", prettyplease::unparse(&file))
}

#[test]
fn builtin_rs_is_the_default_policy_as_parsed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy/builtin.rs");
    let want = generated();
    if std::env::var_os("MICROVET_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "src/policy/builtin.rs is out of date with policies/default.yaml: rerun with MICROVET_BLESS=1 (see its header) and commit the result"
    );
}
