//! The B2B access token: [`Token`], what every provider's answer is
//! normalised to, and its result JSON. Building and sending the request is
//! in [`request`], reading the answer in [`response`], the operator hints
//! drawn from a refusal in `hint`.

use serde::Serialize;
use serde_json::Value;

use crate::provider::Text;
use crate::secret::{SecretBuf, SecretBytes, SecretString};

mod hint;
pub mod request;
pub mod response;

pub use request::{build_request, fetch, get_token, TokenRequest};
pub use response::{read_response, DEFAULT_EXPIRES_IN_S};

/// A token as every provider's answer is normalised to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The profile's name.
    pub provider: Text,
    pub access_token: SecretString,
    pub token_type: String,
    pub expires_in: u64,
    /// Unix seconds: the request's start plus `expires_in`, so clock time
    /// spent on the round trip counts against the token, not in its favour.
    pub expires_at: i64,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
    /// The provider's `additionalInfo` object, as sent; `None` without one.
    pub additional_info: Option<Value>,
}

/// The result JSON as `b2b_get_token`, `b2b_client_token` and `snapb2b
/// token` hand it out: these fields, in this order.
#[derive(Serialize)]
struct ResultJson<'a> {
    provider: &'a str,
    access_token: &'a str,
    token_type: &'a str,
    expires_in: u64,
    expires_at: i64,
    response_code: Option<&'a str>,
    response_message: Option<&'a str>,
    additional_info: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache: Option<&'a str>,
}

impl Token {
    /// The result JSON (with `cached` when given), serialised straight into
    /// a buffer that wipes every allocation it outgrows and, when dropped,
    /// its last one: the only form in which the token leaves as JSON.
    pub fn to_json_secret(&self, cached: Option<bool>) -> SecretBytes {
        self.to_json_secret_with(cached, None)
    }

    /// The result JSON of a client with a `cache_file`: also `cache`, whether
    /// the file is shared (`"on"`) or why not (`"off: ..."`).
    pub fn to_json_secret_with(&self, cached: Option<bool>, cache: Option<&str>) -> SecretBytes {
        let view = ResultJson {
            provider: &self.provider,
            access_token: self.access_token.expose(),
            token_type: &self.token_type,
            expires_in: self.expires_in,
            expires_at: self.expires_at,
            response_code: self.response_code.as_deref(),
            response_message: self.response_message.as_deref(),
            additional_info: self.additional_info.as_ref(),
            cached,
            cache,
        };
        // Room for a token sent without escapes, as providers send them;
        // escapes only make the buffer grow, which still leaves no copy.
        let mut out = SecretBuf::with_capacity(256 + view.access_token.len());
        serde_json::to_writer(&mut out, &view)
            .expect("strings and integers always serialise, and SecretBuf never fails a write");
        SecretBytes::from(out)
    }

    /// Seconds of validity left at `now` (negative once expired).
    pub fn remaining_s(&self, now: i64) -> i64 {
        // Saturating: an `expires_at` of i64::MIN must read as long expired,
        // not wrap to fresh forever.
        self.expires_at.saturating_sub(now)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::Value;

    use super::*;
    use crate::provider::NICEPAY;
    use crate::transport::Response;

    pub(super) fn resp(status: u32, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().into(),
        }
    }

    pub(super) fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn result_json_keeps_its_field_order_and_escapes_what_it_must() {
        let mut t = read_response(&NICEPAY, &resp(200, r#"{"responseCode":"2007300","responseMessage":"Succ\"ess\\ful\n\u0001","accessToken":"tok-1","tokenType":"Bearer","expiresIn":"900"}"#), t0()).unwrap();
        // read_response refuses control characters in a token and drops
        // them from a message; a Token built in Rust may still hold them.
        t.access_token = SecretString::from("a\"b\\c\t\u{1f}");
        t.response_message = Some("Succ\"ess\\ful\n\u{1}".into());
        assert_eq!(
            std::str::from_utf8(&t.to_json_secret(None)).unwrap(),
            r#"{"provider":"nicepay","access_token":"a\"b\\c\t\u001f","token_type":"Bearer","expires_in":900,"expires_at":1700000900,"response_code":"2007300","response_message":"Succ\"ess\\ful\n\u0001","additional_info":null}"#
        );
        t.response_code = None;
        let bytes = t.to_json_secret(Some(true));
        assert!(bytes.ends_with(
            br#","response_code":null,"response_message":"Succ\"ess\\ful\n\u0001","additional_info":null,"cached":true}"#
        ));
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["access_token"], "a\"b\\c\t\u{1f}");
        assert_eq!(back["response_message"], "Succ\"ess\\ful\n\u{1}");
        assert_eq!(back["cached"], true);
        let b: Value = serde_json::from_slice(&t.to_json_secret(Some(false))).unwrap();
        assert_eq!(b["cached"], false);
    }
}
