//! Nothing: this package only holds the benchmarks (`ops.rs`); see
//! `Cargo.toml` for why it is a package of its own.
