//! Kept-alive connections the provider closed or reset: the next token
//! renewal or service call goes out on a new connection and succeeds, even
//! with `max_retries: 0` (a dead idle connection is not a failure), against
//! `snapb2b_sandbox::faults` servers on 127.0.0.1.

#[allow(unused_imports)] // shared helpers
#[path = "support/fault_server.rs"]
mod fault_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fault_server::{fixture, Cert, Mode, Server, Session};
use serde_json::json;
use snapb2b::client::{Client, Source};
use snapb2b::service_call::ServiceRequest;

const TOKEN_BODY: &[u8] = br#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"tok-keepalive","tokenType":"Bearer","expiresIn":"900"}"#;

fn client(port: u16) -> Client {
    let f = fixture();
    let config = json!({
        "provider": "snap",
        "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "C",
        "client_secret": "s3cret-for-hmac",
        "channel_id": "95221",
        "private_key_file": f.key_file,
        "ca_file": f.ca_file,
        "timeout_ms": 2000,
        "max_retries": 0,
    });
    Client::new(&config.to_string()).expect("config is valid")
}

fn answer(s: &mut Session, path: &str) -> bool {
    if path.ends_with("/access-token/b2b") {
        s.respond(200, &[], TOKEN_BODY)
    } else {
        s.respond(
            200,
            &[],
            br#"{"responseCode":"2002400","responseMessage":"Successful"}"#,
        )
    }
}

#[derive(Clone, Copy, Debug)]
enum End {
    /// TCP FIN, no close_notify.
    HangUp,
    /// TCP RST (SO_LINGER 0).
    Reset,
}

fn end(s: &mut Session, how: End) {
    match how {
        End::HangUp => s.hang_up(),
        End::Reset => s.reset(),
    }
}

/// Answers one request per connection (keep-alive headers and all), then
/// ends the connection.
fn one_answer_per_connection(how: End) -> Server {
    Server::start(Mode::Tls(Cert::Good), move |s| {
        if let Some(req) = s.read_request() {
            answer(s, &req.path);
            end(s, how);
        }
    })
}

/// Answers the first request of each connection; on a second one, ends the
/// connection without an answer (the request was in flight when it died).
fn dies_under_the_second_request(how: End) -> (Server, Arc<AtomicUsize>) {
    let unanswered = Arc::new(AtomicUsize::new(0));
    let u = Arc::clone(&unanswered);
    let server = Server::start(Mode::Tls(Cert::Good), move |s| {
        if let Some(req) = s.read_request() {
            answer(s, &req.path);
        }
        if s.read_request().is_some() {
            u.fetch_add(1, Ordering::SeqCst);
            end(s, how);
        }
    });
    (server, unanswered)
}

fn renew_20_times(c: &Client, what: &str) {
    for i in 0..20 {
        c.invalidate();
        match c.token() {
            Ok((t, source)) => {
                assert_eq!(t.access_token.expose(), "tok-keepalive");
                assert_eq!(source, Source::Fetched, "{what}: renewal {i}");
            }
            Err(e) => panic!("{what}: renewal {i} failed: {e}"),
        }
    }
}

#[test]
fn renewals_survive_a_provider_that_closes_after_each_answer() {
    for how in [End::HangUp, End::Reset] {
        let server = one_answer_per_connection(how);
        let c = client(server.port);
        renew_20_times(&c, &format!("{how:?} after each answer"));
        assert_eq!(c.requests_sent(), 20, "{how:?}: no retry was needed");
        assert_eq!(server.requests(), 20, "{how:?}");
    }
}

#[test]
fn renewals_survive_a_connection_dying_under_the_request() {
    // The reused connection is taken, the request written, then the
    // connection dies: libcurl must rewind the body (the seek callback) and
    // send it again on a new connection. This used to fail with "Send
    // failed since rewinding of the data stream failed".
    for how in [End::HangUp, End::Reset] {
        let (server, unanswered) = dies_under_the_second_request(how);
        let c = client(server.port);
        renew_20_times(&c, &format!("{how:?} under the request"));
        assert_eq!(c.requests_sent(), 20, "{how:?}: one attempt each");
        assert!(
            unanswered.load(Ordering::SeqCst) >= 10,
            "{how:?}: the server should have dropped requests in flight ({})",
            unanswered.load(Ordering::SeqCst)
        );
    }
}

#[test]
fn a_service_call_on_a_connection_the_provider_closed_while_idle_is_sent_on_a_new_one() {
    for how in [End::HangUp, End::Reset] {
        // One answer per connection, which it closes after 100 ms idle.
        let server = Server::start(Mode::Tls(Cert::Good), move |s| {
            if let Some(req) = s.read_request() {
                answer(s, &req.path);
                s.pause(Duration::from_millis(100));
                end(s, how);
            }
        });
        let c = client(server.port);
        c.token().expect("token");
        let call = ServiceRequest::new("POST", "/v1.0/transfer-va/inquiry", Some("{}")).unwrap();
        for i in 0..5 {
            std::thread::sleep(Duration::from_millis(250));
            let r = c
                .request(&call)
                .unwrap_or_else(|e| panic!("{how:?}: call {i}: {e}"));
            assert_eq!(r.http_status, 200, "{how:?}: call {i}");
            assert_eq!(r.attempts, 1, "{how:?}: call {i}");
        }
        // The token, then each call, on its own connection.
        assert_eq!(server.requests(), 6, "{how:?}: nothing sent twice");
        assert_eq!(server.connections(), 6, "{how:?}");
    }
}
