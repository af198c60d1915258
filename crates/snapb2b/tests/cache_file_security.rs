//! The cache file as it is really deployed: a shared directory other users
//! can write to. A link, a FIFO, another user's entry or a loosely
//! permitted file is a miss (the client fetches its own token), entries are
//! checked like a provider's answer, and `TokenFile::status` says why
//! sharing is off. Ownership cases need root and a second user (created
//! when missing); they are skipped, saying so, when that is impossible.

use std::ffi::CString;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use snapb2b::client::{Client, Source};
use snapb2b::config::{Config, ConfigKind};
use snapb2b::token_file::TokenFile;
use snapb2b_sandbox::{Sandbox, SandboxOptions};

const OTHER_USER: &str = "snapb2b-test-other";

fn temp_dir(name: &str) -> PathBuf {
    let mut rnd = [0u8; 6];
    openssl::rand::rand_bytes(&mut rnd).unwrap();
    let d = std::env::temp_dir().join(format!(
        "snapb2b-cfs-{name}-{}-{}",
        std::process::id(),
        u64::from_le_bytes([rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], 0, 0])
    ));
    std::fs::create_dir_all(&d).unwrap();
    // Like /tmp: anyone may create files, only owners may remove them.
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

/// uid and gid of a second user, created when missing and we are root.
fn other_user() -> Option<(u32, u32)> {
    let lookup = || {
        let name = CString::new(OTHER_USER).unwrap();
        // SAFETY: a valid C string; the result is read at once, before any
        // other getpw* call in this function.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        // SAFETY: non-null getpwnam results point to a valid passwd.
        (!pw.is_null()).then(|| unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
    };
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to act as a second user");
        return None;
    }
    if lookup().is_none() {
        let _ = std::process::Command::new("useradd")
            .args(["--system", "--no-create-home", OTHER_USER])
            .status();
    }
    let found = lookup();
    if found.is_none() {
        eprintln!("SKIPPED: user {OTHER_USER} missing and useradd failed");
    }
    found
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).expect("sandbox starts")
}

fn config_json(sb: &Sandbox, cache: &Path) -> Value {
    let mut c = sb.config_json("doku");
    c["cache_file"] = json!(cache.to_str().unwrap());
    c
}

fn config(c: &Value) -> Config {
    Config::from_map(c.as_object().unwrap(), ConfigKind::Client).unwrap()
}

/// An entry for `config`'s binding holding `token` (as another process or
/// another user would write it).
fn entry(config: &Config, token: &str, expires_at: i64) -> String {
    json!({
        "v": 1,
        "provider": config.profile.name,
        "token_url": config.token_url(),
        "client_id": config.client_id,
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 900,
        "expires_at": expires_at,
    })
    .to_string()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn plant(path: &Path, text: &str, mode: u32, owner: Option<(u32, u32)>) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

#[test]
fn a_symlink_at_the_lock_path_creates_nothing_at_its_target() {
    let sb = sandbox();
    let dir = temp_dir("link");
    let cache = dir.join("token.json");
    let target = dir.join("victim-file");
    symlink(&target, dir.join("token.json.lock")).unwrap();
    let c = config_json(&sb, &cache);
    let file = TokenFile::new(&cache, &config(&c));
    assert!(file.lock(Duration::from_millis(100)).is_none());
    assert!(!target.exists(), "the lock followed the link");
    let status = file.status().unwrap();
    assert!(
        status.starts_with("off: ") && status.contains("symbolic link"),
        "{status}"
    );
    // And the client still gets its token.
    let client = Client::new(&c.to_string()).unwrap();
    assert_eq!(client.token().unwrap().1, Source::Fetched);
    assert!(!target.exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_fifo_at_the_cache_path_is_a_prompt_miss() {
    let sb = sandbox();
    let dir = temp_dir("fifo");
    let cache = dir.join("token.json");
    let name = CString::new(cache.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let c = config_json(&sb, &cache);
    let (tx, rx) = std::sync::mpsc::channel();
    let cfg = config(&c);
    let cache2 = cache.clone();
    std::thread::spawn(move || {
        let file = TokenFile::new(&cache2, &cfg);
        let _ = tx.send((file.read().is_none(), file.status()));
    });
    // Before the fix this open() never returned.
    let (miss, status) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("reading a FIFO cache path must not block");
    assert!(miss);
    assert!(status.unwrap().contains("not a regular file"));
    let client = Client::new(&c.to_string()).unwrap();
    assert_eq!(client.token().unwrap().1, Source::Fetched);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn another_users_entry_is_not_trusted() {
    let Some(other) = other_user() else { return };
    let sb = sandbox();
    let dir = temp_dir("foreign");
    let cache = dir.join("token.json");
    let c = config_json(&sb, &cache);
    let cfg = config(&c);
    plant(
        &cache,
        &entry(&cfg, "PLANTED-token", now() + 3600),
        0o644,
        Some(other),
    );
    let file = TokenFile::new(&cache, &cfg);
    assert!(file.read().is_none());
    let status = file.status().unwrap();
    assert!(status.contains("owned by another user"), "{status}");
    let client = Client::new(&c.to_string()).unwrap();
    let (t, src) = client.token().unwrap();
    assert_eq!(src, Source::Fetched);
    assert_ne!(t.access_token.expose(), "PLANTED-token");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_group_or_world_writable_entry_of_ours_is_not_trusted() {
    let sb = sandbox();
    let dir = temp_dir("loose");
    let cache = dir.join("token.json");
    let c = config_json(&sb, &cache);
    let cfg = config(&c);
    for mode in [0o620, 0o602, 0o666] {
        plant(
            &cache,
            &entry(&cfg, "PLANTED-token", now() + 3600),
            mode,
            None,
        );
        let file = TokenFile::new(&cache, &cfg);
        assert!(file.read().is_none(), "{mode:o}");
        assert!(file
            .status()
            .unwrap()
            .contains("writable by group or others"));
    }
    // The same entry at 0600 is ours: the control case.
    plant(
        &cache,
        &entry(&cfg, "PLANTED-token", now() + 3600),
        0o600,
        None,
    );
    let file = TokenFile::new(&cache, &cfg);
    assert_eq!(file.read().unwrap().access_token.expose(), "PLANTED-token");
    assert_eq!(file.status(), None);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn entries_are_checked_like_a_providers_answer() {
    let sb = sandbox();
    let dir = temp_dir("values");
    let cache = dir.join("token.json");
    let cfg = config(&config_json(&sb, &cache));
    let file = TokenFile::new(&cache, &cfg);
    let bad: Vec<String> = vec![
        entry(&cfg, "abc\r\nX-Injected: 1", now() + 600),
        entry(&cfg, "abc\u{200b}", now() + 600),
        entry(&cfg, "a b", now() + 600),
        entry(&cfg, "abc", i64::MIN),
        entry(&cfg, "abc", i64::MAX),
        entry(&cfg, "abc", now() + 2 * 366 * 24 * 3600),
        entry(&cfg, "abc", now() - 3 * 24 * 3600),
        entry(&cfg, "abc", now() + 600).replace("\"Bearer\"", "\"Bearer\\r\\nX: 1\""),
        entry(&cfg, "abc", now() + 600).replace("\"expires_in\":900", "\"expires_in\":0"),
    ];
    for text in &bad {
        plant(&cache, text, 0o600, None);
        assert!(file.read().is_none(), "trusted: {text}");
    }
    plant(&cache, &entry(&cfg, "abc", now() + 600), 0o600, None);
    let t = file.read().expect("a good entry is a hit");
    // No overflow at the extremes of the clock either.
    let mut t2 = t.clone();
    t2.expires_at = i64::MIN;
    assert!(t2.remaining_s(now()) < 0);
    std::fs::remove_dir_all(dir).ok();
}

/// Child-process entry: tries to write the cache as the second user.
#[test]
fn child_writes_as_other_user() {
    let Ok(config) = std::env::var("SNAPB2B_CFS_CHILD") else {
        return;
    };
    let config = Config::parse(&config, ConfigKind::Client).unwrap();
    let file = TokenFile::new(config.client.cache_file.as_ref().unwrap(), &config);
    let token = snapb2b::token::Token {
        provider: "doku".into(),
        access_token: "abc".into(),
        token_type: "Bearer".into(),
        expires_in: 900,
        expires_at: now() + 900,
        response_code: None,
        response_message: None,
        additional_info: None,
    };
    assert!(file.write(&token).is_err());
    println!("STATUS={}", file.status().unwrap_or_default());
}

#[test]
fn a_directory_we_cannot_write_is_reported() {
    let Some((uid, gid)) = other_user() else {
        return;
    };
    let sb = sandbox();
    let dir = temp_dir("readonly");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = config_json(&sb, &dir.join("token.json"));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writes_as_other_user", "--nocapture"])
        .env("SNAPB2B_CFS_CHILD", c.to_string())
        .uid(uid)
        .gid(gid)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = stdout
        .lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .unwrap_or_else(|| panic!("no status: {stdout}"));
    assert!(
        status.starts_with("off: cannot write") && status.contains("Permission denied"),
        "{status}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// The token result says whether the cache file is shared, and why not.
#[test]
fn the_token_result_says_whether_the_cache_file_is_shared() {
    let sb = sandbox();
    let dir = temp_dir("status");
    let cache = dir.join("token.json");
    let c = Client::new(&config_json(&sb, &cache).to_string()).unwrap();
    let (token, source) = c.token().unwrap();
    assert_eq!(c.cache_status().as_deref(), Some("on"));
    let json: Value = serde_json::from_slice(
        &token.to_json_secret_with(Some(source == Source::Cached), c.cache_status().as_deref()),
    )
    .unwrap();
    assert_eq!(json["cache"], "on");
    // Loosened by someone else: no longer trusted, and the result says so.
    std::fs::set_permissions(&cache, PermissionsExt::from_mode(0o666)).unwrap();
    let other = Client::new(&config_json(&sb, &cache).to_string()).unwrap();
    other.token().unwrap();
    let status = other.cache_status().unwrap();
    assert!(
        status.starts_with("off: ") && status.contains("writable by group or others"),
        "{status}"
    );
    // A client without a cache file has no such field.
    let plain = Client::new(&sb.config_json("doku").to_string()).unwrap();
    assert_eq!(plain.cache_status(), None);
    let json: Value =
        serde_json::from_slice(&plain.token().unwrap().0.to_json_secret(None)).unwrap();
    assert!(json.get("cache").is_none());
}
