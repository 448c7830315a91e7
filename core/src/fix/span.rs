//! One JSON Patch operation as an edit of the original text at the node's span.
//!
//! The loader gives every node and key its 1-based line and column (see `crate::yaml`);
//! from there the edit finds the node's extent in the text (a quoted scalar to its closing
//! quote, a plain one to its comment or the end of its line, a flow collection to its
//! bracket, a block collection to the end of its last item) and replaces, inserts or
//! removes only those bytes: every other byte of the document, comments included, stays.
//!
//! `edit` returns `None` where an edit at a span is not possible; the caller then writes
//! the document out again. Those places: a block scalar (`|`, `>`), a node written with
//! an anchor or a tag (`&a`, `!!str`), a node inside a value reached through an alias
//! (`*a`: the copy has no text of its own), a list item that starts on the line of
//! another (`- - x`), the one entry of a block collection at the top of the document
//! (it has no parent slot to become `{}` / `[]` in). Every edit is also read back by the
//! loader and must give exactly the patched data, or it is not used.

use super::{block, inline, json_key, yaml_key};

use crate::yaml::{Key, Node, Value as Y};
use serde_json::Value;

/// The text being edited, with what the edit needs to know about it.
pub(super) struct Doc<'a> {
    text: &'a str,
    /// Byte offset of the start of each line.
    lines: Vec<usize>,
    /// The document is JSON: new values are written as JSON.
    pub(super) json: bool,
    /// The text ends its lines with CR LF.
    crlf: bool,
}

/// A replacement of the bytes `start..end` by `text`.
pub(super) struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// A container on the way to the target, and the slot of it that leads on.
#[derive(Clone, Copy)]
struct Step<'n> {
    node: &'n Node,
    flow: bool,
    slot: usize,
}

impl<'a> Doc<'a> {
    pub(super) fn new(text: &'a str, json: bool) -> Doc<'a> {
        let mut lines = vec![0];
        lines.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Doc {
            text,
            lines,
            json,
            crlf: text.contains("\r\n"),
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.text.as_bytes().get(i).copied().unwrap_or(0)
    }

    /// Byte offset of a 1-based line and column (columns count characters).
    fn offset(&self, line: u32, col: u32) -> Option<usize> {
        let start = *self
            .lines
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let skip = usize::try_from(col).ok()?.checked_sub(1)?;
        let rest = self.text.get(start..)?;
        rest.char_indices()
            .nth(skip)
            .map(|(i, _)| start + i)
            .or_else(|| (rest.chars().count() == skip).then_some(self.text.len()))
    }

    fn node_at(&self, n: &Node) -> Option<usize> {
        self.offset(n.line, n.col)
    }

    fn key_at(&self, k: &Key) -> Option<usize> {
        self.offset(k.line, k.col)
    }

    fn line_start(&self, i: usize) -> usize {
        self.text
            .get(..i)
            .and_then(|p| p.rfind('\n'))
            .map_or(0, |n| n + 1)
    }

    /// The offset after the line break that ends the line holding byte `i`.
    fn line_end(&self, i: usize) -> usize {
        self.text
            .get(i..)
            .and_then(|r| r.find('\n'))
            .map_or(self.text.len(), |n| i + n + 1)
    }

    /// Whether only spaces stand between the start of its line and byte `i`.
    fn starts_line(&self, i: usize) -> bool {
        let s = self.line_start(i);
        self.text
            .get(s..i)
            .is_some_and(|p| p.bytes().all(|b| b == b' '))
    }

    fn nl(&self) -> &'static str {
        if self.crlf { "\r\n" } else { "\n" }
    }

    /// Text written by the emitter (`\n` line ends) in this document's line ends.
    fn lines_of(&self, s: String) -> String {
        if self.crlf {
            s.replace('\n', "\r\n")
        } else {
            s
        }
    }

    /// Whether a collection node is written in flow style (`[..]`, `{..}`).
    fn is_flow(&self, n: &Node) -> bool {
        let Some(i) = self.node_at(n) else {
            return false;
        };
        match &n.value {
            // An indentless block list is placed at its first item: a first item in flow
            // style starts with `[` too.
            Y::Seq(items) => {
                self.at(i) == b'['
                    && items
                        .first()
                        .is_none_or(|f| (f.line, f.col) != (n.line, n.col))
            }
            Y::Map(_) => self.at(i) == b'{',
            _ => false,
        }
    }

    /// Whether a null was written with no text at all (`key:` and nothing after).
    fn is_empty(&self, n: &Node) -> bool {
        matches!(n.value, Y::Null)
            && self
                .node_at(n)
                .is_none_or(|i| !matches!(self.at(i), b'~' | b'n' | b'N'))
    }

    /// The end of a scalar that starts at `i`.
    fn scalar_end(&self, i: usize, flow: bool) -> Option<usize> {
        let b = self.text.as_bytes();
        match self.at(i) {
            b'"' => {
                let mut j = i + 1;
                while j < b.len() {
                    match b.get(j)? {
                        b'\\' => j += 2,
                        b'"' => return Some(j + 1),
                        _ => j += 1,
                    }
                }
                None
            }
            b'\'' => {
                let mut j = i + 1;
                while j < b.len() {
                    if *b.get(j)? == b'\'' {
                        if b.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        return Some(j + 1);
                    }
                    j += 1;
                }
                None
            }
            // Block scalars, anchors and tags: not edited in place.
            b'|' | b'>' | b'&' | b'!' | 0 => None,
            _ => {
                let mut j = i;
                while j < b.len() {
                    let c = *b.get(j)?;
                    let next = b.get(j + 1).copied().unwrap_or(b' ');
                    let prev = if j > i { *b.get(j - 1)? } else { b'x' };
                    if c == b'\n'
                        || (c == b'#' && matches!(prev, b' ' | b'\t'))
                        || (flow && matches!(c, b',' | b'[' | b']' | b'{' | b'}'))
                        || (c == b':'
                            && (matches!(next, b' ' | b'\t' | b'\r' | b'\n')
                                || (flow && matches!(next, b',' | b']' | b'}'))))
                    {
                        break;
                    }
                    j += 1;
                }
                while j > i && matches!(b.get(j - 1), Some(b' ' | b'\t' | b'\r')) {
                    j -= 1;
                }
                // A plain scalar that goes on over more lines is not edited in place.
                if !flow && self.continues(j) {
                    return None;
                }
                Some(j)
            }
        }
    }

    /// Whether the line after the one holding byte `j` continues the plain scalar that
    /// ends there: it is indented more than the key or `-` the scalar belongs to, and is
    /// not a comment.
    fn continues(&self, j: usize) -> bool {
        let start = self.line_start(j);
        let prefix = self.text.get(start..j).unwrap_or("").as_bytes();
        // The column of the last key or `-` on the line before the scalar.
        let mut pos = 0;
        let owner = loop {
            while prefix.get(pos) == Some(&b' ') {
                pos += 1;
            }
            if prefix.get(pos) == Some(&b'-') && matches!(prefix.get(pos + 1), Some(b' ') | None) {
                pos += 1;
                continue;
            }
            break pos;
        };
        let next = self.line_end(j);
        let Some(line) = self.text.get(next..) else {
            return false;
        };
        let line = line.split('\n').next().unwrap_or("");
        let body = line.trim_start_matches(' ');
        let ind = line.len() - body.len();
        !body.trim().is_empty() && !body.starts_with('#') && ind > owner
    }

    /// The end of the flow collection whose bracket is at `i`.
    fn bracket_end(&self, i: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let mut depth = 0usize;
        let mut j = i;
        while j < b.len() {
            match *b.get(j)? {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                b'"' | b'\'' => {
                    j = self.scalar_end(j, true)?;
                    continue;
                }
                b'#' if matches!(b.get(j.wrapping_sub(1)), Some(b' ' | b'\t' | b'\n')) => {
                    j = self.line_end(j);
                    continue;
                }
                _ => {}
            }
            j += 1;
        }
        None
    }

    /// The start of a node as written: a block mapping at its first key.
    fn start(&self, n: &Node, flow: bool) -> Option<usize> {
        match &n.value {
            Y::Map(entries) if !flow && !self.is_flow(n) => self.key_at(&entries.first()?.0),
            Y::Seq(items) if !flow && !self.is_flow(n) => {
                let first = self.start(items.first()?, false)?;
                self.dash(first)
            }
            _ => self.node_at(n),
        }
    }

    /// The extent of a node's text. An alias (`*a`) is its name.
    fn span(&self, n: &Node, flow: bool) -> Option<(usize, usize)> {
        let i = self.node_at(n)?;
        if self.at(i) == b'*' {
            let b = self.text.as_bytes();
            let mut j = i + 1;
            while j < b.len()
                && !matches!(
                    b.get(j),
                    Some(b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}')
                )
            {
                j += 1;
            }
            return Some((i, j));
        }
        match &n.value {
            Y::Seq(items) if !flow && !self.is_flow(n) => {
                let last = items.last()?;
                let (_, end) = self.span(last, false)?;
                Some((self.start(n, false)?, end))
            }
            Y::Map(entries) if !flow && !self.is_flow(n) => {
                let (k, v) = entries.last()?;
                let end = self.value_end(k, v, false)?;
                Some((self.start(n, false)?, end))
            }
            Y::Seq(_) | Y::Map(_) => {
                if !matches!(self.at(i), b'[' | b'{') {
                    return None;
                }
                Some((i, self.bracket_end(i)?))
            }
            _ if self.is_empty(n) => None,
            _ => Some((i, self.scalar_end(i, flow)?)),
        }
    }

    /// The offset after the `:` that follows a key.
    fn colon_end(&self, k: &Key) -> Option<usize> {
        let i = self.key_at(k)?;
        let mut j = match self.at(i) {
            b'"' | b'\'' => self.scalar_end(i, true)?,
            _ => i,
        };
        let b = self.text.as_bytes();
        while j < b.len() {
            if *b.get(j)? == b':' {
                return Some(j + 1);
            }
            if *b.get(j)? == b'\n' {
                return None;
            }
            j += 1;
        }
        None
    }

    /// Where the value of an entry ends (after its `:` when it was left empty).
    fn value_end(&self, k: &Key, v: &Node, flow: bool) -> Option<usize> {
        if self.is_empty(v) {
            return self.colon_end(k);
        }
        self.span(v, flow).map(|(_, e)| e)
    }

    /// The `-` of the block list item whose content starts at `i`.
    fn dash(&self, i: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let mut j = i;
        loop {
            j = j.checked_sub(1)?;
            match *b.get(j)? {
                b' ' => {}
                b'-' => return Some(j),
                _ => return None,
            }
        }
    }

    /// A value written where a value goes in its context.
    fn value_text(&self, v: &Value) -> String {
        if self.json {
            return crate::verdict::value_json(v);
        }
        inline(v)
    }

    fn key_text(&self, k: &str) -> String {
        if self.json { json_key(k) } else { yaml_key(k) }
    }

    /// How many tokens lead to the first alias on the way (`None`: no alias there).
    fn alias_on(&self, root: &Node, tokens: &[String]) -> Option<usize> {
        let mut node = root;
        for (k, t) in tokens.iter().enumerate() {
            node = match &node.value {
                Y::Map(entries) => entries
                    .iter()
                    .find(|(key, _)| key.name == *t)
                    .map(|(_, v)| v)?,
                Y::Seq(items) => items.get(t.parse::<usize>().ok()?)?,
                _ => return None,
            };
            if self.node_at(node).is_some_and(|i| self.at(i) == b'*') {
                return Some(k + 1);
            }
        }
        None
    }

    /// Walk the tokens to the parent of the target: the chain of containers passed.
    fn walk<'n>(
        &self,
        root: &'n Node,
        tokens: &[String],
    ) -> Option<(Vec<Step<'n>>, &'n Node, bool)> {
        let mut chain = Vec::new();
        let mut node = root;
        let mut flow = false;
        for t in tokens {
            // Nothing under an alias has text of its own.
            if self.node_at(node).is_none_or(|i| self.at(i) == b'*') {
                return None;
            }
            flow = flow || self.is_flow(node);
            let (slot, next) = match &node.value {
                Y::Map(entries) => entries
                    .iter()
                    .enumerate()
                    .find(|(_, (k, _))| k.name == *t)
                    .map(|(i, (_, v))| (i, v))?,
                Y::Seq(items) => {
                    let i: usize = t.parse().ok()?;
                    (i, items.get(i)?)
                }
                _ => return None,
            };
            chain.push(Step { node, flow, slot });
            node = next;
        }
        if self.node_at(node).is_none_or(|i| self.at(i) == b'*') && !self.is_empty(node) {
            return None;
        }
        let flow = flow || self.is_flow(node);
        Some((chain, node, flow))
    }

    /// The edit that applies `op` at `tokens` (the last token names the member or index
    /// in its parent), or `None` where an edit at a span is not possible.
    pub(super) fn edit(
        &self,
        root: &Node,
        op: &str,
        tokens: &[String],
        value: Option<&Value>,
        want: &Value,
    ) -> Option<Edit> {
        let (last, parents) = tokens.split_last()?;
        // A value inside an alias's copy has no text of its own: the alias itself is
        // replaced by the whole new value.
        if let Some(k) = self.alias_on(root, parents) {
            let at = tokens.get(..k)?;
            let mut ptr = String::new();
            for t in at {
                ptr.push('/');
                ptr.push_str(&crate::yaml::escape_token(t));
            }
            let new = want.pointer(&ptr)?;
            return self.edit(root, "replace", at, Some(new), want);
        }
        if parents.is_empty() && self.is_empty(root) {
            // An empty document (perhaps only comments): the member goes after them.
            let v = value.filter(|_| op != "remove")?;
            return Some(self.append_root(last, v));
        }
        let (chain, parent, flow) = self.walk(root, parents)?;
        match &parent.value {
            Y::Map(entries) => {
                let found = entries.iter().position(|(k, _)| k.name == *last);
                match (op, found) {
                    ("remove", Some(i)) => self.remove(&chain, parent, flow, i),
                    ("add" | "replace", Some(i)) => {
                        let (k, v) = entries.get(i)?;
                        self.replace_entry(k, v, flow, value?)
                    }
                    ("add" | "replace", None) => self.add_entry(parent, flow, last, value?),
                    _ => None,
                }
            }
            Y::Seq(items) => {
                if op == "add" {
                    let i = if last == "-" {
                        items.len()
                    } else {
                        last.parse().ok()?
                    };
                    return self.add_item(parent, flow, i, value?);
                }
                let i: usize = last.parse().ok()?;
                let item = items.get(i)?;
                match op {
                    "remove" => self.remove(&chain, parent, flow, i),
                    "replace" => self.replace_item(item, flow, value?),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn append_root(&self, key: &str, v: &Value) -> Edit {
        let end = self.text.len();
        let mut text = String::new();
        if end > 0 && !self.text.ends_with('\n') {
            text.push_str(self.nl());
        }
        let mut one = serde_json::Map::new();
        one.insert(key.to_string(), v.clone());
        if self.json {
            super::pretty_json(&Value::Object(one), 0, &mut text);
            text.push_str(self.nl());
        } else {
            text.push_str(&self.lines_of(block(&Value::Object(one), 0)));
        }
        Edit {
            start: end,
            end,
            text,
        }
    }

    /// Replace the value of an existing entry.
    fn replace_entry(&self, k: &Key, v: &Node, flow: bool, new: &Value) -> Option<Edit> {
        let colon = self.colon_end(k)?;
        if self.is_empty(v) {
            return Some(Edit {
                start: colon,
                end: colon,
                text: format!(" {}", self.value_text(new)),
            });
        }
        let (start, end) = self.span(v, flow)?;
        if !flow && !self.is_flow(v) && matches!(v.value, Y::Seq(_) | Y::Map(_)) {
            // A block collection: everything after `key:` up to its last item.
            return Some(Edit {
                start: colon,
                end,
                text: format!(" {}", self.value_text(new)),
            });
        }
        Some(Edit {
            start,
            end,
            text: self.value_text(new),
        })
    }

    /// Replace a list item.
    fn replace_item(&self, item: &Node, flow: bool, new: &Value) -> Option<Edit> {
        if !flow
            && (self.is_empty(item)
                || matches!(item.value, Y::Seq(_) | Y::Map(_)) && !self.is_flow(item))
        {
            let content = self.start(item, false).or_else(|| self.node_at(item))?;
            let dash = self.dash(content)?;
            let end = match self.span(item, false) {
                Some((_, e)) => e,
                None => dash + 1,
            };
            return Some(Edit {
                start: dash + 1,
                end,
                text: format!(" {}", self.value_text(new)),
            });
        }
        let (start, end) = self.span(item, flow)?;
        Some(Edit {
            start,
            end,
            text: self.value_text(new),
        })
    }

    fn add_entry(&self, map: &Node, flow: bool, key: &str, v: &Value) -> Option<Edit> {
        let Y::Map(entries) = &map.value else {
            return None;
        };
        let (mstart, mend) = self.span(map, flow)?;
        if flow || self.is_flow(map) {
            let member = format!("{}: {}", self.key_text(key), self.value_text(v));
            let Some((lk, lv)) = entries.last() else {
                return Some(Edit {
                    start: mstart + 1,
                    end: mstart + 1,
                    text: member,
                });
            };
            let at = self.value_end(lk, lv, true)?;
            let kat = self.key_at(lk)?;
            // Entries one per line: the new one on its own line, indented like the last.
            let sep = if self.line_start(kat) > mstart && self.starts_line(kat) {
                let ls = self.line_start(kat);
                format!(",{}{}", self.nl(), self.text.get(ls..kat).unwrap_or(""))
            } else {
                ", ".to_string()
            };
            return Some(Edit {
                start: at,
                end: at,
                text: format!("{sep}{member}"),
            });
        }
        let (fk, _) = entries.first()?;
        let first = self.key_at(fk)?;
        let indent = self
            .text
            .get(self.line_start(first)..first)?
            .chars()
            .count();
        let at = self.line_end(mend);
        let mut one = serde_json::Map::new();
        one.insert(key.to_string(), v.clone());
        let mut text = String::new();
        if at == self.text.len() && !self.text.ends_with('\n') {
            text.push_str(self.nl());
        }
        text.push_str(&self.lines_of(block(&Value::Object(one), indent)));
        Some(Edit {
            start: at,
            end: at,
            text,
        })
    }

    fn add_item(&self, seq: &Node, flow: bool, i: usize, v: &Value) -> Option<Edit> {
        let Y::Seq(items) = &seq.value else {
            return None;
        };
        if i > items.len() {
            return None;
        }
        if flow || self.is_flow(seq) {
            let (start, _) = self.span(seq, true)?;
            let val = self.value_text(v);
            if let Some(item) = items.get(i) {
                let at = self.span(item, true)?.0;
                return Some(Edit {
                    start: at,
                    end: at,
                    text: format!("{val}, "),
                });
            }
            let Some(last) = items.last() else {
                return Some(Edit {
                    start: start + 1,
                    end: start + 1,
                    text: val,
                });
            };
            let at = self.span(last, true)?.1;
            return Some(Edit {
                start: at,
                end: at,
                text: format!(", {val}"),
            });
        }
        let first = self
            .start(items.first()?, false)
            .or_else(|| self.node_at(items.first()?))?;
        let dash = self.dash(first)?;
        if !self.starts_line(dash) {
            return None;
        }
        let pad = self.text.get(self.line_start(dash)..dash)?.chars().count();
        let line = self.lines_of(block(&Value::Array(vec![v.clone()]), pad));
        if let Some(item) = items.get(i) {
            let c = self.start(item, false).or_else(|| self.node_at(item))?;
            let d = self.dash(c)?;
            if !self.starts_line(d) {
                return None;
            }
            let at = self.line_start(d);
            return Some(Edit {
                start: at,
                end: at,
                text: line,
            });
        }
        let (_, end) = self.span(seq, false)?;
        let at = self.line_end(end);
        let mut text = String::new();
        if at == self.text.len() && !self.text.ends_with('\n') {
            text.push_str(self.nl());
        }
        text.push_str(&line);
        Some(Edit {
            start: at,
            end: at,
            text,
        })
    }

    /// The start and end of slot `i` of a container: a map entry from its key to the end
    /// of its value, a list item as its value.
    fn slot(&self, c: &Node, i: usize, flow: bool) -> Option<(usize, usize)> {
        match &c.value {
            Y::Map(entries) => {
                let (k, v) = entries.get(i)?;
                Some((self.key_at(k)?, self.value_end(k, v, flow)?))
            }
            Y::Seq(items) => self.span(items.get(i)?, flow),
            _ => None,
        }
    }

    fn remove(&self, chain: &[Step<'_>], c: &Node, flow: bool, i: usize) -> Option<Edit> {
        let len = match &c.value {
            Y::Map(e) => e.len(),
            Y::Seq(s) => s.len(),
            _ => return None,
        };
        if flow || self.is_flow(c) {
            let (start, end) = self.slot(c, i, true)?;
            if i + 1 < len {
                let (next, _) = self.slot(c, i + 1, true)?;
                return Some(Edit {
                    start,
                    end: next,
                    text: String::new(),
                });
            }
            if i > 0 {
                let (_, prev) = self.slot(c, i - 1, true)?;
                return Some(Edit {
                    start: prev,
                    end,
                    text: String::new(),
                });
            }
            return Some(Edit {
                start,
                end,
                text: String::new(),
            });
        }
        if len == 1 {
            // The collection becomes empty: `[]` / `{}` in its parent's slot.
            let up = chain.last()?;
            let empty = match c.value {
                Y::Map(_) => Value::Object(serde_json::Map::new()),
                _ => Value::Array(Vec::new()),
            };
            return match &up.node.value {
                Y::Map(entries) => {
                    let (k, v) = entries.get(up.slot)?;
                    self.replace_entry(k, v, up.flow, &empty)
                }
                Y::Seq(items) => self.replace_item(items.get(up.slot)?, up.flow, &empty),
                _ => None,
            };
        }
        match &c.value {
            Y::Map(_) => {
                let (start, end) = self.slot(c, i, false)?;
                if self.starts_line(start) {
                    return Some(Edit {
                        start: self.line_start(start),
                        end: self.line_end(end),
                        text: String::new(),
                    });
                }
                // The first key of a list item (`- type: x`): the `- ` stays, the next key
                // moves up.
                let (next, _) = self.slot(c, i + 1, false)?;
                if !self.starts_line(next) {
                    return None;
                }
                Some(Edit {
                    start,
                    end: next,
                    text: String::new(),
                })
            }
            Y::Seq(items) => {
                let item = items.get(i)?;
                let c0 = self.start(item, false).or_else(|| self.node_at(item))?;
                let d = self.dash(c0)?;
                if !self.starts_line(d) {
                    return None;
                }
                let end = match self.span(item, false) {
                    Some((_, e)) => e,
                    None => d + 1,
                };
                Some(Edit {
                    start: self.line_start(d),
                    end: self.line_end(end),
                    text: String::new(),
                })
            }
            _ => None,
        }
    }
}
