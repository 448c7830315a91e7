//! Side-by-side timing of guest *variants* (different builds of the guest core module,
//! or different wasmtime settings) against native, in one process and one run, so that
//! build flags and engine knobs can be compared on a busy machine.
//!
//! ```text
//! cargo run --release -p microvet-bench --example guest_variants -- \
//!     [--config KNOB]... NAME=guest.wasm [NAME=guest.wasm ...]
//! ```
//!
//! Each `guest.wasm` is a core module from
//! `cargo build -p microvet-guest --target wasm32-unknown-unknown --profile guest` (vary
//! the build with `CARGO_TARGET_DIR=/tmp/x` and `--config 'profile.guest...'`); it is
//! componentized here with `wit-component`, exactly as `host/build.rs` does. Every
//! module runs with the host's `Config` (epoch interruption on) and with each extra
//! `--config` knob (see `config()`), in a warm instance (store + instance + parsed
//! built-in policy reused, epoch deadline re-armed per call, as `WarmPool` does). Every
//! variant's JSON is checked against native before timing.
//!
//! Timing: `ROUNDS` (default 30) interleaved rounds; a window is `REPS` (default 3) vets
//! of one manifest after one untimed vet; each manifest keeps its best window. Printed
//! per variant: the mean of those bests over the corpus, the best for
//! `examples/hr-onboarding-helper.yaml`, and both as a ratio to native `vet` + `to_json`
//! (the component also returns the JSON text). These are hot-cache figures, lower than
//! the `vet` bench's loop over the whole corpus; use them to compare variants.
//!
//! `LOOP_SECS=N` only vets the example with the first variant for N seconds (untimed): a
//! clean loop to profile, e.g. `LOOP_SECS=10 perf record -g … --config perfmap …`;
//! `LOOP_VETS=N` exactly N vets (instruction counts under callgrind, N vs 0).
//!
//! Also printed: how often each warm instance's memory grew after the warm-up.
//! `DUMP_CWASM=DIR` writes each compiled component to `DIR/NAME-KNOB.cwasm` (an ELF
//! file: `objdump -d` shows the machine code). `--no-host-config` drops the plain host
//! `Config` (e.g. to profile one knob alone under `perf`, with `--config perfmap`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Config, Engine, Store};

#[allow(unsafe_code, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "microvet",
        imports: { default: trappable },
    });
}

use bindings::Microvet;

/// Store data: counts `memory.grow`s (does a warm instance still grow per call?).
#[derive(Default)]
struct State {
    grows: u64,
}

impl wasmtime::ResourceLimiter for State {
    fn memory_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grows += 1;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl bindings::wasi::random::random::Host for State {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        Ok(vec![7; usize::try_from(len)?])
    }
    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(7)
    }
}

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let policy = microvet_core::Policy::builtin().unwrap();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let d = entry.unwrap().path();
        for f in ["input.yaml", "input.json"] {
            if let Ok(text) = std::fs::read_to_string(d.join(f))
                && policy.vet(&text).is_ok()
            {
                out.push(text);
            }
        }
    }
    out.sort();
    out
}

/// The host's `Config` (`Vetter::new`) plus one named knob.
fn config(knob: &str) -> Config {
    let mut c = Config::new();
    c.epoch_interruption(true);
    match knob {
        "host" => {}
        "no-epoch" => {
            c.epoch_interruption(false);
        }
        "table-eager" => {
            c.table_lazy_init(false);
        }
        "opt-none" => {
            c.cranelift_opt_level(wasmtime::OptLevel::None);
        }
        "speed-and-size" => {
            c.cranelift_opt_level(wasmtime::OptLevel::SpeedAndSize);
        }
        "perfmap" => {
            c.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        other => panic!("unknown --config knob `{other}`"),
    }
    c
}

struct Warm {
    name: String,
    store: Store<State>,
    mv: Microvet,
    policy: ResourceAny,
    /// `memory.grow`s up to the end of the warm-up (instantiation, policy, one vet each).
    warm_grows: u64,
    calls: u64,
}

impl Warm {
    fn new(name: String, engine: &Engine, component: &Component) -> Warm {
        let mut linker = Linker::<State>::new(engine);
        Microvet::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s).unwrap();
        let mut store = Store::new(engine, State::default());
        store.limiter(|s| s);
        store.set_epoch_deadline(u64::MAX / 2);
        store.epoch_deadline_trap();
        let mv = Microvet::instantiate(&mut store, component, &linker).unwrap();
        let policy = mv
            .microvet_vetting_vetting()
            .policy()
            .call_builtin(&mut store)
            .unwrap()
            .map_err(|e| e.message)
            .unwrap();
        Warm {
            name,
            store,
            mv,
            policy,
            warm_grows: 0,
            calls: 0,
        }
    }

    fn vet(&mut self, text: &str) -> String {
        // As `WarmPool`: the deadline is re-armed before every call.
        self.store.set_epoch_deadline(u64::MAX / 2);
        self.calls += 1;
        self.mv
            .microvet_vetting_vetting()
            .policy()
            .call_vet(&mut self.store, self.policy, text)
            .unwrap()
            .map_err(|e| e.message)
            .unwrap()
            .json
    }
}

fn main() {
    let mut knobs = vec!["host".to_owned()];
    let mut modules = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--config" {
            knobs.push(args.next().expect("--config KNOB"));
        } else if a == "--no-host-config" {
            knobs.retain(|k| k != "host");
        } else {
            let (name, path) = a.split_once('=').expect("NAME=guest.wasm");
            modules.push((name.to_owned(), std::fs::read(path).unwrap()));
        }
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .map_or(30, |r| r.parse().unwrap());

    let manifests = corpus();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hr-onboarding-helper.yaml"),
    )
    .unwrap();
    let native = microvet_core::Policy::builtin().unwrap();

    let mut warms = Vec::new();
    for knob in &knobs {
        let engine = Engine::new(&config(knob)).unwrap();
        for (name, module) in &modules {
            let component = wit_component::ComponentEncoder::default()
                .validate(true)
                .module(module)
                .unwrap()
                .encode()
                .unwrap();
            let component = Component::new(&engine, &component).unwrap();
            if let Ok(dir) = std::env::var("DUMP_CWASM") {
                // The compiled code (an ELF file), for `objdump -d`.
                let path = Path::new(&dir).join(format!("{name}-{knob}.cwasm"));
                std::fs::write(path, component.serialize().unwrap()).unwrap();
            }
            let mut w = Warm::new(format!("{name} [{knob}]"), &engine, &component);
            for m in manifests.iter().chain([&example]) {
                assert_eq!(w.vet(m), native.vet(m).unwrap().to_json(), "{}", w.name);
            }
            w.warm_grows = w.store.data().grows;
            w.calls = 0;
            warms.push(w);
        }
    }

    // `LOOP_SECS=N`: only vet the example with the first variant for N seconds, untimed
    // (a clean loop to profile under `perf record`, with `--config perfmap`).
    // `LOOP_VETS=N`: exactly N vets, for instruction counts (run it with N and with 0
    // under `valgrind --tool=callgrind --smc-check=all`; the difference / N is one vet).
    if let Ok(secs) = std::env::var("LOOP_SECS") {
        let until = Instant::now() + std::time::Duration::from_secs_f64(secs.parse().unwrap());
        let w = &mut warms[0];
        let mut vets = 0u64;
        while Instant::now() < until {
            for _ in 0..100 {
                black_box(w.vet(&example));
            }
            vets += 100;
        }
        println!("{}: {vets} vets of the example", w.name);
        return;
    }
    if let Ok(n) = std::env::var("LOOP_VETS") {
        let n: u64 = n.parse().unwrap();
        let w = &mut warms[0];
        for _ in 0..n {
            black_box(w.vet(&example));
        }
        println!("{}: {n} vets of the example", w.name);
        return;
    }

    // Interleaved rounds (`ROUNDS`, default 30). Each window times `REPS` (default 3)
    // vets of ONE manifest (well under a millisecond), and each manifest keeps its best
    // window; the corpus figure is the mean of those bests. On a busy machine a window
    // over the whole corpus (several ms) is almost always preempted, which made the
    // minimum over rounds bimodal; short windows are not.
    let reps: usize = std::env::var("REPS").ok().map_or(3, |r| r.parse().unwrap());
    let n = manifests.len();
    let all: Vec<&String> = manifests.iter().chain([&example]).collect();
    let window = |f: &mut dyn FnMut()| {
        // One untimed call first: the previous window ran other code (caches, predictors).
        f();
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / reps as f64
    };
    // [native vet, native vet + to_json, one per warm variant] × manifests (+ example).
    let mut best = vec![vec![f64::MAX; all.len()]; 2 + warms.len()];
    for _ in 0..rounds {
        for (i, m) in all.iter().enumerate() {
            let t = window(&mut || {
                black_box(native.vet(m).unwrap());
            });
            best[0][i] = best[0][i].min(t);
        }
        for (i, m) in all.iter().enumerate() {
            let t = window(&mut || {
                black_box(native.vet(m).unwrap().to_json());
            });
            best[1][i] = best[1][i].min(t);
        }
        for (k, w) in warms.iter_mut().enumerate() {
            for (i, m) in all.iter().enumerate() {
                let t = window(&mut || {
                    black_box(w.vet(m));
                });
                best[2 + k][i] = best[2 + k][i].min(t);
            }
        }
    }
    let corpus = |row: &[f64]| row[..n].iter().sum::<f64>() / n as f64;
    let ex = |row: &[f64]| row[n];
    let best_native = [
        corpus(&best[0]),
        corpus(&best[1]),
        ex(&best[0]),
        ex(&best[1]),
    ];
    let best: Vec<[f64; 2]> = best[2..].iter().map(|r| [corpus(r), ex(r)]).collect();

    println!(
        "µs per vet, best of {rounds} interleaved rounds per manifest, {reps} vets per window ({} corpus manifests; example = hr-onboarding-helper)",
        manifests.len()
    );
    println!(
        "{:40} {:>9} {:>9} {:>9} {:>9}",
        "", "corpus", "ratio", "example", "ratio"
    );
    println!(
        "{:40} {:9.1} {:>9} {:9.1} {:>9}",
        "native vet", best_native[0], "", best_native[2], ""
    );
    println!(
        "{:40} {:9.1} {:>9} {:9.1} {:>9}",
        "native vet + to_json", best_native[1], "", best_native[3], ""
    );
    for (w, b) in warms.iter().zip(&best) {
        println!(
            "{:40} {:9.1} {:8.2}x {:9.1} {:8.2}x",
            w.name,
            b[0],
            b[0] / best_native[1],
            b[1],
            b[1] / best_native[3]
        );
    }
    for w in &warms {
        println!(
            "{}: memory.grow {} times while warming up, {} times in the {} timed vets after",
            w.name,
            w.warm_grows,
            w.store.data().grows - w.warm_grows,
            w.calls
        );
    }
}
