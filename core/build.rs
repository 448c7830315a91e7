//! Refuses a `src/policy/builtin.rs` (the code that builds the built-in policy, with the
//! sha256 of the `policies/default.yaml` it was written from) written from another version
//! of that file: a policy edit can never ship with the old rules, nor under a hash that is
//! not the embedded text's.

use sha2::Digest as _;
use std::fmt::Write as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = "../policies/default.yaml";
    println!("cargo::rerun-if-changed={path}");
    let text = std::fs::read(path)?;
    let mut hex = String::with_capacity(64);
    for b in sha2::Sha256::digest(&text) {
        write!(hex, "{b:02x}")?;
    }
    let generated = "src/policy/builtin.rs";
    println!("cargo::rerun-if-changed={generated}");
    println!("cargo::rerun-if-env-changed=MICROVET_BLESS");
    let written_from = format!("SOURCE_SHA256: &str = \"{hex}\";");
    // MICROVET_BLESS: the run that writes the file anew must be able to build.
    if std::env::var_os("MICROVET_BLESS").is_none()
        && !std::fs::read_to_string(generated)?.contains(&written_from)
    {
        return Err(format!(
            "{generated} was written from another version of policies/default.yaml: write it anew with \
             `MICROVET_BLESS=1 cargo test -p microvet-core --test builtin_policy` and commit it"
        )
        .into());
    }
    Ok(())
}
