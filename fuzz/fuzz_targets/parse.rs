#![no_main]
//! Scenario parsing + validation + cost estimate on arbitrary bytes.

#[path = "../common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::parse_and_validate(data));
