//! microvet host: runs the microvet WebAssembly component in wasmtime.
//!
//! The host never re-implements a check: every verdict comes from the component
//! ([`COMPONENT`]), the same bytes that Node and the browser run. A [`Vetter`] holds one
//! engine, one compiled component and one pre-linked instance; every call gets a fresh
//! `Store` and instance, with a memory limit and a time limit, so a trap or a limit hit
//! fails only that call.
//!
//! Servers opt into a warm-instance pool ([`VetterOptions::warm_pool`], [`WarmPool`]):
//! instances with the policy already parsed are reused across vets (about ten times cheaper
//! per vet than a fresh instance; `scripts/bench.sh`) and
//! discarded on any trap or limit hit. [`Vetter::with_policy`] gives a vetter for another
//! policy on the same engine; `Vetter::vet_async` (feature `tokio`) runs a vet on tokio's
//! blocking pool. A service that passes the verdict JSON on as it is calls
//! [`Vetter::vet_summary`] instead of [`Vetter::vet`]: the same JSON with the decision,
//! score, rule IDs and hashes, without building the typed [`Verdict`] (~20 % cheaper per
//! warm vet). The [`decision_log`] module is the tamper-evident decision log, and
//! `server` (feature `serve`) the HTTP service of `microvet serve`. Examples:
//! `host/examples/embed.rs`, `host/examples/warm_pool.rs`.
//!
//! ```no_run
//! use microvet::{Vetter, VetterOptions};
//! # fn main() -> Result<(), microvet::HostError> {
//! let vetter = Vetter::new(VetterOptions::default())?;
//! let outcome = vetter.vet("name: hello\n")?;
//! println!("{}", outcome.json);
//! # Ok(())
//! # }
//! ```

mod cache;
pub mod decision_log;
#[cfg(feature = "serve")]
pub mod discover;
mod error;
pub mod input_file;
#[cfg(feature = "serve")]
pub mod lifecycle;
mod pool;
pub mod sarif;
#[cfg(feature = "serve")]
pub mod server;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};

pub use cache::{CacheStatus, default_cache_dir};
pub use error::{HostError, LimitExceeded};
pub use pool::{PoolStats, WarmPool};
pub use types::{
    AppliedFix, AuthorizeRequest, Control, Decision, ErrorCode, Finding, Fix, FixOutcome,
    InputKind, PkcePair, Risk, RiskFactor, Severity, Tier, Verdict, VetError, VetOutcome,
    VetSummary, Waived, WaiverRef,
};

/// The microvet component (built from `guest/` by `build.rs`): the exact bytes every
/// runtime runs. `microvet component --out FILE` writes them.
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/microvet.wasm"));

/// Lowercase hex sha256 of [`COMPONENT`].
pub const COMPONENT_SHA256: &str = env!("MICROVET_COMPONENT_SHA256");

/// The target triple the host was built for (part of the compiled-code cache key).
pub(crate) const TARGET_TRIPLE: &str = env!("MICROVET_TARGET");

/// The WIT of the component (`wit/microvet.wit`).
pub const WIT: &str = include_str!("../../wit/microvet.wit");

/// The default memory limit of one call: 64 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// The default time limit of one call: 5 s.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(5);

/// The most random bytes the host hands out in one `get-random-bytes` call.
const MAX_RANDOM_BYTES: u64 = 1 << 20;

#[allow(unsafe_code, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "microvet",
        imports: { default: trappable },
    });
}

use bindings::Microvet;
use bindings::exports::microvet::vetting::types as wit;

/// Where the policy comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PolicySource {
    /// The built-in default policy (`policies/default.yaml`).
    #[default]
    Builtin,
    /// A policy document (YAML or JSON).
    Text(String),
}

/// Options of a [`Vetter`].
#[derive(Debug, Clone)]
pub struct VetterOptions {
    /// The policy to vet against.
    pub policy: PolicySource,
    /// Directory of the compiled-code cache; `None` compiles on every [`Vetter::new`].
    /// See [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Linear-memory limit of one call, in bytes (default 64 MiB).
    pub memory_limit: usize,
    /// Wall-clock limit of one call (default 5 s); `None` for no limit.
    pub time_limit: Option<Duration>,
    /// Use wasmtime's pooling allocator with room for this many concurrent calls
    /// (servers); `None` allocates each instance on demand (CLI).
    pub pooling: Option<u32>,
    /// Reuse warm instances (store + instance + parsed policy) across vets instead of a
    /// fresh instance per call; see [`WarmPool`]. `None` (the default): a fresh instance
    /// per call. Only vets (`vet`, `vet_dcr`, `vet_kind`, `vet_batch`, `fix`) use the
    /// pool; PKCE and the rule catalogue always get a fresh instance.
    pub warm_pool: Option<WarmPool>,
    /// A waivers file (`waivers: [...]`, YAML or JSON) whose waivers are added to the
    /// policy's own, validated against it ([`HostError::Policy`] names the waiver).
    pub waivers: Option<String>,
    /// The day vets are made on: the day waivers are checked against.
    pub today: Today,
}

/// The day a [`Vetter`] vets on (the component has no clock: the host says the day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Today {
    /// The current date in UTC, read at every vet (the default).
    #[default]
    Clock,
    /// A fixed day (tests, reproducing a past verdict).
    Fixed(microvet_core::Date),
}

impl Today {
    /// The day, as `YYYY-MM-DD`.
    pub fn date(self) -> microvet_core::Date {
        match self {
            Today::Fixed(d) => d,
            Today::Clock => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                microvet_core::Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
            }
        }
    }
}

impl Default for VetterOptions {
    fn default() -> Self {
        VetterOptions {
            policy: PolicySource::Builtin,
            cache_dir: None,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            time_limit: Some(DEFAULT_TIME_LIMIT),
            pooling: None,
            warm_pool: None,
            waivers: None,
            today: Today::Clock,
        }
    }
}

/// Runs the microvet component. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Vetter {
    engine: Engine,
    component: Component,
    pre: bindings::MicrovetPre<State>,
    policy: Arc<PolicySource>,
    waivers: Option<Arc<str>>,
    today: Today,
    policy_sha256: Arc<str>,
    policy_name: Arc<str>,
    engine_version: Arc<str>,
    memory_limit: usize,
    time_limit: Option<Duration>,
    deadline_ticks: u64,
    cache_status: CacheStatus,
    _ticker: Option<Arc<Ticker>>,
    warm: Option<Arc<pool::Pool>>,
}

impl std::fmt::Debug for Vetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vetter")
            .field("policy_name", &self.policy_name)
            .field("policy_sha256", &self.policy_sha256)
            .field("engine", &self.engine_version)
            .field("memory_limit", &self.memory_limit)
            .field("time_limit", &self.time_limit)
            .field("cache_status", &self.cache_status)
            .finish_non_exhaustive()
    }
}

/// Per-call store data: the resource limiter and the `wasi:random` implementation.
struct State {
    limiter: Limiter,
}

struct Limiter {
    inner: StoreLimits,
    memory_limit: usize,
    /// The size the linear memory has grown to (warm instances are retired past
    /// [`WarmPool::max_memory`]).
    memory_bytes: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            // An error (rather than `Ok(false)`) traps right here with a typed reason,
            // instead of the guest aborting on a failed allocation later.
            return Err(wasmtime::Error::new(LimitExceeded::Memory {
                limit: self.memory_limit,
            }));
        }
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes = self.memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl bindings::wasi::random::random::Host for State {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        if len > MAX_RANDOM_BYTES {
            return Err(wasmtime::Error::new(LimitExceeded::Random {
                requested: len,
                limit: MAX_RANDOM_BYTES,
            }));
        }
        let len = usize::try_from(len)?;
        let mut buf = vec![0u8; len];
        getrandom::fill(&mut buf)
            .map_err(|e| wasmtime::format_err!("the OS random source failed: {e}"))?;
        Ok(buf)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        getrandom::u64().map_err(|e| wasmtime::format_err!("the OS random source failed: {e}"))
    }
}

/// Drives epoch interruption: increments the engine's epoch every tick until the last
/// clone of the [`Vetter`] is dropped (the channel then disconnects).
struct Ticker {
    _stop: mpsc::Sender<()>,
}

impl Ticker {
    fn start(engine: &Engine, tick: Duration) -> Result<Ticker, HostError> {
        let (stop, rx) = mpsc::channel::<()>();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("microvet-epoch".to_owned())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| HostError::setup("cannot start the epoch thread", e))?;
        Ok(Ticker { _stop: stop })
    }
}

/// Upper bounds of what one call may create (the component needs fewer).
const CORE_INSTANCES_PER_CALL: u32 = 16;
const TABLES_PER_CALL: u32 = 16;

/// Ticks of the epoch deadline: the call traps between `limit` and `limit * 9/8`.
const DEADLINE_TICKS: u64 = 9;

fn tick_of(limit: Duration) -> Duration {
    (limit / 8).clamp(Duration::from_millis(1), Duration::from_secs(1))
}

impl Vetter {
    /// Set up the engine, load (or compile and cache) the component, and validate the
    /// policy once.
    ///
    /// # Errors
    /// [`HostError::Policy`] for an invalid policy; [`HostError::Setup`] when the engine
    /// or the component cannot be set up; [`HostError::Trap`]/[`HostError::Limit`] when
    /// validating the policy traps.
    pub fn new(options: VetterOptions) -> Result<Vetter, HostError> {
        let mut config = Config::new();
        // Always on (with a huge deadline when there is no time limit), so the compiled
        // code, and so the cache file, is the same whatever the options.
        // Its price is the largest single item of a warm vet: the check at every function
        // entry and loop header (and the registers it ties up) costs ~20 % of the guest
        // time (`cargo run --release -p microvet-bench --example guest_variants -- --config
        // no-epoch NAME=guest.wasm`). The other defaults are right for this component:
        // 32-bit memory accesses need no explicit bounds checks (signals-based traps, 4 GiB
        // reservation), and `table_lazy_init(false)` or `OptLevel::SpeedAndSize` measured
        // no difference.
        config.epoch_interruption(true);
        if let Some(instances) = options.pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            // One component instance holds a few core instances (the module and the
            // canonical-ABI shims), one linear memory and a few tables.
            pool.total_component_instances(instances)
                .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_CALL))
                .total_memories(instances)
                .total_tables(instances.saturating_mul(TABLES_PER_CALL))
                .max_memory_size(options.memory_limit);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine =
            Engine::new(&config).map_err(|e| HostError::setup("cannot create the engine", e))?;

        let (component, cache_status) =
            cache::load_or_compile(&engine, options.cache_dir.as_deref())?;

        let mut linker = Linker::<State>::new(&engine);
        Microvet::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(|e| HostError::setup("cannot link the component", e))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::setup("cannot pre-instantiate the component", e))?;
        let pre = bindings::MicrovetPre::new(instance_pre)
            .map_err(|e| HostError::setup("the component does not match the WIT", e))?;

        let (ticker, deadline_ticks) = match options.time_limit {
            Some(limit) => (
                Some(Arc::new(Ticker::start(&engine, tick_of(limit))?)),
                DEADLINE_TICKS,
            ),
            None => (None, u64::MAX / 2),
        };

        let mut vetter = Vetter {
            engine,
            component,
            pre,
            policy: Arc::new(options.policy),
            waivers: options.waivers.map(Arc::from),
            today: options.today,
            policy_sha256: Arc::from(""),
            policy_name: Arc::from(""),
            engine_version: Arc::from(""),
            memory_limit: options.memory_limit,
            time_limit: options.time_limit,
            deadline_ticks,
            cache_status,
            _ticker: ticker,
            warm: options.warm_pool.map(|w| Arc::new(pool::Pool::new(w))),
        };
        vetter.init_policy()?;
        Ok(vetter)
    }

    /// A vetter for another policy that shares this one's engine, compiled component,
    /// epoch thread and limits (only the policy is parsed and validated): cheap enough
    /// for a server to hold one per named policy and to reload them. It gets a warm pool
    /// of its own (same options) if this one has one.
    ///
    /// # Errors
    /// As [`Vetter::new`] for the policy.
    pub fn with_policy(&self, policy: PolicySource) -> Result<Vetter, HostError> {
        self.derived(Arc::new(policy), self.waivers.clone())
    }

    /// This vetter with the waivers of a waivers file (`None`: none) instead of its own,
    /// sharing engine, component and limits like [`Vetter::with_policy`].
    ///
    /// # Errors
    /// [`HostError::Policy`] when a waiver is invalid (the error names it).
    pub fn with_waivers(&self, waivers: Option<String>) -> Result<Vetter, HostError> {
        self.derived(Arc::clone(&self.policy), waivers.map(Arc::from))
    }

    /// [`Vetter::with_policy`] and [`Vetter::with_waivers`] in one step (one validation).
    ///
    /// # Errors
    /// As [`Vetter::new`] for the policy; [`HostError::Policy`] for an invalid waiver.
    pub fn with_policy_and_waivers(
        &self,
        policy: PolicySource,
        waivers: Option<String>,
    ) -> Result<Vetter, HostError> {
        self.derived(Arc::new(policy), waivers.map(Arc::from))
    }

    /// A vetter sharing this one's engine, component, epoch thread and limits, with
    /// `policy` and `waivers` parsed and validated, and a warm pool of its own.
    fn derived(
        &self,
        policy: Arc<PolicySource>,
        waivers: Option<Arc<str>>,
    ) -> Result<Vetter, HostError> {
        let mut vetter = Vetter {
            policy,
            waivers,
            policy_sha256: Arc::from(""),
            policy_name: Arc::from(""),
            engine_version: Arc::from(""),
            warm: self
                .warm
                .as_ref()
                .map(|p| Arc::new(pool::Pool::new(p.options))),
            ..self.clone()
        };
        vetter.init_policy()?;
        Ok(vetter)
    }

    /// Whether this vetter has a waivers file ([`VetterOptions::waivers`]).
    pub fn has_waivers(&self) -> bool {
        self.waivers.is_some()
    }

    /// This vetter, vetting on `today`.
    pub fn on(&self, today: Today) -> Vetter {
        Vetter {
            today,
            ..self.clone()
        }
    }

    /// Counters of the warm-instance pool (`None` without one).
    pub fn pool_stats(&self) -> Option<PoolStats> {
        self.warm.as_ref().map(|p| p.stats())
    }

    /// The options of the warm-instance pool (`None` without one).
    pub fn warm_pool(&self) -> Option<WarmPool> {
        self.warm.as_ref().map(|p| p.options)
    }

    /// [`Vetter::vet_kind`] on tokio's blocking thread pool, so an async runtime is not
    /// blocked while the component runs.
    ///
    /// # Errors
    /// As [`Vetter::vet`]; [`HostError::Trap`] if the blocking task could not run.
    #[cfg(feature = "tokio")]
    pub async fn vet_async(&self, kind: InputKind, text: String) -> Result<VetOutcome, HostError> {
        let vetter = self.clone();
        tokio::task::spawn_blocking(move || vetter.vet_kind(kind, &text))
            .await
            .map_err(|e| HostError::Trap(format!("the vetting task failed: {e}")))?
    }

    /// Parse and validate the policy once, recording its sha256 and name.
    fn init_policy(&mut self) -> Result<(), HostError> {
        let (sha256, name, engine_version) = self.call(|store, mv, policy| {
            let vetting = mv.microvet_vetting_vetting();
            let p = vetting.policy();
            Ok(Ok((
                p.call_sha256(&mut *store, policy)?,
                p.call_name(&mut *store, policy)?,
                vetting.call_engine(&mut *store)?,
            )))
        })?;
        self.policy_sha256 = Arc::from(sha256);
        self.policy_name = Arc::from(name);
        self.engine_version = Arc::from(engine_version);
        Ok(())
    }

    /// The options of a vet call: the day of the vet.
    fn vet_options(&self) -> wit::VetOptions {
        wit::VetOptions {
            today: Some(self.today.date().to_string()),
        }
    }

    /// The day this vetter vets on.
    pub fn today(&self) -> Today {
        self.today
    }

    /// Vet a manifest (YAML or JSON text).
    ///
    /// # Errors
    /// [`HostError::Input`] when the text cannot be vetted at all; `Trap`/`Limit` when
    /// the call trapped or hit a limit.
    pub fn vet(&self, manifest: &str) -> Result<VetOutcome, HostError> {
        self.vet_kind(InputKind::Manifest, manifest)
    }

    /// Vet a raw RFC 7591 dynamic client registration request (JSON).
    ///
    /// # Errors
    /// As [`Vetter::vet`].
    pub fn vet_dcr(&self, request: &str) -> Result<VetOutcome, HostError> {
        self.vet_kind(InputKind::Dcr, request)
    }

    /// Vet a document of the given kind.
    ///
    /// # Errors
    /// As [`Vetter::vet`].
    pub fn vet_kind(&self, kind: InputKind, text: &str) -> Result<VetOutcome, HostError> {
        let kind = wit::InputKind::from(kind);
        self.call(|store, mv, policy| {
            let result = mv.microvet_vetting_vetting().policy().call_vet_kind(
                store,
                policy,
                kind,
                text,
                &self.vet_options(),
            )?;
            Ok(result.map_err(|e| HostError::Input(e.into())))
        })
        .and_then(VetOutcome::try_from)
    }

    /// Vet a document of the given kind and return its canonical JSON with a summary
    /// (decision, score, rule IDs, hashes) instead of the typed verdict: what a service
    /// that passes the JSON on needs, at a lower cost per call (see
    /// `docs/PERFORMANCE.md`). The JSON is byte-identical to [`VetOutcome::json`].
    ///
    /// # Errors
    /// As [`Vetter::vet`].
    pub fn vet_summary(&self, kind: InputKind, text: &str) -> Result<VetSummary, HostError> {
        let s = self.call(|store, mv, policy| {
            let result = mv.microvet_vetting_vetting().policy().call_vet_summary(
                store,
                policy,
                kind.into(),
                text,
                &self.vet_options(),
            )?;
            Ok(result.map_err(|e| HostError::Input(e.into())))
        })?;
        Ok(VetSummary {
            decision: s.decision.into(),
            score: s.score,
            rules: s.rules,
            waivers: s.waivers,
            manifest_sha256: s.manifest_sha256,
            policy_sha256: self.policy_sha256.to_string(),
            engine: self.engine_version.to_string(),
            json: s.json,
        })
    }

    /// Vet many manifests in one call (one instance, one policy parse; one result each,
    /// in order). A trap or limit fails the whole batch.
    ///
    /// # Errors
    /// `Trap`/`Limit` when the call trapped or hit a limit.
    pub fn vet_batch(
        &self,
        manifests: &[String],
    ) -> Result<Vec<Result<VetOutcome, HostError>>, HostError> {
        let results = self.call(|store, mv, policy| {
            Ok(Ok(mv
                .microvet_vetting_vetting()
                .policy()
                .call_vet_batch(store, policy, manifests)?))
        })?;
        Ok(results
            .into_iter()
            .map(|r| {
                r.map_err(|e| HostError::Input(e.into()))
                    .and_then(VetOutcome::try_from)
            })
            .collect())
    }

    /// Generate a PKCE verifier of `length` (43..=128) characters and its S256 challenge.
    ///
    /// # Errors
    /// [`HostError::Input`] (code `pkce-length`) for a length outside 43..=128.
    pub fn pkce_generate(&self, length: u32) -> Result<PkcePair, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_pkce()
                .call_generate(store, length)?
                .map(PkcePair::from)
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Generate `count` PKCE pairs in one call.
    ///
    /// # Errors
    /// As [`Vetter::pkce_generate`]; also for a count above the core's batch limit.
    pub fn pkce_generate_batch(&self, length: u32, count: u32) -> Result<Vec<PkcePair>, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_pkce()
                .call_generate_batch(store, length, count)?
                .map(|pairs| pairs.into_iter().map(PkcePair::from).collect())
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// The S256 challenge of a verifier (validated first).
    ///
    /// # Errors
    /// [`HostError::Input`] for a malformed verifier.
    pub fn pkce_challenge(&self, verifier: &str) -> Result<String, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_pkce()
                .call_challenge(store, verifier)?
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Whether `challenge` is the S256 challenge of `verifier` (constant time in the
    /// component).
    ///
    /// # Errors
    /// [`HostError::Input`] for a malformed verifier or challenge (a mismatch is `Ok(false)`).
    pub fn pkce_verify(&self, verifier: &str, challenge: &str) -> Result<bool, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_pkce()
                .call_verify(store, verifier, challenge)?
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Build an authorization-code request URL with PKCE S256, `state` and (for the
    /// `openid` scope) `nonce`.
    ///
    /// # Errors
    /// [`HostError::Input`] (code `invalid-argument`) for a bad endpoint, client id,
    /// redirect URI, scope or extra parameter.
    pub fn pkce_authorize_url(
        &self,
        endpoint: &str,
        client_id: &str,
        redirect_uri: &str,
        scopes: &[String],
        extra: &[(String, String)],
    ) -> Result<AuthorizeRequest, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_pkce()
                .call_authorize_url(store, endpoint, client_id, redirect_uri, scopes, extra)?
                .map(AuthorizeRequest::from)
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Vet a manifest, apply every machine-applicable fix and remove every secret left
    /// (`microvet fix`). Returns the fixed manifest (the input's text edited at the fixed
    /// nodes' spans) and the fixes applied, each as `(op, path, value JSON, description)`.
    ///
    /// # Errors
    /// As [`Vetter::vet`].
    pub fn fix(&self, manifest: &str) -> Result<FixOutcome, HostError> {
        self.call(|store, mv, policy| {
            let result = mv
                .microvet_vetting_vetting()
                .policy()
                .call_fix(store, policy, manifest)?;
            Ok(result
                .map(FixOutcome::from)
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Apply one fix (JSON Patch `add` / `replace` / `remove`, the value as JSON text) to a
    /// manifest, editing its text at the span of the node the fix names.
    ///
    /// # Errors
    /// `Input` when the manifest cannot be read or the fix does not apply.
    pub fn apply_fix(&self, manifest: &str, fix: &AppliedFix) -> Result<String, HostError> {
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_vetting()
                .call_apply_fix(store, manifest, &wit::Fix::from(fix))?
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// Apply fixes as [`Vetter::fix`] does, without vetting (fixes that do not apply are
    /// left out of `applied`).
    ///
    /// # Errors
    /// `Input` when the manifest cannot be read or a fix is malformed.
    pub fn apply_fixes(
        &self,
        manifest: &str,
        fixes: &[AppliedFix],
    ) -> Result<FixOutcome, HostError> {
        let fixes: Vec<wit::Fix> = fixes.iter().map(wit::Fix::from).collect();
        self.call_free(|store, mv| {
            Ok(mv
                .microvet_vetting_vetting()
                .call_apply_fixes(store, manifest, &fixes)?
                .map(FixOutcome::from)
                .map_err(|e| HostError::Input(e.into())))
        })
    }

    /// A rule's documentation as Markdown, from the component (`None` for an unknown ID).
    ///
    /// # Errors
    /// `Trap`/`Limit` when the call trapped or hit a limit.
    pub fn explain(&self, id: &str) -> Result<Option<String>, HostError> {
        self.call_free(|store, mv| Ok(Ok(mv.microvet_vetting_vetting().call_explain(store, id)?)))
    }

    /// The rule catalogue as JSON (id, name, severity, docs), from the component.
    ///
    /// # Errors
    /// `Trap`/`Limit` when the call trapped or hit a limit.
    pub fn rules_json(&self) -> Result<String, HostError> {
        self.call_free(|store, mv| Ok(Ok(mv.microvet_vetting_vetting().call_rules_json(store)?)))
    }

    /// Lowercase hex sha256 of the policy text.
    pub fn policy_sha256(&self) -> &str {
        &self.policy_sha256
    }

    /// The policy this vetter vets against (its text, or the built-in one).
    pub fn policy_source(&self) -> &PolicySource {
        &self.policy
    }

    /// The policy's name.
    pub fn policy_name(&self) -> &str {
        &self.policy_name
    }

    /// The engine version of the component, `microvet x.y.z`.
    pub fn engine(&self) -> &str {
        &self.engine_version
    }

    /// What happened with the compiled-code cache when this vetter was created.
    pub fn cache_status(&self) -> &CacheStatus {
        &self.cache_status
    }

    /// The configured memory limit of one call, in bytes.
    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    /// The configured time limit of one call.
    pub fn time_limit(&self) -> Option<Duration> {
        self.time_limit
    }

    // -----------------------------------------------------------------------------------

    /// A fresh store with the limits of this vetter.
    fn store(&self) -> Store<State> {
        let mut store = Store::new(
            &self.engine,
            State {
                limiter: Limiter {
                    inner: StoreLimitsBuilder::new()
                        .memory_size(self.memory_limit)
                        .instances(usize::try_from(CORE_INSTANCES_PER_CALL).unwrap_or(usize::MAX))
                        .tables(usize::try_from(TABLES_PER_CALL).unwrap_or(usize::MAX))
                        .memories(2)
                        .build(),
                    memory_limit: self.memory_limit,
                    memory_bytes: 0,
                },
            },
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.deadline_ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Run `f` on a fresh instance (no policy).
    fn call_free<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &Microvet) -> wasmtime::Result<Result<R, HostError>>,
    ) -> Result<R, HostError> {
        let mut store = self.store();
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|mv| f(&mut store, &mv));
        self.flatten(result)
    }

    /// Run `f` on a fresh instance with the policy parsed (a `policy` resource).
    fn call<R>(
        &self,
        f: impl FnOnce(
            &mut Store<State>,
            &Microvet,
            ResourceAny,
        ) -> wasmtime::Result<Result<R, HostError>>,
    ) -> Result<R, HostError> {
        if let Some(pool) = &self.warm {
            return self.call_warm(pool, f);
        }
        let mut store = self.store();
        let result = self.pre.instantiate(&mut store).and_then(|mv| {
            match self.parse_policy(&mut store, &mv)? {
                // The resource lives in this store only and goes away with it; no
                // explicit `resource_drop` is needed.
                Ok(policy) => f(&mut store, &mv, policy),
                Err(e) => Ok(Err(e)),
            }
        });
        self.flatten(result)
    }

    /// Parse this vetter's policy in `store` (a `policy` resource).
    fn parse_policy(
        &self,
        store: &mut Store<State>,
        mv: &Microvet,
    ) -> wasmtime::Result<Result<ResourceAny, HostError>> {
        let p = mv.microvet_vetting_vetting().policy();
        let parsed = match self.policy.as_ref() {
            PolicySource::Builtin => p.call_builtin(&mut *store)?,
            PolicySource::Text(text) => p.call_parse(&mut *store, text)?,
        };
        let parsed = match (parsed, self.waivers.as_deref()) {
            (Ok(policy), Some(waivers)) => p.call_with_waivers(&mut *store, policy, waivers)?,
            (parsed, _) => parsed,
        };
        Ok(parsed.map_err(|e| HostError::Policy(e.into())))
    }

    /// Run `f` on a warm instance of the pool (created if the pool is empty); the
    /// instance goes back to the pool only if the call returned without a trap or a
    /// limit hit (see [`pool`]).
    fn call_warm<R>(
        &self,
        pool: &pool::Pool,
        f: impl FnOnce(
            &mut Store<State>,
            &Microvet,
            ResourceAny,
        ) -> wasmtime::Result<Result<R, HostError>>,
    ) -> Result<R, HostError> {
        let mut warm = match pool.take() {
            Some(warm) => warm,
            None => {
                let mut store = self.store();
                let created = self.pre.instantiate(&mut store).and_then(|mv| {
                    Ok(self
                        .parse_policy(&mut store, &mv)?
                        .map(|policy| (mv, policy)))
                });
                let (mv, policy) = self.flatten(created)?;
                pool.note_created();
                pool::Warm {
                    store,
                    mv,
                    policy,
                    calls: 0,
                }
            }
        };
        // The deadline counts from now: the time limit is per call, not per instance.
        warm.store.set_epoch_deadline(self.deadline_ticks);
        let result = f(&mut warm.store, &warm.mv, warm.policy);
        pool.give_back(warm, result.is_ok());
        self.flatten(result)
    }

    fn flatten<R>(&self, result: wasmtime::Result<Result<R, HostError>>) -> Result<R, HostError> {
        match result {
            Ok(inner) => inner,
            Err(e) => Err(self.classify(e)),
        }
    }

    /// Turn a wasmtime error of a call into a typed [`HostError`].
    fn classify(&self, e: wasmtime::Error) -> HostError {
        if let Some(limit) = e.downcast_ref::<LimitExceeded>() {
            return HostError::Limit(limit.clone());
        }
        if let Some(Trap::Interrupt) = e.downcast_ref::<Trap>() {
            return HostError::Limit(LimitExceeded::Time {
                limit: self.time_limit.unwrap_or_default(),
            });
        }
        HostError::Trap(format!("{e:#}"))
    }
}

impl Vetter {
    /// The cache file this vetter uses (if a cache directory was configured).
    pub fn cache_path(&self) -> Option<&Path> {
        self.cache_status.path()
    }

    /// The names of the component's imports (expected: only `wasi:random/random@0.2.3`).
    pub fn component_imports(&self) -> Vec<String> {
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The functions the component imports, as `interface#function` (what a runtime
    /// must provide; for the browser: `wasi:random/random@0.2.3#get-random-bytes`).
    pub fn component_imported_functions(&self) -> Vec<String> {
        let ty = self.component.component_type();
        let mut out = Vec::new();
        for (name, item) in ty.imports(&self.engine) {
            match item.ty {
                wasmtime::component::types::ComponentItem::ComponentInstance(instance) => {
                    for (func, _) in instance.exports(&self.engine) {
                        out.push(format!("{name}#{func}"));
                    }
                }
                _ => out.push(name.to_owned()),
            }
        }
        out
    }

    /// The names of the component's exports.
    pub fn component_exports(&self) -> Vec<String> {
        self.component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn vetter_is_send_sync() {
        assert_send_sync::<Vetter>();
    }
}
