//! What the tests of `microvet serve` share: the built binary started as a child process on
//! 127.0.0.1:0, a compiled-code cache warmed once per test binary, and a minimal HTTP/1.1
//! client (one request per connection, `Content-Length` always sent).
//!
//! Each test binary that declares `mod common;` uses part of it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use microvet::{Vetter, VetterOptions};

pub const BIN: &str = env!("CARGO_BIN_EXE_microvet");
pub const MANIFEST: &str = include_str!("../../../examples/hr-onboarding-helper.yaml");

/// The ID of the rule with exactly this ID: a test that asserts a rule is silent names it
/// through here, so a misspelt ID fails the test instead of never matching.
pub fn rule(id: &str) -> &'static str {
    match microvet_core::rules::find(id) {
        Some(r) if r.id == id => r.id,
        _ => panic!("`{id}` is not the ID of a rule in the catalogue"),
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A compiled-code cache shared by every server of this test binary, warmed once.
pub fn cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new(BIN)
            .args(["pkce", "--length", "43"])
            .env("MICROVET_CACHE_DIR", dir.path())
            .output()
            .expect("run microvet");
        assert!(out.status.success(), "{out:?}");
        dir
    })
    .path()
}

/// The reference: the embedding API with the built-in policy.
pub fn vetter() -> &'static Vetter {
    static V: OnceLock<Vetter> = OnceLock::new();
    V.get_or_init(|| {
        Vetter::new(VetterOptions {
            cache_dir: Some(cache().to_path_buf()),
            ..VetterOptions::default()
        })
        .expect("vetter")
    })
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `microvet serve` as a child process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `microvet serve --listen 127.0.0.1:0 --log-format json --web web/ ARGS…`.
    pub fn start(args: &[&str]) -> Server {
        let web = repo().join("web");
        let mut all = vec!["--web", web.to_str().unwrap()];
        all.extend_from_slice(args);
        Server::start_bare(&all)
    }

    /// `microvet serve --listen 127.0.0.1:0 --log-format json ARGS…` (no static files).
    pub fn start_bare(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr = dir.path().join("stderr.log");
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .env("MICROVET_CACHE_DIR", cache())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start microvet serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        let Some(addr) = line.trim().strip_prefix("microvet: listening on http://") else {
            let _ = child.kill();
            panic!(
                "the server did not start: {line:?}\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        };
        Server {
            child,
            addr: addr.parse().unwrap(),
            stderr,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// What the server wrote to stderr so far (its log).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(self.addr, method, path, headers, body)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.call("GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Resp {
        self.call("POST", path, &[], body)
    }

    /// A POST with `Content-Type: TYPE`, or none.
    pub fn post_typed(&self, path: &str, content_type: Option<&str>, body: &[u8]) -> Resp {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("Content-Type", t))
            .into_iter()
            .collect();
        self.call("POST", path, &headers, body)
    }

    pub fn post_json(&self, path: &str, body: &str) -> Resp {
        self.post_typed(path, Some("application/json"), body.as_bytes())
    }

    /// The value of one metric sample (`name{labels}` exactly as exposed).
    pub fn metric(&self, sample: &str) -> f64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {sample} in\n{text}"))
            .parse()
            .unwrap()
    }

    /// Waits for the process to exit (after a signal).
    pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "the server did not exit\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {:?}", self.text(), self.headers))
    }

    /// The error code of a JSON error body (which must have a message too).
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "{}", self.text());
        v["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// The bytes of one request with `Connection: close`.
pub fn request_text(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    // A server that answers early (413) may stop reading: the answer still counts.
    let _ = stream.write_all(&request_text(method, path, headers, body));
    read_response(&mut stream)
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Reads one response: up to its `Content-Length`, or to the end of the stream.
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<Resp> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if raw.is_empty() => return Err(e),
            Err(_) => break,
        }
        if let Some(resp) = parse_response(&raw, false) {
            return Ok(resp);
        }
    }
    parse_response(&raw, true).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("incomplete response: {}", String::from_utf8_lossy(&raw)),
        )
    })
}

/// A complete response in `raw` (skipping `100 Continue`), if there is one; at the end of
/// the stream (`eof`) a response without `Content-Length` is whatever follows its head.
pub fn parse_response(mut raw: &[u8], eof: bool) -> Option<Resp> {
    loop {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&raw[..end]).ok()?;
        let rest = &raw[end + 4..];
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        if status == 100 {
            raw = rest;
            continue;
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().ok());
        let body = match len {
            Some(Some(n)) if rest.len() >= n => rest[..n].to_vec(),
            None if eof => rest.to_vec(),
            _ => return None,
        };
        return Some(Resp {
            status,
            headers,
            body,
        });
    }
}
