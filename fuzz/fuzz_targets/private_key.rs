//! `snapb2b::keys::PrivateKey::parse(text, passphrase)`: every accepted form
//! (PEM PKCS#8 / PKCS#1, encrypted PKCS#8, legacy encrypted PKCS#1, bare
//! base64 DER, CRLF, literal `\n`, quotes, stripped newlines).
//!
//! Input: `key text` or `key text \0 passphrase` (bytes as lossy UTF-8).
//! Properties: never panics; a failure is a KEY error that does not echo the
//! passphrase; a success is RSA >= 2048 bits that can sign.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use snapb2b::keys::{PrivateKey, MIN_RSA_BITS};
use snapb2b::Status;

fuzz_target!(|data: &[u8]| {
    let (key, pass) = common::split_nul(data);
    let key = common::text(key);
    let pass = pass.map(common::text);
    match PrivateKey::parse(&key, pass.as_deref()) {
        Ok(k) => {
            assert!(k.bits() >= MIN_RSA_BITS, "accepted a {}-bit key", k.bits());
            // A key that parses but cannot sign must fail cleanly too.
            if let Err(e) = snapb2b::sign::b2b_signature(&k, "CLIENT", "2024-01-01T00:00:00+07:00")
            {
                assert_eq!(e.status, Status::B2B_CRYPTO, "{e:?}");
            }
        }
        Err(e) => {
            assert_eq!(e.status, Status::B2B_KEY, "{e:?}");
            if let Some(p) = &pass {
                common::assert_not_echoed(&e, "passphrase", p);
            }
        }
    }
});
