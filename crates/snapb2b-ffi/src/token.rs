//! One-shot token function of the C ABI.

use std::ffi::{c_char, c_int};

use super::{arg_str, give_secret, guard, out_slot};

/// Performs the provider's token request described by `config_json` and
/// writes the normalised result JSON to `*token_json_out` (free it with
/// `b2b_free`): `{"provider","access_token","token_type","expires_in",
/// "expires_at","response_code","response_message"}`.
///
/// # Safety
/// `config_json` must be NULL or NUL-terminated; `token_json_out` must be
/// NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_get_token(
    config_json: *const c_char,
    token_json_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_get_token", || {
        let out = out_slot(token_json_out, "token_json_out")?;
        let config = arg_str(config_json, "config_json")?;
        let token = snapb2b_core::token::get_token(config)?;
        give_secret(out, token.to_json_secret(None))
    })
}
