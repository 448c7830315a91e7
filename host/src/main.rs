//! `microvet`: vet no-code micro-app manifests against policy-as-code, and PKCE helpers.
//!
//! Every answer comes from the embedded WebAssembly component, run in wasmtime.
//!
//! Exit codes: 0 approved / match, 1 remediate or reject / mismatch, 2 invalid input,
//! usage or any other error.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
mod commands;
mod serve_cmd;

use microvet::{CacheStatus, HostError, PolicySource, Severity, VetOutcome, Vetter, VetterOptions};

/// Vet no-code micro-app manifests against policy-as-code; PKCE (RFC 7636) helpers.
///
/// Exit codes: 0 approved (or match), 1 remediate/reject (or mismatch), 2 invalid input,
/// usage or any other error.
#[derive(Debug, Parser)]
#[command(name = "microvet", version, about, long_about = None)]
struct Cli {
    /// Compile the component instead of using the compiled-code cache
    /// (`$MICROVET_CACHE_DIR`, else `$XDG_CACHE_HOME/microvet`, else `~/.cache/microvet`).
    #[arg(long, global = true)]
    no_cache: bool,

    /// Print setup details (cache, timings) on stderr.
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Vet manifests: exit 0 if every one is approved (with or without controls), 1 if any
    /// is remediate or reject, 2 on invalid input.
    Check(CheckArgs),
    /// Generate a PKCE code verifier and its S256 challenge, or work with them.
    Pkce(PkceArgs),
    /// List the rules (id, severity, name).
    Rules,
    /// Print the documentation of a rule.
    Explain {
        /// Rule ID, e.g. `MV-OAUTH-003`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Apply every machine-applicable fix of the verdict and write the fixed manifest: the
    /// input's text edited where the fixes apply, its comments and layout kept (JSON stays
    /// JSON); every secret left is removed. Exit 0 if the fixed manifest is approved.
    Fix(FixArgs),
    /// Work with policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Write the embedded WebAssembly component (the exact bytes every runtime runs).
    Component(ComponentArgs),
    /// Run the HTTP vetting service (see docs/DEPLOY.md and GET /openapi.json).
    Serve(Box<serve_cmd::ServeArgs>),
    /// Vet and label every OAuth client of an identity provider's export (Keycloak,
    /// RFC 7591, Okta, Entra): approved, drifted, unvetted, built-in, ownerless.
    Discover(Box<commands::discover::DiscoverArgs>),
    /// Work with decision logs.
    Log {
        #[command(subcommand)]
        command: serve_cmd::LogCommand,
    },
    /// Register approved apps at the identity provider and keep them: list, show,
    /// recertify, revoke, sweep (see docs/LIFECYCLE.md).
    Apps {
        #[command(subcommand)]
        command: commands::apps::AppsCommand,
    },
    /// Vet inputs under two policies and report what would change (decisions first).
    Whatif(commands::whatif::WhatifArgs),
}

/// Commands whose positional values may begin with `-` (a PKCE value, a file named
/// `-x.yaml`) have no `-h`/`--help` flag: `-h…` is taken as the value, never as a request
/// for help that exits 0 (the code for "approved" or "match"). `microvet help COMMAND`
/// prints their help.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
struct CheckArgs {
    /// A manifest to vet (YAML or JSON); `-` reads standard input. Its name may begin with
    /// `-`.
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    file: PathBuf,
    /// More manifests (put `--` before them if a name begins with `-`).
    #[arg(value_name = "FILE")]
    more: Vec<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Output format: a readable verdict, or the canonical verdict JSON (one per line).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// The files are raw RFC 7591 dynamic client registration requests (JSON).
    #[arg(long)]
    dcr: bool,
}

/// The policy a vetting command vets against, its waivers and the day of the vet.
#[derive(Debug, Args)]
struct PolicyArgs {
    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    policy: Option<PathBuf>,
    /// Waivers file (`waivers: [...]`): exceptions added to the policy's own, each bound
    /// to the exact manifest it was granted for (policies/README.md, "Waivers").
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    waivers: Option<PathBuf>,
    /// The day of the vet, `YYYY-MM-DD` (default: today in UTC): the day waivers are
    /// checked against.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    today: Option<microvet_core::Date>,
}

fn parse_day(text: &str) -> Result<microvet_core::Date, String> {
    microvet_core::Date::parse(text).ok_or_else(|| format!("`{text}` is not a date `YYYY-MM-DD`"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0 for code-scanning tools (one log, one run, every file).
    Sarif,
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
struct FixArgs {
    /// The manifest to fix (YAML or JSON); `-` reads standard input.
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    file: PathBuf,
    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    policy: Option<PathBuf>,
    /// Write the fixed manifest here (default: standard output).
    #[arg(long, short, value_name = "FILE", allow_hyphen_values = true)]
    output: Option<PathBuf>,
    /// Rewrite FILE in place.
    #[arg(long, conflicts_with = "output")]
    in_place: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct PkceArgs {
    #[command(subcommand)]
    command: Option<PkceCommand>,
    /// Length of the code verifier (43..=128).
    #[arg(long, default_value_t = 64)]
    length: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PkceFormat::Text, global = true)]
    format: PkceFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PkceFormat {
    Text,
    Json,
    /// `PKCE_CODE_VERIFIER=...` lines for a shell.
    Env,
}

#[derive(Debug, Subcommand)]
enum PkceCommand {
    /// Print the S256 challenge of a code verifier.
    #[command(disable_help_flag = true)]
    Challenge {
        /// The code verifier (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        verifier: String,
    },
    /// Check a challenge against a verifier: exit 0 on match, 1 on mismatch, 2 if malformed.
    #[command(disable_help_flag = true)]
    Verify {
        /// The code verifier (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        verifier: String,
        /// The S256 code challenge (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        challenge: String,
    },
    /// Build an authorization-code request URL with PKCE S256, `state` and `nonce`.
    AuthorizeUrl(AuthorizeArgs),
}

#[derive(Debug, Args)]
struct AuthorizeArgs {
    /// The authorization endpoint (https).
    #[arg(long)]
    endpoint: String,
    /// The client ID.
    #[arg(long)]
    client_id: String,
    /// The redirect URI registered for the client.
    #[arg(long)]
    redirect_uri: String,
    /// Scopes, space-separated (may be repeated), e.g. "openid profile".
    #[arg(long)]
    scope: Vec<String>,
    /// An extra query parameter `name=value` (may be repeated).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not of the form NAME=VALUE")),
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file: exit 0 if valid, 2 if not.
    #[command(disable_help_flag = true)]
    Check {
        /// The policy file (YAML or JSON); `-` reads standard input.
        #[arg(allow_hyphen_values = true)]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(false))]
struct ComponentArgs {
    /// Write the component to this file.
    #[arg(long, value_name = "FILE", group = "what")]
    out: Option<PathBuf>,
    /// Print the WIT of the component instead.
    #[arg(long, group = "what")]
    wit: bool,
}

/// Exit codes.
const OK: u8 = 0;
const FAILED: u8 = 1;
const INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = io::stdout().lock();
    match run(cli, &mut out) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(OK);
            }
            let _ = out.flush();
            eprintln!("error: {e:#}");
            ExitCode::from(INVALID)
        }
    }
}

/// A failure already reported on stderr, with its exit code.
#[derive(Debug)]
struct Reported(u8);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Reported {}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<u8> {
    let ctx = Ctx {
        no_cache: cli.no_cache,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Check(args) => check(&ctx, args, out),
        Command::Pkce(args) => pkce(&ctx, args, out),
        Command::Rules => rules(&ctx, out),
        Command::Explain { id } => explain(&ctx, &id, out),
        Command::Fix(args) => fix(&ctx, args, out),
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => policy_check(&ctx, &file, out),
        Command::Component(args) => component(args, out),
        Command::Serve(args) => serve_cmd::serve(&ctx, *args),
        Command::Log { command } => serve_cmd::log(command, out),
        Command::Discover(args) => commands::discover::discover(&ctx, *args, out),
        Command::Apps { command } => commands::apps::run(&ctx, command, out),
        Command::Whatif(args) => commands::whatif::whatif(&ctx, args, out),
    };
    match result {
        Ok(code) => Ok(code),
        Err(e) => match e.downcast_ref::<Reported>() {
            Some(Reported(code)) => Ok(*code),
            None => Err(e),
        },
    }
}

struct Ctx {
    no_cache: bool,
    verbose: bool,
}

impl Ctx {
    /// The vetter of a command's policy options: the policy file (or the built-in one),
    /// then the waivers file, each reported against its own file when it is invalid.
    fn load(&self, args: &PolicyArgs) -> anyhow::Result<Vetter> {
        let (policy, policy_name) = match &args.policy {
            Some(path) => {
                let (name, text) = read_text(path, Input::Policy)?;
                (PolicySource::Text(text), name)
            }
            None => (PolicySource::Builtin, "<builtin policy>".to_owned()),
        };
        let mut vetter = self.vetter(policy, &policy_name)?;
        if let Some(path) = &args.waivers {
            let (name, text) = read_text(path, Input::Policy)?;
            vetter = vetter
                .with_waivers(Some(text))
                .map_err(|e| report(&e, &name))?;
        }
        if let Some(day) = args.today {
            vetter = vetter.on(microvet::Today::Fixed(day));
        }
        Ok(vetter)
    }

    fn vetter(&self, policy: PolicySource, policy_name: &str) -> anyhow::Result<Vetter> {
        let cache_dir = if self.no_cache {
            None
        } else {
            microvet::default_cache_dir()
        };
        let start = Instant::now();
        let vetter = Vetter::new(VetterOptions {
            policy,
            cache_dir,
            ..VetterOptions::default()
        });
        let elapsed = start.elapsed();
        match vetter {
            Ok(v) => {
                if self.verbose {
                    let cache = match v.cache_status() {
                        CacheStatus::Disabled => "disabled (compiled)".to_owned(),
                        CacheStatus::Hit(p) => format!("hit `{}`", p.display()),
                        CacheStatus::Written(p) => {
                            format!("miss, compiled and wrote `{}`", p.display())
                        }
                        CacheStatus::Recovered(p) => {
                            format!("unusable file, compiled and rewrote `{}`", p.display())
                        }
                        CacheStatus::WriteFailed(p, e) => {
                            format!("compiled, could not write `{}`: {e}", p.display())
                        }
                    };
                    eprintln!("microvet: cache {cache}");
                    eprintln!(
                        "microvet: setup (engine, component, policy check) {:.1} ms",
                        elapsed.as_secs_f64() * 1e3
                    );
                }
                Ok(v)
            }
            Err(e) => Err(report(&e, policy_name)),
        }
    }
}

/// Print a host error on stderr and turn it into a [`Reported`] exit 2.
fn report(e: &HostError, source_name: &str) -> anyhow::Error {
    eprintln!("{}", e.render(source_name));
    anyhow::Error::new(Reported(INVALID))
}

/// Print a WIT error that is not about a file (no `-->` line).
fn report_plain(e: &HostError) -> anyhow::Error {
    match e.vet_error() {
        Some(v) => {
            let mut s = format!("error[{}]: {}", v.code, v.message);
            if let Some(h) = &v.help {
                s.push_str(&format!("\n  help: {h}"));
            }
            eprintln!("{s}");
        }
        None => eprintln!("error: {e}"),
    }
    anyhow::Error::new(Reported(INVALID))
}

/// The input limit of a manifest or DCR request (the component's own limit).
const MANIFEST_MAX_BYTES: usize = 1 << 20;
/// The input limit of a policy (the component's own limit).
const POLICY_MAX_BYTES: usize = 4 << 20;

/// What is being read (for the input limit and its error).
#[derive(Clone, Copy)]
enum Input {
    Manifest,
    Policy,
}

impl Input {
    fn limit(self) -> usize {
        match self {
            Input::Manifest => MANIFEST_MAX_BYTES,
            Input::Policy => POLICY_MAX_BYTES,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Input::Manifest => "a manifest",
            Input::Policy => "a policy",
        }
    }
}

/// Read at most `limit + 1` bytes of `r`: `None` if there are more than `limit`.
fn read_bounded(r: impl Read, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    r.take(cap).read_to_end(&mut buf)?;
    Ok((buf.len() <= limit).then_some(buf))
}

/// Read a file (or stdin for `-`) as UTF-8 text, at most the input limit of `input`: a
/// larger input is refused (exit 2) after reading one byte more than the limit.
fn read_text(path: &Path, input: Input) -> anyhow::Result<(String, String)> {
    let limit = input.limit();
    let (name, bytes) = if path == Path::new("-") {
        let bytes =
            read_bounded(io::stdin().lock(), limit).context("cannot read standard input")?;
        ("<stdin>".to_owned(), bytes)
    } else {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| {
            let hint = if matches!(name.as_str(), "-h" | "--help") {
                " (for help: `microvet help COMMAND`)"
            } else {
                ""
            };
            format!("cannot read `{name}`{hint}")
        })?;
        let bytes = read_bounded(file, limit).with_context(|| format!("cannot read `{name}`"))?;
        (name, bytes)
    };
    let Some(bytes) = bytes else {
        eprintln!(
            "error[limit]: `{name}` is over the input limit of {} bytes ({} MiB) for {}; reading stopped there\n  help: {} is a few kilobytes; check that the right file was given",
            limit,
            limit >> 20,
            input.what(),
            input.what()
        );
        return Err(anyhow::Error::new(Reported(INVALID)));
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok((name, text)),
        Err(e) => {
            eprintln!(
                "error: file `{name}` is not valid UTF-8 (byte offset {})",
                e.utf8_error().valid_up_to()
            );
            Err(anyhow::Error::new(Reported(INVALID)))
        }
    }
}

// ---------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------

fn check(ctx: &Ctx, args: CheckArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let vetter = ctx.load(&args.policy)?;
    let color = Color::detect();
    let mut code = OK;
    let mut sarif_files: Vec<(String, serde_json::Value)> = Vec::new();
    let files = std::iter::once(&args.file).chain(&args.more);
    for (i, path) in files.enumerate() {
        let (name, text) = match read_text(path, Input::Manifest) {
            Ok(x) => x,
            Err(e) => match e.downcast_ref::<Reported>() {
                Some(_) => {
                    code = INVALID;
                    continue;
                }
                None => {
                    eprintln!("error: {e:#}");
                    code = INVALID;
                    continue;
                }
            },
        };
        let result = if args.dcr {
            vetter.vet_dcr(&text)
        } else {
            vetter.vet(&text)
        };
        match result {
            Ok(outcome) => {
                if !outcome.verdict.decision.is_approved() {
                    code = code.max(FAILED);
                }
                match args.format {
                    CheckFormat::Json => writeln!(out, "{}", outcome.json)?,
                    CheckFormat::Sarif => {
                        sarif_files.push((name.clone(), serde_json::from_str(&outcome.json)?));
                    }
                    CheckFormat::Text => {
                        if i > 0 {
                            writeln!(out)?;
                        }
                        write_verdict(out, &name, &outcome, vetter.policy_name(), color)?;
                    }
                }
            }
            Err(e) => {
                out.flush()?;
                eprintln!("{}", e.render(&name));
                code = INVALID;
            }
        }
    }
    if args.format == CheckFormat::Sarif {
        let log = microvet::sarif::log(&vetter.rules_json()?, vetter.engine(), &sarif_files);
        writeln!(out, "{}", serde_json::to_string_pretty(&log)?)?;
    }
    Ok(code)
}

fn fix(ctx: &Ctx, args: FixArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    // Every fix of the verdict is applied: a waiver accepts a finding, it does not forbid
    // fixing it.
    let vetter = ctx.load(&PolicyArgs {
        policy: args.policy.clone(),
        waivers: None,
        today: None,
    })?;
    let (name, text) = read_text(&args.file, Input::Manifest)?;
    let fixed = match vetter.fix(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}", e.render(&name));
            return Ok(INVALID);
        }
    };
    let target = if args.in_place {
        Some(args.file.clone())
    } else {
        args.output.clone()
    };
    match &target {
        Some(path) => std::fs::write(path, &fixed.manifest)
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
        None => write!(out, "{}", fixed.manifest)?,
    }
    for f in &fixed.applied {
        eprintln!("fixed {} {}: {}", f.op, f.path, f.description);
    }
    let after = vetter
        .vet(&fixed.manifest)
        .map_err(|e| anyhow::anyhow!("{}", e.render(&name)))?;
    eprintln!(
        "{} fix(es) applied; the fixed manifest is {} ({} finding(s) left){}",
        fixed.applied.len(),
        after.verdict.decision.as_str(),
        after.verdict.findings.len(),
        if fixed.applied.is_empty() {
            ""
        } else {
            if fixed.rewritten {
                "; the manifest was written out again (a fix could not be made in place): comments of the input are not kept"
            } else {
                "; comments and layout of the input kept"
            }
        }
    );
    Ok(if after.verdict.decision.is_approved() {
        OK
    } else {
        FAILED
    })
}

#[derive(Clone, Copy)]
struct Color(bool);

impl Color {
    fn detect() -> Color {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Color(!no_color && io::stdout().is_terminal())
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn decision_color(d: microvet::Decision) -> &'static str {
    match d {
        microvet::Decision::Approve => "1;32",
        microvet::Decision::ApproveWithControls => "1;36",
        microvet::Decision::Remediate => "1;33",
        microvet::Decision::Reject => "1;31",
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Info => "2",
        Severity::Low => "34",
        Severity::Medium => "33",
        Severity::High => "31",
        Severity::Critical => "1;31",
    }
}

fn write_verdict(
    out: &mut dyn Write,
    name: &str,
    outcome: &VetOutcome,
    policy_name: &str,
    color: Color,
) -> io::Result<()> {
    let v = &outcome.verdict;
    writeln!(
        out,
        "{}: {}",
        color.paint("1", name),
        color.paint(decision_color(v.decision), v.decision.as_str())
    )?;
    writeln!(
        out,
        "  risk {}/100 ({})",
        v.risk.score,
        v.risk.tier.as_str()
    )?;
    for f in &v.risk.factors {
        writeln!(out, "    +{:<3} {}: {}", f.points, f.factor, f.reason)?;
    }
    if v.findings.is_empty() {
        writeln!(out, "  no findings")?;
    } else {
        writeln!(out, "  findings ({}):", v.findings.len())?;
    }
    for f in &v.findings {
        write_finding(out, f, color)?;
    }
    if !v.waived.is_empty() {
        writeln!(
            out,
            "  waived ({}, not counted toward the decision):",
            v.waived.len()
        )?;
        for w in &v.waived {
            write_finding(out, &w.finding, color)?;
            writeln!(
                out,
                "             waiver {} until {}, approved by {}: {}",
                w.waiver.id, w.waiver.expires, w.waiver.approved_by, w.waiver.reason
            )?;
        }
    }
    if !v.controls.is_empty() {
        writeln!(out, "  controls ({}):", v.controls.len())?;
        for c in &v.controls {
            writeln!(out, "    {} = {}  ({})", c.control, c.value, c.reason)?;
        }
    }
    writeln!(out, "  manifest sha256 {}", v.manifest_sha256)?;
    writeln!(out, "  policy   sha256 {} ({policy_name})", v.policy_sha256)?;
    writeln!(out, "  engine   {}", v.engine)?;
    Ok(())
}

/// One finding of [`write_verdict`]: severity, rule and place, the message, the fix.
fn write_finding(out: &mut dyn Write, f: &microvet::Finding, color: Color) -> io::Result<()> {
    let at = match (f.path.as_str(), f.line) {
        ("", Some(l)) => format!("(document) line {l}"),
        ("", None) => "(document)".to_owned(),
        (p, Some(l)) => format!("{p} line {l}"),
        (p, None) => p.to_owned(),
    };
    let sev = format!("{:<8}", f.severity.as_str());
    writeln!(
        out,
        "    {} {}  {}",
        color.paint(severity_color(f.severity), &sev),
        color.paint("1", &f.rule),
        at
    )?;
    writeln!(out, "             {}", f.message)?;
    if let Some(fix) = &f.fix {
        let value = fix
            .value
            .as_ref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        writeln!(
            out,
            "             fix: {} {}{} ({})",
            fix.op, fix.path, value, fix.description
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// pkce
// ---------------------------------------------------------------------------------------

fn pkce(ctx: &Ctx, args: PkceArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let vetter = ctx.vetter(PolicySource::Builtin, "<builtin policy>")?;
    match args.command {
        None => {
            let pair = vetter
                .pkce_generate(args.length)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "code_verifier:         {}", pair.verifier)?;
                    writeln!(out, "code_challenge:        {}", pair.challenge)?;
                    writeln!(out, "code_challenge_method: {}", pair.method)?;
                }
                PkceFormat::Json => writeln!(out, "{}", serde_json::to_string(&pair)?)?,
                PkceFormat::Env => {
                    writeln!(out, "PKCE_CODE_VERIFIER={}", pair.verifier)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE={}", pair.challenge)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD={}", pair.method)?;
                }
            }
            Ok(OK)
        }
        Some(PkceCommand::Challenge { verifier }) => {
            let challenge = vetter
                .pkce_challenge(&verifier)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => writeln!(out, "{challenge}")?,
                PkceFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "challenge": challenge, "method": "S256" })
                )?,
                PkceFormat::Env => {
                    writeln!(out, "PKCE_CODE_CHALLENGE={challenge}")?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD=S256")?;
                }
            }
            Ok(OK)
        }
        Some(PkceCommand::Verify {
            verifier,
            challenge,
        }) => {
            let matches = vetter
                .pkce_verify(&verifier, &challenge)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "{}", if matches { "match" } else { "mismatch" })?;
                }
                PkceFormat::Json => {
                    writeln!(out, "{}", serde_json::json!({ "match": matches }))?;
                }
                PkceFormat::Env => writeln!(out, "PKCE_MATCH={matches}")?,
            }
            Ok(if matches { OK } else { FAILED })
        }
        Some(PkceCommand::AuthorizeUrl(a)) => {
            let scopes: Vec<String> = a
                .scope
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_owned)
                .collect();
            let req = vetter
                .pkce_authorize_url(
                    &a.endpoint,
                    &a.client_id,
                    &a.redirect_uri,
                    &scopes,
                    &a.params,
                )
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "url:            {}", req.url)?;
                    writeln!(out, "code_verifier:  {}", req.verifier)?;
                    writeln!(out, "code_challenge: {}", req.challenge)?;
                    writeln!(out, "state:          {}", req.state)?;
                    if let Some(nonce) = &req.nonce {
                        writeln!(out, "nonce:          {nonce}")?;
                    }
                }
                PkceFormat::Json => writeln!(out, "{}", serde_json::to_string(&req)?)?,
                PkceFormat::Env => {
                    writeln!(out, "AUTHORIZE_URL={}", shell_quote(&req.url))?;
                    writeln!(out, "PKCE_CODE_VERIFIER={}", req.verifier)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE={}", req.challenge)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD=S256")?;
                    writeln!(out, "OAUTH_STATE={}", req.state)?;
                    if let Some(nonce) = &req.nonce {
                        writeln!(out, "OIDC_NONCE={nonce}")?;
                    }
                }
            }
            Ok(OK)
        }
    }
}

/// Single-quote a value for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

// ---------------------------------------------------------------------------------------
// rules, explain
// ---------------------------------------------------------------------------------------

/// One rule of `rules_json` (tolerant of missing fields). The full documentation comes
/// from the component's `explain`.
#[derive(Debug, serde::Deserialize)]
struct Rule {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    summary: String,
}

fn load_rules(ctx: &Ctx) -> anyhow::Result<Vec<Rule>> {
    let vetter = ctx.vetter(PolicySource::Builtin, "<builtin policy>")?;
    let json = vetter.rules_json().map_err(|e| report_plain(&e))?;
    serde_json::from_str(&json).context("the component returned an invalid rule catalogue")
}

fn rules(ctx: &Ctx, out: &mut dyn Write) -> anyhow::Result<u8> {
    let rules = load_rules(ctx)?;
    let id_w = rules.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let sev_w = rules
        .iter()
        .map(|r| r.severity.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let name_w = rules.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    writeln!(
        out,
        "{:<id_w$}  {:<sev_w$}  {:<name_w$}  SUMMARY",
        "ID", "SEVERITY", "NAME"
    )?;
    for r in &rules {
        writeln!(
            out,
            "{:<id_w$}  {:<sev_w$}  {:<name_w$}  {}",
            r.id, r.severity, r.name, r.summary
        )?;
    }
    Ok(OK)
}

fn explain(ctx: &Ctx, id: &str, out: &mut dyn Write) -> anyhow::Result<u8> {
    let vetter = ctx.vetter(PolicySource::Builtin, "<builtin policy>")?;
    if let Some(doc) = vetter.explain(id)? {
        writeln!(out, "{doc}")?;
        return Ok(OK);
    }
    let rules = load_rules(ctx)?;
    eprintln!("error: unknown rule `{id}`");
    let wanted = id.to_ascii_uppercase();
    let best = rules
        .iter()
        .map(|r| (strsim::normalized_levenshtein(&wanted, &r.id), r))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, r)) => eprintln!("  help: did you mean `{}`?", r.id),
        None if rules.is_empty() => eprintln!("  help: the rule catalogue is empty"),
        None => {
            let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
            eprintln!("  help: known rules: {}", ids.join(", "));
        }
    }
    Ok(INVALID)
}

// ---------------------------------------------------------------------------------------
// policy, component
// ---------------------------------------------------------------------------------------

fn policy_check(ctx: &Ctx, file: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (name, text) = read_text(file, Input::Policy)?;
    let vetter = ctx.vetter(PolicySource::Text(text), &name)?;
    writeln!(
        out,
        "policy `{}` in `{name}` is valid (sha256 {})",
        vetter.policy_name(),
        vetter.policy_sha256()
    )?;
    Ok(OK)
}

fn component(args: ComponentArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    if args.wit {
        write!(out, "{}", microvet::WIT)?;
        return Ok(OK);
    }
    if let Some(path) = args.out {
        if path == Path::new("-") {
            out.write_all(microvet::COMPONENT)?;
        } else {
            std::fs::write(&path, microvet::COMPONENT)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!(
                "wrote {} bytes to `{}` (sha256 {})",
                microvet::COMPONENT.len(),
                path.display(),
                microvet::COMPONENT_SHA256
            );
        }
    }
    Ok(OK)
}
