//! Profiling loop: parse the built-in policy once, vet a manifest N times and render the
//! verdict JSON each time (what the service does per request).
//!
//! `CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release -p microvet-core --example vet_loop`
//! then `valgrind --tool=callgrind target/release/examples/vet_loop FILE 1000`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| String::from("examples/hr-onboarding-helper.yaml"));
    let n: u64 = args.next().map_or(1000, |s| s.parse().expect("N"));
    let text = std::fs::read_to_string(&path).expect("read");
    let policy = microvet_core::Policy::builtin().expect("policy");
    let mut bytes = 0usize;
    for _ in 0..n {
        let v = policy.vet(std::hint::black_box(&text)).expect("vet");
        bytes += std::hint::black_box(v.to_json()).len();
    }
    println!("{n} vets, {bytes} bytes of JSON");
}
