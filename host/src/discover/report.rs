//! The discovery run: vet every client (one at a time, as a DCR-kind input), label it, and
//! write the report as it goes. Only a small row per client is kept (for the text summary
//! and the riskiest list); verdict JSONs are written out and dropped, so memory grows with
//! the export, not with the verdicts (SARIF keeps each client's findings: it is one
//! document). Clients are reported in a fixed order: export by export as given, then by
//! `client_id`, then by position.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::label::{Approvals, Label, Labelled, label};
use super::{ClientError, Discovered, Export};
use crate::{Decision, InputKind, Vetter};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Summary tables, then the riskiest clients, the drifted ones and the errors.
    Text,
    /// `{"clients": [...], "errors": [...], "skipped": [...], "summary": {...}}`.
    Json,
    /// SARIF 2.1.0: one run, one artifact per client (`FILE#client_id`).
    Sarif,
    /// One row per client (and per unread client).
    Csv,
}

/// How many clients the text report lists as the riskiest.
pub const TOP: usize = 10;

/// Counts of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub exports: usize,
    pub clients: usize,
    /// Per label (`ownerless` counted on top of the label).
    pub labels: BTreeMap<&'static str, usize>,
    pub decisions: BTreeMap<&'static str, usize>,
    /// Clients that could not be read or vetted.
    pub errors: usize,
    /// Entries that are not OAuth clients.
    pub skipped: usize,
}

impl Summary {
    /// Exit code of `microvet discover`: 2 when a client could not be read or vetted, 1
    /// when a client is not both `approved` (or `built-in`) and approved by the policy,
    /// else 0.
    pub fn exit_code(&self, all_clear: bool) -> u8 {
        if self.errors > 0 {
            2
        } else if all_clear {
            0
        } else {
            1
        }
    }
}

/// What the text report keeps of a client.
#[derive(Debug, Clone)]
struct Row {
    source: String,
    client_id: String,
    label: Label,
    ownerless: bool,
    decision: Decision,
    score: u32,
    rules: Vec<String>,
    matched: Option<String>,
    differences: Vec<String>,
}

/// The run's result.
#[derive(Debug, Default)]
pub struct Outcome {
    pub summary: Summary,
    /// No client needs attention (see [`Summary::exit_code`]).
    pub all_clear: bool,
}

/// Vet and label every client of `exports`, writing the report to `out`. `progress` is
/// called after each client with (done, total).
///
/// # Errors
/// Only a write error; a client that cannot be vetted is reported in the output.
pub fn run(
    vetter: &Vetter,
    approvals: &Approvals,
    exports: Vec<Export>,
    format: OutputFormat,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(usize, usize),
) -> io::Result<Outcome> {
    let mut summary = Summary {
        exports: exports.len(),
        ..Summary::default()
    };
    for l in Label::ALL {
        summary.labels.insert(l.as_str(), 0);
    }
    summary.labels.insert("ownerless", 0);
    for d in [
        Decision::Approve,
        Decision::ApproveWithControls,
        Decision::Remediate,
        Decision::Reject,
    ] {
        summary.decisions.insert(d.as_str(), 0);
    }
    let mut errors: Vec<ClientError> = Vec::new();
    let mut skipped: Vec<ClientError> = Vec::new();
    let mut clients: Vec<Discovered> = Vec::new();
    for mut e in exports {
        e.clients.sort_by(|a, b| {
            a.client_id
                .cmp(&b.client_id)
                .then_with(|| a.index.cmp(&b.index))
        });
        clients.append(&mut e.clients);
        errors.append(&mut e.errors);
        skipped.append(&mut e.skipped);
    }
    let total = clients.len();
    let mut all_clear = true;
    let mut top: Vec<Row> = Vec::new();
    let mut drifted: Vec<Row> = Vec::new();
    let mut sarif: Vec<(String, Value)> = Vec::new();
    let mut discovery: Vec<Value> = Vec::new();
    if format == OutputFormat::Csv {
        csv_record(out, &CSV_HEADER)?;
    }
    if format == OutputFormat::Json {
        out.write_all(b"{\"clients\":[")?;
    }
    let mut first = true;
    for (done, client) in clients.into_iter().enumerate() {
        let labelled = label(&client, approvals);
        let vetted = vetter.vet_summary(InputKind::Dcr, &client.dcr_json());
        progress(done.saturating_add(1), total);
        let v = match vetted {
            Ok(v) => v,
            Err(e) => {
                errors.push(ClientError {
                    source: client.source.clone(),
                    index: client.index,
                    client: Some(client.client_id.clone()),
                    field: String::new(),
                    message: format!("cannot be vetted: {e}"),
                });
                continue;
            }
        };
        summary.clients = summary.clients.saturating_add(1);
        bump(&mut summary.labels, labelled.label.as_str());
        if labelled.ownerless {
            bump(&mut summary.labels, "ownerless");
        }
        bump(&mut summary.decisions, v.decision.as_str());
        if !(matches!(labelled.label, Label::Approved | Label::BuiltIn)
            && !labelled.ownerless
            && v.decision.is_approved())
        {
            all_clear = false;
        }
        let row = Row {
            source: client.source.clone(),
            client_id: client.client_id.clone(),
            label: labelled.label,
            ownerless: labelled.ownerless,
            decision: v.decision,
            score: v.score,
            rules: v.rules.clone(),
            matched: labelled.matched.as_ref().map(|m| m.source.clone()),
            differences: labelled
                .differences
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        match format {
            OutputFormat::Text => {
                if row.label == Label::Drifted {
                    drifted.push(row.clone());
                }
                keep_top(&mut top, row);
            }
            OutputFormat::Json => {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                let mut obj = client_object(&client, &labelled);
                obj.insert("decision".into(), Value::from(v.decision.as_str()));
                obj.insert("score".into(), Value::from(v.score));
                let head = Value::Object(obj).to_string();
                // The verdict goes in as the component wrote it (its canonical bytes).
                out.write_all(
                    head.get(..head.len().saturating_sub(1))
                        .unwrap_or("{")
                        .as_bytes(),
                )?;
                write!(out, ",\"verdict\":{}}}", v.json)?;
            }
            OutputFormat::Sarif => {
                let uri = format!("{}#{}", client.source, client.client_id);
                let verdict: Value = serde_json::from_str(&v.json).map_err(io::Error::other)?;
                let keep = json!({
                    "decision": verdict.get("decision"),
                    "risk": {"score": verdict.pointer("/risk/score")},
                    "findings": verdict.get("findings"),
                    "manifest_sha256": verdict.get("manifest_sha256"),
                    "policy_sha256": verdict.get("policy_sha256"),
                });
                discovery.push(json!({
                    "uri": uri,
                    "labels": labelled.labels(),
                    "matched": labelled.matched,
                    "differences": labelled.differences,
                    "unmapped": client.unmapped,
                }));
                sarif.push((uri, keep));
            }
            OutputFormat::Csv => {
                csv_record(out, &csv_row(&client, &labelled, &row))?;
            }
        }
    }
    errors.sort_by(|a, b| a.source.cmp(&b.source).then(a.index.cmp(&b.index)));
    summary.errors = errors.len();
    summary.skipped = skipped.len();
    match format {
        OutputFormat::Json => {
            write!(
                out,
                "],\"errors\":{},\"skipped\":{},\"summary\":{}}}",
                serde_json::to_string(&errors).map_err(io::Error::other)?,
                serde_json::to_string(&skipped).map_err(io::Error::other)?,
                serde_json::to_string(&summary).map_err(io::Error::other)?,
            )?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            for e in &errors {
                csv_record(out, &error_row(e))?;
            }
        }
        OutputFormat::Sarif => {
            let rules = vetter
                .rules_json()
                .map_err(|e| io::Error::other(e.to_string()))?;
            let mut log = crate::sarif::log(&rules, vetter.engine(), &sarif);
            if let Some(props) = log
                .pointer_mut("/runs/0/properties")
                .and_then(Value::as_object_mut)
            {
                props.insert("discovery".into(), Value::Array(discovery));
                props.insert(
                    "summary".into(),
                    serde_json::to_value(&summary).map_err(io::Error::other)?,
                );
                props.insert(
                    "errors".into(),
                    serde_json::to_value(&errors).map_err(io::Error::other)?,
                );
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&log).map_err(io::Error::other)?
            )?;
        }
        OutputFormat::Text => {
            write_text(out, vetter, &summary, &top, &drifted, &errors, &skipped)?;
        }
    }
    Ok(Outcome {
        all_clear: all_clear && errors.is_empty(),
        summary,
    })
}

fn bump(map: &mut BTreeMap<&'static str, usize>, key: &'static str) {
    let n = map.entry(key).or_insert(0);
    *n = n.saturating_add(1);
}

/// Riskiest first: score, then reject before remediate, then client id.
fn risk_order(a: &Row, b: &Row) -> std::cmp::Ordering {
    b.score
        .cmp(&a.score)
        .then(b.decision.cmp(&a.decision))
        .then_with(|| a.client_id.cmp(&b.client_id))
        .then_with(|| a.source.cmp(&b.source))
}

fn keep_top(top: &mut Vec<Row>, row: Row) {
    top.push(row);
    if top.len() > TOP.saturating_mul(4) {
        top.sort_by(risk_order);
        top.truncate(TOP);
    }
}

/// The JSON object of a client (without its verdict).
pub fn client_object(c: &Discovered, l: &Labelled) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("source".into(), Value::from(c.source.as_str()));
    o.insert("index".into(), Value::from(c.index));
    o.insert("client_id".into(), Value::from(c.client_id.as_str()));
    o.insert(
        "name".into(),
        c.name.as_deref().map(Value::from).unwrap_or(Value::Null),
    );
    o.insert("label".into(), Value::from(l.label.as_str()));
    o.insert("labels".into(), json!(l.labels()));
    o.insert("builtin".into(), Value::Bool(c.builtin));
    o.insert("enabled".into(), Value::Bool(c.enabled));
    o.insert(
        "owner".into(),
        l.owner.as_deref().map(Value::from).unwrap_or(Value::Null),
    );
    o.insert("matched".into(), json!(l.matched));
    o.insert("differences".into(), json!(l.differences));
    o.insert("unmapped".into(), json!(c.unmapped));
    o.insert("secrets_redacted".into(), Value::from(c.secrets_redacted));
    o.insert("metadata".into(), Value::Object(c.metadata.clone()));
    o
}

const CSV_HEADER: [&str; 16] = [
    "source",
    "client_id",
    "name",
    "label",
    "ownerless",
    "builtin",
    "enabled",
    "owner",
    "matched",
    "decision",
    "score",
    "rules",
    "differences",
    "unmapped",
    "secrets_redacted",
    "error",
];

/// One CSV record (RFC 4180 quoting by the `csv` crate), written as it comes.
fn csv_record<S: AsRef<[u8]>>(out: &mut dyn Write, fields: &[S]) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *out);
    w.write_record(fields).map_err(io::Error::other)?;
    w.flush()
}

fn csv_row(c: &Discovered, l: &Labelled, r: &Row) -> [String; 16] {
    [
        c.source.clone(),
        c.client_id.clone(),
        c.name.clone().unwrap_or_default(),
        l.label.as_str().to_owned(),
        l.ownerless.to_string(),
        c.builtin.to_string(),
        c.enabled.to_string(),
        l.owner.clone().unwrap_or_default(),
        r.matched.clone().unwrap_or_default(),
        r.decision.as_str().to_owned(),
        r.score.to_string(),
        r.rules.join(" "),
        r.differences.join("; "),
        c.unmapped
            .iter()
            .map(|u| u.field.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        c.secrets_redacted.to_string(),
        String::new(),
    ]
}

fn error_row(e: &ClientError) -> [String; 16] {
    let mut row: [String; 16] = Default::default();
    row[0] = e.source.clone();
    row[1] = e.client.clone().unwrap_or_default();
    row[3] = "error".into();
    row[15] = format!("client {}: `{}`: {}", e.index, e.field, e.message);
    row
}

fn write_text(
    out: &mut dyn Write,
    vetter: &Vetter,
    s: &Summary,
    top: &[Row],
    drifted: &[Row],
    errors: &[ClientError],
    skipped: &[ClientError],
) -> io::Result<()> {
    writeln!(
        out,
        "microvet discover: {} client(s) from {} export(s), policy `{}` (sha256 {})",
        s.clients,
        s.exports,
        vetter.policy_name(),
        vetter.policy_sha256()
    )?;
    writeln!(out)?;
    writeln!(out, "  {:<24} {:>7}", "label", "clients")?;
    for l in Label::ALL {
        writeln!(
            out,
            "  {:<24} {:>7}",
            l.as_str(),
            s.labels.get(l.as_str()).copied().unwrap_or(0)
        )?;
    }
    writeln!(
        out,
        "  {:<24} {:>7}",
        "ownerless",
        s.labels.get("ownerless").copied().unwrap_or(0)
    )?;
    writeln!(out)?;
    writeln!(out, "  {:<24} {:>7}", "decision", "clients")?;
    for (d, n) in ["approve", "approve-with-controls", "remediate", "reject"]
        .iter()
        .map(|d| (d, s.decisions.get(d).copied().unwrap_or(0)))
    {
        writeln!(out, "  {d:<24} {n:>7}")?;
    }
    let mut top = top.to_vec();
    top.sort_by(risk_order);
    top.truncate(TOP);
    if !top.is_empty() {
        writeln!(out)?;
        writeln!(out, "Riskiest clients")?;
        writeln!(
            out,
            "  {:>5}  {:<21}  {:<19}  client",
            "score", "decision", "labels"
        )?;
        for r in &top {
            let labels = if r.ownerless {
                format!("{},ownerless", r.label.as_str())
            } else {
                r.label.as_str().to_owned()
            };
            writeln!(
                out,
                "  {:>5}  {:<21}  {:<19}  {} ({}){}",
                r.score,
                r.decision.as_str(),
                labels,
                r.client_id,
                r.source,
                if r.rules.is_empty() {
                    String::new()
                } else {
                    format!("  {}", r.rules.join(" "))
                }
            )?;
        }
    }
    if !drifted.is_empty() {
        writeln!(out)?;
        writeln!(out, "Drifted clients")?;
        for r in drifted {
            writeln!(
                out,
                "  {} ({}) approved by {}",
                r.client_id,
                r.source,
                r.matched.as_deref().unwrap_or("?")
            )?;
            for d in &r.differences {
                writeln!(out, "    - {d}")?;
            }
        }
    }
    if !errors.is_empty() {
        writeln!(out)?;
        writeln!(out, "Clients not reported ({})", errors.len())?;
        for e in errors {
            writeln!(out, "  {e}")?;
        }
    }
    if !skipped.is_empty() {
        writeln!(out)?;
        writeln!(out, "Skipped, not OAuth clients ({})", skipped.len())?;
        for e in skipped {
            writeln!(out, "  {e}")?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Every client with its verdict: --format json, csv or sarif."
    )?;
    Ok(())
}
