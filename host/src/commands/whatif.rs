//! `microvet whatif --from POLICY --to POLICY [PATH]... [--store URL]`: what a policy change
//! would do, to files or to the live apps of the app inventory.
//!
//! Every input is vetted under both policies; the report lists the decision changes first
//! (stricter ones, then looser ones), then, per input, the findings added, removed, or
//! whose severity changed (a finding is its rule ID and its path), then a summary count.
//! `--format json` gives the same report as one JSON document. Exit 0, or 1 with
//! `--fail-on-tightening` when some decision got stricter; 2 on invalid input or usage
//! (an unreadable input, a policy that does not load: the report is then incomplete).
//!
//! A directory is walked (sorted, symbolic links not followed, at most
//! [`MAX_DEPTH`] levels and [`MAX_INPUTS`] inputs): its inputs are the `*.yaml`, `*.yml`
//! and `*.json` files, except `expected.json` (a golden verdict of `tests/corpus/`) and
//! `waivers.yaml` / `waivers.yml` / `waivers.json` (waivers files, not manifests);
//! `dcr.json` and `*.dcr.json` are RFC 7591 registration requests, every other file a
//! manifest (`--dcr` makes every input a registration request). A file named on the
//! command line is always an input.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use microvet::{Decision, InputKind, Severity, VetOutcome, Vetter, WarmPool};

use crate::{Ctx, FAILED, INVALID, Input, OK, Reported, policy_source, read_text};

/// Directory levels walked below a directory given on the command line.
pub(crate) const MAX_DEPTH: usize = 32;
/// Inputs vetted at most in one run (each is vetted twice).
pub(crate) const MAX_INPUTS: usize = 100_000;

#[derive(Debug, Args)]
pub(crate) struct WhatifArgs {
    /// The policy in force (a policy file).
    #[arg(long, value_name = "POLICY")]
    from: PathBuf,
    /// The policy considered (a policy file).
    #[arg(long, value_name = "POLICY")]
    to: PathBuf,
    /// Manifests, registration requests, or directories of them.
    #[arg(value_name = "PATH", required_unless_present = "store")]
    paths: Vec<PathBuf>,
    /// Also vet the stored manifest of every live app (pending, active or due) of this inventory
    /// (`sqlite:FILE` or `postgres://…`, as for `microvet apps`); each is named `app:NAME`.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhatifFormat::Text)]
    format: WhatifFormat,
    /// Exit 1 if some input's decision is stricter under `--to` than under `--from`.
    #[arg(long)]
    fail_on_tightening: bool,
    /// Every input is a raw RFC 7591 registration request (JSON).
    #[arg(long)]
    dcr: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WhatifFormat {
    Text,
    Json,
}

/// One policy of the comparison.
#[derive(Debug, Serialize)]
struct PolicyRef {
    file: String,
    name: String,
    sha256: String,
}

/// A finding as the report compares it.
#[derive(Debug, Clone, Serialize)]
struct FindingRef {
    rule: String,
    severity: Severity,
    path: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct SeverityChange {
    rule: String,
    path: String,
    from: Severity,
    to: Severity,
}

/// The outcome of one input under one policy: a decision, or the input error.
#[derive(Debug, Clone, Serialize)]
struct Side {
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<u32>,
    /// The error code when the input could not be vetted.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Side {
    fn label(&self) -> String {
        match (&self.decision, &self.error) {
            (Some(d), _) => d.as_str().to_owned(),
            (None, Some(code)) => format!("error ({code})"),
            (None, None) => "error".to_owned(),
        }
    }

    /// Strictness: the decisions in order, an input error strictest (it is not approved).
    fn rank(&self) -> u8 {
        match self.decision {
            Some(Decision::Approve) => 0,
            Some(Decision::ApproveWithControls) => 1,
            Some(Decision::Remediate) => 2,
            Some(Decision::Reject) => 3,
            None => 4,
        }
    }
}

#[derive(Debug, Serialize)]
struct DecisionChange {
    input: String,
    from: String,
    to: String,
    /// `stricter` or `looser`.
    direction: &'static str,
}

#[derive(Debug, Serialize)]
struct AppChange {
    input: String,
    from: Side,
    to: Side,
    added: Vec<FindingRef>,
    removed: Vec<FindingRef>,
    severity_changed: Vec<SeverityChange>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    inputs: usize,
    decision_changes: usize,
    stricter: usize,
    looser: usize,
    /// Inputs whose decision or findings changed.
    inputs_changed: usize,
    findings_added: usize,
    findings_removed: usize,
    severity_changes: usize,
    /// Inputs that could not be read (not vetted).
    unreadable: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    from: PolicyRef,
    to: PolicyRef,
    summary: Summary,
    decision_changes: Vec<DecisionChange>,
    inputs: Vec<AppChange>,
}

fn load_policy(ctx: &Ctx, path: &Path) -> anyhow::Result<(Vetter, PolicyRef)> {
    let (policy, file) = policy_source(Some(path))?;
    let vetter = ctx.vetter_with(policy, &file, Some(WarmPool::new(1)))?;
    let policy = PolicyRef {
        file,
        name: vetter.policy_name().to_owned(),
        sha256: vetter.policy_sha256().to_owned(),
    };
    Ok((vetter, policy))
}

/// Where an input comes from: a file, or an app of the inventory (its name and stored
/// manifest, which may not be UTF-8).
enum Source<'a> {
    File(&'a Path),
    App(&'a str, &'a [u8]),
}

impl Source<'_> {
    /// The input's name in the report and its text.
    fn read(&self) -> anyhow::Result<(String, String)> {
        match self {
            Source::File(path) => read_text(path, Input::Manifest),
            Source::App(name, bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Ok((format!("app:{name}"), text.to_owned())),
                Err(e) => anyhow::bail!(
                    "the stored manifest of app `{name}` is not UTF-8 (byte offset {})",
                    e.valid_up_to()
                ),
            },
        }
    }
}

/// The name and stored manifest of every live app (pending, active or due) of the inventory at
/// `url`, in name order.
fn live_apps(url: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let store = microvet::lifecycle::store::open(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let apps = store.list().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(apps
        .into_iter()
        .filter(|a| a.status.is_live())
        .map(|a| (a.name, a.manifest))
        .collect())
}

/// Whether a file found in a directory is an input, and of which kind.
fn input_kind(path: &Path, all_dcr: bool) -> Option<InputKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "expected.json" | "waivers.yaml" | "waivers.yml" | "waivers.json"
    ) {
        return None;
    }
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !matches!(ext.as_str(), "yaml" | "yml" | "json") {
        return None;
    }
    Some(kind_of(&lower, all_dcr))
}

fn kind_of(lower_name: &str, all_dcr: bool) -> InputKind {
    if all_dcr || lower_name == "dcr.json" || lower_name.ends_with(".dcr.json") {
        InputKind::Dcr
    } else {
        InputKind::Manifest
    }
}

/// Collect the inputs of `path` (a file, or a directory walked in sorted order).
fn collect(
    path: &Path,
    depth: usize,
    all_dcr: bool,
    out: &mut Vec<(PathBuf, InputKind)>,
) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
    if depth == 0 && !meta.is_dir() {
        // Named on the command line: always an input (a symbolic link is followed).
        let lower = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        out.push((path.to_path_buf(), kind_of(&lower, all_dcr)));
        return Ok(());
    }
    if meta.is_dir() {
        if depth > MAX_DEPTH {
            anyhow::bail!(
                "`{}` is more than {MAX_DEPTH} directory levels deep; name a deeper directory itself",
                path.display()
            );
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("cannot read directory `{}`: {e}", path.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("cannot read directory `{}`: {e}", path.display()))?;
        entries.sort();
        for entry in entries {
            collect(&entry, depth + 1, all_dcr, out)?;
        }
    } else if meta.is_file()
        && let Some(kind) = input_kind(path, all_dcr)
    {
        if out.len() >= MAX_INPUTS {
            anyhow::bail!(
                "more than {MAX_INPUTS} inputs under the paths given; compare smaller sets"
            );
        }
        out.push((path.to_path_buf(), kind));
    }
    Ok(())
}

fn side(result: &Result<VetOutcome, microvet::HostError>) -> anyhow::Result<Side> {
    match result {
        Ok(o) => Ok(Side {
            decision: Some(o.verdict.decision),
            score: Some(o.verdict.risk.score),
            error: None,
        }),
        Err(e) => match e.vet_error() {
            Some(v) => Ok(Side {
                decision: None,
                score: None,
                error: Some(v.code.to_string()),
            }),
            // A trap or a host limit is not an answer about the input: stop.
            None => Err(anyhow::anyhow!("{e}")),
        },
    }
}

/// The findings of an outcome by (rule, path), in verdict order.
fn findings(result: &Result<VetOutcome, microvet::HostError>) -> Vec<FindingRef> {
    match result {
        Ok(o) => o
            .verdict
            .findings
            .iter()
            .map(|f| FindingRef {
                rule: f.rule.clone(),
                severity: f.severity,
                path: f.path.clone(),
                message: f.message.clone(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn compare(
    input: String,
    from: &Result<VetOutcome, microvet::HostError>,
    to: &Result<VetOutcome, microvet::HostError>,
) -> anyhow::Result<AppChange> {
    let (a, b) = (findings(from), findings(to));
    // A finding is its rule and path; the same rule can flag the same path more than once
    // (two scopes of one `scope` string), so the n-th of them is matched with the n-th.
    let keyed = |list: &[FindingRef]| -> Vec<((String, String, usize), FindingRef)> {
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        list.iter()
            .map(|f| {
                let n = seen.entry((f.rule.clone(), f.path.clone())).or_insert(0);
                *n += 1;
                ((f.rule.clone(), f.path.clone(), *n), f.clone())
            })
            .collect()
    };
    let (a, b) = (keyed(&a), keyed(&b));
    let before: BTreeMap<&(String, String, usize), &FindingRef> =
        a.iter().map(|(k, f)| (k, f)).collect();
    let after: BTreeMap<&(String, String, usize), &FindingRef> =
        b.iter().map(|(k, f)| (k, f)).collect();
    let added = b
        .iter()
        .filter(|(k, _)| !before.contains_key(k))
        .map(|(_, f)| f.clone())
        .collect();
    let removed = a
        .iter()
        .filter(|(k, _)| !after.contains_key(k))
        .map(|(_, f)| f.clone())
        .collect();
    let severity_changed = b
        .iter()
        .filter_map(|(k, f)| {
            let old = before.get(k)?;
            (old.severity != f.severity).then(|| SeverityChange {
                rule: f.rule.clone(),
                path: f.path.clone(),
                from: old.severity,
                to: f.severity,
            })
        })
        .collect();
    Ok(AppChange {
        input,
        from: side(from)?,
        to: side(to)?,
        added,
        removed,
        severity_changed,
    })
}

pub(crate) fn whatif(ctx: &Ctx, args: WhatifArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (from_vetter, from) = load_policy(ctx, &args.from)?;
    let (to_vetter, to) = load_policy(ctx, &args.to)?;
    let mut inputs = Vec::new();
    for path in &args.paths {
        if let Err(e) = collect(path, 0, args.dcr, &mut inputs) {
            eprintln!("error: {e:#}");
            return Err(anyhow::Error::new(Reported(INVALID)));
        }
    }
    let stored = match &args.store {
        Some(url) => live_apps(url)?,
        None => Vec::new(),
    };
    let mut summary = Summary::default();
    let mut changes = Vec::new();
    let mut apps = Vec::new();
    let files = inputs
        .iter()
        .map(|(path, kind)| (Source::File(path), *kind));
    let stored = stored
        .iter()
        .map(|(name, text)| (Source::App(name, text), InputKind::Manifest));
    for (source, kind) in files.chain(stored) {
        let kind = &kind;
        let (name, text) = match source.read() {
            Ok(x) => x,
            Err(e) => {
                if e.downcast_ref::<Reported>().is_none() {
                    eprintln!("error: {e:#}");
                }
                summary.unreadable += 1;
                continue;
            }
        };
        summary.inputs += 1;
        let a = from_vetter.vet_kind(*kind, &text);
        let b = to_vetter.vet_kind(*kind, &text);
        let app = compare(name.clone(), &a, &b)
            .map_err(|e| anyhow::anyhow!("`{name}` could not be vetted: {e}"))?;
        let (ra, rb) = (app.from.rank(), app.to.rank());
        let decision_changed = ra != rb || app.from.error != app.to.error;
        if decision_changed {
            changes.push(DecisionChange {
                input: name.clone(),
                from: app.from.label(),
                to: app.to.label(),
                direction: if rb >= ra { "stricter" } else { "looser" },
            });
        }
        summary.findings_added += app.added.len();
        summary.findings_removed += app.removed.len();
        summary.severity_changes += app.severity_changed.len();
        if decision_changed
            || !app.added.is_empty()
            || !app.removed.is_empty()
            || !app.severity_changed.is_empty()
        {
            summary.inputs_changed += 1;
            apps.push(app);
        }
    }
    // Stricter changes first, each group in input order.
    changes.sort_by_key(|c| c.direction != "stricter");
    summary.decision_changes = changes.len();
    summary.stricter = changes.iter().filter(|c| c.direction == "stricter").count();
    summary.looser = summary.decision_changes - summary.stricter;
    let report = Report {
        from,
        to,
        summary,
        decision_changes: changes,
        inputs: apps,
    };
    match args.format {
        WhatifFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        WhatifFormat::Text => write_text(out, &report)?,
    }
    if report.summary.unreadable > 0 {
        return Ok(INVALID);
    }
    if args.fail_on_tightening && report.summary.stricter > 0 {
        return Ok(FAILED);
    }
    Ok(OK)
}

fn write_text(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let short = |s: &str| s.get(..12).unwrap_or(s).to_owned();
    writeln!(
        out,
        "what-if: from `{}` ({}, sha256 {}…) to `{}` ({}, sha256 {}…)",
        r.from.file,
        r.from.name,
        short(&r.from.sha256),
        r.to.file,
        r.to.name,
        short(&r.to.sha256)
    )?;
    writeln!(out)?;
    writeln!(out, "decision changes ({}):", r.decision_changes.len())?;
    if r.decision_changes.is_empty() {
        writeln!(out, "  none")?;
    }
    for c in &r.decision_changes {
        writeln!(
            out,
            "  {:<8} {} → {}  {}",
            c.direction, c.from, c.to, c.input
        )?;
    }
    writeln!(out)?;
    writeln!(out, "findings by input ({} changed):", r.inputs.len())?;
    if r.inputs.is_empty() {
        writeln!(out, "  none")?;
    }
    for app in &r.inputs {
        let score = |s: &Side| s.score.map(|n| format!(" {n}/100")).unwrap_or_default();
        writeln!(
            out,
            "  {}: {}{} → {}{}",
            app.input,
            app.from.label(),
            score(&app.from),
            app.to.label(),
            score(&app.to)
        )?;
        for f in &app.added {
            writeln!(
                out,
                "    + {:<8} {}  {}  {}",
                f.severity.as_str(),
                f.rule,
                display_path(&f.path),
                f.message
            )?;
        }
        for f in &app.removed {
            writeln!(
                out,
                "    - {:<8} {}  {}  {}",
                f.severity.as_str(),
                f.rule,
                display_path(&f.path),
                f.message
            )?;
        }
        for c in &app.severity_changed {
            writeln!(
                out,
                "    ~ {} → {}  {}  {}",
                c.from.as_str(),
                c.to.as_str(),
                c.rule,
                display_path(&c.path)
            )?;
        }
    }
    let s = &r.summary;
    writeln!(out)?;
    writeln!(
        out,
        "summary: {} inputs, {} decision changes ({} stricter, {} looser), {} inputs changed, {} findings added, {} removed, {} severity changes{}",
        s.inputs,
        s.decision_changes,
        s.stricter,
        s.looser,
        s.inputs_changed,
        s.findings_added,
        s.findings_removed,
        s.severity_changes,
        if s.unreadable > 0 {
            format!(", {} inputs unreadable (not vetted)", s.unreadable)
        } else {
            String::new()
        }
    )
}

fn display_path(p: &str) -> &str {
    if p.is_empty() { "(document)" } else { p }
}
