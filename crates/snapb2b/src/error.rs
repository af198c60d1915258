//! Status codes and the error type every fallible operation returns.
//!
//! The numeric values are part of the C ABI contract and never change.

use std::fmt;

use crate::redact;

/// Status codes returned by every fallible `b2b_*` function. The values are
/// fixed forever; new codes may be added.
// This is the C ABI's `enum b2b_status` itself: cbindgen exports this type
// under that name, so there is no second copy to keep in step. The variant
// names are the C names so Rust and C read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum Status {
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

impl Status {
    pub const ALL: [Status; 10] = [
        Status::B2B_OK,
        Status::B2B_INVALID_ARGUMENT,
        Status::B2B_KEY,
        Status::B2B_CRYPTO,
        Status::B2B_TRANSPORT,
        Status::B2B_TIMEOUT,
        Status::B2B_PROVIDER,
        Status::B2B_PROTOCOL,
        Status::B2B_SIGNATURE_INVALID,
        Status::B2B_INTERNAL,
    ];

    /// The stable name used in messages, JSON, the bindings and
    /// `b2b_status_name` (one table for all of them).
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            Status::B2B_OK => c"OK",
            Status::B2B_INVALID_ARGUMENT => c"INVALID_ARGUMENT",
            Status::B2B_KEY => c"KEY",
            Status::B2B_CRYPTO => c"CRYPTO",
            Status::B2B_TRANSPORT => c"TRANSPORT",
            Status::B2B_TIMEOUT => c"TIMEOUT",
            Status::B2B_PROVIDER => c"PROVIDER",
            Status::B2B_PROTOCOL => c"PROTOCOL",
            Status::B2B_SIGNATURE_INVALID => c"SIGNATURE_INVALID",
            Status::B2B_INTERNAL => c"INTERNAL",
        }
    }

    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("status names are ASCII")
    }

    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failure with a readable message and, for provider answers, what the
/// provider said. Messages never carry key material, passphrases, client
/// secrets or tokens: every constructor site is written with that in mind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
    pub http_status: Option<u32>,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
    /// A suggestion for the operator, when the cause is a known field mistake.
    pub hint: Option<String>,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            http_status: None,
            response_code: None,
            response_message: None,
            hint: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Status::B2B_INVALID_ARGUMENT, message)
    }

    pub fn key(message: impl Into<String>) -> Error {
        Error::new(Status::B2B_KEY, message)
    }

    pub fn crypto(message: impl Into<String>) -> Error {
        Error::new(Status::B2B_CRYPTO, message)
    }

    pub fn protocol(message: impl Into<String>) -> Error {
        Error::new(Status::B2B_PROTOCOL, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The error with each of `secrets` (configured secret values, a token)
    /// removed from every text field: for errors that carry outside text,
    /// which may echo what was sent.
    pub fn without_secrets(self, secrets: &[&str]) -> Error {
        Error {
            message: redact::scrub(&self.message, secrets, redact::MAX_MESSAGE_CHARS),
            hint: self
                .hint
                .map(|h| redact::scrub(&h, secrets, redact::MAX_MESSAGE_CHARS)),
            response_code: self
                .response_code
                .map(|c| redact::scrub(&c, secrets, redact::MAX_RESPONSE_CODE_CHARS)),
            response_message: self
                .response_message
                .map(|m| redact::scrub(&m, secrets, redact::MAX_RESPONSE_MESSAGE_CHARS)),
            ..self
        }
    }

    /// The error as the JSON object `b2b_last_error_json` returns.
    pub fn to_json(&self) -> serde_json::Value {
        // The last line of defence: whatever a constructor let through, no
        // control character, URL credentials or unbounded text leaves.
        let e = self.clone().without_secrets(&[]);
        serde_json::json!({
            "status": e.status.code(),
            "name": e.status.name(),
            "message": e.message,
            "http_status": e.http_status,
            "response_code": e.response_code,
            "response_message": e.response_message,
            "hint": e.hint,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scrub = |text: &str| redact::scrub(text, &[], redact::MAX_MESSAGE_CHARS);
        write!(f, "{}: {}", self.status.name(), scrub(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {})", scrub(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// OpenSSL's error stack as one line, for CRYPTO/KEY messages. OpenSSL's
/// strings name reasons ("bad decrypt"), never key bytes.
pub(crate) fn openssl_reason(err: &openssl::error::ErrorStack) -> String {
    let reasons: Vec<String> = err
        .errors()
        .iter()
        .map(|e| e.reason().unwrap_or("unknown reason").to_string())
        .collect();
    if reasons.is_empty() {
        "unknown OpenSSL error".to_string()
    } else {
        reasons.join("; ")
    }
}

/// An I/O failure in the operating system's words ("No such file or
/// directory"), without Rust's " (os error N)" suffix; `ErrorKind`'s own
/// Display ("entity not found") reads like a bug to an operator.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}
