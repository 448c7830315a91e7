//! The inventory's contract (`lifecycle::store::Store`), one suite run against both
//! backends: SQLite (a file in a temporary folder) and PostgreSQL (a fresh database per
//! test on the server named by `MICROVET_TEST_POSTGRES_URL`, which `scripts/postgres.sh`
//! starts). Without that variable the PostgreSQL half prints `skipped: …` and passes,
//! unless `MICROVET_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) makes it a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};

use microvet::lifecycle::store::{self, Store, StoreError};
use microvet::lifecycle::{AppStatus, EventKind, NewApp, Registration, Secret};

const TOKEN: &str = "rat-7f3c9e1d-registration-access-token";

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, empty store location; dropped at the end of the test.
struct Fixture {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin URL, database name)
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some((admin, db)) = &self.pg
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

/// The URL with its database replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split('/').next().unwrap_or("");
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn fixture(kind: Kind) -> Option<Fixture> {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("inventory.db").display());
            Some(Fixture {
                url,
                _dir: Some(dir),
                pg: None,
            })
        }
        Kind::Postgres => {
            let Ok(admin) = std::env::var("MICROVET_TEST_POSTGRES_URL") else {
                if std::env::var("MICROVET_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!(
                        "MICROVET_TEST_POSTGRES_URL is not set and MICROVET_REQUIRE_SERVICES=1 \
                         (start one with scripts/postgres.sh)"
                    );
                }
                eprintln!("skipped: MICROVET_TEST_POSTGRES_URL is not set (scripts/postgres.sh)");
                return None;
            };
            static N: AtomicU32 = AtomicU32::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let db = format!(
                "mvt_{}_{}_{nanos}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot reach MICROVET_TEST_POSTGRES_URL: {e}"));
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            Some(Fixture {
                url: with_database(&admin, &db),
                _dir: None,
                pg: Some((admin, db)),
            })
        }
    }
}

fn open(f: &Fixture) -> Box<dyn Store> {
    store::open(&f.url).unwrap_or_else(|e| panic!("open {}: {e}", f.url))
}

fn new_app(name: &str, created_at: i64) -> NewApp {
    NewApp {
        name: name.to_owned(),
        owner: "ana@example.org".to_owned(),
        manifest: format!("name: {name}\nowner: ana@example.org\n").into_bytes(),
        manifest_sha256: "a".repeat(64),
        policy_name: "default".to_owned(),
        policy_sha256: "b".repeat(64),
        decision: "approve-with-controls".to_owned(),
        score: 42,
        controls: serde_json::json!([{"id": "client_ttl_days", "value": 30}]),
        verdict: r#"{"decision":"approve-with-controls"}"#.to_owned(),
        created_at,
        expires_at: created_at + 30 * 86_400,
        recertify_by: created_at + 20 * 86_400,
        software_id: format!("sw-{name}"),
    }
}

fn registration(client_id: &str) -> Registration {
    Registration {
        client_id: client_id.to_owned(),
        client_secret: Some(Secret::new("client-secret-never-stored")),
        registration_client_uri: Some(format!("https://op.example/reg/{client_id}")),
        registration_access_token: Some(Secret::new(TOKEN)),
        metadata: serde_json::json!({"client_id": client_id, "redirect_uris": ["https://app.example/cb"]}),
    }
}

/// Inserts, records and activates `name` with the given dates.
fn active(s: &dyn Store, name: &str, at: i64, expires_at: i64, recertify_by: i64) {
    s.insert_pending(&new_app(name, at)).unwrap();
    s.record_registration(name, &registration(&format!("client-{name}")))
        .unwrap();
    s.activate(name, at, expires_at, recertify_by, "alice")
        .unwrap();
}

fn names(apps: &[microvet::lifecycle::App]) -> Vec<String> {
    apps.iter().map(|a| a.name.clone()).collect()
}

fn is_wrong_status(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::WrongStatus { .. }))
}

// ---------------------------------------------------------------------------------------
// The suite. Each function runs once per backend (see `both!` at the end).

fn insert_get_list(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    s.insert_pending(&new_app("zeta", 1_000)).unwrap();
    s.insert_pending(&new_app("Alpha", 1_001)).unwrap();
    s.insert_pending(&new_app("alpha", 1_002)).unwrap();

    let a = s.get("zeta").unwrap().expect("zeta is stored");
    let n = new_app("zeta", 1_000);
    assert_eq!(a.name, "zeta");
    assert_eq!(a.owner, n.owner);
    assert_eq!(a.manifest, n.manifest);
    assert_eq!(a.manifest_sha256, n.manifest_sha256);
    assert_eq!(a.policy_name, n.policy_name);
    assert_eq!(a.policy_sha256, n.policy_sha256);
    assert_eq!(a.decision, n.decision);
    assert_eq!(a.score, 42);
    assert_eq!(a.controls, n.controls);
    assert_eq!(a.verdict, n.verdict);
    assert_eq!(a.software_id, "sw-zeta");
    assert_eq!(a.created_at, 1_000);
    assert_eq!(a.expires_at, n.expires_at);
    assert_eq!(a.recertify_by, n.recertify_by);
    assert_eq!(a.status, AppStatus::Pending);
    assert!(a.client_id.is_none() && a.registered_at.is_none());
    assert!(a.registration_access_token.is_none() && a.registration_metadata.is_none());

    assert!(s.get("nope").unwrap().is_none());
    // Ordered by name, byte-wise (the same on both backends, whatever the collation).
    assert_eq!(names(&s.list().unwrap()), ["Alpha", "alpha", "zeta"]);
    assert!(s.events("zeta").unwrap().is_empty());
    assert!(matches!(s.events("nope"), Err(StoreError::NotFound(_))));
}

fn duplicate_name(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    s.insert_pending(&new_app("dup", 1)).unwrap();
    match s.insert_pending(&new_app("dup", 2)) {
        Err(StoreError::Duplicate(n)) => assert_eq!(n, "dup"),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    // Still a duplicate once active, and the first row is untouched.
    s.record_registration("dup", &registration("c1")).unwrap();
    s.activate("dup", 5, 100, 50, "alice").unwrap();
    assert!(matches!(
        s.insert_pending(&new_app("dup", 3)),
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(s.get("dup").unwrap().unwrap().created_at, 1);
}

fn duplicate_race(kind: Kind) {
    // Many threads on their own stores insert one name at once: exactly one wins, every
    // other gets `Duplicate` (the unique constraint, not a check-then-insert).
    let Some(f) = fixture(kind) else { return };
    let stores: Vec<Box<dyn Store>> = (0..4).map(|_| open(&f)).collect();
    let barrier = Arc::new(Barrier::new(stores.len()));
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|s| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    s.insert_pending(&new_app("race", 1))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::Duplicate(_)))),
        "{results:?}"
    );
}

fn record_and_activate(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    assert!(matches!(
        s.record_registration("ghost", &registration("c")),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.activate("ghost", 1, 2, 3, "a"),
        Err(StoreError::NotFound(_))
    ));
    s.insert_pending(&new_app("app", 100)).unwrap();
    // No registration recorded yet: cannot be activated.
    assert!(is_wrong_status(s.activate("app", 110, 200, 150, "alice")));

    s.record_registration("app", &registration("client-1"))
        .unwrap();
    let a = s.get("app").unwrap().unwrap();
    assert_eq!(a.status, AppStatus::Pending);
    assert_eq!(a.client_id.as_deref(), Some("client-1"));
    assert_eq!(
        a.registration_client_uri.as_deref(),
        Some("https://op.example/reg/client-1")
    );
    assert_eq!(
        a.registration_access_token.as_ref().map(Secret::expose),
        Some(TOKEN)
    );
    assert_eq!(
        a.registration_metadata,
        Some(
            serde_json::json!({"client_id": "client-1", "redirect_uris": ["https://app.example/cb"]})
        )
    );
    // A second answer would overwrite the token of a client that exists: refused.
    assert!(is_wrong_status(
        s.record_registration("app", &registration("client-2"))
    ));
    // A pending row with a registration is not deleted as "registration failed".
    assert!(is_wrong_status(s.delete_pending("app")));

    s.activate("app", 110, 3_000, 2_000, "alice").unwrap();
    let a = s.get("app").unwrap().unwrap();
    assert_eq!(a.status, AppStatus::Active);
    assert_eq!(a.registered_at, Some(110));
    assert_eq!((a.expires_at, a.recertify_by), (3_000, 2_000));
    assert_eq!(a.client_id.as_deref(), Some("client-1"));
    let ev = s.events("app").unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EventKind::Registered);
    assert_eq!((ev[0].actor.as_str(), ev[0].at), ("alice", 110));

    assert!(is_wrong_status(s.activate("app", 120, 1, 1, "alice")));
    assert!(is_wrong_status(
        s.record_registration("app", &registration("client-3"))
    ));
    assert!(is_wrong_status(s.delete_pending("app")));
}

fn delete_pending(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    assert!(matches!(
        s.delete_pending("ghost"),
        Err(StoreError::NotFound(_))
    ));
    s.insert_pending(&new_app("failed", 1)).unwrap();
    s.delete_pending("failed").unwrap();
    assert!(s.get("failed").unwrap().is_none());
    // The name is free again.
    s.insert_pending(&new_app("failed", 2)).unwrap();
    assert_eq!(s.get("failed").unwrap().unwrap().created_at, 2);
}

fn recertify_and_due(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    s.insert_pending(&new_app("p", 1)).unwrap();
    assert!(is_wrong_status(
        s.mark_due("p", "reject", 90, "{}", 5, "bob", "x")
    ));
    assert!(is_wrong_status(
        s.recertified("p", "approve", 1, "c", "{}", 10, 10, 5, "bob")
    ));
    assert!(matches!(
        s.mark_due("ghost", "reject", 90, "{}", 5, "bob", "x"),
        Err(StoreError::NotFound(_))
    ));

    active(&*s, "app", 100, 1_000, 500);
    s.mark_due(
        "app",
        "remediate",
        77,
        r#"{"decision":"remediate"}"#,
        200,
        "bob",
        "now remediate: MV-SCOPE-003",
    )
    .unwrap();
    let a = s.get("app").unwrap().unwrap();
    assert_eq!(a.status, AppStatus::Due);
    assert_eq!((a.decision.as_str(), a.score), ("remediate", 77));
    assert_eq!(a.verdict, r#"{"decision":"remediate"}"#);
    assert_eq!((a.expires_at, a.recertify_by), (1_000, 500), "dates kept");

    s.recertified(
        "app",
        "approve",
        12,
        &"c".repeat(64),
        r#"{"decision":"approve"}"#,
        5_000,
        4_000,
        300,
        "carol",
    )
    .unwrap();
    let a = s.get("app").unwrap().unwrap();
    assert_eq!(a.status, AppStatus::Active);
    assert_eq!((a.decision.as_str(), a.score), ("approve", 12));
    assert_eq!(a.policy_sha256, "c".repeat(64));
    assert_eq!(a.verdict, r#"{"decision":"approve"}"#);
    assert_eq!((a.expires_at, a.recertify_by), (5_000, 4_000));

    let ev = s.events("app").unwrap();
    let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Registered,
            EventKind::Due,
            EventKind::Recertified
        ]
    );
    assert_eq!(ev[1].detail, "now remediate: MV-SCOPE-003");
    assert_eq!((ev[1].actor.as_str(), ev[1].at), ("bob", 200));
    assert_eq!((ev[2].actor.as_str(), ev[2].at), ("carol", 300));

    // Revoked is final: no recertification brings it back.
    s.finish(
        "app",
        None,
        AppStatus::Revoked,
        EventKind::Revoked,
        400,
        "admin",
        "by hand",
    )
    .unwrap();
    assert!(is_wrong_status(s.recertified(
        "app", "approve", 1, "c", "{}", 10, 10, 500, "bob"
    )));
    assert!(is_wrong_status(
        s.mark_due("app", "reject", 90, "{}", 500, "bob", "x")
    ));
}

/// The apps a sweep at `AT` must act on, and those it must leave.
const AT: i64 = 1_000_000;
const GRACE: i64 = 1_000;
const LEASE: i64 = 300;

fn seed_sweep(s: &dyn Store) {
    active(s, "expired", 10, AT - 1, AT + 10_000); // past expires_at
    active(s, "expires-now", 10, AT, AT + 10_000); // expires_at == at
    active(s, "overdue", 10, AT + 10_000, AT - GRACE - 1); // past recertify_by + grace
    // Within the grace period, at AT and until AT + 2 * LEASE.
    active(s, "in-grace", 10, AT + 10_000, AT - GRACE + 2 * LEASE);
    active(s, "fine", 10, AT + 10_000, AT + 5_000);
    active(s, "due-expired", 10, AT - 5, AT + 10_000);
    s.mark_due("due-expired", "reject", 99, "{}", 20, "x", "y")
        .unwrap();
    active(s, "revoked", 10, AT - 5, AT - 5);
    s.finish(
        "revoked",
        None,
        AppStatus::Revoked,
        EventKind::Revoked,
        30,
        "admin",
        "",
    )
    .unwrap();
    s.insert_pending(&new_app("stale-pending", AT - 3_600))
        .unwrap();
    s.record_registration("stale-pending", &registration("c-stale"))
        .unwrap();
    s.insert_pending(&new_app("fresh-pending", AT - 10))
        .unwrap();
}

const CLAIMED: [&str; 5] = [
    "due-expired",
    "expired",
    "expires-now",
    "overdue",
    "stale-pending",
];

fn claim_selects_what_is_due(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    seed_sweep(&*s);
    let got = s
        .claim_for_sweep(AT, GRACE, AT - 60, "replica-a", LEASE)
        .unwrap();
    assert_eq!(names(&got), CLAIMED);
    let stale = got.iter().find(|a| a.name == "stale-pending").unwrap();
    assert_eq!(stale.status, AppStatus::Pending);
    assert_eq!(
        stale.registration_access_token.as_ref().map(Secret::expose),
        Some(TOKEN),
        "the sweep needs the token to reconcile"
    );
    // Claimed: invisible to another claimer, and to the same one, until the lease ends.
    assert!(
        s.claim_for_sweep(AT, GRACE, AT - 60, "replica-b", LEASE)
            .unwrap()
            .is_empty()
    );
    assert!(
        s.claim_for_sweep(AT + LEASE - 1, GRACE, AT - 60, "replica-b", LEASE)
            .unwrap()
            .is_empty()
    );
}

fn expired_lease_is_claimable_again(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    seed_sweep(&*s);
    let first = s
        .claim_for_sweep(AT, GRACE, AT - 60, "dead-replica", LEASE)
        .unwrap();
    assert_eq!(names(&first), CLAIMED);
    // The claimer died; once its lease has run out another replica takes the apps.
    let again = s
        .claim_for_sweep(AT + LEASE, GRACE, AT - 60, "replica-b", LEASE)
        .unwrap();
    assert_eq!(names(&again), CLAIMED);
    // The dead claimer's late finish no longer counts.
    assert!(is_wrong_status(s.finish(
        "expired",
        Some("dead-replica"),
        AppStatus::Expired,
        EventKind::Expired,
        AT + LEASE,
        "sweep",
        ""
    )));
    s.finish(
        "expired",
        Some("replica-b"),
        AppStatus::Expired,
        EventKind::Expired,
        AT + LEASE,
        "sweep",
        "past expires_at",
    )
    .unwrap();
}

fn finish_forget_release(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    seed_sweep(&*s);
    s.claim_for_sweep(AT, GRACE, AT - 60, "me", LEASE).unwrap();

    // finish: only by the claimer, only to expired/revoked; clears the claim; one event.
    assert!(is_wrong_status(s.finish(
        "expired",
        Some("someone-else"),
        AppStatus::Expired,
        EventKind::Expired,
        AT,
        "sweep",
        ""
    )));
    assert!(
        s.finish(
            "expired",
            Some("me"),
            AppStatus::Active,
            EventKind::Expired,
            AT,
            "sweep",
            ""
        )
        .is_err()
    );
    s.finish(
        "expired",
        Some("me"),
        AppStatus::Expired,
        EventKind::Expired,
        AT,
        "sweep",
        "past expires_at",
    )
    .unwrap();
    let a = s.get("expired").unwrap().unwrap();
    assert_eq!(a.status, AppStatus::Expired);
    let ev = s.events("expired").unwrap();
    assert_eq!(ev.last().map(|e| e.kind), Some(EventKind::Expired));
    assert_eq!(
        ev.last().map(|e| e.detail.as_str()),
        Some("past expires_at")
    );
    // Done once: a second finish (a second replica, an admin) is refused.
    assert!(is_wrong_status(s.finish(
        "expired",
        Some("me"),
        AppStatus::Expired,
        EventKind::Expired,
        AT,
        "sweep",
        ""
    )));
    assert!(is_wrong_status(s.finish(
        "expired",
        None,
        AppStatus::Revoked,
        EventKind::Revoked,
        AT,
        "admin",
        ""
    )));
    // Not claimed by anyone: finish with a claimer is refused, without one (admin) allowed.
    assert!(is_wrong_status(s.finish(
        "fine",
        Some("me"),
        AppStatus::Revoked,
        EventKind::Revoked,
        AT,
        "sweep",
        ""
    )));
    s.finish(
        "fine",
        None,
        AppStatus::Revoked,
        EventKind::Revoked,
        AT,
        "admin",
        "asked",
    )
    .unwrap();
    assert_eq!(s.get("fine").unwrap().unwrap().status, AppStatus::Revoked);

    // forget_pending: only a pending row, only by its claimer.
    assert!(is_wrong_status(s.forget_pending("stale-pending", "other")));
    assert!(is_wrong_status(s.forget_pending("overdue", "me")));
    assert!(is_wrong_status(s.forget_pending("fresh-pending", "me")));
    s.forget_pending("stale-pending", "me").unwrap();
    assert!(s.get("stale-pending").unwrap().is_none());
    assert!(matches!(
        s.forget_pending("stale-pending", "me"),
        Err(StoreError::NotFound(_))
    ));

    // release: the app is untouched and claimable at once (the IdP was down).
    assert!(is_wrong_status(s.release("overdue", "other")));
    s.release("overdue", "me").unwrap();
    assert_eq!(s.get("overdue").unwrap().unwrap().status, AppStatus::Active);
    assert!(is_wrong_status(s.release("overdue", "me")));
    let again = s
        .claim_for_sweep(AT, GRACE, AT - 60, "other", LEASE)
        .unwrap();
    assert_eq!(names(&again), ["overdue"]);
    // A claimed app cannot be recertified under the sweep's feet.
    assert!(is_wrong_status(s.recertified(
        "overdue",
        "approve",
        1,
        "c",
        "{}",
        AT * 2,
        AT * 2,
        AT,
        "owner"
    )));
}

fn migrations_idempotent(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    {
        let s = open(&f);
        active(&*s, "kept", 1, 100, 50);
    }
    for _ in 0..3 {
        let s = open(&f);
        let a = s.get("kept").unwrap().expect("rows survive a reopen");
        assert_eq!(a.status, AppStatus::Active);
        assert_eq!(s.events("kept").unwrap().len(), 1);
    }
    assert_eq!(migration_rows(&f, kind), vec![1]);
}

fn migration_rows(f: &Fixture, kind: Kind) -> Vec<i64> {
    match kind {
        Kind::Sqlite => {
            let path = f.url.strip_prefix("sqlite:").unwrap();
            let c = rusqlite::Connection::open(path).unwrap();
            let mut st = c
                .prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")
                .unwrap();
            st.query_map([], |r| {
                let at: i64 = r.get(1)?;
                assert!(at > 1_700_000_000, "applied_at is a Unix time: {at}");
                r.get(0)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        }
        Kind::Postgres => {
            let mut c = postgres::Client::connect(&f.url, postgres::NoTls).unwrap();
            c.query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
        }
    }
}

fn newer_schema_refused(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    drop(open(&f));
    match kind {
        Kind::Sqlite => {
            let c = rusqlite::Connection::open(f.url.strip_prefix("sqlite:").unwrap()).unwrap();
            c.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)",
                [],
            )
            .unwrap();
        }
        Kind::Postgres => {
            let mut c = postgres::Client::connect(&f.url, postgres::NoTls).unwrap();
            c.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)",
                &[],
            )
            .unwrap();
        }
    }
    match store::open(&f.url) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains("version 9999"), "{msg}");
            assert!(msg.contains("newer"), "{msg}");
        }
        Err(other) => panic!("expected a Backend error, got {other}"),
        Ok(_) => panic!("a store with a newer schema was opened"),
    }
}

/// Two stores (two connections, or two `open()` of one SQLite file) claim at once from two
/// threads, many times over: the claimed sets are disjoint and together cover every due app.
fn concurrent_claims_are_disjoint(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let a = open(&f);
    let b = open(&f);
    const ROUNDS: usize = 8;
    const PER_ROUND: usize = 12;
    for round in 0..ROUNDS {
        let at = AT + (round as i64) * 10;
        for i in 0..PER_ROUND {
            active(&*a, &format!("r{round}-app{i:02}"), 1, at - 1, at + 10_000);
        }
        let barrier = Barrier::new(2);
        let (got_a, got_b) = std::thread::scope(|scope| {
            let ha = scope.spawn(|| {
                barrier.wait();
                a.claim_for_sweep(at, GRACE, 0, "replica-a", 1_000_000)
            });
            let hb = scope.spawn(|| {
                barrier.wait();
                b.claim_for_sweep(at, GRACE, 0, "replica-b", 1_000_000)
            });
            (ha.join().unwrap(), hb.join().unwrap())
        });
        let got_a: BTreeSet<String> = names(&got_a.unwrap()).into_iter().collect();
        let got_b: BTreeSet<String> = names(&got_b.unwrap()).into_iter().collect();
        assert!(
            got_a.is_disjoint(&got_b),
            "round {round}: both claimed {:?}",
            got_a.intersection(&got_b).collect::<Vec<_>>()
        );
        let all: BTreeSet<String> = got_a.union(&got_b).cloned().collect();
        let expected: BTreeSet<String> = (0..PER_ROUND)
            .map(|i| format!("r{round}-app{i:02}"))
            .collect();
        assert_eq!(all, expected, "round {round}");
        // Each claimer can finish exactly its own apps; nothing is finished twice.
        for (claimer, set, other) in [("replica-a", &got_a, &*b), ("replica-b", &got_b, &*a)] {
            for name in set {
                other
                    .finish(
                        name,
                        Some(claimer),
                        AppStatus::Expired,
                        EventKind::Expired,
                        at,
                        claimer,
                        "",
                    )
                    .unwrap();
            }
        }
    }
    // One `expired` event per app.
    for app in a.list().unwrap() {
        let expired = a
            .events(&app.name)
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::Expired)
            .count();
        assert_eq!(expired, 1, "{}", app.name);
    }
}

/// Two stores revoke the same app at once (an admin and a sweep, two replicas): exactly one
/// succeeds, the other is told the app is no longer live, and there is one event. Each
/// change reads the row's status and writes in one transaction that holds the row (SQLite:
/// `BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE`).
fn concurrent_finish_happens_once(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let a = open(&f);
    let b = open(&f);
    for round in 0..20 {
        let name = format!("app{round:02}");
        active(&*a, &name, 1, AT + 10_000, AT + 10_000);
        let barrier = Barrier::new(2);
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
            [&a, &b]
                .map(|s| {
                    let (barrier, name) = (&barrier, &name);
                    scope.spawn(move || {
                        barrier.wait();
                        s.finish(
                            name,
                            None,
                            AppStatus::Revoked,
                            EventKind::Revoked,
                            AT,
                            "x",
                            "",
                        )
                    })
                })
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::WrongStatus { .. }))),
            "{results:?}"
        );
        let revoked = a
            .events(&name)
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::Revoked)
            .count();
        assert_eq!(revoked, 1);
    }
}

/// One store shared by threads (as the server shares it): claims are disjoint too.
fn shared_store_threads(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s: Arc<dyn Store> = Arc::from(open(&f));
    for i in 0..20 {
        active(&*s, &format!("app{i:02}"), 1, AT - 1, AT + 10_000);
    }
    let barrier = Arc::new(Barrier::new(4));
    let sets: Vec<Vec<String>> = (0..4)
        .map(|t| {
            let s = s.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                names(
                    &s.claim_for_sweep(AT, GRACE, 0, &format!("t{t}"), LEASE)
                        .unwrap(),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let mut all: Vec<String> = sets.into_iter().flatten().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, all.len(), "an app was claimed twice");
    assert_eq!(total, 20);
}

/// Neither the registration access token nor the client secret is printed by `Debug`, and
/// the client secret is never stored.
fn secrets_stay_hidden(kind: Kind) {
    let Some(f) = fixture(kind) else { return };
    let s = open(&f);
    active(&*s, "app", 1, 100, 50);
    let a = s.get("app").unwrap().unwrap();
    assert_eq!(
        a.registration_access_token.as_ref().map(Secret::expose),
        Some(TOKEN)
    );
    for text in [
        format!("{a:?}"),
        format!("{a:#?}"),
        format!("{:?}", s.list().unwrap()),
        format!("{:?}", s.events("app").unwrap()),
    ] {
        assert!(!text.contains(TOKEN), "token in {text}");
        assert!(
            !text.contains("client-secret-never-stored"),
            "secret in {text}"
        );
        assert!(text.contains("[redacted]") || !text.contains("registration_access_token"));
    }
    // The client secret is in no column.
    let dump = match kind {
        Kind::Sqlite => {
            drop(s);
            std::fs::read(f.url.strip_prefix("sqlite:").unwrap())
                .into_iter()
                .chain(std::fs::read(format!(
                    "{}-wal",
                    f.url.strip_prefix("sqlite:").unwrap()
                )))
                .flatten()
                .collect::<Vec<u8>>()
        }
        Kind::Postgres => {
            let mut c = postgres::Client::connect(&f.url, postgres::NoTls).unwrap();
            let row = c
                .query_one("SELECT string_agg(apps::text, '|') FROM apps", &[])
                .unwrap();
            row.get::<_, String>(0).into_bytes()
        }
    };
    let dump = String::from_utf8_lossy(&dump);
    assert!(dump.contains(TOKEN), "the dump reads the rows");
    assert!(!dump.contains("client-secret-never-stored"));
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name(super::Kind::Postgres)
            }
        }
    )*};
}

both!(
    insert_get_list,
    duplicate_name,
    duplicate_race,
    record_and_activate,
    delete_pending,
    recertify_and_due,
    claim_selects_what_is_due,
    expired_lease_is_claimable_again,
    finish_forget_release,
    migrations_idempotent,
    newer_schema_refused,
    concurrent_claims_are_disjoint,
    concurrent_finish_happens_once,
    shared_store_threads,
    secrets_stay_hidden,
);

// ---------------------------------------------------------------------------------------
// Backend-specific.

#[test]
fn open_refuses_unknown_schemes_naming_the_expected_ones() {
    for url in [
        "mysql://u:pw@h/db",
        "sqlite3:/tmp/x",
        "/tmp/inventory.db",
        "",
        "SQLITE:/x",
    ] {
        match store::open(url) {
            Err(StoreError::Url(shown, why)) => {
                assert!(why.contains("sqlite:PATH"), "{why}");
                assert!(why.contains("postgres://"), "{why}");
                assert!(!shown.contains("pw"), "password shown: {shown}");
            }
            Err(other) => panic!("{url}: expected Url, got {other}"),
            Ok(_) => panic!("{url}: opened"),
        }
    }
    for url in ["sqlite:", "sqlite::memory:", "sqlite:file:x.db?mode=memory"] {
        match store::open(url) {
            Err(StoreError::Url(_, why)) => assert!(why.contains("sqlite:PATH"), "{why}"),
            other => panic!("{url}: expected Url, got {:?}", other.err()),
        }
    }
    assert!(!std::path::Path::new(":memory:").exists());
}

#[test]
fn postgres_errors_never_show_the_password() {
    // Nothing listens on port 1: the connection fails, the message names no password.
    let url = "postgres://microvet:hunter2-secret@127.0.0.1:1/db?connect_timeout=2";
    match store::open(url) {
        Err(e) => {
            let text = format!("{e} {e:?}");
            assert!(!text.contains("hunter2-secret"), "{text}");
            assert!(text.contains("PostgreSQL"), "{text}");
        }
        Ok(_) => panic!("connected to port 1"),
    }
    match store::open("postgres://u:hunter2-secret@host:notaport/db") {
        Err(StoreError::Url(shown, why)) => {
            assert!(!shown.contains("hunter2-secret") && !why.contains("hunter2-secret"));
        }
        other => panic!("expected Url, got {:?}", other.err()),
    }
}

#[test]
fn sqlite_file_is_created_private_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let s = store::open(&format!("sqlite:{}", path.display())).unwrap();
    s.insert_pending(&new_app("x", 1)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the inventory holds tokens: owner-only");
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn sqlite_missing_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/folder/inventory.db");
    match store::open(&format!("sqlite:{}", path.display())) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains("no/such/folder/inventory.db"), "{msg}")
        }
        other => panic!("expected Backend, got {:?}", other.err()),
    }
}

#[test]
fn sqlite_file_that_is_not_a_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "not a database, just text that is long enough ".repeat(40),
    )
    .unwrap();
    match store::open(&format!("sqlite:{}", path.display())) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains("notes.txt"), "{msg}");
            assert!(msg.contains("not a database"), "{msg}");
        }
        other => panic!("expected Backend, got {:?}", other.err()),
    }
    // Left as it was.
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("not a database")
    );
}

#[test]
fn sqlite_two_processes_worth_of_opens_migrate_once() {
    // Several `open()` of a new file at once: one creates the schema, the others wait
    // (busy timeout) and find it current.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("race.db").display());
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    store::open(&url).map(|_| ())
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap().unwrap();
        }
    });
    let c = rusqlite::Connection::open(dir.path().join("race.db")).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn postgres_store_can_be_dropped_inside_an_async_runtime() {
    // The server holds the store in its state and drops it when it shuts down, inside the
    // runtime: the synchronous client's own runtime must not be dropped there.
    let Some(f) = fixture(Kind::Postgres) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let s = open(&f);
    rt.block_on(async move {
        drop(s);
    });
}
