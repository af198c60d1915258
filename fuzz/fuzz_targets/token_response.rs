//! `snapb2b::token::read_response(profile, response, requested_at)` for every
//! profile in `snapb2b::provider::ALL`.
//!
//! Input, shaped like an HTTP answer so seeds stay readable:
//!
//! ```text
//! 200                       <- status (decimal u32; not a number: 200)
//! X-TIMESTAMP: 2024-...     <- header lines `Name: value`
//! Date: Tue, 14 Nov ...
//!                           <- blank line (LF or CRLF)
//! {"responseCode":...}      <- body, raw bytes
//! ```
//!
//! With no blank line the whole input is the body of an HTTP 200.
//! Properties: never panics; a token is only read from a 2xx answer, is
//! non-empty without whitespace, lives 1 s .. 366 d and expires at
//! requested_at + expires_in; failures are PROVIDER (with the HTTP status)
//! or PROTOCOL, and their text is one line.
#![no_main]

mod common;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use snapb2b::transport::Response;
use snapb2b::Status;

const REQUESTED_AT: i64 = 1_700_000_000;
const MAX_EXPIRES_IN_S: u64 = 366 * 24 * 3600;

fn response(data: &[u8]) -> Response {
    let blank = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2))
        .into_iter()
        .chain(data.windows(4).position(|w| w == b"\r\n\r\n").map(|p| (p, p + 4)))
        .min();
    let Some((head_end, body_start)) = blank else {
        return Response {
            status: 200,
            headers: vec![],
            body: data.into(),
        };
    };
    let head = String::from_utf8_lossy(&data[..head_end]);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status = lines
        .next()
        .and_then(|l| l.trim().parse::<u32>().ok())
        .unwrap_or(200);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: data[body_start..].into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let response = response(data);
    let requested_at = DateTime::from_timestamp(REQUESTED_AT, 0).unwrap();
    for profile in snapb2b::provider::ALL {
        match snapb2b::token::read_response(profile, &response, requested_at) {
            Ok(t) => {
                assert!(response.is_success(), "token from HTTP {}", response.status);
                assert_eq!(t.provider, profile.name);
                let token = t.access_token.expose();
                assert!(!token.is_empty());
                assert!(!token.chars().any(|c| c.is_whitespace() || c.is_control()));
                assert!((1..=MAX_EXPIRES_IN_S).contains(&t.expires_in), "{}", t.expires_in);
                assert_eq!(t.expires_at, REQUESTED_AT + t.expires_in as i64);
                let json: serde_json::Value =
                    serde_json::from_slice(&t.to_json_secret(None)).expect("result JSON parses");
                assert_eq!(json["access_token"].as_str(), Some(token));
            }
            Err(e) => {
                match e.status {
                    Status::B2B_PROVIDER => assert_eq!(e.http_status, Some(response.status)),
                    Status::B2B_PROTOCOL => assert!(response.is_success()),
                    other => panic!("unexpected status {other:?}: {e:?}"),
                }
                common::assert_one_line(&e);
                let _ = e.to_json().to_string();
            }
        }
    }
});
