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
//!
//! This module assembles the service (its configuration, setup, serving, shutdown, and the
//! decision log's rotation on `SIGUSR1`); `routes` holds the router and the handlers of
//! the vet, policy, rule, health, metrics and static routes, `middleware` what every
//! request passes through, `errors` the error responses, and `reload` the reloading of
//! the policies.

mod apps;
mod body;
mod conn;
mod discover;
mod errors;
mod metrics;
mod middleware;
mod pkce;
mod policies;
mod reload;
mod routes;
mod shadow;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

pub use apps::LifecycleConfig;
pub use conn::ConnLimits;
pub use discover::DEFAULT_DISCOVER_MAX_BYTES;

use crate::decision_log::{DecisionLog, LogError};
use crate::{HostError, PoolStats, Vetter, VetterOptions};

use metrics::Metrics;
use middleware::OverloadLog;
use policies::{Fingerprint, Policies, PolicySet};

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

async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    reload_interval: Option<Duration>,
) -> Result<(), ServeError> {
    let reloader = tokio::spawn(reload::reload_loop(Arc::clone(&app), reload_interval));
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
        routes::router(Arc::clone(&app)),
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
