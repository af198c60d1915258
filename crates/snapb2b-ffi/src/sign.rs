//! Signing functions of the C ABI.

use std::ffi::{c_char, c_int};

use super::{arg_str, give_string, guard, out_slot};

/// Signs `client_id + "|" + timestamp` with SHA256withRSA (RSASSA-PKCS1-v1_5
/// over SHA-256) and writes the base64 signature (standard alphabet, padded)
/// to `*signature_out`; free it with `b2b_free`.
///
/// `private_key` may be PEM PKCS#8 or PKCS#1, or bare base64 DER of either,
/// with CRLF, surrounding whitespace, literal `\n` sequences or stripped
/// newlines. Parsed keys are kept in a small cache keyed by a hash of the
/// text, so passing the same string each time is fast.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated; `signature_out` must be
/// NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn b2b_sign(
    private_key: *const c_char,
    client_id: *const c_char,
    timestamp: *const c_char,
    signature_out: *mut *mut c_char,
) -> c_int {
    guard("b2b_sign", || {
        let out = out_slot(signature_out, "signature_out")?;
        let key = arg_str(private_key, "private_key")?;
        let client_id = arg_str(client_id, "client_id")?;
        let timestamp = arg_str(timestamp, "timestamp")?;
        let signature = snapb2b_core::sign::b2b_signature_from_text(key, client_id, timestamp)?;
        give_string(out, signature)
    })
}
