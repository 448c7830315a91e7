//! Fixes: apply the verdict's machine-applicable fixes to a manifest, in its own text.
//!
//! Fixes are JSON Patch operations (RFC 6902 `add` / `replace` / `remove`) on RFC 6901
//! pointers into the manifest. Each one is applied to the original text at the span of the
//! node it names ([`span`]): only the bytes of that value, entry or item change; comments,
//! order, quoting and layout of everything else stay byte for byte, and a JSON manifest
//! stays JSON. Every edit is read back by the loader and must give exactly the data the
//! operation gives on the document's data; where an edit at a span is not possible (see
//! [`span`] for where) the document is written out again instead (YAML, or JSON for a JSON
//! manifest), and [`Fixed::rewritten`] says so.
//!
//! [`Policy::fix`] applies every fix of a verdict (one fix per path, the most severe
//! finding's wins), replacements and additions first, then removals from the highest array
//! index down so earlier indices stay valid, and then removes every secret left.

mod span;

use crate::engine::{InputKind, Policy};
use crate::error::{Error, ErrorCode, Result};
use crate::verdict::Fix;
use crate::yaml::{self, Limits};
use serde_json::Value;
use std::collections::BTreeMap;

/// The outcome of applying fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    /// The manifest with every applicable fix applied.
    pub manifest: String,
    /// The fixes that were applied, in the order applied.
    pub applied: Vec<Fix>,
    /// Whether the document had to be written out again (its comments and layout lost)
    /// because an edit at a span was not possible.
    pub rewritten: bool,
}

impl Policy {
    /// Vet `text`, apply every machine-applicable fix, remove every secret left, and
    /// return the new manifest.
    pub fn fix(&self, text: &str) -> Result<Fixed> {
        let verdict = self.vet_kind(InputKind::Manifest, text)?;
        // The first [`MAX_FIXES`] (most severe first); any left are findings of the next vet.
        let fixes: Vec<Fix> = verdict
            .findings
            .iter()
            .filter_map(|f| f.fix.clone())
            .take(MAX_FIXES)
            .collect();
        let mut fixed = apply_fixes(text, &fixes)?;
        // No secret survives into the fixed manifest: not one whose fix did not apply, not
        // one written as a key, not one repeated in a comment.
        let root = yaml::parse(text, Limits::MANIFEST)?;
        let (manifest, rewritten) = scrub(&fixed.manifest, &root)?;
        fixed.manifest = manifest;
        fixed.rewritten |= rewritten;
        Ok(fixed)
    }
}

/// Apply one fix to a manifest (YAML or JSON text) at the span of the node it names.
///
/// Errors: the text is not a manifest the loader reads, or the fix does not apply (its
/// parent does not exist, an index is out of range, an unknown op, no value).
pub fn apply_fix(text: &str, fix: &Fix) -> Result<String> {
    apply_one(text, fix).map(|(t, _)| t)
}

/// At most this many fixes in one `apply_fixes` (each is applied, and read back, on the whole
/// text): far above any manifest's, far below a hang. Documented in `docs/LIMITS.md`.
pub const MAX_FIXES: usize = 1_000;

/// Apply fixes to a manifest the way `microvet fix` does: one fix per path (the first
/// wins), replacements and additions in order, then removals from the highest array index
/// down. A fix that does not apply is left out of [`Fixed::applied`].
///
/// Errors: the text is not a manifest the loader reads; more than [`MAX_FIXES`] fixes.
pub fn apply_fixes(text: &str, fixes: &[Fix]) -> Result<Fixed> {
    if fixes.len() > MAX_FIXES {
        return Err(Error::new(
            ErrorCode::Limit,
            format!("more than {MAX_FIXES} fixes in one call"),
        )
        .with_help("apply the fixes in batches, vetting in between"));
    }
    // Fail on a text that is not a manifest even when no fix is given.
    yaml::parse(text, Limits::MANIFEST)?;
    // The paths seen (a map like the rules' so the component has one instance of it).
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let fixes: Vec<&Fix> = fixes
        .iter()
        .filter(|fx| seen.insert(fx.path.as_str(), 0).is_none())
        .collect();
    let (mut removes, others): (Vec<&Fix>, Vec<&Fix>) =
        fixes.into_iter().partition(|f| f.op == "remove");
    // Highest index first, so the remaining pointers keep pointing at the same items.
    crate::engine::stable_sort_by(&mut removes, |a, b| sort_key(b).cmp(&sort_key(a)));
    let mut out = Fixed {
        manifest: text.to_string(),
        applied: Vec::new(),
        rewritten: false,
    };
    for f in others.into_iter().chain(removes) {
        if let Ok((t, rewritten)) = apply_one(&out.manifest, f) {
            out.manifest = t;
            out.rewritten |= rewritten;
            out.applied.push(f.clone());
        }
    }
    Ok(out)
}

/// A fix from its parts as hosts pass them (the value as JSON text): the op must be
/// `add`, `replace` or `remove`, the path an RFC 6901 pointer, the value valid JSON.
pub fn fix_from_parts(
    op: &str,
    path: String,
    value: Option<&str>,
    description: String,
) -> Result<Fix> {
    let op = match op {
        "add" => "add",
        "replace" => "replace",
        "remove" => "remove",
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "a fix's op must be `add`, `replace` or `remove`",
            )
            .with_help("fixes are JSON Patch (RFC 6902) operations; `move`, `copy` and `test` are not applied"));
        }
    };
    if !path.starts_with('/') {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a fix's path must be a JSON pointer to a member (`/name`)",
        ));
    }
    let value = match value {
        None => None,
        // JSON is YAML 1.2: the loader reads it (with its limits), so the component needs
        // no second parser.
        Some(v) => Some(
            yaml::parse(v, Limits::MANIFEST)
                .map_err(|e| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("a fix's value is not JSON: {}", e.message),
                    )
                    .with_help("pass the value as JSON text: `\"text\"`, `30`, `[\"a\"]`")
                })?
                .to_json(),
        ),
    };
    if op != "remove" && value.is_none() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("a fix `{op}` needs a value"),
        ));
    }
    Ok(Fix {
        op,
        path,
        value,
        description,
    })
}

/// Whether `text` (without a byte order mark, read by the loader) is written as a JSON
/// object: new members and values are then written as JSON.
fn is_json(text: &str) -> bool {
    let t = text.trim();
    t.starts_with('{') && t.ends_with('}')
}

/// `v` as JSON, indented by two spaces per level (what a person writes).
fn pretty_json(v: &Value, indent: usize, out: &mut String) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 2);
                pretty_json(x, indent + 2, out);
            }
            out.push('\n');
            pad(out, indent);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, x)) in map.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 2);
                out.push_str(&json_key(k));
                out.push_str(": ");
                pretty_json(x, indent + 2, out);
            }
            out.push('\n');
            pad(out, indent);
            out.push('}');
        }
        other => out.push_str(&crate::verdict::value_json(other)),
    }
}

/// The document written out again: JSON for a JSON manifest, else block YAML.
fn reemit(doc: &Value, json: bool) -> String {
    if matches!(doc, Value::Object(m) if m.is_empty()) {
        return "{}\n".to_string();
    }
    if json {
        let mut s = String::new();
        pretty_json(doc, 0, &mut s);
        s.push('\n');
        s
    } else {
        to_yaml(doc)
    }
}

/// Whether `text` reads back as exactly `want`.
fn reads_as(text: &str, want: &Value) -> bool {
    yaml::parse(text, Limits::MANIFEST).is_ok_and(|n| n.to_json() == *want)
}

/// Apply one fix; the new text and whether it had to be written out again.
fn apply_one(text: &str, fix: &Fix) -> Result<(String, bool)> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let root = yaml::parse(body, Limits::MANIFEST)?;
    let mut want = root.to_json();
    if want.is_null() {
        want = Value::Object(serde_json::Map::new());
    }
    apply(&mut want, fix)?;
    let json = is_json(body);
    let tokens: Vec<String> = fix
        .path
        .strip_prefix('/')
        .map(|p| p.split('/').map(unescape).collect())
        .unwrap_or_default();
    let doc = span::Doc::new(body, json);
    if let Some(e) = doc.edit(&root, fix.op, &tokens, fix.value.as_ref(), &want)
        && let (Some(head), Some(tail)) = (body.get(..e.start), body.get(e.end..))
    {
        let out = format!("{head}{}{tail}", e.text);
        if reads_as(&out, &want) {
            return Ok((format!("{bom}{out}"), false));
        }
    }
    Ok((reemit(&want, json), true))
}

/// Remove every secret of `original` from `text`: values become `[REDACTED]` (edited at
/// their spans), entries whose key is a secret go, and so does any form of a secret in a
/// comment. The new text and whether it had to be written out again.
fn scrub(text: &str, original: &yaml::Node) -> Result<(String, bool)> {
    let hits = crate::rules::secret_hits(original);
    if hits.is_empty() {
        return Ok((text.to_string(), false));
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let have = yaml::parse(body, Limits::MANIFEST)?.to_json();
    let mut want = have.clone();
    crate::rules::scrub_document(&mut want, original);
    let json = is_json(body);
    let mut ops = Vec::new();
    diff(&have, &want, &mut String::new(), &mut ops);
    let mut out = text.to_string();
    let mut rewritten = false;
    // Removals last and from the end, as in `apply_fixes`.
    let (mut removes, others): (Vec<Fix>, Vec<Fix>) =
        ops.into_iter().partition(|f| f.op == "remove");
    removes.reverse();
    for f in others.into_iter().chain(removes) {
        let (t, r) = apply_one(&out, &f)?;
        out = t;
        rewritten |= r;
    }
    // What is left of a secret is outside the data: in a comment.
    let forms = crate::rules::secret_forms(&hits);
    let mut clean = out.clone();
    for f in &forms {
        if let Some(c) = crate::engine::replace_ci(&clean, f) {
            clean = c;
        }
    }
    let check = clean.strip_prefix('\u{feff}').unwrap_or(&clean);
    if reads_as(check, &want) {
        return Ok((clean, rewritten));
    }
    Ok((reemit(&want, json), true))
}

/// The operations that turn `have` into `want` (same shapes, but for removed members and
/// changed scalars).
fn diff(have: &Value, want: &Value, path: &mut String, ops: &mut Vec<Fix>) {
    let len = path.len();
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            for (k, hv) in h {
                path.push('/');
                path.push_str(&yaml::escape_token(k));
                match w.get(k) {
                    None => ops.push(Fix {
                        op: "remove",
                        path: path.clone(),
                        value: None,
                        description: String::new(),
                    }),
                    Some(wv) => diff(hv, wv, path, ops),
                }
                path.truncate(len);
            }
        }
        (Value::Array(h), Value::Array(w)) if h.len() == w.len() => {
            for (i, (hv, wv)) in h.iter().zip(w).enumerate() {
                path.push('/');
                yaml::push_index(path, i);
                diff(hv, wv, path, ops);
                path.truncate(len);
            }
        }
        _ if have != want => ops.push(Fix {
            op: "replace",
            path: path.clone(),
            value: Some(want.clone()),
            description: String::new(),
        }),
        _ => {}
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
        Value::String(_) => crate::verdict::value_json(v),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => String::new(),
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

/// A mapping key as YAML: plain when it reads back as the same string, else quoted.
fn yaml_key(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        json_key(k)
    }
}

/// A mapping key as JSON (a JSON string is also a YAML double-quoted scalar).
fn json_key(k: &str) -> String {
    crate::verdict::value_json(&Value::String(k.to_string()))
}

/// A value on one line: a scalar, or a collection in flow style (`[a, b]`, `{k: v}`).
/// The scalars `scalar` writes never hold `,[]{}`, so they read the same in a flow
/// collection.
fn inline(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, x)| format!("{}: {}", yaml_key(k), inline(x)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => scalar(other),
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if is_collection(val) {
                    out.push_str(&format!("{pad}{}:\n", yaml_key(k)));
                    emit(val, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", yaml_key(k), scalar(val)));
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

/// `v` as block YAML lines indented by `indent`.
fn block(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    emit(v, indent, &mut out);
    out
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
