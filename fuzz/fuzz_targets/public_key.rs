//! `snapb2b::keys::PublicKey::parse(text)`: PEM SPKI, PEM PKCS#1, X.509
//! certificate PEM, bare base64 DER of any of them, mangled line ends.
//!
//! Input: the key text (bytes as lossy UTF-8).
//! Properties: never panics; a failure is a KEY error; a success is an RSA
//! key of at least 2048 bits with which a bogus signature fails to verify
//! (SIGNATURE_INVALID or CRYPTO, never a panic).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use snapb2b::keys::{PublicKey, MIN_RSA_BITS};
use snapb2b::Status;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    match PublicKey::parse(&text) {
        Ok(k) => {
            assert!(k.pkey().bits() >= MIN_RSA_BITS);
            assert!(k.pkey().rsa().is_ok(), "accepted a key that is not RSA");
            // Whatever key was accepted, verifying with it must fail cleanly.
            let e = snapb2b::service::verify_b2b(&k, "CLIENT", "2024-01-01T00:00:00Z", "c2ln", 0)
                .unwrap_err();
            assert!(matches!(e.status, Status::B2B_SIGNATURE_INVALID | Status::B2B_CRYPTO), "{e:?}");
        }
        Err(e) => assert_eq!(e.status, Status::B2B_KEY, "{e:?}"),
    }
});
