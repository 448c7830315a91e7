//! Fast path of the loader for the common manifest subset.
//!
//! Block mappings and sequences (indentless ones too), single-line flow sequences and
//! mappings, single-line plain, single- and double-quoted scalars, comments and blank
//! lines, an optional leading `---`. No tags, anchors or aliases (`!`, `&`, `*` decline),
//! no merge keys, no byte order mark (the caller strips a leading one). It builds the same
//! tree with the same positions as the `yaml-rust2` path and *declines* (returns `None`) on anything else and on anything
//! that could be an error (duplicate keys, limits, tabs, CR, odd characters, empty values,
//! multi-line scalars...), so every error still comes from the one full parser.
//!
//! Position rules mirrored from `yaml-rust2` 0.13: a scalar is at its first character
//! (the quote for quoted ones), an indented block sequence at its first `-`, an indentless
//! one at the content after that `-`, a flow collection at its bracket, and a block mapping
//! at the `:` of its first key. Columns count characters.

use super::{
    Key, Limits, MERGE_KEY, Node, Value, earlier_key, key_name, later_duplicate, resolve_scalar,
};
use yaml_rust2::scanner::TScalarStyle;

/// Parse `text` if it is in the subset; `None` means "use the full parser".
pub(super) fn parse(text: &str, limits: Limits) -> Option<Node> {
    // No early exit, so this vectorises.
    let ascii = text.bytes().fold(true, |ok, b| {
        ok & ((b == b'\n') | (b.wrapping_sub(0x20) < 0x5f))
    });
    if !ascii && !text.chars().all(allowed) {
        return None;
    }
    let mut p = Fast {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        ascii,
        nodes: 0,
        limits,
    };
    let mut ind = p.peek_indent()?;
    if ind == 0 && p.b.starts_with(b"---") && blank_or_end(p.at(3)) {
        p.end_line(3)?;
        ind = p.peek_indent()?;
    }
    let root = p.block(ind, 0)?;
    match p.peek_indent() {
        None => Some(root),
        Some(_) => None,
    }
}

/// Characters the fast path takes as they are (no controls, BOM, line separators).
fn allowed(c: char) -> bool {
    c == '\n'
        || ('\x20'..='\x7e').contains(&c)
        || (('\u{a0}'..='\u{fffd}').contains(&c)
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
        || c >= '\u{10000}'
}

/// Bytes that may end a plain scalar (or need a closer look).
fn stop(c: u8, flow: bool) -> bool {
    matches!(c, b' ' | b':' | b'\n' | 0) || (flow && is_flow(c))
}

fn blank_or_end(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | 0)
}

fn is_flow(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

struct Fast<'a> {
    s: &'a str,
    b: &'a [u8],
    /// Byte offset of the start of the current line.
    pos: usize,
    /// 1-based number of the current line.
    line: u32,
    line_start: usize,
    ascii: bool,
    nodes: usize,
    limits: Limits,
}

impl Fast<'_> {
    /// The byte at `i`; 0 past the end (the text has no NUL, the caller checked).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// 1-based column (in characters) of byte `i` of the current line.
    fn col(&self, i: usize) -> u32 {
        let n = if self.ascii {
            i.saturating_sub(self.line_start)
        } else {
            self.s
                .get(self.line_start..i)
                .map_or(0, |p| p.chars().count())
        };
        u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1)
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.at(i) == b' ' {
            i += 1;
        }
        i
    }

    /// Count one node; `None` past the limit (the full parser reports it).
    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.limits.max_nodes).then_some(())
    }

    /// Count a collection opened inside `depth` others.
    fn enter(&mut self, depth: usize) -> Option<()> {
        self.count()?;
        (depth < self.limits.max_depth).then_some(())
    }

    /// Move to the line after the one holding byte `i`.
    fn next_line(&mut self, i: usize) {
        let rest = self.b.get(i..).unwrap_or_default();
        match rest.iter().position(|&c| c == b'\n') {
            Some(n) => {
                self.pos = i + n + 1;
                self.line = self.line.saturating_add(1);
            }
            None => self.pos = self.b.len(),
        }
        self.line_start = self.pos;
    }

    /// Skip blank and comment-only lines; the indentation of the next content line, or
    /// `None` at the end of the text.
    fn peek_indent(&mut self) -> Option<usize> {
        while self.pos < self.b.len() {
            let i = self.skip_spaces(self.pos);
            match self.at(i) {
                b'\n' | b'#' => self.next_line(i),
                0 => return None,
                _ => return Some(i - self.pos),
            }
        }
        None
    }

    /// After a value ending at `i`: spaces, then the end of the line or a comment.
    fn end_line(&mut self, i: usize) -> Option<()> {
        let j = self.skip_spaces(i);
        match self.at(j) {
            b'\n' | 0 => {}
            b'#' if j > i => {}
            _ => return None,
        }
        self.next_line(j);
        Some(())
    }

    /// A block collection whose first line (the current one) is indented by `ind`.
    fn block(&mut self, ind: usize, depth: usize) -> Option<Node> {
        let i = self.pos + ind;
        if self.at(i) == b'-' && blank_or_end(self.at(i + 1)) {
            self.block_seq(ind, depth, false)
        } else {
            self.block_map(ind, depth)
        }
    }

    fn block_map(&mut self, ind: usize, depth: usize) -> Option<Node> {
        self.enter(depth)?;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut mark = None;
        loop {
            let k = self.pos + ind;
            let (value, end) = self.scalar(k, false)?;
            let colon = self.skip_spaces(end);
            if self.at(colon) != b':' || !blank_or_end(self.at(colon + 1)) || colon - k > 1000 {
                return None;
            }
            self.count()?;
            let name = key_name(value)?;
            let key = Key {
                name,
                line: self.line,
                col: self.col(k),
            };
            // A merge key or a duplicate is the full loader's error.
            if key.name == MERGE_KEY || earlier_key(&entries, &key).is_some() {
                return None;
            }
            if mark.is_none() {
                mark = Some((self.line, self.col(colon)));
            }
            let v = self.value_after(colon + 1, ind, depth + 1)?;
            entries.push((key, v));
            match self.peek_indent() {
                Some(n) if n == ind => {}
                Some(n) if n > ind => return None,
                _ => break,
            }
        }
        let (line, col) = mark?;
        if later_duplicate(&entries).is_some() {
            return None;
        }
        Some(Node {
            value: Value::Map(entries),
            line,
            col,
        })
    }

    /// The value of a mapping entry whose `:` ends before byte `i`.
    fn value_after(&mut self, i: usize, ind: usize, depth: usize) -> Option<Node> {
        let j = self.skip_spaces(i);
        match self.at(j) {
            b'\n' | 0 | b'#' => {
                self.next_line(j);
                match self.peek_indent() {
                    Some(n) if n > ind => self.block(n, depth),
                    Some(n)
                        if n == ind
                            && self.at(self.pos + n) == b'-'
                            && blank_or_end(self.at(self.pos + n + 1)) =>
                    {
                        self.block_seq(n, depth, true)
                    }
                    // An empty value: null at a position we do not mirror.
                    _ => None,
                }
            }
            _ => self.inline(j, ind, depth),
        }
    }

    fn block_seq(&mut self, ind: usize, depth: usize, indentless: bool) -> Option<Node> {
        self.enter(depth)?;
        // An indented sequence is at its first `-`, an indentless one at the content after it.
        let mut mark = (self.line, self.col(self.pos + ind));
        let mut items = Vec::new();
        loop {
            let d = self.pos + ind;
            if self.at(d) != b'-' || self.at(d + 1) != b' ' {
                return None;
            }
            let j = self.skip_spaces(d + 1);
            if matches!(self.at(j), b'\n' | 0 | b'#')
                || (self.at(j) == b'-' && blank_or_end(self.at(j + 1)))
            {
                return None;
            }
            if indentless && items.is_empty() {
                mark.1 = self.col(j);
            }
            // `- key: value` starts a mapping indented to the key.
            let is_key = match self.at(j) {
                b'[' | b'{' => false,
                _ => {
                    let (_, end) = self.scalar(j, false)?;
                    let c = self.skip_spaces(end);
                    self.at(c) == b':' && blank_or_end(self.at(c + 1))
                }
            };
            let item = if is_key {
                self.block_map(j - self.pos, depth + 1)?
            } else {
                self.inline(j, ind, depth + 1)?
            };
            items.push(item);
            match self.peek_indent() {
                Some(n) if n == ind => {
                    let d = self.pos + n;
                    if !(self.at(d) == b'-' && blank_or_end(self.at(d + 1))) {
                        if indentless {
                            break;
                        }
                        return None;
                    }
                }
                Some(n) if n > ind => return None,
                _ => break,
            }
        }
        Some(Node {
            value: Value::Seq(items),
            line: mark.0,
            col: mark.1,
        })
    }

    /// A value that starts at byte `j` and ends on its line, in a block indented by `ind`.
    fn inline(&mut self, j: usize, ind: usize, depth: usize) -> Option<Node> {
        let (line, col) = (self.line, self.col(j));
        let (value, end) = match self.at(j) {
            b'[' => self.flow_seq(j, depth)?,
            b'{' => self.flow_map(j, depth)?,
            _ => {
                self.count()?;
                self.scalar(j, false)?
            }
        };
        self.end_line(end)?;
        // A more indented next line would continue a plain scalar (or be an error).
        if self.peek_indent().is_some_and(|n| n > ind) {
            return None;
        }
        Some(Node { value, line, col })
    }

    /// A node inside a single-line flow collection, at byte `i`, and the byte after it.
    fn flow_node(&mut self, i: usize, depth: usize) -> Option<(Node, usize)> {
        let (line, col) = (self.line, self.col(i));
        let (value, end) = match self.at(i) {
            b'[' => self.flow_seq(i, depth)?,
            b'{' => self.flow_map(i, depth)?,
            _ => {
                self.count()?;
                self.scalar(i, true)?
            }
        };
        Some((Node { value, line, col }, end))
    }

    /// A single-line flow sequence starting at the `[` at byte `k`.
    fn flow_seq(&mut self, k: usize, depth: usize) -> Option<(Value, usize)> {
        self.enter(depth)?;
        let mut items = Vec::new();
        let mut i = self.skip_spaces(k + 1);
        if self.at(i) == b']' {
            return Some((Value::Seq(items), i + 1));
        }
        loop {
            let (node, end) = self.flow_node(i, depth + 1)?;
            items.push(node);
            let j = self.skip_spaces(end);
            match self.at(j) {
                b',' => {
                    i = self.skip_spaces(j + 1);
                    if self.at(i) == b']' {
                        return None;
                    }
                }
                b']' => return Some((Value::Seq(items), j + 1)),
                _ => return None,
            }
        }
    }

    /// A single-line flow mapping (`key: value` entries) starting at the `{` at byte `k`.
    fn flow_map(&mut self, k: usize, depth: usize) -> Option<(Value, usize)> {
        self.enter(depth)?;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut i = self.skip_spaces(k + 1);
        if self.at(i) == b'}' {
            return Some((Value::Map(entries), i + 1));
        }
        loop {
            if matches!(self.at(i), b'[' | b'{') {
                return None;
            }
            let (value, end) = self.scalar(i, true)?;
            self.count()?;
            let c = self.skip_spaces(end);
            if self.at(c) != b':' || self.at(c + 1) != b' ' {
                return None;
            }
            let name = key_name(value)?;
            let key = Key {
                name,
                line: self.line,
                col: self.col(i),
            };
            if key.name == MERGE_KEY || earlier_key(&entries, &key).is_some() {
                return None;
            }
            let v = self.skip_spaces(c + 1);
            if matches!(self.at(v), b',' | b'}') {
                return None;
            }
            let (node, end) = self.flow_node(v, depth + 1)?;
            entries.push((key, node));
            let j = self.skip_spaces(end);
            match self.at(j) {
                b',' => {
                    i = self.skip_spaces(j + 1);
                    if self.at(i) == b'}' {
                        return None;
                    }
                }
                b'}' => {
                    if later_duplicate(&entries).is_some() {
                        return None;
                    }
                    return Some((Value::Map(entries), j + 1));
                }
                _ => return None,
            }
        }
    }

    /// A plain or quoted scalar at byte `k` and the byte after it.
    fn scalar(&self, k: usize, flow: bool) -> Option<(Value, usize)> {
        match self.at(k) {
            q @ (b'\'' | b'"') => self.quoted(k, q).map(|(s, e)| (Value::Str(s), e)),
            _ => {
                let end = self.plain_end(k, flow)?;
                let text = self.s.get(k..end)?;
                Some((resolve_scalar(text.to_owned(), TScalarStyle::Plain), end))
            }
        }
    }

    /// The end of the single-line plain scalar at byte `k` (trailing spaces excluded).
    fn plain_end(&self, k: usize, flow: bool) -> Option<usize> {
        let (c, nc) = (self.at(k), self.at(k + 1));
        match c {
            b'-' if blank_or_end(nc) || (flow && is_flow(nc)) => return None,
            b'?' | b':' if flow || blank_or_end(nc) => return None,
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => return None,
            _ => {}
        }
        if k == self.line_start
            && (self.b.get(k..k + 3) == Some(b"---") || self.b.get(k..k + 3) == Some(b"..."))
        {
            return None;
        }
        let mut i = k + 1;
        let mut end = i;
        loop {
            // Ordinary bytes, the bulk of a scalar, in a tight loop.
            let run = i;
            while self.b.get(i).is_some_and(|&c| !stop(c, flow)) {
                i += 1;
            }
            if i > run {
                end = i;
            }
            let c = self.at(i);
            match c {
                b'\n' | 0 => break,
                b' ' => {
                    i = self.skip_spaces(i);
                    match self.at(i) {
                        b'#' => break,
                        b'-' if flow && is_flow(self.at(i + 1)) => return None,
                        _ => continue,
                    }
                }
                b':' if blank_or_end(self.at(i + 1)) || (flow && is_flow(self.at(i + 1))) => {
                    break;
                }
                _ if flow && is_flow(c) => break,
                _ => {}
            }
            i += 1;
            end = i;
        }
        Some(end)
    }

    /// A single-line quoted scalar at byte `k` (quote `q`): its value and the byte after it.
    fn quoted(&self, k: usize, q: u8) -> Option<(String, usize)> {
        let mut out = String::new();
        let mut i = k + 1;
        let mut run = i;
        loop {
            match self.at(i) {
                b'\n' | 0 => return None,
                b'\'' if q == b'\'' => {
                    if self.at(i + 1) != b'\'' {
                        break;
                    }
                    out.push_str(self.s.get(run..=i)?);
                    i += 2;
                    run = i;
                }
                b'"' if q == b'"' => break,
                b'\\' if q == b'"' => {
                    out.push_str(self.s.get(run..i)?);
                    let (ch, len) = self.escape(i)?;
                    out.push(ch);
                    i += len;
                    run = i;
                }
                _ => i += 1,
            }
        }
        out.push_str(self.s.get(run..i)?);
        Some((out, i + 1))
    }

    /// The escape sequence at the `\` at byte `i`: the character and its length in bytes.
    fn escape(&self, i: usize) -> Option<(char, usize)> {
        let ch = match self.at(i + 1) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            x @ (b'x' | b'u' | b'U') => {
                let n = match x {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let digits = self.s.get(i + 2..i + 2 + n)?;
                if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                    return None;
                }
                let code = u32::from_str_radix(digits, 16).ok()?;
                return Some((char::from_u32(code)?, 2 + n));
            }
            _ => return None,
        };
        Some((ch, 2))
    }
}
