//! Verification of what providers send the merchant: their B2B token
//! requests, notifications and service calls.
//!
//! Each returns `B2B_OK` when valid and `B2B_SIGNATURE_INVALID` when the
//! signature does not match or the timestamp is malformed or further than
//! `max_skew_s` seconds from now (0 = no freshness check).

use std::ffi::{c_char, c_int};

use super::{arg_opt_str, arg_str, guard};
use snapb2b_core::keys::PublicKey;
use snapb2b_core::service;

/// The skew range is the core's rule (`service::check_max_skew`), checked
/// before anything else so the receiver's mistake is reported first.
fn skew(max_skew_s: c_int) -> snapb2b_core::Result<i64> {
    service::check_max_skew(i64::from(max_skew_s))
}

/// Verifies a B2B token-request signature over `client_id|timestamp`.
/// `public_key`: PEM SPKI (`PUBLIC KEY`), PEM PKCS#1 (`RSA PUBLIC KEY`), an
/// X.509 certificate PEM, or bare base64 DER.
///
/// Returns `B2B_OK` when valid; `B2B_SIGNATURE_INVALID` when the signature
/// does not match or is not base64, or `timestamp` is not ISO-8601 with an
/// offset or is further than `max_skew_s` seconds from now (0 = no freshness
/// check); `B2B_KEY` when `public_key` cannot be read; `B2B_INVALID_ARGUMENT`
/// for a NULL or non-UTF-8 argument or a negative `max_skew_s`.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn b2b_verify(
    public_key: *const c_char,
    client_id: *const c_char,
    timestamp: *const c_char,
    signature: *const c_char,
    max_skew_s: c_int,
) -> c_int {
    guard("b2b_verify", || {
        let skew = skew(max_skew_s)?;
        let key = PublicKey::parse(arg_str(public_key, "public_key")?)?;
        service::verify_b2b(
            &key,
            arg_str(client_id, "client_id")?,
            arg_str(timestamp, "timestamp")?,
            arg_str(signature, "signature")?,
            skew,
        )
    })
}

/// Verifies an asymmetric service or notification signature (see
/// `b2b_service_signature_rsa`). `body` may be NULL or empty.
///
/// Returns `B2B_OK` when valid; `B2B_SIGNATURE_INVALID` for what the sender
/// controls: a signature that does not match or is not base64, a timestamp
/// that is malformed or further than `max_skew_s` seconds from now (0 = no
/// freshness check), a body that is not JSON; `B2B_KEY` when `public_key`
/// cannot be read; `B2B_INVALID_ARGUMENT` for the receiver's own mistakes:
/// NULL or non-UTF-8 arguments, a method that is not letters, an empty path,
/// a negative `max_skew_s`.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn b2b_verify_service_signature_rsa(
    public_key: *const c_char,
    method: *const c_char,
    path: *const c_char,
    body: *const c_char,
    timestamp: *const c_char,
    signature: *const c_char,
    max_skew_s: c_int,
) -> c_int {
    guard("b2b_verify_service_signature_rsa", || {
        let skew = skew(max_skew_s)?;
        let key = PublicKey::parse(arg_str(public_key, "public_key")?)?;
        service::verify_service_signature_rsa(
            &key,
            arg_str(method, "method")?,
            arg_str(path, "path")?,
            arg_opt_str(body, "body")?,
            arg_str(timestamp, "timestamp")?,
            arg_str(signature, "signature")?,
            skew,
        )
    })
}

/// Verifies a symmetric (HMAC-SHA512) service signature, comparing in
/// constant time. `body` may be NULL or empty.
///
/// Returns as `b2b_verify_service_signature_rsa`, with an empty
/// `access_token` also `B2B_SIGNATURE_INVALID` (the request cannot be
/// verified) and an empty `client_secret` `B2B_INVALID_ARGUMENT`.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn b2b_verify_service_signature(
    client_secret: *const c_char,
    method: *const c_char,
    path: *const c_char,
    access_token: *const c_char,
    body: *const c_char,
    timestamp: *const c_char,
    signature: *const c_char,
    max_skew_s: c_int,
) -> c_int {
    guard("b2b_verify_service_signature", || {
        let skew = skew(max_skew_s)?;
        service::verify_service_signature(
            arg_str(client_secret, "client_secret")?,
            arg_str(method, "method")?,
            arg_str(path, "path")?,
            arg_str(access_token, "access_token")?,
            arg_opt_str(body, "body")?,
            arg_str(timestamp, "timestamp")?,
            arg_str(signature, "signature")?,
            skew,
        )
    })
}
