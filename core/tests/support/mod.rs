//! Shared by the integration tests.

#![allow(clippy::panic)]

use microvet_core::rules::{self, Rule};

/// The rule with exactly this ID: a test that names a rule by its ID looks it up here, so
/// a misspelt ID fails the test instead of matching nothing (an assertion that a rule is
/// silent would otherwise pass for any typo).
pub fn rule(id: &str) -> &'static Rule {
    match rules::find(id) {
        Some(r) if r.id == id => r,
        _ => panic!("`{id}` is not the ID of a rule in the catalogue"),
    }
}
