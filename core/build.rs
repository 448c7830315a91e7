//! The sha256 of the built-in policy (`policies/default.yaml`, which `src/lib.rs` embeds),
//! computed once here: a fresh instance of the component would otherwise hash the same
//! bytes before its first vet.

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
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("default_policy.sha256");
    std::fs::write(out, hex)?;
    Ok(())
}
