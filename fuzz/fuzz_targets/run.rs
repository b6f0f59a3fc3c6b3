#![no_main]
//! Tiny generated scenarios run a few virtual seconds with every invariant checked.

#[path = "../common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::tiny_run(data));
