//! `microvet serve` under slow clients and connection floods: the real server (the built
//! binary) on 127.0.0.1, driven by raw TCP clients, some bound to other loopback
//! addresses (127.0.0.0/8 is all loopback on Linux) so the per-peer cap can be seen
//! apart from the global one. Every test is bounded in time and stops by itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

mod common;
use common::*;

impl Server {
    /// One request on a new connection from 127.0.0.1.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> Resp {
        let mut stream = connect_from("127.0.0.1", self.addr);
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let _ = stream.write_all(&request_text(method, path, body, true));
        read_response(&mut stream).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }
}

fn request_text(method: &str, path: &str, body: &[u8], close: bool) -> Vec<u8> {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    text.extend_from_slice(body);
    text
}

/// A connection to `addr` from the loopback address `from`.
fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local = SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0);
    socket.bind(&local.into()).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect from {from}: {e}"));
    socket.into()
}

/// Whether the server closed `stream` (EOF or reset) within `within`; bytes it sent
/// before closing are returned too.
fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, Vec<u8>) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (false, got);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (true, got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (false, got);
            }
            Err(_) => return (true, got),
        }
    }
}

/// Send the head and half the body of a vet: the server is left waiting for the rest.
fn start_slow_body(from: &str, addr: SocketAddr) -> TcpStream {
    let mut stream = connect_from(from, addr);
    let full = request_text("POST", "/v1/vet", MANIFEST.as_bytes(), true);
    let split = full.len() - MANIFEST.len() / 2;
    stream.write_all(&full[..split]).unwrap();
    stream
}

fn finish_slow_body(mut stream: TcpStream) -> Resp {
    let body = MANIFEST.as_bytes();
    stream
        .write_all(&body[body.len() - body.len() / 2..])
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    read_response(&mut stream).unwrap()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------

#[test]
fn a_slow_body_gets_408_holds_no_permit_and_slow_heads_and_idle_connections_are_closed() {
    let server = Server::start(&[
        "--max-concurrency",
        "1",
        "--body-timeout-ms",
        "1500",
        "--header-timeout-ms",
        "1000",
        "--idle-timeout-ms",
        "4000",
    ]);

    // Bodies are read before the permit: slow ones do not block a real vet.
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..3)
        .map(|_| start_slow_body("127.0.0.1", server.addr))
        .collect();
    let r = server.request("POST", "/v1/vet", MANIFEST.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());

    // A body that does not arrive in time: 408, `Connection: close`, then the close.
    let mut stream = slow.remove(0);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let r = read_response(&mut stream).unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status, 408, "{}", r.text());
    assert_eq!(r.header("connection"), Some("close"));
    assert!(r.text().contains("\"body-timeout\""), "{}", r.text());
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    assert!(closed_within(&mut stream, Duration::from_secs(3)).0);

    // A head sent a header line every 100 ms never ends: closed without an answer
    // after the header timeout (while a connection that sent nothing stays open).
    let mut idle = connect_from("127.0.0.1", server.addr);
    let mut loris = connect_from("127.0.0.1", server.addr);
    let started = Instant::now();
    loris.write_all(b"POST /v1/vet HTTP/1.1\r\n").unwrap();
    let mut closed = false;
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(6) {
        if loris.write_all(b"X-Slow: a\r\n").is_err() {
            closed = true;
            break;
        }
        let (c, bytes) = closed_within(&mut loris, Duration::from_millis(100));
        answer.extend(bytes);
        if c {
            closed = true;
            break;
        }
    }
    let waited = started.elapsed();
    assert!(closed, "the slow head was not cut off");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(3000),
        "{waited:?}"
    );
    // The idle connection outlived the header timeout; the idle timeout closes it.
    assert!(!closed_within(&mut idle, Duration::from_millis(200)).0);
    assert!(closed_within(&mut idle, Duration::from_secs(8)).0);

    assert_eq!(
        server.metric("microvet_connections_shed_total{reason=\"header_timeout\"}"),
        1.0
    );
    assert!(server.metric("microvet_connections_shed_total{reason=\"body_timeout\"}") >= 1.0);
    assert!(server.metric("microvet_connections_shed_total{reason=\"idle_timeout\"}") >= 1.0);
    drop(slow);
}

#[test]
fn slow_body_and_idle_floods_leave_vets_and_healthz_answering() {
    // The client needs a descriptor per connection too.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let server = Server::start(&[
        "--max-connections",
        "2000",
        "--max-connections-per-ip",
        "300",
        // Long timeouts: here the caps do the work.
        "--body-timeout-ms",
        "120000",
        "--header-timeout-ms",
        "120000",
        "--idle-timeout-ms",
        "120000",
    ]);
    let test_started = Instant::now();

    // 300 slow bodies (more than the 256 concurrency permits) from one peer, at its cap.
    let slow: Vec<TcpStream> = (0..300)
        .map(|_| start_slow_body("127.0.0.2", server.addr))
        .collect();
    wait_until(
        "the server to be reading 300 bodies",
        Duration::from_secs(30),
        || server.metric("microvet_connections_active") >= 300.0,
    );
    // That peer has nothing idle to shed: its next connections are refused.
    for _ in 0..20 {
        let mut extra = connect_from("127.0.0.2", server.addr);
        let (closed, bytes) = closed_within(&mut extra, Duration::from_secs(5));
        assert!(closed && bytes.is_empty(), "not refused");
    }

    // 5,000 idle connections from ten more peers (500 each, over the per-peer cap, and
    // together over the global cap).
    let mut idle = Vec::with_capacity(5000);
    for peer in 3..13 {
        let from = format!("127.0.0.{peer}");
        for _ in 0..500 {
            idle.push(connect_from(&from, server.addr));
        }
    }
    assert_eq!(idle.len(), 5000);

    // Real vets and the liveness probe still get through, each on a new connection.
    for _ in 0..20 {
        let r = server.request("POST", "/v1/vet", MANIFEST.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let r = server.request("GET", "/healthz", b"");
        assert_eq!(r.status, 200, "{}", r.text());
    }

    // The caps held and the metrics count what they did.
    let open = server.metric("microvet_connections_open");
    assert!(open <= 2000.0 + 64.0, "{open} open");
    assert!(server.metric("microvet_connections_refused_total{reason=\"peer_cap\"}") >= 20.0);
    let shed_peer = server.metric("microvet_connections_shed_total{reason=\"peer_cap\"}");
    let shed_global = server.metric("microvet_connections_shed_total{reason=\"global_cap\"}");
    // Each of the ten idle peers had 200 connections over its cap of 300.
    assert!(shed_peer >= 2000.0, "{shed_peer}");
    assert!(shed_global >= 1000.0, "{shed_global}");
    assert_eq!(server.metric("microvet_max_connections"), 2000.0);

    // The slow bodies were never shed (they are not idle): each completes.
    for stream in slow {
        let r = finish_slow_body(stream);
        assert_eq!(r.status, 200, "{}", r.text());
    }

    // The server said so in a few rate-limited lines, not one per connection.
    let logs = server.logs();
    let reports = logs
        .lines()
        .filter(|l| l.contains("connections refused or closed by the server"))
        .count();
    let elapsed = test_started.elapsed().as_secs();
    assert!(reports >= 1, "{logs}");
    assert!(
        reports as u64 <= 2 + elapsed / 10,
        "{reports} report lines in {elapsed} s"
    );
    drop(idle);
}
