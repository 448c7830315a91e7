//! The warm-instance pool of the embedding API: same verdict bytes as fresh instances,
//! a trap or limit hit discards the instance and never affects the next call, retirement
//! after `max_calls`, and `with_policy`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use microvet::{HostError, LimitExceeded, PolicySource, Vetter, VetterOptions, WarmPool};

const MANIFEST: &str = include_str!("../../examples/hr-onboarding-helper.yaml");
const STRICT: &str = include_str!("../../policies/strict.yaml");

fn cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        Vetter::new(VetterOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            ..VetterOptions::default()
        })
        .expect("vetter");
        dir
    })
    .path()
}

fn options(warm: Option<WarmPool>) -> VetterOptions {
    VetterOptions {
        cache_dir: Some(cache().to_path_buf()),
        warm_pool: warm,
        ..VetterOptions::default()
    }
}

/// A valid manifest that takes about a second to vet (tens of thousands of data types).
fn slow_manifest() -> String {
    let mut s = String::from("name: big\nowner: a@example.com\ndata_access:\n");
    let mut i = 0;
    while s.len() < 1_000_000 {
        s.push_str(&format!("  - type: hr.employee_records{i}\n"));
        i += 1;
    }
    s
}

#[test]
fn warm_and_fresh_verdicts_are_identical() {
    let fresh = Vetter::new(options(None)).unwrap();
    let warm = Vetter::new(options(Some(WarmPool::new(4)))).unwrap();
    assert!(fresh.pool_stats().is_none());
    let expected = fresh.vet(MANIFEST).unwrap().json;
    for _ in 0..20 {
        assert_eq!(warm.vet(MANIFEST).unwrap().json, expected);
    }
    // Interleave other inputs (an error, another manifest, a DCR request): no state leaks.
    assert!(matches!(warm.vet("a: ["), Err(HostError::Input(_))));
    let dcr = include_str!("../../tests/corpus/dcr-basic/dcr.json");
    assert_eq!(
        warm.vet_dcr(dcr).unwrap().json,
        fresh.vet_dcr(dcr).unwrap().json
    );
    assert_eq!(warm.vet(MANIFEST).unwrap().json, expected);
    let stats = warm.pool_stats().unwrap();
    println!("{stats:?}");
    // One instance (created while validating the policy) served every call.
    assert_eq!(stats.created, 1, "{stats:?}");
    assert_eq!(stats.idle, 1);
    assert!(stats.reused >= 23, "{stats:?}");
}

#[test]
fn a_time_limit_hit_discards_only_that_instance() {
    let warm = Vetter::new(VetterOptions {
        time_limit: Some(Duration::from_millis(100)),
        ..options(Some(WarmPool::new(4)))
    })
    .unwrap();
    let expected = warm.vet(MANIFEST).unwrap().json;
    let slow = slow_manifest();
    std::thread::scope(|s| {
        let slow = s.spawn(|| warm.vet(&slow));
        let fast: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    (0..10)
                        .map(|_| warm.vet(MANIFEST).unwrap().json)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        match slow.join().unwrap() {
            Err(HostError::Limit(LimitExceeded::Time { .. })) => {}
            other => panic!("expected a time limit hit, got {other:?}"),
        }
        for f in fast {
            for json in f.join().unwrap() {
                assert_eq!(json, expected);
            }
        }
    });
    let stats = warm.pool_stats().unwrap();
    assert_eq!(stats.discarded, 1, "{stats:?}");
    // The next calls are fine.
    assert_eq!(warm.vet(MANIFEST).unwrap().json, expected);
}

#[test]
fn a_memory_limit_hit_discards_the_instance() {
    let warm = Vetter::new(VetterOptions {
        memory_limit: 8 << 20,
        ..options(Some(WarmPool::new(2)))
    })
    .unwrap();
    let expected = warm.vet(MANIFEST).unwrap().json;
    match warm.vet(&slow_manifest()) {
        Err(HostError::Limit(LimitExceeded::Memory { .. })) => {}
        other => panic!(
            "expected a memory limit hit, got {:?}",
            other.map(|o| o.json.len())
        ),
    }
    assert_eq!(warm.vet(MANIFEST).unwrap().json, expected);
    assert_eq!(warm.pool_stats().unwrap().discarded, 1);
}

#[test]
fn instances_retire_after_max_calls_and_big_heaps() {
    let warm = Vetter::new(options(Some(WarmPool {
        max_calls: 3,
        ..WarmPool::new(2)
    })))
    .unwrap();
    for _ in 0..7 {
        warm.vet(MANIFEST).unwrap();
    }
    let stats = warm.pool_stats().unwrap();
    // 8 calls (validation + 7) at 3 calls per instance.
    assert_eq!(stats.retired, 2, "{stats:?}");
    assert_eq!(stats.created, 3, "{stats:?}");
    // A big input grows the heap past `max_memory`: that instance is not kept.
    let warm = Vetter::new(options(Some(WarmPool {
        max_memory: 4 << 20,
        ..WarmPool::new(2)
    })))
    .unwrap();
    warm.vet(MANIFEST).unwrap();
    let before = warm.pool_stats().unwrap().retired;
    assert_eq!(before, 0);
    let mut big = String::from("name: big\nowner: a@example.com\ndata_access:\n");
    for i in 0..5000 {
        big.push_str(&format!("  - type: hr.employee_records{i}\n"));
    }
    warm.vet(&big).unwrap();
    assert_eq!(warm.pool_stats().unwrap().retired, before + 1);
}

#[test]
fn with_policy_shares_the_engine() {
    let base = Vetter::new(options(Some(WarmPool::new(2)))).unwrap();
    let strict = base
        .with_policy(PolicySource::Text(STRICT.to_owned()))
        .unwrap();
    assert_eq!(strict.policy_name(), "strict");
    assert_ne!(strict.policy_sha256(), base.policy_sha256());
    let v = strict.vet(MANIFEST).unwrap();
    assert_eq!(v.verdict.policy_sha256, strict.policy_sha256());
    // The same as a vetter built from scratch for that policy.
    let alone = Vetter::new(VetterOptions {
        policy: PolicySource::Text(STRICT.to_owned()),
        ..options(None)
    })
    .unwrap();
    assert_eq!(alone.vet(MANIFEST).unwrap().json, v.json);
    assert!(matches!(
        base.with_policy(PolicySource::Text("policy_version: [".to_owned())),
        Err(HostError::Policy(_))
    ));
}

#[cfg(feature = "tokio")]
#[test]
fn async_vet_runs_on_the_blocking_pool() {
    let warm = Vetter::new(options(Some(WarmPool::new(2)))).unwrap();
    let expected = warm.vet(MANIFEST).unwrap().json;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let got = rt
        .block_on(warm.vet_async(microvet::InputKind::Manifest, MANIFEST.to_owned()))
        .unwrap();
    assert_eq!(got.json, expected);
}
