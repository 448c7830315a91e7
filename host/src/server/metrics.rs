//! Prometheus metrics of the HTTP service, in the text exposition format (hand-rolled: a
//! handful of counters and one histogram do not need a metrics crate).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::conn::{Refused, Shed};
use crate::{Decision, HostError, InputKind, LimitExceeded, PoolStats};

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last slot is `+Inf`.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let i = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Default)]
struct Http {
    /// (route, status) → requests.
    requests: BTreeMap<(&'static str, u16), u64>,
    /// route → latency.
    latency: BTreeMap<&'static str, Histogram>,
}

/// The counters of one server.
#[derive(Default)]
pub(crate) struct Metrics {
    http: Mutex<Http>,
    /// [kind][decision]
    decisions: [[AtomicU64; 4]; 2],
    limit_time: AtomicU64,
    limit_memory: AtomicU64,
    limit_random: AtomicU64,
    traps: AtomicU64,
    overloaded: AtomicU64,
    reload_ok: AtomicU64,
    reload_failed: AtomicU64,
    conn_accepted: AtomicU64,
    /// By [`Refused::ALL`] index.
    conn_refused: [AtomicU64; Refused::ALL.len()],
    /// By [`Shed::ALL`] index.
    conn_shed: [AtomicU64; Shed::ALL.len()],
    accept_errors: AtomicU64,
}

/// The connection counters at one moment (for the rate-limited log line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnSnapshot {
    pub(crate) refused_global: u64,
    pub(crate) refused_peer: u64,
    pub(crate) shed_global: u64,
    pub(crate) shed_peer: u64,
    pub(crate) shed_fd: u64,
    pub(crate) header_timeouts: u64,
    pub(crate) body_timeouts: u64,
    pub(crate) accept_errors: u64,
}

impl ConnSnapshot {
    pub(crate) fn since(&self, earlier: &ConnSnapshot) -> ConnSnapshot {
        ConnSnapshot {
            refused_global: self.refused_global.saturating_sub(earlier.refused_global),
            refused_peer: self.refused_peer.saturating_sub(earlier.refused_peer),
            shed_global: self.shed_global.saturating_sub(earlier.shed_global),
            shed_peer: self.shed_peer.saturating_sub(earlier.shed_peer),
            shed_fd: self.shed_fd.saturating_sub(earlier.shed_fd),
            header_timeouts: self.header_timeouts.saturating_sub(earlier.header_timeouts),
            body_timeouts: self.body_timeouts.saturating_sub(earlier.body_timeouts),
            accept_errors: self.accept_errors.saturating_sub(earlier.accept_errors),
        }
    }

    pub(crate) fn any(&self) -> bool {
        *self != ConnSnapshot::default()
    }
}

/// Point-in-time values the server adds when rendering.
pub(crate) struct Gauges<'a> {
    pub(crate) in_flight: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) policies: Vec<(String, String)>,
    pub(crate) pool: Option<PoolStats>,
    /// (appends, batches, fsyncs, write nanoseconds, failures)
    pub(crate) log: Option<(u64, u64, u64, u64, u64)>,
    pub(crate) shadow: Option<&'a super::shadow::Shadow>,
    pub(crate) uptime: Duration,
    /// (open, active) connections.
    pub(crate) connections: (usize, usize),
    pub(crate) max_connections: usize,
    pub(crate) max_connections_per_ip: usize,
}

pub(crate) fn decision_index(d: Decision) -> usize {
    match d {
        Decision::Approve => 0,
        Decision::ApproveWithControls => 1,
        Decision::Remediate => 2,
        Decision::Reject => 3,
    }
}

const DECISIONS: [&str; 4] = ["approve", "approve-with-controls", "remediate", "reject"];
const KINDS: [&str; 2] = ["manifest", "dcr"];

impl Metrics {
    pub(crate) fn observe_request(&self, route: &'static str, status: u16, elapsed: Duration) {
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        *http.requests.entry((route, status)).or_insert(0) += 1;
        http.latency
            .entry(route)
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn decision(&self, kind: InputKind, d: Decision) {
        let k = match kind {
            InputKind::Manifest => 0,
            InputKind::Dcr => 1,
        };
        if let Some(c) = self
            .decisions
            .get(k)
            .and_then(|row| row.get(decision_index(d)))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn host_error(&self, e: &HostError) {
        let counter = match e {
            HostError::Limit(LimitExceeded::Time { .. }) => &self.limit_time,
            HostError::Limit(LimitExceeded::Memory { .. }) => &self.limit_memory,
            HostError::Limit(LimitExceeded::Random { .. }) => &self.limit_random,
            HostError::Trap(_) => &self.traps,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn overloaded(&self) {
        self.overloaded.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reload(&self, ok: bool) {
        if ok {
            self.reload_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reload_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn accepted(&self) {
        self.conn_accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, reason: Refused) {
        if let Some(c) = self.conn_refused.get(reason as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn shed(&self, reason: Shed) {
        if let Some(c) = Shed::ALL
            .iter()
            .position(|s| *s == reason)
            .and_then(|i| self.conn_shed.get(i))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn accept_error(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    fn shed_count(&self, reason: Shed) -> u64 {
        Shed::ALL
            .iter()
            .position(|s| *s == reason)
            .and_then(|i| self.conn_shed.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn refused_count(&self, reason: Refused) -> u64 {
        self.conn_refused
            .get(reason as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(crate) fn conn_snapshot(&self) -> ConnSnapshot {
        ConnSnapshot {
            refused_global: self.refused_count(Refused::GlobalCap),
            refused_peer: self.refused_count(Refused::PeerCap),
            shed_global: self.shed_count(Shed::GlobalCap),
            shed_peer: self.shed_count(Shed::PeerCap),
            shed_fd: self.shed_count(Shed::FdLimit),
            header_timeouts: self.shed_count(Shed::HeaderTimeout),
            body_timeouts: self.shed_count(Shed::BodyTimeout),
            accept_errors: self.accept_errors.load(Ordering::Relaxed),
        }
    }

    /// The exposition text.
    pub(crate) fn render(&self, g: &Gauges<'_>) -> String {
        let mut out = String::with_capacity(8 << 10);
        let w = &mut out;
        {
            let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
            header(
                w,
                "microvet_http_requests_total",
                "counter",
                "HTTP requests by route and status.",
            );
            for ((route, status), n) in &http.requests {
                let _ = writeln!(
                    w,
                    "microvet_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
            header(
                w,
                "microvet_http_request_duration_seconds",
                "histogram",
                "Time from the request to the response (handler, vet and decision log), by route.",
            );
            for (route, h) in &http.latency {
                let mut cumulative = 0u64;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    cumulative += h.counts.get(i).copied().unwrap_or(0);
                    let _ = writeln!(
                        w,
                        "microvet_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    w,
                    "microvet_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    w,
                    "microvet_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    w,
                    "microvet_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        header(
            w,
            "microvet_decisions_total",
            "counter",
            "Verdicts by input kind and decision.",
        );
        for (k, kind) in KINDS.iter().enumerate() {
            for (d, decision) in DECISIONS.iter().enumerate() {
                let n = self
                    .decisions
                    .get(k)
                    .and_then(|row| row.get(d))
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                let _ = writeln!(
                    w,
                    "microvet_decisions_total{{kind=\"{kind}\",decision=\"{decision}\"}} {n}"
                );
            }
        }
        header(
            w,
            "microvet_limit_hits_total",
            "counter",
            "Calls stopped by a host limit (the call failed alone).",
        );
        for (limit, c) in [
            ("time", &self.limit_time),
            ("memory", &self.limit_memory),
            ("random", &self.limit_random),
        ] {
            let _ = writeln!(
                w,
                "microvet_limit_hits_total{{limit=\"{limit}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        counter(
            w,
            "microvet_traps_total",
            "Calls in which the component trapped.",
            self.traps.load(Ordering::Relaxed),
        );
        counter(
            w,
            "microvet_overload_rejections_total",
            "Requests refused with 503 because the concurrency limit was reached.",
            self.overloaded.load(Ordering::Relaxed),
        );
        header(
            w,
            "microvet_policy_reloads_total",
            "counter",
            "Policy reloads by result (a failed reload keeps the old policies).",
        );
        let _ = writeln!(
            w,
            "microvet_policy_reloads_total{{result=\"ok\"}} {}",
            self.reload_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            w,
            "microvet_policy_reloads_total{{result=\"error\"}} {}",
            self.reload_failed.load(Ordering::Relaxed)
        );
        gauge(
            w,
            "microvet_in_flight_requests",
            "Requests holding a concurrency permit.",
            g.in_flight as f64,
        );
        gauge(
            w,
            "microvet_max_concurrency",
            "The concurrency limit.",
            g.max_concurrency as f64,
        );
        header(
            w,
            "microvet_policy_info",
            "gauge",
            "The policies in force (name, sha256 of the text).",
        );
        for (name, sha) in &g.policies {
            let _ = writeln!(
                w,
                "microvet_policy_info{{name=\"{}\",sha256=\"{sha}\"}} 1",
                escape(name)
            );
        }
        if let Some(p) = g.pool {
            gauge(
                w,
                "microvet_warm_instances_idle",
                "Idle warm instances (all policies).",
                p.idle as f64,
            );
            header(
                w,
                "microvet_warm_instance_events_total",
                "counter",
                "Warm-instance pool events (all policies).",
            );
            for (event, n) in [
                ("reused", p.reused),
                ("created", p.created),
                ("discarded", p.discarded),
                ("retired", p.retired),
            ] {
                let _ = writeln!(
                    w,
                    "microvet_warm_instance_events_total{{event=\"{event}\"}} {n}"
                );
            }
        }
        if let Some((appends, batches, fsyncs, nanos, failures)) = g.log {
            counter(
                w,
                "microvet_decision_log_appends_total",
                "Decision log entries written and synced.",
                appends,
            );
            counter(
                w,
                "microvet_decision_log_batches_total",
                "Decision log group commits (write + flush + sync_data).",
                batches,
            );
            counter(
                w,
                "microvet_decision_log_fsyncs_total",
                "Decision log sync_data calls (one per batch: concurrent vets share one).",
                fsyncs,
            );
            header(
                w,
                "microvet_decision_log_write_seconds_total",
                "counter",
                "Time spent writing and syncing the decision log.",
            );
            let _ = writeln!(
                w,
                "microvet_decision_log_write_seconds_total {}",
                nanos as f64 / 1e9
            );
            counter(
                w,
                "microvet_decision_log_failures_total",
                "Failed decision log writes (the requests got a 500).",
                failures,
            );
        }
        if let Some(s) = g.shadow {
            render_shadow(w, s);
        }
        gauge(
            w,
            "microvet_connections_open",
            "Open client connections.",
            g.connections.0 as f64,
        );
        gauge(
            w,
            "microvet_connections_active",
            "Open connections with a request in progress or arriving (the others are idle).",
            g.connections.1 as f64,
        );
        gauge(
            w,
            "microvet_max_connections",
            "The cap on open connections (under the open-file limit).",
            g.max_connections as f64,
        );
        gauge(
            w,
            "microvet_max_connections_per_ip",
            "The cap on open connections from one peer address (IPv6: one /64).",
            g.max_connections_per_ip as f64,
        );
        counter(
            w,
            "microvet_connections_accepted_total",
            "Connections accepted (within the caps).",
            self.conn_accepted.load(Ordering::Relaxed),
        );
        header(
            w,
            "microvet_connections_refused_total",
            "counter",
            "Connections closed at once because a cap was reached and no idle connection could be shed.",
        );
        for reason in Refused::ALL {
            let _ = writeln!(
                w,
                "microvet_connections_refused_total{{reason=\"{}\"}} {}",
                reason.label(),
                self.refused_count(reason)
            );
        }
        header(
            w,
            "microvet_connections_shed_total",
            "counter",
            "Connections the server closed: idle ones shed at a cap or when out of descriptors, and timeouts (idle, request head, body: 408).",
        );
        for reason in Shed::ALL {
            let _ = writeln!(
                w,
                "microvet_connections_shed_total{{reason=\"{}\"}} {}",
                reason.label(),
                self.shed_count(reason)
            );
        }
        counter(
            w,
            "microvet_accept_errors_total",
            "Failed accepts other than a reset by the peer (e.g. out of descriptors).",
            self.accept_errors.load(Ordering::Relaxed),
        );
        gauge(
            w,
            "microvet_uptime_seconds",
            "Seconds since the server started.",
            g.uptime.as_secs_f64(),
        );
        out
    }
}

fn header(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}");
    let _ = writeln!(w, "# TYPE {name} {kind}");
}

fn counter(w: &mut String, name: &str, help: &str, value: u64) {
    header(w, name, "counter", help);
    let _ = writeln!(w, "{name} {value}");
}

fn gauge(w: &mut String, name: &str, help: &str, value: f64) {
    header(w, name, "gauge", help);
    let _ = writeln!(w, "{name} {value}");
}

/// Escape a label value.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The shadow policy's counters.
fn render_shadow(w: &mut String, s: &super::shadow::Shadow) {
    let _ = writeln!(
        w,
        "# HELP microvet_shadow_policy_info The shadow policy every vet is also vetted under."
    );
    let _ = writeln!(w, "# TYPE microvet_shadow_policy_info gauge");
    let _ = writeln!(
        w,
        "microvet_shadow_policy_info{{policy=\"{}\"}} 1",
        escape(&s.policy)
    );
    counter(
        w,
        "microvet_shadow_vets_total",
        "Shadow vets done (agreeing with the answer or not).",
        s.vets.load(Ordering::Relaxed),
    );
    header(
        w,
        "microvet_shadow_disagreements_total",
        "counter",
        "Shadow vets that disagreed with the answer, by answered decision (from) and shadow decision (to); from = to when only the rule set differs.",
    );
    for (i, from) in DECISIONS.iter().enumerate() {
        for (j, to) in DECISIONS.iter().enumerate() {
            let n = s
                .disagreements
                .get(i)
                .and_then(|row| row.get(j))
                .map_or(0, |c| c.load(Ordering::Relaxed));
            let _ = writeln!(
                w,
                "microvet_shadow_disagreements_total{{from=\"{from}\",to=\"{to}\"}} {n}"
            );
        }
    }
    counter(
        w,
        "microvet_shadow_skipped_total",
        "Shadow vets skipped because the shadow queue was full (the answers were not affected).",
        s.skipped.load(Ordering::Relaxed),
    );
    counter(
        w,
        "microvet_shadow_errors_total",
        "Shadow vets that failed (a limit hit, a trap); the answers were not affected.",
        s.errors.load(Ordering::Relaxed),
    );
    counter(
        w,
        "microvet_shadow_log_failures_total",
        "Shadow disagreements whose decision log line could not be written.",
        s.log_failures.load(Ordering::Relaxed),
    );
    gauge(
        w,
        "microvet_shadow_in_flight",
        "Shadow vets queued or running.",
        s.in_flight() as f64,
    );
    gauge(
        w,
        "microvet_shadow_max_in_flight",
        "Shadow vets queued or running at most; over it a shadow vet is skipped.",
        s.max_in_flight() as f64,
    );
}
