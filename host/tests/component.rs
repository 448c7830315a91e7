//! The embedding API against the real component: imports, PKCE through the component,
//! the compiled-code cache, and limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use microvet::{CacheStatus, HostError, LimitExceeded, PolicySource, Vetter, VetterOptions};

/// RFC 7636 Appendix B.
const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One cache directory shared by the tests of this binary, warmed once (compiling the
/// component is slow in a debug build; loading it from the cache is not).
fn warm_cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let vetter = Vetter::new(options(dir.path())).expect("vetter");
        assert!(
            matches!(vetter.cache_status(), CacheStatus::Written(_)),
            "first use of an empty cache dir compiles and writes: {:?}",
            vetter.cache_status()
        );
        dir
    });
    dir.path()
}

fn options(cache: &Path) -> VetterOptions {
    VetterOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..VetterOptions::default()
    }
}

fn vetter() -> Vetter {
    Vetter::new(options(warm_cache())).expect("vetter")
}

fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one cache file in {}: {files:?}",
        dir.display()
    );
    files.into_iter().next().expect("one file")
}

#[test]
fn imports_are_exactly_wasi_random() {
    let v = vetter();
    let imports = v.component_imports();
    println!("imports: {imports:?}");
    assert_eq!(imports, ["wasi:random/random@0.2.3"]);
    let functions = v.component_imported_functions();
    println!("imported functions: {functions:?}");
    assert!(functions.contains(&"wasi:random/random@0.2.3#get-random-bytes".to_owned()));
    let exports = v.component_exports();
    println!("exports: {exports:?}");
    for name in [
        "microvet:vetting/types@0.1.0",
        "microvet:vetting/vetting@0.1.0",
        "microvet:vetting/pkce@0.1.0",
    ] {
        assert!(exports.iter().any(|e| e == name), "missing export {name}");
    }
}

#[test]
fn rfc7636_appendix_b_through_the_component() {
    let v = vetter();
    assert_eq!(
        v.pkce_challenge(RFC_VERIFIER).expect("challenge"),
        RFC_CHALLENGE
    );
    assert!(v.pkce_verify(RFC_VERIFIER, RFC_CHALLENGE).expect("verify"));
    // A well-formed challenge of another verifier: a mismatch, not an error.
    let other = v.pkce_challenge(&"a".repeat(43)).expect("challenge");
    assert!(!v.pkce_verify(RFC_VERIFIER, &other).expect("verify"));
}

#[test]
fn generated_pairs_verify_and_differ() {
    let v = vetter();
    let a = v.pkce_generate(64).expect("generate");
    let b = v.pkce_generate(64).expect("generate");
    assert_eq!(a.verifier.len(), 64);
    assert_eq!(a.method, "S256");
    assert_ne!(a.verifier, b.verifier, "randomness reaches the component");
    assert!(v.pkce_verify(&a.verifier, &a.challenge).expect("verify"));
    let batch = v.pkce_generate_batch(43, 5).expect("batch");
    assert_eq!(batch.len(), 5);
}

#[test]
fn pkce_length_error_is_typed() {
    let v = vetter();
    match v.pkce_generate(42) {
        Err(HostError::Input(e)) => {
            assert_eq!(e.code, microvet::ErrorCode::PkceLength);
            assert!(e.message.contains("42"), "{}", e.message);
        }
        other => panic!("expected a pkce-length input error, got {other:?}"),
    }
}

#[test]
fn policy_metadata_and_engine() {
    let v = vetter();
    assert_eq!(v.policy_sha256().len(), 64);
    assert_eq!(v.engine(), concat!("microvet ", env!("CARGO_PKG_VERSION")));
    assert!(!v.policy_name().is_empty());
    let rules: serde_json::Value =
        serde_json::from_str(&v.rules_json().expect("rules")).expect("rules json");
    assert!(rules.is_array());
}

#[test]
fn invalid_policy_is_a_policy_error() {
    let result = Vetter::new(VetterOptions {
        policy: PolicySource::Text("{ not: [valid".to_owned()),
        ..options(warm_cache())
    });
    // Until the lead's policy parser lands, the core may accept any text; once it does,
    // this must be a typed policy error (never a trap).
    match result {
        Ok(_) | Err(HostError::Policy(_)) => {}
        Err(other) => panic!("expected a policy error, got {other:?}"),
    }
}

#[test]
fn cache_hit_and_recovery_from_a_corrupt_file() {
    let warm = cache_file(warm_cache());
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(warm.file_name().expect("name"));
    std::fs::copy(&warm, &file).expect("copy");

    let v = Vetter::new(options(dir.path())).expect("vetter");
    assert_eq!(v.cache_status(), &CacheStatus::Hit(file.clone()));
    assert_eq!(
        v.pkce_challenge(RFC_VERIFIER).expect("challenge"),
        RFC_CHALLENGE
    );

    // Corrupt the file: the vetter still works and the file is rewritten.
    std::fs::write(&file, b"\x7fELF garbage, not a compiled component").expect("corrupt");
    let v = Vetter::new(options(dir.path())).expect("vetter after corruption");
    assert_eq!(v.cache_status(), &CacheStatus::Recovered(file.clone()));
    assert_eq!(
        v.pkce_challenge(RFC_VERIFIER).expect("challenge"),
        RFC_CHALLENGE
    );
    let rewritten = std::fs::read(&file).expect("read");
    assert_eq!(rewritten, std::fs::read(&warm).expect("read warm"));

    // And the rewritten file is a hit again.
    let v = Vetter::new(options(dir.path())).expect("vetter");
    assert_eq!(v.cache_status(), &CacheStatus::Hit(file));
    // No temp files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn memory_limit_fails_only_that_call() {
    let small = Vetter::new(VetterOptions {
        memory_limit: 4 << 20,
        ..options(warm_cache())
    })
    .expect("a 4 MiB vetter still instantiates");
    // 8 MiB of manifest cannot even be copied into a 4 MiB linear memory.
    let big = format!("name: big\ndescription: \"{}\"\n", "x".repeat(8 << 20));
    match small.vet(&big) {
        Err(HostError::Limit(LimitExceeded::Memory { limit })) => assert_eq!(limit, 4 << 20),
        other => panic!("expected a memory limit error, got {other:?}"),
    }
    // The same vetter keeps working (a fresh store per call) ...
    assert_eq!(
        small.pkce_challenge(RFC_VERIFIER).expect("challenge"),
        RFC_CHALLENGE
    );
    // ... and so does a normal vetter in the same process.
    let normal = vetter();
    // The core refuses oversized input with a typed `limit` error, or vets it; it never
    // hits a host limit.
    let result = normal.vet(&big);
    assert!(
        !matches!(result, Err(HostError::Limit(_) | HostError::Trap(_))),
        "a 64 MiB vetter must not hit a host limit on 8 MiB: {result:?}"
    );
}

#[test]
fn vet_answers_without_trapping() {
    let v = vetter();
    for text in ["name: hello\n", "{", "", "\u{0}"] {
        match v.vet(text) {
            Ok(outcome) => {
                // The typed verdict re-serializes to the component's canonical bytes.
                assert_eq!(
                    serde_json::to_string(&outcome.verdict).expect("json"),
                    outcome.json
                );
            }
            Err(HostError::Input(e)) => assert!(!e.message.is_empty()),
            Err(other) => panic!("vet of {text:?} failed at the host level: {other:?}"),
        }
    }
}

#[test]
fn vetter_is_cheap_to_share_across_threads() {
    let v = std::sync::Arc::new(vetter());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let v = std::sync::Arc::clone(&v);
            std::thread::spawn(move || v.pkce_challenge(RFC_VERIFIER).expect("challenge"))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), RFC_CHALLENGE);
    }
}

#[test]
fn verdict_is_byte_identical_to_the_native_core() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hr-onboarding-helper.yaml");
    let Ok(text) = std::fs::read_to_string(&example) else {
        return; // the example is written by another change
    };
    let v = vetter();
    let outcome = v.vet(&text).expect("vet");
    let native = microvet_core::Policy::builtin()
        .expect("builtin policy")
        .vet(&text)
        .expect("native vet");
    assert_eq!(outcome.json, native.to_json());
    assert_eq!(
        serde_json::to_string(&outcome.verdict).expect("json"),
        outcome.json,
        "the typed host verdict mirrors the canonical JSON"
    );
    assert_eq!(outcome.verdict.policy_sha256, v.policy_sha256());
    assert_eq!(outcome.verdict.engine, v.engine());

    let batch = v.vet_batch(&[text.clone(), "{".to_owned()]).expect("batch");
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].as_ref().expect("first").json, outcome.json);
    assert!(matches!(&batch[1], Err(HostError::Input(e)) if e.code == microvet::ErrorCode::Syntax));
}

#[test]
fn time_limit_fails_only_that_call() {
    let v = Vetter::new(VetterOptions {
        time_limit: Some(std::time::Duration::from_millis(100)),
        ..options(warm_cache())
    })
    .expect("vetter");
    // A genuinely long call: thousands of manifests in one batch (each takes a fraction of
    // a millisecond), far beyond 100 ms.
    let manifest =
        "name: slow-app\nowner: owner@example.com\npurpose: a long batch to hit the time limit\n";
    let batch = vec![manifest.to_owned(); 20_000];
    let start = std::time::Instant::now();
    match v.vet_batch(&batch) {
        Err(HostError::Limit(LimitExceeded::Time { limit })) => {
            assert_eq!(limit, std::time::Duration::from_millis(100));
        }
        Ok(results) => panic!(
            "expected the time limit, but {} manifests were vetted in {:?}",
            results.len(),
            start.elapsed()
        ),
        Err(other) => panic!("expected a time limit error, got {other:?}"),
    }
    // The next call on the same vetter gets a fresh store and its own deadline.
    assert_eq!(
        v.pkce_challenge(RFC_VERIFIER).expect("challenge"),
        RFC_CHALLENGE
    );
}

#[test]
fn pooling_allocator_works() {
    // Pooling may change the compiled code's settings (and so the cache key): use a cache
    // directory of its own.
    let dir = tempfile::tempdir().expect("temp dir");
    let v = Vetter::new(VetterOptions {
        pooling: Some(4),
        ..options(dir.path())
    })
    .expect("pooling vetter");
    println!("pooling cache: {:?}", v.cache_status());
    for _ in 0..8 {
        assert_eq!(
            v.pkce_challenge(RFC_VERIFIER).expect("challenge"),
            RFC_CHALLENGE
        );
    }
}

#[test]
fn apply_fix_edits_the_text_through_the_component() {
    use microvet::AppliedFix;
    let v = vetter();
    let text = "# c\nname: app  # slug\noauth_scopes: [openid, hr.write]\n";
    let fix = |op: &str, path: &str, value: Option<&str>| AppliedFix {
        op: op.into(),
        path: path.into(),
        value: value.map(str::to_owned),
        description: String::new(),
    };
    let out = v
        .apply_fix(
            text,
            &fix("replace", "/oauth_scopes/1", Some("\"hr.read_only\"")),
        )
        .unwrap();
    assert_eq!(
        out,
        "# c\nname: app  # slug\noauth_scopes: [openid, hr.read_only]\n"
    );
    let fixed = v
        .apply_fixes(
            text,
            &[
                fix("remove", "/oauth_scopes/0", None),
                fix("add", "/expiry_days", Some("30")),
            ],
        )
        .unwrap();
    assert_eq!(
        fixed.manifest,
        "# c\nname: app  # slug\noauth_scopes: [hr.write]\nexpiry_days: 30\n"
    );
    assert_eq!(fixed.applied.len(), 2);
    assert!(!fixed.rewritten);
    // A fix that does not apply, or is not a fix, is the component's typed error.
    for bad in [
        fix("add", "/missing/x", Some("1")),
        fix("copy", "/name", Some("1")),
        fix("add", "/x", Some("[1,")),
    ] {
        match v.apply_fix(text, &bad) {
            Err(microvet::HostError::Input(e)) => {
                assert_eq!(e.code, microvet::ErrorCode::InvalidArgument, "{e:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
