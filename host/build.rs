//! Builds the microvet component that the host embeds.
//!
//! 1. `cargo build -p microvet-guest --target wasm32-unknown-unknown --profile guest` in a
//!    target directory of its own (`<workspace>/target/guest-build`, or
//!    `$MICROVET_GUEST_TARGET_DIR`), so the nested cargo never waits on the lock of the
//!    outer build. Environment that would leak the outer build's settings into the nested
//!    one (rustflags, target, profile overrides, wrappers such as clippy-driver, the
//!    jobserver) is removed.
//! 2. Turns the core module into a component with `wit-component` (validated) and writes
//!    `$OUT_DIR/microvet.wasm`, which `src/lib.rs` embeds with `include_bytes!`.
//!
//! The wasm32 target itself is installed (or reported missing) earlier, by the build
//! script of the `microvet-wasm-target` build dependency (`host/wasm-target/`).
//!
//! Modelled on wasmtime's `crates/test-programs/artifacts/build.rs`.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "guest";
const MISSING_TARGET: &str = "the wasm32-unknown-unknown target is not installed: run `rustup target add wasm32-unknown-unknown`";

/// Environment variables of the outer build that must not reach the nested cargo.
const REMOVED_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    // The guest's flags come from the workspace's `.cargo/config.toml` (`+simd128`); a
    // target-specific override from the outer environment would silently change the
    // component's bytes.
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_BUILD_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    // `cargo clippy` sets RUSTC_WORKSPACE_WRAPPER=clippy-driver; the guest is linted on its
    // own (`cargo clippy -p microvet-guest --target wasm32-unknown-unknown`), and a wrapper
    // would also invalidate the nested build's fingerprints on every switch.
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
];

/// Prefixes of environment variables removed as well (profile overrides of the outer build).
const REMOVED_PREFIXES: &[&str] = &["CARGO_PROFILE_"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // `cargo::error` shows the message as a build error; the exit code makes sure
            // the build fails even on a cargo that ignores the directive.
            for line in message.lines() {
                println!("cargo::error={line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir
        .parent()
        .ok_or("the host crate has no parent directory")?
        .to_path_buf();
    let out_dir = PathBuf::from(var("OUT_DIR")?);

    for path in [
        "core/src",
        "core/Cargo.toml",
        "guest/src",
        "guest/Cargo.toml",
        "wit",
        "policies/default.yaml",
        "Cargo.lock",
        "Cargo.toml",
        ".cargo/config.toml",
    ] {
        println!("cargo::rerun-if-changed={}", workspace.join(path).display());
    }
    println!("cargo::rerun-if-env-changed=MICROVET_GUEST_TARGET_DIR");

    let target_dir = match env::var_os("MICROVET_GUEST_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace.join("target").join("guest-build"),
    };
    let module = build_guest(&workspace, &target_dir)?;
    let component = componentize(&module)?;

    let out = out_dir.join("microvet.wasm");
    fs::write(&out, &component).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    println!(
        "cargo::rustc-env=MICROVET_COMPONENT_SHA256={}",
        sha256_hex(&component)
    );
    println!("cargo::rustc-env=MICROVET_TARGET={}", var("TARGET")?);
    Ok(())
}

fn var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("environment variable `{name}` is not set by cargo"))
}

/// Runs the nested cargo and returns the core wasm module it produced.
fn build_guest(workspace: &Path, target_dir: &Path) -> Result<Vec<u8>, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .arg("build")
        .arg("--package=microvet-guest")
        .arg(format!("--target={TARGET}"))
        .arg(format!("--profile={PROFILE}"))
        // The outer cargo already resolved the whole workspace (the guest included), so
        // the nested build must never rewrite Cargo.lock.
        .arg("--locked")
        .arg("--color=never")
        // An argument, not `CARGO_TARGET_DIR`: the outer build's `CARGO_TARGET_DIR` is removed
        // from the environment below, and an env var set here would be removed with it.
        .arg("--target-dir")
        .arg(target_dir);
    if let Ok(jobs) = env::var("NUM_JOBS") {
        cmd.arg(format!("--jobs={jobs}"));
    }
    for name in REMOVED_ENV {
        cmd.env_remove(name);
    }
    for (name, _) in env::vars_os() {
        let name_str = name.to_string_lossy();
        if REMOVED_PREFIXES.iter().any(|p| name_str.starts_with(p)) {
            cmd.env_remove(&name);
        }
    }

    let output = cmd
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", cargo.to_string_lossy()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Pass the nested build's output through: cargo shows a build script's stderr when
    // it fails (and with `-vv`).
    eprintln!("{stderr}");
    if !output.status.success() {
        if stderr.contains("can't find crate for `core`")
            || stderr.contains("can't find crate for `std`")
            || stderr.contains("target may not be installed")
        {
            return Err(MISSING_TARGET.to_owned());
        }
        return Err(format!(
            "building the guest component failed ({}): see the nested cargo output above",
            output.status
        ));
    }

    let module = target_dir
        .join(TARGET)
        .join(PROFILE)
        .join("microvet_guest.wasm");
    fs::read(&module).map_err(|e| format!("cannot read `{}`: {e}", module.display()))
}

/// Wraps the core module into a validated component.
fn componentize(module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| format!("cannot turn the guest module into a component: {e:#}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
