//! The router and the handlers of the service's own routes (the lifecycle, PKCE and
//! discovery routes have their modules).

use std::path::Path as FsPath;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::errors::{body_rejection, error, host_error, json_ok, json_response, query_rejection};
use super::metrics::Gauges;
use super::middleware::{LIMITED_ROUTES, RequestId, observe};
use super::policies::{DEFAULT, PolicySet};
use super::{App, OPENAPI, apps, body, discover, pkce, shadow, web};
use crate::decision_log::{LogError, Record};
use crate::{HostError, InputKind};

pub(super) fn router(app: Arc<App>) -> Router {
    // One layer per route, not one per concern: axum boxes a clone of the inner service
    // and its future for each layer a request passes. The permit of the limited routes is
    // taken in `observe`; the body limit is stacked into the same layer (a tuple) for the
    // routes that read a body.
    // Every method router has the JSON 405 as its fallback (axum adds `Allow`).
    let observed = from_fn_with_state(Arc::clone(&app), observe);
    let [
        vet_path,
        dcr_path,
        pkce_path,
        challenge_path,
        verify_path,
        authorize_path,
    ] = LIMITED_ROUTES;
    let limited = Router::new()
        .route(vet_path, only(post(vet_manifest)))
        .route(dcr_path, only(post(vet_dcr)))
        .route(pkce_path, only(post(pkce::generate)))
        .route(challenge_path, only(post(pkce::challenge)))
        .route(verify_path, only(post(pkce::verify)))
        .route(authorize_path, only(post(pkce::authorize_url)))
        .layer((observed.clone(), DefaultBodyLimit::max(app.max_body_bytes)));
    let discovery = Router::new()
        .route("/v1/discover", only(post(discover::discover)))
        .layer((
            observed.clone(),
            DefaultBodyLimit::max(app.discover.unwrap_or(app.max_body_bytes)),
        ));
    let lifecycle = Router::new()
        .route("/v1/apps", only(get(apps::list).post(apps::register)))
        .route("/v1/apps/sweep", only(post(apps::sweep)))
        .route("/v1/apps/{name}", only(get(apps::show)))
        .route("/v1/apps/{name}/recertify", only(post(apps::recertify)))
        .route("/v1/apps/{name}/revoke", only(post(apps::revoke)))
        .layer((observed.clone(), DefaultBodyLimit::max(app.max_body_bytes)));
    let open = Router::new()
        .route("/v1/policies", only(get(list_policies)))
        .route("/v1/rules", only(get(all_rules)))
        .route("/v1/rules/{id}", only(get(rule)))
        .route("/healthz", only(get(healthz)))
        .route("/metrics", only(get(metrics)))
        .route("/openapi.json", only(get(openapi)))
        .route("/apps", only(get(apps::page)))
        .route("/apps/{file}", only(get(apps::page)))
        .route("/", only(get(static_file)))
        .route("/{*path}", only(get(static_file)))
        .fallback(not_found)
        .layer(observed);
    limited
        .merge(discovery)
        .merge(lifecycle)
        .merge(open)
        .with_state(app)
}

/// A route's methods, and the JSON `405` for any other (axum sets `Allow` on it).
fn only(methods: MethodRouter<Arc<App>>) -> MethodRouter<Arc<App>> {
    methods.fallback(method_not_allowed)
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!(
            "`{}` is not allowed on `{}`",
            body::clip(method.as_str()),
            body::clip(uri.path())
        ),
        Some("the `Allow` header lists the methods of this route; see GET /openapi.json"),
    )
}

/// How a vet ended (sent from the blocking thread or the decision log writer).
enum Done {
    Verdict(crate::VetSummary),
    Failed(HostError),
    LogFailed(LogError),
}

#[derive(Debug, Deserialize)]
struct VetQuery {
    policy: Option<String>,
    /// `on` (default) or `off`: whether the server's waivers file applies.
    waivers: Option<String>,
}

async fn vet_manifest(
    State(app): State<Arc<App>>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    query: Result<Query<VetQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    vet(app, id, InputKind::Manifest, &headers, query, body).await
}

async fn vet_dcr(
    State(app): State<Arc<App>>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    query: Result<Query<VetQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    vet(app, id, InputKind::Dcr, &headers, query, body).await
}

/// Bodies up to this size may be vetted on the async worker that received them (see
/// [`cheap_to_vet`]); 4 KiB is ~3× Micro Apps, Macro Risk's example manifest.
const INLINE_VET_MAX_BYTES: usize = 4 * 1024;

/// Whether a vet is cheap enough to run on the async worker instead of the blocking pool:
/// a warm instance (no instantiation or policy parse on this thread), a small body, and no
/// YAML alias (`*`), the only way a small text expands to many nodes. Anything else — a
/// cold pool, `--instances fresh`, a large or alias-bearing body — goes to the blocking
/// pool, so it cannot stall the other connections of a worker (nor `/healthz`).
fn cheap_to_vet(text: &str, warm_idle: bool) -> bool {
    warm_idle && text.len() <= INLINE_VET_MAX_BYTES && !text.contains('*')
}

async fn vet(
    app: Arc<App>,
    RequestId(id): RequestId,
    kind: InputKind,
    headers: &HeaderMap,
    query: Result<Query<VetQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body_type = match body::body_type(headers, body::Accepts::Document) {
        Ok(t) => t,
        Err(response) => return response,
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return body_rejection(&rejection, app.max_body_bytes),
    };
    let what = match kind {
        InputKind::Manifest => "the manifest",
        InputKind::Dcr => "the registration request",
    };
    // Nothing to vet: the component would vet it as an empty manifest and approve nothing
    // the client meant to send.
    if body::is_blank(&body) {
        return body::empty_body(what);
    }
    let (name, waivers) = match query {
        Ok(Query(q)) => {
            let waivers = match q.waivers.as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "bad-request",
                        format!("`waivers` must be `on` or `off`, found `{other}`"),
                        Some("leave it out to apply the server's waivers"),
                    );
                }
            };
            (q.policy.unwrap_or_else(|| DEFAULT.to_owned()), waivers)
        }
        Err(e) => return query_rejection(&e),
    };
    let vetter = {
        let set = app.policies.current();
        match set.get(&name) {
            Some(named) => match named.vetter(waivers) {
                Some(v) => v.clone(),
                None => {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        format!("policy `{name}` without its waivers is not available"),
                        Some("see the server log; vet with the waivers, or restart the server"),
                    );
                }
            },
            None => {
                let help = format!("known policies: {}", set.names().join(", "));
                return error(
                    StatusCode::NOT_FOUND,
                    "unknown-policy",
                    format!("no policy named `{name}`"),
                    Some(&help),
                );
            }
        }
    };
    let mut text = match String::from_utf8(Vec::from(body)) {
        Ok(t) => t,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "encoding",
                format!(
                    "the body is not valid UTF-8 (byte offset {})",
                    e.utf8_error().valid_up_to()
                ),
                Some("send the manifest as UTF-8 text"),
            );
        }
    };
    if body_type == body::BodyType::Json {
        if let Err(response) = body::check_json_object(&text, what) {
            return response;
        }
        let joined = match body::join_surrogate_escapes(&text) {
            std::borrow::Cow::Owned(joined) => Some(joined),
            std::borrow::Cow::Borrowed(_) => None,
        };
        if let Some(joined) = joined {
            text = joined;
        }
    } else if body::is_null_document(&text) {
        return body::null_document(what);
    }
    // The vet hands the verdict to the decision log writer, whose acknowledgement (after
    // `sync_data`) carries the outcome back: one wake-up of this task per request, not one
    // for the vet and another for the log.
    let (tx, rx) = oneshot::channel::<Done>();
    let worker = Arc::clone(&app);
    let shadow_input = app.shadow.as_ref().map(|_| (text.clone(), name.clone()));
    let (log_id, log_policy) = (Arc::clone(&id), name);
    let warm_idle = vetter.pool_stats().is_some_and(|s| s.idle > 0);
    let inline = cheap_to_vet(&text, warm_idle);
    let work = move || {
        // The summary, not the typed verdict: the response is the component's canonical
        // JSON as it is, and the log needs only the decision, score, rules and hashes.
        let outcome = match vetter.vet_summary(kind, &text) {
            Ok(o) => o,
            Err(e) => {
                let _ = tx.send(Done::Failed(e));
                return;
            }
        };
        match &worker.log {
            Some(log) => {
                let record = Record::from_summary(&log_id, kind, &log_policy, &outcome);
                log.append(record, move |r| {
                    let _ = tx.send(match r {
                        Ok(_) => Done::Verdict(outcome),
                        Err(e) => Done::LogFailed(e),
                    });
                });
            }
            None => {
                let _ = tx.send(Done::Verdict(outcome));
            }
        }
    };
    if inline {
        // A small manifest vets in tens of microseconds on a warm instance: doing it right
        // here saves two thread hand-offs (to a blocking thread and back), which cost more
        // than the vet itself. The guest's limits still bound it (epoch deadline, memory).
        // A panic (there should be none) drops `tx`, which answers 500 below, as a panic
        // on the blocking pool does.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    } else {
        drop(tokio::task::spawn_blocking(work));
    }
    let outcome = match rx.await {
        Ok(Done::Verdict(o)) => o,
        Ok(Done::Failed(e)) => return host_error(&app, &id, e),
        Ok(Done::LogFailed(e)) => {
            tracing::error!(request_id = %id, error = %e, "cannot write the decision log; the verdict is withheld");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "decision-log",
                "the decision could not be logged, so it is not returned".to_owned(),
                None,
            );
        }
        Err(_) => {
            return host_error(
                &app,
                &id,
                HostError::Trap("the vetting task ended without an answer".to_owned()),
            );
        }
    };
    let decision = outcome.decision;
    app.metrics.decision(kind, decision);
    if let Some((text, policy)) = shadow_input {
        let answered = shadow::Answered {
            request_id: Arc::clone(&id),
            kind,
            policy,
            waivers,
            decision,
            rules: outcome.rules.clone(),
        };
        shadow::spawn(&app, text, answered);
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::HeaderName::from_static("x-microvet-decision"),
                decision.as_str(),
            ),
        ],
        outcome.json,
    )
        .into_response()
}

/// The state of one policy in `GET /v1/policies` and `GET /healthz`.
#[derive(Serialize)]
struct PolicyState<'a> {
    name: &'a str,
    /// `ok`: in force as its file is now; `stale`: in force, but the last reload of its
    /// file failed (see `last_error`); `refused`: not in force (never loaded).
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_name: Option<&'a str>,
    /// The sha256 of the policy text in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    /// `file` or `builtin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_force_since: Option<String>,
    last_error: Option<PolicyErrorState<'a>>,
}

#[derive(Serialize)]
struct PolicyErrorState<'a> {
    message: &'a str,
    at: String,
}

fn policy_states(set: &PolicySet) -> Vec<PolicyState<'_>> {
    let mut out: Vec<PolicyState<'_>> = set
        .policies
        .iter()
        .map(|(name, p)| PolicyState {
            name,
            state: if p.error.is_some() { "stale" } else { "ok" },
            policy_name: Some(p.vetter.policy_name()),
            sha256: Some(p.vetter.policy_sha256()),
            source: Some(if p.file.is_some() { "file" } else { "builtin" }),
            file: p
                .file
                .as_deref()
                .and_then(FsPath::file_name)
                .and_then(|f| f.to_str()),
            in_force_since: Some(crate::decision_log::rfc3339_millis(p.since)),
            last_error: p.error.as_ref().map(|e| PolicyErrorState {
                message: &e.message,
                at: crate::decision_log::rfc3339_millis(e.at),
            }),
        })
        .collect();
    out.extend(set.refused.iter().map(|(name, (file, e))| PolicyState {
        name,
        state: "refused",
        policy_name: None,
        sha256: None,
        source: None,
        file: file.file_name().and_then(|f| f.to_str()),
        in_force_since: None,
        last_error: Some(PolicyErrorState {
            message: &e.message,
            at: crate::decision_log::rfc3339_millis(e.at),
        }),
    }));
    out
}

#[derive(Serialize)]
struct PolicyList<'a> {
    default: &'a str,
    /// Every policy in force is as its file is now, and no file is refused.
    all_ok: bool,
    policies: Vec<PolicyState<'a>>,
}

async fn list_policies(State(app): State<Arc<App>>) -> Response {
    let set = app.policies.current();
    let list = PolicyList {
        default: DEFAULT,
        all_ok: set.all_ok(),
        policies: policy_states(&set),
    };
    json_ok(&list, "the policy list")
}

async fn all_rules(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::Value::Array(app.rules.clone()).to_string(),
    )
}

async fn rule(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let found = app.rules.iter().find(|r| {
        r.get("id")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|rid| rid.eq_ignore_ascii_case(&id))
    });
    match found {
        Some(r) => json_response(StatusCode::OK, r.to_string()),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown-rule",
            format!("no rule `{id}`"),
            Some("GET /v1/rules lists every rule"),
        ),
    }
}

/// The body of `GET /healthz` (serialized straight from the struct, like the body of an
/// error response, `errors::ErrorBody`).
#[derive(Serialize)]
struct Health<'a> {
    status: &'a str,
    engine: &'a str,
    component_sha256: &'a str,
    policies: usize,
    /// Every policy in force is as its file is now, and no file is refused.
    policies_ok: bool,
    /// Each policy's state (as in `GET /v1/policies`).
    policy_states: Vec<PolicyState<'a>>,
    decision_log: bool,
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let set = app.policies.current();
    let health = Health {
        status: "ok",
        engine: app.base.engine(),
        component_sha256: crate::COMPONENT_SHA256,
        policies: set.policies.len(),
        policies_ok: set.all_ok(),
        policy_states: policy_states(&set),
        decision_log: app.log.is_some(),
    };
    json_ok(&health, "the health report")
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let gauges = Gauges {
        in_flight: app
            .max_concurrency
            .saturating_sub(app.permits.available_permits()),
        max_concurrency: app.max_concurrency,
        policies: app.policies.current().shas(),
        pool: app.pool_stats(),
        log: app.log.as_ref().map(|l| {
            let s = l.stats();
            (
                s.appends.load(Ordering::Relaxed),
                s.batches.load(Ordering::Relaxed),
                s.fsyncs.load(Ordering::Relaxed),
                s.write_nanos.load(Ordering::Relaxed),
                s.failures.load(Ordering::Relaxed),
            )
        }),
        shadow: app.shadow.as_ref(),
        uptime: app.started.elapsed(),
        connections: app.conns.counts(),
        max_connections: app.conns.limits().max_connections,
        max_connections_per_ip: app.conns.limits().max_connections_per_ip,
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(&gauges),
    )
        .into_response()
}

async fn openapi() -> Response {
    json_response(StatusCode::OK, OPENAPI.to_owned())
}

async fn static_file(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let Some(root) = &app.web_root else {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            "the demo is not available: no web root".to_owned(),
            Some("start the server from the repository root, or pass `--web DIR`"),
        );
    };
    let Some(file) = web::resolve(root, uri.path()) else {
        return not_found(uri).await;
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, web::content_type(&file)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => {
            let help = if uri.path().starts_with("/dist/") {
                "the transpiled component is built by `npm run build` in `web/`"
            } else {
                "see GET /openapi.json for the API"
            };
            error(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no file for `{}`", uri.path()),
                Some(help),
            )
        }
    }
}

async fn not_found(uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route for `{}`", uri.path()),
        Some("see GET /openapi.json for the API"),
    )
}

#[cfg(test)]
mod tests {
    use super::{INLINE_VET_MAX_BYTES, cheap_to_vet};

    #[test]
    fn only_small_alias_free_vets_on_a_warm_instance_run_inline() {
        let seed = "name: hr-onboarding-helper\nowner: hr@example.com\n";
        assert!(cheap_to_vet(seed, true));
        // Cold pool or `--instances fresh`: instantiation + policy parse, not on a worker.
        assert!(!cheap_to_vet(seed, false));
        // Aliases can expand a small text to the node limit.
        assert!(!cheap_to_vet("a: &x [1, 2]\nb: *x\n", true));
        let big = "#".repeat(INLINE_VET_MAX_BYTES + 1);
        assert!(!cheap_to_vet(&big, true));
        assert!(cheap_to_vet(&big[..INLINE_VET_MAX_BYTES], true));
    }
}
