//! In-process throughput of the embedding API, side by side: a fresh instance per call
//! vs the warm-instance pool, on 1 and N threads, and the native core (the speed limit;
//! the host never uses it outside tests and benchmarks). No HTTP: this is what bounds
//! the server.
//!
//! `cargo run --release -p microvet --example warm_pool [MANIFEST] [SECONDS]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use microvet::{Vetter, VetterOptions, WarmPool};

fn run(threads: usize, seconds: f64, f: &(dyn Fn() + Sync)) -> f64 {
    let stop = AtomicBool::new(false);
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    f();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let manifest = match args.next() {
        Some(path) => std::fs::read_to_string(path).expect("read manifest"),
        None => include_str!("../../examples/hr-onboarding-helper.yaml").to_owned(),
    };
    let seconds: f64 = args.next().map_or(3.0, |s| s.parse().expect("seconds"));
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let cache = microvet::default_cache_dir();
    let fresh = Vetter::new(VetterOptions {
        cache_dir: cache.clone(),
        ..VetterOptions::default()
    })
    .expect("vetter");
    let pooled = Vetter::new(VetterOptions {
        cache_dir: cache.clone(),
        pooling: Some(64),
        ..VetterOptions::default()
    })
    .expect("vetter");
    let warm = Vetter::new(VetterOptions {
        cache_dir: cache,
        warm_pool: Some(WarmPool::new(64)),
        ..VetterOptions::default()
    })
    .expect("vetter");
    assert_eq!(
        fresh.vet(&manifest).unwrap().json,
        warm.vet(&manifest).unwrap().json
    );
    let policy = microvet_core::Policy::builtin().expect("policy");

    println!(
        "manifest: {} bytes, {seconds} s per row, {cpus} CPUs",
        manifest.len()
    );
    println!("{:<44} {:>12} {:>12}", "mode", "vets/s", "µs/vet");
    let mut base = 0.0;
    for threads in [1, cpus] {
        let rows: [(&str, &(dyn Fn() + Sync)); 4] = [
            ("fresh instance per call (on-demand alloc)", &|| {
                fresh.vet(&manifest).unwrap();
            }),
            ("fresh instance per call (pooling alloc)", &|| {
                pooled.vet(&manifest).unwrap();
            }),
            ("warm pool (policy parsed once)", &|| {
                warm.vet(&manifest).unwrap();
            }),
            ("native microvet-core (reference)", &|| {
                policy.vet(&manifest).unwrap();
            }),
        ];
        for (name, f) in rows {
            let rate = run(threads, seconds, f);
            if base == 0.0 {
                base = rate;
            }
            println!(
                "{:<44} {:>12.0} {:>12.1}   ×{:.2}",
                format!("{name}, {threads} thread(s)"),
                rate,
                1e6 * threads as f64 / rate,
                rate / base
            );
        }
    }
    println!("warm pool: {:?}", warm.pool_stats());
}
