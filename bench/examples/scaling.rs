//! Scaling of a vet with the size of its input: for each input shape, vet documents of
//! size n and 2n (for several n) natively and print the time ratio per doubling. A linear
//! parse and vet gives ≈ 2; anything over 2.5 is flagged (`!`), and the run exits non-zero
//! when a shape is flagged at its two largest doublings (a superlinear path, not noise).
//!
//! `cargo run --release -p microvet-bench --example scaling [shape filter]` (a few minutes;
//! `SCALING_QUICK=1` for one doubling per shape, `SCALING_TIMES=1` prints the times). The
//! table is in `docs/PERFORMANCE.md` ("Scaling"). Times are the thread's CPU time (Linux),
//! the best of interleaved rounds, so other load on a shared machine moves them less.
//!
//! The shapes are what a hostile manifest can grow under the input limits (1 MiB, 100,000
//! nodes, 64 levels): many keys (top level, in `client:`), many list items (scopes, redirect
//! URIs, repeated redirect URIs, sinks, data entries, vendors), many aliases, deep nesting,
//! long strings, and JSON. Every input is checked to vet (or to fail as expected) before it
//! is timed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{InputKind, Policy};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const BASE: &str = "name: scaling\nowner: it@example.com\npurpose: sync the staff directory into a team roster sheet\nretention_days: 30\nexpiry_days: 30\n";

/// A shape: a name, and the document of size `n` (and its kind).
struct Shape {
    name: &'static str,
    sizes: &'static [usize],
    doc: fn(usize) -> String,
    kind: InputKind,
}

fn list(n: usize, f: impl Fn(usize) -> String) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&f(i));
    }
    s
}

fn shapes() -> Vec<Shape> {
    const N: &[usize] = &[2_500, 5_000, 10_000, 20_000, 40_000];
    const HALF: &[usize] = &[1_250, 2_500, 5_000, 10_000, 20_000];
    vec![
        Shape {
            name: "top-level keys",
            sizes: N,
            doc: |n| {
                let mut s = BASE.to_string();
                for i in 0..n {
                    writeln!(s, "x{i}: {i}").unwrap();
                }
                s
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "keys in client:",
            sizes: N,
            doc: |n| {
                let mut s = format!("{BASE}client:\n  client_id: a\n");
                for i in 0..n {
                    writeln!(s, "  x{i}: {i}").unwrap();
                }
                s
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "keys in one flow mapping",
            sizes: N,
            doc: |n| format!("{BASE}x: {{{}}}\n", list(n, |i| format!("k{i}: {i}"))),
            kind: InputKind::Manifest,
        },
        Shape {
            name: "scopes",
            sizes: N,
            doc: |n| {
                format!(
                    "{BASE}oauth_scopes: [{}]\n",
                    list(n, |i| format!("s{i}.read"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "denied scopes",
            sizes: N,
            doc: |n| {
                format!(
                    "{BASE}oauth_scopes: [{}]\n",
                    list(n, |i| format!("a{i}.admin"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "redirect URIs",
            sizes: HALF,
            doc: |n| {
                format!(
                    "{BASE}client:\n  client_id: a\n  redirect_uris: [{}]\n",
                    list(n, |i| format!("https://apps.example.com/cb/{i}"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "repeated redirect URIs",
            sizes: HALF,
            doc: |n| {
                format!(
                    "{BASE}client:\n  client_id: a\n  redirect_uris: [{}]\n",
                    list(n, |_| "https://apps.example.com/cb".to_string())
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "sinks (URIs)",
            sizes: HALF,
            doc: |n| {
                format!(
                    "{BASE}external_sinks: [{}]\n",
                    list(n, |i| format!("https://sink{i}.example.net/in"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "data entries",
            sizes: HALF,
            doc: |n| {
                format!(
                    "{BASE}data_access: [{}]\n",
                    list(n, |i| format!("{{type: t{i}.x}}"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "known scopes and data entries",
            sizes: &[1_000, 2_000, 4_000, 8_000, 16_000],
            doc: |n| {
                format!(
                    "{BASE}oauth_scopes: [{}]\ndata_access: [{}]\n",
                    list(n, |_| "calendar.write".to_string()),
                    list(n, |i| format!("{{type: t{i}.x}}"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "secret-shaped strings",
            sizes: &[1_000, 2_000, 4_000, 8_000, 16_000],
            doc: |n| format!("{BASE}notes: [{}]\n", list(n, |i| format!("ghp_{i:0>36}"))),
            kind: InputKind::Manifest,
        },
        Shape {
            name: "vendors after many keys",
            sizes: &[625, 1_250, 2_500, 5_000, 10_000],
            doc: |n| {
                let mut s = BASE.to_string();
                for i in 0..n {
                    writeln!(s, "x{i}: {i}").unwrap();
                }
                s.push_str("third_party_deps:\n");
                for i in 0..n {
                    writeln!(s, "  - {{name: p{i}, vendor: v{i}.example.net}}").unwrap();
                }
                s
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "aliases of one list",
            sizes: &[250, 500, 1_000, 2_000, 4_000],
            doc: |n| {
                let mut s = format!("{BASE}x-a: &a [a, b, c, d, e, f, g, h]\n");
                for i in 0..n {
                    writeln!(s, "x{i}: *a").unwrap();
                }
                s
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "nesting (depth)",
            sizes: &[4, 8, 16, 32, 63],
            doc: |n| {
                // A chain `n` levels deep with 200 keys at every level.
                let mut s = BASE.to_string();
                for d in 0..n {
                    let ind = " ".repeat(d * 2);
                    for i in 0..200 {
                        writeln!(s, "{ind}k{i}: {i}").unwrap();
                    }
                    writeln!(s, "{ind}z:").unwrap();
                }
                writeln!(s, "{}end: 1", " ".repeat(n * 2)).unwrap();
                s
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "long string",
            sizes: &[50_000, 100_000, 200_000, 400_000, 800_000],
            doc: |n| format!("{BASE}description: \"{}\"\n", "ab c".repeat(n / 4)),
            kind: InputKind::Manifest,
        },
        Shape {
            name: "long scope",
            sizes: &[50_000, 100_000, 200_000, 400_000, 800_000],
            doc: |n| format!("{BASE}oauth_scopes: [\"{}\"]\n", "a.b".repeat(n / 3)),
            kind: InputKind::Manifest,
        },
        Shape {
            name: "long redirect URI",
            sizes: &[50_000, 100_000, 200_000, 400_000, 800_000],
            doc: |n| {
                format!(
                    "{BASE}client:\n  client_id: a\n  redirect_uris: [\"https://apps.example.com/{}\"]\n",
                    "a/b%2F".repeat(n / 6)
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "JSON keys",
            sizes: N,
            doc: |n| {
                format!(
                    "{{\"name\": \"a\", {}}}",
                    list(n, |i| format!("\"k{i}\": {i}"))
                )
            },
            kind: InputKind::Manifest,
        },
        Shape {
            name: "DCR redirect URIs",
            sizes: HALF,
            doc: |n| {
                format!(
                    "{{\"client_name\": \"a\", \"redirect_uris\": [{}]}}",
                    list(n, |i| format!("\"https://apps.example.com/cb/{i}\""))
                )
            },
            kind: InputKind::Dcr,
        },
        Shape {
            name: "DCR scope words",
            sizes: N,
            doc: |n| {
                format!(
                    "{{\"client_name\": \"a\", \"scope\": \"{}\"}}",
                    (0..n)
                        .map(|i| format!("s{i}.read"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            },
            kind: InputKind::Dcr,
        },
    ]
}

/// Vets of `text` per batch: enough for a batch of ~20 ms.
fn reps(policy: &Policy, kind: InputKind, text: &str) -> u32 {
    let t = Instant::now();
    let _ = black_box(policy.vet_kind(kind, black_box(text)));
    let once = t.elapsed().as_nanos().max(1);
    u32::try_from((20_000_000 / once).clamp(1, 1000)).unwrap_or(1)
}

/// CPU time of this thread so far (Linux: `/proc/thread-self/schedstat`, nanoseconds on a
/// CPU), so time spent waiting for a CPU on a shared machine does not count.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Time per vet of one batch: CPU time where the system reports it, wall time otherwise.
fn batch(policy: &Policy, kind: InputKind, text: &str, reps: u32) -> Duration {
    let (cpu, t) = (cpu_time(), Instant::now());
    for _ in 0..reps {
        let _ = black_box(policy.vet_kind(kind, black_box(text)));
    }
    let spent = match (cpu, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => t.elapsed(),
    };
    spent / reps
}

/// Rounds over all sizes of a shape, interleaved (so a burst of load on the machine hits
/// every size alike); the best batch of each size counts.
const ROUNDS: usize = 7;

fn main() {
    let quick = std::env::var_os("SCALING_QUICK").is_some();
    let filter = std::env::args().nth(1);
    let policy = Policy::builtin().unwrap();
    println!("| shape | n (largest) | bytes (largest) | findings (largest) | ratio per doubling |");
    println!("|---|---|---|---|---|");
    let mut superlinear = Vec::new();
    for shape in shapes() {
        if filter.as_deref().is_some_and(|f| !shape.name.contains(f)) {
            continue;
        }
        let sizes = if quick {
            &shape.sizes[shape.sizes.len() - 2..]
        } else {
            shape.sizes
        };
        let mut texts = Vec::new();
        let mut last = (0, 0, String::new());
        for &n in sizes {
            let text = (shape.doc)(n);
            assert!(
                text.len() <= 1024 * 1024,
                "{}: {} bytes",
                shape.name,
                text.len()
            );
            let findings = match policy.vet_kind(shape.kind, &text) {
                Ok(v) => v.findings.len().to_string(),
                // Past a documented limit (e.g. 256 literal secrets) the vet is refused
                // after the whole scan: still a vet whose time must grow linearly.
                Err(e) => format!("refused ({:?})", e.code),
            };
            last = (n, text.len(), findings);
            let r = reps(&policy, shape.kind, &text);
            texts.push((text, r));
        }
        let mut times = vec![Duration::MAX; texts.len()];
        for _ in 0..ROUNDS {
            for (best, (text, r)) in times.iter_mut().zip(&texts) {
                *best = (*best).min(batch(&policy, shape.kind, text, *r));
            }
        }
        let ratios: Vec<f64> = times
            .windows(2)
            .map(|w| w[1].as_secs_f64() / w[0].as_secs_f64())
            .collect();
        let cells: Vec<String> = ratios
            .iter()
            .map(|r| format!("{r:.2}{}", if *r > 2.5 { " !" } else { "" }))
            .collect();
        // Superlinear: the two largest doublings both over 2.5 (one can be noise).
        if ratios.len() >= 2 && ratios[ratios.len() - 2..].iter().all(|r| *r > 2.5)
            || quick && ratios.iter().all(|r| *r > 2.5)
        {
            superlinear.push(shape.name);
        }
        println!(
            "| {} | {} | {} | {} | {} |",
            shape.name,
            last.0,
            last.1,
            last.2,
            cells.join(", ")
        );
        if std::env::var_os("SCALING_TIMES").is_some() {
            eprintln!("{}: {times:?}", shape.name);
        }
    }
    if !superlinear.is_empty() {
        eprintln!("superlinear: {}", superlinear.join(", "));
        std::process::exit(1);
    }
}
