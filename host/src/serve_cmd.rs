//! `microvet serve` and `microvet log verify`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use microvet::server::{Config, ConnLimits, LifecycleConfig, LogFormat, LogLevel};
use microvet::{VetterOptions, WarmPool, decision_log};

use crate::{Ctx, FAILED, INVALID, OK};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Enable `POST /v1/discover?from=FORMAT` (vet every client of an IdP export; see
    /// docs/DISCOVERY.md) for tokens with the `admin` role. Off by default: the route
    /// answers 404.
    #[arg(long, requires = "api_tokens")]
    discover: bool,
    /// Body limit of `/v1/discover` in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = microvet::server::DEFAULT_DISCOVER_MAX_BYTES)]
    discover_max_bytes: usize,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR")]
    listen: SocketAddr,
    /// Directory of named policies: each `NAME.yaml` is the policy `NAME` (`?policy=NAME`);
    /// the built-in `default` is always there. Reloaded on change and on SIGHUP.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    /// Append one hash-chained JSON line per vet to FILE (synced before the response).
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Rotate the decision log once it holds BYTES (0: never; SIGUSR1 rotates at any
    /// time): FILE is renamed `FILE.<last seq>` and a new FILE carries on the chain.
    #[arg(long, default_value_t = 0, value_name = "BYTES")]
    decision_log_max_bytes: u64,
    /// Requests served at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 256, value_name = "N")]
    max_concurrency: usize,
    /// Largest request body in bytes; more gets 413.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Time limit of one call into the component, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    time_limit_ms: u64,
    /// Memory limit of one call into the component, in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    memory_limit_mib: usize,
    /// `warm`: reuse instances with the policy already parsed (discarded on any trap or
    /// limit hit); `fresh`: a new instance per call.
    #[arg(long, value_enum, default_value_t = Instances::Warm)]
    instances: Instances,
    /// Calls served by one warm instance before it is replaced.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    warm_max_calls: u32,
    /// Blocking-pool threads running the component for large or cold vets and PKCE (small
    /// vets on a warm instance run on the async workers) (default: the CPU count).
    #[arg(long, value_name = "N")]
    vet_threads: Option<usize>,
    /// Async worker threads (default: the CPU count).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// The web root (the repository's `web/`) for the demo at `/`.
    #[arg(long, value_name = "DIR")]
    web: Option<PathBuf>,
    /// How often to look for changed policy files, in milliseconds (0: only on SIGHUP).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    reload_interval_ms: u64,
    /// Log format (standard error).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    log_format: Format,
    /// Least severe log events written.
    #[arg(long, value_enum, default_value_t = Level::Info)]
    log_level: Level,
    /// Open connections at most (kept under the open-file limit, which is raised to its
    /// hard limit at start). A new connection over the cap sheds the connection idle the
    /// longest; with none idle it is closed at once.
    #[arg(long, default_value_t = ConnLimits::default().max_connections as u64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Open connections from one peer address at most (IPv6: one /64). Over it, the peer's
    /// connection idle the longest is shed; with none idle the new one is closed.
    #[arg(long, default_value_t = ConnLimits::default().max_connections_per_ip as u64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections_per_ip: u64,
    /// Time from the first byte of a request head to its end, in milliseconds; slower
    /// heads get the connection closed without an answer.
    #[arg(long, default_value_t = millis(ConnLimits::default().header_timeout), value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// Time to receive a vet or PKCE request's whole body, in milliseconds (read before a
    /// concurrency permit is taken); slower bodies get 408 and the connection closed.
    #[arg(long, default_value_t = millis(ConnLimits::default().body_timeout), value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,
    /// Time a connection may stay open with no request in progress, in milliseconds
    /// (also a new connection that sends nothing).
    #[arg(long, default_value_t = millis(ConnLimits::default().idle_timeout), value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,
    /// The app inventory: `sqlite:PATH` (created on first use) or `postgres://…`
    /// (migrations run at start). With --idp and --api-tokens: enables `/v1/apps*`.
    #[arg(long, value_name = "URL", requires_all = ["idp", "api_tokens"])]
    store: Option<String>,
    /// The identity provider's issuer URL (RFC 7591 registration and RFC 7592 management
    /// found from `ISSUER/.well-known/openid-configuration`).
    #[arg(long, value_name = "ISSUER_URL", requires_all = ["store", "api_tokens"])]
    idp: Option<String>,
    /// A file holding the IdP's RFC 7591 initial access token.
    #[arg(long, value_name = "FILE", requires = "idp")]
    idp_initial_access_token_file: Option<PathBuf>,
    /// The API tokens of `/v1/apps*` and `/v1/discover`: one `NAME ROLE SHA256HEX` per
    /// line (roles `register`, `admin`; `#` comments).
    #[arg(long, value_name = "FILE")]
    api_tokens: Option<PathBuf>,
    /// Sweep the inventory every SECONDS (expire, revoke past the grace period, reconcile
    /// crashed registrations); 0: never (sweep with `POST /v1/apps/sweep` or
    /// `microvet apps sweep`).
    #[arg(long, default_value_t = 0, value_name = "SECONDS", requires = "store")]
    sweep_interval: u64,
    /// Do not `sync_data` the decision log (only to measure what the sync costs: an
    /// answered vet may then be lost in a power failure).
    #[arg(long, hide = true)]
    decision_log_no_sync: bool,
    /// Also vet every request under the policy NAME of `--policies` (after the answer,
    /// without changing it); disagreements go to /metrics and the decision log
    /// (docs/POLICY-CHANGES.md).
    #[arg(long, value_name = "NAME")]
    shadow_policy: Option<String>,
    /// A waivers file (`waivers: [...]`) added to every policy: exceptions bound to the
    /// exact manifests they were granted for, checked against the server's date (UTC).
    /// Read at start. `?waivers=off` vets without it.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Instances {
    Warm,
    Fresh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

pub(crate) fn serve(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<u8> {
    let defaults = Config::default();
    let waivers = match &args.waivers {
        Some(path) => Some(crate::read_text(path, crate::Input::Policy)?.1),
        None => None,
    };
    let concurrency = args.max_concurrency.max(1);
    let (warm_pool, pooling) = match args.instances {
        Instances::Warm => (
            Some(WarmPool {
                max_calls: args.warm_max_calls.max(1),
                ..WarmPool::new(concurrency)
            }),
            None,
        ),
        // Room for every permit plus PKCE, reloads and slack.
        Instances::Fresh => (
            None,
            Some(u32::try_from(concurrency.saturating_add(16)).unwrap_or(u32::MAX)),
        ),
    };
    let config = Config {
        discover: args.discover.then_some(args.discover_max_bytes),
        listen: args.listen,
        policies_dir: args.policies,
        decision_log: args.decision_log,
        decision_log_sync: !args.decision_log_no_sync,
        decision_log_max_bytes: args.decision_log_max_bytes,
        shadow_policy: args.shadow_policy,
        max_concurrency: concurrency,
        max_body_bytes: args.max_body_bytes,
        vetter: VetterOptions {
            cache_dir: if ctx.no_cache {
                None
            } else {
                microvet::default_cache_dir()
            },
            memory_limit: args.memory_limit_mib.saturating_mul(1 << 20),
            time_limit: (args.time_limit_ms > 0).then(|| Duration::from_millis(args.time_limit_ms)),
            pooling,
            warm_pool,
            waivers,
            ..VetterOptions::default()
        },
        vet_threads: args.vet_threads.unwrap_or(defaults.vet_threads).max(1),
        worker_threads: args.workers.unwrap_or(defaults.worker_threads).max(1),
        web_root: args.web,
        reload_interval: (args.reload_interval_ms > 0)
            .then(|| Duration::from_millis(args.reload_interval_ms)),
        log_format: match args.log_format {
            Format::Json => LogFormat::Json,
            Format::Pretty => LogFormat::Pretty,
        },
        log_level: match args.log_level {
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warn,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
        },
        connections: ConnLimits {
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            max_connections_per_ip: usize::try_from(args.max_connections_per_ip)
                .unwrap_or(usize::MAX),
            header_timeout: Duration::from_millis(args.header_timeout_ms),
            body_timeout: Duration::from_millis(args.body_timeout_ms),
            idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        },
        api_tokens: args.api_tokens,
        lifecycle: match (args.store, args.idp) {
            (Some(store), Some(idp)) => Some(LifecycleConfig {
                store,
                idp,
                idp_initial_access_token_file: args.idp_initial_access_token_file,
                sweep_interval: (args.sweep_interval > 0)
                    .then(|| Duration::from_secs(args.sweep_interval)),
            }),
            _ => None,
        },
    };
    microvet::server::run(config)?;
    Ok(OK)
}

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Check a decision log's hash chain, streamed (constant memory): exit 0 if intact (a
    /// torn last line from a crash is reported but accepted), 1 if a line was edited,
    /// dropped, inserted or reordered, or a file of a rotated set is missing, out of order
    /// or truncated ("FILE: line N: ..."), 2 if a file cannot be read.
    #[command(disable_help_flag = true)]
    Verify {
        /// The decision log (JSON lines); for a rotated set, every file in order, oldest
        /// first (`FILE.000000001234 ... FILE`).
        #[arg(allow_hyphen_values = true, value_name = "FILE")]
        file: PathBuf,
        /// The later files of a rotated set, in order.
        #[arg(value_name = "FILE")]
        more: Vec<PathBuf>,
        /// The sha256 the last line must have (the head kept elsewhere, e.g. by the log
        /// pipeline): catches a rewritten tail, which the chain alone cannot.
        #[arg(long, value_name = "SHA256")]
        expect_head: Option<String>,
    },
}

pub(crate) fn log(command: LogCommand, out: &mut dyn Write) -> anyhow::Result<u8> {
    match command {
        LogCommand::Verify {
            file,
            more,
            expect_head,
        } => {
            let mut files = vec![file];
            files.extend(more);
            let v = match decision_log::verify_files(&files) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: cannot read the {e}");
                    return Ok(INVALID);
                }
            };
            let mut problems: Vec<String> = v.problems.iter().map(ToString::to_string).collect();
            let left_out = v.problem_count.saturating_sub(v.problems.len());
            if left_out > 0 {
                problems.push(format!(
                    "... and {left_out} more problem{} (the first {} are listed)",
                    if left_out == 1 { "" } else { "s" },
                    v.problems.len()
                ));
            }
            let mut count = v.problem_count;
            if let Some(head) = expect_head
                && !head.eq_ignore_ascii_case(&v.head)
            {
                count += 1;
                problems.push(format!(
                    "line {}: the last line's sha256 is {}, not the expected head {head}: the tail was rewritten, or lines were dropped from the end",
                    v.lines, v.head
                ));
            }
            if let Some((name, seq)) = &v.continues {
                writeln!(
                    out,
                    "note: the first file continues `{name}` (up to seq {seq}), which was not given: the lines before were not checked"
                )?;
            }
            for p in &problems {
                writeln!(out, "{p}")?;
            }
            if let Some((line, bytes)) = v.torn {
                writeln!(
                    out,
                    "line {line}: torn: the last line is incomplete ({bytes} bytes, no final newline): a crash in the middle of a write; it was never acknowledged, and the server cuts it off when it reopens the log"
                )?;
            }
            if problems.is_empty() {
                writeln!(
                    out,
                    "ok: {} entries, last seq {}, head sha256 {}{}",
                    v.lines,
                    v.last_seq,
                    v.head,
                    if v.torn.is_some() {
                        " (plus a torn last line)"
                    } else {
                        ""
                    }
                )?;
                Ok(OK)
            } else {
                writeln!(
                    out,
                    "broken: {count} problem{} in {} lines",
                    if count == 1 { "" } else { "s" },
                    v.lines
                )?;
                Ok(FAILED)
            }
        }
    }
}
