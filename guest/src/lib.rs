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

/// Run `f` with randomness from `wasi:random/random.get-random-bytes`, drawn about `budget`
/// bytes per host call ([`pkce::Pooled`]); an error if the host gave short randomness.
fn with_random<T>(
    budget: usize,
    f: impl FnOnce(&mut dyn pkce::Entropy) -> microvet_core::Result<T>,
) -> Result<T, wit::Error> {
    let draw = |n: usize| u64::try_from(n).map_or_else(|_| Vec::new(), get_random_bytes);
    pkce::Pooled::new(budget, draw).run(f).map_err(error)
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
        with_random(0, |rng| pkce::generate(len, rng)).map(pair)
    }

    fn generate_batch(len: u32, count: u32) -> Result<Vec<wit_pkce::PkcePair>, wit::Error> {
        let len = length(len)?;
        let count = usize::try_from(count)
            .map_err(|_| invalid_argument(format!("batch count {count} is out of range")))?;
        // About 1.29 bytes per character are needed (rejection sampling), plus a margin.
        let per_pair = len.saturating_add(len / 3).saturating_add(8);
        with_random(count.saturating_mul(per_pair), |rng| {
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
        with_random(256, |rng| {
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
