//! `microvet apps …`: register, list, show, recertify, revoke and sweep apps, either
//! through a running server (`--server URL --token-file F`) or directly on the inventory
//! (`--store URL`, plus `--idp ISSUER` for what changes the identity provider).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use microvet::PolicySource;
use microvet::decision_log::DecisionLog;
use microvet::lifecycle::service::{
    self, AppView, FixedPolicies, Lifecycle, LifecycleError, SweepReport,
};
use serde_json::Value;

use crate::{Ctx, FAILED, INVALID, Input, OK, read_text, report};

#[derive(Debug, Subcommand)]
pub(crate) enum AppsCommand {
    /// Vet a manifest and, if approved, register its client at the identity provider
    /// (prints the answer as JSON, with the client secret if one was issued: shown once).
    /// Exit 0 registered, 1 not approved (the verdict is printed), 2 any other error.
    Register {
        /// The manifest (YAML or JSON).
        file: PathBuf,
        /// The named policy to vet with.
        #[arg(long, default_value = "default", value_name = "NAME")]
        policy: String,
        #[command(flatten)]
        target: Target,
    },
    /// The inventory (never a secret).
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        target: Target,
    },
    /// One app: its verdict and history, as JSON.
    Show {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Re-vet the stored manifest against the policy in force now.
    Recertify {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Disable an app at the identity provider now (RFC 7592 delete).
    Revoke {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Expire apps past their expiry, revoke apps past recertify-by plus the grace period,
    /// reconcile registrations interrupted by a crash. A dry run unless --apply.
    /// Exit 0, or 1 when an app could not be disabled (retried next sweep).
    Sweep {
        /// Sweep as of this time (RFC 3339, e.g. `2026-09-01T00:00:00Z`); default now.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Act: without it, only print what would be done.
        #[arg(long)]
        apply: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Where the apps are: a server, or the inventory itself.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// A `microvet serve` URL (`http://host:port`).
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "store",
        requires = "token_file"
    )]
    server: Option<String>,
    /// A file holding the API token for --server.
    #[arg(long, value_name = "FILE", requires = "server")]
    token_file: Option<PathBuf>,
    /// The inventory: `sqlite:PATH` or `postgres://…`.
    #[arg(long, value_name = "URL", required_unless_present = "server")]
    store: Option<String>,
    /// The identity provider's issuer URL (with --store: for register, revoke, sweep --apply).
    #[arg(long, value_name = "ISSUER_URL", requires = "store")]
    idp: Option<String>,
    /// A file holding the IdP's RFC 7591 initial access token.
    #[arg(long, value_name = "FILE", requires = "idp")]
    idp_initial_access_token_file: Option<PathBuf>,
    /// With --store: the directory of named policies (`NAME.yaml`), as for `serve`.
    #[arg(long, value_name = "DIR", requires = "store")]
    policies: Option<PathBuf>,
    /// With --store: append the events to this hash-chained decision log.
    #[arg(long, value_name = "FILE", requires = "store")]
    decision_log: Option<PathBuf>,
}

/// A time limit for the server calls (a register waits on the IdP: up to its timeouts).
const SERVER_TIMEOUT: Duration = Duration::from_secs(60);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn run(ctx: &Ctx, command: AppsCommand, out: &mut dyn Write) -> anyhow::Result<u8> {
    let at = match &command {
        AppsCommand::Sweep { at: Some(at), .. } => match service::parse_rfc3339(at) {
            Ok(t) => Some(t),
            Err(m) => {
                eprintln!("error: --at {m}");
                return Ok(INVALID);
            }
        },
        _ => None,
    };
    let target = match &command {
        AppsCommand::Register { target, .. }
        | AppsCommand::List { target, .. }
        | AppsCommand::Show { target, .. }
        | AppsCommand::Recertify { target, .. }
        | AppsCommand::Revoke { target, .. }
        | AppsCommand::Sweep { target, .. } => target,
    };
    if let Some(server) = &target.server {
        let token_file = target
            .token_file
            .as_deref()
            .context("--server needs --token-file")?;
        return remote(server, token_file, &command, at, out);
    }
    let lc = local(ctx, target)?;
    let result: Result<Value, LifecycleError> = match &command {
        AppsCommand::Register { file, policy, .. } => {
            let bytes = read_text(file, Input::Manifest)?.1.into_bytes();
            lc.register(&bytes, policy, "cli", now())
                .and_then(|r| to_value(&r))
        }
        AppsCommand::List { format, .. } => {
            return match lc.list() {
                Ok(apps) => {
                    print_list(&apps, *format, out)?;
                    Ok(OK)
                }
                Err(e) => Ok(fail(&e.body(), e.status())),
            };
        }
        AppsCommand::Show { name, .. } => lc.show(name).and_then(|d| to_value(&d)),
        AppsCommand::Recertify { name, .. } => {
            lc.recertify(name, "cli", now()).and_then(|d| to_value(&d))
        }
        AppsCommand::Revoke { name, .. } => {
            lc.revoke(name, "cli", now()).and_then(|d| to_value(&d))
        }
        AppsCommand::Sweep { apply, format, .. } => {
            return match lc.sweep(at.unwrap_or_else(now), *apply, "cli") {
                Ok(report) => print_sweep(&report, *format, out),
                Err(e) => Ok(fail(&e.body(), e.status())),
            };
        }
    };
    match result {
        Ok(v) => {
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            Ok(OK)
        }
        Err(e) => Ok(fail(&e.body(), e.status())),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, LifecycleError> {
    serde_json::to_value(v).map_err(|e| LifecycleError::Host(e.to_string()))
}

/// Prints an error body (and a refused app's verdict) on stderr; the exit code.
fn fail(body: &Value, status: u16) -> u8 {
    let code = body
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("the request failed");
    eprintln!("error[{code}]: {message}");
    if let Some(help) = body.pointer("/error/help").and_then(Value::as_str) {
        eprintln!("  help: {help}");
    }
    if let Some(verdict) = body.get("verdict") {
        eprintln!(
            "{}",
            serde_json::to_string_pretty(verdict).unwrap_or_default()
        );
    }
    if code == "not-approved" || status == 422 {
        FAILED
    } else {
        INVALID
    }
}

fn local(ctx: &Ctx, target: &Target) -> anyhow::Result<Lifecycle> {
    let url = target
        .store
        .as_deref()
        .context("--store or --server is required")?;
    let store = microvet::lifecycle::store::open(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let idp = match &target.idp {
        Some(issuer) => Some(
            service::connect_idp(issuer, target.idp_initial_access_token_file.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let base = ctx.vetter(PolicySource::Builtin, "the built-in policy")?;
    let mut policies = vec![("default".to_owned(), base.clone())];
    if let Some(dir) = &target.policies {
        for (name, path) in policy_files(dir)? {
            let (file, text) = read_text(&path, Input::Policy)?;
            let vetter = base
                .with_policy(PolicySource::Text(text))
                .map_err(|e| report(&e, &file))?;
            policies.retain(|(n, _)| *n != name);
            policies.push((name, vetter));
        }
    }
    let log = match &target.decision_log {
        Some(path) => {
            let (log, _) = DecisionLog::open(path, true)
                .with_context(|| format!("cannot open the decision log `{}`", path.display()))?;
            Some(Box::new(log) as Box<dyn service::EventLog>)
        }
        None => None,
    };
    Ok(Lifecycle {
        store,
        idp,
        policies: Box::new(FixedPolicies(policies)),
        log,
        claimer: format!("cli-{}-{}", std::process::id(), service::random_id()?),
    })
}

fn policy_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the policies directory `{}`", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && !stem.starts_with('.')
        {
            out.push((stem.to_owned(), path));
        }
    }
    out.sort();
    Ok(out)
}

fn print_list(apps: &[AppView], format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(apps)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<24} {:<8} {:<28} {:<22} {:>4} {:<20} {:<20} CLIENT",
        "NAME", "STATUS", "OWNER", "DECISION", "RISK", "EXPIRES", "RECERTIFY-BY"
    )?;
    for a in apps {
        writeln!(
            out,
            "{:<24} {:<8} {:<28} {:<22} {:>4} {:<20} {:<20} {}",
            a.name,
            a.status.as_str(),
            a.owner,
            a.decision,
            a.score,
            a.expires_at,
            a.recertify_by,
            a.client_id.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

fn print_sweep(report: &SweepReport, format: Format, out: &mut dyn Write) -> anyhow::Result<u8> {
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
    } else {
        if report.actions.is_empty() {
            writeln!(out, "sweep at {}: nothing to do", report.at)?;
        }
        for a in &report.actions {
            let client = a.client_id.as_deref().unwrap_or("-");
            match a.outcome {
                "would" => writeln!(
                    out,
                    "would {} {} (client {client}): {}",
                    a.action, a.name, a.reason
                )?,
                "done" => writeln!(
                    out,
                    "{} {} (client {client}): {}",
                    past(a.action),
                    a.name,
                    a.reason
                )?,
                _ => writeln!(
                    out,
                    "failed to {} {} (client {client}): {}; retried next sweep",
                    a.action,
                    a.name,
                    a.error.as_deref().unwrap_or("")
                )?,
            }
        }
        if !report.applied && !report.actions.is_empty() {
            writeln!(out, "dry run: nothing changed (add --apply)")?;
        }
    }
    Ok(if report.actions.iter().any(|a| a.outcome == "retry") {
        FAILED
    } else {
        OK
    })
}

fn past(action: &str) -> &str {
    match action {
        "expire" => "expired",
        "revoke" => "revoked",
        "reconcile" => "reconciled",
        other => other,
    }
}

/// The same commands through a server's `/v1/apps*` API.
fn remote(
    server: &str,
    token_file: &Path,
    command: &AppsCommand,
    at: Option<i64>,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("cannot read the token file `{}`", token_file.display()))?;
    let token = token.trim();
    let base = server.trim_end_matches('/');
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(SERVER_TIMEOUT))
            .build(),
    );
    let auth = format!("Bearer {token}");
    let seg = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let response = match command {
        AppsCommand::Register { file, policy, .. } => {
            let bytes = read_text(file, Input::Manifest)?.1.into_bytes();
            let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            agent
                .post(&format!("{base}/v1/apps?policy={}", seg(policy)))
                .header("authorization", &auth)
                .header(
                    "content-type",
                    if json {
                        "application/json"
                    } else {
                        "application/yaml"
                    },
                )
                .send(&bytes[..])
        }
        AppsCommand::List { .. } => agent
            .get(&format!("{base}/v1/apps"))
            .header("authorization", &auth)
            .call(),
        AppsCommand::Show { name, .. } => agent
            .get(&format!("{base}/v1/apps/{}", seg(name)))
            .header("authorization", &auth)
            .call(),
        AppsCommand::Recertify { name, .. } => agent
            .post(&format!("{base}/v1/apps/{}/recertify", seg(name)))
            .header("authorization", &auth)
            .send_empty(),
        AppsCommand::Revoke { name, .. } => agent
            .post(&format!("{base}/v1/apps/{}/revoke", seg(name)))
            .header("authorization", &auth)
            .send_empty(),
        AppsCommand::Sweep { apply, .. } => {
            let mut url = format!("{base}/v1/apps/sweep?apply={apply}");
            if let Some(at) = at {
                url.push_str(&format!("&at={}", seg(&service::rfc3339(at))));
            }
            agent.post(&url).header("authorization", &auth).send_empty()
        }
    };
    let mut response = response.with_context(|| format!("cannot reach the server `{base}`"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .context("cannot read the server's answer")?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !(200..300).contains(&status) {
        return Ok(fail(&body, status));
    }
    match command {
        AppsCommand::List { format, .. } => {
            if *format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
            } else {
                print_remote_list(&body, out)?;
            }
            Ok(OK)
        }
        AppsCommand::Sweep { format, .. } => {
            if *format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
                return Ok(OK);
            }
            let actions = body.get("actions").and_then(Value::as_array);
            for a in actions.into_iter().flatten() {
                let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
                writeln!(
                    out,
                    "{} {} {} (client {}): {}",
                    s("outcome"),
                    s("action"),
                    s("name"),
                    s("client_id"),
                    s("reason")
                )?;
            }
            Ok(
                if actions
                    .into_iter()
                    .flatten()
                    .any(|a| a.get("outcome").and_then(Value::as_str) == Some("retry"))
                {
                    FAILED
                } else {
                    OK
                },
            )
        }
        _ => {
            writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
            Ok(OK)
        }
    }
}

fn print_remote_list(body: &Value, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<24} {:<8} {:<28} {:<22} {:>4} {:<20} {:<20} CLIENT",
        "NAME", "STATUS", "OWNER", "DECISION", "RISK", "EXPIRES", "RECERTIFY-BY"
    )?;
    for a in body.as_array().into_iter().flatten() {
        let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
        writeln!(
            out,
            "{:<24} {:<8} {:<28} {:<22} {:>4} {:<20} {:<20} {}",
            s("name"),
            s("status"),
            s("owner"),
            s("decision"),
            a.get("score").and_then(Value::as_u64).unwrap_or(0),
            s("expires_at"),
            s("recertify_by"),
            s("client_id")
        )?;
    }
    Ok(())
}
