//! Nothing to link: this crate exists for its build script (`build.rs`), which makes sure
//! the `wasm32-unknown-unknown` standard library is installed before the host's build
//! script compiles the guest component. The host names it as a build dependency, so
//! `cargo run --release -- check …` works on a fresh machine by itself.
