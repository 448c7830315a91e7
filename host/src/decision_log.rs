//! The tamper-evident decision log: one JSON line per vet, each line carrying the
//! sha256 of the previous line (a hash chain).
//!
//! ```text
//! {"seq":1,"time":"2026-05-01T09:30:00.123Z","request_id":"…","kind":"manifest","policy":"default",
//!  "policy_sha256":"…","manifest_sha256":"…","decision":"approve","score":12,"rules":["MV-…"],
//!  "engine":"microvet 0.1.0","prev":"0000…0000"}
//! ```
//! (one line in the file). `prev` is the lowercase hex sha256 of the previous line's bytes
//! (without its `\n`); the first line's `prev` is 64 zeros and its `seq` is 1. A line holds
//! hashes, names and IDs only: never manifest content, so never a secret in it.
//!
//! [`DecisionLog`] appends with *group commit*: a single writer thread takes every entry
//! queued while the previous batch was being written, writes the batch with one
//! `write_all`, then `flush` and `sync_data`, and only then acknowledges each entry. A
//! server sends its response after the acknowledgement, so every answered vet is on disk.
//! Appends are serialized by construction (one writer), so the chain has no forks.
//!
//! [`verify`] checks a whole log and says which line is wrong: an edited line (its hash
//! no longer matches the next line's `prev`), a dropped line (a gap in `seq`), an
//! inserted line (a repeated `seq` or a `prev` that does not link), reordered lines, and
//! a torn last line (no final `\n`: a crash in the middle of a write) which is reported
//! apart from tampering. A hash chain alone cannot reveal a rewrite of the *whole tail*
//! (the last line edited, or lines dropped from the end, with the hashes recomputed): the
//! last line's hash (the *head*) must be kept elsewhere — the log pipeline the lines are
//! shipped to does that — and checked with `--expect-head`.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first line: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most entries written in one batch (one `write_all` + `sync_data`).
const MAX_BATCH: usize = 4096;

/// What is recorded about one vet. Never the manifest text: its sha256 stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The request id (also returned to the client in `x-request-id`).
    pub request_id: String,
    /// `manifest` or `dcr`.
    pub kind: String,
    /// The policy's name (the server's name for it, e.g. the file stem).
    pub policy: String,
    /// From the verdict.
    pub policy_sha256: String,
    /// From the verdict.
    pub manifest_sha256: String,
    /// `approve`, `approve-with-controls`, `remediate` or `reject`.
    pub decision: String,
    /// The risk score, 0..=100.
    pub score: u32,
    /// The rule IDs of the findings, in verdict order, without repeats.
    pub rules: Vec<String>,
    /// `microvet x.y.z`.
    pub engine: String,
}

impl Record {
    /// The record of a verdict.
    pub fn from_verdict(
        request_id: &str,
        kind: crate::InputKind,
        policy: &str,
        verdict: &crate::Verdict,
    ) -> Record {
        let mut rules: Vec<String> = Vec::new();
        for f in &verdict.findings {
            if !rules.iter().any(|r| r == &f.rule) {
                rules.push(f.rule.clone());
            }
        }
        Record {
            request_id: request_id.to_owned(),
            kind: kind_name(kind).to_owned(),
            policy: policy.to_owned(),
            policy_sha256: verdict.policy_sha256.clone(),
            manifest_sha256: verdict.manifest_sha256.clone(),
            decision: verdict.decision.as_str().to_owned(),
            score: verdict.risk.score,
            rules,
            engine: verdict.engine.clone(),
        }
    }

    /// The record of a vet summary ([`crate::Vetter::vet_summary`]): the same fields as
    /// [`Record::from_verdict`] gives for the same vet.
    pub fn from_summary(
        request_id: &str,
        kind: crate::InputKind,
        policy: &str,
        summary: &crate::VetSummary,
    ) -> Record {
        Record {
            request_id: request_id.to_owned(),
            kind: kind_name(kind).to_owned(),
            policy: policy.to_owned(),
            policy_sha256: summary.policy_sha256.clone(),
            manifest_sha256: summary.manifest_sha256.clone(),
            decision: summary.decision.as_str().to_owned(),
            score: summary.score,
            rules: summary.rules.clone(),
            engine: summary.engine.clone(),
        }
    }
}

fn kind_name(kind: crate::InputKind) -> &'static str {
    match kind {
        crate::InputKind::Manifest => "manifest",
        crate::InputKind::Dcr => "dcr",
    }
}

/// One line of the log, field for field (the order of the fields is the order in the
/// line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1 for the first line, then +1 per line.
    pub seq: u64,
    /// RFC 3339 UTC time of the write (the host clock), millisecond precision.
    pub time: String,
    pub request_id: String,
    pub kind: String,
    pub policy: String,
    pub policy_sha256: String,
    pub manifest_sha256: String,
    pub decision: String,
    pub score: u32,
    pub rules: Vec<String>,
    pub engine: String,
    /// Lowercase hex sha256 of the previous line (without its `\n`); [`GENESIS`] for the
    /// first.
    pub prev: String,
}

/// Where an append landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The entry's `seq`.
    pub seq: u64,
    /// The sha256 of the line (the next line's `prev`).
    pub sha256: String,
}

/// Errors of the decision log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be opened, read or written.
    #[error("decision log `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The existing file does not end in a valid entry; the chain cannot be continued.
    #[error("decision log `{path}`: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// A write failed earlier and could not be rolled back: no more entries are accepted.
    #[error("the decision log is unavailable after a failed write")]
    Unavailable,
}

/// What [`DecisionLog::open`] found in an existing file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The `seq` of the last entry (0 for a new or empty file).
    pub last_seq: u64,
    /// The sha256 of the last line ([`GENESIS`] for a new file).
    pub head: String,
    /// Bytes of a torn last line (a crash mid-write) that were cut off so the chain can
    /// continue; such a line was never acknowledged.
    pub torn_bytes_removed: u64,
}

/// Counters of a [`DecisionLog`].
#[derive(Debug, Default)]
pub struct LogStats {
    /// Entries written and synced.
    pub appends: AtomicU64,
    /// Batches (one `write_all` + `flush` + `sync_data` each).
    pub batches: AtomicU64,
    /// Total time spent in `write_all` + `flush` + `sync_data`, in nanoseconds.
    pub write_nanos: AtomicU64,
    /// Failed batches.
    pub failures: AtomicU64,
}

type Ack = Box<dyn FnOnce(Result<Appended, LogError>) + Send>;

struct Msg {
    record: Record,
    ack: Ack,
}

/// An open decision log with its writer thread. Appends from any thread; dropping it
/// (or [`DecisionLog::close`]) writes what is queued and stops the thread.
pub struct DecisionLog {
    path: PathBuf,
    tx: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<LogStats>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DecisionLog {
    /// Open (or create) the log at `path` and continue its chain: the last line is
    /// parsed and linked to the line before it. A torn last line is cut off (it was
    /// never acknowledged); [`OpenReport::torn_bytes_removed`] says so.
    ///
    /// `sync`: `sync_data` after every batch (keep it on; off only to measure its cost).
    ///
    /// # Errors
    /// [`LogError::Io`] when the file cannot be opened or read; [`LogError::Corrupt`] when
    /// its last line is not a valid entry or does not link to the line before it.
    pub fn open(path: &Path, sync: bool) -> Result<(DecisionLog, OpenReport), LogError> {
        let io_err = |source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err)?;
        let report = continue_chain(&mut file, path)?;
        let len = file.metadata().map_err(io_err)?.len();
        let (tx, rx) = mpsc::channel::<Msg>();
        let stats = Arc::new(LogStats::default());
        let writer = Writer {
            path: path.to_path_buf(),
            file,
            len,
            seq: report.last_seq,
            prev: report.head.clone(),
            sync,
            poisoned: AtomicBool::new(false),
            stats: Arc::clone(&stats),
        };
        let thread = std::thread::Builder::new()
            .name("microvet-decision-log".to_owned())
            .spawn(move || writer.run(&rx))
            .map_err(io_err)?;
        Ok((
            DecisionLog {
                path: path.to_path_buf(),
                tx: Some(tx),
                thread: Some(thread),
                stats,
            },
            report,
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters (appends, batches, time spent writing and syncing).
    pub fn stats(&self) -> &LogStats {
        &self.stats
    }

    /// Queue `record`; `ack` is called (on the writer thread) once its line is written
    /// and synced, or with the error that prevented it.
    pub fn append(
        &self,
        record: Record,
        ack: impl FnOnce(Result<Appended, LogError>) + Send + 'static,
    ) {
        let msg = Msg {
            record,
            ack: Box::new(ack),
        };
        match &self.tx {
            Some(tx) => {
                if let Err(mpsc::SendError(msg)) = tx.send(msg) {
                    (msg.ack)(Err(LogError::Unavailable));
                }
            }
            None => (msg.ack)(Err(LogError::Unavailable)),
        }
    }

    /// Append and wait until the line is on disk.
    ///
    /// # Errors
    /// When the line could not be written and synced.
    pub fn append_blocking(&self, record: Record) -> Result<Appended, LogError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.append(record, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(LogError::Unavailable))
    }

    /// Write everything queued and stop the writer thread.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Writer {
    path: PathBuf,
    file: File,
    len: u64,
    seq: u64,
    prev: String,
    sync: bool,
    poisoned: AtomicBool,
    stats: Arc<LogStats>,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Msg>) {
        let mut buf: Vec<u8> = Vec::with_capacity(64 << 10);
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(msg) => batch.push(msg),
                    Err(_) => break,
                }
            }
            self.write_batch(batch, &mut buf);
        }
    }

    fn write_batch(&mut self, batch: Vec<Msg>, buf: &mut Vec<u8>) {
        if self.poisoned.load(Ordering::Relaxed) {
            for msg in batch {
                (msg.ack)(Err(LogError::Unavailable));
            }
            return;
        }
        let time = rfc3339_millis(SystemTime::now());
        let (seq0, prev0) = (self.seq, self.prev.clone());
        buf.clear();
        let mut done = Vec::with_capacity(batch.len());
        for msg in &batch {
            let r = &msg.record;
            self.seq += 1;
            let entry = EntryRef {
                seq: self.seq,
                time: &time,
                request_id: &r.request_id,
                kind: &r.kind,
                policy: &r.policy,
                policy_sha256: &r.policy_sha256,
                manifest_sha256: &r.manifest_sha256,
                decision: &r.decision,
                score: r.score,
                rules: &r.rules,
                engine: &r.engine,
                prev: &self.prev,
            };
            let start = buf.len();
            // Serializing plain strings and numbers into a Vec cannot fail.
            if serde_json::to_writer(&mut *buf, &entry).is_err() {
                buf.truncate(start);
                self.seq -= 1;
                done.push(None);
                continue;
            }
            self.prev = sha256_hex(buf.get(start..).unwrap_or_default());
            buf.push(b'\n');
            done.push(Some(Appended {
                seq: self.seq,
                sha256: self.prev.clone(),
            }));
        }
        let started = Instant::now();
        let written = self
            .file
            .write_all(buf)
            .and_then(|()| self.file.flush())
            .and_then(|()| {
                if self.sync {
                    self.file.sync_data()
                } else {
                    Ok(())
                }
            });
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.write_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.stats
                    .appends
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                for (msg, appended) in batch.into_iter().zip(done) {
                    (msg.ack)(appended.ok_or(LogError::Unavailable));
                }
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                // Roll back to the last good line so the chain stays intact; if even
                // that fails, refuse every later append rather than fork the chain.
                self.seq = seq0;
                self.prev = prev0;
                if self.file.set_len(self.len).is_err() {
                    self.poisoned.store(true, Ordering::Relaxed);
                }
                let kind = e.kind();
                let message = e.to_string();
                for msg in batch {
                    (msg.ack)(Err(LogError::Io {
                        path: self.path.clone(),
                        source: io::Error::new(kind, message.clone()),
                    }));
                }
            }
        }
    }
}

/// [`Entry`] by reference (serialized by the writer without copying the record).
#[derive(Serialize)]
struct EntryRef<'a> {
    seq: u64,
    time: &'a str,
    request_id: &'a str,
    kind: &'a str,
    policy: &'a str,
    policy_sha256: &'a str,
    manifest_sha256: &'a str,
    decision: &'a str,
    score: u32,
    rules: &'a [String],
    engine: &'a str,
    prev: &'a str,
}

/// Find the last complete line of `file`, cut off a torn tail, and check that the last
/// line is an entry linked to the one before it.
fn continue_chain(file: &mut File, path: &Path) -> Result<OpenReport, LogError> {
    let io_err = |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let corrupt = |message: String| LogError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let len = file.metadata().map_err(io_err)?.len();
    if len == 0 {
        return Ok(OpenReport {
            last_seq: 0,
            head: GENESIS.to_owned(),
            torn_bytes_removed: 0,
        });
    }
    // Read a tail big enough to hold the last two complete lines (doubling as needed).
    let mut window: u64 = 64 << 10;
    let tail = loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start)).map_err(io_err)?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).map_err(io_err)?;
        let newlines = tail.iter().filter(|&&b| b == b'\n').count();
        if start == 0 || newlines >= 3 {
            break (start, tail);
        }
        window = window.saturating_mul(2);
    };
    let (start, tail) = tail;
    let complete_end = tail.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    let complete_len = complete_end.unwrap_or(0);
    let torn = tail.len() - complete_len;
    let mut report = OpenReport {
        last_seq: 0,
        head: GENESIS.to_owned(),
        torn_bytes_removed: 0,
    };
    if torn > 0 {
        // A torn last line was never acknowledged (acks follow `sync_data`): cut it off.
        let keep = start + complete_len as u64;
        file.set_len(keep).map_err(io_err)?;
        file.sync_data().map_err(io_err)?;
        report.torn_bytes_removed = torn as u64;
    }
    if complete_len == 0 {
        // The whole file was one torn line (now cut off): start a new chain.
        return Ok(report);
    }
    let complete = tail.get(..complete_len).unwrap_or_default();
    let body = complete.strip_suffix(b"\n").unwrap_or(complete);
    let mut segments = body.rsplit(|&b| b == b'\n');
    let last = segments.next().unwrap_or_default();
    let entry = parse_entry(last).map_err(|e| {
        corrupt(format!(
            "the last line is not a decision log entry ({e}); run `microvet log verify`"
        ))
    })?;
    // The line before it, if the window holds all of it (when the window starts inside
    // the file, its first segment may be a partial line).
    let before = segments.next();
    let before_complete = before.is_some() && (start == 0 || segments.next().is_some());
    match before {
        Some(line) if before_complete && sha256_hex(line) != entry.prev => {
            return Err(corrupt(
                "the last line does not link to the line before it; run `microvet log verify`"
                    .to_owned(),
            ));
        }
        None if entry.seq != 1 || entry.prev != GENESIS => {
            return Err(corrupt(
                "the only line is not a first entry (seq 1, `prev` of 64 zeros)".to_owned(),
            ));
        }
        _ => {}
    }
    report.last_seq = entry.seq;
    report.head = sha256_hex(last);
    Ok(report)
}

fn parse_entry(line: &[u8]) -> Result<Entry, String> {
    let entry: Entry = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    if entry.prev.len() != 64
        || !entry
            .prev
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("`prev` is not 64 lowercase hex digits".to_owned());
    }
    Ok(entry)
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        for nibble in [b >> 4, b & 0xf] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

const HEX: [u8; 16] = *b"0123456789abcdef";

/// `2026-05-01T09:30:00.123Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

/// One problem found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Complete lines in the file.
    pub lines: usize,
    /// Tampering (edited, dropped, inserted, reordered lines) or invalid lines.
    pub problems: Vec<Problem>,
    /// A torn last line (no final `\n`): `(line number, bytes)`. A crash in the middle of
    /// a write leaves one; it was never acknowledged, so it is not tampering.
    pub torn: Option<(usize, usize)>,
    /// The sha256 of the last complete line ([`GENESIS`] for an empty log): compare it
    /// with the head kept elsewhere to detect a rewritten tail.
    pub head: String,
    /// The `seq` of the last complete line.
    pub last_seq: u64,
}

impl Verification {
    /// No problem (a torn last line is not one).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check a whole decision log (the file's bytes): every line an entry, `seq` counting
/// 1, 2, 3… and every `prev` the sha256 of the line before. See the module docs.
pub fn verify(bytes: &[u8]) -> Verification {
    let (complete, torn_part) = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => (
            bytes.get(..i).unwrap_or_default(),
            bytes.get(i + 1..).unwrap_or_default(),
        ),
        None => (&[] as &[u8], bytes),
    };
    let lines: Vec<&[u8]> = if bytes.contains(&b'\n') {
        complete.split(|&b| b == b'\n').collect()
    } else {
        Vec::new()
    };
    // Parse every line first: telling a moved line from a dropped one looks ahead.
    let parsed: Vec<Result<Entry, String>> = lines.iter().map(|l| parse_entry(l)).collect();
    let seqs: Vec<Option<u64>> = parsed
        .iter()
        .map(|p| p.as_ref().ok().map(|e| e.seq))
        .collect();
    let mut problems = Vec::new();
    // seq → (line number, sha256) of its first line.
    let mut seen: HashMap<u64, (usize, String)> = HashMap::new();
    // Seqs whose line is unreadable: the `prev` after them cannot be checked.
    let mut unknown: HashSet<u64> = HashSet::new();
    // Seqs already reported as coming late (by the line that came too early).
    let mut late: HashSet<u64> = HashSet::new();
    let mut max_seq: u64 = 0;
    for (i, (line, entry)) in lines.iter().zip(&parsed).enumerate() {
        let n = i + 1;
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem {
                    line: n,
                    message: format!("not a decision log entry: {e}"),
                });
                // Assume it took the next seq, so the lines after it still line up.
                max_seq += 1;
                unknown.insert(max_seq);
                continue;
            }
        };
        let seq = entry.seq;
        let expected = max_seq + 1;
        if seq > expected {
            // Missing seqs that show up later mean the lines were moved, not dropped.
            let later = seqs
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, s)| s.is_some_and(|s| s >= expected && s < seq));
            let message = match later {
                Some((j, Some(s))) => {
                    late.insert(*s);
                    format!(
                        "out of order: seq {seq} comes before seq {s} (line {})",
                        j + 1
                    )
                }
                _ => {
                    let missing = seq - expected;
                    format!(
                        "seq {seq} where {expected} was expected: {missing} line{} dropped before this line",
                        if missing == 1 { "" } else { "s" }
                    )
                }
            };
            problems.push(Problem { line: n, message });
        } else if seq < expected {
            match seen.get(&seq) {
                Some((j, _)) if *j + 1 == n => problems.push(Problem {
                    line: n,
                    message: format!("seq {seq} repeats the seq of line {j}: a line was inserted"),
                }),
                Some((j, _)) => problems.push(Problem {
                    line: n,
                    message: format!(
                        "seq {seq} was already used by line {j}: a line was inserted or copied"
                    ),
                }),
                None if late.contains(&seq) => {}
                None => problems.push(Problem {
                    line: n,
                    message: format!("out of order: seq {seq} comes after seq {max_seq}"),
                }),
            }
        }
        // The link: `prev` must be the hash of the line holding seq - 1.
        if seq == 1 {
            if entry.prev != GENESIS {
                problems.push(Problem {
                    line: n,
                    message: "the first entry's `prev` is not 64 zeros".to_owned(),
                });
            }
        } else if !unknown.contains(&(seq - 1))
            && let Some((j, hash)) = seen.get(&(seq - 1))
            && *hash != entry.prev
            && !seen.contains_key(&seq)
        {
            problems.push(Problem {
                line: *j,
                message: format!(
                    "changed: its sha256 is not the `prev` recorded by line {n} (line {j} was edited, or line {n}'s `prev` was)"
                ),
            });
        }
        seen.entry(seq).or_insert_with(|| (n, sha256_hex(line)));
        max_seq = max_seq.max(seq);
    }
    let last_seq = parsed
        .iter()
        .rev()
        .find_map(|p| p.as_ref().ok().map(|e| e.seq))
        .unwrap_or(0);
    problems.sort_by_key(|p| p.line);
    problems.dedup();
    Verification {
        lines: lines.len(),
        problems,
        torn: (!torn_part.is_empty()).then_some((lines.len() + 1, torn_part.len())),
        head: lines
            .last()
            .map(|l| sha256_hex(l))
            .unwrap_or_else(|| GENESIS.to_owned()),
        last_seq,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn record(i: u32) -> Record {
        Record {
            request_id: format!("req-{i}"),
            kind: "manifest".to_owned(),
            policy: "default".to_owned(),
            policy_sha256: "ab".repeat(32),
            manifest_sha256: "cd".repeat(32),
            decision: "approve".to_owned(),
            score: i,
            rules: vec!["MV-TEST-001".to_owned()],
            engine: "microvet 0.1.0".to_owned(),
        }
    }

    fn write_log(n: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let (log, report) = DecisionLog::open(&path, false).unwrap();
        assert_eq!(report.last_seq, 0);
        for i in 0..n {
            log.append_blocking(record(i)).unwrap();
        }
        log.close();
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn join(lines: &[String]) -> Vec<u8> {
        let mut s = lines.join("\n");
        s.push('\n');
        s.into_bytes()
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339_millis(t), "2024-02-29T12:34:56.789Z");
    }

    #[test]
    fn chain_verifies_and_continues() {
        let (_dir, path) = write_log(5);
        let v = verify(&std::fs::read(&path).unwrap());
        assert!(v.is_ok(), "{:?}", v.problems);
        assert_eq!((v.lines, v.last_seq, v.torn), (5, 5, None));
        let (log, report) = DecisionLog::open(&path, false).unwrap();
        assert_eq!(report.last_seq, 5);
        assert_eq!(report.head, v.head);
        let a = log.append_blocking(record(9)).unwrap();
        assert_eq!(a.seq, 6);
        log.close();
        let v = verify(&std::fs::read(&path).unwrap());
        assert!(v.is_ok(), "{:?}", v.problems);
        assert_eq!(v.last_seq, 6);
        let first: Entry = serde_json::from_str(&lines(&path)[0]).unwrap();
        assert_eq!(first.prev, GENESIS);
        assert!(!lines(&path)[0].contains('\n'));
    }

    #[test]
    fn edited_dropped_inserted_reordered() {
        let (_dir, path) = write_log(6);
        let orig = lines(&path);

        let mut edited = orig.clone();
        edited[2] = edited[2].replace("\"score\":2", "\"score\":0");
        let v = verify(&join(&edited));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].line, 3, "{:?}", v.problems);
        assert!(v.problems[0].message.contains("changed"));

        let mut dropped = orig.clone();
        dropped.remove(3);
        let v = verify(&join(&dropped));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].line, 4, "{:?}", v.problems);
        assert!(
            v.problems[0].message.contains("dropped"),
            "{:?}",
            v.problems
        );

        let mut first_dropped = orig.clone();
        first_dropped.remove(0);
        let v = verify(&join(&first_dropped));
        assert_eq!(v.problems[0].line, 1, "{:?}", v.problems);

        let mut reordered = orig.clone();
        reordered.swap(1, 2);
        let v = verify(&join(&reordered));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].line, 2, "{:?}", v.problems);
        assert!(
            v.problems[0].message.contains("out of order"),
            "{:?}",
            v.problems
        );

        let mut inserted = orig.clone();
        inserted.insert(3, orig[2].clone());
        let v = verify(&join(&inserted));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].line, 4, "{:?}", v.problems);
        assert!(
            v.problems[0].message.contains("inserted"),
            "{:?}",
            v.problems
        );

        let mut garbage = orig.clone();
        garbage[4] = "{not json".to_owned();
        let v = verify(&join(&garbage));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].line, 5, "{:?}", v.problems);

        // A moved line (taken out and put back further down).
        let mut moved = orig.clone();
        let line = moved.remove(1);
        moved.insert(4, line);
        let v = verify(&join(&moved));
        assert!(!v.is_ok());
        assert_eq!(v.problems[0].line, 2, "{:?}", v.problems);
        assert!(
            v.problems[0].message.contains("out of order"),
            "{:?}",
            v.problems
        );

        // Two lines swapped far apart.
        let mut swapped = orig.clone();
        swapped.swap(0, 5);
        let v = verify(&join(&swapped));
        assert!(!v.is_ok());
        assert_eq!(v.problems[0].line, 1, "{:?}", v.problems);
    }

    #[test]
    fn torn_tail_is_reported_and_cut_on_open() {
        let (_dir, path) = write_log(3);
        let mut bytes = std::fs::read(&path).unwrap();
        let clean_len = bytes.len();
        bytes.extend_from_slice(b"{\"seq\":4,\"time\":\"20");
        std::fs::write(&path, &bytes).unwrap();
        let v = verify(&bytes);
        assert!(v.is_ok(), "{:?}", v.problems);
        assert_eq!(v.torn, Some((4, 19)));
        let (log, report) = DecisionLog::open(&path, false).unwrap();
        assert_eq!(report.torn_bytes_removed, 19);
        assert_eq!(report.last_seq, 3);
        log.append_blocking(record(4)).unwrap();
        log.close();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > clean_len);
        let v = verify(&bytes);
        assert!(v.is_ok() && v.torn.is_none(), "{v:?}");
        assert_eq!(v.last_seq, 4);
    }

    #[test]
    fn open_refuses_a_broken_tail() {
        let (_dir, path) = write_log(3);
        let mut l = lines(&path);
        l[1] = l[1].replace("req-1", "req-x");
        std::fs::write(&path, join(&l)).unwrap();
        let err = DecisionLog::open(&path, false).unwrap_err();
        assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn empty_and_concurrent() {
        assert!(verify(b"").is_ok());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let (log, _) = DecisionLog::open(&path, true).unwrap();
        let log = Arc::new(log);
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        log.append_blocking(record(t * 100 + i)).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(log.stats().appends.load(Ordering::Relaxed), 400);
        drop(log);
        let v = verify(&std::fs::read(&path).unwrap());
        assert!(v.is_ok(), "{:?}", v.problems);
        assert_eq!(v.lines, 400);
    }
}
