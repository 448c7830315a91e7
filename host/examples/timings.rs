//! Quick setup/per-call timings of the host (not a benchmark: criterion benches come
//! later). Run with `cargo run --release -p microvet --example timings [MANIFEST]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use microvet::{CacheStatus, PolicySource, Vetter, VetterOptions};

fn ms(d: Duration) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1e3)
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Median of `n` runs of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n).map(|_| time(&mut f).1).collect();
    times.sort();
    times[n / 2]
}

fn main() {
    let manifest = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path).expect("read manifest"),
        None => "name: timings\n".to_owned(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let cached = VetterOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..VetterOptions::default()
    };

    println!("component: {} bytes", microvet::COMPONENT.len());
    let (_, t) = time(|| Vetter::new(VetterOptions::default()).expect("vetter"));
    println!(
        "Vetter::new, no cache (engine + compile + link + policy): {}",
        ms(t)
    );
    let (v, t) = time(|| Vetter::new(cached.clone()).expect("vetter"));
    assert!(matches!(v.cache_status(), CacheStatus::Written(_)));
    println!(
        "Vetter::new, cache miss (compile + serialize + write):   {}",
        ms(t)
    );
    let (v, t) = time(|| Vetter::new(cached.clone()).expect("vetter"));
    assert!(matches!(v.cache_status(), CacheStatus::Hit(_)));
    println!(
        "Vetter::new, cache hit (read + deserialize):             {}",
        ms(t)
    );
    let hit = median(21, || {
        Vetter::new(cached.clone()).expect("vetter");
    });
    println!(
        "Vetter::new, cache hit, median of 21:                    {}",
        ms(hit)
    );
    let size = std::fs::metadata(v.cache_path().expect("cache path"))
        .expect("stat")
        .len();
    println!("cache file: {size} bytes");

    let v8 = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let t = median(1001, || {
        v.pkce_challenge(v8).expect("challenge");
    });
    println!(
        "call: store + instantiate + pkce.challenge (median):      {}",
        ms(t)
    );
    let t = median(1001, || {
        let _ = v.pkce_generate(64).expect("generate");
    });
    println!(
        "call: store + instantiate + pkce.generate (median):       {}",
        ms(t)
    );
    let t = median(1001, || {
        let _ = v.vet(&manifest);
    });
    println!(
        "call: store + instantiate + policy.builtin + vet (median): {}",
        ms(t)
    );
    for n in [1usize, 10, 100] {
        let batch = vec![manifest.clone(); n];
        let t = median(101, || {
            let _ = v.vet_batch(&batch).expect("batch");
        });
        println!(
            "call: vet-batch of {n:3} (one instance, one policy parse):  {}  ({} per manifest)",
            ms(t),
            ms(t / u32::try_from(n).expect("n"))
        );
    }
    let policy_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/default.yaml"
    ))
    .expect("policy");
    let vt = Vetter::new(VetterOptions {
        policy: PolicySource::Text(policy_text),
        ..cached.clone()
    })
    .expect("vetter");
    let t = median(1001, || {
        let _ = vt.vet(&manifest);
    });
    println!(
        "call: store + instantiate + policy.parse(text) + vet:     {}",
        ms(t)
    );
    let pooled = Vetter::new(VetterOptions {
        pooling: Some(16),
        ..cached.clone()
    })
    .expect("pooling vetter");
    let t = median(1001, || {
        pooled.pkce_challenge(v8).expect("challenge");
    });
    println!(
        "pooling: store + instantiate + pkce.challenge (median):  {}",
        ms(t)
    );
    let t = median(1001, || {
        let _ = pooled.vet(&manifest);
    });
    println!(
        "pooling: store + instantiate + builtin + vet (median):    {}",
        ms(t)
    );
    // The native core (the speed limit; the host never uses it outside tests/benches).
    let t = median(1001, || {
        microvet_core::Policy::builtin().expect("policy");
    });
    println!(
        "native: Policy::builtin (median):                         {}",
        ms(t)
    );
    let policy = microvet_core::Policy::builtin().expect("policy");
    let t = median(1001, || {
        let _ = policy.vet(&manifest);
    });
    println!(
        "native: vet (median):                                     {}",
        ms(t)
    );
    match v.vet(&manifest) {
        Ok(o) => println!("verdict: {}", o.json),
        Err(e) => println!("vet error: {e}"),
    }
}
