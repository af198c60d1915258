//! The customer token (SNAP B2B2C, service 74) against the in-process
//! sandbox, which checks the headers and signature as for the B2B token,
//! accepts its own auth codes once and its refresh tokens once, and checks
//! `Authorization-Customer` on service calls; the signature cross-checked
//! with the openssl command line; the no-re-send rule against a server that
//! hangs up after reading the request.

#[allow(unused_imports)] // shared helpers
#[path = "support/fault_server.rs"]
mod fault_server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use snapb2b::client::Client;
use snapb2b::config::{Config, ConfigKind};
use snapb2b::customer_token::{CustomerToken, CustomerTokenRequest};
use snapb2b::service_call::ServiceRequest;
use snapb2b::Status;
use snapb2b_sandbox::{
    Sandbox, SandboxOptions, REFRESH_TOKEN_TTL_SECS, SANDBOX_AUTH_CODE_PREFIX,
    SANDBOX_SHORT_AUTH_CODE_PREFIX, SERVICE_CHANNEL_ID, SERVICE_CLIENT_SECRET,
};

const VA_BODY: &str = r#"{"partnerServiceId":"  088899","customerNo":"12345678901234567890","virtualAccountNo":"  08889912345678901234567890","inquiryRequestId":"abcdef-123456-abcdef"}"#;

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

fn stat(sb: &Sandbox, name: &str) -> u64 {
    sb.stats()[name].as_u64().unwrap_or(0)
}

fn code(customer: &str) -> String {
    format!("{SANDBOX_AUTH_CODE_PREFIX}{customer}")
}

fn by_code(c: &Client, code: &str) -> snapb2b::Result<CustomerToken> {
    c.customer_token(&CustomerTokenRequest::auth_code(code).unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn va_inquiry(customer_token: Option<&str>) -> ServiceRequest {
    let mut request =
        json!({"method": "POST", "path": "/v1.0/transfer-va/inquiry", "body": VA_BODY});
    if let Some(t) = customer_token {
        request["customer_token"] = json!(t);
    }
    ServiceRequest::parse(&request.to_string()).unwrap()
}

#[test]
fn an_auth_code_gets_both_tokens_for_every_profile_that_has_the_endpoint() {
    let sb = sandbox();
    for (i, (provider, extra)) in [
        ("snap", json!({})),
        ("doku", json!({})),
        // A bank's prefix on the B2B path is on the B2B2C path too.
        ("snap", json!({"token_path": "/snap/v1.0/access-token/b2b"})),
        (
            "snap",
            json!({"token_path": "/openapi/v1.0/access-token/b2b"}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let c = client(&sb, provider, extra.clone());
        let request = CustomerTokenRequest::parse(
            &json!({"auth_code": code(&format!("alice-{i}")), "additional_info": {"deviceId": "d-1", "n": [1, 2]}})
                .to_string(),
        )
        .unwrap();
        let t = c.customer_token(&request).expect("customer token");
        let label = format!("{provider} {extra}");
        assert_eq!(t.provider, provider);
        assert_eq!(t.response_code.as_deref(), Some("2007400"), "{label}");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.access_token.expose().len(), 64, "{label}");
        let refresh = t.refresh_token.as_ref().expect("refresh token");
        assert_ne!(refresh.expose(), t.access_token.expose());
        // Parsed from the answer's ISO-8601 times (WIB, whole seconds).
        let at = t.access_token_expires_at.expect("access expiry");
        assert!((at - (now() + 900)).abs() <= 5, "{at}");
        let rt = t.refresh_token_expires_at.expect("refresh expiry");
        assert!((rt - (now() + REFRESH_TOKEN_TTL_SECS)).abs() <= 5, "{rt}");
        assert_eq!(t.customer_id.as_deref(), Some(&*format!("alice-{i}")));
        // additionalInfo went out and came back (the sandbox echoes it).
        let info = t.additional_info.clone().unwrap();
        assert_eq!(info["deviceId"], "d-1");
        assert_eq!(info["n"], json!([1, 2]));
        let out: Value = serde_json::from_slice(&t.to_json_secret()).unwrap();
        assert_eq!(out["access_token"], t.access_token.expose());
        assert_eq!(out["refresh_token"], refresh.expose());
        assert_eq!(out["access_token_expires_at"], at);
    }
    assert_eq!(stat(&sb, "customer_token_requests"), 4);
    assert_eq!(stat(&sb, "customer_tokens_issued"), 4);
    // The snap paths ask for the client's B2B token too (one per client:
    // three snap clients), DOKU's does not.
    assert_eq!(stat(&sb, "token_requests"), 3);
}

/// SNAP's B2B2C request carries the merchant's B2B token; the sandbox's snap
/// paths refuse one without it (a profile that does not send it) and one
/// it revoked, and the client drops a refused token so the next attempt
/// carries a new one.
#[test]
fn the_snap_request_carries_the_b2b_token_and_a_refused_one_is_dropped() {
    let sb = sandbox();
    let without = client(
        &sb,
        "snap",
        json!({"profile": {"customer_token": {"path": "/v1.0/access-token/b2b2c"}}}),
    );
    let e = by_code(&without, &code("bob-0")).unwrap_err();
    assert_eq!(e.status, Status::B2B_PROVIDER, "{e}");
    assert_eq!(
        (e.http_status, e.response_code.as_deref()),
        (Some(401), Some("4017401")),
        "{e}"
    );
    assert_eq!(stat(&sb, "token_requests"), 0);

    let c = client(&sb, "snap", json!({}));
    let first = by_code(&c, &code("bob-1")).expect("with the B2B token");
    assert_eq!(stat(&sb, "token_requests"), 1);
    assert!(sb.revoke_tokens() >= 1);
    let e = by_code(&c, &code("bob-2")).unwrap_err();
    assert_eq!(e.response_code.as_deref(), Some("4017401"), "{e}");
    // Not re-sent by the library (the grant may be single-use)...
    assert_eq!(stat(&sb, "token_requests"), 1);
    // ...but the refused token is gone: the caller's next attempt renews it
    // and the code (refused before it was looked at) still works.
    let again = by_code(&c, &code("bob-2")).expect("with a renewed B2B token");
    assert_eq!(stat(&sb, "token_requests"), 2);
    assert_ne!(again.access_token.expose(), first.access_token.expose());
}

#[test]
fn a_refresh_token_gets_new_tokens_once() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({}));
    let first = by_code(&c, &code("bob")).unwrap();
    let refresh = first.refresh_token.clone().unwrap();
    let second = c
        .customer_token(&CustomerTokenRequest::refresh_token(refresh.expose()).unwrap())
        .unwrap();
    assert_eq!(second.customer_id.as_deref(), Some("bob"));
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    // Both access tokens still work; the used refresh token does not.
    let e = c
        .customer_token(&CustomerTokenRequest::refresh_token(refresh.expose()).unwrap())
        .unwrap_err();
    assert_eq!(
        (e.status, e.http_status, e.response_code.as_deref()),
        (Status::B2B_PROVIDER, Some(401), Some("4017400"))
    );
    assert_eq!(
        e.response_message.as_deref(),
        Some("Unauthorized. Invalid Refresh Token")
    );
    assert!(
        e.message.contains("customer token request"),
        "{}",
        e.message
    );
    assert!(!e.message.contains(refresh.expose()), "{}", e.message);
    // The new refresh token works, once.
    let third = c
        .customer_token(
            &CustomerTokenRequest::refresh_token(second.refresh_token.as_ref().unwrap().expose())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(third.customer_id.as_deref(), Some("bob"));
}

#[test]
fn bad_used_unknown_and_expired_grants_are_the_providers_refusals() {
    let sb = sandbox();
    let c = client(&sb, "doku", json!({}));
    let refused = |e: snapb2b::Error, message: &str| {
        assert_eq!(
            (e.status, e.http_status, e.response_code.as_deref()),
            (Status::B2B_PROVIDER, Some(401), Some("4017400")),
            "{e}"
        );
        assert_eq!(e.response_message.as_deref(), Some(message));
        assert!(
            e.message
                .starts_with("doku refused the customer token request: HTTP 401 4017400"),
            "{}",
            e.message
        );
        let shown = e.to_string();
        assert!(
            !shown.contains("SANDBOX-AUTH") && !shown.contains("NOT-A-CODE"),
            "{shown}"
        );
    };
    refused(
        by_code(&c, "NOT-A-CODE").unwrap_err(),
        "Unauthorized. Invalid Auth Code",
    );
    by_code(&c, &code("carol")).unwrap();
    refused(
        by_code(&c, &code("carol")).unwrap_err(),
        "Unauthorized. Auth Code Already Used",
    );
    let unknown = CustomerTokenRequest::refresh_token("bm90LWlzc3VlZA").unwrap();
    refused(
        c.customer_token(&unknown).unwrap_err(),
        "Unauthorized. Invalid Refresh Token",
    );
    // A short auth code: both tokens live one second.
    let short = by_code(&c, &format!("{SANDBOX_SHORT_AUTH_CODE_PREFIX}dave")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let expired =
        CustomerTokenRequest::refresh_token(short.refresh_token.as_ref().unwrap().expose())
            .unwrap();
    refused(
        c.customer_token(&expired).unwrap_err(),
        "Unauthorized. Invalid Refresh Token",
    );
    // A client the provider does not know: refused before the grant is looked at.
    let mut stranger = sb.config_json("doku");
    stranger["client_id"] = json!("NOT-REGISTERED");
    let stranger = Client::new(&stranger.to_string()).unwrap();
    let e = by_code(&stranger, &code("erin")).unwrap_err();
    assert_eq!(
        e.response_message.as_deref(),
        Some("Unauthorized. Unknown Client")
    );
    // ... so the code is still good for its client.
    by_code(&c, &code("erin")).unwrap();
}

#[test]
fn a_profile_without_the_endpoint_is_refused_before_sending() {
    let sb = sandbox();
    for provider in ["nicepay", "klikoo"] {
        let c = client(&sb, provider, json!({}));
        let e = by_code(&c, &code("x")).unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{provider}");
        assert!(
            e.message.contains("no customer (B2B2C) token endpoint"),
            "{}",
            e.message
        );
    }
    assert_eq!(stat(&sb, "requests"), 0);
}

#[test]
fn service_calls_carry_the_customer_token_and_the_provider_checks_it() {
    let sb = sandbox();
    let c = client(&sb, "snap", json!({}));
    let t = by_code(&c, &code("frank")).unwrap();
    let ok = c
        .request(&va_inquiry(Some(t.access_token.expose())))
        .unwrap();
    assert_eq!(
        (ok.http_status, ok.response_code.as_deref()),
        (200, Some("2002400")),
        "{}",
        ok.body
    );
    // The headers a caller would send itself carry it too, in order.
    let headers = snapb2b::service_call::envelope(
        c.config(),
        &c.config().load_key().unwrap(),
        &c.token().unwrap().0,
        &va_inquiry(Some(t.access_token.expose())),
        "1",
        "2024-12-31T10:11:40+07:00",
    )
    .unwrap()
    .headers;
    assert_eq!(headers[1].0, "Authorization");
    assert_eq!(
        headers[2],
        (
            "Authorization-Customer".to_string(),
            format!("Bearer {}", t.access_token.expose())
        )
    );

    // A token the provider never issued: its 401xx02, answered (B2B_OK),
    // and not mistaken for a refused B2B token (no renewal, one attempt).
    let bad = c
        .request(&va_inquiry(Some("bm90LWEtY3VzdG9tZXItdG9rZW4")))
        .unwrap();
    assert_eq!(
        (
            bad.http_status,
            bad.response_code.as_deref(),
            bad.response_message.as_deref()
        ),
        (401, Some("4012402"), Some("Invalid Customer Token"))
    );
    assert_eq!((bad.token_renewed, bad.attempts), (false, 1));
    // The refresh token is not an access token.
    let refresh = t.refresh_token.as_ref().unwrap().expose();
    let r = c.request(&va_inquiry(Some(refresh))).unwrap();
    assert_eq!(r.response_code.as_deref(), Some("4012402"));
    // Another client's customer token is not this client's.
    let other = client(
        &sb,
        "snap",
        json!({"client_id": "SANDBOX-CLIENT-RSA", "service_signature": "rsa"}),
    );
    let r = other
        .request(&va_inquiry(Some(t.access_token.expose())))
        .unwrap();
    assert_eq!(r.response_code.as_deref(), Some("4012402"), "{}", r.body);
    // An expired one.
    let short = by_code(&c, &format!("{SANDBOX_SHORT_AUTH_CODE_PREFIX}gina")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let r = c
        .request(&va_inquiry(Some(short.access_token.expose())))
        .unwrap();
    assert_eq!(r.response_code.as_deref(), Some("4012402"));
    // Without one, the call is the plain B2B call.
    let plain = c.request(&va_inquiry(None)).unwrap();
    assert_eq!(plain.http_status, 200);
    assert_eq!(stat(&sb, "service_401"), 4);
    assert_eq!(stat(&sb, "service_ok"), 2);
}

/// The headers and body as sent, the signature checked by the openssl
/// command line (not the library's code, nor the sandbox's).
#[test]
fn the_request_is_signed_as_the_b2b_token_is_and_checked_by_openssl() {
    use fault_server::{fixture, Cert, Mode, Server};
    let seen: Arc<Mutex<Vec<snapb2b_sandbox::http::Request>>> = Arc::default();
    let keep = seen.clone();
    let server = Server::start(Mode::Tls(Cert::Good), move |s| {
        while let Some(req) = s.read_request() {
            let b2b = req.path.ends_with("/b2b");
            keep.lock().unwrap().push(req);
            if b2b {
                s.respond(200, &[], br#"{"responseCode":"2007300","accessToken":"b2b-token","tokenType":"Bearer","expiresIn":"900"}"#);
            } else {
                s.respond(200, &[], br#"{"responseCode":"2007400","responseMessage":"Successful","accessToken":"at","tokenType":"Bearer","accessTokenExpiryTime":"2030-01-01T07:00:00+07:00"}"#);
            }
        }
    });
    let f = fixture();
    let config = json!({
        "provider": "snap", "base_url": format!("https://127.0.0.1:{}", server.port),
        "client_id": "merchant-1", "private_key_file": f.key_file, "ca_file": f.ca_file,
    });
    // A profile that does not ask for the B2B token sends none (and fetches none).
    let mut bare = config.clone();
    bare["profile"] =
        json!({"customer_token": {"path": "/v1.0/access-token/b2b2c", "b2b_authorization": false}});
    Client::new(&bare.to_string())
        .unwrap()
        .customer_token(&CustomerTokenRequest::auth_code("code-1").unwrap())
        .unwrap();
    {
        let mut seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, "/v1.0/access-token/b2b2c");
        assert_eq!(seen[0].header("Authorization"), None);
        seen.clear();
    }
    let c = Client::new(&config.to_string()).unwrap();
    let t = c
        .customer_token(
            &CustomerTokenRequest::parse(
                r#"{"refresh_token":"rt-abc","additional_info":{"k":"v"}}"#,
            )
            .unwrap(),
        )
        .unwrap();
    assert_eq!(t.access_token_expires_at, Some(1_893_456_000));
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1.0/access-token/b2b2c")
    );
    assert_eq!(
        std::str::from_utf8(&req.body).unwrap(),
        r#"{"grantType":"refresh_token","refreshToken":"rt-abc","additionalInfo":{"k":"v"}}"#
    );
    assert_eq!(req.header("X-CLIENT-KEY"), Some("merchant-1"));
    // SNAP: the merchant's B2B token beside the signature.
    assert_eq!(req.header("Authorization"), Some("Bearer b2b-token"));
    assert_eq!(seen.lock().unwrap().len(), 1, "the B2B token request");
    let timestamp = req.header("X-TIMESTAMP").unwrap();
    assert!(
        snapb2b::timestamp::parse(timestamp).is_some(),
        "{timestamp}"
    );
    let signature = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        req.header("X-SIGNATURE").unwrap(),
    )
    .unwrap();
    let dir = &f.dir;
    let sig_file = dir.join(format!("b2b2c-{}.sig", std::process::id()));
    let msg_file = dir.join(format!("b2b2c-{}.txt", std::process::id()));
    let pub_file = dir.join(format!("b2b2c-{}.pub", std::process::id()));
    std::fs::write(&sig_file, signature).unwrap();
    std::fs::write(&msg_file, format!("merchant-1|{timestamp}")).unwrap();
    std::fs::write(&pub_file, f.public_key.public_key_to_pem().unwrap()).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&pub_file)
        .arg("-signature")
        .arg(&sig_file)
        .arg(&msg_file)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
}

/// An auth code is used up by the provider on arrival: a request that may
/// have arrived is never sent again, whatever max_retries says. (DOKU: its
/// request needs no B2B token, so the hang-up is the customer request's.)
#[test]
fn a_request_that_may_have_arrived_is_not_sent_again() {
    use fault_server::{fixture, Cert, Mode, Server};
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some() {
            s.hang_up();
        }
    });
    let f = fixture();
    let config = json!({
        "provider": "doku", "base_url": format!("https://127.0.0.1:{}", server.port),
        "client_id": "merchant-1", "private_key_file": f.key_file, "ca_file": f.ca_file,
        "max_retries": 3, "timeout_ms": 3000,
    });
    let c = Client::new(&config.to_string()).unwrap();
    let e = by_code(&c, "SECRET-CODE-1").unwrap_err();
    assert_eq!(e.status, Status::B2B_TRANSPORT, "{e}");
    assert!(
        e.message
            .starts_with("customer token request: sent, no answer"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("SECRET-CODE-1"), "{}", e.message);
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_request_that_cannot_connect_is_retried_within_its_timeout() {
    let port = fault_server::closed_port();
    let f = fault_server::fixture();
    let config = json!({
        "provider": "snap", "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "merchant-1", "private_key_file": f.key_file, "ca_file": f.ca_file,
        "max_retries": 10, "timeout_ms": 5000,
    });
    let c = Client::new(&config.to_string()).unwrap();
    let request =
        CustomerTokenRequest::parse(&json!({"auth_code": "x", "timeout_ms": 600}).to_string())
            .unwrap();
    let started = std::time::Instant::now();
    let e = c.customer_token(&request).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(e.status, Status::B2B_TRANSPORT, "{e}");
    assert!(
        e.message.starts_with("customer token request: not sent"),
        "{}",
        e.message
    );
    // The request's own timeout_ms, not the config's.
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}
