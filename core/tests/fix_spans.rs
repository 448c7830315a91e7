//! Every fix of every corpus case, applied on its own to the manifest's text
//! (`apply_fix`): the result reads back as exactly the patched data, vets like the patched
//! data, keeps every comment, and changes only the lines of the node it names.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::fix::{apply_fix, apply_fixes};
use microvet_core::yaml::{self, Limits, Node, Value as Y};
use microvet_core::{Fix, Policy, Verdict};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

fn parse(text: &str) -> Node {
    yaml::parse(text, Limits::MANIFEST).unwrap()
}

/// The data the fix gives, applied to the document's data (RFC 6902, the core's leniency:
/// `replace` of a missing member adds it).
fn patched(text: &str, fix: &Fix) -> Value {
    let mut doc = parse(text).to_json();
    if doc.is_null() {
        doc = json!({});
    }
    let (parent, last) = fix.path.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    let p = doc.pointer_mut(parent).unwrap();
    match (fix.op, p) {
        ("remove", Value::Array(a)) => {
            a.remove(last.parse().unwrap());
        }
        ("remove", Value::Object(m)) => {
            m.shift_remove(&last).unwrap();
        }
        ("replace", Value::Array(a)) => {
            a[last.parse::<usize>().unwrap()] = fix.value.clone().unwrap()
        }
        ("add", Value::Array(a)) if last == "-" => a.push(fix.value.clone().unwrap()),
        ("add", Value::Array(a)) => a.insert(last.parse().unwrap(), fix.value.clone().unwrap()),
        (_, Value::Object(m)) => {
            m.insert(last, fix.value.clone().unwrap());
        }
        (op, _) => panic!("{op} {}", fix.path),
    }
    doc
}

/// What a verdict says, without what depends on the layout (lines, hash).
fn meaning(v: &Verdict) -> String {
    let findings: BTreeSet<String> = v
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {} {} {:?}",
                f.rule, f.severity, f.path, f.message, f.fix
            )
        })
        .collect();
    format!(
        "{:?} {:?} {findings:?} {:?}",
        v.decision, v.risk, v.controls
    )
}

/// The 1-based lines a node and everything under it are written on.
fn lines_of(n: &Node, out: &mut BTreeSet<u32>) {
    out.insert(n.line);
    match &n.value {
        Y::Seq(items) => items.iter().for_each(|i| lines_of(i, out)),
        Y::Map(entries) => {
            for (k, v) in entries {
                out.insert(k.line);
                lines_of(v, out);
            }
        }
        _ => {}
    }
}

/// The lines of `old` that `new` does not keep: what is left once the common leading and
/// trailing lines are taken away (1-based line numbers of `old`).
fn changed_lines(old: &str, new: &str) -> std::ops::Range<usize> {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    prefix + 1..a.len() - suffix + 1
}

#[test]
fn every_corpus_fix_is_an_edit_at_its_span() {
    let policy = Policy::builtin().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut applied = 0;
    let mut with_comments = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for case in entries {
        let Some(input) = ["input.yaml", "input.json"]
            .iter()
            .map(|f| case.join(f))
            .find(|p| p.exists())
        else {
            continue;
        };
        let text = std::fs::read_to_string(&input).unwrap();
        let Ok(verdict) = policy.vet(&text) else {
            continue;
        };
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let root = parse(&text);
        let json = input.extension().unwrap() == "json";
        let comments: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        for f in verdict.findings.iter().filter_map(|f| f.fix.as_ref()) {
            // A fix of an item of a field written in another shape applies after the fix
            // that writes the field as a list (`microvet fix` orders them so).
            let Some(parent) = root.pointer(f.path.rsplit_once('/').unwrap().0) else {
                continue;
            };
            if !matches!(parent.value, Y::Seq(_) | Y::Map(_))
                && !f.path.rsplit_once('/').unwrap().0.is_empty()
            {
                continue;
            }
            let out = apply_fix(&text, f).unwrap_or_else(|e| panic!("{name} {}: {e:?}", f.path));
            let want = patched(&text, f);
            assert_eq!(
                parse(&out).to_json(),
                want,
                "{name} {} {}:\n{out}",
                f.op,
                f.path
            );
            if json {
                let back: Value = serde_json::from_str(&out)
                    .unwrap_or_else(|e| panic!("{name} {}: not JSON ({e}):\n{out}", f.path));
                assert_eq!(back, want, "{name}");
            }
            // The fixed text vets as the patched data does.
            let as_json = serde_json::to_string_pretty(&want).unwrap();
            assert_eq!(
                meaning(&policy.vet(&out).unwrap()),
                meaning(&policy.vet(&as_json).unwrap()),
                "{name} {}:\n{out}",
                f.path
            );
            for c in &comments {
                assert!(
                    out.contains(c),
                    "{name} {}: lost the comment {c:?}:\n{out}",
                    f.path
                );
            }
            // Only the lines of the node it names (or, for a new member, none of the old
            // lines but the one it is added after) change.
            let mut allowed = BTreeSet::new();
            match root.pointer(&f.path) {
                Some(target) => {
                    lines_of(target, &mut allowed);
                    if let (Y::Map(entries), Some(last)) =
                        (&parent.value, f.path.rsplit('/').next())
                        && let Some((k, _)) = entries.iter().find(|(k, _)| k.name == last)
                    {
                        allowed.insert(k.line);
                    }
                }
                None => {
                    let last = text.lines().count() as u32;
                    allowed.insert(last);
                }
            }
            // A flow collection is one line: an edit in it changes that line.
            if matches!(parent.value, Y::Seq(_) | Y::Map(_))
                && !f.path.rsplit_once('/').unwrap().0.is_empty()
            {
                let pl = parent.line;
                let pc = text.lines().nth(pl as usize - 1).unwrap_or("");
                if pc.contains('[') || pc.contains('{') {
                    lines_of(parent, &mut allowed);
                }
            }
            // The collection emptied by removing its one item is written `[]` after its key.
            if f.op == "remove" && parent.line > 1 {
                allowed.insert(parent.line - 1);
                lines_of(parent, &mut allowed);
            }
            let changed = changed_lines(&text, &out);
            for l in changed.clone() {
                assert!(
                    allowed.contains(&(l as u32)),
                    "{name} {} {}: line {l} changed (allowed {allowed:?}, changed {changed:?}):\n{out}",
                    f.op,
                    f.path
                );
            }
            applied += 1;
            if !comments.is_empty() {
                with_comments += 1;
            }
        }
    }
    assert!(
        applied >= 30 && with_comments >= 10,
        "{applied} fixes, {with_comments} in commented manifests"
    );
}

#[test]
fn comments_quotes_and_layout_stay_in_yaml() {
    let text = "# header\nname: app   # the slug\noauth_scopes: [openid, profile]  # scopes\ndata_access:\n  - type: user.profile\n    access: read\n  - type: hr.employee_records\nclient:\n  redirect_uris:\n    - 'https://a.example.com/cb'   # first\n    - http://b.example.com/cb\n  grant_types: [authorization_code]\n";
    let fix = |op: &'static str, path: &str, value: Option<Value>| Fix {
        op,
        path: path.into(),
        value,
        description: String::new(),
    };
    for (f, expect) in [
        (
            fix("replace", "/name", Some(json!("new-name"))),
            "name: new-name   # the slug\n",
        ),
        (
            fix("replace", "/oauth_scopes/1", Some(json!("email"))),
            "oauth_scopes: [openid, email]  # scopes\n",
        ),
        (
            fix("add", "/oauth_scopes/-", Some(json!("hr.read_only"))),
            "oauth_scopes: [openid, profile, hr.read_only]  # scopes\n",
        ),
        (
            fix("add", "/oauth_scopes/0", Some(json!("x"))),
            "oauth_scopes: [x, openid, profile]  # scopes\n",
        ),
        (
            fix("remove", "/oauth_scopes/0", None),
            "oauth_scopes: [profile]  # scopes\n",
        ),
        (
            fix("remove", "/oauth_scopes/1", None),
            "oauth_scopes: [openid]  # scopes\n",
        ),
        (
            fix(
                "replace",
                "/client/redirect_uris/1",
                Some(json!("https://b.example.com/cb")),
            ),
            "    - 'https://a.example.com/cb'   # first\n    - https://b.example.com/cb\n",
        ),
        (
            fix(
                "add",
                "/client/redirect_uris/-",
                Some(json!("https://c.example.com/cb")),
            ),
            "    - http://b.example.com/cb\n    - https://c.example.com/cb\n  grant_types",
        ),
        (
            fix("add", "/client/refresh_token_rotation", Some(json!(true))),
            "  grant_types: [authorization_code]\n  refresh_token_rotation: true\n",
        ),
        (
            fix(
                "add",
                "/instrumentation",
                Some(json!({"audit_log": "siem://corp/app", "contact": "a@example.com"})),
            ),
            "instrumentation:\n  audit_log: siem://corp/app\n  contact: a@example.com\n",
        ),
        (
            fix(
                "add",
                "/data_access/-",
                Some(json!({"type": "files.documents", "access": "write"})),
            ),
            "  - type: hr.employee_records\n  - type: files.documents\n    access: write\nclient:",
        ),
        (
            fix("replace", "/data_access/0/access", Some(json!("write"))),
            "    access: write\n",
        ),
        (
            fix("remove", "/data_access/0/type", None),
            "  - access: read\n  - type: hr",
        ),
        (
            fix("remove", "/data_access/1", None),
            "    access: read\nclient:\n",
        ),
        (
            fix(
                "replace",
                "/client/grant_types",
                Some(json!(["authorization_code", "refresh_token"])),
            ),
            "  grant_types: [authorization_code, refresh_token]\n",
        ),
        (
            fix("replace", "/data_access", Some(json!([]))),
            "data_access: []\nclient:",
        ),
    ] {
        let out = apply_fix(text, &f).unwrap();
        assert!(out.starts_with("# header\nname: "), "{}: {out}", f.path);
        assert!(
            out.contains("'https://a.example.com/cb'   # first")
                || f.path == "/client/redirect_uris/0",
            "{}: {out}",
            f.path
        );
        assert!(
            out.contains(expect),
            "{} {}: want {expect:?} in\n{out}",
            f.op,
            f.path
        );
        assert_eq!(parse(&out).to_json(), patched(text, &f), "{}", f.path);
    }
    // The one item of a block list goes: the list is written `[]`.
    let one = "redirect_uris:\n  - https://a.example.com/cb  # only\nname: x\n";
    let out = apply_fix(one, &fix("remove", "/redirect_uris/0", None)).unwrap();
    assert_eq!(out, "redirect_uris: []  # only\nname: x\n");
    // An empty document, or one with only comments: the member follows them.
    let out = apply_fix(
        "# nothing yet\n",
        &fix("add", "/expiry_days", Some(json!(30))),
    )
    .unwrap();
    assert_eq!(out, "# nothing yet\nexpiry_days: 30\n");
    // A leading byte order mark stays.
    let out = apply_fix("\u{feff}a: 1 # c\n", &fix("replace", "/a", Some(json!(2)))).unwrap();
    assert_eq!(out, "\u{feff}a: 2 # c\n");
}

#[test]
fn json_stays_json_with_its_layout() {
    let text = "{\n  \"name\": \"a\",\n  \"oauth_scopes\": [\"openid\", \"hr.write\"],\n  \"client\": {\"grant_types\": [\"implicit\"]}\n}\n";
    let fix = |op: &'static str, path: &str, value: Option<Value>| Fix {
        op,
        path: path.into(),
        value,
        description: String::new(),
    };
    for (f, expect) in [
        (
            fix("replace", "/name", Some(json!("b: c"))),
            "  \"name\": \"b: c\",\n",
        ),
        (fix("remove", "/oauth_scopes/1", None), "[\"openid\"]"),
        (
            fix("add", "/expiry_days", Some(json!(30))),
            "{\"grant_types\": [\"implicit\"]},\n  \"expiry_days\": 30\n}\n",
        ),
        (
            fix("add", "/client/x", Some(json!({"k": [1, "two"]}))),
            "{\"grant_types\": [\"implicit\"], \"x\": {\"k\":[1,\"two\"]}}",
        ),
        (
            fix("remove", "/client/grant_types", None),
            "\"client\": {}\n",
        ),
        (fix("remove", "/name", None), "{\n  \"oauth_scopes\""),
    ] {
        let out = apply_fix(text, &f).unwrap();
        let back: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}\n{out}", f.path));
        assert_eq!(back, patched(text, &f), "{}", f.path);
        assert!(
            out.contains(expect),
            "{} {}: want {expect:?} in\n{out}",
            f.op,
            f.path
        );
    }
}

#[test]
fn where_a_span_edit_is_impossible_the_document_is_written_again() {
    let fix = |op: &'static str, path: &str, value: Option<Value>| Fix {
        op,
        path: path.into(),
        value,
        description: String::new(),
    };
    for (text, f) in [
        // An anchored value that an alias repeats: editing it would change both.
        (
            "a: &x [1, 2] # c\nc: *x\n",
            fix("replace", "/a/0", Some(json!(5))),
        ),
        // A block scalar.
        (
            "# c\npurpose: |\n  two\n  lines\nname: x\n",
            fix("replace", "/purpose", Some(json!("one line"))),
        ),
        // The one entry of the top-level mapping.
        ("# c\nname: x\n", fix("remove", "/name", None)),
    ] {
        let fixed = apply_fixes(text, std::slice::from_ref(&f)).unwrap();
        assert!(fixed.rewritten, "{text:?} {}: {}", f.path, fixed.manifest);
        assert_eq!(fixed.applied.len(), 1);
        assert_eq!(
            parse(&fixed.manifest).to_json(),
            patched(text, &f),
            "{text:?}"
        );
    }
    // Replacing the alias itself is an edit at its span; so is a change inside the value
    // it repeats (which has no text of its own): the alias becomes the new value.
    let text = "a: &x [1, 2]\nc: *x # c\n";
    let out = apply_fix(text, &fix("replace", "/c", Some(json!([3])))).unwrap();
    assert_eq!(out, "a: &x [1, 2]\nc: [3] # c\n");
    let text = "a: &x {b: [1, 2]}\nc: *x # c\n";
    let out = apply_fix(text, &fix("remove", "/c/b/0", None)).unwrap();
    assert_eq!(out, "a: &x {b: [1, 2]}\nc: {b: [2]} # c\n");
}

#[test]
fn a_fix_that_does_not_apply_is_an_error() {
    let f = Fix {
        op: "add",
        path: "/missing/x".into(),
        value: Some(json!(1)),
        description: String::new(),
    };
    assert!(apply_fix("a: 1\n", &f).is_err());
    assert!(
        apply_fix(
            "a: [1\n",
            &Fix {
                path: "/a".into(),
                ..f.clone()
            }
        )
        .is_err()
    );
    let fixed = apply_fixes("a: 1 # c\n", &[f]).unwrap();
    assert!(fixed.applied.is_empty());
    assert_eq!(fixed.manifest, "a: 1 # c\n");
}

#[test]
fn more_fixes_than_the_limit_are_refused() {
    let f = Fix {
        op: "replace",
        path: "/a".into(),
        value: Some(json!(2)),
        description: String::new(),
    };
    let many = vec![f.clone(); microvet_core::fix::MAX_FIXES + 1];
    let e = apply_fixes("a: 1\n", &many).unwrap_err();
    assert_eq!(e.code, microvet_core::ErrorCode::Limit);
    assert!(e.message.contains("more than 1000 fixes"), "{e:?}");
    let fixed = apply_fixes("a: 1\n", &many[1..]).unwrap();
    assert_eq!(fixed.manifest, "a: 2\n");
}

#[test]
fn a_fix_from_its_parts_is_checked() {
    use microvet_core::fix::fix_from_parts;
    let f = fix_from_parts(
        "add",
        "/x".into(),
        Some("[1, {\"k\": \"v\"}]"),
        String::new(),
    )
    .unwrap();
    assert_eq!(f.value, Some(json!([1, {"k": "v"}])));
    for (op, path, value) in [
        ("move", "/x", Some("1")),
        ("add", "x", Some("1")),
        ("add", "/x", None),
        ("replace", "/x", Some("[1,")),
    ] {
        let e = fix_from_parts(op, path.into(), value, String::new()).unwrap_err();
        assert_eq!(
            e.code,
            microvet_core::ErrorCode::InvalidArgument,
            "{op} {path} {value:?}"
        );
    }
    assert!(fix_from_parts("remove", "/x".into(), None, String::new()).is_ok());
}
