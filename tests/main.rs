//! Scenario-level tests, one module per theme (one test binary, so it links once).

mod util;

mod bad_input;
mod brokers_input;
mod cluster_model;
mod cluster_outputs;
mod compare;
mod consumer_protocol;
mod determinism;
mod docs;
mod findings;
mod fuzz;
mod groups;
mod hang;
mod layout;
mod lazy_producers;
mod memory;
mod metrics_file;
mod narration;
mod observe;
mod offsets;
mod outdir;
mod protocol_outputs;
mod push;
mod replication;
mod replication_waits;
mod report_page;
mod scenarios;
mod semantics;
mod share;
mod sweep;
mod timing;
