//! The caching token client against the in-process sandbox provider:
//! freshness with an injectable clock, single flight, invalidation, retries,
//! keep-alive, and the cross-process cache file (with real processes).

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

use serde_json::{json, Value};
use snapb2b::client::{Client, Clock, Source};
use snapb2b::config::{Config, ConfigKind};
use snapb2b::Status;
use snapb2b_sandbox::{Sandbox, SandboxOptions};

/// Real time plus an adjustable offset: tokens are signed with real
/// timestamps (the sandbox checks them) while freshness is judged on the
/// shifted clock.
#[derive(Default)]
struct ShiftedClock(AtomicI64);

impl ShiftedClock {
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.0.load(Ordering::SeqCst)
    }
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        slow_ms: 2_000,
        ..Default::default()
    })
    .expect("sandbox starts")
}

fn config(sb: &Sandbox, provider: &str, extra: Value) -> Config {
    let mut c = sb.config_json(provider);
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    Config::from_map(c.as_object().unwrap(), ConfigKind::Client).expect("valid config")
}

fn client(sb: &Sandbox, provider: &str, extra: Value) -> (Client, Arc<ShiftedClock>) {
    let clock = Arc::new(ShiftedClock::default());
    let c = Client::with_clock(config(sb, provider, extra), clock.clone()).expect("client");
    (c, clock)
}

fn token_requests(sb: &Sandbox, client_id: &str) -> u64 {
    sb.stats()["by_client"][client_id].as_u64().unwrap_or(0)
}

#[test]
fn fresh_token_is_reused_until_the_refresh_margin() {
    let sb = sandbox();
    let (c, clock) = client(&sb, "doku", json!({}));
    let (first, src) = c.token().unwrap();
    assert_eq!(src, Source::Fetched);
    assert_eq!(first.expires_in, 900);
    for _ in 0..100 {
        let (again, src) = c.token().unwrap();
        assert_eq!(
            (src, &again.access_token),
            (Source::Cached, &first.access_token)
        );
    }
    clock.advance(900 - 60 - 2); // 62 s left: still fresh (margin 60)
    assert_eq!(c.token().unwrap().1, Source::Cached);
    clock.advance(2); // 60 s left: renew
    let (renewed, src) = c.token().unwrap();
    assert_eq!(src, Source::Fetched);
    assert_ne!(renewed.access_token, first.access_token);
    assert_eq!(c.requests_sent(), 2);
    assert_eq!(token_requests(&sb, "SANDBOX-CLIENT"), 2);
}

#[test]
fn refresh_margin_is_configurable() {
    let sb = sandbox();
    let (c, clock) = client(&sb, "nicepay", json!({"refresh_margin_s": 300}));
    c.token().unwrap();
    clock.advance(900 - 301);
    assert_eq!(c.token().unwrap().1, Source::Cached);
    clock.advance(1);
    assert_eq!(c.token().unwrap().1, Source::Fetched);
}

#[test]
fn sixteen_threads_on_an_expired_token_make_one_request() {
    let sb = sandbox();
    let (c, clock) = client(&sb, "snap", json!({}));
    let c = Arc::new(c);
    let (old, _) = c.token().unwrap();
    clock.advance(2_000);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                c.token().unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let fetched = results
        .iter()
        .filter(|(_, s)| *s == Source::Fetched)
        .count();
    assert_eq!(fetched, 1, "exactly one thread renews");
    let new = &results[0].0.access_token;
    assert_ne!(new, &old.access_token);
    assert!(results.iter().all(|(t, _)| &t.access_token == new));
    assert_eq!(token_requests(&sb, "SANDBOX-CLIENT"), 2);
}

#[test]
fn invalidate_forces_a_new_token() {
    let sb = sandbox();
    let (c, _) = client(&sb, "klikoo", json!({}));
    let (a, _) = c.token().unwrap();
    c.invalidate();
    let (b, src) = c.token().unwrap();
    assert_eq!(src, Source::Fetched);
    assert_ne!(a.access_token, b.access_token);
}

#[test]
fn hundred_renewals_reuse_one_tls_connection() {
    let sb = sandbox();
    let (c, _) = client(&sb, "doku", json!({}));
    sb.reset_stats();
    for _ in 0..100 {
        c.invalidate();
        assert_eq!(c.token().unwrap().1, Source::Fetched);
    }
    let stats = sb.stats();
    assert_eq!(stats["token_requests"], 100);
    assert_eq!(stats["connections"], 1, "keep-alive: {stats}");
}

#[test]
fn transient_failures_are_retried_and_4xx_never() {
    let sb = sandbox();
    // 503 on odd requests, success on even ones.
    let (c, _) = client(&sb, "snap", json!({"client_id": "FAULT-FLAKY"}));
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    assert_eq!(c.requests_sent(), 2);

    let (c, _) = client(
        &sb,
        "snap",
        json!({"client_id": "FAULT-500", "max_retries": 2}),
    );
    let e = c.token().unwrap_err();
    assert_eq!((e.status, e.http_status), (Status::B2B_PROVIDER, Some(500)));
    assert_eq!(c.requests_sent(), 3);
    assert_eq!(token_requests(&sb, "FAULT-500"), 3);

    let (c, _) = client(
        &sb,
        "snap",
        json!({"client_id": "FAULT-DROP", "max_retries": 1}),
    );
    assert_eq!(c.token().unwrap_err().status, Status::B2B_TRANSPORT);
    assert_eq!(c.requests_sent(), 2);

    let (c, _) = client(&sb, "snap", json!({"client_id": "NOT-REGISTERED"}));
    let e = c.token().unwrap_err();
    assert_eq!((e.status, e.http_status), (Status::B2B_PROVIDER, Some(401)));
    assert_eq!(c.requests_sent(), 1, "401 is never retried");

    let (c, _) = client(&sb, "snap", json!({"client_id": "FAULT-429"}));
    assert_eq!(c.token().unwrap_err().http_status, Some(429));
    assert_eq!(c.requests_sent(), 1, "429 is a 4xx: not retried");
}

#[test]
fn retries_stay_within_the_overall_timeout() {
    let sb = sandbox();
    let (c, _) = client(
        &sb,
        "snap",
        json!({"client_id": "FAULT-SLOW", "timeout_ms": 600, "max_retries": 5}),
    );
    let started = std::time::Instant::now();
    assert_eq!(c.token().unwrap_err().status, Status::B2B_TIMEOUT);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn failed_renewal_returns_the_still_valid_old_token() {
    let sb = sandbox();
    let (c, clock) = client(
        &sb,
        "snap",
        json!({"client_id": "FAULT-FLAKY", "max_retries": 0}),
    );
    assert_eq!(c.token().unwrap_err().http_status, Some(503)); // request 1 fails
    let (good, _) = c.token().unwrap(); // request 2 succeeds
    clock.advance(900 - 30); // inside the margin, 30 s of life left
    let (same, src) = c.token().unwrap(); // request 3 fails: old token returned
    assert_eq!(
        (src, &same.access_token),
        (Source::Cached, &good.access_token)
    );
    assert_eq!(c.requests_sent(), 3);
    clock.advance(30); // now expired: the failure surfaces
    c.token().unwrap(); // request 4 succeeds
    clock.advance(2_000);
    assert_eq!(c.token().unwrap_err().http_status, Some(503));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "snapb2b-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    let mut b = [0u8; 8];
    openssl::rand::rand_bytes(&mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn cache_file_is_shared_private_and_holds_no_secrets() {
    let sb = sandbox();
    let dir = temp_dir("cache");
    let path = dir.join("token.json");
    let extra = json!({"cache_file": path.to_str().unwrap()});
    let (a, _) = client(&sb, "klikoo", extra.clone());
    let (t, src) = a.token().unwrap();
    assert_eq!(src, Source::Fetched);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains(snapb2b_sandbox::KLIKOO_CLIENT_SECRET),
        "{text}"
    );
    assert!(text.contains(t.access_token.expose()));

    // Another client with the same config reads it instead of asking.
    let (b, _) = client(&sb, "klikoo", extra.clone());
    let (tb, src) = b.token().unwrap();
    assert_eq!((src, &tb.access_token), (Source::Cached, &t.access_token));
    assert_eq!(b.requests_sent(), 0);

    // A different client never reads it.
    let (other, _) = client(&sb, "doku", extra.clone());
    assert_eq!(other.token().unwrap().1, Source::Fetched);

    // Invalidation removes the entry it holds.
    let (c, _) = client(&sb, "doku", extra);
    let (held, _) = c.token().unwrap();
    c.invalidate();
    let after = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!after.contains(held.access_token.expose()));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn corrupt_or_unreadable_cache_files_are_misses_and_get_replaced() {
    let sb = sandbox();
    let dir = temp_dir("corrupt");
    let path = dir.join("token.json");
    let extra = json!({"cache_file": path.to_str().unwrap()});
    for garbage in [
        &b"{not json"[..],
        b"",
        b"[1,2,3]",
        &[0xff, 0xfe, 0x00][..],
        br#"{"v":1,"provider":"doku"}"#,
    ] {
        std::fs::write(&path, garbage).unwrap();
        let (c, _) = client(&sb, "doku", extra.clone());
        let (t, src) = c.token().unwrap();
        assert_eq!(src, Source::Fetched);
        let replaced: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(replaced["access_token"], t.access_token.expose());
    }
    // A directory where the file should be: tokens still flow.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let (c, _) = client(&sb, "doku", extra);
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    std::fs::remove_dir_all(dir).ok();
}

/// Child-process entry: does nothing unless started by the test below.
#[test]
fn child_process_entry() {
    let Ok(config) = std::env::var("SNAPB2B_CHILD_CONFIG") else {
        return;
    };
    let c = Client::new(&config).expect("client in child");
    let (t, _) = c.token().expect("token in child");
    println!("TOKEN={}", t.access_token.expose());
}

#[test]
fn processes_starting_at_once_make_one_request() {
    let sb = sandbox();
    let dir = temp_dir("procs");
    let mut cfg = sb.config_json("nicepay");
    cfg["cache_file"] = json!(dir.join("token.json").to_str().unwrap());
    let exe = std::env::current_exe().unwrap();
    sb.reset_stats();
    let children: Vec<_> = (0..12)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_process_entry",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("SNAPB2B_CHILD_CONFIG", cfg.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "child failed: {stdout}");
            // libtest prints its own words on the same line.
            stdout
                .split("TOKEN=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
                .unwrap_or_else(|| panic!("child printed no token: {stdout}"))
        })
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all processes share one token"
    );
    assert_eq!(sb.stats()["token_requests"], 1);
    std::fs::remove_dir_all(dir).ok();
}
