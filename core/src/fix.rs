//! `microvet fix`: apply the verdict's machine-applicable fixes to a manifest.
//!
//! Fixes are JSON Patch operations (RFC 6902 `add` / `replace` / `remove`) on RFC 6901
//! pointers into the manifest. They are applied to the document's data (one fix per path, the
//! most severe finding's wins), replacements and additions first, then removals from the
//! highest array index down so earlier indices stay valid. The result is emitted as YAML;
//! comments and formatting of the original are not kept (the tool says so).

use crate::engine::{InputKind, Policy};
use crate::error::{Error, ErrorCode, Result};
use crate::verdict::Fix;
use crate::yaml::{self, Limits};
use serde_json::Value;
use std::collections::BTreeMap;

/// The outcome of [`Policy::fix`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    /// The manifest with every applicable fix applied, as YAML.
    pub manifest: String,
    /// The fixes that were applied, in the order applied.
    pub applied: Vec<Fix>,
}

impl Policy {
    /// Vet `text`, apply every machine-applicable fix, and return the new manifest.
    pub fn fix(&self, text: &str) -> Result<Fixed> {
        let verdict = self.vet_kind(InputKind::Manifest, text)?;
        let root = yaml::parse(text, Limits::MANIFEST)?;
        let mut doc = root.to_json();
        if doc.is_null() {
            doc = Value::Object(serde_json::Map::new());
        }
        // The paths seen (a map like the rules' so the component has one instance of it).
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let fixes: Vec<Fix> = verdict
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|fx| seen.insert(fx.path.as_str(), 0).is_none())
            .cloned()
            .collect();
        let (mut removes, others): (Vec<Fix>, Vec<Fix>) =
            fixes.into_iter().partition(|f| f.op == "remove");
        let mut applied = Vec::new();
        for f in others {
            if apply(&mut doc, &f).is_ok() {
                applied.push(f);
            }
        }
        // Highest index first, so the remaining pointers keep pointing at the same items.
        crate::engine::stable_sort_by(&mut removes, |a, b| sort_key(b).cmp(&sort_key(a)));
        for f in removes {
            if apply(&mut doc, &f).is_ok() {
                applied.push(f);
            }
        }
        // No secret survives into the fixed manifest: not one whose fix did not apply, not
        // one written as a key.
        crate::rules::scrub_document(&mut doc, &root);
        Ok(Fixed {
            manifest: to_yaml(&doc),
            applied,
        })
    }
}

fn sort_key(f: &Fix) -> (String, usize) {
    match f.path.rsplit_once('/') {
        Some((parent, last)) => (parent.to_string(), last.parse().unwrap_or(0)),
        None => (String::new(), 0),
    }
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn apply(doc: &mut Value, fix: &Fix) -> Result<()> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cannot apply fix at `{}`", fix.path),
        )
    };
    let (parent_ptr, last) = fix.path.rsplit_once('/').ok_or_else(bad)?;
    let last = unescape(last);
    let parent = doc.pointer_mut(parent_ptr).ok_or_else(bad)?;
    match (fix.op, parent) {
        ("remove", Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| bad())?;
            if i >= items.len() {
                return Err(bad());
            }
            items.remove(i);
        }
        ("remove", Value::Object(map)) => {
            map.shift_remove(&last).ok_or_else(bad)?;
        }
        ("replace", Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| bad())?;
            let slot = items.get_mut(i).ok_or_else(bad)?;
            *slot = fix.value.clone().ok_or_else(bad)?;
        }
        ("replace" | "add", Value::Object(map)) => {
            map.insert(last, fix.value.clone().ok_or_else(bad)?);
        }
        ("add", Value::Array(items)) => {
            let v = fix.value.clone().ok_or_else(bad)?;
            if last == "-" {
                items.push(v);
            } else {
                let i: usize = last.parse().map_err(|_| bad())?;
                if i > items.len() {
                    return Err(bad());
                }
                items.insert(i, v);
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// Whether a string can be written as a plain YAML scalar and read back as the same string.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '/' || first == '.' || first == '_') {
        return false;
    }
    if s.ends_with(' ') || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _./@:+-~=?&%,".contains(c))
        || s.contains(',')
    {
        return false;
    }
    // Must not resolve to another type.
    matches!(
        yaml::parse(&format!("k: {s}"), Limits::MANIFEST).ok().and_then(|n| n.get("k").cloned()).map(|n| n.value),
        Some(yaml::Value::Str(ref t)) if t == s
    )
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_ok(s) => s.clone(),
        // A JSON string literal is a valid YAML double-quoted scalar.
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => String::new(),
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

fn key(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if is_collection(val) {
                    out.push_str(&format!("{pad}{}:\n", key(k)));
                    emit(val, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", key(k), scalar(val)));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_collection(item) {
                    // `- ` then the first line of the nested block on the same line.
                    let mut inner = String::new();
                    emit(item, indent + 2, &mut inner);
                    let trimmed = inner.get(indent + 2..).unwrap_or("");
                    out.push_str(&format!("{pad}- {trimmed}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// Emit a JSON value as block YAML (keys in document order).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    #[test]
    fn yaml_round_trips_through_our_parser() {
        let v = serde_json::json!({"name": "a", "n": 3, "t": true, "s": "yes", "e": "", "q": "a: b", "u": "https://x.example.com/cb?a=1",
            "l": ["x", {"type": "hr.read", "access": "read"}, []], "m": {"k": null}, "z": "30"});
        let y = to_yaml(&v);
        let back = yaml::parse(&y, Limits::MANIFEST).unwrap().to_json();
        assert_eq!(back, v, "{y}");
    }
}
