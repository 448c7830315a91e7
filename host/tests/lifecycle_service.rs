//! The lifecycle flows (`lifecycle::service::Lifecycle`) on a real SQLite inventory, the
//! real component, a real decision log, and an identity provider double that records
//! every call and fails on demand (503, 504, an RFC 7591 refusal). The HTTP surface
//! against a real OpenID provider is `lifecycle_e2e.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use microvet::decision_log::DecisionLog;
use microvet::lifecycle::idp::{Idp, IdpError};
use microvet::lifecycle::service::{EventLog, FixedPolicies, Lifecycle, PolicyLookup};
use microvet::lifecycle::store::{self, Store};
use microvet::lifecycle::{AppStatus, Registration, Secret};
use microvet::{PolicySource, Vetter, VetterOptions};
use serde_json::Value;

const APPROVED: &str = include_str!("../../tests/corpus/oauth-clean-confidential/input.yaml");
const REJECTED: &str = include_str!("../../tests/corpus/case-study/input.yaml");
const REMEDIATE: &str = include_str!("../../tests/corpus/expiry-missing/input.yaml");
const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");
const DAY: i64 = 86_400;
const T0: i64 = 1_800_000_000;

fn vetter() -> &'static Vetter {
    static V: OnceLock<Vetter> = OnceLock::new();
    V.get_or_init(|| Vetter::new(VetterOptions::default()).expect("vetter"))
}

/// How the double answers the next calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    Down,
    Slow,
    Refuse,
}

#[derive(Default)]
struct IdpState {
    mode: Option<Mode>,
    next: u32,
    /// client_id → (registration URI, token, metadata sent)
    clients: BTreeMap<String, (String, String, Value)>,
    registers: u32,
    deletes: u32,
}

/// The IdP double: one `Arc` shared by the test and the lifecycle.
#[derive(Clone, Default)]
struct FakeIdp(Arc<Mutex<IdpState>>);

impl FakeIdp {
    fn set(&self, mode: Mode) {
        self.0.lock().unwrap().mode = Some(mode);
    }
    fn fail(&self) -> Option<IdpError> {
        match self.0.lock().unwrap().mode.unwrap_or(Mode::Ok) {
            Mode::Ok => None,
            Mode::Down => Some(IdpError::Unavailable("connection refused".into())),
            Mode::Slow => Some(IdpError::Timeout(5000)),
            Mode::Refuse => Some(IdpError::Refused {
                status: 400,
                error: "invalid_redirect_uri".into(),
                description: Some("redirect_uris must use https".into()),
            }),
        }
    }
    fn knows(&self, client_id: &str) -> bool {
        self.0.lock().unwrap().clients.contains_key(client_id)
    }
    fn count(&self) -> (u32, u32, usize) {
        let s = self.0.lock().unwrap();
        (s.registers, s.deletes, s.clients.len())
    }
    fn sent(&self, client_id: &str) -> Value {
        self.0.lock().unwrap().clients[client_id].2.clone()
    }
}

impl Idp for FakeIdp {
    fn issuer(&self) -> &str {
        "https://idp.example.com"
    }
    fn register(&self, metadata: &Value) -> Result<Registration, IdpError> {
        if let Some(e) = self.fail() {
            return Err(e);
        }
        let mut s = self.0.lock().unwrap();
        s.registers += 1;
        s.next += 1;
        let id = format!("client-{}", s.next);
        let uri = format!("https://idp.example.com/reg/{id}");
        let token = format!("rat-SECRET-{}", s.next);
        s.clients
            .insert(id.clone(), (uri.clone(), token.clone(), metadata.clone()));
        Ok(Registration {
            client_id: id.clone(),
            client_secret: Some(Secret::new(format!("cs-SECRET-{}", s.next))),
            registration_client_uri: Some(uri),
            registration_access_token: Some(Secret::new(token)),
            metadata: serde_json::json!({ "client_id": id }),
        })
    }
    fn read(&self, uri: &str, token: &Secret) -> Result<Option<Value>, IdpError> {
        if let Some(e) = self.fail() {
            return Err(e);
        }
        let s = self.0.lock().unwrap();
        Ok(s.clients
            .values()
            .find(|(u, t, _)| u == uri && t == token.expose())
            .map(|(_, _, m)| m.clone()))
    }
    fn delete(&self, uri: &str, token: &Secret) -> Result<(), IdpError> {
        if let Some(e) = self.fail() {
            return Err(e);
        }
        let mut s = self.0.lock().unwrap();
        let id = s
            .clients
            .iter()
            .find(|(_, (u, t, _))| u == uri && t == token.expose())
            .map(|(id, _)| id.clone());
        if let Some(id) = id {
            s.clients.remove(&id);
            s.deletes += 1;
        }
        Ok(())
    }
}

/// Policies the test can swap (recertification under a changed policy).
#[derive(Clone, Default)]
struct SwapPolicies(Arc<Mutex<Vec<(String, Vetter)>>>);

impl PolicyLookup for SwapPolicies {
    fn policy(&self, name: &str) -> Option<Vetter> {
        FixedPolicies(self.0.lock().unwrap().clone()).policy(name)
    }
    fn names(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }
}

struct SharedLog(Arc<DecisionLog>);
impl EventLog for SharedLog {
    fn append(
        &self,
        r: microvet::decision_log::Record,
    ) -> Result<(), microvet::decision_log::LogError> {
        self.0.append_blocking(r).map(|_| ())
    }
}

struct Fixture {
    lc: Lifecycle,
    idp: FakeIdp,
    policies: SwapPolicies,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite:{}", dir.path().join("apps.db").display())).unwrap();
    let idp = FakeIdp::default();
    let policies = SwapPolicies::default();
    policies
        .0
        .lock()
        .unwrap()
        .push(("default".to_owned(), vetter().clone()));
    let log_path = dir.path().join("decisions.jsonl");
    let (log, _) = DecisionLog::open(&log_path, false).unwrap();
    Fixture {
        lc: Lifecycle {
            store,
            idp: Some(Box::new(idp.clone())),
            policies: Box::new(policies.clone()),
            log: Some(Box::new(SharedLog(Arc::new(log)))),
            claimer: "test".to_owned(),
        },
        idp,
        policies,
        log_path,
        _dir: dir,
    }
}

impl Fixture {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap()
    }
    fn store(&self) -> &dyn Store {
        &*self.lc.store
    }
}

fn no_secret(text: &str) {
    assert!(!text.contains("SECRET"), "a secret leaked: {text}");
}

#[test]
fn register_approved_provisions_only_what_was_approved_and_keeps_no_secret() {
    let f = fixture();
    let r =
        f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
            .unwrap();
    assert_eq!(r.name, "room-finder");
    assert_eq!(r.decision, "approve");
    // client_ttl_days 60, recertify_every_days 180 in the verdict's controls.
    assert_eq!(
        r.expires_at,
        microvet::lifecycle::service::rfc3339(T0 + 60 * DAY)
    );
    assert_eq!(
        r.recertify_by,
        microvet::lifecycle::service::rfc3339(T0 + 180 * DAY)
    );
    assert_eq!(r.client_secret.as_ref().unwrap().expose(), "cs-SECRET-1");
    let answer = serde_json::to_string(&r).unwrap();
    assert!(
        answer.contains("cs-SECRET-1"),
        "the one-time answer carries the secret"
    );
    assert!(r.env.contains("OIDC_CLIENT_ID=\"client-1\""), "{}", r.env);
    assert!(
        r.env.contains("OIDC_CODE_CHALLENGE_METHOD=S256"),
        "{}",
        r.env
    );
    assert!(!answer.contains("rat-SECRET"), "{answer}");

    let sent = f.idp.sent("client-1");
    let mut keys: Vec<&str> = sent
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "application_type",
            "client_name",
            "grant_types",
            "jwks_uri",
            "redirect_uris",
            "response_types",
            "scope",
            "software_id",
            "token_endpoint_auth_method",
        ]
    );
    assert_eq!(sent["scope"], "openid calendar.read");
    assert_eq!(
        sent["redirect_uris"][0],
        "https://apps.example.com/room-finder/callback"
    );

    let app = f.store().get("room-finder").unwrap().unwrap();
    assert_eq!(app.status, AppStatus::Active);
    assert_eq!(app.client_id.as_deref(), Some("client-1"));
    assert_eq!(app.software_id, sent["software_id"].as_str().unwrap());

    let list = serde_json::to_string(&f.lc.list().unwrap()).unwrap();
    let show = serde_json::to_string(&f.lc.show("room-finder").unwrap()).unwrap();
    no_secret(&list);
    no_secret(&show);
    let log = f.log();
    no_secret(&log);
    assert!(log.contains(r#""event":"registered""#), "{log}");
    assert!(log.contains(r#""actor":"portal""#), "{log}");
    assert!(microvet::decision_log::verify(log.as_bytes()).is_ok());
}

#[test]
fn remediate_and_reject_are_422_with_the_verdict_and_nothing_at_the_idp() {
    let f = fixture();
    for (text, decision) in [(REJECTED, "reject"), (REMEDIATE, "remediate")] {
        let e =
            f.lc.register(text.as_bytes(), "default", "portal", T0)
                .unwrap_err();
        assert_eq!(e.status(), 422, "{e}");
        let body = e.body();
        assert_eq!(body["error"]["code"], "not-approved");
        assert_eq!(body["verdict"]["decision"], decision);
    }
    assert_eq!(f.idp.count(), (0, 0, 0));
    assert!(f.store().list().unwrap().is_empty());
    assert_eq!(f.log(), "");
}

#[test]
fn duplicate_name_is_409_and_registers_once() {
    let f = fixture();
    f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
        .unwrap();
    let e =
        f.lc.register(APPROVED.as_bytes(), "default", "other", T0 + 1)
            .unwrap_err();
    assert_eq!(e.status(), 409, "{e}");
    assert_eq!(f.idp.count(), (1, 0, 1));
}

#[test]
fn idp_failures_map_to_502_503_504_and_mark_nothing_active() {
    let f = fixture();
    f.idp.set(Mode::Refuse);
    let e =
        f.lc.register(APPROVED.as_bytes(), "default", "p", T0)
            .unwrap_err();
    assert_eq!(e.status(), 502);
    assert_eq!(e.body()["error"]["idp_error"], "invalid_redirect_uri");
    assert_eq!(
        e.body()["error"]["idp_error_description"],
        "redirect_uris must use https"
    );
    assert!(f.store().get("room-finder").unwrap().is_none());

    f.idp.set(Mode::Down);
    let e =
        f.lc.register(APPROVED.as_bytes(), "default", "p", T0)
            .unwrap_err();
    assert_eq!(e.status(), 503);
    assert!(f.store().get("room-finder").unwrap().is_none());

    // A timeout may have created the client: the pending row stays (software_id for
    // discovery), never active; the sweep forgets it later.
    f.idp.set(Mode::Slow);
    let e =
        f.lc.register(APPROVED.as_bytes(), "default", "p", T0)
            .unwrap_err();
    assert_eq!(e.status(), 504);
    let app = f.store().get("room-finder").unwrap().unwrap();
    assert_eq!(app.status, AppStatus::Pending);
    f.idp.set(Mode::Ok);
    let report = f.lc.sweep(T0 + DAY, true, "sweep").unwrap();
    assert_eq!(report.actions.len(), 1, "{report:?}");
    assert_eq!(report.actions[0].action, "reconcile");
    assert!(f.store().get("room-finder").unwrap().is_none());
    assert!(
        f.log().contains(&app.software_id),
        "the log names the software_id"
    );
}

#[test]
fn sweep_dry_run_changes_nothing_then_apply_expires_once() {
    let f = fixture();
    f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
        .unwrap();
    let before = f.lc.sweep(T0 + 59 * DAY, true, "sweep").unwrap();
    assert!(before.actions.is_empty(), "{before:?}");

    let at = T0 + 61 * DAY;
    let dry = f.lc.sweep(at, false, "cli").unwrap();
    assert_eq!(dry.actions.len(), 1);
    assert_eq!(
        (dry.actions[0].action, dry.actions[0].outcome),
        ("expire", "would")
    );
    assert!(f.idp.knows("client-1"));
    assert_eq!(
        f.store().get("room-finder").unwrap().unwrap().status,
        AppStatus::Active
    );

    let done = f.lc.sweep(at, true, "sweep").unwrap();
    assert_eq!(
        (done.actions[0].action, done.actions[0].outcome),
        ("expire", "done")
    );
    assert!(!f.idp.knows("client-1"));
    assert_eq!(
        f.store().get("room-finder").unwrap().unwrap().status,
        AppStatus::Expired
    );
    assert!(
        f.lc.sweep(at + DAY, true, "sweep")
            .unwrap()
            .actions
            .is_empty()
    );
    assert_eq!(f.idp.count(), (1, 1, 0));
    assert!(f.log().contains(r#""event":"expired""#));
}

#[test]
fn sweep_with_the_idp_down_releases_the_claim_and_retries_next_time() {
    let f = fixture();
    f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
        .unwrap();
    f.idp.set(Mode::Down);
    let at = T0 + 61 * DAY;
    let r = f.lc.sweep(at, true, "sweep").unwrap();
    assert_eq!(r.actions[0].outcome, "retry");
    assert_eq!(
        f.store().get("room-finder").unwrap().unwrap().status,
        AppStatus::Active
    );
    f.idp.set(Mode::Ok);
    let r = f.lc.sweep(at, true, "sweep").unwrap();
    assert_eq!(r.actions[0].outcome, "done", "{r:?}");
    assert!(!f.idp.knows("client-1"));
}

#[test]
fn recertify_under_a_stricter_policy_marks_due_and_the_sweep_still_expires_it() {
    let f = fixture();
    f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
        .unwrap();
    // Still approved: new dates from now.
    let d =
        f.lc.recertify("room-finder", "owner", T0 + 10 * DAY)
            .unwrap();
    assert_eq!(d.app.status, AppStatus::Active);
    assert_eq!(
        d.app.recertify_by,
        microvet::lifecycle::service::rfc3339(T0 + 190 * DAY)
    );

    // The organisation denies calendar.read and shortens the grace period to 3 days.
    let stricter = DEFAULT_POLICY
        .replace(
            "calendar.read:    { access: read, grants: [calendar.events] }",
            "calendar.read:    { access: read, grants: [calendar.events], denied: true }",
        )
        .replace(
            "  ttl_days: { min: 30, max: 90 }",
            "  ttl_days: { min: 30, max: 90 }\n  recertify_grace_days: 3",
        );
    assert_ne!(stricter, DEFAULT_POLICY);
    let v = vetter().with_policy(PolicySource::Text(stricter)).unwrap();
    *f.policies.0.lock().unwrap() = vec![("default".to_owned(), v)];
    let d =
        f.lc.recertify("room-finder", "owner", T0 + 20 * DAY)
            .unwrap();
    assert_eq!(d.app.status, AppStatus::Due);
    assert_ne!(d.verdict["decision"], "approve");
    assert!(d.events.iter().any(|e| e.detail.contains("now ")));
    assert!(f.idp.knows("client-1"), "due is not yet disabled");

    // Due does not move the expiry (T0 + 10d + 60d): the sweep disables it then.
    assert!(
        f.lc.sweep(T0 + 69 * DAY, true, "sweep")
            .unwrap()
            .actions
            .is_empty()
    );
    let r = f.lc.sweep(T0 + 71 * DAY, true, "sweep").unwrap();
    assert_eq!(r.actions[0].action, "expire", "{r:?}");
    assert!(!f.idp.knows("client-1"));
}

/// A registered app as `register` leaves it, with chosen dates.
fn registered(f: &Fixture, name: &str, expires_at: i64, recertify_by: i64) -> String {
    let reg = f
        .idp
        .register(&serde_json::json!({ "client_name": name }))
        .unwrap();
    let new = microvet::lifecycle::NewApp {
        name: name.into(),
        owner: "workplace@example.com".into(),
        manifest: APPROVED.as_bytes().to_vec(),
        manifest_sha256: "00".repeat(32),
        policy_name: "default".into(),
        policy_sha256: "11".repeat(32),
        decision: "approve".into(),
        score: 5,
        controls: Value::Null,
        verdict: "{}".into(),
        created_at: T0,
        expires_at,
        recertify_by,
        software_id: format!("sw-{name}"),
    };
    f.store().insert_pending(&new).unwrap();
    f.store().record_registration(name, &reg).unwrap();
    f.store()
        .activate(name, T0, expires_at, recertify_by, "portal")
        .unwrap();
    reg.client_id
}

#[test]
fn the_sweep_revokes_an_app_not_recertified_after_its_policys_grace_period() {
    let f = fixture();
    let grace3 = DEFAULT_POLICY.replace(
        "  ttl_days: { min: 30, max: 90 }",
        "  ttl_days: { min: 30, max: 90 }\n  recertify_grace_days: 3",
    );
    let v = vetter().with_policy(PolicySource::Text(grace3)).unwrap();
    *f.policies.0.lock().unwrap() = vec![("default".to_owned(), v)];
    let id = registered(&f, "late", T0 + 100 * DAY, T0 + 10 * DAY);
    let dry = f.lc.sweep(T0 + 12 * DAY, false, "cli").unwrap();
    assert!(dry.actions.is_empty(), "within grace: {dry:?}");
    assert!(
        f.lc.sweep(T0 + 12 * DAY, true, "sweep")
            .unwrap()
            .actions
            .is_empty()
    );
    let r = f.lc.sweep(T0 + 13 * DAY + 1, true, "sweep").unwrap();
    assert_eq!(
        (r.actions[0].action, r.actions[0].outcome),
        ("revoke", "done"),
        "{r:?}"
    );
    assert!(!f.idp.knows(&id));
    assert_eq!(
        f.store().get("late").unwrap().unwrap().status,
        AppStatus::Revoked
    );
}

#[test]
fn revoke_disables_at_once_and_twice_is_409() {
    let f = fixture();
    f.lc.register(APPROVED.as_bytes(), "default", "portal", T0)
        .unwrap();
    let d = f.lc.revoke("room-finder", "security", T0 + DAY).unwrap();
    assert_eq!(d.app.status, AppStatus::Revoked);
    assert!(!f.idp.knows("client-1"));
    assert_eq!(
        f.lc.revoke("room-finder", "security", T0 + DAY)
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        f.lc.revoke("nope", "security", T0).unwrap_err().status(),
        404
    );
    assert!(f.log().contains(r#""actor":"security""#));
}

#[test]
fn a_crash_after_the_registration_was_recorded_is_reconciled_by_the_sweep() {
    let f = fixture();
    // What `register` wrote before a crash: the pending row and the IdP's answer.
    let reg = f
        .idp
        .register(&serde_json::json!({ "client_name": "room-finder" }))
        .unwrap();
    let new = microvet::lifecycle::NewApp {
        name: "room-finder".into(),
        owner: "workplace@example.com".into(),
        manifest: APPROVED.as_bytes().to_vec(),
        manifest_sha256: "00".repeat(32),
        policy_name: "default".into(),
        policy_sha256: "11".repeat(32),
        decision: "approve".into(),
        score: 5,
        controls: Value::Null,
        verdict: "{}".into(),
        created_at: T0,
        expires_at: T0 + 60 * DAY,
        recertify_by: T0 + 180 * DAY,
        software_id: "sw-1".into(),
    };
    f.store().insert_pending(&new).unwrap();
    f.store().record_registration("room-finder", &reg).unwrap();
    assert!(f.idp.knows("client-1"));
    // Too recent: a registration may be in flight.
    assert!(
        f.lc.sweep(T0 + 60, true, "sweep")
            .unwrap()
            .actions
            .is_empty()
    );
    let r = f.lc.sweep(T0 + 3600, true, "sweep").unwrap();
    assert_eq!(
        (r.actions[0].action, r.actions[0].outcome),
        ("reconcile", "done"),
        "{r:?}"
    );
    assert!(!f.idp.knows("client-1"));
    assert!(f.store().get("room-finder").unwrap().is_none());
    let log = f.log();
    assert!(log.contains(r#""event":"reconciled""#), "{log}");
    no_secret(&log);
}

#[test]
fn unregistrable_manifests_are_422_before_the_idp() {
    let f = fixture();
    let no_client: String = APPROVED
        .lines()
        .take_while(|l| !l.starts_with("client:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e =
        f.lc.register(no_client.as_bytes(), "default", "p", T0)
            .unwrap_err();
    assert!(e.status() == 422, "{e}");
    let upper = APPROVED.replace("name: room-finder", "name: Room-Finder");
    let e =
        f.lc.register(upper.as_bytes(), "default", "p", T0)
            .unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
    assert_eq!(
        f.lc.register(APPROVED.as_bytes(), "nope", "p", T0)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(f.idp.count().0, 0);
}

#[test]
fn an_approval_resting_on_a_waiver_expires_with_it() {
    let f = fixture();
    let manifest = format!(
        "{APPROVED}third_party_deps:\n  - {{ name: chat-plugin, vendor: plugin-vendor.com, dpa: true }}\n"
    );
    let waivers = format!(
        "waivers:\n  - {{ id: WVR-9, rule: MV-VENDOR-001, app: room-finder, manifest_sha256: {}, reason: vendor review booked, approved_by: ciso@example.com, approved_on: 2026-12-01, expires: 2026-12-20 }}\n",
        microvet_core::sha256_hex(manifest.as_bytes())
    );
    let day = microvet_core::Date::parse("2026-12-03").unwrap();
    let waived = vetter()
        .with_waivers(Some(waivers))
        .unwrap()
        .on(microvet::Today::Fixed(day));
    f.policies
        .0
        .lock()
        .unwrap()
        .push(("waived".to_owned(), waived));
    // Registered on the day of the vet: the controls say 60 days (expiry) and 180
    // (recertification), the waiver ends with 2026-12-20.
    let now = day.days() * DAY + 3600;
    let r =
        f.lc.register(manifest.as_bytes(), "waived", "portal", now)
            .unwrap();
    let end = (day.days() + 18) * DAY;
    assert_eq!(r.expires_at, microvet::lifecycle::service::rfc3339(end));
    assert_eq!(r.recertify_by, microvet::lifecycle::service::rfc3339(end));
    let log = f.log();
    assert!(log.contains(r#""waivers":["WVR-9"]"#), "{log}");
}
