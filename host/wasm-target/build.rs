//! Makes sure the `wasm32-unknown-unknown` target is installed for the toolchain that runs
//! this build, before the host compiles (the host's build script builds the guest for it).
//!
//! - Installed: nothing to do.
//! - Missing, and rustup is there: `rustup target add wasm32-unknown-unknown` for this
//!   toolchain, said in one line on stderr (a cargo warning).
//! - Missing, and it cannot be installed (no rustup, offline): the build stops at once with
//!   the command to run.
//!
//! rustup installs a toolchain file's `targets` by itself only where it may install
//! (not with `RUSTUP_AUTO_INSTALL=0`, as on many CI images), hence this step.

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

const TARGET: &str = "wasm32-unknown-unknown";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            for line in message.lines() {
                println!("cargo::error={line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    println!("cargo::rerun-if-env-changed=RUSTUP_TOOLCHAIN");
    let Some(lib) = target_lib_dir()? else {
        // No usable sysroot (an unusual toolchain layout): the guest build reports it.
        return Ok(());
    };
    // Watching the directory makes cargo run this script again when the target is removed
    // (a missing path is always stale, so a missing target is checked on every build).
    println!("cargo::rerun-if-changed={}", lib.display());
    if lib.is_dir() {
        return Ok(());
    }
    println!(
        "cargo::warning=the {TARGET} target is not installed: installing it with `rustup target add {TARGET}`"
    );
    let mut cmd = Command::new(rustup());
    cmd.args(["target", "add", TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN").filter(|t| !t.is_empty()) {
        cmd.arg("--toolchain").arg(toolchain);
    }
    let missing = format!(
        "the {TARGET} target is not installed and could not be installed here: run `rustup target add {TARGET}`"
    );
    let output = cmd
        .output()
        .map_err(|e| format!("{missing} (cannot run rustup: {e})"))?;
    if !output.status.success() || !lib.is_dir() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // rustup's own `error: …` line, else its last words.
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("rustup gave no reason");
        return Err(format!("{missing} (rustup: {})", reason.trim()));
    }
    Ok(())
}

/// `<sysroot>/lib/rustlib/wasm32-unknown-unknown` of the rustc that cargo uses.
fn target_lib_dir() -> Result<Option<PathBuf>, String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", rustc.to_string_lossy()))?;
    if !output.status.success() {
        return Ok(None);
    }
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok(Some(
        PathBuf::from(sysroot)
            .join("lib")
            .join("rustlib")
            .join(TARGET),
    ))
}

/// rustup, preferring the one that runs this build (`$CARGO_HOME/bin`, where the proxy
/// `cargo` lives) over `PATH`.
fn rustup() -> OsString {
    if let Some(home) = env::var_os("CARGO_HOME") {
        let candidate = PathBuf::from(home).join("bin").join("rustup");
        if candidate.is_file() {
            return candidate.into_os_string();
        }
    }
    OsString::from("rustup")
}
