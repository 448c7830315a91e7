//! `microvet rules`, `explain`, `policy check` and `component`: the catalogue, a policy's
//! validity and the component's bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use microvet::PolicySource;

use crate::{Ctx, INVALID, OK, policy_source, report_plain};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
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
pub(crate) struct ComponentArgs {
    /// Write the component to this file.
    #[arg(long, value_name = "FILE", group = "what")]
    pub(crate) out: Option<PathBuf>,
    /// Print the WIT of the component instead.
    #[arg(long, group = "what")]
    pub(crate) wit: bool,
}

/// One rule of `rules_json` (tolerant of missing fields). The full documentation comes
/// from the component's `explain`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Rule {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    summary: String,
}

pub(crate) fn load_rules(ctx: &Ctx) -> anyhow::Result<Vec<Rule>> {
    let vetter = ctx.vetter(PolicySource::Builtin, "<builtin policy>")?;
    let json = vetter.rules_json().map_err(|e| report_plain(&e))?;
    serde_json::from_str(&json).context("the component returned an invalid rule catalogue")
}

pub(crate) fn rules(ctx: &Ctx, out: &mut dyn Write) -> anyhow::Result<u8> {
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

pub(crate) fn explain(ctx: &Ctx, id: &str, out: &mut dyn Write) -> anyhow::Result<u8> {
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

pub(crate) fn policy_check(ctx: &Ctx, file: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (policy, name) = policy_source(Some(file))?;
    let vetter = ctx.vetter(policy, &name)?;
    writeln!(
        out,
        "policy `{}` in `{name}` is valid (sha256 {})",
        vetter.policy_name(),
        vetter.policy_sha256()
    )?;
    Ok(OK)
}

pub(crate) fn component(args: ComponentArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
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
