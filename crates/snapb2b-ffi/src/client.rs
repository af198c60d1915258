//! The caching token client of the C ABI: an opaque `b2b_client` handle.

use std::ffi::{c_char, c_int};

use super::{arg_str, give_secret, guard, out_slot};
use snapb2b_core::client::{Client, Source};
use snapb2b_core::error::{Error, Result};

/// An opaque token client. Create with `b2b_client_new`, free with
/// `b2b_client_free`. One handle may be shared by many threads.
#[allow(non_camel_case_types)]
pub struct b2b_client {
    inner: Client,
}

/// # Safety
/// `ptr` must be NULL or a live handle from `b2b_client_new`.
unsafe fn client_ref<'a>(ptr: *const b2b_client) -> Result<&'a Client> {
    ptr.as_ref()
        .map(|c| &c.inner)
        .ok_or_else(|| Error::invalid_argument("`client` is NULL"))
}

/// Creates a token client from `config_json` (the `b2b_get_token` keys plus
/// `refresh_margin_s`, `cache_file` and `max_retries`). The key is parsed
/// once, here. Writes the handle to `*client_out`; free it with
/// `b2b_client_free`.
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
        let inner = Client::new(config)?;
        *out = Box::into_raw(Box::new(b2b_client { inner }));
        Ok(())
    })
}

/// Writes the current token as JSON (as `b2b_get_token`, plus `"cached"`:
/// false when this call made the request) to `*token_json_out`; free it with
/// `b2b_free`. Returns the cached token while more than `refresh_margin_s`
/// remains; otherwise exactly one of the calling threads renews it while the
/// others wait for its result.
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
        give_secret(out, token.to_json_secret(Some(source == Source::Cached)))
    })
}

/// Drops the cached token, including its `cache_file` entry, so the next
/// `b2b_client_token` fetches a new one (e.g. after a service call answered
/// 401 "Invalid Token (B2B)").
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

/// Frees a client and its connection. NULL is a no-op. No other thread may
/// be using the handle.
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
