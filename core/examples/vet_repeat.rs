//! Vet the same documents many times with the built-in policy: a small, deterministic
//! workload for instruction counts (`valgrind --tool=callgrind`) of the vet path.
//!
//! `cargo run -p microvet-core --release --example vet_repeat -- [N] [FILE...]`
//! (defaults: 10000, `examples/hr-onboarding-helper.yaml` and
//! `tests/corpus/oauth-redirect-host-tricks/input.yaml`).

use microvet_core::Policy;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mut files: Vec<String> = args.collect();
    if files.is_empty() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for f in [
            "examples/hr-onboarding-helper.yaml",
            "tests/corpus/oauth-redirect-host-tricks/input.yaml",
        ] {
            files.push(root.join(f).to_string_lossy().into_owned());
        }
    }
    let mut texts = Vec::new();
    for f in &files {
        match std::fs::read_to_string(f) {
            Ok(t) => texts.push(t),
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let policy = match Policy::builtin() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("policy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut findings = 0usize;
    for _ in 0..n {
        for t in &texts {
            match policy.vet(t) {
                Ok(v) => findings += v.findings.len(),
                Err(e) => {
                    eprintln!("vet: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!("{n} x {} documents, {findings} findings", texts.len());
    ExitCode::SUCCESS
}
