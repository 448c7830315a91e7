//! The CLI's subcommands, one module per command.

pub(crate) mod whatif;
