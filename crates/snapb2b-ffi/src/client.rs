//! The caching token client of the C ABI: an opaque `b2b_client` handle.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use super::{arg_opt_str, arg_str, give_secret, give_string, guard, out_slot};
use snapb2b_core::client::{Client, Source};
use snapb2b_core::customer_token::CustomerTokenRequest;
use snapb2b_core::error::{Error, Result};
use snapb2b_core::service_call::{headers_json, ServiceRequest};

/// An opaque token client. Create with `b2b_client_new`, free with
/// `b2b_client_free`. One handle may be shared by many threads.
#[allow(non_camel_case_types)]
pub struct b2b_client {
    /// The process's client for this config (`Client::shared`): handles
    /// made from the same config text share it.
    inner: Arc<Client>,
}

/// # Safety
/// `ptr` must be NULL or a live handle from `b2b_client_new`.
unsafe fn client_ref<'a>(ptr: *const b2b_client) -> Result<&'a Client> {
    ptr.as_ref()
        .map(|c| &*c.inner)
        .ok_or_else(|| Error::invalid_argument("`client` is NULL"))
}

/// Creates a token client from `config_json` (the `b2b_get_token` keys plus
/// `refresh_margin_s`, `cache_file`, `max_retries`, and for service calls
/// `partner_id`, `channel_id`, `service_signature`, `external_id_length`,
/// `max_response_bytes`). Writes the handle to `*client_out`; free it with
/// `b2b_client_free`.
///
/// Handles made from the same config text in one process share one client:
/// its parsed key, trust store, cached token and kept-alive connection
/// (a process-wide registry of up to 32 configs, least recently used
/// dropped first), so a PHP-FPM worker or a script creating a client per
/// request parses the key once and asks the provider once. The key file and
/// `ca_file` are read again when they change (inode, size or times; looked
/// at again at most once a second, so a rotated key is used within one). The
/// same config text means the same account: `b2b_client_invalidate` on one
/// handle drops the token for all of them.
///
/// After `fork()`, a handle may be used in the child: its first call there
/// starts over with no connections and no renewal in flight (a thread that
/// was renewing in the parent does not exist in the child), keeping the
/// cached token. The parent's connections are left alone in the child, not
/// closed (closing would end the parent's TLS session), so the parent keeps
/// using them.
///
/// # Safety
/// `config_json` must be NULL or NUL-terminated; `client_out` must be NULL or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_new(
    config_json: *const c_char,
    client_out: *mut *mut b2b_client,
) -> c_int {
    guard("b2b_client_new", || {
        let out = out_slot(client_out, "client_out")?;
        let config = arg_str(config_json, "config_json")?;
        let inner = Client::shared(config)?;
        *out = Box::into_raw(Box::new(b2b_client { inner }));
        Ok(())
    })
}

/// Writes the current token as JSON (as `b2b_get_token`, plus `"cached"`:
/// false when this call made the request) to `*token_json_out`; free it with
/// `b2b_free`. Returns the cached token while more than `refresh_margin_s`
/// remains; otherwise exactly one of the calling threads renews it while the
/// others wait for its result (with `cache_file`, one process of the host;
/// with `cache_url`, one process of the whole fleet, through Redis); when
/// that renewal ran out of its caller's time, a waiter with time left
/// renews once itself. Returns
/// within `timeout_ms` in all: waiting for another thread's renewal or
/// another process's `cache_file` or Redis lock counts against it
/// (`B2B_TIMEOUT`, or the old token while still usable). Redis down, slow
/// or answering garbage never fails the call: the client fetches the token
/// itself and `"cache"` says `"unavailable: ..."`.
///
/// # Safety
/// `client` must be NULL or a live handle; `token_json_out` must be NULL or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_token(
    client: *mut b2b_client,
    token_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_client_token", || {
        let out = out_slot(token_json_out, "token_json_out")?;
        let client = client_ref(client)?;
        let (token, source) = client.token()?;
        let cache = client.cache_status();
        give_secret(
            out,
            token.to_json_secret_with(Some(source == Source::Cached), cache.as_deref()),
        )
    })
}

/// Drops the cached token, including its `cache_file` entry and its Redis
/// entry (`cache_url`: each only while it still holds that token, so a newer
/// one from another host stays), so the next `b2b_client_token` fetches a
/// new one (e.g. after a service call answered 401 "Invalid Token (B2B)").
///
/// # Safety
/// `client` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_invalidate(client: *mut b2b_client) -> c_int {
    guard("b2b_client_invalidate", || {
        client_ref(client)?.invalidate();
        Ok(())
    })
}

/// Writes the headers of one SNAP service call as a JSON object to
/// `*headers_json_out` (free it with `b2b_free`), in this order:
/// `Content-Type`, `Authorization` (the token's type and a fresh token
/// through the client's cache), `X-TIMESTAMP` (read once: the same string
/// is signed and sent), `X-SIGNATURE` (HMAC-SHA512 with `client_secret`, or
/// SHA256withRSA with the key when `service_signature` is `rsa`),
/// `X-PARTNER-ID`, `X-EXTERNAL-ID` (new, from the OS's CSPRNG), `CHANNEL-ID`.
/// `path` is the relative URL exactly as it will be sent, query included;
/// the signed EndpointUrl is `base_url`'s path followed by it. `body` may be
/// NULL or empty; otherwise it must be JSON, and the caller must send it
/// minified (`b2b_minify_json`): that is what is hashed.
///
/// `B2B_INVALID_ARGUMENT` for a bad method, path or body, or a config
/// without what service calls need (`channel_id`; `client_secret` for hmac).
///
/// # Safety
/// `client` must be NULL or a live handle; strings NULL or NUL-terminated;
/// `headers_json_out` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_headers(
    client: *mut b2b_client,
    method: *const c_char,
    path: *const c_char,
    body: *const c_char,
    headers_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_client_headers", || {
        let out = out_slot(headers_json_out, "headers_json_out")?;
        let client = client_ref(client)?;
        let request = ServiceRequest::new(
            arg_str(method, "method")?,
            arg_str(path, "path")?,
            arg_opt_str(body, "body")?,
        )?;
        let headers = client.headers(&request)?;
        give_secret(out, headers_json(&headers))
    })
}

/// Builds the headers of one SNAP service call (as `b2b_client_headers`),
/// sends it over the client's connection (shared with token renewals) and
/// writes the answer to `*response_json_out` (free it with `b2b_free`):
/// `{"http_status", "headers": {lower-case names}, "body": "<raw text>",
/// "response_code", "response_message", "external_id", "token_renewed",
/// "attempts"}`.
///
/// `request_json`: `{"method": "POST", "path": "/v1.0/transfer-va/inquiry",
/// "body": <JSON value, or a string of JSON>, "headers": {extra headers},
/// "external_id": "optional, caller-chosen", "timeout_ms": optional,
/// "customer_token": optional}`; a `customer_token` (from
/// `b2b_client_customer_token`) is sent as `Authorization-Customer: Bearer
/// <token>` after `Authorization`. The
/// body is sent as its own text, minified, never re-serialised.
///
/// Returns `B2B_OK` whenever the provider answered with HTTP, whatever the
/// status or response code. When the provider refuses the token (HTTP 401
/// with the profile's invalid-token code, SNAP `401xx01`), the token is
/// dropped (memory and `cache_file`), renewed once and the call sent once
/// more with the same X-EXTERNAL-ID (`"token_renewed": true, "attempts": 2`).
/// `B2B_TRANSPORT`, `B2B_TIMEOUT` or `B2B_PROTOCOL` otherwise; the message
/// says "not sent" (it failed before anything was sent; such failures are
/// retried up to `max_retries` within `timeout_ms`) or "sent, no answer: it
/// may have been processed" (never sent again: query its status with the
/// X-EXTERNAL-ID the message names).
///
/// # Safety
/// `client` must be NULL or a live handle; `request_json` NULL or
/// NUL-terminated; `response_json_out` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_request(
    client: *mut b2b_client,
    request_json: *const c_char,
    response_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_client_request", || {
        let out = out_slot(response_json_out, "response_json_out")?;
        let client = client_ref(client)?;
        let request = ServiceRequest::parse(arg_str(request_json, "request_json")?)?;
        let answer = client.request(&request)?;
        give_secret(out, answer.to_json_secret())
    })
}

/// Exchanges a customer's authorization code, or a refresh token, for a
/// customer (SNAP B2B2C, service 74) access token at the profile's B2B2C
/// endpoint (DOKU `/authorization/v1/access-token/b2b2c`, SNAP
/// `/v1.0/access-token/b2b2c` beside `token_path`), signed like the B2B token
/// (`X-TIMESTAMP`, `X-CLIENT-KEY`, `X-SIGNATURE` over `client_id|timestamp`),
/// over the client's connections. Writes the result JSON to
/// `*token_json_out` (free it with `b2b_free`): `{"provider",
/// "access_token", "token_type", "access_token_expires_at",
/// "refresh_token", "refresh_token_expires_at", "customer_id",
/// "additional_info", "response_code", "response_message"}`, the expiry
/// times as Unix seconds (null when the provider sent none).
///
/// `request_json`: `{"auth_code": "..."}` (grant `authorization_code`) or
/// `{"refresh_token": "..."}` (grant `refresh_token`), exactly one, plus
/// optional `"additional_info": {...}` (sent as `additionalInfo`) and
/// `"timeout_ms"`. Nothing is cached: the caller keeps the tokens.
///
/// `B2B_INVALID_ARGUMENT` for a bad request or a provider without a B2B2C
/// endpoint; `B2B_PROVIDER` with the code and hint when the provider refuses
/// (an unknown, used or expired code or refresh token); a request that may
/// have reached the provider is never sent again (the code may be used up).
///
/// # Safety
/// `client` must be NULL or a live handle; `request_json` NULL or
/// NUL-terminated; `token_json_out` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_customer_token(
    client: *mut b2b_client,
    request_json: *const c_char,
    token_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_client_customer_token", || {
        let out = out_slot(token_json_out, "token_json_out")?;
        let client = client_ref(client)?;
        let request = CustomerTokenRequest::parse(arg_str(request_json, "request_json")?)?;
        let token = client.customer_token(&request)?;
        give_secret(out, token.to_json_secret())
    })
}

/// Writes a fresh X-EXTERNAL-ID to `*external_id_out` (free it with
/// `b2b_free`): 32 decimal digits from the operating system's CSPRNG, not
/// starting with 0.
///
/// # Safety
/// `external_id_out` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_external_id(external_id_out: *mut *mut c_char) -> c_int {
    guard("b2b_external_id", || {
        let out = out_slot(external_id_out, "external_id_out")?;
        let id = snapb2b_core::external_id::generate(snapb2b_core::external_id::DEFAULT_LENGTH)?;
        give_string(out, id)
    })
}

/// Frees a handle. NULL is a no-op. No other thread may be using the
/// handle. The shared client (token, connection) stays in the process's
/// registry for the next handle with the same config; it is freed when it
/// leaves the registry and no handle holds it.
///
/// # Safety
/// `client` must be NULL or a live handle not used after this call.
#[no_mangle]
pub unsafe extern "C" fn b2b_client_free(client: *mut b2b_client) {
    if client.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(Box::from_raw(client));
    }));
}
