//! The merchant's side of the C ABI: an opaque `b2b_server` handle that
//! answers providers' token requests and checks their notifications.

use std::ffi::{c_char, c_int};

use super::{arg_str, give_secret, guard, out_slot};
use snapb2b_core::error::{Error, Result};
use snapb2b_core::server::{Inbound, Server};

/// An opaque merchant endpoint. Create with `b2b_server_new`, free with
/// `b2b_server_free`. One handle may be shared by many threads.
#[allow(non_camel_case_types)]
pub struct b2b_server {
    inner: Server,
}

/// # Safety
/// `ptr` must be NULL or a live handle from `b2b_server_new`.
unsafe fn server_ref<'a>(ptr: *const b2b_server) -> Result<&'a Server> {
    ptr.as_ref()
        .map(|s| &s.inner)
        .ok_or_else(|| Error::invalid_argument("`server` is NULL"))
}

/// Creates a merchant endpoint from `config_json`: `{"partners": [{"client_id",
/// "public_key" or "public_key_file", "client_secret", "notification_signature":
/// "rsa" | "hmac"}], "token_ttl_s": 900, "token_secret" or "token_secret_file"
/// (at least 32 bytes), "max_skew_s": 300}`. Without a token secret a random
/// one is used and tokens hold only inside this process (with PHP-FPM every
/// process must share one `token_secret_file`). X-EXTERNAL-IDs are
/// remembered in this process.
///
/// # Safety
/// `config_json` must be NULL or NUL-terminated; `server_out` NULL or valid
/// for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_server_new(
    config_json: *const c_char,
    server_out: *mut *mut b2b_server,
) -> c_int {
    guard("b2b_server_new", || {
        let out = out_slot(server_out, "server_out")?;
        let inner = Server::new(arg_str(config_json, "config_json")?)?;
        *out = Box::into_raw(Box::new(b2b_server { inner }));
        Ok(())
    })
}

/// Answers a provider's B2B token request. `request_json`: `{"method",
/// "path", "headers": {names matched case-insensitively}, "body": "<raw body
/// text>", "service_code": "73" (optional)}`. Writes, on `B2B_OK`, the
/// verdict `{"accepted", "http_status", "headers", "body": "<exact JSON to
/// send>", "client_id", "external_id", "reason"}` to `*response_json_out`
/// (free it with `b2b_free`). A refusal of what the sender did wrong is
/// `B2B_OK` with `"accepted": false` and the SNAP rejection to send.
///
/// # Safety
/// `server` must be NULL or a live handle; `request_json` NULL or
/// NUL-terminated; `response_json_out` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_server_token(
    server: *mut b2b_server,
    request_json: *const c_char,
    response_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_server_token", || {
        let out = out_slot(response_json_out, "response_json_out")?;
        let server = server_ref(server)?;
        let request = Inbound::parse(arg_str(request_json, "request_json")?)?;
        give_secret(out, server.token(&request)?.to_json_secret())
    })
}

/// Checks an inbound notification or service call: the Bearer token this
/// server issued (unexpired, known partner), X-TIMESTAMP within
/// `max_skew_s`, X-SIGNATURE per the partner's `notification_signature`,
/// X-PARTNER-ID / X-CLIENT-KEY when present, a JSON body, and an
/// X-EXTERNAL-ID not seen from that partner today (only a request that
/// passed every other check uses it up). Verdict as `b2b_server_token`;
/// accepted has `"body": null` (the merchant writes its own answer).
///
/// # Safety
/// As `b2b_server_token`.
#[no_mangle]
pub unsafe extern "C" fn b2b_server_check(
    server: *mut b2b_server,
    request_json: *const c_char,
    verdict_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_server_check", || {
        let out = out_slot(verdict_json_out, "verdict_json_out")?;
        let server = server_ref(server)?;
        let request = Inbound::parse(arg_str(request_json, "request_json")?)?;
        give_secret(out, server.check(&request)?.to_json_secret())
    })
}

/// Frees a server. NULL is a no-op. No other thread may be using it.
///
/// # Safety
/// `server` must be NULL or a live handle not used after this call.
#[no_mangle]
pub unsafe extern "C" fn b2b_server_free(server: *mut b2b_server) {
    if server.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(Box::from_raw(server));
    }));
}
