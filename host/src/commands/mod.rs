//! The CLI's subcommands, one module per command.
pub mod discover;
