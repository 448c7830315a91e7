//! microvet-core: the pure vetting engine.
//!
//! parse → normalise → rules → score → decide, plus PKCE (RFC 7636).
//! No I/O, no clocks, no global state, no panics: randomness arrives through
//! [`pkce::Entropy`]. The guest component and the native tests call the same code.
pub mod error;
pub mod pkce;
pub mod yaml;

pub use error::{Error, ErrorCode, Result};
