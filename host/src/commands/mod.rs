//! The CLI's subcommands, one module per command.
pub mod discover;

pub(crate) mod apps;

pub(crate) mod catalogue;

pub(crate) mod check;

pub(crate) mod pkce;

pub(crate) mod whatif;
