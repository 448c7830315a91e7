//! `microvet discover`: vet every OAuth client of an identity provider's export and label
//! it against the approved manifests and the inventory (docs/DISCOVERY.md).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use microvet::WarmPool;
use microvet::discover::label::{Approvals, from_store};
use microvet::discover::report::{OutputFormat, run};
use microvet::discover::{DEFAULT_MAX_EXPORT_BYTES, Format, read_export};

use crate::{Ctx, INVALID, Reported, policy_source};

/// Vet every client of an IdP export and label it approved, drifted, unvetted, built-in
/// or ownerless. Exit 0 when every client is approved (or built-in), owned and approved by
/// the policy; 1 when any needs attention; 2 when a client or file could not be read.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The export format: keycloak, rfc7591, okta or entra.
    #[arg(long = "from", value_name = "FORMAT", value_parser = parse_format)]
    pub from: Format,
    /// The exports (JSON); `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Directory of approved manifests (`*.yaml`, `*.yml`, `*.json`), matched to clients
    /// by `client.client_id`, else by name.
    #[arg(long, value_name = "DIR")]
    pub manifests: Option<PathBuf>,
    /// The inventory (`sqlite:PATH` or `postgres://…`): its apps are approved apps too.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiscoverFormat::Text)]
    pub format: DiscoverFormat,
    /// No progress line on standard error (it is shown only when standard error is a
    /// terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiscoverFormat {
    Text,
    Json,
    Sarif,
    Csv,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        format!(
            "unknown export format `{s}`; one of: {}",
            Format::ALL.map(Format::as_str).join(", ")
        )
    })
}

fn read(path: &PathBuf) -> anyhow::Result<(String, String)> {
    let (name, mut reader): (String, Box<dyn Read>) = if path.as_os_str() == "-" {
        ("<stdin>".to_owned(), Box::new(std::io::stdin().lock()))
    } else {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot open `{}`", path.display()))?;
        (path.display().to_string(), Box::new(f))
    };
    let mut buf = Vec::new();
    let cap = u64::try_from(DEFAULT_MAX_EXPORT_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    (&mut reader)
        .take(cap)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read `{name}`"))?;
    if buf.len() > DEFAULT_MAX_EXPORT_BYTES {
        eprintln!(
            "error[limit]: `{name}` is over the export limit of {DEFAULT_MAX_EXPORT_BYTES} bytes; reading stopped there"
        );
        return Err(anyhow::Error::new(Reported(INVALID)));
    }
    match String::from_utf8(buf) {
        Ok(text) => Ok((name, text)),
        Err(e) => {
            eprintln!(
                "error: `{name}` is not valid UTF-8 (byte offset {})",
                e.utf8_error().valid_up_to()
            );
            Err(anyhow::Error::new(Reported(INVALID)))
        }
    }
}

pub fn discover(ctx: &Ctx, args: DiscoverArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (policy, policy_name) = policy_source(args.policy.as_deref())?;
    let mut approvals = Approvals::default();
    if let Some(dir) = &args.manifests
        && let Err(e) = approvals.load_dir(dir)
    {
        eprintln!("error: {e}");
        return Err(anyhow::Error::new(Reported(INVALID)));
    }
    if let Some(url) = &args.store {
        let loaded = microvet::lifecycle::store::open(url)
            .map_err(|e| e.to_string())
            .and_then(|store| from_store(store.as_ref(), &mut approvals));
        if let Err(e) = loaded {
            eprintln!("error: {e}");
            return Err(anyhow::Error::new(Reported(INVALID)));
        }
    }
    let reading = Instant::now();
    let mut exports = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let (name, text) = match read(path) {
            Ok(x) => x,
            Err(e) => {
                if e.downcast_ref::<Reported>().is_none() {
                    eprintln!("error: {e:#}");
                }
                failed = true;
                continue;
            }
        };
        match read_export(args.from, &name, &text) {
            Ok(export) => {
                for e in &export.errors {
                    eprintln!("error: {e}");
                }
                exports.push(export);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    let read_ms = reading.elapsed().as_secs_f64() * 1e3;
    let vetter = ctx.vetter_with(policy, &policy_name, Some(WarmPool::new(1)))?;
    let format = match args.format {
        DiscoverFormat::Text => OutputFormat::Text,
        DiscoverFormat::Json => OutputFormat::Json,
        DiscoverFormat::Sarif => OutputFormat::Sarif,
        DiscoverFormat::Csv => OutputFormat::Csv,
    };
    // `-v`: one vet of the first client alone (median of 21, the warm instance of the
    // run), to set the time per client of the run against.
    let single = if ctx.verbose {
        exports
            .iter()
            .find_map(|e| e.clients.first())
            .map(|c| c.dcr_json())
            .map(|text| {
                let mut times: Vec<f64> = (0..21)
                    .filter_map(|_| {
                        let t = Instant::now();
                        vetter
                            .vet_summary(microvet::InputKind::Dcr, &text)
                            .ok()
                            .map(|_| t.elapsed().as_secs_f64() * 1e3)
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                times.get(times.len() / 2).copied().unwrap_or(0.0)
            })
    } else {
        None
    };
    let show = !args.no_progress && std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut progress = |done: usize, total: usize| {
        if show && (done == total || last.elapsed().as_millis() >= 100) {
            last = Instant::now();
            eprint!("\rmicrovet discover: {done}/{total} clients vetted");
            if done == total {
                eprintln!();
            }
        }
    };
    let outcome = run(&vetter, &approvals, exports, format, out, &mut progress)?;
    if ctx.verbose {
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let n = outcome.summary.clients.max(1) as f64;
        let per = (ms + read_ms) / n;
        eprintln!(
            "microvet: read the export(s) in {read_ms:.1} ms (parse, scrub, map); vetted, labelled and wrote {} client(s) in {ms:.1} ms; {per:.3} ms per client in all",
            outcome.summary.clients,
        );
        if let Some(s) = vetter.pool_stats() {
            eprintln!(
                "microvet: warm instances: {} reused, {} created, {} retired, {} discarded",
                s.reused, s.created, s.retired, s.discarded
            );
        }
        if let Some(one) = single {
            eprintln!(
                "microvet: one vet of the first client alone: {one:.3} ms (median of 21); per client / single vet = {:.2}",
                per / one.max(1e-9)
            );
        }
    }
    let code = outcome.summary.exit_code(outcome.all_clear);
    Ok(if failed { INVALID } else { code })
}
