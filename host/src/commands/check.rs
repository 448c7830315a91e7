//! `microvet check` and `microvet fix`: vet manifests (text, JSON, SARIF) and apply fixes.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use microvet::{Severity, VetOutcome};

use crate::{Ctx, FAILED, INVALID, Input, OK, Reported, read_text};

/// Commands whose positional values may begin with `-` (a PKCE value, a file named
/// `-x.yaml`) have no `-h`/`--help` flag: `-h…` is taken as the value, never as a request
/// for help that exits 0 (the code for "approved" or "match"). `microvet help COMMAND`
/// prints their help.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct CheckArgs {
    /// A manifest to vet (YAML or JSON); `-` reads standard input. Its name may begin with
    /// `-`.
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) file: PathBuf,
    /// More manifests (put `--` before them if a name begins with `-`).
    #[arg(value_name = "FILE")]
    pub(crate) more: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    /// Output format: a readable verdict, or the canonical verdict JSON (one per line).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
    /// The files are raw RFC 7591 dynamic client registration requests (JSON).
    #[arg(long)]
    pub(crate) dcr: bool,
}

/// The policy a vetting command vets against, its waivers and the day of the vet.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) policy: Option<PathBuf>,
    /// Waivers file (`waivers: [...]`): exceptions added to the policy's own, each bound
    /// to the exact manifest it was granted for (policies/README.md, "Waivers").
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) waivers: Option<PathBuf>,
    /// The day of the vet, `YYYY-MM-DD` (default: today in UTC): the day waivers are
    /// checked against.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub(crate) today: Option<microvet_core::Date>,
}

pub(crate) fn parse_day(text: &str) -> Result<microvet_core::Date, String> {
    microvet_core::Date::parse(text).ok_or_else(|| format!("`{text}` is not a date `YYYY-MM-DD`"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0 for code-scanning tools (one log, one run, every file).
    Sarif,
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct FixArgs {
    /// The manifest to fix (YAML or JSON); `-` reads standard input.
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) file: PathBuf,
    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) policy: Option<PathBuf>,
    /// Write the fixed manifest here (default: standard output).
    #[arg(long, short, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) output: Option<PathBuf>,
    /// Rewrite FILE in place.
    #[arg(long, conflicts_with = "output")]
    pub(crate) in_place: bool,
}

pub(crate) fn check(ctx: &Ctx, args: CheckArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
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

pub(crate) fn fix(ctx: &Ctx, args: FixArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
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
pub(crate) struct Color(bool);

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

pub(crate) fn decision_color(d: microvet::Decision) -> &'static str {
    match d {
        microvet::Decision::Approve => "1;32",
        microvet::Decision::ApproveWithControls => "1;36",
        microvet::Decision::Remediate => "1;33",
        microvet::Decision::Reject => "1;31",
    }
}

pub(crate) fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Info => "2",
        Severity::Low => "34",
        Severity::Medium => "33",
        Severity::High => "31",
        Severity::Critical => "1;31",
    }
}

pub(crate) fn write_verdict(
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
pub(crate) fn write_finding(
    out: &mut dyn Write,
    f: &microvet::Finding,
    color: Color,
) -> io::Result<()> {
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
