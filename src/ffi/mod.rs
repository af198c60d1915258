//! The C ABI. Every exported function has the same shape: a panic guard
//! ([`guard`]), pointer unwrapping through the helpers below, then a call into
//! the plain Rust modules. Outputs are written only on success.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::error::{Error, Result, Status};

pub mod client;
pub mod service;
pub mod sign;
pub mod token;
pub mod verify;

/// Status codes returned by every fallible `b2b_*` function. The values are
/// fixed forever; new codes may be added.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum b2b_status {
    /// Success.
    B2B_OK = 0,
    /// NULL where not allowed, invalid UTF-8, malformed or unknown config
    /// JSON, unknown provider, missing required field, plain http without
    /// `allow_http`.
    B2B_INVALID_ARGUMENT = 1,
    /// Key unreadable, encrypted without or with the wrong passphrase, not
    /// RSA, RSA under 2048 bits, or a public key where a private one is needed.
    B2B_KEY = 2,
    /// OpenSSL failed while signing.
    B2B_CRYPTO = 3,
    /// DNS, connect, TLS or certificate failure, connection dropped.
    B2B_TRANSPORT = 4,
    /// No complete answer within `timeout_ms`.
    B2B_TIMEOUT = 5,
    /// The provider answered with a non-2xx HTTP status or a non-success
    /// response code (see `b2b_last_error_json`).
    B2B_PROVIDER = 6,
    /// The response is not the documented JSON, lacks the token, or exceeds
    /// the 1 MiB limit.
    B2B_PROTOCOL = 7,
    /// A signature did not verify (verification functions).
    B2B_SIGNATURE_INVALID = 8,
    /// A bug in snapb2b (a Rust panic caught at the boundary); please report it.
    B2B_INTERNAL = 99,
}

impl From<Status> for b2b_status {
    fn from(s: Status) -> b2b_status {
        match s {
            Status::Ok => b2b_status::B2B_OK,
            Status::InvalidArgument => b2b_status::B2B_INVALID_ARGUMENT,
            Status::Key => b2b_status::B2B_KEY,
            Status::Crypto => b2b_status::B2B_CRYPTO,
            Status::Transport => b2b_status::B2B_TRANSPORT,
            Status::Timeout => b2b_status::B2B_TIMEOUT,
            Status::Provider => b2b_status::B2B_PROVIDER,
            Status::Protocol => b2b_status::B2B_PROTOCOL,
            Status::SignatureInvalid => b2b_status::B2B_SIGNATURE_INVALID,
            Status::Internal => b2b_status::B2B_INTERNAL,
        }
    }
}

struct LastError {
    message: CString,
    json: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn to_cstring_lossy(s: String) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn set_last_error(err: &Error) {
    let entry = LastError {
        message: to_cstring_lossy(err.to_string()),
        json: to_cstring_lossy(err.to_json().to_string()),
    };
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(entry));
}

/// Runs `f`, turning its error or panic into a status code and the thread's
/// last error. No panic unwinds into the caller.
pub(crate) fn guard<F: FnOnce() -> Result<()>>(f: F) -> c_int {
    let err = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return b2b_status::B2B_OK as c_int,
        Ok(Err(e)) => e,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Error::new(
                Status::Internal,
                format!("internal error in snapb2b ({what}); please report it"),
            )
        }
    };
    set_last_error(&err);
    b2b_status::from(err.status) as c_int
}

/// A required string argument: not NULL, valid UTF-8.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("`{name}` is NULL")));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("`{name}` is not valid UTF-8")))
}

/// An optional string argument: NULL means `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        arg_str(ptr, name).map(Some)
    }
}

/// An output slot: must not be NULL. Checked before any work so that a bad
/// call fails fast.
///
/// # Safety
/// `ptr` must be NULL or valid for writes.
pub(crate) unsafe fn out_slot<'a, T>(ptr: *mut *mut T, name: &str) -> Result<&'a mut *mut T> {
    ptr.as_mut()
        .ok_or_else(|| Error::invalid_argument(format!("`{name}` (output pointer) is NULL")))
}

/// Hands `s` to the caller, who frees it with `b2b_free`.
pub(crate) fn give_string(slot: &mut *mut c_char, s: String) -> Result<()> {
    let c =
        CString::new(s).map_err(|_| Error::new(Status::Internal, "output contains a NUL byte"))?;
    *slot = c.into_raw();
    Ok(())
}

/// Hands a secret-bearing string (a token JSON) to the caller without
/// leaving unwiped copies: copied once into an exactly sized allocation (so
/// `CString` needs no reallocation), the source buffer wiped on drop.
pub(crate) fn give_secret(slot: &mut *mut c_char, s: crate::secret::SecretBytes) -> Result<()> {
    if s.contains(&0) {
        return Err(Error::new(Status::Internal, "output contains a NUL byte"));
    }
    let mut exact = Vec::with_capacity(s.len() + 1);
    exact.extend_from_slice(&s);
    // SAFETY: checked above that there is no interior NUL; capacity is
    // len + 1, so adding the terminator and boxing do not reallocate.
    let c = unsafe { CString::from_vec_unchecked(exact) };
    *slot = c.into_raw();
    Ok(())
}

/// Frees a string returned by any `b2b_*` function, wiping its bytes first
/// (returned strings may hold tokens). NULL is a no-op. Never pass a pointer
/// from another allocator, and never free one twice.
///
/// # Safety
/// `ptr` must be NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn b2b_free(ptr: *mut c_char) {
    if ptr.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        let owned = CString::from_raw(ptr);
        let mut bytes = owned.into_bytes_with_nul();
        crate::secret::wipe_bytes(&mut bytes);
    });
}

/// The calling thread's last failure as one readable line, or NULL if no
/// call on this thread has failed. Owned by the library; valid until the
/// next `b2b_*` call on this thread (today only a failing call replaces it;
/// do not rely on that). Never contains secrets.
#[no_mangle]
pub extern "C" fn b2b_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .map_or(ptr::null(), |e| e.message.as_ptr())
        })
        .unwrap_or(ptr::null())
}

/// The same failure as JSON: `{"status","name","message","http_status",
/// "response_code","response_message","hint"}` (null where not applicable),
/// or NULL if no call on this thread has failed. Ownership as
/// `b2b_last_error`.
#[no_mangle]
pub extern "C" fn b2b_last_error_json() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .map_or(ptr::null(), |e| e.json.as_ptr())
        })
        .unwrap_or(ptr::null())
}

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version (semver, as in Cargo.toml). Static; do not free.
#[no_mangle]
pub extern "C" fn b2b_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// The name of a status code (`"KEY"`, `"TIMEOUT"`, ...), or `"UNKNOWN"`.
/// Static; do not free.
#[no_mangle]
pub extern "C" fn b2b_status_name(status: c_int) -> *const c_char {
    Status::from_code(status)
        .map_or(c"UNKNOWN", Status::c_name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_status_values_match_the_core_and_names() {
        for s in Status::ALL {
            assert_eq!(b2b_status::from(s) as i32, s.code());
            let name = unsafe { CStr::from_ptr(b2b_status_name(s.code())) };
            assert_eq!(name.to_str().unwrap(), s.name());
        }
    }

    #[test]
    fn panics_become_internal_errors() {
        let rc = guard(|| panic!("boom"));
        assert_eq!(rc, 99);
        let msg = unsafe { CStr::from_ptr(b2b_last_error()) }
            .to_str()
            .unwrap();
        assert!(msg.contains("boom") && msg.starts_with("INTERNAL"), "{msg}");
    }
}
