//! The opt-in warm-instance pool of a [`crate::Vetter`].
//!
//! Without it, every vet creates a `Store`, instantiates the component and parses the
//! policy inside the guest (about two thirds of a call) before vetting. With it, a vet
//! takes an idle *warm instance* — a `Store`, its component instance and the parsed
//! `policy` resource — runs only the vet, and puts it back.
//!
//! Isolation rules (a trap in one call never affects another):
//! - a warm instance is used by one call at a time (it is taken out of the pool);
//! - any trap or limit hit (time, memory, random) discards it: only a clean return puts
//!   it back, and a fresh instance replaces it on demand;
//! - it is retired after [`WarmPool::max_calls`] calls, or when its linear memory has
//!   grown past [`WarmPool::max_memory`] (a huge input leaves a big heap behind);
//! - the epoch deadline is re-armed before every call, so the time limit is per call.
//!
//! The component is pure (no global state between calls by design: no I/O, no clock, no
//! globals in the core), so reusing an instance cannot change a verdict; the tests check
//! that warm and fresh verdicts are byte-identical.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::State;
use crate::bindings::Microvet;

/// Options of the warm-instance pool ([`crate::VetterOptions::warm_pool`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmPool {
    /// Most idle warm instances kept (a server: its maximum concurrency). More
    /// concurrent calls than this still work: the extra instances are created on
    /// demand and dropped afterwards.
    pub size: usize,
    /// Calls served by one instance before it is replaced (bounds heap fragmentation
    /// and the lifetime of anything a call may have left in the guest's memory).
    pub max_calls: u32,
    /// An instance whose linear memory has grown past this many bytes is dropped after
    /// its call instead of being kept.
    pub max_memory: usize,
}

impl WarmPool {
    /// A pool of `size` idle instances, each reused for at most 10,000 calls and kept
    /// only while its memory stays under 16 MiB.
    pub fn new(size: usize) -> WarmPool {
        WarmPool {
            size,
            max_calls: 10_000,
            max_memory: 16 << 20,
        }
    }
}

/// Counters of a warm-instance pool ([`crate::Vetter::pool_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Idle instances in the pool now.
    pub idle: usize,
    /// Calls served by an idle warm instance.
    pub reused: u64,
    /// Instances created (the pool was empty).
    pub created: u64,
    /// Instances discarded after a trap or a limit hit.
    pub discarded: u64,
    /// Instances retired after `max_calls` calls or past `max_memory`.
    pub retired: u64,
}

/// One warm instance: a store, the component instance in it and the parsed policy.
pub(crate) struct Warm {
    pub(crate) store: Store<State>,
    pub(crate) mv: Microvet,
    pub(crate) policy: ResourceAny,
    pub(crate) calls: u32,
}

/// The pool of one vetter (one policy).
pub(crate) struct Pool {
    pub(crate) options: WarmPool,
    idle: Mutex<Vec<Warm>>,
    reused: AtomicU64,
    created: AtomicU64,
    discarded: AtomicU64,
    retired: AtomicU64,
}

impl Pool {
    pub(crate) fn new(options: WarmPool) -> Pool {
        Pool {
            options,
            idle: Mutex::new(Vec::with_capacity(options.size.min(1024))),
            reused: AtomicU64::new(0),
            created: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            retired: AtomicU64::new(0),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Warm>> {
        // A panic while holding the lock cannot leave the vector inconsistent (push/pop).
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently returned idle instance (its memory is the warmest), if any.
    pub(crate) fn take(&self) -> Option<Warm> {
        let warm = self.idle().pop();
        if warm.is_some() {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
        warm
    }

    pub(crate) fn note_created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    /// After a call: keep the instance if the call returned cleanly and the instance is
    /// still within its budgets, else drop it.
    pub(crate) fn give_back(&self, mut warm: Warm, clean: bool) {
        warm.calls = warm.calls.saturating_add(1);
        if !clean {
            self.discarded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if warm.calls >= self.options.max_calls
            || warm.store.data().limiter.memory_bytes > self.options.max_memory
        {
            self.retired.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let full = {
            let mut idle = self.idle();
            if idle.len() < self.options.size {
                idle.push(warm);
                None
            } else {
                Some(warm)
            }
        };
        // A full pool drops the instance, outside the lock.
        drop(full);
    }

    pub(crate) fn stats(&self) -> PoolStats {
        PoolStats {
            idle: self.idle().len(),
            reused: self.reused.load(Ordering::Relaxed),
            created: self.created.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            retired: self.retired.load(Ordering::Relaxed),
        }
    }
}
