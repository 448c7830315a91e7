//! `microvet`: vet no-code micro-app manifests against policy-as-code, and PKCE helpers.
//!
//! Every answer comes from the embedded WebAssembly component, run in wasmtime.
//!
//! Exit codes: 0 approved / match, 1 remediate or reject / mismatch, 2 invalid input,
//! usage or any other error.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
mod commands;
mod serve_cmd;

use commands::{catalogue, check, pkce};

use microvet::input_file::{self, Input, ReadError};
use microvet::{CacheStatus, HostError, PolicySource, Vetter, VetterOptions, WarmPool};

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
    Check(check::CheckArgs),
    /// Generate a PKCE code verifier and its S256 challenge, or work with them.
    Pkce(pkce::PkceArgs),
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
    Fix(check::FixArgs),
    /// Work with policies.
    Policy {
        #[command(subcommand)]
        command: catalogue::PolicyCommand,
    },
    /// Write the embedded WebAssembly component (the exact bytes every runtime runs).
    Component(catalogue::ComponentArgs),
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
        Command::Check(args) => check::check(&ctx, args, out),
        Command::Pkce(args) => pkce::pkce(&ctx, args, out),
        Command::Rules => catalogue::rules(&ctx, out),
        Command::Explain { id } => catalogue::explain(&ctx, &id, out),
        Command::Fix(args) => check::fix(&ctx, args, out),
        Command::Policy {
            command: catalogue::PolicyCommand::Check { file },
        } => catalogue::policy_check(&ctx, &file, out),
        Command::Component(args) => catalogue::component(args, out),
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
    fn load(&self, args: &check::PolicyArgs) -> anyhow::Result<Vetter> {
        let (policy, policy_name) = policy_source(args.policy.as_deref())?;
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

    /// A vetter of `policy` (see [`Ctx::vetter_with`]), without a warm pool.
    fn vetter(&self, policy: PolicySource, policy_name: &str) -> anyhow::Result<Vetter> {
        self.vetter_with(policy, policy_name, None)
    }

    /// A vetter of `policy` (with the compiled-code cache unless `--no-cache`, and
    /// `warm_pool`); an invalid policy is reported against `policy_name` (exit 2).
    fn vetter_with(
        &self,
        policy: PolicySource,
        policy_name: &str,
        warm_pool: Option<WarmPool>,
    ) -> anyhow::Result<Vetter> {
        let cache_dir = if self.no_cache {
            None
        } else {
            microvet::default_cache_dir()
        };
        let start = Instant::now();
        let vetter = Vetter::new(VetterOptions {
            policy,
            cache_dir,
            warm_pool,
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

/// The policy of a `--policy FILE` option: the file's text, read as every policy and
/// waivers file is ([`read_text`]), or the built-in policy (`None`); with the name an
/// invalid policy is reported against (the file's, or `<builtin policy>`).
fn policy_source(path: Option<&Path>) -> anyhow::Result<(PolicySource, String)> {
    match path {
        Some(path) => {
            let (name, text) = read_text(path, Input::Policy)?;
            Ok((PolicySource::Text(text), name))
        }
        None => Ok((PolicySource::Builtin, "<builtin policy>".to_owned())),
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
        Some(v) => eprintln!("{}", v.render(None)),
        None => eprintln!("error: {e}"),
    }
    anyhow::Error::new(Reported(INVALID))
}

/// Read a file (or stdin for `-`) as UTF-8 text with the library's reader
/// ([`microvet::input_file`]), at most the input limit of `input`: a larger input is refused
/// (exit 2) after reading one byte more than the limit. Returns the input's name (the path
/// as given, or `<stdin>`) and its text.
fn read_text(path: &Path, input: Input) -> anyhow::Result<(String, String)> {
    let stdin = path == Path::new("-");
    let (name, read) = if stdin {
        let name = "<stdin>".to_owned();
        let read = input_file::read_text_from(io::stdin().lock(), &name, input);
        (name, read)
    } else {
        (
            path.display().to_string(),
            input_file::read_text(path, input),
        )
    };
    match read {
        Ok(text) => Ok((name, text)),
        Err(ReadError::Io { error, .. }) => {
            let context = if stdin {
                "cannot read standard input".to_owned()
            } else {
                let hint = if matches!(name.as_str(), "-h" | "--help") {
                    " (for help: `microvet help COMMAND`)"
                } else {
                    ""
                };
                format!("cannot read `{name}`{hint}")
            };
            Err(anyhow::Error::new(error).context(context))
        }
        Err(e @ ReadError::TooLarge { .. }) => {
            eprintln!(
                "error[limit]: {e}\n  help: {} is a few kilobytes; check that the right file was given",
                input.what()
            );
            Err(anyhow::Error::new(Reported(INVALID)))
        }
        Err(e @ ReadError::NotUtf8 { .. }) => {
            eprintln!("error: {e}");
            Err(anyhow::Error::new(Reported(INVALID)))
        }
    }
}
