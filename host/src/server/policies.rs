//! Named policies: the built-in `default` plus every `*.yaml` / `*.yml` file of the
//! policies directory (named by its file stem), reloaded when a file changes or on
//! `SIGHUP`. A policy that does not parse, cannot be read, or whose file is gone is
//! refused with a logged error and the old version of it (if any) stays in force: a
//! reload never swaps a policy for a different one the operator did not write (a deleted
//! `default.yaml` does not fall back to the built-in `default`). Each policy carries its
//! state (in force since, last reload error and when) for `GET /v1/policies` and
//! `GET /healthz`; only a restart drops a policy whose file is gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::decision_log::sha256_hex;
use crate::input_file::{self, Input};
use crate::{PolicySource, Vetter};

/// The name of the built-in policy.
pub(crate) const DEFAULT: &str = "default";

/// A reload that did not put a policy's file in force.
#[derive(Clone, Debug)]
pub(crate) struct ReloadError {
    pub(crate) message: String,
    pub(crate) at: SystemTime,
}

/// One named policy.
#[derive(Clone)]
pub(crate) struct Named {
    pub(crate) vetter: Vetter,
    /// `None` for the built-in policy.
    pub(crate) file: Option<PathBuf>,
    /// When this version was put in force.
    pub(crate) since: SystemTime,
    /// The last reload that refused the policy's file (this version stayed in force);
    /// `None` once the file loads again.
    pub(crate) error: Option<ReloadError>,
    /// The same policy without the server's waivers file (`?waivers=off`), when there is
    /// one; `None` also when it could not be built (such a request then fails closed).
    pub(crate) unwaived: Option<Vetter>,
}

impl Named {
    fn new(vetter: Vetter, file: Option<PathBuf>, since: SystemTime) -> Named {
        let unwaived = if vetter.has_waivers() {
            match vetter.with_waivers(None) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(error = %e, "cannot set up the policy without its waivers; `?waivers=off` will fail");
                    None
                }
            }
        } else {
            None
        };
        Named {
            vetter,
            file,
            since,
            error: None,
            unwaived,
        }
    }

    /// The vetter of a request: with the waivers file (`waivers` on) or without it.
    /// `None` when the vetter without it could not be built.
    pub(crate) fn vetter(&self, waivers: bool) -> Option<&Vetter> {
        if waivers || !self.vetter.has_waivers() {
            Some(&self.vetter)
        } else {
            self.unwaived.as_ref()
        }
    }
}

/// The policies in force (replaced as a whole on reload).
#[derive(Clone, Default)]
pub(crate) struct PolicySet {
    pub(crate) policies: BTreeMap<String, Named>,
    /// Policy files refused with no earlier version to keep (name → file, error).
    pub(crate) refused: BTreeMap<String, (PathBuf, ReloadError)>,
}

impl PolicySet {
    pub(crate) fn get(&self, name: &str) -> Option<&Named> {
        self.policies.get(name)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.policies.keys().cloned().collect()
    }

    /// Every policy in force was loaded from its file as it is now, and no file is
    /// refused.
    pub(crate) fn all_ok(&self) -> bool {
        self.refused.is_empty() && self.policies.values().all(|p| p.error.is_none())
    }

    pub(crate) fn shas(&self) -> Vec<(String, String)> {
        self.policies
            .iter()
            .map(|(n, p)| (n.clone(), p.vetter.policy_sha256().to_owned()))
            .collect()
    }
}

/// What the files of the directory looked like (name → modification time and size): a
/// change triggers a reload.
pub(crate) type Fingerprint = BTreeMap<String, (Option<SystemTime>, u64)>;

/// A policy file name → its policy name (`strict.yaml` → `strict`), if it is one.
fn policy_name(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?;
    if ext != "yaml" && ext != "yml" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let valid = !stem.is_empty()
        && !stem.starts_with('.')
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    valid.then(|| stem.to_owned())
}

/// The policy files of `dir`, by name.
fn policy_files(dir: &Path) -> std::io::Result<BTreeMap<String, PathBuf>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        if let Some(name) = policy_name(&path) {
            out.insert(name, path);
        }
    }
    Ok(out)
}

/// The fingerprint of `dir` (an unreadable directory has an empty one).
pub(crate) fn fingerprint(dir: &Path) -> Fingerprint {
    let Ok(files) = policy_files(dir) else {
        return Fingerprint::new();
    };
    files
        .into_iter()
        .map(|(name, path)| {
            let meta = std::fs::metadata(&path).ok();
            let mtime = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (name, (mtime, len))
        })
        .collect()
}

/// What a (re)load did, for the log.
#[derive(Debug, Default)]
pub(crate) struct LoadReport {
    /// (name, sha256) of policies added or changed.
    pub(crate) loaded: Vec<(String, String)>,
    /// (name, file, error) of refused policies (the old version stays, if any), a file
    /// that is gone included.
    pub(crate) refused: Vec<(String, PathBuf, String)>,
}

/// Build the policy set from `dir` (or the built-in policy only), reusing the vetters of
/// `current` whose text did not change. `waivers` (the server's waivers file) is added to
/// every policy and validated against each: a policy that refuses it is refused.
pub(crate) fn load(
    base: &Vetter,
    waivers: Option<&str>,
    dir: Option<&Path>,
    current: &PolicySet,
) -> Result<(PolicySet, LoadReport), String> {
    let now = SystemTime::now();
    let mut next = PolicySet::default();
    let mut report = LoadReport::default();
    let files = match dir {
        Some(dir) => policy_files(dir).map_err(|e| {
            format!(
                "cannot read the policies directory `{}`: {e}",
                dir.display()
            )
        })?,
        None => BTreeMap::new(),
    };
    for (name, path) in &files {
        let old = current.get(name);
        let text = match input_file::read_text(path, Input::Policy) {
            Ok(text) => text,
            Err(e) => {
                refuse(&mut next, &mut report, name, path, old, e.to_string(), now);
                continue;
            }
        };
        let sha = sha256_hex(text.as_bytes());
        if let Some(old) = old.filter(|o| o.file.is_some() && o.vetter.policy_sha256() == sha) {
            // Unchanged (or back to the text in force after a refusal): no error.
            let mut kept = old.clone();
            kept.error = None;
            next.policies.insert(name.clone(), kept);
            continue;
        }
        match base.with_policy_and_waivers(PolicySource::Text(text), waivers.map(str::to_owned)) {
            Ok(vetter) => {
                report
                    .loaded
                    .push((name.clone(), vetter.policy_sha256().to_owned()));
                next.policies
                    .insert(name.clone(), Named::new(vetter, Some(path.clone()), now));
            }
            Err(e) => {
                let message = match e.vet_error() {
                    Some(v) => v.render(Some(&path.display().to_string())),
                    None => e.to_string(),
                };
                refuse(&mut next, &mut report, name, path, old, message, now);
            }
        }
    }
    // A policy loaded from a file that is gone stays in force, and says so.
    for (name, old) in &current.policies {
        if next.policies.contains_key(name) {
            continue;
        }
        if let Some(file) = &old.file {
            let message = format!(
                "the file `{}` is gone; the version in force stays until the file is back or the server restarts",
                file.display()
            );
            refuse(&mut next, &mut report, name, file, Some(old), message, now);
        }
    }
    if !next.policies.contains_key(DEFAULT) {
        // No `default.yaml` ever loaded (none, or refused at its first load): the
        // built-in one, as in force before.
        let kept = current
            .get(DEFAULT)
            .filter(|d| d.file.is_none())
            .map(|d| d.since);
        let named = match current.get(DEFAULT).filter(|d| d.file.is_none()) {
            Some(d) => d.clone(),
            None => {
                let vetter = match waivers {
                    Some(w) => base.with_waivers(Some(w.to_owned())).map_err(|e| {
                        let message = match e.vet_error() {
                            Some(v) => v.render(None),
                            None => e.to_string(),
                        };
                        format!("the waivers file does not fit the built-in policy `{DEFAULT}`:\n{message}")
                    })?,
                    None => base.clone(),
                };
                Named::new(vetter, None, kept.unwrap_or(now))
            }
        };
        next.policies.insert(DEFAULT.to_owned(), named);
    }
    Ok((next, report))
}

fn refuse(
    next: &mut PolicySet,
    report: &mut LoadReport,
    name: &str,
    path: &Path,
    old: Option<&Named>,
    message: String,
    at: SystemTime,
) {
    report
        .refused
        .push((name.to_owned(), path.to_path_buf(), message.clone()));
    let error = ReloadError { message, at };
    match old {
        Some(old) => {
            let mut kept = old.clone();
            kept.error = Some(error);
            next.policies.insert(name.to_owned(), kept);
        }
        None => {
            next.refused
                .insert(name.to_owned(), (path.to_path_buf(), error));
        }
    }
}

/// Shared, swappable policy set.
pub(crate) struct Policies {
    set: std::sync::RwLock<Arc<PolicySet>>,
}

impl Policies {
    pub(crate) fn new(set: PolicySet) -> Policies {
        Policies {
            set: std::sync::RwLock::new(Arc::new(set)),
        }
    }

    pub(crate) fn current(&self) -> Arc<PolicySet> {
        Arc::clone(&self.set.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn replace(&self, set: PolicySet) {
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }
}
