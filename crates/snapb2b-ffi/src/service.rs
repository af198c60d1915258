//! Service-call signatures, JSON minification and timestamps.

use std::ffi::{c_char, c_int};

use super::{arg_opt_str, arg_str, give_string, guard, out_slot};
use snapb2b_core::keys::ONE_SHOT_KEYS;
use snapb2b_core::service;
use snapb2b_core::timestamp::TimestampStyle;

/// Symmetric SNAP service signature: base64(HMAC-SHA512(client_secret,
/// METHOD:path:access_token:lowercase(hex(SHA-256(minify(body)))):timestamp)).
/// `body` may be NULL, empty or JSON whitespace only (the hash of the empty
/// string); `method` is
/// upper-cased; `path` is the endpoint path with its query string, as sent.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated; `signature_out` must be
/// NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_service_signature(
    client_secret: *const c_char,
    method: *const c_char,
    path: *const c_char,
    access_token: *const c_char,
    body: *const c_char,
    timestamp: *const c_char,
    signature_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_service_signature", || {
        let out = out_slot(signature_out, "signature_out")?;
        let signature = service::service_signature(
            arg_str(client_secret, "client_secret")?,
            arg_str(method, "method")?,
            arg_str(path, "path")?,
            arg_str(access_token, "access_token")?,
            arg_opt_str(body, "body")?,
            arg_str(timestamp, "timestamp")?,
        )?;
        give_string(out, signature)
    })
}

/// Asymmetric SNAP service / notification signature: base64(SHA256withRSA(
/// METHOD:path:lowercase(hex(SHA-256(minify(body)))):timestamp)). Key forms
/// and caching as `b2b_sign`.
///
/// # Safety
/// As `b2b_service_signature`.
#[no_mangle]
pub unsafe extern "C" fn b2b_service_signature_rsa(
    private_key: *const c_char,
    method: *const c_char,
    path: *const c_char,
    body: *const c_char,
    timestamp: *const c_char,
    signature_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_service_signature_rsa", || {
        let out = out_slot(signature_out, "signature_out")?;
        let key = ONE_SHOT_KEYS.get(arg_str(private_key, "private_key")?, None)?;
        let signature = service::service_signature_rsa(
            &key,
            arg_str(method, "method")?,
            arg_str(path, "path")?,
            arg_opt_str(body, "body")?,
            arg_str(timestamp, "timestamp")?,
        )?;
        give_string(out, signature)
    })
}

/// Removes insignificant whitespace outside strings and keeps everything
/// else (key order, number spelling, string contents and escapes) exactly as
/// given. `B2B_INVALID_ARGUMENT` when `body` is not JSON.
///
/// # Safety
/// `body` must be NULL or NUL-terminated; `minified_out` must be NULL or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_minify_json(
    body: *const c_char,
    minified_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_minify_json", || {
        let out = out_slot(minified_out, "minified_out")?;
        let minified = snapb2b_core::minify::minify_json(arg_str(body, "body")?)?;
        give_string(out, minified)
    })
}

/// The current time as a SNAP timestamp: `style` is `"wib"`
/// (`2024-12-31T10:11:40+07:00`), `"utc"` (`...Z`), `"utc_ms"` or `"wib_ms"`.
/// Format once, then sign and send the same string.
///
/// # Safety
/// `style` must be NULL or NUL-terminated; `timestamp_out` must be NULL or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_timestamp(
    style: *const c_char,
    timestamp_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_timestamp", || {
        let out = out_slot(timestamp_out, "timestamp_out")?;
        let style = TimestampStyle::parse(arg_str(style, "style")?)?;
        give_string(out, style.now())
    })
}
