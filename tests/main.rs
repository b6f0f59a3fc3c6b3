//! Scenario-level tests, one module per theme (one test binary, so it links once).

mod util;

mod bad_input;
mod determinism;
mod fuzz;
mod groups;
mod offsets;
mod outdir;
mod push;
mod scenarios;
mod semantics;
