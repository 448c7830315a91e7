//! The CLI's subcommands, one module per command.
pub mod discover;

pub(crate) mod apps;

pub(crate) mod whatif;
