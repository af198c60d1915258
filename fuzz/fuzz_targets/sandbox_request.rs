//! The sandbox provider's HTTP request reader, through
//! `snapb2b_sandbox::parse_request_for_fuzzing(bytes)` (which feeds `bytes`
//! to the reader as one connection's worth of input).
//!
//! Input: raw bytes as a peer would send them.
//! Property: never panics (its module's promise: "nothing a peer sends can
//! panic the server").
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snapb2b_sandbox::parse_request_for_fuzzing(data);
});
