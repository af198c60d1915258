//! `notify` against a real merchant endpoint over loopback HTTP: a minimal
//! HTTP server thread in front of `snapb2b::server::Server`, configured with
//! the sandbox's provider public key. The sandbox signs with its own code;
//! the library checks it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use snapb2b::server::{Inbound, Server};
use snapb2b_sandbox::notify::{self, Exchange, Options, Tamper, TokenMode};
use snapb2b_sandbox::{Sandbox, SandboxOptions};

const PAYMENT: &str = "/v1.0/transfer-va/payment";
const TOKEN: &str = "/v1.0/access-token/b2b";

/// The sandbox's files (provider key pair), made once for the whole suite.
fn sandbox_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let ours = format!("notify-test-{}", std::process::id());
        // Earlier runs' dirs (other pids) go; the key pair is made afresh.
        for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("notify-test-") && name != ours {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = base.join(ours);
        let sb = Sandbox::start(SandboxOptions {
            dir: Some(dir.clone()),
            ..SandboxOptions::default()
        })
        .expect("sandbox starts");
        // Only its files are needed: the provider key pair stays on disk.
        drop(sb);
        dir
    })
}

/// One HTTP/1.1 request with a Content-Length body; `None` on a malformed
/// one. Reads are bounded by the stream's timeout.
fn read_request(stream: &TcpStream) -> Option<Inbound> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = serde_json::Map::new();
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        }
        headers.insert(name.to_string(), Value::from(value));
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let service_code = (path != TOKEN).then_some("25");
    Inbound::parse(
        &json!({"method": method, "path": path, "headers": headers,
                "body": String::from_utf8(body).ok()?, "service_code": service_code})
        .to_string(),
    )
    .ok()
}

fn answer(stream: &mut TcpStream, req: Option<Inbound>, server: &Server) {
    let (status, body) = match req {
        None => (
            400,
            r#"{"responseCode":"4000000","responseMessage":"Bad Request"}"#.into(),
        ),
        Some(req) => {
            let v = if req.path == TOKEN {
                server.token(&req)
            } else {
                server.check(&req)
            }
            .expect("no internal error");
            // An accepted notification has no body: the merchant writes its own.
            let body = v.body.clone().unwrap_or_else(|| {
                r#"{"responseCode":"2002500","responseMessage":"Successful"}"#.into()
            });
            (v.http_status, body)
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A merchant endpoint on a free loopback port; returns its origin. The
/// thread ends with the test process.
fn merchant(token_ttl_s: u64) -> String {
    let public = sandbox_dir().join("provider-public.pem");
    let config = json!({
        "partners": [{"client_id": notify::DEFAULT_CLIENT_ID,
                      "public_key_file": public.to_str().unwrap()}],
        "token_secret": "merchant-token-secret-0123456789abcdef",
        "token_ttl_s": token_ttl_s,
    });
    let server = Arc::new(Server::new(&config.to_string()).expect("server config"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let req = read_request(&stream);
            answer(&mut stream, req, &server);
        }
    });
    origin
}

fn run(origin: &str, tweak: impl FnOnce(&mut Options)) -> Vec<(String, u32, Option<String>)> {
    let mut opts = Options::new(sandbox_dir(), format!("{origin}{PAYMENT}"));
    tweak(&mut opts);
    let mut lines = Vec::new();
    let done = notify::run(&opts, &mut |e: &Exchange| lines.push(e.line())).expect("answered");
    assert_eq!(lines.len(), done.len());
    done.into_iter()
        .map(|e| (e.label, e.status, e.response_code))
        .collect()
}

fn codes(done: &[(String, u32, Option<String>)]) -> Vec<(u32, &str)> {
    done.iter()
        .map(|(_, s, c)| (*s, c.as_deref().unwrap_or("-")))
        .collect()
}

#[test]
fn token_then_notification_is_accepted() {
    let m = merchant(900);
    let done = run(&m, |_| {});
    assert_eq!(codes(&done), [(200, "2007300"), (200, "2002500")]);
    assert_eq!(done[0].0, "token request");
    assert_eq!(done[1].0, "notification #1");
}

#[test]
fn a_replay_is_refused_with_409() {
    let m = merchant(900);
    let done = run(&m, |o| o.replay = true);
    assert_eq!(
        codes(&done),
        [(200, "2007300"), (200, "2002500"), (409, "4092500")]
    );
    assert!(done[2].0.contains("same X-EXTERNAL-ID"), "{}", done[2].0);
}

#[test]
fn a_tampered_body_is_refused_as_unauthorized() {
    let m = merchant(900);
    let done = run(&m, |o| o.tamper = Tamper::Body);
    assert_eq!(codes(&done), [(200, "2007300"), (401, "4012500")]);
}

#[test]
fn a_tampered_custom_body_is_refused_too() {
    let m = merchant(900);
    let done = run(&m, |o| {
        o.body =
            json!({"paymentRequestId": "X1", "paidAmount": {"value": "9.00", "currency": "IDR"}});
        o.tamper = Tamper::Body;
    });
    assert_eq!(codes(&done), [(200, "2007300"), (401, "4012500")]);
    let done = run(&m, |o| {
        o.body = json!({"paymentRequestId": "X2"});
    });
    assert_eq!(codes(&done), [(200, "2007300"), (200, "2002500")]);
}

#[test]
fn without_a_token_the_notification_is_refused() {
    let m = merchant(900);
    let done = run(&m, |o| o.token = TokenMode::Skip);
    assert_eq!(codes(&done), [(401, "4012501")]);
}

#[test]
fn an_expired_token_is_refused() {
    let m = merchant(1);
    let done = run(&m, |o| o.token = TokenMode::Expired(Duration::from_secs(2)));
    assert_eq!(codes(&done), [(200, "2007300"), (401, "4012501")]);
    assert!(done[1].0.contains("token 2s old"), "{}", done[1].0);
}

#[test]
fn an_unknown_client_id_gets_no_token_and_the_notification_is_refused() {
    let m = merchant(900);
    let done = run(&m, |o| o.client_id = "OTHER-PROVIDER".into());
    assert_eq!(codes(&done), [(401, "4017300"), (401, "4012501")]);
}

/// The binary: one line per exchange, exit 0 when all were answered, and
/// the token never printed.
#[test]
fn the_binary_prints_one_line_per_exchange_and_no_token() {
    let m = merchant(900);
    let out = Command::new(env!("CARGO_BIN_EXE_snapb2b-sandbox"))
        .args(["notify", "--dir"])
        .arg(sandbox_dir())
        .args(["--url", &format!("{m}{PAYMENT}"), "--replay"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("token request: HTTP 200 responseCode 2007300"));
    assert!(lines[1].starts_with("notification #1: HTTP 200 responseCode 2002500"));
    assert!(
        lines[2].starts_with("notification #2 (same X-EXTERNAL-ID): HTTP 409 responseCode 4092500")
    );
    // A JWT is three base64url parts starting with `eyJ`.
    assert!(!stdout.contains("eyJ") && !stdout.contains("accessToken"));
}

/// Nobody listening: the exchange got no HTTP answer, exit 1.
#[test]
fn the_binary_exits_1_when_an_exchange_gets_no_answer() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_snapb2b-sandbox"))
        .args(["notify", "--dir"])
        .arg(sandbox_dir())
        .args(["--url", &format!("http://127.0.0.1:{port}{PAYMENT}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token request"));
}
