//! Named policies: the built-in `default` plus every `*.yaml` / `*.yml` file of the
//! policies directory (named by its file stem), reloaded when a file changes or on
//! `SIGHUP`. A policy that does not parse is refused with a logged error and the old
//! version of it (if any) stays in force.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::decision_log::sha256_hex;
use crate::{PolicySource, Vetter};

/// The name of the built-in policy.
pub(crate) const DEFAULT: &str = "default";

/// One named policy.
#[derive(Clone)]
pub(crate) struct Named {
    pub(crate) vetter: Vetter,
    /// `None` for the built-in policy.
    pub(crate) file: Option<PathBuf>,
}

/// The policies in force (replaced as a whole on reload).
#[derive(Clone, Default)]
pub(crate) struct PolicySet {
    pub(crate) policies: BTreeMap<String, Named>,
}

impl PolicySet {
    pub(crate) fn get(&self, name: &str) -> Option<&Named> {
        self.policies.get(name)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.policies.keys().cloned().collect()
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
    /// Names removed (their file is gone).
    pub(crate) removed: Vec<String>,
    /// (name, file, error) of refused policies (the old version stays, if any).
    pub(crate) refused: Vec<(String, PathBuf, String)>,
}

/// Build the policy set from `dir` (or the built-in policy only), reusing the vetters of
/// `current` whose text did not change.
pub(crate) fn load(
    base: &Vetter,
    dir: Option<&Path>,
    current: &PolicySet,
) -> Result<(PolicySet, LoadReport), String> {
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
    if !files.contains_key(DEFAULT) {
        next.policies.insert(
            DEFAULT.to_owned(),
            Named {
                vetter: base.clone(),
                file: None,
            },
        );
    }
    for (name, path) in files {
        let old = current.get(&name);
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    refuse(
                        &mut next,
                        &mut report,
                        &name,
                        &path,
                        old,
                        format!(
                            "not valid UTF-8 (byte offset {})",
                            e.utf8_error().valid_up_to()
                        ),
                    );
                    continue;
                }
            },
            Err(e) => {
                refuse(&mut next, &mut report, &name, &path, old, e.to_string());
                continue;
            }
        };
        let sha = sha256_hex(text.as_bytes());
        if let Some(old) = old.filter(|o| o.vetter.policy_sha256() == sha) {
            next.policies.insert(name, old.clone());
            continue;
        }
        match base.with_policy(PolicySource::Text(text)) {
            Ok(vetter) => {
                report
                    .loaded
                    .push((name.clone(), vetter.policy_sha256().to_owned()));
                next.policies.insert(
                    name,
                    Named {
                        vetter,
                        file: Some(path),
                    },
                );
            }
            Err(e) => {
                let message = match e.vet_error() {
                    Some(v) => v.render(&path.display().to_string()),
                    None => e.to_string(),
                };
                refuse(&mut next, &mut report, &name, &path, old, message);
            }
        }
    }
    if !next.policies.contains_key(DEFAULT) {
        // A `default.yaml` that was refused, with no earlier version: the built-in one.
        next.policies.insert(
            DEFAULT.to_owned(),
            Named {
                vetter: base.clone(),
                file: None,
            },
        );
    }
    for name in current.policies.keys() {
        if !next.policies.contains_key(name) {
            report.removed.push(name.clone());
        }
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
) {
    report
        .refused
        .push((name.to_owned(), path.to_path_buf(), message));
    if let Some(old) = old {
        next.policies.insert(name.to_owned(), old.clone());
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
