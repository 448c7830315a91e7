//! Vet the golden corpus three ways, side by side in one run, and print the ratios:
//! natively (microvet-core, the speed limit), in wasmtime with a warm instance (the
//! `WarmPool`: store + instance + parsed policy reused), and with a fresh instance per vet
//! (store + instantiate + policy parse + vet: the default isolation).
//!
//! The ratios also compare with native `vet` + `Verdict::to_json`: the component returns
//! the canonical JSON text with every verdict, so that is the like-for-like native cost.
//! `wasmtime-warm-summary` is the same warm vet through `Vetter::vet_summary` (the JSON and
//! a summary, no typed verdict: what the HTTP service uses).
//! `examples/guest_variants.rs` compares guest builds and wasmtime settings side by side.
//!
//! `cargo bench -p microvet-bench --bench vet`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use criterion::{Criterion, criterion_group};
use microvet::{InputKind, PolicySource, Vetter, VetterOptions, WarmPool};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let d = entry.unwrap().path();
        for f in ["input.yaml", "input.json"] {
            if let Ok(text) = std::fs::read_to_string(d.join(f)) {
                // Only manifests that vet (the broken inputs measure error paths, not vets).
                if microvet_core::Policy::builtin().unwrap().vet(&text).is_ok() {
                    out.push(text);
                }
            }
        }
    }
    out.sort();
    out
}

fn vetter(warm: bool) -> Vetter {
    Vetter::new(VetterOptions {
        policy: PolicySource::Builtin,
        warm_pool: warm.then(|| WarmPool::new(1)),
        ..VetterOptions::default()
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let manifests = corpus();
    let native = microvet_core::Policy::builtin().unwrap();
    let warm = vetter(true);
    let fresh = vetter(false);
    // Same bytes from all three before timing anything.
    for m in &manifests {
        let n = native.vet(m).unwrap().to_json();
        assert_eq!(warm.vet(m).unwrap().json, n);
        assert_eq!(fresh.vet(m).unwrap().json, n);
        assert_eq!(warm.vet_summary(InputKind::Manifest, m).unwrap().json, n);
    }
    let mut g = c.benchmark_group("vet-corpus");
    g.measurement_time(Duration::from_secs(4)).sample_size(20);
    g.bench_function("native", |b| {
        b.iter(|| {
            for m in &manifests {
                black_box(native.vet(m).unwrap());
            }
        })
    });
    g.bench_function("wasmtime-warm", |b| {
        b.iter(|| {
            for m in &manifests {
                black_box(warm.vet(m).unwrap());
            }
        })
    });
    g.bench_function("wasmtime-warm-summary", |b| {
        b.iter(|| {
            for m in &manifests {
                black_box(warm.vet_summary(InputKind::Manifest, m).unwrap());
            }
        })
    });
    g.bench_function("wasmtime-fresh", |b| {
        b.iter(|| {
            for m in &manifests {
                black_box(fresh.vet(m).unwrap());
            }
        })
    });
    g.finish();
}

/// Ratios from one interleaved run (same process, same moment), printed after criterion.
fn ratios() {
    let manifests = corpus();
    let native = microvet_core::Policy::builtin().unwrap();
    let warm = vetter(true);
    let fresh = vetter(false);
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..30 {
            f();
        }
        start.elapsed().as_secs_f64() / 30.0 / manifests.len() as f64
    };
    let (mut n, mut nj, mut w, mut ws, mut f) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..5 {
        n = n.min(time(&|| {
            manifests.iter().for_each(|m| {
                black_box(native.vet(m).unwrap());
            })
        }));
        // What the component does per vet besides the vet itself: the canonical JSON.
        nj = nj.min(time(&|| {
            manifests.iter().for_each(|m| {
                black_box(native.vet(m).unwrap().to_json());
            })
        }));
        w = w.min(time(&|| {
            manifests.iter().for_each(|m| {
                black_box(warm.vet(m).unwrap());
            })
        }));
        ws = ws.min(time(&|| {
            manifests.iter().for_each(|m| {
                black_box(warm.vet_summary(InputKind::Manifest, m).unwrap());
            })
        }));
        f = f.min(time(&|| {
            manifests.iter().for_each(|m| {
                black_box(fresh.vet(m).unwrap());
            })
        }));
    }
    println!(
        "\nper vet over {} corpus manifests (best of 5 interleaved rounds):",
        manifests.len()
    );
    println!("  native          {:8.1} µs", n * 1e6);
    println!("  native + json   {:8.1} µs", nj * 1e6);
    println!(
        "  wasmtime warm   {:8.1} µs   {:.2}x native   {:.2}x native + json",
        w * 1e6,
        w / n,
        w / nj
    );
    println!(
        "  warm summary    {:8.1} µs   {:.2}x native   {:.2}x native + json   {:.2}x warm",
        ws * 1e6,
        ws / n,
        ws / nj,
        ws / w
    );
    println!(
        "  wasmtime fresh  {:8.1} µs   {:.2}x native   {:.2}x warm",
        f * 1e6,
        f / n,
        f / w
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
