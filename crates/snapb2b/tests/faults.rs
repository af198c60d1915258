//! Faults survived: every failure class provoked for real against a
//! purpose-built server on 127.0.0.1 (`snapb2b_sandbox::faults`; CA and key
//! files in `support/fault_server.rs`), driven through the public API
//! (`token::get_token` and `client::Client`). Each
//! case must end within its `timeout_ms` (plus [`MARGIN_MS`]) with the right
//! status and a message that says what happened.

#[path = "support/fault_server.rs"]
mod fault_server;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{FixedOffset, Utc};
use fault_server::{closed_port, fixture, Cert, Mode, Request, Server, Session};
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use serde_json::{json, Value};
use snapb2b::client::{Client, Source};
use snapb2b::token::{get_token, Token};
use snapb2b::{Error, Status};

/// Allowed lateness over a configured timeout (scheduling on a busy CI box).
const MARGIN_MS: u64 = 500;
const TOKEN_PATH: &str = "/v1.0/access-token/b2b";
/// How long a "silent" server keeps quiet: far beyond every timeout used here.
const SILENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- helpers

/// A `snap` config for `port` with the test CA and client key, plus `extra`.
fn config(port: u16, extra: Value) -> String {
    let f = fixture();
    let mut c = json!({
        "provider": "snap",
        "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "C",
        "private_key_file": f.key_file,
        "ca_file": f.ca_file,
        "timeout_ms": 1000,
    });
    for (k, v) in extra.as_object().expect("extra is an object") {
        c[k] = v.clone();
    }
    c.to_string()
}

fn one_shot(config_json: &str) -> (snapb2b::Result<Token>, Duration) {
    let started = Instant::now();
    let result = get_token(config_json);
    (result, started.elapsed())
}

fn with_client(config_json: &str) -> (snapb2b::Result<(Token, Source)>, Duration) {
    let client = Client::new(config_json).expect("client config is valid");
    let started = Instant::now();
    let result = client.token();
    (result, started.elapsed())
}

fn expect_error<T: std::fmt::Debug>(result: snapb2b::Result<T>, status: Status) -> Error {
    match result {
        Ok(v) => panic!("expected {status}, got success: {v:?}"),
        Err(e) => {
            // Shown with --nocapture: what an operator would read.
            eprintln!("[{status}] {e}");
            assert_eq!(e.status, status, "wrong status; error: {e}");
            e
        }
    }
}

fn assert_ends_within(elapsed: Duration, limit_ms: u64, what: &str) {
    assert!(
        elapsed <= Duration::from_millis(limit_ms + MARGIN_MS),
        "{what}: took {elapsed:?}, limit {limit_ms} ms (+{MARGIN_MS} ms margin)"
    );
}

fn assert_mentions(text: &str, any_of: &[&str], what: &str) {
    let lower = text.to_ascii_lowercase();
    assert!(
        any_of
            .iter()
            .any(|n| lower.contains(&n.to_ascii_lowercase())),
        "{what} should mention one of {any_of:?}: {text}"
    );
}

/// Checks a token request the way a provider would (path, headers, signature
/// over `client_id|X-TIMESTAMP`); `Err` says what is wrong.
fn check_token_request(req: &Request) -> Result<(), String> {
    if req.method != "POST" || req.path != TOKEN_PATH {
        return Err(format!("unexpected {} {}", req.method, req.path));
    }
    if req.header("X-CLIENT-KEY") != Some("C") {
        return Err("X-CLIENT-KEY is not C".into());
    }
    let ts = req.header("X-TIMESTAMP").ok_or("no X-TIMESTAMP")?;
    if !ts.ends_with("+07:00") {
        return Err(format!("X-TIMESTAMP {ts} is not in +07:00"));
    }
    let sig = req.header("X-SIGNATURE").ok_or("no X-SIGNATURE")?;
    let sig = STANDARD
        .decode(sig)
        .map_err(|e| format!("X-SIGNATURE: {e}"))?;
    let mut v = Verifier::new(MessageDigest::sha256(), &fixture().public_key).unwrap();
    v.update(format!("C|{ts}").as_bytes()).unwrap();
    if !v.verify(&sig).unwrap_or(false) {
        return Err("X-SIGNATURE does not verify".into());
    }
    let body: Value = serde_json::from_slice(&req.body).map_err(|e| format!("body: {e}"))?;
    if body["grantType"] != "client_credentials" {
        return Err(format!("body {body}"));
    }
    Ok(())
}

/// Answers a token request like a healthy provider would.
fn answer_token(s: &mut Session, req: &Request) -> bool {
    match check_token_request(req) {
        Ok(()) => s.respond(
            200,
            &[],
            br#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"tok-fault-ok","tokenType":"Bearer","expiresIn":"900"}"#,
        ),
        Err(why) => s.respond(
            400,
            &[],
            json!({"responseCode":"4007300","responseMessage": why})
                .to_string()
                .as_bytes(),
        ),
    }
}

/// Serves every request on every connection with `respond(request number)`.
fn per_request<F>(respond: F) -> Server
where
    F: Fn(usize, &mut Session, &Request) -> bool + Send + Sync + 'static,
{
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Server::start(Mode::Tls(Cert::Good), move |s| {
        while let Some(req) = s.read_request() {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if !respond(n, s, &req) {
                return;
            }
        }
    })
}

// ------------------------------------------------- 1. no answer at all

#[test]
fn tls_handshake_never_completing_is_timeout() {
    // TCP accepted, ClientHello read, never answered.
    let server = Server::start(Mode::RawTcp, |s| s.idle(SILENCE));
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 800})));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(elapsed, 800, "stalled handshake");
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert_mentions(&e.message, &["800 ms"], "message");
    assert_mentions(&e.message, &["127.0.0.1"], "message");
}

#[test]
fn tls_handshake_stall_reports_the_connect_timeout_that_fired() {
    // connect_timeout_ms bounds the TLS handshake too: the request must end
    // after ~300 ms, and the message must name the limit that fired, not
    // claim that timeout_ms (1500 ms) ran out.
    let server = Server::start(Mode::RawTcp, |s| s.idle(SILENCE));
    let (result, elapsed) = one_shot(&config(
        server.port,
        json!({"timeout_ms": 1500, "connect_timeout_ms": 300}),
    ));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(
        elapsed,
        300,
        "stalled handshake with connect_timeout_ms 300",
    );
    assert_mentions(&e.message, &["300 ms"], "message");
    assert!(
        !e.message.contains("1500 ms"),
        "the message blames timeout_ms (1500 ms) for what connect_timeout_ms (300 ms) did: {}",
        e.message
    );
}

#[test]
fn silence_after_the_handshake_is_timeout() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some() {
            s.idle(SILENCE);
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 800})));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(elapsed, 800, "silent server");
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert_mentions(&e.message, &["800 ms"], "message");
    assert_eq!(server.requests(), 1);
}

#[test]
fn caching_client_stays_within_timeout_ms_when_the_server_is_silent() {
    // A timeout is retryable, but the first attempt used the whole budget:
    // no second attempt may extend it.
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some() {
            s.idle(SILENCE);
        }
    });
    let (result, elapsed) = with_client(&config(
        server.port,
        json!({"timeout_ms": 800, "max_retries": 3}),
    ));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(elapsed, 800, "client against a silent server");
    assert_mentions(&e.message, &["timed out", "timeout", "within"], "message");
}

#[test]
fn silence_on_a_reused_keep_alive_connection_is_timeout() {
    // First request answered (connection kept alive), the renewal after
    // `invalidate` goes over the same connection and is never answered.
    let server = per_request(|n, s, req| {
        if n == 0 {
            answer_token(s, req)
        } else {
            s.idle(SILENCE);
            false
        }
    });
    let client = Client::new(&config(
        server.port,
        json!({"timeout_ms": 800, "max_retries": 0}),
    ))
    .expect("client config is valid");
    client.token().expect("first token");
    client.invalidate();
    let started = Instant::now();
    let e = expect_error(client.token(), Status::B2B_TIMEOUT);
    let elapsed = started.elapsed();
    assert_ends_within(elapsed, 800, "silent reused connection");
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert_eq!(server.connections(), 1, "the connection was not reused");
    assert_eq!(server.requests(), 2);
    assert_mentions(&e.message, &["timed out", "timeout", "within"], "message");
}

// ------------------------------------------------ 2. body stalls

#[test]
fn stalled_body_is_timeout() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some()
            && s.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"respons")
        {
            s.idle(SILENCE);
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 800})));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(elapsed, 800, "stalled body");
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert_mentions(&e.message, &["800 ms"], "message");
}

// ------------------------------------------------ 3. reset mid-body

#[test]
fn reset_mid_body_is_transport_connection_dropped() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some()
            && s.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"respons")
        {
            s.pause(Duration::from_millis(50));
            s.reset();
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_TRANSPORT);
    assert_ends_within(elapsed, 500, "reset mid-body (should be prompt)");
    assert_mentions(&e.message, &["connection dropped", "reset"], "message");
}

// ------------------------------------------------ 4, 5. certificates

#[test]
fn certificate_for_another_host_is_transport() {
    let server = Server::start(Mode::Tls(Cert::OtherHost), |s| {
        while let Some(req) = s.read_request() {
            answer_token(s, &req);
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_TRANSPORT);
    assert_ends_within(elapsed, 1500, "wrong-host certificate");
    assert_mentions(&e.message, &["certificate"], "message");
    assert_mentions(
        &e.message,
        &["host", "name", "127.0.0.1"],
        "message (which name did not match)",
    );
    assert_eq!(
        server.requests(),
        0,
        "nothing may be sent to the wrong host"
    );
}

#[test]
fn expired_certificate_is_transport() {
    let server = Server::start(Mode::Tls(Cert::Expired), |s| {
        while let Some(req) = s.read_request() {
            answer_token(s, &req);
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_TRANSPORT);
    assert_ends_within(elapsed, 1500, "expired certificate");
    assert_mentions(&e.message, &["certificate"], "message");
    assert_mentions(&e.message, &["expired"], "message");
    assert_eq!(
        server.requests(),
        0,
        "nothing may be sent over an untrusted connection"
    );
}

// ------------------------------------------------ 6. chunked

#[test]
fn endless_slow_chunked_body_is_timeout_not_a_hang() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_none()
            || !s.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        {
            return;
        }
        // 10 bytes every 100 ms, forever (until the client leaves).
        while s.send(b"a\r\n          \r\n") {
            s.pause(Duration::from_millis(100));
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1000})));
    let e = expect_error(result, Status::B2B_TIMEOUT);
    assert_ends_within(elapsed, 1000, "dribbled chunks");
    assert!(
        elapsed >= Duration::from_millis(900),
        "gave up early: {elapsed:?}"
    );
    assert_mentions(&e.message, &["1000 ms"], "message");
}

#[test]
fn fast_endless_chunked_body_is_protocol_at_the_size_limit() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_none()
            || !s.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        {
            return;
        }
        let mut chunk = b"10000\r\n".to_vec(); // 64 KiB chunks
        chunk.extend_from_slice(&[b' '; 0x10000]);
        chunk.extend_from_slice(b"\r\n");
        // At most 64 MiB, or until the client leaves.
        for _ in 0..1024 {
            if !s.send(&chunk) {
                return;
            }
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 5000})));
    let e = expect_error(result, Status::B2B_PROTOCOL);
    assert_ends_within(elapsed, 1000, "oversized chunked body (should be quick)");
    assert_mentions(&e.message, &["limit", "1024 KiB", "1 MiB"], "message");
    assert!(
        server.bytes_sent() < 16 << 20,
        "client kept reading: {} bytes",
        server.bytes_sent()
    );
}

// ------------------------------------------------ 7. 200 + error body

#[test]
fn http_200_with_a_snap_error_body_is_provider() {
    let server = per_request(|_, s, _| {
        s.respond(
            200,
            &[],
            br#"{"responseCode":"4017300","responseMessage":"Unauthorized. Signature"}"#,
        )
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 1500, "200 with error body");
    assert_eq!(e.http_status, Some(200));
    assert_eq!(e.response_code.as_deref(), Some("4017300"));
    assert_eq!(
        e.response_message.as_deref(),
        Some("Unauthorized. Signature")
    );
    assert_mentions(&e.message, &["4017300"], "message");
    assert_mentions(&e.message, &["Unauthorized. Signature"], "message");
    assert_mentions(
        e.hint.as_deref().unwrap_or(""),
        &["public key", "signature"],
        "hint",
    );
}

// ------------------------------------------------ 8. 429

#[test]
fn too_many_requests_is_provider_and_never_retried() {
    let server = per_request(|_, s, _| {
        s.respond(
            429,
            &[("Retry-After", "1")],
            br#"{"responseCode":"4297300","responseMessage":"Too Many Requests"}"#,
        )
    });
    let (result, elapsed) = with_client(&config(
        server.port,
        json!({"timeout_ms": 3000, "max_retries": 2}),
    ));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 3000, "429");
    assert_eq!(e.http_status, Some(429));
    assert_eq!(e.response_code.as_deref(), Some("4297300"));
    assert_mentions(&e.message, &["429"], "message");
    // The hint passes on how long the provider asks callers to back off.
    assert_mentions(
        e.hint.as_deref().unwrap_or(""),
        &["wait 1 s (Retry-After)"],
        "hint",
    );
    assert_eq!(server.requests(), 1, "a 4xx answer must not be retried");
    let one = expect_error(
        one_shot(&config(server.port, json!({"timeout_ms": 1500}))).0,
        Status::B2B_PROVIDER,
    );
    assert_eq!(one.http_status, Some(429));
    assert_mentions(
        one.hint.as_deref().unwrap_or(""),
        &["wait 1 s (Retry-After)"],
        "hint",
    );
}

// ------------------------------------------------ 9. provider clock off

fn stale_timestamp_server(header: (&'static str, String)) -> Server {
    per_request(move |_, s, _| {
        s.respond(
            401,
            &[(header.0, header.1.as_str())],
            br#"{"responseCode":"4017300","responseMessage":"Unauthorized. Stale Timestamp"}"#,
        )
    })
}

#[test]
fn provider_clock_7h_ahead_in_x_timestamp_means_ours_is_behind() {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap();
    let theirs = (Utc::now() + chrono::Duration::hours(7))
        .with_timezone(&wib)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    assert!(theirs.ends_with("+07:00"), "{theirs}");
    let server = stale_timestamp_server(("X-TIMESTAMP", theirs));
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 1500, "stale timestamp");
    assert_eq!(e.http_status, Some(401));
    assert_eq!(e.response_code.as_deref(), Some("4017300"));
    let hint = e.hint.as_deref().expect("a clock hint");
    assert!(hint.contains("7 h"), "hint: {hint}");
    // Their clock reads 7 h later than ours: ours is behind theirs.
    assert!(
        hint.contains("behind") && !hint.contains("ahead"),
        "hint has the direction wrong: {hint}"
    );
}

#[test]
fn provider_clock_3h_behind_in_date_means_ours_is_ahead() {
    let theirs = (Utc::now() - chrono::Duration::hours(3))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = stale_timestamp_server(("Date", theirs));
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 1500, "stale timestamp");
    assert_eq!(e.http_status, Some(401));
    let hint = e.hint.as_deref().expect("a clock hint");
    assert!(hint.contains("3 h"), "hint: {hint}");
    assert!(
        hint.contains("ahead") && !hint.contains("behind"),
        "hint has the direction wrong: {hint}"
    );
}

// ------------------------------------------------ 10. redirect

#[test]
fn redirect_is_not_followed() {
    let target = per_request(|_, s, req| answer_token(s, req));
    let location = format!("{}{TOKEN_PATH}", target.url());
    let server =
        per_request(move |_, s, _| s.respond(302, &[("Location", location.as_str())], b""));
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 1500, "redirect");
    assert_eq!(e.http_status, Some(302));
    assert_eq!(target.requests(), 0, "the redirect was followed");
    assert_eq!(server.requests(), 1);
    assert_mentions(&e.message, &["302"], "message");
    // "refused the token request: HTTP 302" hides what happened: the
    // endpoint moved (wrong base_url / token_path, http->https, a gateway
    // login page). The message or the hint must say it was a redirect.
    let said = format!("{} {}", e.message, e.hint.as_deref().unwrap_or(""));
    assert_mentions(&said, &["redirect"], "message or hint");
}

// ------------------------------------------------ 11. huge Content-Length

#[test]
fn body_over_1_mib_with_content_length_is_protocol_fast() {
    const DECLARED: usize = 64 << 20;
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_none()
            || !s.send(
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n")
                    .as_bytes(),
            )
        {
            return;
        }
        let block = vec![b' '; 64 * 1024];
        for _ in 0..DECLARED / block.len() {
            if !s.send(&block) {
                return;
            }
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 5000})));
    let e = expect_error(result, Status::B2B_PROTOCOL);
    assert_ends_within(elapsed, 1000, "64 MiB body (must not be downloaded)");
    assert_mentions(&e.message, &["limit", "1024 KiB", "1 MiB"], "message");
    assert!(
        server.bytes_sent() < 16 << 20,
        "the client downloaded {} bytes of a {DECLARED}-byte body",
        server.bytes_sent()
    );
}

#[test]
fn declared_oversize_body_is_refused_without_waiting_for_it() {
    // The head alone says 2 MiB: no need to wait for the bytes (which this
    // server is slow to send) to know the answer is over the limit.
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.read_request().is_some()
            && s.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{\"respons")
        {
            s.idle(SILENCE);
        }
    });
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let e = expect_error(result, Status::B2B_PROTOCOL);
    assert!(
        elapsed < Duration::from_millis(700),
        "waited {elapsed:?} for a body already declared too big"
    );
    assert_mentions(&e.message, &["limit", "1024 KiB", "1 MiB"], "message");
}

// ------------------------------------------------ 12. client retries

#[test]
fn client_retries_a_connection_dropped_without_an_answer() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        if s.index == 0 {
            if s.read_request().is_some() {
                s.hang_up();
            }
            return;
        }
        while let Some(req) = s.read_request() {
            answer_token(s, &req);
        }
    });
    let (result, elapsed) = with_client(&config(
        server.port,
        json!({"timeout_ms": 1500, "max_retries": 2}),
    ));
    let (token, source) = result.expect("second attempt succeeds");
    assert_ends_within(elapsed, 1500, "drop then success");
    assert_eq!(token.access_token.expose(), "tok-fault-ok");
    assert_eq!(source, Source::Fetched);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn client_retries_503_then_succeeds() {
    let server = per_request(|n, s, req| {
        if n == 0 {
            s.respond(
                503,
                &[],
                br#"{"responseCode":"5037300","responseMessage":"Service Unavailable"}"#,
            )
        } else {
            answer_token(s, req)
        }
    });
    let (result, elapsed) = with_client(&config(
        server.port,
        json!({"timeout_ms": 1500, "max_retries": 2}),
    ));
    let (token, _) = result.expect("retry after 503 succeeds");
    assert_ends_within(elapsed, 1500, "503 then 200");
    assert_eq!(token.access_token.expose(), "tok-fault-ok");
    assert_eq!(token.expires_in, 900);
    assert_eq!(server.requests(), 2);
}

#[test]
fn client_gives_up_after_max_retries_of_500() {
    let server = per_request(|_, s, _| {
        s.respond(
            500,
            &[],
            br#"{"responseCode":"5007300","responseMessage":"General Error"}"#,
        )
    });
    let (result, elapsed) = with_client(&config(
        server.port,
        json!({"timeout_ms": 1500, "max_retries": 2}),
    ));
    let e = expect_error(result, Status::B2B_PROVIDER);
    assert_ends_within(elapsed, 1500, "500 forever");
    assert_eq!(e.http_status, Some(500));
    assert_eq!(e.response_code.as_deref(), Some("5007300"));
    assert_mentions(&e.message, &["500"], "message");
    assert_eq!(server.requests(), 3, "1 attempt + max_retries 2");
}

// ------------------------------------------------ refused

#[test]
fn refused_connection_is_transport_within_connect_timeout() {
    let port = closed_port();
    let (result, elapsed) = one_shot(&config(
        port,
        json!({"timeout_ms": 1500, "connect_timeout_ms": 500}),
    ));
    let e = expect_error(result, Status::B2B_TRANSPORT);
    assert_ends_within(elapsed, 500, "refused connection");
    assert_mentions(&e.message, &["cannot connect"], "message");
    assert_mentions(&e.message, &[&format!("127.0.0.1:{port}")], "message");
}

#[test]
fn sanity_a_well_behaved_server_gives_a_token() {
    // The fixture itself works: same PKI, key and request check as above.
    let server = per_request(|_, s, req| answer_token(s, req));
    let (result, elapsed) = one_shot(&config(server.port, json!({"timeout_ms": 1500})));
    let token = result.expect("token");
    assert_ends_within(elapsed, 1500, "healthy server");
    assert_eq!(token.access_token.expose(), "tok-fault-ok");
    assert_eq!(token.response_code.as_deref(), Some("2007300"));
}
