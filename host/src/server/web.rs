//! The demo (`web/demo/`) and the files it imports, served read-only from the web root
//! (the repository's `web/` directory):
//!
//! | URL | file |
//! |---|---|
//! | `/` | `web/demo/index.html` |
//! | `/NAME` | `web/demo/NAME` (`demo.css`, `demo.js`) |
//! | `/src/…` | `web/src/…` (the ESM wrapper and the panel) |
//! | `/dist/…` | `web/dist/…` (the transpiled component and the minified browser build: `npm run build` in `web/`) |
//! | `/examples/NAME` | `examples/NAME` (the example manifest the demo loads) |
//!
//! The demo's relative imports (`../dist/panel.js`, `../../examples/…`) resolve to these
//! URLs when it is served at `/`. Only plain path segments are accepted (no `..`, no
//! hidden files), so nothing outside those directories can be read.

use std::path::{Path, PathBuf};

/// The file for a request path, if it maps to one.
pub(crate) fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let path = path.trim_start_matches('/');
    let segments: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    };
    if !segments.iter().all(|s| safe_segment(s)) {
        return None;
    }
    let (base, rest): (PathBuf, &[&str]) = match segments.as_slice() {
        [] => return Some(root.join("demo").join("index.html")),
        [file] => (root.join("demo"), std::slice::from_ref(file)),
        ["src", rest @ ..] => (root.join("src"), rest),
        ["dist", rest @ ..] => (root.join("dist"), rest),
        ["examples", file] => (root.parent()?.join("examples"), std::slice::from_ref(file)),
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    let mut file = base;
    for s in rest {
        file.push(s);
    }
    Some(file)
}

fn safe_segment(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The content type of a file, by extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "map" => "application/json",
        "json" => "application/json",
        "yaml" | "yml" => "text/yaml; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// The web root to serve: the configured one, else `./web`, else the repository's `web/`
/// next to the crate this binary was built from (if they hold `demo/index.html`).
pub(crate) fn default_root() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("web"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("web"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("demo").join("index.html").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let root = Path::new("/r/web");
        assert_eq!(
            resolve(root, "/"),
            Some(PathBuf::from("/r/web/demo/index.html"))
        );
        assert_eq!(
            resolve(root, "/demo.js"),
            Some(PathBuf::from("/r/web/demo/demo.js"))
        );
        assert_eq!(
            resolve(root, "/src/panel.js"),
            Some(PathBuf::from("/r/web/src/panel.js"))
        );
        assert_eq!(
            resolve(root, "/dist/component/microvet.js"),
            Some(PathBuf::from("/r/web/dist/component/microvet.js"))
        );
        assert_eq!(
            resolve(root, "/examples/a.yaml"),
            Some(PathBuf::from("/r/examples/a.yaml"))
        );
        for bad in [
            "/../etc/passwd",
            "/src/../../x",
            "/.git/config",
            "/src/",
            "/a/b",
            "/src//x",
            "/%2e%2e/x",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }
}
