//! The merchant's side: a provider's token request signed by an independent
//! signer (the `openssl` command line) is answered with a JWT; each
//! rejection carries its SNAP code and HTTP status; notifications are
//! checked for token, signature, freshness and replay.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;
use chrono::{Duration, FixedOffset, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{json, Value};
use snapb2b::server::{Inbound, Server};
use snapb2b::Status;

const PARTNER: &str = "DOKU-PROVIDER";
const SECRET: &str = "merchant-token-secret-0123456789abcdef";

struct Provider {
    key: PKey<Private>,
    pem_file: tempfile_path::TempPath,
    public_pem: String,
}

/// A temporary file removed on drop (no tempfile crate in the tree).
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn provider() -> Provider {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let path = std::env::temp_dir().join(format!(
        "snapb2b-server-test-{}-{}.pem",
        std::process::id(),
        rand_u64()
    ));
    std::fs::write(&path, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let public_pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
    Provider {
        key,
        pem_file: tempfile_path::TempPath(path),
        public_pem,
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    openssl::rand::rand_bytes(&mut b).unwrap();
    u64::from_le_bytes(b)
}

fn server(p: &Provider, extra: Value) -> Server {
    let mut cfg = json!({
        "partners": [{"client_id": PARTNER, "public_key": p.public_pem}],
        "token_secret": SECRET,
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    Server::new(&cfg.to_string()).expect("server config")
}

fn wib_now(offset_s: i64) -> String {
    (Utc::now() + Duration::seconds(offset_s))
        .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `client_id|timestamp` signed by `openssl dgst -sha256 -sign`, base64.
fn openssl_sign(p: &Provider, data: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&p.pem_file.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

fn inbound(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Inbound {
    let h: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), Value::from(*v)))
        .collect();
    Inbound::parse(&json!({"method": method, "path": path, "headers": h, "body": body}).to_string())
        .unwrap()
}

fn token_request(p: &Provider, client: &str, ts: &str, body: &str) -> Inbound {
    let sig = openssl_sign(p, &format!("{client}|{ts}"));
    inbound(
        "POST",
        "/v1.0/access-token/b2b",
        &[
            ("x-client-key", client),
            ("X-Timestamp", ts),
            ("X-SIGNATURE", &sig),
        ],
        body,
    )
}

const GRANT: &str = r#"{"grantType":"client_credentials"}"#;

fn issue(server: &Server, p: &Provider) -> String {
    let v = server
        .token(&token_request(p, PARTNER, &wib_now(0), GRANT))
        .unwrap();
    assert!(v.accepted, "{}", v.reason);
    let body: Value = serde_json::from_str(v.body.as_deref().unwrap()).unwrap();
    body["accessToken"].as_str().unwrap().to_string()
}

#[test]
fn a_token_request_signed_by_openssl_gets_a_jwt() {
    let p = provider();
    let s = server(&p, json!({}));
    let ts = wib_now(0);
    let v = s.token(&token_request(&p, PARTNER, &ts, GRANT)).unwrap();
    assert!(v.accepted, "{}", v.reason);
    assert_eq!(v.http_status, 200);
    assert_eq!(v.headers["X-CLIENT-KEY"], PARTNER);
    assert_eq!(v.headers["X-TIMESTAMP"], ts.as_str());
    let body: Value = serde_json::from_str(v.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["responseCode"], "2007300");
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], "900");
    let token = body["accessToken"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], PARTNER);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_ne!(token, issue(&s, &p), "each token has its own jti");
}

#[test]
fn each_token_request_mistake_gets_its_snap_answer() {
    let p = provider();
    let other = provider();
    let s = server(&p, json!({}));
    let ts = wib_now(0);
    let sig = openssl_sign(&p, &format!("{PARTNER}|{ts}"));
    let cases: Vec<(Inbound, u16, &str, &str)> = vec![
        (
            inbound(
                "POST",
                "/t",
                &[("X-TIMESTAMP", &ts), ("X-SIGNATURE", &sig)],
                GRANT,
            ),
            400,
            "4007302",
            "Invalid Mandatory Field X-CLIENT-KEY",
        ),
        (
            token_request(&p, PARTNER, "2024-01-01 10:00:00", GRANT),
            400,
            "4007301",
            "Invalid Field Format X-TIMESTAMP",
        ),
        (
            token_request(&p, "SOMEONE-ELSE", &ts, GRANT),
            401,
            "4017300",
            "Unauthorized. Unknown Client",
        ),
        (
            token_request(&p, PARTNER, &wib_now(-3600), GRANT),
            401,
            "4017300",
            "Unauthorized. Stale Timestamp",
        ),
        (
            token_request(&other, PARTNER, &ts, GRANT),
            401,
            "4017300",
            "Unauthorized. Signature",
        ),
        (
            token_request(&p, PARTNER, &ts, r#"{"grantType":"password"}"#),
            400,
            "4007300",
            "Bad Request",
        ),
        (
            token_request(&p, PARTNER, &ts, "not json"),
            400,
            "4007300",
            "Bad Request",
        ),
    ];
    for (req, status, code, message) in cases {
        let v = s.token(&req).unwrap();
        assert!(!v.accepted, "{code}");
        assert_eq!(v.http_status, status, "{code}: {}", v.reason);
        let body: Value = serde_json::from_str(v.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["responseCode"], code, "{}", v.reason);
        assert_eq!(body["responseMessage"], message);
        assert!(
            !v.reason.contains('\n') && !v.reason.contains(&sig),
            "{}",
            v.reason
        );
    }
}

fn rsa_notification(p: &Provider, token: &str, external_id: &str, body: &str, ts: &str) -> Inbound {
    let minified: String =
        serde_json::to_string(&serde_json::from_str::<Value>(body).unwrap()).unwrap();
    let digest: String = openssl::sha::sha256(minified.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let data = format!("POST:/v1.0/transfer-va/payment:{digest}:{ts}");
    let mut signer = Signer::new(MessageDigest::sha256(), &p.key).unwrap();
    signer.update(data.as_bytes()).unwrap();
    let sig = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
    let auth = format!("Bearer {token}");
    inbound(
        "POST",
        "/v1.0/transfer-va/payment",
        &[
            ("Authorization", &auth),
            ("X-TIMESTAMP", ts),
            ("X-SIGNATURE", &sig),
            ("X-PARTNER-ID", PARTNER),
            ("X-EXTERNAL-ID", external_id),
            ("CHANNEL-ID", "95221"),
        ],
        body,
    )
}

const PAYMENT: &str =
    r#"{"partnerServiceId":"  088899","paidAmount":{"value":"150000.00","currency":"IDR"}}"#;

fn code_of(v: &snapb2b::server::Verdict) -> String {
    let body: Value = serde_json::from_str(v.body.as_deref().unwrap()).unwrap();
    body["responseCode"].as_str().unwrap().to_string()
}

#[test]
fn a_notification_is_accepted_once_and_a_replay_refused() {
    let p = provider();
    let s = server(&p, json!({}));
    let token = issue(&s, &p);
    let ts = wib_now(0);
    let mut req = rsa_notification(&p, &token, "EXT-0001", PAYMENT, &ts);
    req.service_code = Some("25".into());
    let v = s.check(&req).unwrap();
    assert!(v.accepted, "{}", v.reason);
    assert_eq!((v.http_status, v.body.as_deref()), (200, None));
    assert_eq!(v.client_id.as_deref(), Some(PARTNER));
    assert_eq!(v.external_id.as_deref(), Some("EXT-0001"));
    let again = s.check(&req).unwrap();
    assert!(!again.accepted);
    assert_eq!(
        (again.http_status, code_of(&again).as_str()),
        (409, "4092500")
    );
}

#[test]
fn a_forged_or_tampered_notification_cannot_burn_a_real_external_id() {
    let p = provider();
    let s = server(&p, json!({}));
    let token = issue(&s, &p);
    let ts = wib_now(0);
    let mut tampered = rsa_notification(&p, &token, "EXT-0002", PAYMENT, &ts);
    tampered.body = PAYMENT.replace("150000.00", "950000.00");
    let v = s.check(&tampered).unwrap();
    assert_eq!((v.http_status, code_of(&v).as_str()), (401, "4010000"));
    let real = rsa_notification(&p, &token, "EXT-0002", PAYMENT, &ts);
    assert!(s.check(&real).unwrap().accepted);
}

#[test]
fn tokens_from_elsewhere_expired_or_missing_are_refused() {
    let p = provider();
    let s = server(&p, json!({}));
    let elsewhere = server(
        &p,
        json!({"token_secret": "another-servers-secret-0123456789abcd"}),
    );
    let foreign = issue(&elsewhere, &p);
    let ts = wib_now(0);
    for (token, what) in [
        (foreign.as_str(), "another server's"),
        ("not-a-jwt", "garbage"),
    ] {
        let v = s
            .check(&rsa_notification(&p, token, "EXT-3", PAYMENT, &ts))
            .unwrap();
        assert_eq!(
            (v.http_status, code_of(&v).as_str()),
            (401, "4010001"),
            "{what}"
        );
    }
    let mut no_token = rsa_notification(&p, "x", "EXT-4", PAYMENT, &ts);
    no_token.headers.retain(|(n, _)| n != "Authorization");
    assert_eq!(code_of(&s.check(&no_token).unwrap()), "4010001");

    let short = server(&p, json!({"token_ttl_s": 1}));
    let token = issue(&short, &p);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let v = short
        .check(&rsa_notification(&p, &token, "EXT-5", PAYMENT, &wib_now(0)))
        .unwrap();
    assert_eq!(code_of(&v), "4010001");
    assert!(v.reason.contains("expired"), "{}", v.reason);
}

#[test]
fn stale_and_mismatched_notifications_are_refused() {
    let p = provider();
    let s = server(&p, json!({}));
    let token = issue(&s, &p);
    let stale = rsa_notification(&p, &token, "EXT-6", PAYMENT, &wib_now(-3600));
    assert_eq!(code_of(&s.check(&stale).unwrap()), "4010000");
    let mut other_partner = rsa_notification(&p, &token, "EXT-7", PAYMENT, &wib_now(0));
    for h in other_partner.headers.iter_mut() {
        if h.0 == "X-PARTNER-ID" {
            h.1 = "SOMEONE-ELSE".into();
        }
    }
    let v = s.check(&other_partner).unwrap();
    assert_eq!((v.http_status, code_of(&v).as_str()), (401, "4010000"));
    let mut no_id = rsa_notification(&p, &token, "EXT-8", PAYMENT, &wib_now(0));
    no_id.headers.retain(|(n, _)| n != "X-EXTERNAL-ID");
    assert_eq!(code_of(&s.check(&no_id).unwrap()), "4000002");
}

#[test]
fn hmac_partners_sign_with_their_secret_and_the_token() {
    let p = provider();
    let cfg = json!({
        "partners": [{"client_id": PARTNER, "public_key": p.public_pem,
                      "client_secret": "partner-hmac-secret", "notification_signature": "hmac"}],
        "token_secret": SECRET,
    });
    let s = Server::new(&cfg.to_string()).unwrap();
    let token = issue(&s, &p);
    let ts = wib_now(0);
    let sig = snapb2b::service::service_signature(
        "partner-hmac-secret",
        "POST",
        "/v1.0/transfer-va/payment",
        &token,
        Some(PAYMENT),
        &ts,
    )
    .unwrap();
    let auth = format!("Bearer {token}");
    let req = inbound(
        "POST",
        "/v1.0/transfer-va/payment",
        &[
            ("Authorization", &auth),
            ("X-TIMESTAMP", &ts),
            ("X-SIGNATURE", &sig),
            ("X-EXTERNAL-ID", "EXT-H1"),
        ],
        PAYMENT,
    );
    assert!(s.check(&req).unwrap().accepted);
}

#[test]
fn server_config_mistakes_are_named() {
    let p = provider();
    let partner = json!({"client_id": PARTNER, "public_key": p.public_pem});
    for (cfg, want) in [
        (json!({}), "`partners`"),
        (json!({"partners": [partner, partner]}), "twice"),
        (
            json!({"partners": [partner], "token_secret": "short"}),
            "at least 32 bytes",
        ),
        (
            json!({"partners": [partner], "tokn_ttl_s": 1}),
            "unknown server config key `tokn_ttl_s`",
        ),
        (
            json!({"partners": [{"client_id": PARTNER, "public_key": "nope"}]}),
            "partners[0]",
        ),
        (
            json!({"partners": [{"client_id": PARTNER, "public_key_file": "/nonexistent.pem"}]}),
            "No such file",
        ),
        (
            json!({"partners": [{"client_id": PARTNER, "public_key": p.public_pem, "notification_signature": "hmac"}]}),
            "client_secret",
        ),
        (
            json!({"partners": [partner], "max_skew_s": -1}),
            "max_skew_s",
        ),
    ] {
        let e = Server::new(&cfg.to_string()).err().expect(want);
        assert!(
            matches!(e.status, Status::B2B_INVALID_ARGUMENT | Status::B2B_KEY),
            "{want}: {e:?}"
        );
        assert!(e.message.contains(want), "{want}: {}", e.message);
        assert!(!e.message.contains("BEGIN PUBLIC KEY"), "{}", e.message);
    }
    // A token secret from a file: its trailing newline is not part of it.
    let file = std::env::temp_dir().join(format!("snapb2b-secret-{}", rand_u64()));
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let from_file =
        Server::new(&json!({"partners": [partner], "token_secret_file": file}).to_string())
            .unwrap();
    let token = issue(&from_file, &p);
    let inline = server(&p, json!({}));
    let v = inline
        .check(&rsa_notification(&p, &token, "EXT-F", PAYMENT, &wib_now(0)))
        .unwrap();
    assert!(
        v.accepted,
        "the same secret from a file and inline: {}",
        v.reason
    );
    std::fs::remove_file(file).unwrap();
}

fn replay_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "snapb2b-replay-{name}-{}-{}",
        std::process::id(),
        rand_u64()
    ))
}

#[test]
fn eight_servers_sharing_a_replay_file_accept_a_notification_once() {
    let p = provider();
    let file = replay_path("eight");
    let servers: Vec<Server> = (0..8)
        .map(|_| server(&p, json!({"replay_file": file})))
        .collect();
    let token = issue(&servers[0], &p);
    let req = std::sync::Arc::new(rsa_notification(
        &p,
        &token,
        "EXT-SHARED",
        PAYMENT,
        &wib_now(0),
    ));
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let accepted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .map(|s| {
                let (req, start) = (req.clone(), start.clone());
                scope.spawn(move || {
                    start.wait();
                    let v = s.check(&req).unwrap();
                    assert!(v.accepted || v.http_status == 409, "{}", v.reason);
                    assert!(!v.reason.contains("process only"), "{}", v.reason);
                    usize::from(v.accepted)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(accepted, 1);
    // Another id is still fresh for all of them.
    let other = rsa_notification(&p, &token, "EXT-OTHER", PAYMENT, &wib_now(0));
    assert!(servers[7].check(&other).unwrap().accepted);
    assert!(!servers[3].check(&other).unwrap().accepted);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    std::fs::remove_file(file).unwrap();
}

#[test]
fn a_corrupt_or_planted_replay_file_never_stops_notifications() {
    let p = provider();
    let file = replay_path("corrupt");
    std::fs::write(&file, b"\x00\x01 not a replay file\n").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let s = server(&p, json!({"replay_file": file}));
    let token = issue(&s, &p);
    let v = s
        .check(&rsa_notification(
            &p,
            &token,
            "EXT-C1",
            PAYMENT,
            &wib_now(0),
        ))
        .unwrap();
    assert!(
        v.accepted && v.reason.contains("started over"),
        "{}",
        v.reason
    );
    let again = s
        .check(&rsa_notification(
            &p,
            &token,
            "EXT-C1",
            PAYMENT,
            &wib_now(0),
        ))
        .unwrap();
    assert_eq!(
        again.http_status, 409,
        "the file works again after starting over"
    );
    std::fs::remove_file(&file).unwrap();

    // A symlink planted at the path is not followed: this process's memory
    // answers, and the verdict says why.
    let target = replay_path("target");
    std::os::unix::fs::symlink(&target, &file).unwrap();
    let s = server(&p, json!({"replay_file": file}));
    let token = issue(&s, &p);
    let v = s
        .check(&rsa_notification(
            &p,
            &token,
            "EXT-L1",
            PAYMENT,
            &wib_now(0),
        ))
        .unwrap();
    assert!(
        v.accepted && v.reason.contains("process only"),
        "{}",
        v.reason
    );
    assert!(!target.exists(), "nothing created through the link");
    let again = s
        .check(&rsa_notification(
            &p,
            &token,
            "EXT-L1",
            PAYMENT,
            &wib_now(0),
        ))
        .unwrap();
    assert_eq!(again.http_status, 409);
    std::fs::remove_file(&file).unwrap();

    let e = Server::new(
        &json!({"partners": [{"client_id": PARTNER, "public_key": p.public_pem}],
                "replay_file": "/nonexistent-dir/replay"})
        .to_string(),
    )
    .err()
    .unwrap();
    assert!(e.message.contains("replay_file"), "{}", e.message);
}

#[test]
fn eight_servers_sharing_a_replay_url_accept_a_notification_once() {
    let Some(mut r) = snapb2b_sandbox::redis::RedisServer::start() else {
        return;
    };
    let p = provider();
    // Each its own connection to Redis, as eight hosts would have.
    let servers: Vec<Server> = (0..8)
        .map(|_| {
            server(
                &p,
                json!({"replay_url": r.url(), "replay_key_prefix": "t8:"}),
            )
        })
        .collect();
    let token = issue(&servers[0], &p);
    let req = std::sync::Arc::new(rsa_notification(
        &p,
        &token,
        "EXT-FLEET",
        PAYMENT,
        &wib_now(0),
    ));
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let accepted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .map(|s| {
                let (req, start) = (req.clone(), start.clone());
                scope.spawn(move || {
                    start.wait();
                    let v = s.check(&req).unwrap();
                    assert!(v.accepted || v.http_status == 409, "{}", v.reason);
                    assert!(!v.reason.contains("process only"), "{}", v.reason);
                    usize::from(v.accepted)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(accepted, 1);
    // The key lives until the Jakarta day ends (plus a grace period).
    let mut con = redis::Client::open(r.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("t8:replay:*")
        .query(&mut con)
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut con).unwrap();
    assert!(ttl > 0 && ttl <= (86_400 + 600) * 1000, "{ttl}");

    // Redis down: refused with 503 (the provider retries) by default ...
    let strict = server(&p, json!({"replay_url": r.url(), "replay_timeout_ms": 500}));
    let lenient = server(
        &p,
        json!({"replay_url": r.url(), "replay_on_store_failure": "accept"}),
    );
    r.kill();
    let down = rsa_notification(&p, &token, "EXT-DOWN", PAYMENT, &wib_now(0));
    let v = strict.check(&down).unwrap();
    assert!(!v.accepted);
    assert_eq!((v.http_status, code_of(&v).as_str()), (503, "5030000"));
    assert!(
        v.reason
            .starts_with("replay_url redis at redis://127.0.0.1:"),
        "{}",
        v.reason
    );
    assert_eq!(v.external_id.as_deref(), Some("EXT-DOWN"));
    // ... accepted from this process's memory when configured so.
    let v = lenient.check(&down).unwrap();
    assert!(v.accepted, "{}", v.reason);
    assert!(
        v.reason.contains("remembered in this process only"),
        "{}",
        v.reason
    );
    assert_eq!(lenient.check(&down).unwrap().http_status, 409);
    // Redis back: the store answers again (after its short pause).
    r.restart().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let back = rsa_notification(&p, &token, "EXT-BACK", PAYMENT, &wib_now(0));
    let v = strict.check(&back).unwrap();
    assert!(v.accepted && v.reason == "accepted", "{}", v.reason);
}

#[test]
fn replay_url_mistakes_are_named() {
    let p = provider();
    let base = |extra: Value| {
        let mut cfg = json!({
            "partners": [{"client_id": PARTNER, "public_key": p.public_pem}],
            "token_secret": SECRET,
        });
        for (k, v) in extra.as_object().unwrap() {
            cfg[k] = v.clone();
        }
        Server::new(&cfg.to_string()).map(|_| ()).unwrap_err()
    };
    for (extra, says) in [
        (json!({"replay_url": "http://127.0.0.1:1"}), "replay_url"),
        (
            json!({"replay_url": "redis://127.0.0.1:1", "replay_file": "/tmp/x"}),
            "keep one",
        ),
        (
            json!({"replay_url": "redis://127.0.0.1:1", "replay_on_store_failure": "maybe"}),
            "accept or reject",
        ),
        (
            json!({"replay_on_store_failure": "accept"}),
            "need `replay_url`",
        ),
        (
            json!({"replay_url": "redis://127.0.0.1:1", "replay_timeout_ms": 0}),
            "replay_timeout_ms",
        ),
        (
            json!({"replay_url": "redis://:pw-SECRET@127.0.0.1:1/x"}),
            "replay_url",
        ),
    ] {
        let e = base(extra.clone());
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{extra}");
        assert!(e.message.contains(says), "{extra}: {}", e.message);
        assert!(!e.message.contains("SECRET"), "{}", e.message);
    }
}
