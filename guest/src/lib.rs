//! The microvet WebAssembly component: thin wit-bindgen glue over `microvet-core`.
//!
//! Everything of substance lives in the core; this crate only converts between core
//! types and the WIT types of `wit/microvet.wit`. Randomness comes only from the
//! `wasi:random/random` import. No global state, no panics.

// The generated bindings are the only unsafe code of the guest (the canonical ABI glue).
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "microvet",
        generate_all,
    });

    use super::Component;
    export!(Component);
}

use bindings::exports::microvet::vetting::pkce as wit_pkce;
use bindings::exports::microvet::vetting::types as wit;
use bindings::exports::microvet::vetting::vetting as wit_vetting;
use bindings::wasi::random::random::get_random_bytes;

use microvet_core::{ErrorCode, InputKind, pkce};

/// The exported component.
struct Component;

// ---------------------------------------------------------------------------------------
// Conversions: core → WIT
// ---------------------------------------------------------------------------------------

fn error(e: microvet_core::Error) -> wit::Error {
    use microvet_core::ErrorCode as C;
    use wit::ErrorCode as W;
    wit::Error {
        code: match e.code {
            C::Syntax => W::Syntax,
            C::Limit => W::Limit,
            C::Structure => W::Structure,
            C::Policy => W::Policy,
            C::PkceLength => W::PkceLength,
            C::PkceCharset => W::PkceCharset,
            C::PkceChallenge => W::PkceChallenge,
            C::InvalidArgument => W::InvalidArgument,
        },
        message: e.message,
        help: e.help,
        path: e.path,
        line: e.line,
        column: e.column,
    }
}

fn invalid_argument(message: String) -> wit::Error {
    error(microvet_core::Error::new(
        ErrorCode::InvalidArgument,
        message,
    ))
}

fn severity(s: microvet_core::Severity) -> wit::Severity {
    match s {
        microvet_core::Severity::Info => wit::Severity::Info,
        microvet_core::Severity::Low => wit::Severity::Low,
        microvet_core::Severity::Medium => wit::Severity::Medium,
        microvet_core::Severity::High => wit::Severity::High,
        microvet_core::Severity::Critical => wit::Severity::Critical,
    }
}

fn decision(d: microvet_core::Decision) -> wit::Decision {
    match d {
        microvet_core::Decision::Approve => wit::Decision::Approve,
        microvet_core::Decision::ApproveWithControls => wit::Decision::ApproveWithControls,
        microvet_core::Decision::Remediate => wit::Decision::Remediate,
        microvet_core::Decision::Reject => wit::Decision::Reject,
    }
}

fn tier(t: microvet_core::Tier) -> wit::Tier {
    match t {
        microvet_core::Tier::Low => wit::Tier::Low,
        microvet_core::Tier::Medium => wit::Tier::Medium,
        microvet_core::Tier::High => wit::Tier::High,
        microvet_core::Tier::Critical => wit::Tier::Critical,
    }
}

fn input_kind(k: wit::InputKind) -> InputKind {
    match k {
        wit::InputKind::Manifest => InputKind::Manifest,
        wit::InputKind::Dcr => InputKind::Dcr,
    }
}

fn fix(x: microvet_core::Fix) -> wit::Fix {
    wit::Fix {
        op: x.op.to_owned(),
        path: x.path,
        // The compact JSON text (the bytes of `Display`, without serde_json's serializer).
        value: x
            .value
            .map(|value| microvet_core::verdict::value_json(&value)),
        description: x.description,
    }
}

fn finding(f: microvet_core::Finding) -> wit::Finding {
    wit::Finding {
        rule: f.rule.to_owned(),
        severity: severity(f.severity),
        path: f.path,
        line: f.line,
        message: f.message,
        fix: f.fix.map(fix),
    }
}

/// The day of a vet call's options.
fn today(options: &wit::VetOptions) -> Result<Option<microvet_core::Date>, wit::Error> {
    options
        .today
        .as_deref()
        .map(microvet_core::Date::parse_today)
        .transpose()
        .map_err(error)
}

fn verdict(v: microvet_core::Verdict) -> wit::Verdict {
    // The canonical JSON is computed from the core verdict before it is taken apart, so
    // `json` is byte-identical to what the native core produces.
    let json = v.to_json();
    wit::Verdict {
        decision: decision(v.decision),
        risk: wit::Risk {
            score: v.risk.score,
            tier: tier(v.risk.tier),
            factors: v
                .risk
                .factors
                .into_iter()
                .map(|f| wit::RiskFactor {
                    factor: f.factor,
                    points: f.points,
                    reason: f.reason,
                })
                .collect(),
        },
        findings: v.findings.into_iter().map(finding).collect(),
        waived: v
            .waived
            .into_iter()
            .map(|w| wit::Waived {
                finding: finding(w.finding),
                waiver: wit::WaiverRef {
                    id: w.waiver.id,
                    reason: w.waiver.reason,
                    approved_by: w.waiver.approved_by,
                    expires: w.waiver.expires,
                },
            })
            .collect(),
        controls: v
            .controls
            .into_iter()
            .map(|c| wit::Control {
                control: c.control.to_owned(),
                value: microvet_core::verdict::value_json(&c.value),
                reason: c.reason,
            })
            .collect(),
        manifest_sha256: v.manifest_sha256,
        policy_sha256: v.policy_sha256,
        engine: v.engine,
        json,
    }
}

fn summary(v: microvet_core::Verdict) -> wit::VetSummary {
    let rules = v.distinct_rules();
    let waivers = v.distinct_waivers();
    wit::VetSummary {
        decision: decision(v.decision),
        score: v.risk.score,
        rules,
        waivers,
        json: v.to_json(),
        manifest_sha256: v.manifest_sha256,
    }
}

fn pair(p: pkce::PkcePair) -> wit_pkce::PkcePair {
    wit_pkce::PkcePair {
        verifier: p.verifier,
        challenge: p.challenge,
        method: p.method,
    }
}

fn length(len: u32) -> Result<usize, wit::Error> {
    usize::try_from(len).map_err(|_| invalid_argument(format!("length {len} is out of range")))
}

// ---------------------------------------------------------------------------------------
// Entropy from wasi:random
// ---------------------------------------------------------------------------------------

/// [`pkce::Entropy`] backed by `wasi:random/random.get-random-bytes`.
///
/// The core's `Entropy::fill` cannot fail, so a host that hands back too few bytes is
/// recorded in `short` (the rest of the buffer is zeroed) and the call that used this
/// source returns an error instead of a value made from weak randomness.
///
/// A batch draws its randomness in chunks of up to [`MAX_CHUNK`] bytes (`chunk`) instead of
/// one host call per verifier: each call crosses the component boundary (a syscall in
/// wasmtime, `crypto.getRandomValues` in a browser). Bytes are handed out once, and zeroed
/// in the pool as they are, so no two verifiers share randomness.
struct WasiRandom {
    short: bool,
    /// Bytes to draw per host call; 0 draws exactly what each `fill` asks for.
    chunk: usize,
    pool: Vec<u8>,
    /// Bytes of `pool` already handed out (and zeroed).
    used: usize,
}

/// The most a batch draws from the host in one call (browsers refuse more than 65,536 bytes
/// per `crypto.getRandomValues`, so the JS side would split anything larger anyway).
const MAX_CHUNK: usize = 64 * 1024;

impl WasiRandom {
    /// Fill `buf` straight from the host.
    fn draw(&mut self, buf: &mut [u8]) {
        let wanted = match u64::try_from(buf.len()) {
            Ok(n) => n,
            Err(_) => {
                self.short = true;
                buf.fill(0);
                return;
            }
        };
        let bytes = get_random_bytes(wanted);
        if bytes.len() != buf.len() {
            self.short = true;
        }
        let mut got = bytes.into_iter();
        for slot in buf.iter_mut() {
            *slot = got.next().unwrap_or(0);
        }
    }
}

impl pkce::Entropy for WasiRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if buf.len() > self.chunk {
            self.draw(buf);
            return;
        }
        if self.pool.len().saturating_sub(self.used) < buf.len() {
            let mut pool = std::mem::take(&mut self.pool);
            pool.fill(0);
            pool.resize(self.chunk, 0);
            self.draw(&mut pool);
            self.pool = pool;
            self.used = 0;
        }
        let end = self.used.saturating_add(buf.len());
        match self.pool.get_mut(self.used..end) {
            Some(fresh) => {
                buf.copy_from_slice(fresh);
                fresh.fill(0);
                self.used = end;
            }
            // Not reachable (the pool was just refilled to `chunk >= buf.len()` bytes);
            // draw directly rather than hand out anything twice.
            None => self.draw(buf),
        }
    }
}

impl Drop for WasiRandom {
    fn drop(&mut self) {
        // Best effort: do not leave unused random bytes behind in linear memory.
        self.pool.fill(0);
    }
}

impl WasiRandom {
    /// Run `f` with a fresh entropy source that draws about `budget` bytes per host call
    /// (0: exactly what each verifier needs), and fail if the host gave short randomness.
    fn with<T>(
        budget: usize,
        f: impl FnOnce(&mut dyn pkce::Entropy) -> microvet_core::Result<T>,
    ) -> Result<T, wit::Error> {
        let mut rng = WasiRandom {
            short: false,
            chunk: budget.min(MAX_CHUNK),
            pool: Vec::new(),
            used: 0,
        };
        let out = f(&mut rng).map_err(error)?;
        if rng.short {
            return Err(error(
                microvet_core::Error::new(
                    ErrorCode::InvalidArgument,
                    "the host's `wasi:random/random.get-random-bytes` returned fewer bytes than requested",
                )
                .with_help("this is a bug in the embedding runtime, not in the input"),
            ));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------

/// The `policy` resource: a parsed core policy.
struct Policy(microvet_core::Policy);

impl wit_vetting::GuestPolicy for Policy {
    fn builtin() -> Result<wit_vetting::Policy, wit::Error> {
        microvet_core::Policy::builtin()
            .map(|p| wit_vetting::Policy::new(Policy(p)))
            .map_err(error)
    }

    fn parse(text: String) -> Result<wit_vetting::Policy, wit::Error> {
        microvet_core::Policy::parse(&text)
            .map(|p| wit_vetting::Policy::new(Policy(p)))
            .map_err(error)
    }

    fn sha256(&self) -> String {
        self.0.sha256().to_owned()
    }

    fn name(&self) -> String {
        self.0.name().to_owned()
    }

    fn vet(&self, manifest: String) -> Result<wit::Verdict, wit::Error> {
        self.0.vet(&manifest).map(verdict).map_err(error)
    }

    fn with_waivers(&self, text: String) -> Result<wit_vetting::Policy, wit::Error> {
        self.0
            .with_waivers(&text)
            .map(|p| wit_vetting::Policy::new(Policy(p)))
            .map_err(error)
    }

    fn vet_kind(
        &self,
        kind: wit::InputKind,
        text: String,
        options: wit::VetOptions,
    ) -> Result<wit::Verdict, wit::Error> {
        self.0
            .vet_on(input_kind(kind), &text, today(&options)?)
            .map(verdict)
            .map_err(error)
    }

    fn vet_summary(
        &self,
        kind: wit::InputKind,
        text: String,
        options: wit::VetOptions,
    ) -> Result<wit::VetSummary, wit::Error> {
        self.0
            .vet_on(input_kind(kind), &text, today(&options)?)
            .map(summary)
            .map_err(error)
    }

    fn vet_batch(&self, manifests: Vec<String>) -> Vec<Result<wit::Verdict, wit::Error>> {
        manifests
            .iter()
            .map(|m| self.0.vet(m).map(verdict).map_err(error))
            .collect()
    }

    fn fix(&self, manifest: String) -> Result<wit_vetting::Fixed, wit::Error> {
        let fixed = self.0.fix(&manifest).map_err(error)?;
        Ok(fixed_record(fixed))
    }
}

fn fixed_record(fixed: microvet_core::fix::Fixed) -> wit_vetting::Fixed {
    wit_vetting::Fixed {
        manifest: fixed.manifest,
        applied: fixed.applied.into_iter().map(fix).collect(),
        rewritten: fixed.rewritten,
    }
}

fn core_fix(f: wit::Fix) -> Result<microvet_core::Fix, wit::Error> {
    microvet_core::fix::fix_from_parts(&f.op, f.path, f.value.as_deref(), f.description)
        .map_err(error)
}

impl wit_vetting::Guest for Component {
    type Policy = Policy;

    fn engine() -> String {
        microvet_core::ENGINE.to_owned()
    }

    fn rules_json() -> String {
        microvet_core::rules_json()
    }

    fn explain(id: String) -> Option<String> {
        microvet_core::rules::find(&id).map(|r| r.doc_markdown())
    }

    fn apply_fix(manifest: String, fix: wit::Fix) -> Result<String, wit::Error> {
        microvet_core::fix::apply_fix(&manifest, &core_fix(fix)?).map_err(error)
    }

    fn apply_fixes(
        manifest: String,
        fixes: Vec<wit::Fix>,
    ) -> Result<wit_vetting::Fixed, wit::Error> {
        let fixes = fixes
            .into_iter()
            .map(core_fix)
            .collect::<Result<Vec<_>, _>>()?;
        microvet_core::fix::apply_fixes(&manifest, &fixes)
            .map(fixed_record)
            .map_err(error)
    }
}

impl wit_pkce::Guest for Component {
    fn generate(len: u32) -> Result<wit_pkce::PkcePair, wit::Error> {
        let len = length(len)?;
        WasiRandom::with(0, |rng| pkce::generate(len, rng)).map(pair)
    }

    fn generate_batch(len: u32, count: u32) -> Result<Vec<wit_pkce::PkcePair>, wit::Error> {
        let len = length(len)?;
        let count = usize::try_from(count)
            .map_err(|_| invalid_argument(format!("batch count {count} is out of range")))?;
        // About 1.29 bytes per character are needed (rejection sampling), plus a margin.
        let per_pair = len.saturating_add(len / 3).saturating_add(8);
        WasiRandom::with(count.saturating_mul(per_pair), |rng| {
            pkce::generate_batch(len, count, rng)
        })
        .map(|pairs| pairs.into_iter().map(pair).collect())
    }

    fn challenge(verifier: String) -> Result<String, wit::Error> {
        pkce::challenge(&verifier).map_err(error)
    }

    fn verify(verifier: String, challenge: String) -> Result<bool, wit::Error> {
        pkce::verify(&verifier, &challenge).map_err(error)
    }

    fn authorize_url(
        endpoint: String,
        client_id: String,
        redirect_uri: String,
        scopes: Vec<String>,
        extra: Vec<(String, String)>,
    ) -> Result<wit_pkce::AuthorizeRequest, wit::Error> {
        // The verifier, `state` and `nonce` from one host call.
        WasiRandom::with(256, |rng| {
            pkce::authorize_url(&endpoint, &client_id, &redirect_uri, &scopes, &extra, rng)
        })
        .map(|r| wit_pkce::AuthorizeRequest {
            url: r.url,
            verifier: r.verifier,
            challenge: r.challenge,
            state: r.state,
            nonce: r.nonce,
        })
    }
}
