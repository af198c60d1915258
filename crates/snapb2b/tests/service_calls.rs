//! SNAP service calls through the token client against the in-process
//! sandbox, which checks what providers check (token, timestamp, signature,
//! partner, channel, body, X-EXTERNAL-ID once a day): every profile, both
//! signature schemes, invalid-token recovery, the no-re-send rule and
//! keep-alive, each counted on the provider's side.

use std::sync::{Arc, Barrier};

use base64::Engine as _;
use serde_json::{json, Value};
use snapb2b::client::Client;
use snapb2b::config::{Config, ConfigKind};
use snapb2b::service_call::ServiceRequest;
use snapb2b::Status;
use snapb2b_sandbox::{Sandbox, SandboxOptions, SERVICE_CHANNEL_ID, SERVICE_CLIENT_SECRET};

const VA_BODY: &str = r#"{ "partnerServiceId": "  088899", "customerNo": "12345678901234567890",
  "virtualAccountNo": "  08889912345678901234567890", "inquiryRequestId": "abcdef-123456-abcdef" }"#;

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).expect("sandbox starts")
}

fn client(sb: &Sandbox, provider: &str, extra: Value) -> Client {
    let mut c = sb.config_json(provider);
    c["client_secret"] = json!(SERVICE_CLIENT_SECRET);
    c["channel_id"] = json!(SERVICE_CHANNEL_ID);
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    let config = Config::from_map(c.as_object().unwrap(), ConfigKind::Client).expect("config");
    Client::with_clock(config, Arc::new(snapb2b::client::SystemClock)).expect("client")
}

fn va_inquiry(path: &str) -> ServiceRequest {
    ServiceRequest::new("POST", path, Some(VA_BODY)).unwrap()
}

fn stat(sb: &Sandbox, name: &str) -> u64 {
    sb.stats()[name].as_u64().unwrap_or(0)
}

fn calls_by(sb: &Sandbox, client_id: &str) -> u64 {
    sb.stats()["service_by_client"][client_id]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn every_profile_makes_a_va_inquiry_the_provider_accepts() {
    let sb = sandbox();
    for (provider, path, success) in [
        ("doku", "/v1.0/transfer-va/inquiry", "2002400"),
        ("nicepay", "/nicepay/v1.0/transfer-va/inquiry", "2002400"),
        ("snap", "/v1.0/transfer-va/inquiry", "2002400"),
        ("snap", "/v1.0/balance-inquiry", "2001100"),
        ("klikoo", "/v1/open-api/transfer-va/inquiry", "200242000"),
    ] {
        let c = client(&sb, provider, json!({}));
        let body = if path.ends_with("balance-inquiry") {
            r#"{"partnerReferenceNo":"2020102900000000000001","accountNo":"1234567890"}"#
        } else {
            VA_BODY
        };
        let r = c
            .request(&ServiceRequest::new("POST", path, Some(body)).unwrap())
            .unwrap();
        assert_eq!(r.http_status, 200, "{provider} {path}: {}", r.body);
        assert_eq!(r.response_code.as_deref(), Some(success), "{provider}");
        assert_eq!((r.attempts, r.token_renewed), (1, false));
        assert_eq!(r.external_id.len(), 32);
        assert!(r.external_id.bytes().all(|b| b.is_ascii_digit()));
        // The provider saw the id the library reports.
        assert_eq!(
            r.headers["x-external-id"].as_str(),
            Some(r.external_id.as_str())
        );
        // The body as sent, not re-serialised: the provider echoes the spaces.
        if !path.ends_with("balance-inquiry") {
            assert!(r.body.contains(r#""  088899""#), "{}", r.body);
        }
    }
}

#[test]
fn rsa_signed_calls_are_accepted() {
    let sb = sandbox();
    let c = client(
        &sb,
        "snap",
        json!({"client_id": snapb2b_sandbox::RSA_CLIENT_ID, "service_signature": "rsa"}),
    );
    let r = c.request(&va_inquiry("/v1.0/transfer-va/inquiry")).unwrap();
    assert_eq!(r.response_code.as_deref(), Some("2002400"), "{}", r.body);
    // The same client signing with HMAC is refused: the provider checks RSA.
    let wrong = client(
        &sb,
        "snap",
        json!({"client_id": snapb2b_sandbox::RSA_CLIENT_ID}),
    );
    let r = wrong
        .request(&va_inquiry("/v1.0/transfer-va/inquiry"))
        .unwrap();
    assert_eq!(r.http_status, 401);
    assert_eq!(r.response_code.as_deref(), Some("4012400"));
    assert_eq!(r.attempts, 1, "a signature refusal is not an invalid token");
}

#[test]
fn headers_are_in_order_and_the_signature_is_the_documented_hmac() {
    let sb = sandbox();
    // A path prefix in base_url is part of the signed EndpointUrl.
    let base = format!("{}/snap", sb.base_url());
    let c = client(&sb, "snap", json!({"base_url": base}));
    let request =
        ServiceRequest::new("post", "/v1.0/transfer-va/inquiry?x=1", Some(VA_BODY)).unwrap();
    let headers = c.headers(&request).unwrap();
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Content-Type",
            "Authorization",
            "X-TIMESTAMP",
            "X-SIGNATURE",
            "X-PARTNER-ID",
            "X-EXTERNAL-ID",
            "CHANNEL-ID"
        ]
    );
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).unwrap().1.clone();
    let token = get("Authorization")
        .strip_prefix("Bearer ")
        .unwrap()
        .to_string();
    let minified: String = {
        // Independent minification: whitespace outside strings removed.
        let mut out = String::new();
        let mut in_str = false;
        let mut escaped = false;
        for ch in VA_BODY.chars() {
            if in_str {
                out.push(ch);
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    in_str = false;
                }
            } else if ch == '"' {
                in_str = true;
                out.push(ch);
            } else if !ch.is_whitespace() {
                out.push(ch);
            }
        }
        out
    };
    let digest: String = openssl::sha::sha256(minified.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let data = format!(
        "POST:/snap/v1.0/transfer-va/inquiry?x=1:{token}:{digest}:{}",
        get("X-TIMESTAMP")
    );
    let key = openssl::pkey::PKey::hmac(SERVICE_CLIENT_SECRET.as_bytes()).unwrap();
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha512(), &key).unwrap();
    signer.update(data.as_bytes()).unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
    assert_eq!(get("X-SIGNATURE"), expected);
    assert_eq!(get("X-PARTNER-ID"), snapb2b_sandbox::SANDBOX_CLIENT_ID);
    assert_eq!(get("CHANNEL-ID"), SERVICE_CHANNEL_ID);
    assert_eq!(get("Content-Type"), "application/json");
}

#[test]
fn a_revoked_token_is_renewed_once_and_the_call_sent_once_more() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({}));
    let id = snapb2b_sandbox::SANDBOX_CLIENT_ID;
    c.request(&va_inquiry("/v1.0/transfer-va/inquiry")).unwrap();
    let issued = stat(&sb, "tokens_issued");
    let calls = calls_by(&sb, id);
    assert!(sb.revoke_tokens() >= 1);
    let r = c.request(&va_inquiry("/v1.0/transfer-va/inquiry")).unwrap();
    assert_eq!(r.response_code.as_deref(), Some("2002400"), "{}", r.body);
    assert_eq!((r.token_renewed, r.attempts), (true, 2));
    assert_eq!(
        calls_by(&sb, id) - calls,
        2,
        "exactly the refused call and its re-send"
    );
    assert_eq!(stat(&sb, "tokens_issued") - issued, 1);

    // Eight threads refused at once: one renewal between them.
    assert!(sb.revoke_tokens() >= 1);
    let issued = stat(&sb, "tokens_issued");
    let c = Arc::new(c);
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (c, start) = (c.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                c.request(&va_inquiry("/v1.0/transfer-va/inquiry")).unwrap()
            })
        })
        .collect();
    for t in threads {
        let r = t.join().unwrap();
        assert_eq!(r.response_code.as_deref(), Some("2002400"), "{}", r.body);
        assert!(r.attempts <= 2);
    }
    assert_eq!(
        stat(&sb, "tokens_issued") - issued,
        1,
        "one renewal for eight threads"
    );
}

#[test]
fn a_repeated_external_id_is_the_providers_answer_not_an_error() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({}));
    let mut request = va_inquiry("/v1.0/transfer-va/inquiry");
    request.external_id = Some("INV-2026-0001".into());
    let first = c.request(&request).unwrap();
    assert_eq!(first.response_code.as_deref(), Some("2002400"));
    let again = c.request(&request).unwrap();
    assert_eq!(again.http_status, 409);
    assert_eq!(again.response_code.as_deref(), Some("4092400"));
    assert_eq!(again.external_id, "INV-2026-0001");
    assert_eq!(again.attempts, 1);
}

#[test]
fn a_call_that_may_have_reached_the_provider_is_never_sent_again() {
    let sb = sandbox();
    for (client_id, status, timeout_ms) in [
        ("FAULT-SVC-SILENT", Status::B2B_TIMEOUT, 1_500),
        ("FAULT-SVC-DROP", Status::B2B_TRANSPORT, 5_000),
    ] {
        let c = client(
            &sb,
            "snap",
            json!({"client_id": client_id, "max_retries": 3, "timeout_ms": timeout_ms}),
        );
        // The token first, so the call goes out on a reused connection (the
        // case where libcurl would otherwise send it again by itself).
        c.token().unwrap();
        let mut request = va_inquiry("/v1.0/transfer-va/inquiry");
        request.external_id = Some(format!("{client_id}-1"));
        let started = std::time::Instant::now();
        let e = c.request(&request).unwrap_err();
        assert_eq!(e.status, status, "{client_id}: {}", e.message);
        assert!(
            e.message.contains("may have been processed")
                && e.message.contains(&format!("X-EXTERNAL-ID {client_id}-1")),
            "{client_id}: {}",
            e.message
        );
        assert!(started.elapsed().as_millis() < u128::from(timeout_ms as u64) + 1_000);
        assert_eq!(calls_by(&sb, client_id), 1, "{client_id}: sent once");
    }
}

#[test]
fn a_call_that_cannot_connect_is_not_sent_and_says_so() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({"max_retries": 2}));
    c.token().unwrap();
    // The provider goes away with our token still fresh: the call cannot
    // even connect, so it is certainly not sent (and may be retried).
    drop(sb);
    let e = c
        .request(&va_inquiry("/v1.0/transfer-va/inquiry"))
        .unwrap_err();
    assert_eq!(e.status, Status::B2B_TRANSPORT, "{}", e.message);
    assert!(
        e.message.contains("not sent") && e.message.contains("cannot connect"),
        "{}",
        e.message
    );
    assert!(
        !e.message.contains("may have been processed"),
        "{}",
        e.message
    );
}

#[test]
fn a_hundred_calls_and_the_token_share_one_connection() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({}));
    let before = stat(&sb, "connections");
    for _ in 0..100 {
        let r = c.request(&va_inquiry("/v1.0/transfer-va/inquiry")).unwrap();
        assert_eq!(r.http_status, 200);
    }
    assert_eq!(stat(&sb, "connections") - before, 1);
}

#[test]
fn service_settings_are_needed_only_by_service_calls() {
    let sb = sandbox();
    let mut cfg = sb.config_json("snap");
    let token_only = Client::new(&cfg.to_string()).unwrap();
    token_only.token().unwrap();
    let e = token_only
        .request(&va_inquiry("/v1.0/transfer-va/inquiry"))
        .unwrap_err();
    assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
    assert!(e.message.contains("`channel_id`"), "{}", e.message);
    cfg["channel_id"] = json!(SERVICE_CHANNEL_ID);
    let e = Client::new(&cfg.to_string())
        .unwrap()
        .request(&va_inquiry("/v1.0/transfer-va/inquiry"))
        .unwrap_err();
    assert!(e.message.contains("`client_secret`"), "{}", e.message);
    for (key, value, want) in [
        ("external_id_length", json!(15), "16 to 36"),
        ("external_id_length", json!(37), "16 to 36"),
        ("service_signature", json!("md5"), "hmac or rsa"),
        ("channel_id", json!("95 221"), "printable ASCII"),
        ("max_response_bytes", json!(10), "max_response_bytes"),
    ] {
        let mut bad = cfg.clone();
        bad[key] = value;
        let e = Client::new(&bad.to_string()).err().expect(key);
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{key}");
        assert!(e.message.contains(want), "{key}: {}", e.message);
    }
}
