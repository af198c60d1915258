//! Service-signature string building: `snapb2b::service::body_digest_hex`,
//! the symmetric and asymmetric strings to sign, inbound timestamp freshness
//! and symmetric signature verification (all fed outside data: a request
//! body, a provider's notification).
//!
//! Input: NUL-separated fields `body \0 method \0 path \0 access_token \0
//! timestamp \0 signature` (bytes as lossy UTF-8); missing fields take
//! sample values, so a bare JSON document fuzzes the body alone.
//! Properties: never panics; the digest is 64 lowercase hex digits, equal
//! for the body and its minified form, and for an empty or blank body the
//! SHA-256 of ""; the strings to sign embed exactly that digest; failures
//! are INVALID_ARGUMENT (or SIGNATURE_INVALID from verification).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use snapb2b::service;
use snapb2b::Status;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let f: Vec<String> = common::fields(data, 6).into_iter().map(common::text).collect();
    let field = |i: usize, default: &str| f.get(i).cloned().unwrap_or_else(|| default.to_string());
    let body = field(0, "");
    let method = field(1, "POST");
    let path = field(2, "/v1.0/transfer-va/payment");
    let token = field(3, "token");
    let timestamp = field(4, "2023-11-15T05:13:20+07:00");
    let signature = field(5, "c2lnbmF0dXJl");

    let digest = match service::body_digest_hex(Some(&body)) {
        Ok(d) => d,
        Err(e) => {
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{e:?}");
            assert!(snapb2b::minify::minify_json(&body).is_err());
            return;
        }
    };
    assert_eq!(digest.len(), 64, "{digest}");
    assert!(digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{digest}");
    if body.trim().is_empty() {
        assert_eq!(digest, EMPTY_SHA256);
    } else {
        let minified = snapb2b::minify::minify_json(&body).expect("digest accepted it");
        assert_eq!(service::body_digest_hex(Some(&minified)).unwrap(), digest);
    }

    let body = Some(body.as_str());
    match service::asymmetric_string_to_sign(&method, &path, body, &timestamp) {
        Ok(s) => assert!(s.contains(&format!(":{digest}:")), "{s:?}"),
        Err(e) => assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{e:?}"),
    }
    match service::symmetric_string_to_sign(&method, &path, &token, body, &timestamp) {
        Ok(s) => assert!(s.contains(&format!(":{digest}:")), "{s:?}"),
        Err(e) => assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{e:?}"),
    }
    if let Err(e) = service::check_freshness(&timestamp, 300, NOW) {
        assert_eq!(e.status, Status::B2B_SIGNATURE_INVALID, "{e:?}");
    }
    // max_skew_s 0: only the timestamp's form is checked, so the result does
    // not depend on the wall clock.
    if let Err(e) = service::verify_service_signature(
        "client-secret", &method, &path, &token, body, &timestamp, &signature, 0,
    ) {
        assert!(
            matches!(e.status, Status::B2B_INVALID_ARGUMENT | Status::B2B_SIGNATURE_INVALID),
            "{e:?}"
        );
        common::assert_one_line(&e);
    }
});
