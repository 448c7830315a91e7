//! Benchmarks of microvet against peer implementations; see `benches/` and
//! `docs/PERFORMANCE.md`. This library is empty on purpose.
