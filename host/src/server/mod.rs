//! The HTTP vetting service behind `microvet serve` (cargo feature `serve`: axum, tokio,
//! tracing; the default embedder build has none of them).
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /v1/vet[?policy=NAME]` | vet a manifest (YAML or JSON body) → the canonical verdict JSON |
//! | `POST /v1/vet/dcr[?policy=NAME]` | vet a raw RFC 7591 registration request |
//! | `POST /v1/pkce` | `{length?, count?}` → fresh PKCE S256 pairs |
//! | `POST /v1/pkce/challenge` | `{verifier}` → its S256 challenge |
//! | `POST /v1/pkce/verify` | `{verifier, challenge}` → whether they match (constant time) |
//! | `POST /v1/pkce/authorize-url` | an authorization request URL with PKCE, `state`, `nonce` |
//! | `GET /v1/policies` | the named policies and their sha256 |
//! | `GET /v1/rules`, `GET /v1/rules/{id}` | the rule catalogue, one rule |
//! | `GET /healthz`, `GET /metrics` | liveness, Prometheus metrics |
//! | `GET /openapi.json` | the OpenAPI 3.1 document (`host/openapi.json`) |
//! | `GET /` | the no-code builder demo (`web/demo/`) |
//! | `/v1/apps…`, `GET /apps` | the app lifecycle, behind bearer tokens (see [`apps`]) |
//!
//! Every vet runs the component through a [`Vetter`], with the per-call time and memory
//! limits of the vetter: a small manifest with a warm instance ready runs right on the async
//! worker (two thread hand-offs cost more than such a vet), everything else on tokio's
//! blocking pool (bounded by `vet_threads`). Requests
//! to `/v1/vet*` and `/v1/pkce*` read their whole body first (bounded in size: `413`, and
//! in time: `408`), then hold a concurrency permit (a `try_acquire`: no queue); without one
//! they get `503` with `Retry-After` (logged once per second with a count, not once per
//! request). A slow client never holds a permit. Connections are capped, timed out and shed
//! as [`conn`] describes. A `Content-Type` or `Content-Encoding` a route does not understand
//! gets `415` (see [`body`]); another method than a route's gets `405` with `Allow`. Every
//! error is `{"error": {code, message, help?, path?}}`.
//! With a decision log, the verdict's line is written and synced before the response is
//! sent (see [`crate::decision_log`]).

mod apps;
mod body;
mod conn;
mod discover;
mod metrics;
mod pkce;
mod policies;
mod shadow;
mod web;

use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, oneshot};

pub use apps::LifecycleConfig;
pub use conn::ConnLimits;
pub use discover::DEFAULT_DISCOVER_MAX_BYTES;

use crate::decision_log::{DecisionLog, LogError, Record};
use crate::{HostError, InputKind, PoolStats, Vetter, VetterOptions};

use metrics::{Gauges, Metrics};
use policies::{DEFAULT, Fingerprint, Policies, PolicySet};

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// How the server logs (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per event (for a log pipeline).
    #[default]
    Json,
    /// Human-readable lines.
    Pretty,
}

/// The least severe events logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Error,
    Warn,
    /// Startup, reloads, shutdown, and one line per request.
    #[default]
    Info,
    Debug,
}

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (default `127.0.0.1:8787`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Directory of named policies (`NAME.yaml`); `None`: the built-in `default` only.
    pub policies_dir: Option<PathBuf>,
    /// Append one hash-chained JSON line per vet to this file.
    pub decision_log: Option<PathBuf>,
    /// `sync_data` after every decision log batch (default on; off only to measure).
    pub decision_log_sync: bool,
    /// Rotate the decision log once it holds this many bytes (0, the default: never;
    /// SIGUSR1 rotates at any time).
    pub decision_log_max_bytes: u64,
    /// Requests allowed to hold a permit at once; more get 503.
    pub max_concurrency: usize,
    /// Largest request body, in bytes; more gets 413.
    pub max_body_bytes: usize,
    /// The vetter: limits, compiled-code cache, warm pool, pooling allocator. Its
    /// `policy` is ignored (policies come from `policies_dir`).
    pub vetter: VetterOptions,
    /// Threads running the component (tokio's blocking pool); default: the CPU count.
    pub vet_threads: usize,
    /// Async worker threads; default: the CPU count.
    pub worker_threads: usize,
    /// The web root (`web/`) for the demo; `None`: `./web` or the source tree's `web/`.
    pub web_root: Option<PathBuf>,
    /// How often to look for changed policy files (`None`: only on SIGHUP).
    pub reload_interval: Option<Duration>,
    pub log_format: LogFormat,
    pub log_level: LogLevel,
    /// Connection caps and timeouts (header, body, idle).
    pub connections: ConnLimits,
    /// `POST /v1/discover` with this body limit in bytes; `None` (the default): off (404).
    /// Needs `api_tokens` (the route takes the `admin` role).
    pub discover: Option<usize>,
    /// The bearer tokens of the protected routes (`/v1/apps*`, `/v1/discover`): one
    /// `NAME ROLE SHA256HEX` per line (see [`crate::lifecycle::auth`]).
    pub api_tokens: Option<PathBuf>,
    /// The app lifecycle (`/v1/apps*`); `None`: those routes answer 404.
    pub lifecycle: Option<LifecycleConfig>,
    /// A policy of `policies_dir` every vet is also vetted under, without changing the
    /// answer; disagreements go to `/metrics` and the decision log (see [`shadow`]).
    pub shadow_policy: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            policies_dir: None,
            decision_log: None,
            decision_log_sync: true,
            decision_log_max_bytes: 0,
            max_concurrency: 256,
            max_body_bytes: 1 << 20,
            vetter: VetterOptions {
                time_limit: Some(Duration::from_secs(2)),
                ..VetterOptions::default()
            },
            vet_threads: cpus,
            worker_threads: cpus,
            web_root: None,
            reload_interval: Some(Duration::from_secs(1)),
            log_format: LogFormat::Json,
            log_level: LogLevel::Info,
            connections: ConnLimits::default(),
            discover: None,
            api_tokens: None,
            lifecycle: None,
            shadow_policy: None,
        }
    }
}

/// Why the service could not start (or stopped with an error).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The component or the built-in policy could not be set up.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The policies directory could not be read, or a policy in it is invalid at startup.
    #[error("{0}")]
    Policies(String),
    /// The decision log could not be opened or continued.
    #[error(transparent)]
    DecisionLog(#[from] LogError),
    /// The app lifecycle's store, IdP or tokens could not be set up.
    #[error("{0}")]
    Lifecycle(String),
    /// Binding, the runtime, or serving failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let context = context.into();
    move |source| ServeError::Io { context, source }
}

/// Set up logging, the runtime and the component, then serve until SIGTERM or SIGINT
/// (in-flight requests finish first). Prints `microvet: listening on http://ADDR` on
/// standard output once the socket is bound. Raises the process's soft open-file limit
/// to its hard limit and keeps `max_connections` under it (with headroom).
///
/// # Errors
/// See [`ServeError`].
pub fn run(mut config: Config) -> Result<(), ServeError> {
    init_tracing(config.log_format, config.log_level);
    if let Some(nofile) = conn::raise_nofile_limit() {
        let budget = conn::fd_budget(nofile);
        if config.connections.max_connections > budget {
            tracing::warn!(
                max_connections = config.connections.max_connections,
                open_file_limit = nofile,
                using = budget,
                "max_connections is above what the open-file limit leaves room for; lowered"
            );
            config.connections.max_connections = budget;
        }
        tracing::info!(
            open_file_limit = nofile,
            max_connections = config.connections.max_connections,
            "open-file limit"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads.max(1))
        .max_blocking_threads(config.vet_threads.max(1))
        .thread_name("microvet-serve")
        .enable_all()
        .build()
        .map_err(io_error("cannot start the async runtime"))?;
    let app = setup(&config)?;
    let _context = runtime.enter();
    let listener = bind(config.listen)?;
    let addr = listener
        .local_addr()
        .map_err(io_error("cannot read the listening address"))?;
    runtime.block_on(serve(app, listener, addr, config.reload_interval))
}

/// The accept queue of the listening socket (the kernel caps it at `somaxconn`): room
/// for a burst of connections while the accept loop sheds or refuses them.
const LISTEN_BACKLOG: u32 = 1024;

/// Bind the listening socket (inside the runtime's context).
fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    let context = format!("cannot listen on {listen}");
    let socket = if listen.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(io_error(context.clone()))?;
    #[cfg(unix)]
    socket
        .set_reuseaddr(true)
        .map_err(io_error(context.clone()))?;
    socket.bind(listen).map_err(io_error(context.clone()))?;
    socket.listen(LISTEN_BACKLOG).map_err(io_error(context))
}

fn init_tracing(format: LogFormat, level: LogLevel) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    // `try_init`: an embedder may have installed its own subscriber already.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// The shared state of the service.
struct App {
    base: Vetter,
    /// The server's waivers file (`--waivers`), added to every policy.
    waivers: Option<String>,
    policies: Policies,
    policies_dir: Option<PathBuf>,
    fingerprint: std::sync::Mutex<Fingerprint>,
    rules: Vec<serde_json::Value>,
    log: Option<DecisionLog>,
    metrics: Metrics,
    /// The open connections (caps, shedding).
    conns: conn::Registry,
    /// Wakes the rate-limited connection report.
    conn_events: tokio::sync::Notify,
    permits: Semaphore,
    max_concurrency: usize,
    overload_log: Arc<OverloadLog>,
    shadow: Option<shadow::Shadow>,
    max_body_bytes: usize,
    body_timeout: Duration,
    web_root: Option<PathBuf>,
    request_prefix: String,
    requests: AtomicU64,
    started: Instant,
    /// `/v1/discover`'s body limit when it is enabled; one discovery at a time.
    discover: Option<usize>,
    discovering: tokio::sync::Mutex<()>,
    /// The app lifecycle routes (`None` unless configured).
    apps: Option<apps::AppsState>,
    /// The bearer tokens of the protected routes (`None`: those routes are off).
    tokens: Option<crate::lifecycle::auth::Tokens>,
    /// Permits of the protected routes, apart from the vet permits: their calls wait on
    /// the IdP or the store, and must not take the vets' place.
    protected_permits: Semaphore,
}

/// Requests to the protected routes (`/v1/apps*`, `/v1/discover`) served at once; more
/// get 503 at once. Each holds a blocking-pool thread while it waits on the IdP or the
/// store, so this also bounds how many threads they can take from the vets.
const PROTECTED_CONCURRENCY: usize = 16;

impl App {
    fn next_request_id(&self) -> Arc<str> {
        use std::fmt::Write as _;
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        // Sized up front (`format!` guesses short and grows the string once).
        let mut id = String::with_capacity(self.request_prefix.len() + 17);
        let _ = write!(id, "{}-{n:08x}", self.request_prefix);
        Arc::from(id)
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        let set = self.policies.current();
        let mut total: Option<PoolStats> = None;
        for named in set.policies.values() {
            if let Some(s) = named.vetter.pool_stats() {
                let t = total.get_or_insert_with(PoolStats::default);
                t.idle += s.idle;
                t.reused += s.reused;
                t.created += s.created;
                t.discarded += s.discarded;
                t.retired += s.retired;
            }
        }
        total
    }
}

/// Build the component, the policies and the decision log (before serving).
fn setup(config: &Config) -> Result<Arc<App>, ServeError> {
    let started = Instant::now();
    let mut options = config.vetter.clone();
    options.policy = crate::PolicySource::Builtin;
    // The waivers file is validated against each policy it is added to (`policies::load`),
    // not against the built-in one only.
    let waivers = options.waivers.take();
    let base = Vetter::new(options)?;
    let rules: Vec<serde_json::Value> = serde_json::from_str(&base.rules_json()?).map_err(|e| {
        HostError::Trap(format!(
            "the component returned an invalid rule catalogue: {e}"
        ))
    })?;

    let dir = config.policies_dir.as_deref();
    let fingerprint = dir.map(policies::fingerprint).unwrap_or_default();
    let (set, report) = policies::load(&base, waivers.as_deref(), dir, &PolicySet::default())
        .map_err(ServeError::Policies)?;
    if let Some((name, file, error)) = report.refused.first() {
        return Err(ServeError::Policies(format!(
            "policy `{name}` in `{}` is invalid:\n{error}",
            file.display()
        )));
    }
    for (name, sha) in set.shas() {
        tracing::info!(policy = %name, sha256 = %sha, "policy loaded");
    }
    let shadow = match &config.shadow_policy {
        Some(name) if set.get(name).is_none() => {
            return Err(ServeError::Policies(format!(
                "--shadow-policy: no policy named `{name}` (known: {})",
                set.names().join(", ")
            )));
        }
        Some(name) => {
            tracing::info!(shadow_policy = %name, "every vet is also vetted under the shadow policy");
            Some(shadow::Shadow::new(name.clone(), config.vet_threads))
        }
        None => None,
    };

    let log = match &config.decision_log {
        Some(path) => {
            let (log, report) = DecisionLog::open_with(
                path,
                crate::decision_log::LogOptions {
                    sync: config.decision_log_sync,
                    max_bytes: config.decision_log_max_bytes,
                },
            )?;
            if let Some(rotated) = &report.continues {
                tracing::info!(
                    file = %path.display(),
                    continues = %rotated.display(),
                    "decision log: the file is empty; it continues the chain of the rotated file"
                );
            }
            if report.torn_bytes_removed > 0 {
                tracing::warn!(
                    file = %path.display(),
                    bytes = report.torn_bytes_removed,
                    "decision log: cut off a torn last line (a crash mid-write; it was never acknowledged)"
                );
            }
            tracing::info!(
                file = %path.display(),
                last_seq = report.last_seq,
                head = %report.head,
                sync = config.decision_log_sync,
                "decision log open"
            );
            Some(log)
        }
        None => None,
    };

    let mut prefix = [0u8; 6];
    getrandom::fill(&mut prefix)
        .map_err(|e| HostError::Setup(format!("the OS random source failed: {e}")))?;
    let request_prefix: String = prefix.iter().map(|b| format!("{b:02x}")).collect();

    let tokens = match &config.api_tokens {
        Some(path) => {
            Some(crate::lifecycle::auth::Tokens::load(path).map_err(ServeError::Lifecycle)?)
        }
        None => None,
    };
    if tokens.is_none() && (config.discover.is_some() || config.lifecycle.is_some()) {
        return Err(ServeError::Lifecycle(
            "`/v1/discover` and `/v1/apps*` need API tokens (`--api-tokens FILE`)".to_owned(),
        ));
    }
    let opened = match &config.lifecycle {
        Some(c) => Some(apps::open(c).map_err(ServeError::Lifecycle)?),
        None => None,
    };
    let web_root = config.web_root.clone().or_else(web::default_root);
    tracing::info!(
        engine = %base.engine(),
        component_sha256 = crate::COMPONENT_SHA256,
        cache = ?base.cache_status(),
        warm_pool = ?base.warm_pool(),
        time_limit_ms = base.time_limit().map(|t| t.as_millis()),
        memory_limit = base.memory_limit(),
        max_concurrency = config.max_concurrency,
        max_connections = config.connections.max_connections,
        max_connections_per_ip = config.connections.max_connections_per_ip,
        header_timeout_ms = config.connections.header_timeout.as_millis(),
        body_timeout_ms = config.connections.body_timeout.as_millis(),
        idle_timeout_ms = config.connections.idle_timeout.as_millis(),
        vet_threads = config.vet_threads,
        web_root = ?web_root,
        setup_ms = started.elapsed().as_secs_f64() * 1e3,
        "microvet ready"
    );
    Ok(Arc::new_cyclic(|weak| App {
        apps: opened.map(|o| apps::state(o, weak)),
        base,
        waivers,
        policies: Policies::new(set),
        policies_dir: config.policies_dir.clone(),
        fingerprint: std::sync::Mutex::new(fingerprint),
        rules,
        log,
        metrics: Metrics::default(),
        conns: conn::Registry::new(config.connections),
        conn_events: tokio::sync::Notify::new(),
        permits: Semaphore::new(config.max_concurrency),
        max_concurrency: config.max_concurrency,
        overload_log: Arc::default(),
        shadow,
        max_body_bytes: config.max_body_bytes,
        body_timeout: config.connections.body_timeout,
        web_root,
        request_prefix,
        requests: AtomicU64::new(0),
        started: Instant::now(),
        discover: config.discover,
        discovering: tokio::sync::Mutex::new(()),
        tokens,
        protected_permits: Semaphore::new(PROTECTED_CONCURRENCY),
    }))
}

fn router(app: Arc<App>) -> Router {
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

async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    reload_interval: Option<Duration>,
) -> Result<(), ServeError> {
    let reloader = tokio::spawn(reload_loop(Arc::clone(&app), reload_interval));
    let rotator = tokio::spawn(rotate_loop(Arc::clone(&app)));
    let sweeper = tokio::spawn(apps::sweep_loop(Arc::clone(&app)));
    tracing::info!(%addr, "listening");
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "microvet: listening on http://{addr}");
        let _ = out.flush();
    }
    conn::serve(
        Arc::clone(&app),
        listener,
        router(Arc::clone(&app)),
        shutdown_signal(),
    )
    .await;
    reloader.abort();
    rotator.abort();
    sweeper.abort();
    tracing::info!(
        requests = app.requests.load(Ordering::Relaxed),
        decision_log = app.log.is_some(),
        "stopped"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
        "SIGTERM"
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<&str>();
    let signal = tokio::select! {
        s = ctrl_c => s,
        s = term => s,
    };
    tracing::info!(signal, "shutting down: finishing in-flight requests");
}

// ---------------------------------------------------------------------------------------
// policy reload
// ---------------------------------------------------------------------------------------

async fn reload_loop(app: Arc<App>, interval: Option<Duration>) {
    #[cfg(unix)]
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; policies reload on file changes only");
            None
        }
    };
    let mut ticker = interval.map(|d| {
        let mut t = tokio::time::interval(d);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        t
    });
    loop {
        let tick = async {
            match ticker.as_mut() {
                Some(t) => {
                    t.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        let forced = tokio::select! {
            () = tick => false,
            () = hangup => true,
        };
        if forced {
            tracing::info!("SIGHUP: reloading the policies");
        }
        reload(&app, forced).await;
    }
}

/// Rotate the decision log on SIGUSR1.
async fn rotate_loop(app: Arc<App>) {
    if app.log.is_none() {
        return;
    }
    #[cfg(unix)]
    {
        let mut usr1 = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::user_defined1(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGUSR1; the decision log rotates by size only");
                return;
            }
        };
        while usr1.recv().await.is_some() {
            let worker = Arc::clone(&app);
            let rotated =
                tokio::task::spawn_blocking(move || worker.log.as_ref().map(DecisionLog::rotate))
                    .await;
            match rotated {
                Ok(Some(Ok(Some(file)))) => {
                    tracing::info!(rotated = %file.display(), "SIGUSR1: decision log rotated");
                }
                Ok(Some(Ok(None))) => {
                    tracing::info!("SIGUSR1: the decision log is empty; nothing to rotate");
                }
                Ok(Some(Err(e))) => {
                    tracing::error!(error = %e, "SIGUSR1: decision log rotation failed; the current file is written on");
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "SIGUSR1: decision log rotation failed"),
            }
        }
    }
}

/// Reload the policies if the directory changed (or `forced`, on SIGHUP).
async fn reload(app: &Arc<App>, forced: bool) {
    let Some(dir) = app.policies_dir.clone() else {
        return;
    };
    let worker = Arc::clone(app);
    let loaded = tokio::task::spawn_blocking(move || {
        let fp = policies::fingerprint(&dir);
        {
            let mut last = worker.fingerprint.lock().unwrap_or_else(|e| e.into_inner());
            if !forced && *last == fp {
                return None;
            }
            *last = fp;
        }
        let current = worker.policies.current();
        Some(policies::load(
            &worker.base,
            worker.waivers.as_deref(),
            Some(&dir),
            &current,
        ))
    })
    .await;
    let (set, report) = match loaded {
        Ok(None) => return,
        Ok(Some(Ok(x))) => x,
        Ok(Some(Err(e))) => {
            tracing::error!(error = %e, "policy reload failed; the policies in force stay");
            app.metrics.reload(false);
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "policy reload failed; the policies in force stay");
            app.metrics.reload(false);
            return;
        }
    };
    for (name, sha) in &report.loaded {
        tracing::info!(policy = %name, sha256 = %sha, "policy loaded");
    }
    for (name, file, error) in &report.refused {
        let kept = set.get(name).map(|p| p.vetter.policy_sha256().to_owned());
        tracing::error!(
            policy = %name,
            file = %file.display(),
            error = %error,
            in_force_sha256 = kept.as_deref().unwrap_or("none"),
            "policy refused; the previous version (if any) stays in force"
        );
    }
    app.metrics.reload(report.refused.is_empty());
    app.policies.replace(set);
}

// ---------------------------------------------------------------------------------------
// middleware
// ---------------------------------------------------------------------------------------

/// The response header carrying the request id (a constant: a `&str` name is parsed and
/// validated on every insert).
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of a request (also in the `x-request-id` response header).
#[derive(Clone)]
struct RequestId(Arc<str>);

/// The label of a matched route (a fixed set, so metrics stay bounded).
fn route_label(path: Option<&str>) -> &'static str {
    match path {
        Some("/v1/vet") => "/v1/vet",
        Some("/v1/vet/dcr") => "/v1/vet/dcr",
        Some("/v1/pkce") => "/v1/pkce",
        Some("/v1/pkce/challenge") => "/v1/pkce/challenge",
        Some("/v1/pkce/verify") => "/v1/pkce/verify",
        Some("/v1/pkce/authorize-url") => "/v1/pkce/authorize-url",
        Some("/v1/policies") => "/v1/policies",
        Some("/v1/rules") => "/v1/rules",
        Some("/v1/rules/{id}") => "/v1/rules/{id}",
        Some("/healthz") => "/healthz",
        Some("/metrics") => "/metrics",
        Some("/openapi.json") => "/openapi.json",
        Some("/v1/discover") => "/v1/discover",
        Some("/v1/apps") => "/v1/apps",
        Some("/v1/apps/sweep") => "/v1/apps/sweep",
        Some("/v1/apps/{name}") => "/v1/apps/{name}",
        Some("/v1/apps/{name}/recertify") => "/v1/apps/{name}/recertify",
        Some("/v1/apps/{name}/revoke") => "/v1/apps/{name}/revoke",
        Some("/apps" | "/apps/{file}") => "/apps",
        Some("/" | "/{*path}") => "static",
        _ => "unmatched",
    }
}

/// The routes of the `limited` router in [`router`]: one list for the router and for
/// [`limited`], so a route cannot be added to one and not the other.
const LIMITED_ROUTES: [&str; 6] = [
    "/v1/vet",
    "/v1/vet/dcr",
    "/v1/pkce",
    "/v1/pkce/challenge",
    "/v1/pkce/verify",
    "/v1/pkce/authorize-url",
];

/// Requests that hold a concurrency permit: a POST to one of [`LIMITED_ROUTES`]. Other
/// methods on those routes get their 405 without one.
fn limited(route: &str, method: &Method) -> bool {
    *method == Method::POST && LIMITED_ROUTES.contains(&route)
}

/// Request id, the concurrency permit of the limited routes, metrics and one log line per
/// request (one middleware: each layer costs allocations per request).
async fn observe(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = app.next_request_id();
    let route = route_label(
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(Arc::clone(&id)));
    let mut response = if limited(route, &method) {
        bounded(
            &app,
            req,
            next,
            app.max_body_bytes,
            &app.permits,
            app.max_concurrency,
        )
        .await
    } else if let Some(role) = apps::protected(route, &method) {
        // The caller first (a stranger's body is never read), then as the limited routes,
        // with permits of the protected routes' own.
        match apps::admit(&app, route, req.headers(), role) {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
                let limit = match route {
                    "/v1/discover" => app.discover.unwrap_or(app.max_body_bytes),
                    _ => app.max_body_bytes,
                };
                let permits = &app.protected_permits;
                bounded(&app, req, next, limit, permits, PROTECTED_CONCURRENCY).await
            }
            Err(response) => response,
        }
    } else {
        next.run(req).await
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, v);
    }
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    app.metrics.observe_request(route, status, elapsed);
    // An overload 503 is counted in the once-a-second line of `OverloadLog` instead.
    if response.extensions().get::<Overloaded>().is_some() {
        return response;
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The whole body first (bounded in size by `limit` and in time), so a slow client holds
/// no permit; then bounded concurrency: one of `permits` (`cap` in all) or 503 at once (no
/// queue).
async fn bounded(
    app: &App,
    req: Request,
    next: Next,
    limit: usize,
    permits: &Semaphore,
    cap: usize,
) -> Response {
    match read_body(app, req, limit).await {
        Ok(req) => match permits.try_acquire() {
            Ok(permit) => {
                let response = next.run(req).await;
                drop(permit);
                response
            }
            Err(_) => overloaded(app, cap),
        },
        Err(response) => response,
    }
}

/// Read the whole body of `req` within the body timeout and the size limit; the request
/// with the body in memory, or the error response (413, 408 with `Connection: close`,
/// 400).
async fn read_body(app: &App, req: Request, limit: usize) -> Result<Request, Response> {
    use http_body_util::BodyExt as _;
    let (parts, body) = req.into_parts();
    if axum::body::HttpBody::size_hint(&body).lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(body_too_large(limit));
    }
    let read = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(app.body_timeout, read).await {
        Ok(Ok(collected)) => Ok(Request::from_parts(
            parts,
            axum::body::Body::from(collected.to_bytes()),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(body_too_large(limit)),
        Ok(Err(e)) => Err(error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("cannot read the request body: {e}"),
            None,
        )),
        Err(_) => {
            app.metrics.shed(conn::Shed::BodyTimeout);
            app.conn_events.notify_one();
            let mut response = error(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    app.body_timeout.as_millis()
                ),
                Some("send the whole body at once, right after the headers"),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        }
    }
}

/// Marks the 503 of an overload: it gets no request line of its own (under overload that
/// would be a line per refused request, tens of thousands a second).
#[derive(Clone, Copy)]
struct Overloaded;

/// How often the number of refused requests is logged while the server is overloaded.
const OVERLOAD_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The log of overload refusals: one line when refusing starts, then one line per
/// [`OVERLOAD_LOG_INTERVAL`] with the number refused in it, until an interval has none.
#[derive(Default)]
struct OverloadLog {
    refused: AtomicU64,
    /// Whether a task is counting (at most one at a time).
    counting: AtomicBool,
}

impl OverloadLog {
    fn refuse(self: &Arc<Self>, max_concurrency: usize) {
        self.refused.fetch_add(1, Ordering::AcqRel);
        if !self.counting.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                max_concurrency,
                interval_ms = OVERLOAD_LOG_INTERVAL.as_millis() as u64,
                "at the concurrency limit: refusing requests with 503 (counted once per interval)"
            );
            let log = Arc::clone(self);
            drop(tokio::spawn(
                async move { log.count(max_concurrency).await },
            ));
        }
    }

    async fn count(&self, max_concurrency: usize) {
        loop {
            tokio::time::sleep(OVERLOAD_LOG_INTERVAL).await;
            let refused = self.refused.swap(0, Ordering::AcqRel);
            if refused > 0 {
                tracing::warn!(
                    refused,
                    max_concurrency,
                    interval_ms = OVERLOAD_LOG_INTERVAL.as_millis() as u64,
                    "overloaded: requests refused with 503"
                );
                continue;
            }
            self.counting.store(false, Ordering::Release);
            // A refusal between the swap and the store started no task: count it here,
            // unless a new task already does.
            if self.refused.load(Ordering::Acquire) == 0
                || self.counting.swap(true, Ordering::AcqRel)
            {
                return;
            }
        }
    }
}

fn body_too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        format!("the request body is larger than the limit of {limit} bytes"),
        Some("a manifest is a few kilobytes; the component itself refuses more than 1 MiB"),
    )
}

/// The 503 of a request that found no concurrency permit free.
fn overloaded(app: &App, limit: usize) -> Response {
    app.metrics.overloaded();
    app.overload_log.refuse(limit);
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        format!("the server is at its concurrency limit ({limit} requests)"),
        Some("retry after the time in the `Retry-After` header"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response.extensions_mut().insert(Overloaded);
    response
}

// ---------------------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------------------

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The body of an error response (serialized straight from these structs: building a
/// `serde_json::Value` first, an ordered map with hashed keys, cost ~3 µs per response).
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

/// `{"error": {code, message, help?}}`.
fn error(status: StatusCode, code: &str, message: String, help: Option<&str>) -> Response {
    error_with(status, code, &message, help, None)
}

/// `{"error": {code, message, help?, path}}`: an error at a field of a JSON request
/// (`path` is its RFC 6901 pointer).
fn error_at(
    status: StatusCode,
    code: &str,
    message: String,
    help: Option<&str>,
    path: &str,
) -> Response {
    error_with(status, code, &message, help, Some(path))
}

fn error_with(
    status: StatusCode,
    code: &str,
    message: &str,
    help: Option<&str>,
    path: Option<&str>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message,
            help,
            path,
        },
    };
    // Serializing these structs cannot fail (string fields only); the fallback is there
    // only because the signature says it could.
    let body = serde_json::to_string(&body)
        .unwrap_or_else(|_| format!(r#"{{"error":{{"code":"{code}"}}}}"#));
    json_response(status, body)
}

fn host_error(app: &App, id: &str, e: HostError) -> Response {
    app.metrics.host_error(&e);
    match e {
        HostError::Input(v) => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({ "error": v }).to_string(),
        ),
        HostError::Limit(l) => {
            tracing::warn!(request_id = %id, limit = %l, "host limit hit; only this call failed");
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "host-limit",
                l.to_string(),
                Some("the input needs more time or memory than the server allows for one call"),
            )
        }
        HostError::Policy(v) => {
            tracing::error!(request_id = %id, error = %v, "the policy failed to load in a new instance");
            error(StatusCode::INTERNAL_SERVER_ERROR, "policy", v.message, None)
        }
        HostError::Trap(m) => {
            tracing::error!(request_id = %id, error = %m, "the component trapped; only this call failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "trap", m, None)
        }
        HostError::Setup(m) => {
            tracing::error!(request_id = %id, error = %m, "cannot set up an instance");
            error(StatusCode::INTERNAL_SERVER_ERROR, "setup", m, None)
        }
    }
}

fn body_rejection(rejection: &BytesRejection, limit: usize) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the request body is larger than the limit of {limit} bytes"),
            Some("a manifest is a few kilobytes; the component itself refuses more than 1 MiB"),
        )
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("cannot read the request body: {rejection}"),
            None,
        )
    }
}

// ---------------------------------------------------------------------------------------
// handlers
// ---------------------------------------------------------------------------------------

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
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!("invalid query string: {e}"),
                None,
            );
        }
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
    match serde_json::to_string(&list) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot serialize the policy list: {e}"),
            None,
        ),
    }
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

/// The body of `GET /healthz` (serialized straight from the struct, like [`ErrorBody`]).
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
    match serde_json::to_string(&health) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot serialize the health report: {e}"),
            None,
        ),
    }
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
