//! `snapb2b::minify::minify_json(body)`.
//!
//! Input: the JSON text (bytes as lossy UTF-8).
//! Properties: never panics; on success the output
//! - has no whitespace outside strings,
//! - parses to the same `serde_json::Value` as the input (or both fail to:
//!   the minifier validates with `IgnoredAny`, which accepts numbers such
//!   as `1e400` that `Value` refuses),
//! - is a fixed point: minifying it again returns it unchanged,
//! - is the input with only whitespace removed (a subsequence of it).
//! On failure the error is INVALID_ARGUMENT.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use snapb2b::minify::minify_json;
use snapb2b::Status;

/// Byte offset of the first JSON whitespace outside a string, if any.
fn whitespace_outside_strings(s: &str) -> Option<usize> {
    let (mut in_string, mut escaped) = (false, false);
    for (i, b) in s.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return Some(i);
        }
    }
    None
}

fn is_subsequence(small: &str, big: &str) -> bool {
    let mut it = big.chars();
    small.chars().all(|c| it.any(|d| d == c))
}

fuzz_target!(|data: &[u8]| {
    let input = common::text(data);
    let out = match minify_json(&input) {
        Ok(out) => out,
        Err(e) => {
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{e:?}");
            return;
        }
    };
    if let Some(at) = whitespace_outside_strings(&out) {
        panic!("whitespace outside strings at byte {at} of {out:?}");
    }
    match (
        serde_json::from_str::<Value>(&input),
        serde_json::from_str::<Value>(&out),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "minify changed the value: {out:?}"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "input parses: {}, output parses: {} ({out:?})",
            a.is_ok(),
            b.is_ok()
        ),
    }
    assert_eq!(minify_json(&out).ok().as_deref(), Some(out.as_str()), "not idempotent");
    assert!(is_subsequence(&out, &input), "minify added characters");
    assert!(out.len() <= input.len());
});
