//! `Client::token` returns within `timeout_ms` in all, whatever it waits
//! for: another process's cache_file lock (held here by a raw flock on
//! `<cache_file>.lock`, as a stuck process would), then the request, and
//! another thread's renewal (single flight).

#[allow(unused_imports)] // shared helpers
#[path = "support/fault_server.rs"]
mod fault_server;

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fault_server::{fixture, Cert, Mode, Server};
use serde_json::json;
use snapb2b::client::Client;
use snapb2b::Status;

const TIMEOUT_MS: u64 = 1500;
/// Allowed lateness (scheduling on a busy CI box).
const MARGIN_MS: u64 = 500;

fn token_server() -> Server {
    Server::start(Mode::Tls(Cert::Good), |s| {
        while s.read_request().is_some() {
            s.respond(
                200,
                &[],
                br#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"tok-deadline","tokenType":"Bearer","expiresIn":"900"}"#,
            );
        }
    })
}

fn cache_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("snapb2b-deadline-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("token.json")
}

fn client(port: u16, cache: &std::path::Path) -> Client {
    let f = fixture();
    let config = json!({
        "provider": "snap",
        "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "C",
        "private_key_file": f.key_file,
        "ca_file": f.ca_file,
        "timeout_ms": TIMEOUT_MS,
        "max_retries": 2,
        "cache_file": cache,
    });
    Client::new(&config.to_string()).expect("config is valid")
}

/// A client that makes service calls too (HMAC-signed).
fn service_client(port: u16, cache: &std::path::Path) -> Client {
    let f = fixture();
    let config = json!({
        "provider": "snap", "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "C", "private_key_file": f.key_file, "ca_file": f.ca_file,
        "timeout_ms": TIMEOUT_MS, "cache_file": cache,
        "client_secret": "s", "channel_id": "95221",
    });
    Client::new(&config.to_string()).expect("config is valid")
}

/// A service call with its own 400 ms `timeout_ms`.
fn call_within_400_ms() -> snapb2b::service_call::ServiceRequest {
    snapb2b::service_call::ServiceRequest::parse(
        r#"{"method":"POST","path":"/v1.0/balance-inquiry","body":{},"timeout_ms":400}"#,
    )
    .unwrap()
}

/// Holds `<cache_file>.lock` (flock on its own open file) until dropped.
fn hold_lock(cache: &std::path::Path) -> std::fs::File {
    let mut path = cache.as_os_str().to_owned();
    path.push(".lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(PathBuf::from(path))
        .unwrap();
    // SAFETY: a valid open descriptor.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
    file
}

fn assert_within_timeout(started: Instant, what: &str) {
    let took = started.elapsed();
    assert!(
        took <= Duration::from_millis(TIMEOUT_MS + MARGIN_MS),
        "{what}: took {took:?}, timeout_ms {TIMEOUT_MS} (+{MARGIN_MS} ms margin)"
    );
}

#[test]
fn a_lock_held_by_another_process_costs_at_most_timeout_ms() {
    let server = token_server();
    let cache = cache_file("held");
    let held = hold_lock(&cache);
    let c = client(server.port, &cache);
    let started = Instant::now();
    let result = c.token();
    assert_within_timeout(started, "token with the lock held");
    let e = result.expect_err("no token while the lock is held all along");
    assert_eq!(e.status, Status::B2B_TIMEOUT, "{e}");
    assert!(e.message.contains("cache_file lock"), "{e}");
    assert_eq!(server.requests(), 0);
    drop(held);
    // Once released, the next call renews at once.
    let started = Instant::now();
    c.token().expect("token once the lock is free");
    assert_within_timeout(started, "token with the lock free");
    let _ = std::fs::remove_dir_all(cache.parent().unwrap());
}

#[test]
fn a_thread_waiting_for_another_threads_renewal_waits_at_most_timeout_ms() {
    let server = token_server();
    let cache = cache_file("waiter");
    let held = hold_lock(&cache);
    let c = Arc::new(client(server.port, &cache));
    let renewing = {
        let c = Arc::clone(&c);
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = c.token();
            (r.is_err(), started)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let waited = c.token();
    assert_within_timeout(started, "the waiting thread");
    assert!(waited.is_err());
    let (failed, first_started) = renewing.join().unwrap();
    assert!(failed);
    assert_within_timeout(first_started, "the renewing thread");
    drop(held);
    let _ = std::fs::remove_dir_all(cache.parent().unwrap());
}

/// A service call's own `timeout_ms` bounds the whole call, getting its
/// token included: with the lock held, a 400 ms call returns in about
/// 400 ms, not the config's 1500.
#[test]
fn a_service_calls_own_timeout_bounds_its_token_wait() {
    let server = token_server();
    let cache = cache_file("service");
    let held = hold_lock(&cache);
    let c = service_client(server.port, &cache);
    let request = call_within_400_ms();
    let started = Instant::now();
    let e = c
        .request(&request)
        .expect_err("no token while the lock is held");
    let took = started.elapsed();
    assert_eq!(e.status, Status::B2B_TIMEOUT, "{e}");
    assert!(e.message.contains("not sent: no access token"), "{e}");
    assert!(
        took < Duration::from_millis(400 + MARGIN_MS),
        "took {took:?}"
    );
    assert_eq!(server.requests(), 0);
    drop(held);
    let _ = std::fs::remove_dir_all(cache.parent().unwrap());
}

/// A renewal started by a call with a short `timeout_ms` fails for time;
/// a thread that was waiting for it, with time of its own left, renews
/// itself instead of taking that TIMEOUT.
#[test]
fn a_waiter_with_time_left_renews_after_a_short_calls_renewal_timed_out() {
    let server = token_server();
    let cache = cache_file("short");
    let held = hold_lock(&cache);
    let c = Arc::new(service_client(server.port, &cache));
    let short = {
        let c = Arc::clone(&c);
        std::thread::spawn(move || {
            c.request(&call_within_400_ms())
                .map(|_| ())
                .expect_err("no token within 400 ms")
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    // The other process lets go of the lock after the short call gave up.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        drop(held);
    });
    let started = Instant::now();
    let waited = c.token();
    assert_within_timeout(started, "the waiting thread");
    let e = short.join().unwrap();
    assert_eq!(e.status, Status::B2B_TIMEOUT, "{e}");
    let (token, _) = waited.expect("the waiter renews with its own time");
    assert_eq!(token.access_token.expose(), "tok-deadline");
    assert_eq!(server.requests(), 1);
    release.join().unwrap();
    let _ = std::fs::remove_dir_all(cache.parent().unwrap());
}
