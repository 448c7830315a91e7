//! PKCE pairs per second, side by side in one run, with ratios printed at the end:
//!
//! - natively: `microvet_core::pkce::generate` with OS entropy (one `getrandom` call per
//!   pair) and with `rand::thread_rng()`, vs the `oauth2` crate's
//!   `PkceCodeChallenge::new_random_sha256()` (43 characters) and
//!   `new_random_sha256_len(48)` (64 characters), which use `rand::thread_rng()` too;
//! - for context, the cost of one `getrandom` call of 65 and of 4096 bytes;
//! - through the wasmtime host (`microvet::Vetter`, the component every runtime runs):
//!   one pair per call (`pkce_generate`: a fresh store + instance per call, by design) and
//!   per pair of `pkce_generate_batch(64, 1000)`.
//!
//! `cargo bench -p microvet-bench --bench pkce` (criterion; `-- --quick` for a fast look).
//! The ratio lines are computed from criterion's own estimates
//! (`<target>/criterion/pkce-*/<id>/new/estimates.json`) of this run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput};
use microvet::{Vetter, VetterOptions};
use microvet_core::pkce::{self, Entropy};
use oauth2::PkceCodeChallenge;

/// Pairs per batched call through the wasmtime host (as `generateBatch(64, 1000)` in Node).
const BATCH: u32 = 1000;

/// `Entropy` straight from the OS: one `getrandom` call per request of the sampler.
struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("getrandom");
    }
}

/// The randomness oauth2 uses: `rand::thread_rng()` (ChaCha12 in userspace, seeded and
/// periodically reseeded from the OS).
struct ThreadRngEntropy(rand::rngs::ThreadRng);

impl Entropy for ThreadRngEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut self.0, buf);
    }
}

/// Everything measured must also be right: check one result of each contender.
fn sanity(vetter: &Vetter) {
    for length in [43, 64] {
        let p = pkce::generate(length, &mut OsEntropy).unwrap();
        assert_eq!(p.verifier.len(), length);
        assert!(pkce::verify(&p.verifier, &p.challenge).unwrap());
        let q = pkce::generate(length, &mut ThreadRngEntropy(rand::thread_rng())).unwrap();
        assert!(pkce::verify(&q.verifier, &q.challenge).unwrap());
    }
    for (num_bytes, length) in [(32, 43), (48, 64)] {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(num_bytes);
        assert_eq!(verifier.secret().len(), length);
        assert_eq!(
            pkce::challenge(verifier.secret()).unwrap(),
            challenge.as_str()
        );
    }
    let p = vetter.pkce_generate(64).unwrap();
    assert!(pkce::verify(&p.verifier, &p.challenge).unwrap());
    let batch = vetter.pkce_generate_batch(64, BATCH).unwrap();
    assert_eq!(batch.len(), BATCH as usize);
    assert!(
        batch
            .iter()
            .all(|p| pkce::verify(&p.verifier, &p.challenge).unwrap())
    );
}

fn native(c: &mut Criterion) {
    for (length, num_bytes) in [(43usize, 32u32), (64, 48)] {
        let mut g = c.benchmark_group(format!("pkce-native-{length}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("microvet_getrandom", |b| {
            b.iter(|| pkce::generate(black_box(length), &mut OsEntropy).unwrap());
        });
        let mut thread_rng = ThreadRngEntropy(rand::thread_rng());
        g.bench_function("microvet_thread_rng", |b| {
            b.iter(|| pkce::generate(black_box(length), &mut thread_rng).unwrap());
        });
        g.bench_function("oauth2", |b| {
            b.iter(|| PkceCodeChallenge::new_random_sha256_len(black_box(num_bytes)));
        });
        g.finish();
    }
}

/// Context for the native numbers: what OS randomness costs per request.
fn entropy(c: &mut Criterion) {
    let mut g = c.benchmark_group("pkce-entropy");
    let mut small = [0u8; 65];
    g.bench_function("getrandom_65B", |b| {
        b.iter(|| getrandom::fill(black_box(&mut small[..])).unwrap());
    });
    let mut page = [0u8; 4096];
    g.bench_function("getrandom_4096B", |b| {
        b.iter(|| getrandom::fill(black_box(&mut page[..])).unwrap());
    });
    g.finish();
}

fn wasmtime(c: &mut Criterion, vetter: &Vetter) {
    let mut g = c.benchmark_group("pkce-wasmtime-64");
    g.throughput(Throughput::Elements(1));
    g.bench_function("single", |b| {
        b.iter(|| vetter.pkce_generate(black_box(64)).unwrap());
    });
    g.throughput(Throughput::Elements(u64::from(BATCH)));
    g.bench_function("batch1000", |b| {
        b.iter(|| vetter.pkce_generate_batch(black_box(64), BATCH).unwrap());
    });
    g.finish();
}

/// Where criterion writes its estimates: as criterion itself decides it.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

/// Nanoseconds per iteration of `group/id` as measured in this run (criterion's typical
/// value: the slope when it has one, else the mean); `None` if it did not run now.
fn estimate(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let point = |k: &str| json.get(k)?.get("point_estimate")?.as_f64();
    point("slope").or_else(|| point("mean"))
}

fn report(since: SystemTime) {
    // (label, group, id, pairs per iteration)
    let rows: [(&str, &str, &str, f64); 8] = [
        (
            "native microvet 43 (getrandom)",
            "pkce-native-43",
            "microvet_getrandom",
            1.0,
        ),
        (
            "native microvet 43 (thread_rng)",
            "pkce-native-43",
            "microvet_thread_rng",
            1.0,
        ),
        ("native oauth2 43", "pkce-native-43", "oauth2", 1.0),
        (
            "native microvet 64 (getrandom)",
            "pkce-native-64",
            "microvet_getrandom",
            1.0,
        ),
        (
            "native microvet 64 (thread_rng)",
            "pkce-native-64",
            "microvet_thread_rng",
            1.0,
        ),
        ("native oauth2 64", "pkce-native-64", "oauth2", 1.0),
        ("wasmtime single 64", "pkce-wasmtime-64", "single", 1.0),
        (
            "wasmtime batch 64 x1000",
            "pkce-wasmtime-64",
            "batch1000",
            f64::from(BATCH),
        ),
    ];
    let rate = |i: usize| {
        let (_, group, id, pairs) = rows[i];
        estimate(group, id, since).map(|ns| pairs * 1e9 / ns)
    };
    if (0..rows.len()).all(|i| rate(i).is_none()) {
        println!("\n(no estimates from this run: criterion ran in --test/--list mode or filtered)");
        return;
    }
    println!("\n== PKCE pairs/s (this run; criterion's typical time per iteration) ==");
    for (i, (label, ..)) in rows.iter().enumerate() {
        match rate(i) {
            Some(r) => println!("{label:<38} {:>12.0} pairs/s {:>10.3} µs/pair", r, 1e6 / r),
            None => println!("{label:<38} {:>12}", "(not run)"),
        }
    }
    for (label, id) in [
        ("OS getrandom, 65 bytes (1 pair)", "getrandom_65B"),
        ("OS getrandom, 4096 bytes (~63 pairs)", "getrandom_4096B"),
    ] {
        if let Some(ns) = estimate("pkce-entropy", id, since) {
            println!("{label:<38} {:>8.3} µs/call", ns / 1e3);
        }
    }
    println!("\n== ratios (left pairs/s ÷ right pairs/s; > 1: left is faster) ==");
    let ratios = [
        (0, 2),
        (1, 2),
        (3, 5),
        (4, 5),
        (7, 3),
        (7, 5),
        (6, 3),
        (7, 6),
    ];
    for (a, b) in ratios {
        if let (Some(x), Some(y)) = (rate(a), rate(b)) {
            println!("{:<34} vs {:<34} {:>8.2}x", rows[a].0, rows[b].0, x / y);
        }
    }
}

fn main() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let vetter = Vetter::new(VetterOptions::default()).expect("wasmtime host");
    sanity(&vetter);
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    native(&mut c);
    entropy(&mut c);
    wasmtime(&mut c, &vetter);
    c.final_summary();
    report(since);
}
