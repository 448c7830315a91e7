//! The connections of `microvet serve`: its own accept loop over hyper's HTTP/1.1
//! connection (axum's `serve` has no timeouts and no connection cap).
//!
//! - **Caps.** At most `max_connections` open connections, and `max_connections_per_ip`
//!   from one peer (an IPv6 peer is its /64: one host has a whole /64 to pick from). A new
//!   connection over a cap sheds the oldest *idle* connection in its scope (the peer's for
//!   the per-peer cap, anyone's for the global one): a real request still gets served while
//!   an idle flood holds every slot. With no idle connection to shed it is refused (closed
//!   at once). Shed connections still hold a descriptor until they close, so at most
//!   [`EVICTION_SLACK`] more may be open for a moment; past that, the accept loop waits
//!   (up to [`ROOM_WAIT`]) for them to close, leaving new connections in the kernel's
//!   accept queue, and refuses the next one if they do not.
//! - **Timeouts.** *Idle*: no request in progress and no byte of the next one for
//!   `idle_timeout` (a fresh connection that sends nothing is idle too) → closed.
//!   *Header*: from the first byte of a request head to its end, at most `header_timeout`
//!   → closed without an answer (a head that never ended is not a request to answer).
//!   *Body*: the limited routes read the whole body within `body_timeout` before they take
//!   a concurrency permit (`super::middleware::observe`) → 408 with `Connection: close`
//!   (RFC 9110 §15.5.9). A connection the server closes (shed, idle, shutdown) finishes its
//!   response in progress first, for at most [`CLOSE_GRACE`] once that response is written
//!   to it (a client that never reads cannot keep it).
//! - **Accept errors.** Out of descriptors (`EMFILE`/`ENFILE`): the oldest idle connection
//!   is shed to free one and the loop pauses [`ACCEPT_ERROR_PAUSE`].
//! - **Reporting.** `microvet_connections_*` metrics, and one warning line at most per
//!   [`REPORT_INTERVAL`] with the counts of refused and shed connections since the last one.
//! - **Shutdown.** The listener closes, idle connections close at once, the others finish
//!   their request in progress (bounded by the timeouts above and the vet's limits).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use super::App;

/// Shed connections that may still be open above `max_connections` (they are closing).
pub(crate) const EVICTION_SLACK: usize = 64;

/// How long the accept loop waits for shed connections to close (at [`EVICTION_SLACK`]).
pub(crate) const ROOM_WAIT: Duration = Duration::from_secs(1);

/// How long a connection the server is closing may take to write its last response.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The pause after an accept error that is not about one connection (out of descriptors).
pub(crate) const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// At most one warning line about refused or shed connections per interval.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// Descriptors kept free of connections under the soft `RLIMIT_NOFILE`: the listener,
/// epoll, standard streams, the decision log, policy files and the compiled-code cache,
/// plus the [`EVICTION_SLACK`].
pub(crate) const FD_HEADROOM: u64 = 256;

/// Connection caps and timeouts (`microvet serve --max-connections ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Open connections at once (the effective value is also kept under the descriptor
    /// limit, see [`fd_budget`]).
    pub max_connections: usize,
    /// Open connections from one peer address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// From the end of a request head to the end of its body (limited routes).
    pub body_timeout: Duration,
    /// A connection with no request in progress.
    pub idle_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 8192,
            max_connections_per_ip: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Why the server closed a connection (the `reason` label of
/// `microvet_connections_shed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Shed {
    /// Shed (idle) for a new connection at the global cap.
    GlobalCap = 1,
    /// Shed (idle) for a new connection from the same peer at the per-peer cap.
    PeerCap = 2,
    /// Shed (idle) to free a descriptor when accept ran out of them.
    FdLimit = 3,
    IdleTimeout = 4,
    HeaderTimeout = 5,
    /// Answered 408 (counted by the body reader in `super::middleware::observe`).
    BodyTimeout = 6,
}

impl Shed {
    pub(crate) const ALL: [Shed; 6] = [
        Shed::GlobalCap,
        Shed::PeerCap,
        Shed::FdLimit,
        Shed::IdleTimeout,
        Shed::HeaderTimeout,
        Shed::BodyTimeout,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Shed::GlobalCap => "global_cap",
            Shed::PeerCap => "peer_cap",
            Shed::FdLimit => "fd_limit",
            Shed::IdleTimeout => "idle_timeout",
            Shed::HeaderTimeout => "header_timeout",
            Shed::BodyTimeout => "body_timeout",
        }
    }

    fn from_u8(v: u8) -> Option<Shed> {
        Shed::ALL.into_iter().find(|s| *s as u8 == v)
    }
}

/// Why a new connection was refused (`microvet_connections_refused_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    GlobalCap,
    PeerCap,
}

impl Refused {
    pub(crate) const ALL: [Refused; 2] = [Refused::GlobalCap, Refused::PeerCap];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Refused::GlobalCap => "global_cap",
            Refused::PeerCap => "peer_cap",
        }
    }
}

/// The most connections the descriptor limit `nofile` leaves room for.
pub(crate) fn fd_budget(nofile: u64) -> usize {
    let budget = nofile.saturating_sub(FD_HEADROOM).max(nofile / 2).max(1);
    usize::try_from(budget).unwrap_or(usize::MAX)
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit; the soft limit now in force (`None`
/// where the platform has none, or it cannot be read).
pub(crate) fn raise_nofile_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < u64::MAX => Some(n),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit (RLIMIT_NOFILE)");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The peer key of the per-peer cap: the address, IPv6 by /64, IPv4-mapped IPv6 as IPv4.
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

// ---------------------------------------------------------------------------------------
// one connection's state
// ---------------------------------------------------------------------------------------

/// What the accept loop, the IO wrapper, the service and the connection's task share.
pub(crate) struct ConnState {
    peer: IpAddr,
    epoch: Instant,
    /// A request is between its parsed head and its response.
    busy: AtomicBool,
    /// Milliseconds since `epoch` + 1 at the first byte of the next request head; 0: none.
    head_started: AtomicU64,
    /// Milliseconds since `epoch` when the last response was produced (or the accept).
    idle_since: AtomicU64,
    /// A [`Shed`] the accept loop asked for; 0: none.
    shed: AtomicU8,
    /// Wakes the connection's task: a state change or a shed request.
    wake: Notify,
}

impl ConnState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// Idle: no request in progress and no byte of the next one.
    fn is_idle(&self) -> bool {
        !self.busy.load(Ordering::Acquire) && self.head_started.load(Ordering::Acquire) == 0
    }

    fn bytes_read(&self) {
        if !self.busy.load(Ordering::Acquire) && self.head_started.load(Ordering::Acquire) == 0 {
            self.head_started
                .store(self.now_ms().saturating_add(1), Ordering::Release);
            self.wake.notify_one();
        }
    }

    fn begin(&self) {
        self.busy.store(true, Ordering::Release);
        self.head_started.store(0, Ordering::Release);
    }

    fn end(&self) {
        self.idle_since.store(self.now_ms(), Ordering::Release);
        self.busy.store(false, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Marks the connection busy while a request is served (also when the request's future
/// is dropped: the client went away).
struct Busy(Arc<ConnState>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The TCP stream, noting the first byte of each request head.
struct Tracked {
    io: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.state.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The router as a hyper service, marking the connection busy per request.
struct Service {
    router: Router,
    state: Arc<ConnState>,
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.state.begin();
        let busy = Busy(Arc::clone(&self.state));
        let mut router = self.router.clone();
        let future = tower_service::Service::call(&mut router, req);
        Box::pin(async move {
            let response = future.await;
            drop(busy);
            response
        })
    }
}

// ---------------------------------------------------------------------------------------
// the registry of open connections
// ---------------------------------------------------------------------------------------

struct Entry {
    state: Arc<ConnState>,
    /// Shed at a cap: no longer counted against the caps, closing.
    evicted: bool,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    conns: HashMap<u64, Entry>,
    /// Connections per peer key, not counting evicted ones.
    peers: HashMap<IpAddr, usize>,
    /// Connections not evicted.
    live: usize,
}

impl Inner {
    /// One connection of `peer` fewer (the entry goes when it reaches 0).
    fn forget_one(&mut self, peer: IpAddr) {
        if let Some(n) = self.peers.get_mut(&peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.peers.remove(&peer);
            }
        }
    }
}

/// The open connections, for the caps and for shedding.
pub(crate) struct Registry {
    limits: ConnLimits,
    epoch: Instant,
    inner: Mutex<Inner>,
    /// Notified when the last connection closes (shutdown waits for it).
    empty: Notify,
    /// Notified when a connection closes (the accept loop waits for room with it).
    closed: Notify,
}

enum Admission {
    Admitted(u64, Arc<ConnState>, Option<Shed>),
    Refused(Refused),
    /// Too many shed connections still closing: wait for them.
    Wait,
}

impl Registry {
    pub(crate) fn new(limits: ConnLimits) -> Registry {
        Registry {
            limits,
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
            empty: Notify::new(),
            closed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn limits(&self) -> ConnLimits {
        self.limits
    }

    /// (open, with a request in progress or a head arriving).
    pub(crate) fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let active = inner.conns.values().filter(|e| !e.state.is_idle()).count();
        (inner.conns.len(), active)
    }

    /// Shed the idle connection idle the longest (of `peer` only, if given).
    fn evict(inner: &mut Inner, peer: Option<IpAddr>, reason: Shed) -> bool {
        let victim = inner
            .conns
            .iter()
            .filter(|(_, e)| !e.evicted && peer.is_none_or(|p| e.state.peer == p))
            .filter(|(_, e)| e.state.is_idle())
            .min_by_key(|(_, e)| e.state.idle_since.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        let Some(entry) = victim.and_then(|id| inner.conns.get_mut(&id)) else {
            return false;
        };
        entry.evicted = true;
        entry.state.shed.store(reason as u8, Ordering::Release);
        entry.state.wake.notify_one();
        let peer = entry.state.peer;
        inner.live = inner.live.saturating_sub(1);
        inner.forget_one(peer);
        true
    }

    fn admit(&self, ip: IpAddr) -> Admission {
        let peer = peer_key(ip);
        let mut inner = self.lock();
        let inner = &mut *inner;
        let mut shed = None;
        if self.full(inner) {
            return Admission::Wait;
        }
        if inner.peers.get(&peer).copied().unwrap_or(0) >= self.limits.max_connections_per_ip {
            if !Self::evict(inner, Some(peer), Shed::PeerCap) {
                return Admission::Refused(Refused::PeerCap);
            }
            shed = Some(Shed::PeerCap);
        }
        if inner.live >= self.limits.max_connections {
            if !Self::evict(inner, None, Shed::GlobalCap) {
                return Admission::Refused(Refused::GlobalCap);
            }
            shed = Some(Shed::GlobalCap);
        }
        let id = inner.next_id;
        inner.next_id = inner.next_id.wrapping_add(1);
        let state = Arc::new(ConnState {
            peer,
            epoch: self.epoch,
            busy: AtomicBool::new(false),
            head_started: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            shed: AtomicU8::new(0),
            wake: Notify::new(),
        });
        state
            .idle_since
            .store(state.now_ms(), std::sync::atomic::Ordering::Release);
        inner.conns.insert(
            id,
            Entry {
                state: Arc::clone(&state),
                evicted: false,
            },
        );
        *inner.peers.entry(peer).or_insert(0) += 1;
        inner.live += 1;
        Admission::Admitted(id, state, shed)
    }

    /// Open connections (shed ones still closing included) at the hard ceiling.
    fn full(&self, inner: &Inner) -> bool {
        inner.conns.len() >= self.limits.max_connections.saturating_add(EVICTION_SLACK)
    }

    /// Wait up to `timeout` until the open connections are under the hard ceiling.
    async fn wait_for_room(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let closed = self.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if !self.full(&self.lock()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, closed).await.is_err() {
                return false;
            }
        }
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(entry) = inner.conns.remove(&id)
            && !entry.evicted
        {
            inner.live = inner.live.saturating_sub(1);
            inner.forget_one(entry.state.peer);
        }
        self.closed.notify_waiters();
        if inner.conns.is_empty() {
            self.empty.notify_waiters();
        }
    }

    async fn wait_empty(&self) {
        loop {
            let notified = self.empty.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().conns.is_empty() {
                return;
            }
            notified.await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// the accept loop
// ---------------------------------------------------------------------------------------

/// Whether an accept error concerns only the connection being accepted.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Out of descriptors (`EMFILE`, `ENFILE`).
fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

/// Serve `router` on `listener` until `shutdown` resolves, then let the connections
/// finish (see the module docs).
pub(crate) async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let reporter = tokio::spawn(report_loop(Arc::clone(&app)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The header timeout is ours (hyper's also runs on idle keep-alive connections).
    builder.header_read_timeout(None).keep_alive(true);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                app.metrics.accept_error();
                if is_fd_exhaustion(&e) {
                    let mut inner = app.conns.lock();
                    if Registry::evict(&mut inner, None, Shed::FdLimit) {
                        app.metrics.shed(Shed::FdLimit);
                    }
                }
                app.conn_events.notify_one();
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let mut admission = app.conns.admit(peer.ip());
        if matches!(admission, Admission::Wait) {
            admission = if app.conns.wait_for_room(ROOM_WAIT).await {
                app.conns.admit(peer.ip())
            } else {
                Admission::Refused(Refused::GlobalCap)
            };
        }
        match admission {
            Admission::Admitted(id, state, shed) => {
                app.metrics.accepted();
                if let Some(reason) = shed {
                    app.metrics.shed(reason);
                    app.conn_events.notify_one();
                }
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let router = router.clone();
                let builder = Arc::clone(&builder);
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    connection(&app, &builder, stream, router, Arc::clone(&state), stopped).await;
                    app.conns.remove(id);
                });
            }
            Admission::Refused(reason) => {
                app.metrics.refused(reason);
                app.conn_events.notify_one();
                drop(stream);
            }
            Admission::Wait => {
                app.metrics.refused(Refused::GlobalCap);
                app.conn_events.notify_one();
                drop(stream);
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    app.conns.wait_empty().await;
    reporter.abort();
}

/// What a connection's timer waits for.
enum Expiry {
    /// Closing: the last response had its grace.
    Grace,
    Header,
    Idle,
}

/// The next deadline of a connection (none while a request is in progress).
fn deadline(
    state: &ConnState,
    limits: &ConnLimits,
    closing: Option<Instant>,
) -> Option<(Instant, Expiry)> {
    if state.busy.load(Ordering::Acquire) {
        return None;
    }
    let idle_since = state.at(state.idle_since.load(Ordering::Acquire));
    if let Some(closing) = closing {
        return Some((closing.max(idle_since) + CLOSE_GRACE, Expiry::Grace));
    }
    match state.head_started.load(Ordering::Acquire) {
        0 => Some((idle_since + limits.idle_timeout, Expiry::Idle)),
        started => Some((
            state.at(started.saturating_sub(1)) + limits.header_timeout,
            Expiry::Header,
        )),
    }
}

async fn connection(
    app: &App,
    builder: &hyper::server::conn::http1::Builder,
    stream: TcpStream,
    router: Router,
    state: Arc<ConnState>,
    mut stopped: watch::Receiver<bool>,
) {
    let limits = app.conns.limits();
    let io = TokioIo::new(Tracked {
        io: stream,
        state: Arc::clone(&state),
    });
    let service = Service {
        router,
        state: Arc::clone(&state),
    };
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
    let sleep = tokio::time::sleep_until(far);
    tokio::pin!(sleep);
    let mut closing: Option<Instant> = None;
    let mut stopping = *stopped.borrow();
    loop {
        if stopping && closing.is_none() {
            conn.as_mut().graceful_shutdown();
            closing = Some(Instant::now());
        }
        let next = deadline(&state, &limits, closing);
        let armed = next.is_some();
        if let Some((at, _)) = &next {
            sleep.as_mut().reset((*at).into());
        }
        tokio::select! {
            biased;
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = state.wake.notified() => {
                if closing.is_none()
                    && let Some(reason) = Shed::from_u8(state.shed.load(Ordering::Acquire))
                {
                    tracing::debug!(reason = reason.label(), "shedding a connection");
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
            changed = stopped.changed(), if !stopping => {
                // A dropped sender is a stop too.
                let _ = changed;
                stopping = true;
            }
            () = &mut sleep, if armed => {
                // Re-check: the state may have changed since the deadline was computed.
                match deadline(&state, &limits, closing) {
                    Some((at, expiry)) if at <= Instant::now() => match expiry {
                        Expiry::Grace => return,
                        Expiry::Header => {
                            app.metrics.shed(Shed::HeaderTimeout);
                            app.conn_events.notify_one();
                            return;
                        }
                        Expiry::Idle => {
                            app.metrics.shed(Shed::IdleTimeout);
                            conn.as_mut().graceful_shutdown();
                            closing = Some(Instant::now());
                        }
                    },
                    _ => {}
                }
            }
        }
    }
}

/// One warning line at most per [`REPORT_INTERVAL`] with what happened since the last.
async fn report_loop(app: Arc<App>) {
    let mut last = app.metrics.conn_snapshot();
    loop {
        app.conn_events.notified().await;
        let now = app.metrics.conn_snapshot();
        let delta = now.since(&last);
        if delta.any() {
            let (open, _) = app.conns.counts();
            tracing::warn!(
                refused_global_cap = delta.refused_global,
                refused_peer_cap = delta.refused_peer,
                shed_global_cap = delta.shed_global,
                shed_peer_cap = delta.shed_peer,
                shed_fd_limit = delta.shed_fd,
                header_timeouts = delta.header_timeouts,
                body_timeouts = delta.body_timeouts,
                accept_errors = delta.accept_errors,
                open,
                max_connections = app.conns.limits().max_connections,
                max_connections_per_ip = app.conns.limits().max_connections_per_ip,
                interval_s = REPORT_INTERVAL.as_secs(),
                "connections refused or closed by the server since the last report"
            );
        }
        last = now;
        tokio::time::sleep(REPORT_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn limits(global: usize, per_ip: usize) -> ConnLimits {
        ConnLimits {
            max_connections: global,
            max_connections_per_ip: per_ip,
            ..ConnLimits::default()
        }
    }

    fn admitted(a: Admission) -> (u64, Arc<ConnState>, Option<Shed>) {
        match a {
            Admission::Admitted(id, s, shed) => (id, s, shed),
            Admission::Refused(r) => panic!("refused: {r:?}"),
            Admission::Wait => panic!("wait"),
        }
    }

    #[test]
    fn the_oldest_idle_connection_is_shed_and_busy_ones_never() {
        let r = Registry::new(limits(3, 10));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let (_, a, _) = admitted(r.admit(ip));
        let (_, b, _) = admitted(r.admit(ip));
        let (_, c, _) = admitted(r.admit(ip));
        a.begin(); // a request in progress
        b.idle_since.store(5, Ordering::Release);
        c.idle_since.store(1, Ordering::Release); // idle the longest
        let (_, d, shed) = admitted(r.admit(ip));
        assert_eq!(shed, Some(Shed::GlobalCap));
        assert_eq!(c.shed.load(Ordering::Acquire), Shed::GlobalCap as u8);
        assert_eq!(b.shed.load(Ordering::Acquire), 0);
        // A head arriving is not idle either: with a, b and d all busy, nothing to shed.
        b.bytes_read();
        d.begin();
        assert!(matches!(
            r.admit(ip),
            Admission::Refused(Refused::GlobalCap)
        ));
        assert_eq!(a.shed.load(Ordering::Acquire), 0);
        assert_eq!(b.shed.load(Ordering::Acquire), 0);
        // Once a response is done, its connection is idle again and can be shed.
        a.end();
        let (_, _, shed) = admitted(r.admit(ip));
        assert_eq!(shed, Some(Shed::GlobalCap));
        assert_eq!(a.shed.load(Ordering::Acquire), Shed::GlobalCap as u8);
    }

    #[test]
    fn the_per_peer_cap_sheds_within_the_peer_and_ipv6_counts_by_64() {
        let r = Registry::new(limits(100, 2));
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let (_, o, _) = admitted(r.admit(other));
        o.idle_since.store(0, Ordering::Release); // the oldest overall, another peer
        let (_, x, _) = admitted(r.admit(a));
        x.idle_since.store(3, Ordering::Release);
        let (_, y, _) = admitted(r.admit(b));
        y.begin();
        let (_, _, shed) = admitted(r.admit(a));
        assert_eq!(shed, Some(Shed::PeerCap));
        assert_eq!(x.shed.load(Ordering::Acquire), Shed::PeerCap as u8);
        assert_eq!(o.shed.load(Ordering::Acquire), 0);
        // Mapped IPv4 is the same peer as IPv4.
        assert_eq!(
            peer_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn evicted_connections_stop_counting_but_the_slack_bounds_them() {
        let r = Registry::new(limits(1, 10));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..=EVICTION_SLACK {
            let (_, _, _) = admitted(r.admit(ip));
        }
        // 1 live + EVICTION_SLACK evicted, none closed yet: wait for them.
        assert!(matches!(r.admit(ip), Admission::Wait));
        assert_eq!(r.counts().0, EVICTION_SLACK + 1);
    }

    #[test]
    fn the_fd_budget_keeps_headroom() {
        assert_eq!(fd_budget(20_000), 20_000 - 256);
        assert_eq!(fd_budget(1024), 768);
        assert_eq!(fd_budget(300), 150);
        assert_eq!(fd_budget(0), 1);
    }
}
