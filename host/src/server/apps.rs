//! The app lifecycle routes (see docs/LIFECYCLE.md):
//!
//! | route | role | what |
//! |---|---|---|
//! | `POST /v1/apps[?policy=NAME]` | register | vet a manifest and, if approved, register its client at the IdP (`201`) |
//! | `GET /v1/apps` | register | the inventory (no secrets) |
//! | `GET /v1/apps/{name}` | register | one app: verdict and history |
//! | `POST /v1/apps/{name}/recertify` | register | re-vet against the policy in force |
//! | `POST /v1/apps/{name}/revoke` | admin | disable at the IdP now |
//! | `POST /v1/apps/sweep[?at=RFC3339]` | admin | expire / revoke what is due, reconcile crashed registrations |
//! | `GET /apps` | — | the security team's page (it asks for a token and calls the API) |
//!
//! Every `/v1/apps*` route needs `Authorization: Bearer TOKEN` (`401` without a listed
//! token, `403` for a role that may not). Without `--store`, `--idp` and `--api-tokens`
//! they answer `404` `lifecycle-not-configured`. The flows are synchronous and run on the
//! blocking pool.

// The error of a handler step is the response itself (as in `body.rs`).
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::errors::{body_rejection, error, json_response, query_rejection};
use super::{App, body};
use crate::Vetter;
use crate::decision_log::{LogError, Record};
use crate::lifecycle::auth::{Principal, Role};
use crate::lifecycle::service::{EventLog, Lifecycle, LifecycleError, PolicyLookup};

/// The lifecycle of a server: the flows and who may call them.
pub(super) struct AppsState {
    pub(super) lifecycle: Arc<Lifecycle>,
    pub(super) sweep_interval: Option<Duration>,
}

/// The server's policies in force, for the flows (weak: the flows live inside the app).
pub(super) struct ServerPolicies(pub(super) Weak<App>);

impl PolicyLookup for ServerPolicies {
    fn policy(&self, name: &str) -> Option<Vetter> {
        let app = self.0.upgrade()?;
        let set = app.policies.current();
        set.get(name).map(|n| n.vetter.clone())
    }
    fn names(&self) -> Vec<String> {
        self.0
            .upgrade()
            .map(|app| app.policies.current().names())
            .unwrap_or_default()
    }
}

/// The server's decision log, for the flows' events.
pub(super) struct ServerLog(pub(super) Weak<App>);

impl EventLog for ServerLog {
    fn append(&self, record: Record) -> Result<(), LogError> {
        match self.0.upgrade() {
            Some(app) => match &app.log {
                Some(log) => log.append_blocking(record).map(|_| ()),
                None => Ok(()),
            },
            None => Err(LogError::Unavailable),
        }
    }
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn lifecycle_error(e: &LifecycleError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::warn!(code = e.code(), error = %e, "app lifecycle call failed");
    }
    json_response(status, e.body().to_string())
}

fn not_configured() -> Response {
    lifecycle_error(&LifecycleError::NotConfigured)
}

/// The role a request to a protected route needs (`None`: the route is not protected, or
/// the method is not one of the route's, which gets its 405 without a token).
pub(super) fn protected(route: &str, method: &Method) -> Option<Role> {
    match (route, method.as_str()) {
        // HEAD is served by the GET handler (axum): it needs the same token.
        ("/v1/apps", "GET" | "HEAD" | "POST")
        | ("/v1/apps/{name}", "GET" | "HEAD")
        | ("/v1/apps/{name}/recertify", "POST") => Some(Role::Register),
        ("/v1/apps/{name}/revoke" | "/v1/apps/sweep" | "/v1/discover", "POST") => Some(Role::Admin),
        _ => None,
    }
}

/// The caller's principal if the route is on and the caller may act as `needed`; otherwise
/// the 404 (route off), 401 (no valid token) or 403 (role too weak). Run before the body
/// is read (see `super::middleware::observe`).
pub(super) fn admit(
    app: &App,
    route: &str,
    headers: &HeaderMap,
    needed: Role,
) -> Result<Principal, Response> {
    if route == "/v1/discover" {
        if app.discover.is_none() {
            return Err(super::discover::not_enabled());
        }
    } else if app.apps.is_none() {
        return Err(not_configured());
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(principal) = app.tokens.as_ref().and_then(|t| t.authorize(presented)) else {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            if presented.is_some() {
                "the bearer token is not valid".to_owned()
            } else {
                "this route needs `Authorization: Bearer TOKEN`".to_owned()
            },
            Some("ask the security team for an API token (`--api-tokens`)"),
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Err(r);
    };
    if !principal.role.allows(needed) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has the role `{}`; this route needs `{}`",
                principal.name,
                principal.role.as_str(),
                needed.as_str()
            ),
            None,
        ));
    }
    Ok(principal)
}

/// The lifecycle of a request that [`admit`] let in.
fn lifecycle(app: &App) -> Result<&Arc<Lifecycle>, Response> {
    app.apps
        .as_ref()
        .map(|s| &s.lifecycle)
        .ok_or_else(not_configured)
}

/// Runs a flow on the blocking pool and renders its answer.
async fn blocking<T: serde::Serialize + Send + 'static>(
    lifecycle: &Arc<Lifecycle>,
    ok: StatusCode,
    f: impl FnOnce(&Lifecycle) -> Result<T, LifecycleError> + Send + 'static,
) -> Response {
    let lc = Arc::clone(lifecycle);
    match tokio::task::spawn_blocking(move || f(&lc)).await {
        Ok(Ok(v)) => match serde_json::to_string(&v) {
            Ok(body) => json_response(ok, body),
            Err(e) => lifecycle_error(&LifecycleError::Host(format!(
                "cannot serialize the answer: {e}"
            ))),
        },
        Ok(Err(e)) => lifecycle_error(&e),
        Err(e) => lifecycle_error(&LifecycleError::Host(format!(
            "the lifecycle task failed: {e}"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterQuery {
    policy: Option<String>,
}

pub(super) async fn register(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    query: Result<Query<RegisterQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lifecycle = match lifecycle(&app) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let body_type = match body::body_type(&headers, body::Accepts::Document) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return body_rejection(&rejection, app.max_body_bytes),
    };
    if body::is_blank(&body) {
        return body::empty_body("the manifest");
    }
    if body_type == body::BodyType::Json
        && let Ok(text) = std::str::from_utf8(&body)
        && let Err(r) = body::check_json_object(text, "the manifest")
    {
        return r;
    }
    let policy = match query {
        Ok(Query(q)) => q
            .policy
            .unwrap_or_else(|| super::policies::DEFAULT.to_owned()),
        Err(e) => return query_rejection(&e),
    };
    let actor = principal.name;
    blocking(lifecycle, StatusCode::CREATED, move |lc| {
        lc.register(&body, &policy, &actor, now())
    })
    .await
}

// `Extension<Principal>`: a handler reached without `admit` fails closed (500).
pub(super) async fn list(
    State(app): State<Arc<App>>,
    Extension(_): Extension<Principal>,
) -> Response {
    match lifecycle(&app) {
        Ok(lifecycle) => blocking(lifecycle, StatusCode::OK, |lc| lc.list()).await,
        Err(r) => r,
    }
}

pub(super) async fn show(
    State(app): State<Arc<App>>,
    Extension(_): Extension<Principal>,
    Path(name): Path<String>,
) -> Response {
    match lifecycle(&app) {
        Ok(lifecycle) => blocking(lifecycle, StatusCode::OK, move |lc| lc.show(&name)).await,
        Err(r) => r,
    }
}

pub(super) async fn recertify(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
) -> Response {
    match lifecycle(&app) {
        Ok(lifecycle) => {
            blocking(lifecycle, StatusCode::OK, move |lc| {
                lc.recertify(&name, &principal.name, now())
            })
            .await
        }
        Err(r) => r,
    }
}

pub(super) async fn revoke(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
) -> Response {
    match lifecycle(&app) {
        Ok(lifecycle) => {
            blocking(lifecycle, StatusCode::OK, move |lc| {
                lc.revoke(&name, &principal.name, now())
            })
            .await
        }
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SweepQuery {
    at: Option<String>,
    apply: Option<bool>,
}

pub(super) async fn sweep(
    State(app): State<Arc<App>>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<SweepQuery>, QueryRejection>,
) -> Response {
    let lifecycle = match lifecycle(&app) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return query_rejection(&e),
    };
    let at = match q
        .at
        .as_deref()
        .map(crate::lifecycle::service::parse_rfc3339)
    {
        None => now(),
        Some(Ok(t)) => t,
        Some(Err(m)) => return error(StatusCode::BAD_REQUEST, "bad-time", m, None),
    };
    let apply = q.apply.unwrap_or(true);
    blocking(lifecycle, StatusCode::OK, move |lc| {
        lc.sweep(at, apply, &principal.name)
    })
    .await
}

/// The background sweep (`--sweep-interval`): applies the sweep at the current time.
pub(super) async fn sweep_loop(app: Arc<App>) {
    let Some(state) = app.apps.as_ref() else {
        return;
    };
    let Some(interval) = state.sweep_interval else {
        return;
    };
    let lifecycle = Arc::clone(&state.lifecycle);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let lc = Arc::clone(&lifecycle);
        match tokio::task::spawn_blocking(move || lc.sweep(now(), true, "sweep")).await {
            Ok(Ok(report)) => {
                for a in &report.actions {
                    tracing::info!(
                        app = %a.name,
                        action = a.action,
                        outcome = a.outcome,
                        reason = %a.reason,
                        error = a.error.as_deref().unwrap_or(""),
                        "sweep"
                    );
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "sweep failed; retried at the next interval"),
            Err(e) => tracing::error!(error = %e, "sweep task failed"),
        }
    }
}

/// The page holds an API token (in `sessionStorage`): it runs only its own script and
/// style, talks only to this server, and cannot be framed.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                        connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /apps` and its files (`web/apps/`).
pub(super) async fn page(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let Some(root) = &app.web_root else {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            "the apps page is not available: no web root".to_owned(),
            Some("start the server from the repository root, or pass `--web DIR`"),
        );
    };
    let file = match uri.path().trim_end_matches('/') {
        "/apps" => "index.html",
        "/apps/apps.js" => "apps.js",
        "/apps/apps.css" => "apps.css",
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no file for `{}`", body::clip(uri.path())),
                None,
            );
        }
    };
    let path = root.join("apps").join(file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, super::web::content_type(&path)),
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::X_FRAME_OPTIONS, "DENY"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no file for `{}`", uri.path()),
            None,
        ),
    }
}

/// The lifecycle settings of `microvet serve` (`--store`, `--idp`,
/// `--idp-initial-access-token-file`, `--sweep-interval`); the tokens are
/// [`super::Config::api_tokens`].
#[derive(Debug, Clone)]
pub struct LifecycleConfig {
    /// `sqlite:PATH` or `postgres://…`.
    pub store: String,
    /// The IdP's issuer URL (`ISSUER/.well-known/openid-configuration`).
    pub idp: String,
    /// A file holding the RFC 7591 initial access token.
    pub idp_initial_access_token_file: Option<std::path::PathBuf>,
    /// How often the server sweeps (`None`: never by itself).
    pub sweep_interval: Option<Duration>,
}

/// The pieces opened before the app is built.
pub(super) struct Opened {
    store: Box<dyn crate::lifecycle::store::Store>,
    idp: Box<dyn crate::lifecycle::idp::Idp>,
    sweep_interval: Option<Duration>,
}

/// Opens the store (running its migrations) and discovers the IdP.
pub(super) fn open(config: &LifecycleConfig) -> Result<Opened, String> {
    let store = crate::lifecycle::store::open(&config.store).map_err(|e| e.to_string())?;
    let idp = crate::lifecycle::service::connect_idp(
        &config.idp,
        config.idp_initial_access_token_file.as_deref(),
    )?;
    tracing::info!(
        store = %store_label(&config.store),
        idp = %config.idp,
        sweep_interval_s = config.sweep_interval.map(|d| d.as_secs()),
        "app lifecycle ready"
    );
    Ok(Opened {
        store,
        idp,
        sweep_interval: config.sweep_interval,
    })
}

/// The store URL without a password (`postgres://user:PASSWORD@…`).
fn store_label(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = url.get(s + 3..at).unwrap_or("");
            let user = creds.split(':').next().unwrap_or("");
            format!(
                "{}{user}:***{}",
                url.get(..s + 3).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_owned(),
    }
}

/// The state of the lifecycle routes, built inside the app (its policies and decision log).
pub(super) fn state(opened: Opened, app: &Weak<App>) -> AppsState {
    let claimer = format!(
        "{}-{}",
        std::process::id(),
        crate::lifecycle::service::random_id().unwrap_or_default()
    );
    AppsState {
        lifecycle: Arc::new(Lifecycle {
            store: opened.store,
            idp: Some(opened.idp),
            policies: Box::new(ServerPolicies(app.clone())),
            log: Some(Box::new(ServerLog(app.clone()))),
            claimer,
        }),
        sweep_interval: opened.sweep_interval,
    }
}
