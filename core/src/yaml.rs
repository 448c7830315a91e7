//! A bounded YAML/JSON loader that keeps positions.
//!
//! We drive `yaml-rust2`'s event parser ourselves (it is iterative, unlike its recursive
//! loader) and build a small tree whose every node knows its 1-based line and column, so
//! findings can point at the exact line. The loader enforces the documented input limits
//! (see [`Limits`]): size, nesting depth, node count (aliases count every node they
//! expand to, so alias bombs stop early) and rejects duplicate keys, since a manifest
//! whose `oauth_scopes` appears twice means two different things to two readers. For the
//! same reason it refuses merge keys (`<<`, which YAML 1.1 loaders merge and YAML 1.2 ones
//! keep as a key) and every tag outside the YAML core schema; core-schema tags are applied
//! by their meaning (`!!int "5"` is 5, `!!str true` is "true"). A value reached through an
//! alias is a copy of the anchored one, every node of it placed at the alias.
//!
//! Why not `serde_yaml` or a fork (`serde_norway`, `serde_yaml_ng`)? They deserialize
//! straight into types and do not expose per-node positions, duplicate-key policy, or
//! alias-expansion budgets, all of which a vetting tool for hostile input needs.
//! `yaml-rust2` is a maintained, pure-Rust (no C, no unsafe in our use), YAML 1.2 parser.

use crate::error::{Error, ErrorCode, Result};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod fast;
#[cfg(test)]
mod fast_tests;

/// Input limits. Documented in `docs/LIMITS.md`; errors name the limit that was hit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum size of the text in bytes.
    pub max_bytes: usize,
    /// Maximum nesting depth of collections.
    pub max_depth: usize,
    /// Maximum number of nodes, counting every node an alias expands to.
    pub max_nodes: usize,
}

impl Limits {
    /// Limits for manifests: far above any real manifest, far below anything that hurts.
    pub const MANIFEST: Limits = Limits {
        max_bytes: 1024 * 1024,
        max_depth: 64,
        max_nodes: 100_000,
    };
}

/// A key of a mapping, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: u32,
    pub col: u32,
}

/// A value of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A node with its 1-based line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub col: u32,
}

impl Node {
    /// The kind of value, for messages ("a string", "a list"...).
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Look up a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this node is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Resolve an RFC 6901 pointer to a node.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut node = self;
        for raw in rest.split('/') {
            // Most tokens have no escape: no copy then.
            let token = if raw.contains('~') {
                std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
            } else {
                std::borrow::Cow::Borrowed(raw)
            };
            node = match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.name == token)
                    .map(|(_, v)| v)?,
                Value::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Convert to a JSON value (for serde-based validation of policies).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Whether a reference token needs escaping (has a `~` or `/`): a byte scan, cheaper than
/// `contains(['~', '/'])` (a per-character pattern) on every key of every vet.
pub(crate) fn needs_escape(token: &str) -> bool {
    token.bytes().any(|b| b == b'~' || b == b'/')
}

/// Escape one RFC 6901 reference token.
pub fn escape_token(token: &str) -> String {
    token.replace("~", "~0").replace("/", "~1")
}

/// Append a decimal index (what `format!("{i}")` writes), without the formatting machinery.
pub(crate) fn push_index(path: &mut String, i: usize) {
    push_u64(path, u64::try_from(i).unwrap_or(u64::MAX));
}

/// Append `n` in decimal (what `format!("{n}")` writes).
pub(crate) fn push_u64(out: &mut String, n: u64) {
    if n >= 10 {
        push_u64(out, n / 10);
    }
    // `n % 10` is a digit.
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Append `n` in decimal (what `format!("{n}")` writes).
pub(crate) fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

fn pos(m: &Marker) -> (u32, u32) {
    let line = u32::try_from(m.line()).unwrap_or(u32::MAX);
    let col = u32::try_from(m.col()).unwrap_or(u32::MAX).saturating_add(1);
    (line.max(1), col)
}

enum Frame {
    Seq {
        node: Node,
        anchor: usize,
        /// The node count before this collection: its size is the count at its end minus this.
        start: usize,
        items: Vec<Node>,
    },
    Map {
        node: Node,
        anchor: usize,
        start: usize,
        entries: Vec<(Key, Node)>,
        pending_key: Option<Key>,
    },
}

/// Up to this many entries, a duplicate key is found as it is read, by a scan of the
/// entries before it; past it, once the mapping is complete, by sorting the keys (the
/// engine's one sort), so a mapping of n keys costs O(n log n), not O(n²).
const SCAN_KEYS: usize = 16;

/// The line of an earlier key of the same name, while the mapping is small enough to scan.
fn earlier_key(entries: &[(Key, Node)], key: &Key) -> Option<u32> {
    if entries.len() >= SCAN_KEYS {
        return None;
    }
    entries
        .iter()
        .find(|(k, _)| k.name == key.name)
        .map(|(k, _)| k.line)
}

/// In a complete mapping of more than [`SCAN_KEYS`] entries: the first repeated key in
/// document order and the line of its first occurrence.
pub(crate) fn later_duplicate(entries: &[(Key, Node)]) -> Option<(&Key, u32)> {
    if entries.len() <= SCAN_KEYS {
        return None;
    }
    let name = |i: &usize| entries.get(*i).map(|(k, _)| k.name.as_str());
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Stable: equal names stay in document order.
    crate::engine::stable_sort_by(&mut order, |a, b| name(a).cmp(&name(b)));
    let mut best: Option<(usize, usize)> = None; // (repeat, first)
    let mut first = order.first().copied().unwrap_or(0);
    for pair in order.windows(2) {
        let &[a, b] = pair else { continue };
        if name(&a) == name(&b) {
            if best.is_none_or(|(r, _)| b < r) {
                best = Some((b, first));
            }
        } else {
            first = b;
        }
    }
    let (repeat, first) = best?;
    let line = entries.get(first)?.0.line;
    entries.get(repeat).map(|(k, _)| (k, line))
}

fn duplicate_error(key: &Key, first: u32) -> Error {
    // A key that is a secret (MV-SECRET-001) is never quoted.
    let shown = if crate::rules::key_is_secret(&key.name) {
        "(a secret, redacted)".to_string()
    } else {
        format!("`{}`", key.name)
    };
    Error::new(
        ErrorCode::Structure,
        format!("duplicate key {shown} (first defined on line {first})"),
    )
    .at(key.line, key.col)
    .with_help("keep one of the two entries; YAML parsers disagree on which one wins")
}

/// Refuse a merge key (`<<`), plain or quoted: YAML 1.1 loaders (PyYAML, js-yaml, most
/// builders') merge the mapping it names into the one that holds it, YAML 1.2 loaders
/// keep a key named `<<`. Two readers, two manifests: refused.
pub(crate) fn check_key(name: &str, line: u32, col: u32) -> Result<()> {
    if name == MERGE_KEY {
        return Err(Error::new(
            ErrorCode::Structure,
            "merge key `<<` is not supported",
        )
        .at(line, col)
        .with_help(
            "write the keys out in this mapping; YAML 1.1 loaders merge `<<` values and YAML 1.2 ones do not, so the manifest would mean two things",
        ));
    }
    Ok(())
}

/// The merge key of YAML 1.1 (`tag:yaml.org,2002:merge`).
pub(crate) const MERGE_KEY: &str = "<<";

/// Parse YAML (or JSON, which YAML 1.2 contains) into a positioned tree.
///
/// An empty document yields a `Null` node. Multiple documents are refused.
pub fn parse(text: &str, limits: Limits) -> Result<Node> {
    if text.len() > limits.max_bytes {
        return Err(Error::new(
            ErrorCode::Limit,
            format!(
                "document is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        )
        .with_help("a manifest is a few hundred bytes; check that the right file was sent"));
    }
    // A leading byte order mark is not content (YAML 1.2 §5.2); the caller hashes the
    // original bytes.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The fast path declines any text with a NUL, so the check below still reports it.
    if let Some(node) = fast::parse(text, limits) {
        return Ok(node);
    }
    parse_full(text, limits)
}

/// The full loader over `yaml-rust2` events: everything outside the fast path's subset,
/// and every error.
fn parse_full(text: &str, limits: Limits) -> Result<Node> {
    if let Some(offset) = text.find('\0') {
        let line = text
            .get(..offset)
            .map_or(1, |p| p.matches('\n').count() + 1);
        return Err(
            Error::new(ErrorCode::Syntax, "document contains a NUL byte")
                .at(u32::try_from(line).unwrap_or(u32::MAX), 1)
                .with_help("manifests are UTF-8 text; remove the NUL character"),
        );
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored nodes by anchor id: `yaml-rust2` numbers anchors 1, 2, 3... as it meets
    // them, so a vector indexed by id does what a map would (without a hash table in the
    // component). At most one slot per anchored node, so the node limit bounds it.
    // Each with its node count, so an alias adds it without walking the tree.
    let mut anchors: Vec<Option<(Node, usize)>> = Vec::new();
    let mut nodes: usize = 0;
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let (line, col) = pos(e.marker());
            if e.info().contains("recursion limit") {
                // The scanner's own guard against runaway `[[[[...` flow nesting.
                return depth_error(limits, line, col);
            }
            Error::new(ErrorCode::Syntax, format!("invalid YAML: {}", e.info()))
                .at(line, col)
                .with_help("check indentation, quotes and the `key: value` shape near this line")
        })?;
        let (line, col) = pos(&mark);
        // The node, its anchor id (0: none) and its node count.
        let completed: Option<(Node, usize, usize)> = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => None,
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(Error::new(
                        ErrorCode::Structure,
                        "more than one YAML document in the input",
                    )
                    .at(line, col)
                    .with_help("send one manifest per request; remove the extra `---` document"));
                }
                None
            }
            Event::Alias(id) => {
                let (target, count) =
                    anchors.get(id).and_then(Option::as_ref).ok_or_else(|| {
                        Error::new(ErrorCode::Syntax, "alias refers to an unknown anchor")
                            .at(line, col)
                    })?;
                nodes = nodes.saturating_add(*count);
                check_nodes(nodes, limits, line, col)?;
                let mut copy = target.clone();
                place(&mut copy, line, col);
                Some((copy, 0, 1))
            }
            Event::Scalar(text, style, anchor, tag) => {
                nodes += 1;
                check_nodes(nodes, limits, line, col)?;
                let value = match tag {
                    None => resolve_scalar(text, style),
                    Some(tag) => tagged_scalar(text, core_tag(&tag, line, col)?, line, col)?,
                };
                Some((Node { value, line, col }, anchor, 1))
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                let seq = matches!(event, Event::SequenceStart(..));
                if let Some(tag) = tag {
                    let want = if seq { CoreTag::Seq } else { CoreTag::Map };
                    let have = core_tag(tag, line, col)?;
                    if have != want {
                        return Err(wrong_tag(have, line, col));
                    }
                }
                let start = nodes;
                nodes += 1;
                check_nodes(nodes, limits, line, col)?;
                if stack.len() >= limits.max_depth {
                    return Err(depth_error(limits, line, col));
                }
                let node = Node {
                    value: Value::Null,
                    line,
                    col,
                };
                stack.push(if seq {
                    Frame::Seq {
                        node,
                        anchor,
                        start,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        node,
                        anchor,
                        start,
                        entries: Vec::new(),
                        pending_key: None,
                    }
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    mut node,
                    anchor,
                    start,
                    items,
                }) => {
                    node.value = Value::Seq(items);
                    Some((node, anchor, nodes - start))
                }
                _ => return Err(Error::new(ErrorCode::Syntax, "unbalanced sequence").at(line, col)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    mut node,
                    anchor,
                    start,
                    entries,
                    ..
                }) => {
                    if let Some((key, first)) = later_duplicate(&entries) {
                        return Err(duplicate_error(key, first));
                    }
                    node.value = Value::Map(entries);
                    Some((node, anchor, nodes - start))
                }
                _ => return Err(Error::new(ErrorCode::Syntax, "unbalanced mapping").at(line, col)),
            },
        };
        let Some((node, anchor, count)) = completed else {
            continue;
        };
        if anchor > 0 {
            if anchors.len() <= anchor {
                anchors.resize_with(anchor + 1, || None);
            }
            if let Some(slot) = anchors.get_mut(anchor) {
                *slot = Some((node.clone(), count));
            }
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let (line, col) = (node.line, node.col);
                    let name = key_name(node.value).ok_or_else(|| {
                        Error::new(
                            ErrorCode::Structure,
                            "a mapping key must be a plain value, not a list or mapping",
                        )
                        .at(line, col)
                    })?;
                    check_key(&name, line, col)?;
                    let key = Key { name, line, col };
                    if let Some(first) = earlier_key(entries, &key) {
                        return Err(duplicate_error(&key, first));
                    }
                    *pending_key = Some(key);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        col: 1,
    }))
}

/// The name of a mapping key from its scalar value; `None` for a collection.
fn key_name(value: Value) -> Option<String> {
    Some(match value {
        Value::Str(s) => s,
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Null => "null".to_string(),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

fn depth_error(limits: Limits, line: u32, col: u32) -> Error {
    Error::new(
        ErrorCode::Limit,
        format!("nesting deeper than {} levels", limits.max_depth),
    )
    .at(line, col)
    .with_help("a manifest needs only a few levels; flatten the document")
}

fn check_nodes(nodes: usize, limits: Limits, line: u32, col: u32) -> Result<()> {
    if nodes > limits.max_nodes {
        return Err(Error::new(
            ErrorCode::Limit,
            format!("document expands to more than {} nodes", limits.max_nodes),
        )
        .at(line, col)
        .with_help("aliases (`*name`) count every node they repeat; remove the alias chain"));
    }
    Ok(())
}

/// Place every node and key of an alias's copy at the alias: a finding about a value
/// reached through `*name` points where that value was used.
fn place(node: &mut Node, line: u32, col: u32) {
    node.line = line;
    node.col = col;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| place(n, line, col)),
        Value::Map(entries) => {
            for (k, v) in entries {
                k.line = line;
                k.col = col;
                place(v, line, col);
            }
        }
        _ => {}
    }
}

/// A tag of the YAML core schema (YAML 1.2 §10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CoreTag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Seq,
    Map,
}

impl CoreTag {
    fn short(self) -> &'static str {
        match self {
            CoreTag::Str => "!!str",
            CoreTag::Int => "!!int",
            CoreTag::Float => "!!float",
            CoreTag::Bool => "!!bool",
            CoreTag::Null => "!!null",
            CoreTag::Seq => "!!seq",
            CoreTag::Map => "!!map",
        }
    }
}

/// The core-schema tag `tag` resolves to (`!!int`, `!<tag:yaml.org,2002:int>`, or a
/// `%TAG` handle for that prefix); any other tag is refused without naming it (a tag is
/// free text and may carry anything, a secret included).
fn core_tag(tag: &Tag, line: u32, col: u32) -> Result<CoreTag> {
    const PREFIX: &str = "tag:yaml.org,2002:";
    let name = if tag.handle == PREFIX {
        Some(tag.suffix.as_str())
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix(PREFIX)
    } else if PREFIX.starts_with(tag.handle.as_str()) {
        PREFIX
            .get(tag.handle.len()..)
            .and_then(|rest| tag.suffix.strip_prefix(rest))
    } else {
        None
    };
    Ok(match name {
        Some("str") => CoreTag::Str,
        Some("int") => CoreTag::Int,
        Some("float") => CoreTag::Float,
        Some("bool") => CoreTag::Bool,
        Some("null") => CoreTag::Null,
        Some("seq") => CoreTag::Seq,
        Some("map") => CoreTag::Map,
        _ => {
            return Err(Error::new(ErrorCode::Structure, "an unsupported tag")
                .at(line, col)
                .with_help(
                    "remove the tag; only the YAML core schema tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq`, `!!map`) are read, other tags (`!!binary`, `!!set`, `!!omap`, `!!merge`, local `!name` tags...) mean different things to different loaders",
                ));
        }
    })
}

/// A core-schema tag on a node that cannot have it (the value is not repeated: it may be
/// anything).
fn wrong_tag(tag: CoreTag, line: u32, col: u32) -> Error {
    let what = match tag {
        CoreTag::Str => "a string",
        CoreTag::Int => "an integer",
        CoreTag::Float => "a number",
        CoreTag::Bool => "`true` or `false`",
        CoreTag::Null => "empty, `~` or `null`",
        CoreTag::Seq => "a list",
        CoreTag::Map => "a mapping",
    };
    Error::new(
        ErrorCode::Structure,
        format!("a value tagged `{}` is not {what}", tag.short()),
    )
    .at(line, col)
    .with_help("remove the tag or write a value of its type")
}

/// A scalar under a core-schema tag: the tag decides the type whatever the quoting
/// (`!!int "5"` is 5, `!!str true` is "true"); a value its tag cannot have is an error.
fn tagged_scalar(text: String, tag: CoreTag, line: u32, col: u32) -> Result<Value> {
    if tag == CoreTag::Str {
        return Ok(Value::Str(text));
    }
    match (tag, resolve_scalar(text, TScalarStyle::Plain)) {
        (CoreTag::Null, v @ Value::Null)
        | (CoreTag::Bool, v @ Value::Bool(_))
        | (CoreTag::Int, v @ Value::Int(_))
        | (CoreTag::Float, v @ Value::Float(_)) => Ok(v),
        #[allow(clippy::cast_precision_loss)]
        (CoreTag::Float, Value::Int(i)) => Ok(Value::Float(i as f64)),
        _ => Err(wrong_tag(tag, line, col)),
    }
}

/// YAML 1.2 core schema resolution of a scalar.
fn resolve_scalar(text: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    // `0x` / `0o` and digits only (`from_str_radix` alone would take `0x-1` and `0x+1`).
    for (prefix, radix, ok) in [
        ("0x", 16, u8::is_ascii_hexdigit as fn(&u8) -> bool),
        ("0o", 8, |b: &u8| (b'0'..=b'7').contains(b)),
    ] {
        if let Some(digits) = text.strip_prefix(prefix)
            && !digits.is_empty()
            && digits.bytes().all(|b| ok(&b))
            && let Ok(i) = i64::from_str_radix(digits, radix)
        {
            return Value::Int(i);
        }
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text)
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

    fn p(s: &str) -> Result<Node> {
        parse(s, Limits::MANIFEST)
    }

    #[test]
    fn positions_are_one_based() {
        let n = p("name: a\nowner: b@example.com\nscopes:\n  - x\n").unwrap();
        let owner = n.get("owner").unwrap();
        assert_eq!((owner.line, owner.col), (2, 8));
        let x = n.pointer("/scopes/0").unwrap();
        assert_eq!((x.line, x.col), (4, 5));
    }

    #[test]
    fn json_with_tabs_parses() {
        let n = p("{\n\t\"name\": \"a\",\n\t\"n\": [1, 2.5, true, null]\n}").unwrap();
        assert_eq!(n.get("name").unwrap().as_str(), Some("a"));
        assert_eq!(n.pointer("/n/1").unwrap().value, Value::Float(2.5));
        assert_eq!(n.get("name").unwrap().line, 2);
    }

    #[test]
    fn scalars_resolve_by_core_schema() {
        let n = p("a: 30\nb: '30'\nc: yes\nd: ~\ne: 1.5\nf: true").unwrap();
        assert_eq!(n.get("a").unwrap().value, Value::Int(30));
        assert_eq!(n.get("b").unwrap().value, Value::Str("30".into()));
        assert_eq!(n.get("c").unwrap().value, Value::Str("yes".into()));
        assert_eq!(n.get("d").unwrap().value, Value::Null);
        assert_eq!(n.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(n.get("f").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn hex_and_octal_need_digits_only() {
        for (text, want) in [
            ("0x1F", Value::Int(31)),
            ("0o17", Value::Int(15)),
            ("0x-1", Value::Str("0x-1".into())),
            ("0x+1", Value::Str("0x+1".into())),
            ("0o-7", Value::Str("0o-7".into())),
            ("0o+7", Value::Str("0o+7".into())),
            ("0x", Value::Str("0x".into())),
        ] {
            let n = p(&format!("a: {text}\n")).unwrap();
            assert_eq!(n.get("a").unwrap().value, want, "{text}");
            assert_eq!(
                resolve_scalar(text.into(), TScalarStyle::Plain),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn a_leading_bom_is_stripped_and_positions_ignore_it() {
        for text in [
            "\u{feff}# c\na: 1\n",
            "\u{feff}{\"a\": 1}",
            "\u{feff}a: 1\n",
        ] {
            let n = p(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            assert_eq!(n.get("a").unwrap().value, Value::Int(1), "{text:?}");
        }
        let n = p("\u{feff}a: 1\n").unwrap();
        assert_eq!((n.get("a").unwrap().line, n.get("a").unwrap().col), (1, 4));
    }

    #[test]
    fn merge_keys_are_refused_at_their_position() {
        let e = p("a: 1\nb:\n  c: 2\n  <<: {d: 3}\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure);
        assert_eq!((e.line, e.column), (Some(4), Some(3)));
        assert!(e.help.unwrap().contains("write the keys out"));
        // A plain `<<` value, or a longer key, is text.
        assert_eq!(p("a: <<\n").unwrap().get("a").unwrap().as_str(), Some("<<"));
        assert!(p("<<<: 1\n").unwrap().get("<<<").is_some());
    }

    #[test]
    fn alias_copies_are_placed_at_the_alias() {
        let n = p("a: &x {b: [1, {c: 2}]}\nd: *x\n").unwrap();
        let d = n.get("d").unwrap();
        for ptr in ["/d", "/d/b", "/d/b/0", "/d/b/1", "/d/b/1/c"] {
            let m = n.pointer(ptr).unwrap();
            assert_eq!((m.line, m.col), (d.line, d.col), "{ptr}");
        }
        assert_eq!(n.pointer("/a/b/1/c").unwrap().line, 1);
        // The node count of an anchored collection is carried, not recounted: the root and
        // `a` (2), the anchored mapping (7: itself, `b`, the list, `1`, the inner mapping,
        // `c`, `2`), `d` (1) and the alias (the same 7) make 17.
        let text = "a: &x {b: [1, {c: 2}]}\nd: *x\n";
        let at = |max_nodes| {
            parse(
                text,
                Limits {
                    max_nodes,
                    ..Limits::MANIFEST
                },
            )
        };
        assert_eq!(at(16).unwrap_err().code, ErrorCode::Limit);
        assert!(at(17).is_ok());
    }

    #[test]
    fn duplicate_keys_are_refused_with_both_lines() {
        let e = p("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::Structure);
        assert!(
            e.message.contains("duplicate key `a`") && e.message.contains("line 1"),
            "{e:?}"
        );
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = p("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::Syntax);
        assert!(e.line.is_some() && e.column.is_some());
    }

    #[test]
    fn alias_bomb_hits_node_limit() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let e = p(&s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit);
    }

    #[test]
    fn deep_nesting_hits_depth_limit_without_stack_overflow() {
        let s = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(p(&s).unwrap_err().code, ErrorCode::Limit);
        // Block style: 1,000 levels is ~500 KB, under the size limit, so depth is what stops it.
        let mut s = String::new();
        for i in 0..1_000 {
            s.push_str(&" ".repeat(i));
            s.push_str("a:\n");
        }
        assert_eq!(p(&s).unwrap_err().code, ErrorCode::Limit);
    }

    #[test]
    fn size_and_nul_limits() {
        let big = "a: ".to_string() + &"x".repeat(11 * 1024 * 1024);
        assert_eq!(p(&big).unwrap_err().code, ErrorCode::Limit);
        let e = p("a: 1\nb: \0\n").unwrap_err();
        assert_eq!((e.code, e.line), (ErrorCode::Syntax, Some(2)));
    }

    #[test]
    fn multiple_documents_are_refused() {
        assert_eq!(
            p("a: 1\n---\nb: 2\n").unwrap_err().code,
            ErrorCode::Structure
        );
    }

    #[test]
    fn aliases_resolve_redefined_and_nested_anchors() {
        let n = p("a: &x 1\nb: *x\nc: &x two\nd: *x\ne: &y [&z 3, *z]\nf: *y\n").unwrap();
        assert_eq!(n.get("b").unwrap().value, Value::Int(1));
        assert_eq!(n.get("d").unwrap().as_str(), Some("two"));
        assert_eq!(n.pointer("/e/1").unwrap().value, Value::Int(3));
        assert_eq!(n.pointer("/f/0").unwrap().value, Value::Int(3));
        assert_eq!(n.pointer("/f/1").unwrap().value, Value::Int(3));
        assert_eq!(n.get("f").unwrap().line, 6);
        assert_eq!(p("a: *nope\n").unwrap_err().code, ErrorCode::Syntax);
    }

    #[test]
    fn push_i64_is_display() {
        for n in (-2000..2000).chain([i64::MIN, i64::MIN + 1, i64::MAX, 9_999_999_999]) {
            let mut s = String::from("x");
            push_i64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn push_index_is_display() {
        for i in (0..2000).chain([9_999, 10_000, 123_456_789, usize::MAX - 1, usize::MAX]) {
            let mut s = String::from("/x/");
            push_index(&mut s, i);
            assert_eq!(s, format!("/x/{i}"));
        }
    }

    #[test]
    fn pointer_escapes() {
        let n = p("\"a/b\": {\"c~d\": 1}").unwrap();
        assert_eq!(n.pointer("/a~1b/c~0d").unwrap().value, Value::Int(1));
        assert_eq!(escape_token("a/b~"), "a~1b~0");
    }
}
