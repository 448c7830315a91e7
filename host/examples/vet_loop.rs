//! A fixed number of vets of one manifest through the embedding API, for instruction counts
//! under callgrind (run it with N and 2N vets: the difference is N vets, without start-up).
//!
//! `cargo run --release -p microvet --example vet_loop -- MODE N [MANIFEST]`, MODE one of
//! `native` (the core, no wasm: the limit), `warm` (`Vetter::vet_summary` on a warm
//! instance, what the server runs), `warm-typed` (`Vetter::vet`, the typed verdict) and
//! `fresh` (a new instance per vet, the default isolation). `scripts/bench.sh` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microvet::{InputKind, Vetter, VetterOptions, WarmPool};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args
        .next()
        .expect("MODE: native | warm | warm-typed | fresh");
    let n: usize = args.next().map_or(100, |s| s.parse().expect("N"));
    let manifest = match args.next() {
        Some(path) => std::fs::read_to_string(path).expect("read manifest"),
        None => include_str!("../../examples/hr-onboarding-helper.yaml").to_owned(),
    };
    let policy = microvet_core::Policy::builtin().expect("policy");
    // `native` never touches wasmtime; the others vet once before the loop, so the warm
    // instance exists and runs of N and 2N vets differ by exactly N vets.
    let vetter = (mode != "native").then(|| {
        let vetter = Vetter::new(VetterOptions {
            cache_dir: microvet::default_cache_dir(),
            warm_pool: (mode != "fresh").then(|| WarmPool::new(1)),
            ..VetterOptions::default()
        })
        .expect("vetter");
        let first = vetter.vet(&manifest).expect("vet").json;
        assert_eq!(first, policy.vet(&manifest).expect("native").to_json());
        vetter
    });
    let mut bytes = 0usize;
    for _ in 0..n {
        let text = std::hint::black_box(manifest.as_str());
        bytes += match mode.as_str() {
            "native" => policy.vet(text).expect("vet").to_json().len(),
            "warm" | "fresh" => vetter
                .as_ref()
                .expect("vetter")
                .vet_summary(InputKind::Manifest, text)
                .expect("vet")
                .json
                .len(),
            "warm-typed" => vetter
                .as_ref()
                .expect("vetter")
                .vet(text)
                .expect("vet")
                .json
                .len(),
            other => panic!("unknown mode `{other}`"),
        };
    }
    println!("{mode}: {n} vets, {bytes} bytes of JSON");
}
