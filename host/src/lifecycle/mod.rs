//! The app lifecycle: register approved apps at the organisation's identity provider
//! (RFC 7591), keep them in an inventory (a SQLite file or PostgreSQL), recertify them
//! against the policy in force, and disable them at the IdP (RFC 7592) when they expire or
//! fall due. See docs/LIFECYCLE.md.
//!
//! Two seams keep the pieces apart: [`store::Store`] (the inventory, a real database) and
//! [`idp::Idp`] (the identity provider). [`service`] holds the flows over both; the CLI
//! (`microvet apps …`) and the HTTP service (`/v1/apps…`) only call it.
//!
//! Everything here is synchronous: the server runs it on tokio's blocking pool.

pub mod auth;
pub mod idp;
pub mod model;
pub mod service;
pub mod store;

pub use model::{App, AppStatus, Event, EventKind, NewApp, Registration, Secret, Timestamp};
