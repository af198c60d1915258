//! The C ABI. Every exported function has the same shape: a panic guard
//! ([`guard`]), pointer unwrapping through the helpers below, then a call into
//! the plain Rust modules. Outputs are written only on success.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use snapb2b_core::error::{Error, Result, Status};

pub mod client;
pub mod server;
pub mod service;
pub mod sign;
pub mod token;
pub mod verify;

/// The status codes: the core's [`Status`] is `#[repr(C)]` and cbindgen
/// exports it as `enum b2b_status` (one definition, no conversion).
pub use snapb2b_core::error::Status as b2b_status;

/// The `max_skew_s` to pass to the `b2b_verify*` functions without a reason
/// to choose another: 5 minutes.
// A literal because cbindgen reads only literals; a unit test holds it equal
// to the core's `service::DEFAULT_MAX_SKEW_S`.
pub const B2B_DEFAULT_MAX_SKEW_S: c_int = 300;

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

/// Runs `f` for the exported function `function`, turning its error or
/// panic into a status code and the thread's last error. No panic unwinds
/// into the caller, and a panic's payload is never shown (it could hold
/// data): the message names the function and says it is a bug.
pub(crate) fn guard<F: FnOnce() -> Result<()>>(function: &str, f: F) -> c_int {
    let err = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return Status::B2B_OK as c_int,
        Ok(Err(e)) => e,
        Err(_) => Error::new(
            Status::B2B_INTERNAL,
            format!("internal error in {function}: a bug in snapb2b; please report it"),
        ),
    };
    set_last_error(&err);
    err.status as c_int
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
    let c = CString::new(s)
        .map_err(|_| Error::new(Status::B2B_INTERNAL, "output contains a NUL byte"))?;
    *slot = c.into_raw();
    Ok(())
}

/// Hands a secret-bearing string (a token JSON) to the caller without
/// leaving unwiped copies: copied once into an exactly sized allocation (so
/// `CString` needs no reallocation), the source buffer wiped on drop.
pub(crate) fn give_secret(
    slot: &mut *mut c_char,
    s: snapb2b_core::secret::SecretBytes,
) -> Result<()> {
    if s.contains(&0) {
        return Err(Error::new(
            Status::B2B_INTERNAL,
            "output contains a NUL byte",
        ));
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
        snapb2b_core::secret::wipe_bytes(&mut bytes);
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
            assert_eq!(s as i32, s.code());
            let name = unsafe { CStr::from_ptr(b2b_status_name(s.code())) };
            assert_eq!(name.to_str().unwrap(), s.name());
        }
    }

    #[test]
    fn default_skew_is_the_cores() {
        assert_eq!(
            i64::from(B2B_DEFAULT_MAX_SKEW_S),
            snapb2b_core::service::DEFAULT_MAX_SKEW_S
        );
    }

    #[test]
    fn panics_become_internal_errors() {
        let rc = guard("b2b_test", || panic!("secret-payload-7f"));
        assert_eq!(rc, 99);
        let msg = unsafe { CStr::from_ptr(b2b_last_error()) }
            .to_str()
            .unwrap();
        // The payload could hold data: it is never shown.
        assert!(!msg.contains("secret-payload"), "{msg}");
        assert!(
            msg.starts_with("INTERNAL") && msg.contains("b2b_test") && msg.contains("bug"),
            "{msg}"
        );
        let json = unsafe { CStr::from_ptr(b2b_last_error_json()) }
            .to_str()
            .unwrap();
        assert!(!json.contains("secret-payload"), "{json}");
    }
}
