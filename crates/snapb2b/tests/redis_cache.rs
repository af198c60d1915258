//! The fleet's token store (`cache_url`) against a real `redis-server` on
//! loopback and the sandbox provider: one token for every process of every
//! host, a store that fails never stops a token, and invalidation that
//! spares a newer token.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snapb2b::client::{Client, Source};
use snapb2b::Status;
use snapb2b_sandbox::redis::RedisServer;
use snapb2b_sandbox::{Sandbox, SandboxOptions};

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).expect("sandbox starts")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let mut r = [0u8; 6];
    openssl::rand::rand_bytes(&mut r).unwrap();
    let suffix: String = r.iter().map(|b| format!("{b:02x}")).collect();
    let d = std::env::temp_dir().join(format!(
        "snapb2b-redis-{name}-{}-{suffix}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(sb: &Sandbox, extra: Value) -> Value {
    let mut c = sb.config_json("nicepay");
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn client(cfg: &Value) -> Client {
    Client::new(&cfg.to_string()).expect("client")
}

fn redis_conn(r: &RedisServer) -> redis::Connection {
    redis::Client::open(r.url())
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap()
}

fn token_requests(sb: &Sandbox) -> u64 {
    sb.stats()["token_requests"].as_u64().unwrap()
}

#[test]
fn clients_share_one_token_through_redis_and_the_entry_holds_no_secret() {
    let Some(r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let cfg = config(
        &sb,
        json!({"cache_url": r.url(), "cache_key_prefix": "t1:"}),
    );
    sb.reset_stats();
    let a = client(&cfg);
    let (ta, sa) = a.token().unwrap();
    assert_eq!(sa, Source::Fetched);
    assert_eq!(a.cache_status().as_deref(), Some("on"));
    // Another process (a client of its own) on another host: from Redis.
    let b = client(&cfg);
    let (tb, sb_) = b.token().unwrap();
    assert_eq!(sb_, Source::Cached);
    assert_eq!(ta.access_token, tb.access_token);
    assert_eq!(token_requests(&sb), 1);

    let key = a.shared_tokens().unwrap().entry_key().to_string();
    assert!(key.starts_with("t1:token:"), "{key}");
    let mut con = redis_conn(&r);
    let entry: String = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
    let v: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(v["client_id"], cfg["client_id"]);
    let key_text = std::fs::read_to_string(cfg["private_key_file"].as_str().unwrap()).unwrap();
    let key_line = key_text.lines().nth(1).unwrap();
    assert!(!entry.contains(key_line) && !entry.contains("PRIVATE"));
    // It expires with the token.
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).unwrap();
    let life = ta.remaining_s(chrono::Utc::now().timestamp()) * 1000;
    assert!(ttl > 0 && ttl <= life + 1000, "{ttl} vs {life}");

    // Another client id, or another base URL: another entry, a miss.
    let mut other = cfg.clone();
    other["client_id"] = json!("other-client");
    assert_ne!(
        client(&other).shared_tokens().unwrap().entry_key(),
        key.as_str()
    );

    // A planted entry that fails the checks (a header injection) is a miss
    // and gets replaced.
    let mut planted = v.clone();
    planted["access_token"] = json!("x\r\nX-Evil: 1");
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg(planted.to_string())
        .query(&mut con)
        .unwrap();
    let c = client(&cfg);
    let (tc, sc) = c.token().unwrap();
    assert_eq!(sc, Source::Fetched);
    assert!(!tc.access_token.expose().contains('\n'));
    assert_eq!(token_requests(&sb), 2);
}

#[test]
fn invalidate_is_fleet_wide_but_spares_a_newer_token() {
    let Some(r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let cfg = config(&sb, json!({"cache_url": r.url()}));
    let a = client(&cfg);
    let b = client(&cfg);
    let (t1, _) = a.token().unwrap();
    assert_eq!(b.token().unwrap().0.access_token, t1.access_token);
    let key = a.shared_tokens().unwrap().entry_key().to_string();
    let mut con = redis_conn(&r);
    let stored = |con: &mut redis::Connection| -> Option<String> {
        let v: Option<String> = redis::cmd("GET").arg(&key).query(con).unwrap();
        v.map(|e| {
            serde_json::from_str::<Value>(&e).unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        })
    };
    assert_eq!(stored(&mut con).as_deref(), Some(t1.access_token.expose()));
    // A drops T1: gone from Redis too, so the next renewal anywhere is new.
    a.invalidate();
    assert_eq!(stored(&mut con), None);
    let (t2, s2) = a.token().unwrap();
    assert_eq!(s2, Source::Fetched);
    assert_ne!(t2.access_token, t1.access_token);
    assert_eq!(stored(&mut con).as_deref(), Some(t2.access_token.expose()));
    // B still holds T1 and drops it: T2, another host's fresh token, stays.
    b.invalidate();
    assert_eq!(stored(&mut con).as_deref(), Some(t2.access_token.expose()));
    assert_eq!(b.token().unwrap().0.access_token, t2.access_token);
}

/// A TCP server answering every connection with `reply` and then silence.
fn fake_redis(reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(reply);
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    port
}

/// A bulk string of 2 MiB, all of it sent.
static HUGE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let mut v = b"$2097152\r\n".to_vec();
    v.resize(v.len() + 2 * 1024 * 1024, b'x');
    v.extend_from_slice(b"\r\n");
    v
});

#[test]
fn a_store_that_is_down_slow_or_garbage_never_stops_a_token() {
    let Some(mut r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let timeout_ms = 2_000;
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "redis://127.0.0.1:{}",
                fake_redis(b"HTTP/1.1 200 OK\r\n\r\n")
            ),
            "not Redis's protocol",
        ),
        (
            format!(
                "redis://127.0.0.1:{}",
                fake_redis(b"*99999999999\r\n$99999999999\r\n")
            ),
            "no answer in time",
        ),
        (
            format!("redis://127.0.0.1:{}", fake_redis(b"$2000000\r\n")),
            "no answer in time",
        ),
        (
            format!("redis://127.0.0.1:{}", fake_redis(HUGE.as_slice())),
            "answered more than 1024 KiB",
        ),
        (
            format!("redis://:hunter2-secret@127.0.0.1:{}", r.port()),
            "refused the password",
        ),
    ];
    for (url, says) in &cases {
        let cfg = config(&sb, json!({"cache_url": url, "timeout_ms": timeout_ms}));
        let c = client(&cfg);
        let started = Instant::now();
        let (_, source) = c.token().unwrap();
        assert_eq!(source, Source::Fetched);
        assert!(
            started.elapsed() < Duration::from_millis(timeout_ms),
            "{url}"
        );
        let status = c.cache_status().unwrap();
        assert!(
            status.starts_with("unavailable: redis at redis://127.0.0.1:"),
            "{status}"
        );
        assert!(status.contains(says), "{url}: {status}");
        assert!(!status.contains("hunter2"), "{status}");
    }

    // Frozen (accepts, never answers): half the budget at most, then ours.
    let cfg = config(&sb, json!({"cache_url": r.url(), "timeout_ms": timeout_ms}));
    let c = client(&cfg);
    r.freeze(true);
    let started = Instant::now();
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    assert!(started.elapsed() < Duration::from_millis(timeout_ms));
    assert!(c.cache_status().unwrap().contains("no answer in time"));
    r.freeze(false);

    // Killed: refused at once; restarted: sharing resumes by itself.
    r.kill();
    c.invalidate();
    let started = Instant::now();
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    assert!(started.elapsed() < Duration::from_millis(timeout_ms));
    let status = c.cache_status().unwrap();
    assert!(status.starts_with("unavailable: "), "{status}");
    r.restart().unwrap();
    std::thread::sleep(Duration::from_millis(5_100)); // the longest pause
    c.invalidate();
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    assert_eq!(c.cache_status().as_deref(), Some("on"));
    assert_eq!(
        client(&cfg).token().unwrap().1,
        Source::Cached,
        "shared again"
    );
}

#[test]
fn a_password_from_a_file_and_bad_password_files() {
    let Some(r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let mut con = redis_conn(&r);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret-pass")
        .query(&mut con)
        .unwrap();
    let dir = temp_dir("pass");
    let file = dir.join("redis-password");
    std::fs::write(&file, "s3cret-pass\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = config(
        &sb,
        json!({"cache_url": r.url(), "cache_password_file": file}),
    );
    let c = client(&cfg);
    c.token().unwrap();
    assert_eq!(c.cache_status().as_deref(), Some("on"));
    assert_eq!(client(&cfg).token().unwrap().1, Source::Cached);

    // Readable by others, a link, both sources, no cache_url.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let with_url_password = format!("redis://:x@127.0.0.1:{}", r.port());
    for (extra, says) in [
        (
            json!({"cache_url": r.url(), "cache_password_file": file}),
            "readable by others",
        ),
        (
            json!({"cache_url": r.url(), "cache_password_file": link}),
            "symbolic link",
        ),
        (
            json!({"cache_url": with_url_password, "cache_password_file": file}),
            "keep one",
        ),
        (json!({"cache_password_file": file}), "need `cache_url`"),
        (json!({"cache_url": "http://127.0.0.1:6379"}), "cache_url"),
    ] {
        let e = Client::new(&config(&sb, extra.clone()).to_string())
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{extra}");
        assert!(e.message.contains(says), "{extra}: {e}");
        assert!(!e.message.contains("s3cret"), "{e}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn rediss_verifies_the_server_with_the_configured_ca() {
    let Some(r) = RedisServer::start_tls() else {
        return;
    };
    let sb = sandbox();
    let dir = temp_dir("tls");
    // One ca_file for both: the provider's CA and the store's.
    let both = dir.join("both.pem");
    let mut pem = std::fs::read(sb.ca_file()).unwrap();
    pem.extend(std::fs::read(r.ca_file()).unwrap());
    std::fs::write(&both, pem).unwrap();
    let cfg = config(&sb, json!({"cache_url": r.url(), "ca_file": both}));
    let c = client(&cfg);
    c.token().unwrap();
    assert_eq!(c.cache_status().as_deref(), Some("on"));
    assert_eq!(client(&cfg).token().unwrap().1, Source::Cached);
    // Without the store's CA: not trusted, so not used.
    let cfg = config(
        &sb,
        json!({"cache_url": r.url(), "cache_key_prefix": "other:"}),
    );
    let c = client(&cfg);
    assert_eq!(c.token().unwrap().1, Source::Fetched);
    let status = c.cache_status().unwrap();
    assert!(
        status.contains("certificate") && status.contains("rediss://"),
        "{status}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_unix_socket_and_another_database() {
    let Some(r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let cfg = config(&sb, json!({"cache_url": format!("{}?db=3", r.unix_url())}));
    let a = client(&cfg);
    assert_eq!(a.token().unwrap().1, Source::Fetched);
    assert_eq!(a.cache_status().as_deref(), Some("on"));
    assert_eq!(client(&cfg).token().unwrap().1, Source::Cached);
    // The entry is in database 3, not 0; over TCP, /3 names the same one.
    let mut con = redis_conn(&r);
    let key = a.shared_tokens().unwrap().entry_key().to_string();
    let in_0: bool = redis::cmd("EXISTS").arg(&key).query(&mut con).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let in_3: bool = redis::cmd("EXISTS").arg(&key).query(&mut con).unwrap();
    assert!(!in_0 && in_3);
    let tcp = config(&sb, json!({"cache_url": format!("{}/3", r.url())}));
    assert_eq!(client(&tcp).token().unwrap().1, Source::Cached);
    // A host name, looked up within the budget.
    let named = config(
        &sb,
        json!({"cache_url": format!("redis://localhost:{}/3", r.port())}),
    );
    let c = client(&named);
    assert_eq!(c.token().unwrap().1, Source::Cached);
    assert_eq!(c.cache_status().as_deref(), Some("on"));
}

// ---- Many processes ----

/// Child-process entry: does nothing unless started by a test below.
#[test]
fn child_process_entry() {
    let Ok(config) = std::env::var("SNAPB2B_CHILD_CONFIG") else {
        return;
    };
    let c = Client::new(&config).expect("client in child");
    if let Ok(ms) = std::env::var("SNAPB2B_CHILD_DELAY_MS") {
        std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
    }
    let started = Instant::now();
    let (t, source) = c.token().unwrap_or_else(|e| {
        panic!(
            "token in child after {:?}: {e} ({:?})",
            started.elapsed(),
            c.cache_status()
        )
    });
    println!(
        "TOKEN={} SOURCE={source:?} CACHE={}",
        t.access_token.expose(),
        c.cache_status().unwrap_or_default().replace(' ', "_")
    );
}

fn spawn_child(cfg: &Value) -> Child {
    spawn_child_after(cfg, 0)
}

/// A child that asks `delay_ms` after it has made its client.
fn spawn_child_after(cfg: &Value, delay_ms: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env("SNAPB2B_CHILD_DELAY_MS", delay_ms.to_string())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SNAPB2B_CHILD_CONFIG", cfg.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn child_token(c: Child) -> String {
    let out = c.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child failed: {stdout}");
    if let Some(at) = stdout.find("SOURCE=") {
        eprintln!("child: {}", stdout[at..].lines().next().unwrap_or(""));
    }
    stdout
        .split("TOKEN=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("child printed no token: {stdout}"))
}

/// `hosts` groups of `per_host` processes started at once, each group with
/// its own `cache_file` directory; the tokens they got.
fn fleet(sb: &Sandbox, hosts: usize, per_host: usize, extra: Value) -> Vec<String> {
    fleet_spread(sb, hosts, per_host, extra, 0, || {})
}

/// [`fleet`], the processes asking one after another over `spread_ms`,
/// host by host, with `meanwhile` run halfway through.
fn fleet_spread(
    sb: &Sandbox,
    hosts: usize,
    per_host: usize,
    extra: Value,
    spread_ms: u64,
    meanwhile: impl FnOnce(),
) -> Vec<String> {
    let dirs: Vec<_> = (0..hosts).map(|h| temp_dir(&format!("host{h}"))).collect();
    let n = (hosts * per_host) as u64;
    let children: Vec<Child> = dirs
        .iter()
        .enumerate()
        .flat_map(|(h, d)| {
            let mut cfg = config(sb, extra.clone());
            cfg["cache_file"] = json!(d.join("token.json"));
            (0..per_host)
                .map(move |i| spawn_child_after(&cfg, spread_ms * (h * per_host + i) as u64 / n))
                .collect::<Vec<_>>()
        })
        .collect();
    if spread_ms > 0 {
        // Making a client (parsing the key) takes each process a while.
        std::thread::sleep(Duration::from_millis(300 + spread_ms / 2));
    }
    meanwhile();
    let tokens = children.into_iter().map(child_token).collect();
    for d in dirs {
        std::fs::remove_dir_all(d).ok();
    }
    tokens
}

#[test]
fn four_hosts_of_ten_processes_make_one_token_request() {
    let Some(mut r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    sb.reset_stats();
    let tokens = fleet(&sb, 4, 10, json!({"cache_url": r.url()}));
    assert!(tokens.iter().all(|t| t == &tokens[0]), "one token for all");
    assert_eq!(token_requests(&sb), 1, "one request for the whole fleet");

    // Without cache_url: one per host.
    sb.reset_stats();
    let tokens = fleet(&sb, 4, 10, json!({}));
    assert_eq!(token_requests(&sb), 4);
    assert_eq!(tokens.len(), 40);

    // Redis killed mid-run (the processes asking one after another over
    // 2 s, host by host): every process still gets a token.
    sb.reset_stats();
    let tokens = fleet_spread(
        &sb,
        4,
        10,
        json!({"cache_url": r.url(), "cache_key_prefix": "mid:"}),
        2_000,
        || r.kill(),
    );
    assert_eq!(tokens.len(), 40);
    let mid_run = token_requests(&sb);
    eprintln!("redis killed mid-run: {mid_run} token requests for 4 hosts x 10 processes");
    assert!((1..=4).contains(&mid_run), "{mid_run}");
    // Redis gone: still a token for each, one request per host.
    sb.reset_stats();
    let tokens = fleet(&sb, 4, 10, json!({"cache_url": r.url()}));
    assert_eq!(tokens.len(), 40);
    assert_eq!(token_requests(&sb), 4);

    // Back: the next renewal is one request again.
    r.restart().unwrap();
    sb.reset_stats();
    let tokens = fleet(
        &sb,
        4,
        10,
        json!({"cache_url": r.url(), "cache_key_prefix": "again:"}),
    );
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(token_requests(&sb), 1);
}

/// Forwards connections to `to`, except the first, which it accepts and
/// never answers: a provider that hangs for one caller. The receiver hears
/// when that one has come.
fn stalling_proxy(to: u16) -> (u16, std::sync::mpsc::Receiver<()>) {
    let (stalled, first) = std::sync::mpsc::channel();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, s) in l.incoming().enumerate() {
            let Ok(client) = s else { continue };
            if i == 0 {
                held.push(client);
                let _ = stalled.send(());
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c1, mut s1) = (client, server);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut s1);
                let _ = s1.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, first)
}

#[test]
fn a_lock_holder_killed_blocks_renewal_no_longer_than_its_ttl() {
    let Some(r) = RedisServer::start() else {
        return;
    };
    let sb = sandbox();
    let sandbox_port: u16 = sb.base_url().rsplit(':').next().unwrap().parse().unwrap();
    let (proxy, stalled) = stalling_proxy(sandbox_port);
    let timeout_ms = 3_000u64;
    let mut cfg = config(&sb, json!({"cache_url": r.url(), "timeout_ms": timeout_ms}));
    cfg["base_url"] = json!(format!("https://127.0.0.1:{proxy}"));
    let lock_key = client(&cfg).shared_tokens().unwrap().lock_key().to_string();
    let mut con = redis_conn(&r);

    // The first process takes the lock, and hangs on the provider.
    let mut holder = spawn_child(&cfg);
    let give_up = Instant::now() + Duration::from_secs(10);
    let ttl_ms = loop {
        let ttl: i64 = redis::cmd("PTTL").arg(&lock_key).query(&mut con).unwrap();
        if ttl > 0 {
            break ttl as u64;
        }
        assert!(Instant::now() < give_up, "the holder never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        ttl_ms <= timeout_ms,
        "the lock lives at most timeout_ms: {ttl_ms}"
    );
    // Killed while it waits for the provider, lock in hand.
    stalled.recv_timeout(Duration::from_secs(10)).unwrap();
    holder.kill().unwrap(); // SIGKILL
    let _ = holder.wait();
    sb.reset_stats();
    let killed = Instant::now();
    let others: Vec<Child> = (0..10).map(|_| spawn_child(&cfg)).collect();
    let tokens: Vec<String> = others.into_iter().map(child_token).collect();
    let took = killed.elapsed();
    assert_eq!(tokens.len(), 10);
    // Process start-up on a loaded machine gets a second of slack.
    assert!(
        took < Duration::from_millis(ttl_ms + timeout_ms + 1_000),
        "{took:?} (lock TTL {ttl_ms} ms)"
    );
    eprintln!(
        "holder killed: 10 processes renewed in {took:?} with {} token requests (lock TTL {ttl_ms} ms)",
        token_requests(&sb)
    );
    // One takes over from the dead holder; the others read its token.
    assert_eq!(token_requests(&sb), 1);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
}
