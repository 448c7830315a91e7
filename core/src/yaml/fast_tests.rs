//! The fast path must build exactly what the full loader builds, or decline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use super::{Limits, fast, parse_full};
use proptest::prelude::*;
use std::path::Path;

/// Fast path == full loader (tree and positions), or the fast path declined.
/// Returns whether the fast path took the document.
fn same(text: &str) -> bool {
    let Some(f) = fast::parse(text, Limits::MANIFEST) else {
        return false;
    };
    match parse_full(text, Limits::MANIFEST) {
        Ok(full) => assert_eq!(format!("{f:?}"), format!("{full:?}"), "{text:?}"),
        Err(e) => panic!("fast path took a document the full loader refuses ({e:?}): {text:?}"),
    }
    true
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn repository_documents_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    for d in ["examples", "policies", "tests/corpus"] {
        files(&root.join(d), &mut all);
    }
    assert!(all.len() > 30);
    let mut taken = Vec::new();
    for p in &all {
        let text = std::fs::read_to_string(p).unwrap();
        if same(&text) {
            taken.push(p.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    // Manifests like the example must take the fast path. (The policies use folded
    // scalars and multi-line flow collections: they are parsed once, by the full loader.)
    assert!(taken.len() >= 25, "{} taken: {taken:?}", taken.len());
    for must in [
        "examples/hr-onboarding-helper.yaml",
        "tests/corpus/hr-onboarding-helper/input.yaml",
    ] {
        assert!(
            taken.iter().any(|t| t == must),
            "{must} declined; took {taken:?}"
        );
    }
}

#[test]
fn declines_what_it_does_not_mirror() {
    for doc in [
        "",
        "a:\n",
        "a: 1\na: 2\n",
        "a: b\n  c\n",
        "a: |\n  x\n",
        "a: &x 1\nb: *x\n",
        "a: 1\n---\nb: 2\n",
        "a:\tb\n",
        "a: 1\r\n",
        "a: [1,\n 2]\n",
        "- - a\n",
        "a: 'x\n  y'\n",
        "\u{feff}a: 1\n",
        "a: {b: 1\n  }\n",
        "a: [b: 1]\n",
    ] {
        assert!(fast::parse(doc, Limits::MANIFEST).is_none(), "{doc:?}");
    }
    let deep = (0..70).fold(String::new(), |mut s, i| {
        s.push_str(&" ".repeat(i));
        s.push_str("a:\n");
        s
    }) + &" ".repeat(70)
        + "b: 1\n";
    assert!(fast::parse(&deep, Limits::MANIFEST).is_none());
}

/// Merge keys, tags, anchors, aliases and a byte order mark are the full loader's: the
/// fast path declines them, so the two loaders cannot disagree on them.
#[test]
fn declines_merge_keys_tags_aliases_and_bom() {
    for (doc, refused) in [
        ("<<: {a: 1}\n", true),
        ("a: 1\n<<: {b: 1}\n", true),
        ("'<<': {a: 1}\n", true),
        ("\"<<\": {a: 1}\n", true),
        ("a: {<<: {b: 1}}\n", true),
        ("a:\n  <<: [x]\n", true),
        ("- <<: x\n", true),
        ("{\"a\": 1, \"<<\": {\"b\": 2}}\n", true),
        ("a: !!int 5\n", false),
        ("a: !!str 5\n", false),
        ("a: !!binary eA==\n", true),
        ("a: !x 5\n", true),
        ("a: !!seq [x]\n", false),
        ("a: [!!str 5]\n", false),
        ("a: &x 1\nb: *x\n", false),
        ("a: [&x 1, *x]\n", false),
        ("\u{feff}a: 1\n", false),
    ] {
        assert!(fast::parse(doc, Limits::MANIFEST).is_none(), "{doc:?}");
        assert_eq!(
            parse_full(doc, Limits::MANIFEST).is_err(),
            refused,
            "{doc:?}"
        );
    }
    // `<<` as a value, or inside a longer key, is ordinary text.
    for doc in ["a: <<\n", "a: [<<]\n", "<<<: x\n", "a<<: x\n"] {
        assert!(same(doc), "declined {doc:?}");
    }
}

/// Past the scan threshold the duplicate check sorts the keys of the complete mapping: the
/// fast path still takes large mappings, still builds what the full loader builds, and
/// still declines a repeat (which the full loader reports).
#[test]
fn large_mappings_match_and_repeats_decline() {
    for n in [15, 16, 17, 40, 300] {
        let block: String = (0..n).map(|i| format!("k{i}: {i}\n")).collect();
        let flow = format!(
            "a: {{{}}}\n",
            (0..n)
                .map(|i| format!("k{i}: {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(same(&block), "{n}");
        assert!(same(&flow), "{n}");
        for dup in [0, n / 2, n - 1] {
            let block = format!("{block}k{dup}: x\n");
            let flow = flow.replace("}\n", &format!(", k{dup}: x}}\n"));
            for doc in [block, flow] {
                assert!(fast::parse(&doc, Limits::MANIFEST).is_none(), "{doc}");
                let e = parse_full(&doc, Limits::MANIFEST).unwrap_err();
                assert!(
                    e.message.contains(&format!("duplicate key `k{dup}`")),
                    "{e:?}"
                );
            }
        }
    }
}

#[test]
fn takes_the_subset() {
    for doc in [
        "a: 1\n",
        "---\na: 1\n",
        "# c\n\na: 'it''s' # c\nb: \"\\u00e9\\n\"\n",
        "a:\n- x\n- y: 1\n  z: [p, 'q', \"r\"]\nb: []\n",
        "a:\n  b:\n    - 1\n    - 0x1F\n  c: ~\n",
        "- a\n- b: c\n",
        "'k: v': x\n\"#\": y\nk:v: z\n",
        "é: ü\nx: 日本 # c\n",
        "a: [{ b: c, d: [e] }, {}]\nf: {g: 'h'}\n",
    ] {
        assert!(same(doc), "declined {doc:?}");
    }
}

const SCALARS: &[&str] = &[
    "yes",
    "no",
    "0x1F",
    "0o17",
    "1e3",
    "~",
    "null",
    "Null",
    ".inf",
    "-.inf",
    ".nan",
    "'it''s'",
    "\"\\u00e9\"",
    "\"a: b\"",
    "'# x'",
    "a#b",
    "a # b",
    "true",
    "False",
    "-1",
    "+1",
    "1.5",
    "1_000",
    "0.",
    "-",
    "--",
    "?x",
    ":x",
    "a:b",
    "http://x:80/p?q=1#f",
    "é",
    "日本",
    "\"\\x41\"",
    "\"\\t\"",
    "'a  '",
    "\"\"",
    "''",
    "[a]",
    "[]",
    "[a, 'b', \"c\"]",
    "[x:y, 1]",
    "a b  c",
    "\"\\q\"",
    "\"\\ud800\"",
    "'",
    "\"",
    "*x",
    "&x y",
    "!t",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "{}",
    "-x",
    "[-x]",
    "[a,]",
    "[a b, c d]",
    "[a #b]",
    "x\ty",
    "1e",
    "0x",
    "-0",
    "007",
    "+.inf",
    "---",
    "...",
    "{a: 1}",
    "{ a: [x, y], 'b': \"c\" }",
    "{}",
    "{a: }",
    "{a:b}",
    "{a}",
    "[{a: 1}, {b: 2}]",
    "{a: {b: c}}",
    "{a: 1, a: 2}",
    "[{a: 1},]",
    "{\"a\":1}",
    "{a : b}",
    "[[a], [b, [c]]]",
    "{a: b: c}",
    "{? a: b}",
    "{a: -}",
    "{-a: x, y: z}",
    "a\u{a0}b",
    "\"\\N\\_\\L\\P\"",
    "\"\\U0001F600\"",
    "'a\"b'",
    "\"a'b\"",
    "<<",
    "'<<'",
    "\"<<\"",
    "<<<",
    "{<<: x}",
    "!!int 5",
    "!!str 5",
    "!x 5",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(SCALARS).prop_map(str::to_owned),
        "[a-z][a-z0-9_.-]{0,8}",
        "[ -~]{0,12}",
        "[a-zé:# -]{1,6}",
    ]
}

#[derive(Debug, Clone)]
enum Tree {
    Leaf(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = scalar().prop_map(Tree::Leaf);
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..5).prop_map(Tree::Seq),
            prop::collection::vec((scalar(), inner), 1..5).prop_map(Tree::Map),
        ]
    })
}

/// Render with formatting choices drawn from `bits`.
struct Render<'a> {
    bits: &'a [u8],
    i: usize,
    out: String,
}

impl Render<'_> {
    fn bit(&mut self) -> u8 {
        let b = self
            .bits
            .get(self.i % self.bits.len().max(1))
            .copied()
            .unwrap_or(0);
        self.i += 1;
        b
    }

    fn eol(&mut self) {
        match self.bit() % 8 {
            0 => self.out.push_str("  # note: x"),
            1 => self.out.push_str("   "),
            2 => self.out.push('\n'),
            3 => self.out.push_str("\n   # c"),
            _ => {}
        }
        self.out.push('\n');
    }

    fn node(&mut self, t: &Tree, indent: usize, in_map: bool) {
        match t {
            Tree::Leaf(s) => {
                self.out.push(' ');
                self.out.push_str(s);
                self.eol();
            }
            Tree::Seq(items) => {
                self.eol();
                let step = usize::from(self.bit() % 4);
                let ind = if in_map && step == 0 {
                    indent
                } else {
                    indent + step.max(1)
                };
                for it in items {
                    self.out.push_str(&" ".repeat(ind));
                    self.out.push('-');
                    self.item(it, ind);
                }
            }
            Tree::Map(entries) => {
                self.eol();
                let ind = indent + 1 + usize::from(self.bit() % 3);
                self.map(entries, ind);
            }
        }
    }

    fn map(&mut self, entries: &[(String, Tree)], ind: usize) {
        for (k, v) in entries {
            self.out.push_str(&" ".repeat(ind));
            self.out.push_str(k);
            self.out.push(':');
            self.node(v, ind, true);
        }
    }

    fn item(&mut self, t: &Tree, ind: usize) {
        match t {
            Tree::Map(entries) if self.bit().is_multiple_of(2) => {
                let gap = 1 + usize::from(self.bit() % 3);
                self.out.push_str(&" ".repeat(gap));
                let mut first = true;
                for (k, v) in entries {
                    if !first {
                        self.out.push_str(&" ".repeat(ind + 1 + gap));
                    }
                    first = false;
                    self.out.push_str(k);
                    self.out.push(':');
                    self.node(v, ind + 1 + gap, true);
                }
            }
            _ => self.node(t, ind, false),
        }
    }
}

fn render(t: &Tree, bits: &[u8]) -> String {
    let mut r = Render {
        bits,
        i: 0,
        out: String::new(),
    };
    if r.bit().is_multiple_of(3) {
        r.out.push_str("---\n");
    }
    match t {
        Tree::Map(entries) => r.map(entries, 0),
        Tree::Seq(_) => r.node(t, 0, false),
        Tree::Leaf(s) => r.out.push_str(s),
    }
    r.out
}

const NOISE: &[&str] = &[
    " ", "  ", "\t", "#", ":", ": ", "-", "- ", "\n", "'", "\"", "[", "]", ",", "\r", "{", "&",
    "*", "|", ">", "!", "%", "é", "\u{feff}", "\\", "---\n", "\x01", "\u{85}",
];

fn mutate(mut s: String, edits: &[(usize, usize, bool)]) -> String {
    for &(at, what, delete) in edits {
        if s.is_empty() {
            break;
        }
        let mut at = at % s.len();
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        if delete {
            s.remove(at);
        } else {
            s.insert_str(at, NOISE[what % NOISE.len()]);
        }
    }
    s
}

/// Run `CASES` documents built by `doc` from `strategy` through [`same`] (a proptest run,
/// with shrinking and the saved seeds) and return how many the fast path took: a run in
/// which the fast path declines everything would compare nothing.
fn taken_of<S>(strategy: S, doc: impl Fn(S::Value) -> String) -> u32
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let config = ProptestConfig {
        cases: CASES,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    };
    let taken = std::cell::Cell::new(0u32);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |v| {
        if same(&doc(v)) {
            taken.set(taken.get() + 1);
        }
        Ok(())
    }) {
        panic!("{e}");
    }
    taken.get()
}

const CASES: u32 = 6000;

#[test]
fn fast_path_matches_full_loader() {
    let strategy = (
        tree(),
        prop::collection::vec(any::<u8>(), 1..32),
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 0..3),
    );
    let taken = taken_of(strategy, |(t, bits, edits)| {
        mutate(render(&t, &bits), &edits)
    });
    // About 13% are taken (most mutations leave the subset): at least 400 compared.
    assert!(
        taken >= 400,
        "the fast path took {taken} of {CASES} documents"
    );
}

#[test]
fn fast_path_matches_on_flat_manifests() {
    let strategy = (
        prop::collection::vec((scalar(), scalar(), 0u8..6), 1..8),
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 0..2),
    );
    let taken = taken_of(strategy, |(entries, edits)| {
        let mut doc = String::new();
        for (k, v, style) in &entries {
            match style {
                0 => doc.push_str(&format!("{k}: {v}\n")),
                1 => doc.push_str(&format!("{k}:\n  - {v}\n  - {k}\n")),
                2 => doc.push_str(&format!("{k}:\n- {v}: {k}\n  x: {v}\n")),
                3 => doc.push_str(&format!("{k}: [{v}, {k}]   # {v}\n")),
                4 => doc.push_str(&format!("{k}:\n  {v}: {k}\n\n")),
                _ => doc.push_str(&format!("{k}:{v}\n")),
            }
        }
        mutate(doc, &edits)
    });
    // About 8% are taken (a `k:v` entry or noise makes most decline): at least 250.
    assert!(
        taken >= 250,
        "the fast path took {taken} of {CASES} documents"
    );
}

/// At the node and depth limits the fast path agrees with the full loader: it takes
/// exactly the documents the full loader accepts and declines the rest (which then
/// fail in the full loader with the limit error).
#[test]
fn limits_agree_at_the_boundary() {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 4,
        max_nodes: 20,
    };
    for n in 10..25 {
        let doc = format!("a: [{}x]\n", "x, ".repeat(n));
        let full = parse_full(&doc, limits);
        let fast = fast::parse(&doc, limits);
        assert_eq!(fast.is_some(), full.is_ok(), "{n}");
        if let (Some(f), Ok(full)) = (fast, full) {
            assert_eq!(format!("{f:?}"), format!("{full:?}"));
        }
    }
    for d in 1..8 {
        let block = (0..d).fold(String::new(), |mut s, i| {
            s.push_str(&" ".repeat(i));
            s.push_str("a:\n");
            s
        }) + &" ".repeat(d)
            + "b: 1\n";
        let flow = "a: ".to_string() + &"[".repeat(d) + "1" + &"]".repeat(d) + "\n";
        for doc in [block, flow] {
            let full = parse_full(&doc, limits);
            assert_eq!(fast::parse(&doc, limits).is_some(), full.is_ok(), "{doc}");
        }
    }
}
