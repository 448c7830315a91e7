//! Typed errors of the host library.

use std::time::Duration;

use crate::types::VetError;

/// Everything that can go wrong when running the component.
///
/// `Input` and `Policy` are answers of the component (the input or the policy is
/// invalid); `Trap` and `Limit` fail only the call that hit them (the next call gets a
/// fresh instance); `Setup` means the engine or the component could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The input could not be vetted (not YAML/JSON, over a limit, a malformed PKCE value...).
    #[error("{0}")]
    Input(VetError),
    /// The policy is invalid.
    #[error("invalid policy: {0}")]
    Policy(VetError),
    /// A memory or time limit of the host was hit.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// The component trapped (or broke its contract); only this call failed.
    #[error("the component trapped: {0}")]
    Trap(String),
    /// The engine or the component could not be set up.
    #[error("cannot set up the component: {0}")]
    Setup(String),
}

impl HostError {
    /// The WIT error record, for `Input` and `Policy` errors.
    pub fn vet_error(&self) -> Option<&VetError> {
        match self {
            HostError::Input(e) | HostError::Policy(e) => Some(e),
            _ => None,
        }
    }

    /// Render for a terminal: the WIT error like the core renders it, anything else as
    /// `error: message`.
    pub fn render(&self, source_name: &str) -> String {
        match self {
            HostError::Input(e) => e.render(Some(source_name)),
            HostError::Policy(e) => e.render(Some(source_name)),
            HostError::Limit(e) => format!("error[host-limit]: {e}\n  --> {source_name}"),
            other => format!("error: {other}"),
        }
    }

    pub(crate) fn setup(context: &str, e: impl std::fmt::Display) -> HostError {
        HostError::Setup(format!("{context}: {e}"))
    }
}

/// A resource limit that the host enforces on every call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// The component's linear memory would grow past the limit.
    #[error("the component needed more than the memory limit of {limit} bytes")]
    Memory {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The call ran past its time limit.
    #[error("the call ran longer than the time limit of {} ms", limit.as_millis())]
    Time {
        /// The configured limit.
        limit: Duration,
    },
    /// The component asked for more random bytes than the host hands out in one call.
    #[error("the component asked for {requested} random bytes, more than the limit of {limit}")]
    Random {
        /// Bytes requested.
        requested: u64,
        /// The limit.
        limit: u64,
    },
}
