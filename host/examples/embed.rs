//! Embedding microvet in a Rust service: one `Vetter` shared by every thread, a warm
//! instance pool, a second policy on the same engine, typed errors, the async wrapper for
//! tokio, and a decision log line per verdict.
//!
//! `cargo run -p microvet --example embed`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use microvet::decision_log::{DecisionLog, Record};
use microvet::{HostError, InputKind, PolicySource, Vetter, VetterOptions, WarmPool};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Engine + compiled component (from the on-disk cache when warm) + the built-in policy.
    let vetter = Vetter::new(VetterOptions {
        cache_dir: microvet::default_cache_dir(),
        time_limit: Some(Duration::from_millis(500)),
        memory_limit: 32 << 20,
        warm_pool: Some(WarmPool::new(8)),
        ..VetterOptions::default()
    })?;
    println!(
        "{} with policy `{}` (sha256 {})",
        vetter.engine(),
        vetter.policy_name(),
        vetter.policy_sha256()
    );

    // `Vetter` is cheap to clone and Send + Sync: share it between threads.
    let manifest = include_str!("../../examples/hr-onboarding-helper.yaml");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| vetter.vet(manifest).expect("vet"));
        }
    });
    let outcome = vetter.vet(manifest)?;
    println!(
        "decision {} (risk {}), {} findings",
        outcome.verdict.decision.as_str(),
        outcome.verdict.risk.score,
        outcome.verdict.findings.len()
    );

    // Errors are typed: the component's answer for bad input, or a host limit.
    match vetter.vet("name: [unclosed\n") {
        Err(HostError::Input(e)) => println!("input error: {}", e.render(Some("<inline>"))),
        other => println!("unexpected: {other:?}"),
    }

    // Another policy on the same engine (only the policy is parsed).
    let strict = vetter.with_policy(PolicySource::Text(
        include_str!("../../policies/strict.yaml").to_owned(),
    ))?;
    println!(
        "strict: {}",
        strict.vet(manifest)?.verdict.decision.as_str()
    );

    // From async code: the vet runs on tokio's blocking pool.
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let async_outcome = rt.block_on(vetter.vet_async(InputKind::Manifest, manifest.to_owned()))?;
    assert_eq!(async_outcome.json, outcome.json);

    // A hash-chained decision log line, synced before `append_blocking` returns.
    let dir = tempfile::tempdir()?;
    let (log, _) = DecisionLog::open(&dir.path().join("decisions.jsonl"), true)?;
    let appended = log.append_blocking(Record::from_verdict(
        "req-1",
        InputKind::Manifest,
        "default",
        &outcome.verdict,
    ))?;
    println!(
        "logged seq {} (line sha256 {})",
        appended.seq, appended.sha256
    );
    println!("warm pool: {:?}", vetter.pool_stats());
    Ok(())
}
