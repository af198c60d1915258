//! The sandbox provider over real HTTPS: signed requests made with openssl,
//! sent with libcurl verifying the sandbox CA.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, Utc};
use curl::easy::{Easy, List};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{json, Value};
use snapb2b_sandbox::{
    Sandbox, SandboxOptions, KLIKOO_CLIENT_ID, KLIKOO_CLIENT_SECRET, MAX_SKEW_MS, MILLIS_CLIENT_ID,
    RSA_CLIENT_ID, SANDBOX_CLIENT_ID, SERVICE_CHANNEL_ID, SERVICE_CLIENT_SECRET,
};

const DOKU: &str = "/authorization/v1/access-token/b2b";
const NICEPAY: &str = "/nicepay/v1.0/access-token/b2b";
const SNAP: &str = "/v1.0/access-token/b2b";
const KLIKOO: &str = "/v1/open-api/access-token";

// ---------------------------------------------------------------- helpers

fn start(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options).expect("sandbox starts")
}

fn start_default() -> Sandbox {
    start(SandboxOptions {
        slow_ms: 300,
        http_port: Some(0),
        ..SandboxOptions::default()
    })
}

/// One sandbox for the tests that neither count requests nor depend on the
/// options, so the suite does not pay for key generation a dozen times. It
/// lives in its own dir under cargo's target tmp dir; dirs of earlier runs
/// (other pids) are removed here. It has a plain listener and `EXTRA-CLIENT`
/// registered with [`Shared::extra_key`] (as a PKCS#1 public key file), and
/// `EXTRA-RSA` with the same key, signing its service calls with it.
struct Shared {
    sb: Sandbox,
    extra_key: PKey<Private>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let ours = format!("sandbox-shared-{}", std::process::id());
        if let Ok(entries) = fs::read_dir(base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = name
                    .strip_prefix("sandbox-shared-")
                    .and_then(|p| p.parse().ok());
                // Only a finished run's dir: another run may be using its own now.
                if pid.is_some_and(|pid| !process_alive(pid)) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(ours);
        fs::create_dir_all(&dir).unwrap();
        let extra_key = other_key();
        let pkcs1 = dir.join("extra-pkcs1.pem");
        fs::write(
            &pkcs1,
            extra_key.rsa().unwrap().public_key_to_pem_pkcs1().unwrap(),
        )
        .unwrap();
        let sb = start(SandboxOptions {
            dir: Some(dir),
            http_port: Some(0),
            clients: vec![("EXTRA-CLIENT".into(), pkcs1.clone())],
            rsa_clients: vec![("EXTRA-RSA".into(), pkcs1)],
            ..SandboxOptions::default()
        });
        Shared { sb, extra_key }
    })
}

#[cfg(unix)]
fn process_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: i32) -> bool {
    true
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "snapb2b-sandbox-test-{}-{name}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn merchant_key(sb: &Sandbox) -> PKey<Private> {
    PKey::private_key_from_pem(&fs::read(sb.private_key_file()).unwrap()).unwrap()
}

fn other_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

/// `yyyy-MM-ddTHH:mm:ss+07:00`, `offset_secs` away from now.
fn timestamp(offset_secs: i64) -> String {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap();
    (Utc::now() + chrono::Duration::seconds(offset_secs))
        .with_timezone(&wib)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn sign(key: &PKey<Private>, client_id: &str, timestamp: &str) -> String {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    STANDARD.encode(
        signer
            .sign_oneshot_to_vec(format!("{client_id}|{timestamp}").as_bytes())
            .unwrap(),
    )
}

#[derive(Debug)]
struct Reply {
    status: u32,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Headers = Vec<(&'static str, String)>;
/// What, request headers, body, expected HTTP status, code and message.
type Case<'a, B> = (&'a str, Headers, B, u32, &'a str, &'a str);

/// One request on `easy` (reusing its connection when it can).
fn perform(
    easy: &mut Easy,
    method: &str,
    url: &str,
    headers: &Headers,
    body: &[u8],
    ca: &Path,
) -> Result<Reply, curl::Error> {
    easy.timeout(Duration::from_secs(10))?;
    perform_as_set(easy, method, url, headers, body, ca)
}

/// [`perform`] with the timeout already set on `easy`.
fn perform_as_set(
    easy: &mut Easy,
    method: &str,
    url: &str,
    headers: &Headers,
    body: &[u8],
    ca: &Path,
) -> Result<Reply, curl::Error> {
    easy.url(url)?;
    easy.cainfo(ca)?;
    easy.ssl_verify_peer(true)?;
    easy.ssl_verify_host(true)?;
    if method == "POST" {
        easy.post(true)?;
        easy.post_fields_copy(body)?;
    } else {
        easy.get(true)?;
    }
    let mut list = List::new();
    for (name, value) in headers {
        list.append(&format!("{name}: {value}"))?;
    }
    easy.http_headers(list)?;
    let mut out = Vec::new();
    let mut got_headers = Vec::new();
    {
        let mut t = easy.transfer();
        t.header_function(|line| {
            let line = String::from_utf8_lossy(line).trim_end().to_string();
            if line.starts_with("HTTP/") {
                got_headers.clear();
            } else if let Some((n, v)) = line.split_once(':') {
                got_headers.push((n.trim().to_string(), v.trim().to_string()));
            }
            true
        })?;
        t.write_function(|d| {
            out.extend_from_slice(d);
            Ok(d.len())
        })?;
        t.perform()?;
    }
    Ok(Reply {
        status: easy.response_code()?,
        headers: got_headers,
        body: out,
    })
}

fn snap_headers(key: &PKey<Private>, client_id: &str, ts: &str) -> Headers {
    vec![
        ("Content-Type", "application/json".into()),
        ("X-TIMESTAMP", ts.into()),
        ("X-CLIENT-KEY", client_id.into()),
        ("X-SIGNATURE", sign(key, client_id, ts)),
    ]
}

const GRANT: &[u8] = br#"{"grantType":"client_credentials"}"#;

fn snap_token(sb: &Sandbox, easy: &mut Easy, path: &str, client_id: &str) -> Reply {
    let headers = snap_headers(&merchant_key(sb), client_id, &timestamp(0));
    perform(
        easy,
        "POST",
        &format!("{}{path}", sb.base_url()),
        &headers,
        GRANT,
        &sb.ca_file(),
    )
    .unwrap()
}

fn klikoo_headers(key: &PKey<Private>, client_id: &str, ts: &str) -> Headers {
    vec![
        ("Content-Type", "application/json".into()),
        ("Open-Api-Timestamp", ts.into()),
        ("Open-Api-Signature", sign(key, client_id, ts)),
    ]
}

fn klikoo_body(client_id: &str, secret: &str) -> Vec<u8> {
    json!({
        "grant_type": "client_credentials",
        "additional_info": {"client_id": client_id, "client_secret": secret},
    })
    .to_string()
    .into_bytes()
}

fn klikoo_token(sb: &Sandbox, easy: &mut Easy, client_id: &str) -> Reply {
    let headers = klikoo_headers(&merchant_key(sb), client_id, &timestamp(0));
    let body = klikoo_body(client_id, KLIKOO_CLIENT_SECRET);
    perform(
        easy,
        "POST",
        &format!("{}{KLIKOO}", sb.base_url()),
        &headers,
        &body,
        &sb.ca_file(),
    )
    .unwrap()
}

fn get(sb: &Sandbox, easy: &mut Easy, path: &str) -> Reply {
    let url = format!("{}{path}", sb.base_url());
    perform(easy, "GET", &url, &vec![], b"", &sb.ca_file()).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn assert_token(v: &Value) -> String {
    let t = v.as_str().expect("token is a string");
    assert!(t.len() >= 32, "token too short: {} chars", t.len());
    t.to_string()
}

// ---------------------------------------------------------------- success shapes

#[test]
fn every_provider_issues_a_token_in_its_own_shape() {
    let sb = &shared().sb;
    let mut easy = Easy::new();
    let mut tokens = Vec::new();

    let doku = snap_token(sb, &mut easy, DOKU, SANDBOX_CLIENT_ID);
    assert_eq!(doku.status, 200);
    let v = doku.json();
    assert_eq!(
        keys(&v),
        [
            "responseCode",
            "responseMessage",
            "accessToken",
            "tokenType",
            "expiresIn",
            "additionalInfo"
        ]
    );
    assert_eq!(v["responseCode"], "2007300");
    assert_eq!(v["responseMessage"], "Successful");
    assert_eq!(v["tokenType"], "Bearer");
    assert_eq!(v["expiresIn"], json!(900), "DOKU sends a number");
    assert_eq!(v["additionalInfo"], "");
    tokens.push(assert_token(&v["accessToken"]));
    assert_eq!(doku.header("X-CLIENT-KEY"), Some(SANDBOX_CLIENT_ID));
    let server_ts = doku.header("X-TIMESTAMP").expect("DOKU X-TIMESTAMP");
    let server_time = DateTime::parse_from_rfc3339(server_ts).unwrap();
    assert!(
        (Utc::now() - server_time.with_timezone(&Utc))
            .num_seconds()
            .abs()
            < 60
    );
    assert_eq!(doku.header("Content-Type"), Some("application/json"));
    assert!(doku.header("Date").is_some());

    for path in [
        NICEPAY,
        SNAP,
        "/snap/v1.0/access-token/b2b",
        "/openapi/v1.0/access-token/b2b",
    ] {
        let r = snap_token(sb, &mut easy, path, SANDBOX_CLIENT_ID);
        assert_eq!(r.status, 200, "{path}");
        let v = r.json();
        // The generic bank adds an additionalInfo object; NICEPAY sends none.
        let mut expected = vec![
            "responseCode",
            "responseMessage",
            "accessToken",
            "tokenType",
            "expiresIn",
        ];
        if path != NICEPAY {
            expected.push("additionalInfo");
        }
        assert_eq!(keys(&v), expected, "{path}");
        assert_eq!(v["responseCode"], "2007300");
        assert_eq!(v["expiresIn"], json!("900"), "{path} sends a string");
        tokens.push(assert_token(&v["accessToken"]));
    }

    let r = klikoo_token(sb, &mut easy, KLIKOO_CLIENT_ID);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(keys(&v), ["response_code", "response_message", "data"]);
    assert_eq!(v["response_code"], "200012000");
    assert_eq!(v["response_message"], "Sukses");
    assert_eq!(
        keys(&v["data"]),
        ["access_token", "token_type", "expires_in"]
    );
    assert_eq!(v["data"]["token_type"], "Bearer");
    assert_eq!(v["data"]["expires_in"], json!(900));
    tokens.push(assert_token(&v["data"]["access_token"]));

    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tokens.len(), "tokens are fresh each time");
}

#[test]
fn timestamp_forms_utc_and_milliseconds_are_accepted() {
    let sb = &shared().sb;
    let key = merchant_key(sb);
    let mut easy = Easy::new();
    for ts in [
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string(),
        timestamp(0),
    ] {
        let headers = snap_headers(&key, SANDBOX_CLIENT_ID, &ts);
        let url = format!("{}{SNAP}", sb.base_url());
        let r = perform(&mut easy, "POST", &url, &headers, GRANT, &sb.ca_file()).unwrap();
        assert_eq!(r.status, 200, "{ts}: {}", String::from_utf8_lossy(&r.body));
    }
}

// ---------------------------------------------------------------- rejections

#[test]
fn snap_rejections_carry_the_standard_codes() {
    let sb = start_default();
    let key = merchant_key(&sb);
    let wrong_key = other_key();
    let id = SANDBOX_CLIENT_ID;
    let now = timestamp(0);
    let without = |name: &str| -> Headers {
        snap_headers(&key, id, &now)
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect()
    };
    let mut bad_base64 = snap_headers(&key, id, &now);
    bad_base64[3].1 = "!!not base64!!".into();
    let malformed_ts = "2024-12-31 10:11:40";

    let cases: Vec<Case<&[u8]>> = vec![
        (
            "signed with another key",
            snap_headers(&wrong_key, id, &now),
            GRANT,
            401,
            "4017300",
            "Unauthorized. Signature",
        ),
        (
            "signature not base64",
            bad_base64,
            GRANT,
            401,
            "4017300",
            "Unauthorized. Signature",
        ),
        (
            "unknown client",
            snap_headers(&key, "NOBODY", &now),
            GRANT,
            401,
            "4017300",
            "Unauthorized. Unknown Client",
        ),
        (
            "timestamp 400 s old",
            snap_headers(&key, id, &timestamp(-400)),
            GRANT,
            401,
            "4017300",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "timestamp 400 s ahead",
            snap_headers(&key, id, &timestamp(400)),
            GRANT,
            401,
            "4017300",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "malformed timestamp",
            snap_headers(&key, id, malformed_ts),
            GRANT,
            400,
            "4007301",
            "Invalid Field Format X-TIMESTAMP",
        ),
        (
            "missing X-TIMESTAMP",
            without("X-TIMESTAMP"),
            GRANT,
            400,
            "4007302",
            "Invalid Mandatory Field X-TIMESTAMP",
        ),
        (
            "missing X-CLIENT-KEY",
            without("X-CLIENT-KEY"),
            GRANT,
            400,
            "4007302",
            "Invalid Mandatory Field X-CLIENT-KEY",
        ),
        (
            "missing X-SIGNATURE",
            without("X-SIGNATURE"),
            GRANT,
            400,
            "4007302",
            "Invalid Mandatory Field X-SIGNATURE",
        ),
        (
            "missing grantType",
            snap_headers(&key, id, &now),
            br#"{"additionalInfo":{}}"#,
            400,
            "4007302",
            "Invalid Mandatory Field grantType",
        ),
        (
            "wrong grantType",
            snap_headers(&key, id, &now),
            br#"{"grantType":"password"}"#,
            400,
            "4007301",
            "Invalid Field Format grantType",
        ),
        (
            "body not JSON",
            snap_headers(&key, id, &now),
            b"grantType=client_credentials",
            400,
            "4007300",
            "Bad Request",
        ),
    ];

    sb.reset_stats();
    let mut easy = Easy::new();
    let url = format!("{}{NICEPAY}", sb.base_url());
    for (what, headers, body, status, code, message) in &cases {
        let r = perform(&mut easy, "POST", &url, headers, body, &sb.ca_file()).unwrap();
        assert_eq!(r.status, *status, "{what}");
        assert_eq!(
            r.json(),
            json!({"responseCode": code, "responseMessage": message}),
            "{what}"
        );
    }
    let stats = sb.stats();
    assert_eq!(stats["token_requests"], cases.len());
    assert_eq!(stats["tokens_issued"], 0, "no rejection issues a token");

    // A token path only takes POST.
    let r = get(&sb, &mut easy, NICEPAY);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("POST"));
}

#[test]
fn klikoo_rejections_use_klikoo_codes() {
    let sb = &shared().sb;
    let key = merchant_key(sb);
    let id = KLIKOO_CLIENT_ID;
    let now = timestamp(0);
    let good_body = klikoo_body(id, KLIKOO_CLIENT_SECRET);
    let no_signature: Headers = klikoo_headers(&key, id, &now)
        .into_iter()
        .filter(|(n, _)| *n != "Open-Api-Signature")
        .collect();
    let unknown = "00000000-0000-4000-8000-000000000000";
    let missing_secret =
        json!({"grant_type": "client_credentials", "additional_info": {"client_id": id}})
            .to_string()
            .into_bytes();

    let cases: Vec<Case<Vec<u8>>> = vec![
        (
            "wrong secret",
            klikoo_headers(&key, id, &now),
            klikoo_body(id, "ffffffffffffffffffffffffffffffff"),
            401,
            "401016570",
            "Kredensial tidak sesuai",
        ),
        (
            "signed with another key",
            klikoo_headers(&other_key(), id, &now),
            good_body.clone(),
            400,
            "400016508",
            "Signature tidak sesuai",
        ),
        (
            "unknown client",
            klikoo_headers(&key, unknown, &now),
            klikoo_body(unknown, KLIKOO_CLIENT_SECRET),
            401,
            "401016570",
            "Kredensial tidak sesuai",
        ),
        (
            "client id not a uuid",
            klikoo_headers(&key, "merchant-1", &now),
            klikoo_body("merchant-1", KLIKOO_CLIENT_SECRET),
            400,
            "400016568",
            "UUID tidak sesuai",
        ),
        (
            "stale",
            klikoo_headers(&key, id, &timestamp(-1000)),
            good_body.clone(),
            400,
            "400016505",
            "Waktu tidak sesuai",
        ),
        (
            "missing signature header",
            no_signature,
            good_body.clone(),
            400,
            "400016512",
            "Field tidak boleh kosong",
        ),
        (
            "missing secret",
            klikoo_headers(&key, id, &now),
            missing_secret,
            400,
            "400016512",
            "Field tidak boleh kosong",
        ),
        (
            "body not JSON",
            klikoo_headers(&key, id, &now),
            b"<xml/>".to_vec(),
            400,
            "400016510",
            "Validasi Error",
        ),
    ];
    let mut easy = Easy::new();
    let url = format!("{}{KLIKOO}", sb.base_url());
    for (what, headers, body, status, code, message) in &cases {
        let r = perform(&mut easy, "POST", &url, headers, body, &sb.ca_file()).unwrap();
        assert_eq!(r.status, *status, "{what}");
        assert_eq!(
            r.json(),
            json!({"response_code": code, "response_message": message}),
            "{what}"
        );
    }
}

// ---------------------------------------------------------------- stats and keep-alive

#[test]
fn keep_alive_reuses_one_connection_and_stats_count_it() {
    let sb = start_default();
    sb.reset_stats();
    let mut easy = Easy::new();
    for path in [DOKU, NICEPAY, SNAP] {
        assert_eq!(
            snap_token(&sb, &mut easy, path, SANDBOX_CLIENT_ID).status,
            200
        );
    }
    assert_eq!(klikoo_token(&sb, &mut easy, KLIKOO_CLIENT_ID).status, 200);
    let stats = sb.stats();
    assert_eq!(
        stats,
        json!({
            "connections": 1,
            "requests": 4,
            "token_requests": 4,
            "tokens_issued": 4,
            "by_path": {DOKU: 1, NICEPAY: 1, SNAP: 1, KLIKOO: 1},
            "by_client": {SANDBOX_CLIENT_ID: 3, KLIKOO_CLIENT_ID: 1},
            "service_calls": 0,
            "service_ok": 0,
            "service_401": 0,
            "service_409": 0,
            "tokens_revoked": 0,
            "service_by_client": {},
            "customer_token_requests": 0,
            "customer_tokens_issued": 0,
        })
    );

    // The HTTP view is the same, still on the same connection, and control
    // calls are not counted as requests.
    let over_http = get(&sb, &mut easy, "/sandbox/stats");
    assert_eq!(over_http.status, 200);
    assert_eq!(over_http.json(), stats);
    assert_eq!(
        get(&sb, &mut easy, "/sandbox/health").json(),
        json!({"ok": true})
    );

    // A second handle is a second connection.
    let mut other = Easy::new();
    assert_eq!(
        snap_token(&sb, &mut other, SNAP, SANDBOX_CLIENT_ID).status,
        200
    );
    assert_eq!(sb.stats()["connections"], 2);

    // `Connection: close` is honoured: the next request needs a new connection.
    let mut headers = snap_headers(&merchant_key(&sb), SANDBOX_CLIENT_ID, &timestamp(0));
    headers.push(("Connection", "close".into()));
    let url = format!("{}{SNAP}", sb.base_url());
    let r = perform(&mut easy, "POST", &url, &headers, GRANT, &sb.ca_file()).unwrap();
    assert_eq!(r.header("Connection"), Some("close"));
    assert_eq!(sb.stats()["connections"], 2);
    assert_eq!(
        snap_token(&sb, &mut easy, SNAP, SANDBOX_CLIENT_ID).status,
        200
    );
    assert_eq!(sb.stats()["connections"], 3);

    let url = format!("{}/sandbox/stats/reset", sb.base_url());
    let r = perform(&mut easy, "POST", &url, &vec![], b"", &sb.ca_file()).unwrap();
    assert_eq!(r.status, 200);
    let zeroed = sb.stats();
    assert_eq!(zeroed["requests"], 0);
    assert_eq!(zeroed["tokens_issued"], 0);
    assert_eq!(zeroed["by_client"], json!({}));
}

// ---------------------------------------------------------------- fault clients

#[test]
fn fault_clients_misbehave_as_documented() {
    let sb = start_default(); // FAULT-SLOW waits 300 ms
    let mut easy = Easy::new();
    let token = |easy: &mut Easy, client: &str| snap_token(&sb, easy, SNAP, client);

    let started = Instant::now();
    let r = token(&mut easy, "FAULT-SLOW");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    assert_token(&r.json()["accessToken"]);

    let r = token(&mut easy, "FAULT-GARBAGE");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"<html>this is not json</html>"[..])
    );

    let r = token(&mut easy, "FAULT-HUGE");
    assert_eq!(r.status, 200);
    assert!(r.body.len() >= 2 * 1024 * 1024, "{} bytes", r.body.len());
    assert_eq!(
        r.header("Content-Length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_eq!(r.json()["responseCode"], "2007300");

    let r = token(&mut easy, "FAULT-NOTOKEN");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"responseCode":"2007300","responseMessage":"Successful","tokenType":"Bearer","expiresIn":"900",
               "additionalInfo":{"bankCode":"SANDBOX","channel":"b2b"}})
    );

    let r = token(&mut easy, "FAULT-500");
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"responseCode":"5007301","responseMessage":"Internal Server Error"})
    );

    let dropped = perform(
        &mut Easy::new(),
        "POST",
        &format!("{}{SNAP}", sb.base_url()),
        &snap_headers(&merchant_key(&sb), "FAULT-DROP", &timestamp(0)),
        GRANT,
        &sb.ca_file(),
    );
    assert!(dropped.is_err(), "FAULT-DROP answered: {dropped:?}");

    let flaky: Vec<u32> = (0..4)
        .map(|_| token(&mut easy, "FAULT-FLAKY").status)
        .collect();
    assert_eq!(flaky, [503, 200, 503, 200]);
    let r = token(&mut easy, "FAULT-FLAKY");
    assert_eq!(
        r.json(),
        json!({"responseCode":"5037300","responseMessage":"Service Unavailable"})
    );

    let r = token(&mut easy, "FAULT-200ERROR");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"responseCode":"4017300","responseMessage":"Unauthorized. Signature"})
    );

    let r = token(&mut easy, "FAULT-429");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(
        r.json(),
        json!({"responseCode":"4297300","responseMessage":"Too Many Requests"})
    );

    let r = token(&mut easy, "FAULT-CLOCK");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"responseCode":"4017300","responseMessage":"Unauthorized. Stale Timestamp"})
    );
    let seven_hours = chrono::Duration::hours(7);
    let date = DateTime::parse_from_rfc2822(r.header("Date").unwrap()).unwrap();
    assert!(
        (date.with_timezone(&Utc) - Utc::now() - seven_hours)
            .num_seconds()
            .abs()
            < 60
    );
    let x_ts = DateTime::parse_from_rfc3339(r.header("X-TIMESTAMP").unwrap()).unwrap();
    assert!(
        (x_ts.with_timezone(&Utc) - Utc::now() - seven_hours)
            .num_seconds()
            .abs()
            < 60
    );

    // Klikoo answers faults in its own dialect.
    let r = klikoo_token(&sb, &mut easy, "FAULT-500");
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"response_code":"500019999","response_message":"Harap hubungi admin"})
    );
    // The faults added for Klikoo's documented codes, in both dialects.
    for (client, status, klikoo, snap) in [
        (
            "FAULT-IP",
            403,
            json!({"response_code":"403016571","response_message":"IP tidak ada di dalam whitelist"}),
            json!({"responseCode":"4037300","responseMessage":"Forbidden"}),
        ),
        (
            "FAULT-GRANT",
            400,
            json!({"response_code":"400016569","response_message":"Grant type tidak sesuai"}),
            json!({"responseCode":"4007301","responseMessage":"Invalid Field Format grantType"}),
        ),
    ] {
        let r = klikoo_token(&sb, &mut easy, client);
        assert_eq!((r.status, r.json()), (status, klikoo), "{client}");
        let r = token(&mut easy, client);
        assert_eq!((r.status, r.json()), (status, snap), "{client}");
    }
    let r = klikoo_token(&sb, &mut easy, "FAULT-GARBAGE");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"<html>this is not json</html>"[..])
    );

    // Slow + huge + the two successful flaky requests.
    assert_eq!(sb.stats()["tokens_issued"], 4);
}

#[test]
fn slow_answer_is_abandoned_when_the_client_gives_up() {
    const SLOW_MS: u64 = 1500;
    let sb = start(SandboxOptions {
        slow_ms: SLOW_MS,
        ..SandboxOptions::default()
    });
    // Warm up the connection, so the short timeout below is not spent on the
    // TLS handshake of a loaded machine.
    let mut easy = Easy::new();
    assert_eq!(
        snap_token(&sb, &mut easy, SNAP, SANDBOX_CLIENT_ID).status,
        200
    );

    // `perform` sets a 10 s timeout; send this one by hand with 300 ms.
    let headers = snap_headers(&merchant_key(&sb), "FAULT-SLOW", &timestamp(0));
    let mut list = List::new();
    for (n, v) in &headers {
        list.append(&format!("{n}: {v}")).unwrap();
    }
    easy.http_headers(list).unwrap();
    easy.timeout(Duration::from_millis(300)).unwrap();
    let sent = Instant::now();
    let err = easy.perform().unwrap_err();
    assert!(err.is_operation_timedout(), "{err}");
    drop(easy); // closes the connection

    // The request reaches the server even if it is read after the hang-up.
    let deadline = Instant::now() + Duration::from_secs(5);
    while sb.stats()["token_requests"] != 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sb.stats()["token_requests"], 2);
    // Past the delay: had the server written the answer into the closed socket
    // (it cannot tell from a write), it would count the token as issued.
    let past = Duration::from_millis(SLOW_MS + 400);
    if let Some(rest) = past.checked_sub(sent.elapsed()) {
        std::thread::sleep(rest);
    }
    assert_eq!(sb.stats()["tokens_issued"], 1, "only the warm-up token");
}

// ---------------------------------------------------------------- robustness

/// Raw bytes to a listener; returns what came back before the server closed.
fn raw_exchange(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_requests_are_refused_without_hurting_the_server() {
    let sb = &shared().sb;
    let http = sb.http_base_url().expect("plain listener");
    let plain_addr = http.trim_start_matches("http://").to_string();
    let tls_addr = sb.base_url().trim_start_matches("https://").to_string();

    let mut big_head = b"GET /sandbox/health HTTP/1.1\r\nX-Big: ".to_vec();
    big_head.extend(std::iter::repeat_n(b'a', 40 * 1024));
    big_head.extend_from_slice(b"\r\n\r\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage", b"GARBAGE\r\n\r\n".to_vec(), "HTTP/1.1 400 "),
        (
            "bad header line",
            b"GET / HTTP/1.1\r\nno colon here\r\n\r\n".to_vec(),
            "HTTP/1.1 400 ",
        ),
        ("head too large", big_head, "HTTP/1.1 431 "),
        (
            "both Content-Length and Transfer-Encoding",
            b"POST /v1.0/access-token/b2b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
                .to_vec(),
            "HTTP/1.1 400 ",
        ),
        (
            "unknown transfer coding",
            b"POST /v1.0/access-token/b2b HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            "HTTP/1.1 501 ",
        ),
        (
            "body too large",
            b"POST /v1.0/access-token/b2b HTTP/1.1\r\nContent-Length: 100000\r\n\r\n".to_vec(),
            "HTTP/1.1 413 ",
        ),
        (
            "unknown path",
            b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
            "HTTP/1.1 404 ",
        ),
        (
            "unknown version",
            b"GET / HTTP/3.0\r\n\r\n".to_vec(),
            "HTTP/1.1 505 ",
        ),
    ];
    for (what, bytes, expected) in &cases {
        let reply = raw_exchange(&plain_addr, bytes);
        assert!(reply.starts_with(expected), "{what}: {reply:?}");
        assert!(reply.contains("Content-Type: application/json"), "{what}");
        assert!(reply.contains("Connection: close"), "{what}");
    }

    // Plain text and noise on the TLS port: the handshake fails, the server lives.
    let _ = raw_exchange(&tls_addr, b"GET /sandbox/health HTTP/1.1\r\n\r\n");
    let _ = raw_exchange(&tls_addr, &[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2, 3]);
    // A peer that connects and leaves at once.
    drop(TcpStream::connect(&tls_addr).unwrap());

    // Pipelined requests on a plain connection are answered in order.
    let reply = raw_exchange(
        &plain_addr,
        b"GET /sandbox/health HTTP/1.1\r\n\r\nGET /sandbox/health HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");

    let mut easy = Easy::new();
    assert_eq!(
        get(sb, &mut easy, "/sandbox/health").json(),
        json!({"ok": true})
    );
    assert_eq!(
        snap_token(sb, &mut easy, SNAP, SANDBOX_CLIENT_ID).status,
        200
    );
}

/// `POST path` over a plain connection that the server closes after
/// answering: `headers`, then `framing` header lines (each ending in CRLF),
/// then `body` as it goes on the wire.
fn raw_post(addr: &str, path: &str, headers: &Headers, framing: &str, body: &[u8]) -> Reply {
    let mut bytes = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str(framing);
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    let reply = raw_exchange(addr, &bytes);
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {reply:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    Reply {
        status,
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

/// `body` cut into chunks of `size` bytes, each with a chunk extension, then
/// the last chunk and a trailer field.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(size) {
        out.extend_from_slice(format!("{:X};piece=\"yes\"\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\nX-Checksum: none\r\n\r\n");
    out
}

#[test]
fn request_bodies_are_framed_per_rfc_9112() {
    // Its own sandbox: it resets the stats, which other tests' FAULT-FLAKY counts.
    let sb = start_default();
    let http = sb.http_base_url().expect("plain listener");
    let addr = http.trim_start_matches("http://");
    let key = merchant_key(&sb);
    let chunk_head = "Transfer-Encoding: chunked\r\n";

    // A chunked token request, with extensions and a trailer, is served.
    let headers = snap_headers(&key, SANDBOX_CLIENT_ID, &timestamp(0));
    let r = raw_post(addr, SNAP, &headers, chunk_head, &chunked(GRANT, 7));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_token(&r.json()["accessToken"]);
    assert_eq!(sb.stats()["tokens_issued"], 1);

    // No Content-Length, no Transfer-Encoding: an empty body, not a 411. The
    // token endpoint answers it in its own words.
    let r = raw_post(addr, SNAP, &headers, "", b"");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"responseCode": "4007300", "responseMessage": "Bad Request"})
    );
    // And a control endpoint just does its job.
    let r = raw_post(addr, "/sandbox/stats/reset", &vec![], "", b"");
    assert_eq!((r.status, r.json()), (200, json!({"ok": true})));
    assert_eq!(sb.stats()["tokens_issued"], 0, "{}", sb.stats());
    assert_eq!(sb.stats()["token_requests"], 0, "{}", sb.stats());

    // Over 64 KiB decoded: 413, before the rest is read.
    let big = vec![b' '; 64 * 1024 + 1];
    let r = raw_post(addr, SNAP, &headers, chunk_head, &chunked(&big, 16 * 1024));
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["responseCode"], "4130000");
    assert_eq!(r.header("Connection"), Some("close"));

    // Malformed chunks: 400.
    for (what, body) in [
        ("size not hex", &b"zz\r\n{}\r\n0\r\n\r\n"[..]),
        ("data longer than its size", b"2\r\n{}}\r\n0\r\n\r\n"),
        ("junk after the size", b"2 x\r\n{}\r\n0\r\n\r\n"),
    ] {
        let r = raw_post(addr, SNAP, &headers, chunk_head, body);
        assert_eq!(r.status, 400, "{what}");
        assert_eq!(r.json()["responseCode"], "4000000", "{what}");
    }
    // None of the refused requests reached the token endpoint.
    assert_eq!(sb.stats()["token_requests"], 0, "{}", sb.stats());
}

#[test]
fn plain_http_listener_serves_the_same_endpoints() {
    let sb = &shared().sb;
    let http = sb.http_base_url().expect("plain listener");
    assert!(http.starts_with("http://127.0.0.1:"));
    let headers = snap_headers(&merchant_key(sb), SANDBOX_CLIENT_ID, &timestamp(0));
    let mut easy = Easy::new();
    let r = perform(
        &mut easy,
        "POST",
        &format!("{http}{SNAP}"),
        &headers,
        GRANT,
        &sb.ca_file(),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["expiresIn"], "900");
}

// ---------------------------------------------------------------- setup and files

#[test]
fn extra_clients_register_from_key_files() {
    let Shared { sb, extra_key } = shared();
    let url = format!("{}{DOKU}", sb.base_url());
    let mut easy = Easy::new();
    let ok = snap_headers(extra_key, "EXTRA-CLIENT", &timestamp(0));
    let r = perform(&mut easy, "POST", &url, &ok, GRANT, &sb.ca_file()).unwrap();
    assert_eq!(r.status, 200);
    // That key is not the merchant key.
    let wrong = snap_headers(extra_key, SANDBOX_CLIENT_ID, &timestamp(0));
    let r = perform(&mut easy, "POST", &url, &wrong, GRANT, &sb.ca_file()).unwrap();
    assert_eq!(r.status, 401);

    let missing = Sandbox::start(SandboxOptions {
        clients: vec![("X".into(), sb.dir().join("missing.pem"))],
        ..SandboxOptions::default()
    });
    assert_eq!(missing.err().unwrap().kind(), std::io::ErrorKind::NotFound);
    let not_a_key = Sandbox::start(SandboxOptions {
        clients: vec![("X".into(), sb.dir().join("sandbox.json"))],
        ..SandboxOptions::default()
    });
    assert_eq!(
        not_a_key.err().unwrap().kind(),
        std::io::ErrorKind::InvalidData
    );
}

#[test]
fn non_loopback_hosts_are_refused() {
    for host in ["0.0.0.0", "::", "10.1.2.3", "example.com"] {
        let err = Sandbox::start(SandboxOptions {
            host: host.into(),
            ..SandboxOptions::default()
        })
        .err()
        .unwrap_or_else(|| panic!("{host} accepted"));
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{host}");
    }
}

#[test]
fn files_describe_the_server_and_the_merchant_key_is_reused() {
    let dir = temp_dir("files");
    fs::write(dir.join("sandbox.json"), "stale").unwrap();
    let options = SandboxOptions {
        dir: Some(dir.clone()),
        ..SandboxOptions::default()
    };
    let sb = start(options.clone());
    let abs = fs::canonicalize(&dir).unwrap();
    assert_eq!(sb.dir(), abs);

    let key_pem = fs::read_to_string(sb.private_key_file()).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(sb.private_key_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let public_pem = fs::read_to_string(abs.join("merchant-public.pem")).unwrap();
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    // The provider's own pair, for signing notifications, is a different key.
    let provider_pem = fs::read_to_string(abs.join("provider-public.pem")).unwrap();
    assert!(provider_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_ne!(provider_pem, public_pem);

    let described: Value =
        serde_json::from_str(&fs::read_to_string(abs.join("sandbox.json")).unwrap()).unwrap();
    let ca = abs.join("ca.pem").to_string_lossy().into_owned();
    let key = abs.join("merchant-key.pem").to_string_lossy().into_owned();
    assert_eq!(
        described,
        json!({
            "base_url": sb.base_url(),
            "port": sb.port(),
            "http_base_url": null,
            "pid": std::process::id(),
            "ca_file": ca,
            "private_key_file": key,
            "public_key_file": abs.join("merchant-public.pem").to_string_lossy(),
            "provider_public_key_file": abs.join("provider-public.pem").to_string_lossy(),
            "client_id": SANDBOX_CLIENT_ID,
            "klikoo_client_id": KLIKOO_CLIENT_ID,
            "klikoo_client_secret": KLIKOO_CLIENT_SECRET,
            "rsa_client_id": RSA_CLIENT_ID,
            "service_client_secret": SERVICE_CLIENT_SECRET,
            "service_channel_id": SERVICE_CHANNEL_ID,
            "service_paths": {
                "doku": ["/v1.0/transfer-va/inquiry", "/v1.0/balance-inquiry"],
                "nicepay": ["/nicepay/v1.0/transfer-va/inquiry", "/nicepay/v1.0/balance-inquiry"],
                "snap": [
                    "/v1.0/transfer-va/inquiry", "/v1.0/balance-inquiry",
                    "/snap/v1.0/transfer-va/inquiry", "/snap/v1.0/balance-inquiry",
                    "/openapi/v1.0/transfer-va/inquiry", "/openapi/v1.0/balance-inquiry",
                ],
                "klikoo": ["/v1/open-api/transfer-va/inquiry", "/v1/open-api/balance-inquiry"],
                "midtrans": ["/midtrans/v1.0/transfer-va/inquiry", "/midtrans/v1.0/balance-inquiry"],
                "bnc": [
                    "/open/bi/private/v1.0/transfer-va/inquiry",
                    "/open/bi/private/v1.0/balance-inquiry",
                ],
            },
            "customer_token_paths": {
                "doku": ["/authorization/v1/access-token/b2b2c"],
                "snap": [
                    "/v1.0/access-token/b2b2c", "/snap/v1.0/access-token/b2b2c",
                    "/openapi/v1.0/access-token/b2b2c",
                ],
            },
            "auth_code_prefix": "SANDBOX-AUTH-",
        })
    );
    assert_eq!(SERVICE_CLIENT_SECRET, KLIKOO_CLIENT_SECRET);
    for provider in ["doku", "nicepay", "snap"] {
        let written: Value =
            serde_json::from_str(&fs::read_to_string(sb.config_path(provider)).unwrap()).unwrap();
        assert_eq!(written, sb.config_json(provider));
        assert_eq!(
            written,
            json!({"provider": provider, "base_url": sb.base_url(), "client_id": SANDBOX_CLIENT_ID,
                   "private_key_file": key, "ca_file": ca})
        );
    }
    let klikoo: Value =
        serde_json::from_str(&fs::read_to_string(sb.config_path("klikoo")).unwrap()).unwrap();
    assert_eq!(
        klikoo,
        json!({"provider": "klikoo", "base_url": sb.base_url(), "client_id": KLIKOO_CLIENT_ID,
               "client_secret": KLIKOO_CLIENT_SECRET, "private_key_file": key, "ca_file": ca})
    );
    assert_eq!(sb.config_json("nope"), Value::Null);

    let ca_before = fs::read(sb.ca_file()).unwrap();
    drop(sb);
    assert!(!abs.join("sandbox.json").exists(), "removed on shutdown");

    let again = start(options);
    assert_eq!(
        fs::read_to_string(again.private_key_file()).unwrap(),
        key_pem
    );
    assert_ne!(
        fs::read(again.ca_file()).unwrap(),
        ca_before,
        "fresh CA per start"
    );
    // The reused key still works.
    let mut easy = Easy::new();
    assert_eq!(
        snap_token(&again, &mut easy, DOKU, SANDBOX_CLIENT_ID).status,
        200
    );
    drop(again);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn temp_dir_is_removed_on_drop() {
    let sb = start(SandboxOptions::default());
    let dir = sb.dir().to_path_buf();
    assert!(dir.join("ca.pem").exists());
    assert!(
        sb.http_base_url().is_none(),
        "no plain listener unless asked"
    );
    drop(sb);
    assert!(!dir.exists());
}

// ---------------------------------------------------------------- the binary

#[test]
fn cli_binary_starts_writes_files_and_exits_by_itself() {
    let dir = temp_dir("cli");
    let mut child = Command::new(env!("CARGO_BIN_EXE_snapb2b-sandbox"))
        .args(["--dir", dir.to_str().unwrap(), "--max-seconds", "5"])
        .args(["--http-port", "0", "--slow-ms", "100", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let described_path = dir.join("sandbox.json");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !described_path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let described: Value =
        serde_json::from_str(&fs::read_to_string(&described_path).expect("sandbox.json appears"))
            .unwrap();
    assert_eq!(described["pid"], child.id());
    let base_url = described["base_url"].as_str().unwrap().to_string();
    assert_eq!(base_url, format!("https://127.0.0.1:{}", described["port"]));
    assert!(described["http_base_url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim_end(),
        format!("snapb2b-sandbox listening on {base_url}")
    );

    for provider in ["doku", "nicepay", "snap", "klikoo"] {
        let config: Value = serde_json::from_str(
            &fs::read_to_string(dir.join(format!("config-{provider}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(config["provider"], provider);
        assert_eq!(config["base_url"], base_url.as_str());
        assert_eq!(config["ca_file"], described["ca_file"]);
    }

    // It serves a signed token request with the files it wrote.
    let key = PKey::private_key_from_pem(
        &fs::read(described["private_key_file"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let ca = PathBuf::from(described["ca_file"].as_str().unwrap());
    let headers = snap_headers(&key, SANDBOX_CLIENT_ID, &timestamp(0));
    let r = perform(
        &mut Easy::new(),
        "POST",
        &format!("{base_url}{DOKU}"),
        &headers,
        GRANT,
        &ca,
    )
    .unwrap();
    assert_eq!(r.status, 200);

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("snapb2b-sandbox did not exit after --max-seconds");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.is_empty(), "--quiet logs nothing: {stderr}");
    assert!(!described_path.exists(), "sandbox.json removed on exit");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cli_binary_usage_and_argument_errors() {
    let bin = env!("CARGO_BIN_EXE_snapb2b-sandbox");
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("usage: snapb2b-sandbox"));
    let bad = Command::new(bin)
        .arg("--port")
        .arg("nope")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let public = Command::new(bin)
        .args(["--host", "0.0.0.0", "--dir"])
        .arg(std::env::temp_dir().join("snapb2b-sandbox-never-created"))
        .output()
        .unwrap();
    assert_eq!(public.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&public.stderr).contains("loopback"));
}

// ---------------------------------------------------------------- service calls

const VA: &str = "/v1.0/transfer-va/inquiry";
const BALANCE: &str = "/v1.0/balance-inquiry";

const VA_BODY: &str = r#"{
  "partnerServiceId": "   12345",
  "customerNo": "0001 2",
  "virtualAccountNo": "   123450001 2",
  "inquiryRequestId": "abc-1"
}"#;

/// A fresh numeric `X-EXTERNAL-ID` (17 digits).
fn external_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst) % 10_000;
    format!("{}{n:04}", Utc::now().timestamp_millis())
}

/// The body as the signer sees it, minified here by re-serialising (the
/// sandbox strips whitespace itself; both must agree on these bodies).
fn minified(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

fn body_hash(body: &[u8]) -> String {
    openssl::sha::sha256(minified(body).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hmac_signature(secret: &str, target: &str, token: &str, body: &[u8], ts: &str) -> String {
    let key = PKey::hmac(secret.as_bytes()).unwrap();
    let mut signer = Signer::new(MessageDigest::sha512(), &key).unwrap();
    let message = format!("POST:{target}:{token}:{}:{ts}", body_hash(body));
    STANDARD.encode(signer.sign_oneshot_to_vec(message.as_bytes()).unwrap())
}

fn rsa_signature(key: &PKey<Private>, target: &str, body: &[u8], ts: &str) -> String {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    let message = format!("POST:{target}:{}:{ts}", body_hash(body));
    STANDARD.encode(signer.sign_oneshot_to_vec(message.as_bytes()).unwrap())
}

/// How a service call is signed.
#[derive(Clone, Copy)]
enum Signing<'a> {
    Hmac,
    Rsa(&'a PKey<Private>),
}

/// Everything a valid service call to `target` sends, for `body` as signed.
fn service_headers(
    signing: Signing<'_>,
    token: &str,
    client: &str,
    target: &str,
    body: &[u8],
    ts: &str,
) -> Headers {
    let signature = match signing {
        Signing::Hmac => hmac_signature(SERVICE_CLIENT_SECRET, target, token, body, ts),
        Signing::Rsa(key) => rsa_signature(key, target, body, ts),
    };
    vec![
        ("Content-Type", "application/json".into()),
        ("Authorization", format!("Bearer {token}")),
        ("X-TIMESTAMP", ts.into()),
        ("X-SIGNATURE", signature),
        ("X-PARTNER-ID", client.into()),
        ("X-EXTERNAL-ID", external_id()),
        ("CHANNEL-ID", SERVICE_CHANNEL_ID.into()),
    ]
}

fn set(mut headers: Headers, name: &'static str, value: &str) -> Headers {
    headers.retain(|(n, _)| *n != name);
    headers.push((name, value.into()));
    headers
}

fn without(mut headers: Headers, name: &str) -> Headers {
    headers.retain(|(n, _)| *n != name);
    headers
}

fn header_of<'a>(headers: &'a Headers, name: &str) -> &'a str {
    &headers.iter().find(|(n, _)| *n == name).unwrap().1
}

fn post(sb: &Sandbox, easy: &mut Easy, target: &str, headers: &Headers, body: &[u8]) -> Reply {
    let url = format!("{}{target}", sb.base_url());
    perform(easy, "POST", &url, headers, body, &sb.ca_file()).unwrap()
}

/// A token for a SNAP-dialect client (via the standard token path).
fn token_for(sb: &Sandbox, easy: &mut Easy, client: &str) -> String {
    let r = snap_token(sb, easy, SNAP, client);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_token(&r.json()["accessToken"])
}

/// A signed HMAC call by `client` with `token` to `target`; returns the reply
/// and the headers sent.
fn call(
    sb: &Sandbox,
    easy: &mut Easy,
    token: &str,
    client: &str,
    target: &str,
    body: &[u8],
) -> (Reply, Headers) {
    let h = service_headers(Signing::Hmac, token, client, target, body, &timestamp(0));
    (post(sb, easy, target, &h, body), h)
}

fn assert_code(r: &Reply, status: u32, code: &str, message: &str) {
    assert_eq!(
        (r.status, r.json()),
        (
            status,
            json!({"responseCode": code, "responseMessage": message})
        ),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}

#[test]
fn service_calls_succeed_on_every_providers_paths() {
    let sb = &shared().sb;
    let mut easy = Easy::new();
    let token = token_for(sb, &mut easy, SANDBOX_CLIENT_ID);
    let request: Value = serde_json::from_str(VA_BODY).unwrap();
    for prefix in ["/v1.0", "/snap/v1.0", "/openapi/v1.0", "/nicepay/v1.0"] {
        let target = format!("{prefix}/transfer-va/inquiry");
        let (r, sent) = call(
            sb,
            &mut easy,
            &token,
            SANDBOX_CLIENT_ID,
            &target,
            VA_BODY.as_bytes(),
        );
        assert_eq!(
            r.status,
            200,
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.header("X-EXTERNAL-ID"),
            Some(header_of(&sent, "X-EXTERNAL-ID"))
        );
        let v = r.json();
        assert_eq!(
            keys(&v),
            ["responseCode", "responseMessage", "virtualAccountData"]
        );
        assert_eq!(
            (v["responseCode"].as_str(), v["responseMessage"].as_str()),
            (Some("2002400"), Some("Successful"))
        );
        let va = &v["virtualAccountData"];
        for field in [
            "partnerServiceId",
            "customerNo",
            "virtualAccountNo",
            "inquiryRequestId",
        ] {
            assert_eq!(va[field], request[field], "{field}");
        }
        assert_eq!(va["virtualAccountName"], "Sandbox Customer");
        assert_eq!(
            va["totalAmount"],
            json!({"value": "150000.00", "currency": "IDR"})
        );

        let target = format!("{prefix}/balance-inquiry");
        let body = br#"{"partnerReferenceNo":"ref-1","accountNo":"1234567890"}"#;
        let (r, _) = call(sb, &mut easy, &token, SANDBOX_CLIENT_ID, &target, body);
        assert_eq!(r.status, 200, "{target}");
        let v = r.json();
        assert_eq!(v["responseCode"], "2001100");
        assert_eq!(
            (&v["partnerReferenceNo"], &v["accountNo"]),
            (&json!("ref-1"), &json!("1234567890"))
        );
        assert_eq!(v["accountInfos"][0]["availableBalance"]["currency"], "IDR");
        assert!(v["accountInfos"][0]["amount"]["value"].is_string());
    }

    // The query string is part of the signed EndpointUrl.
    let target = "/snap/v1.0/balance-inquiry?lang=id";
    let body = br#"{"accountNo":"1"}"#;
    let (r, _) = call(sb, &mut easy, &token, SANDBOX_CLIENT_ID, target, body);
    assert_eq!(r.status, 200);
    let h = service_headers(
        Signing::Hmac,
        &token,
        SANDBOX_CLIENT_ID,
        "/snap/v1.0/balance-inquiry",
        body,
        &timestamp(0),
    );
    let r = post(sb, &mut easy, target, &h, body);
    assert_code(&r, 401, "4011100", "Unauthorized. Signature");

    // Klikoo: the same header scheme under its prefix, its codes, `data`.
    let r = klikoo_token(sb, &mut easy, KLIKOO_CLIENT_ID);
    let ktoken = assert_token(&r.json()["data"]["access_token"]);
    let target = "/v1/open-api/transfer-va/inquiry";
    let (r, _) = call(
        sb,
        &mut easy,
        &ktoken,
        KLIKOO_CLIENT_ID,
        target,
        VA_BODY.as_bytes(),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(keys(&v), ["response_code", "response_message", "data"]);
    assert_eq!(
        (v["response_code"].as_str(), v["response_message"].as_str()),
        (Some("200242000"), Some("Sukses"))
    );
    assert_eq!(v["data"]["virtualAccountData"]["inquiryRequestId"], "abc-1");
    let r = post(sb, &mut easy, target, &vec![], VA_BODY.as_bytes());
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            json!({"response_code": "401246500", "response_message": "Token tidak sesuai"})
        )
    );
}

#[test]
fn rsa_signing_clients_sign_service_calls_with_their_key() {
    let shared = shared();
    let sb = &shared.sb;
    let mut easy = Easy::new();
    let merchant = merchant_key(sb);
    let body = VA_BODY.as_bytes();
    for (client, key) in [(RSA_CLIENT_ID, &merchant), ("EXTRA-RSA", &shared.extra_key)] {
        let h = snap_headers(key, client, &timestamp(0));
        let r = post(sb, &mut easy, SNAP, &h, GRANT);
        assert_eq!(r.status, 200, "{client}");
        let token = assert_token(&r.json()["accessToken"]);
        let h = service_headers(Signing::Rsa(key), &token, client, VA, body, &timestamp(0));
        let r = post(sb, &mut easy, VA, &h, body);
        assert_eq!(
            r.status,
            200,
            "{client}: {}",
            String::from_utf8_lossy(&r.body)
        );
        // An HMAC signature is not what these clients make.
        let (r, _) = call(sb, &mut easy, &token, client, VA, body);
        assert_code(&r, 401, "4012400", "Unauthorized. Signature");
    }
    // Nor is RSA what an HMAC client makes.
    let token = token_for(sb, &mut easy, SANDBOX_CLIENT_ID);
    let h = service_headers(
        Signing::Rsa(&merchant),
        &token,
        SANDBOX_CLIENT_ID,
        VA,
        body,
        &timestamp(0),
    );
    assert_code(
        &post(sb, &mut easy, VA, &h, body),
        401,
        "4012400",
        "Unauthorized. Signature",
    );
}

/// `yyyy-MM-ddTHH:mm:ss.SSS+07:00`, now.
fn timestamp_ms() -> String {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap();
    Utc::now()
        .with_timezone(&wib)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

#[test]
fn service_rejections_come_in_check_order_with_their_codes() {
    let sb = &shared().sb;
    let mut easy = Easy::new();
    let token = token_for(sb, &mut easy, SANDBOX_CLIENT_ID);
    let id = SANDBOX_CLIENT_ID;
    let body = VA_BODY.as_bytes();
    let valid_for = |b: &[u8]| service_headers(Signing::Hmac, &token, id, VA, b, &timestamp(0));
    let valid = || valid_for(body);
    let signed_at = |ts: &str| service_headers(Signing::Hmac, &token, id, VA, body, ts);
    let bad_signature = || {
        set(
            valid(),
            "X-SIGNATURE",
            &hmac_signature("wrong secret", VA, &token, body, &timestamp(0)),
        )
    };
    let stale_secs = MAX_SKEW_MS / 1000 + 5;
    let cases: Vec<Case<'_, &[u8]>> = vec![
        (
            "no Authorization",
            without(valid(), "Authorization"),
            body,
            401,
            "4012401",
            "Invalid Token (B2B)",
        ),
        (
            "unknown token",
            set(valid(), "Authorization", "Bearer not-a-token"),
            body,
            401,
            "4012401",
            "Invalid Token (B2B)",
        ),
        (
            "not Bearer",
            set(valid(), "Authorization", &format!("Basic {token}")),
            body,
            401,
            "4012401",
            "Invalid Token (B2B)",
        ),
        // The token check comes first: nothing else is looked at.
        (
            "no token, nothing else",
            vec![],
            b"x",
            401,
            "4012401",
            "Invalid Token (B2B)",
        ),
        (
            "no X-TIMESTAMP",
            without(bad_signature(), "X-TIMESTAMP"),
            body,
            400,
            "4002402",
            "Invalid Mandatory Field X-TIMESTAMP",
        ),
        (
            "malformed X-TIMESTAMP",
            set(valid(), "X-TIMESTAMP", "2024-12-31 10:11:40"),
            body,
            400,
            "4002401",
            "Invalid Field Format X-TIMESTAMP",
        ),
        (
            "stale X-TIMESTAMP",
            signed_at(&timestamp(-stale_secs)),
            body,
            401,
            "4012400",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "future X-TIMESTAMP",
            signed_at(&timestamp(stale_secs)),
            body,
            401,
            "4012400",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "stale, badly signed",
            set(signed_at(&timestamp(-stale_secs)), "X-SIGNATURE", "AAAA"),
            body,
            401,
            "4012400",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "no X-SIGNATURE",
            without(valid(), "X-SIGNATURE"),
            body,
            400,
            "4002402",
            "Invalid Mandatory Field X-SIGNATURE",
        ),
        (
            "wrong secret",
            without(bad_signature(), "X-PARTNER-ID"),
            body,
            401,
            "4012400",
            "Unauthorized. Signature",
        ),
        (
            "not base64",
            set(valid(), "X-SIGNATURE", "!!not base64!!"),
            body,
            401,
            "4012400",
            "Unauthorized. Signature",
        ),
        (
            "body changed",
            valid(),
            br#"{"partnerServiceId":"   12346"}"#,
            401,
            "4012400",
            "Unauthorized. Signature",
        ),
        (
            "signed for another path",
            service_headers(Signing::Hmac, &token, id, BALANCE, body, &timestamp(0)),
            body,
            401,
            "4012400",
            "Unauthorized. Signature",
        ),
        (
            "no X-PARTNER-ID",
            without(valid(), "X-PARTNER-ID"),
            body,
            400,
            "4002402",
            "Invalid Mandatory Field X-PARTNER-ID",
        ),
        (
            "another partner",
            without(set(valid(), "X-PARTNER-ID", KLIKOO_CLIENT_ID), "CHANNEL-ID"),
            body,
            401,
            "4012400",
            "Unauthorized. Unknown Partner",
        ),
        (
            "no CHANNEL-ID",
            without(valid_for(b"[1,2]"), "CHANNEL-ID"),
            b"[1,2]",
            400,
            "4002402",
            "Invalid Mandatory Field CHANNEL-ID",
        ),
        (
            "CHANNEL-ID not digits",
            set(valid(), "CHANNEL-ID", "web"),
            body,
            400,
            "4002401",
            "Invalid Field Format CHANNEL-ID",
        ),
        (
            "body not an object",
            without(valid_for(b"[1,2]"), "X-EXTERNAL-ID"),
            b"[1,2]",
            400,
            "4002400",
            "Bad Request",
        ),
        (
            "no X-EXTERNAL-ID",
            without(valid(), "X-EXTERNAL-ID"),
            body,
            400,
            "4002402",
            "Invalid Mandatory Field X-EXTERNAL-ID",
        ),
        (
            "X-EXTERNAL-ID too long",
            set(valid(), "X-EXTERNAL-ID", &"1".repeat(37)),
            body,
            400,
            "4002401",
            "Invalid Field Format X-EXTERNAL-ID",
        ),
    ];
    for (what, headers, sent, status, code, message) in cases {
        let r = post(sb, &mut easy, VA, &headers, sent);
        assert_eq!(
            r.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.json(),
            json!({"responseCode": code, "responseMessage": message}),
            "{what}"
        );
        assert_eq!(r.header("X-EXTERNAL-ID"), None, "{what}");
    }

    // The service code follows the service; NICEPAY words the token error its way.
    let h = without(
        service_headers(Signing::Hmac, &token, id, BALANCE, body, &timestamp(0)),
        "CHANNEL-ID",
    );
    assert_code(
        &post(sb, &mut easy, BALANCE, &h, body),
        400,
        "4001102",
        "Invalid Mandatory Field CHANNEL-ID",
    );
    let nicepay = "/nicepay/v1.0/balance-inquiry";
    assert_code(
        &post(sb, &mut easy, nicepay, &vec![], body),
        401,
        "4011101",
        "Access Token Invalid",
    );

    // A client that wants milliseconds wants them here too.
    let ms_headers = snap_headers(&merchant_key(sb), MILLIS_CLIENT_ID, &timestamp_ms());
    let r = post(sb, &mut easy, SNAP, &ms_headers, GRANT);
    let ms_token = assert_token(&r.json()["accessToken"]);
    let h = service_headers(
        Signing::Hmac,
        &ms_token,
        MILLIS_CLIENT_ID,
        VA,
        body,
        &timestamp(0),
    );
    assert_code(
        &post(sb, &mut easy, VA, &h, body),
        400,
        "4002401",
        "Invalid Field Format X-TIMESTAMP",
    );
    let h = service_headers(
        Signing::Hmac,
        &ms_token,
        MILLIS_CLIENT_ID,
        VA,
        body,
        &timestamp_ms(),
    );
    assert_eq!(post(sb, &mut easy, VA, &h, body).status, 200);

    // Only POST.
    let r = get(sb, &mut easy, VA);
    assert_code(&r, 405, "4052400", "Method Not Allowed");
    assert_eq!(r.header("Allow"), Some("POST"));
}

#[test]
fn signatures_cover_the_minified_form_of_the_body_sent() {
    let sb = &shared().sb;
    let mut easy = Easy::new();
    let token = token_for(sb, &mut easy, SANDBOX_CLIENT_ID);
    let pretty = VA_BODY.as_bytes();
    let compact = minified(pretty);
    assert!(compact.contains(r#""customerNo":"0001 2""#), "{compact}");
    let ts = timestamp(0);
    // Signed over the pretty form, sent minified; and the other way round.
    for (signed, sent) in [(pretty, compact.as_bytes()), (compact.as_bytes(), pretty)] {
        let h = service_headers(Signing::Hmac, &token, SANDBOX_CLIENT_ID, VA, signed, &ts);
        let r = post(sb, &mut easy, VA, &h, sent);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    // Whitespace inside a string is content.
    let squeezed = compact.replace("0001 2", "00012");
    let h = service_headers(Signing::Hmac, &token, SANDBOX_CLIENT_ID, VA, pretty, &ts);
    let r = post(sb, &mut easy, VA, &h, squeezed.as_bytes());
    assert_code(&r, 401, "4012400", "Unauthorized. Signature");
}

#[test]
fn external_ids_are_single_use_per_partner_per_day() {
    let sb = start_default();
    let mut easy = Easy::new();
    let token = token_for(&sb, &mut easy, SANDBOX_CLIENT_ID);
    let body = VA_BODY.as_bytes();
    let with_id = |target: &str, ext: &str| {
        let h = service_headers(
            Signing::Hmac,
            &token,
            SANDBOX_CLIENT_ID,
            target,
            body,
            &timestamp(0),
        );
        set(h, "X-EXTERNAL-ID", ext)
    };
    let ext = external_id();
    assert_eq!(
        post(&sb, &mut easy, VA, &with_id(VA, &ext), body).status,
        200
    );
    let conflict = "Cannot use same X-EXTERNAL-ID in same day";
    assert_code(
        &post(&sb, &mut easy, VA, &with_id(VA, &ext), body),
        409,
        "4092400",
        conflict,
    );
    // Per partner, not per service.
    assert_code(
        &post(&sb, &mut easy, BALANCE, &with_id(BALANCE, &ext), body),
        409,
        "4091100",
        conflict,
    );
    // Another partner may use the same id.
    let rsa_token = {
        let h = snap_headers(&merchant_key(&sb), RSA_CLIENT_ID, &timestamp(0));
        assert_token(&post(&sb, &mut easy, SNAP, &h, GRANT).json()["accessToken"])
    };
    let h = service_headers(
        Signing::Rsa(&merchant_key(&sb)),
        &rsa_token,
        RSA_CLIENT_ID,
        VA,
        body,
        &timestamp(0),
    );
    assert_eq!(
        post(&sb, &mut easy, VA, &set(h, "X-EXTERNAL-ID", &ext), body).status,
        200
    );

    // A first use refused before the id check does not use it up.
    let ext = external_id();
    let bad = set(with_id(VA, &ext), "X-SIGNATURE", "AAAA");
    assert_eq!(post(&sb, &mut easy, VA, &bad, body).status, 401);
    let stale = service_headers(
        Signing::Hmac,
        &token,
        SANDBOX_CLIENT_ID,
        VA,
        body,
        &timestamp(-400),
    );
    assert_eq!(
        post(&sb, &mut easy, VA, &set(stale, "X-EXTERNAL-ID", &ext), body).status,
        401
    );
    let no_channel = without(with_id(VA, &ext), "CHANNEL-ID");
    assert_eq!(post(&sb, &mut easy, VA, &no_channel, body).status, 400);
    let r = post(&sb, &mut easy, VA, &with_id(VA, &ext), body);
    assert_eq!(
        (r.status, r.header("X-EXTERNAL-ID")),
        (200, Some(ext.as_str()))
    );
    assert_eq!(
        post(&sb, &mut easy, VA, &with_id(VA, &ext), body).status,
        409
    );

    let stats = sb.stats();
    assert_eq!(
        (
            &stats["service_calls"],
            &stats["service_ok"],
            &stats["service_401"],
            &stats["service_409"]
        ),
        (&json!(9), &json!(3), &json!(2), &json!(3))
    );
    assert_eq!(
        stats["service_by_client"],
        json!({SANDBOX_CLIENT_ID: 8, RSA_CLIENT_ID: 1})
    );
}

#[test]
fn revoked_tokens_are_refused_and_stats_count_service_calls() {
    let sb = start_default();
    let mut easy = Easy::new();
    let body = VA_BODY.as_bytes();
    let token = token_for(&sb, &mut easy, SANDBOX_CLIENT_ID);
    let (r, _) = call(&sb, &mut easy, &token, SANDBOX_CLIENT_ID, VA, body);
    assert_eq!(r.status, 200);

    // Two valid tokens (one per client) are revoked, over HTTP.
    let _second = token_for(&sb, &mut easy, RSA_CLIENT_ID);
    let url = format!("{}/sandbox/tokens/revoke", sb.base_url());
    let r = perform(&mut easy, "POST", &url, &vec![], b"", &sb.ca_file()).unwrap();
    assert_eq!((r.status, r.json()), (200, json!({"revoked": 2})));
    assert_eq!(get(&sb, &mut easy, "/sandbox/tokens/revoke").status, 405);

    let (r, _) = call(&sb, &mut easy, &token, SANDBOX_CLIENT_ID, VA, body);
    assert_code(&r, 401, "4012401", "Invalid Token (B2B)");
    let (r, _) = call(
        &sb,
        &mut easy,
        &token,
        SANDBOX_CLIENT_ID,
        "/nicepay/v1.0/transfer-va/inquiry",
        body,
    );
    assert_code(&r, 401, "4012401", "Access Token Invalid");
    // A new token works; revoking again counts only it.
    let fresh = token_for(&sb, &mut easy, SANDBOX_CLIENT_ID);
    let (r, _) = call(&sb, &mut easy, &fresh, SANDBOX_CLIENT_ID, BALANCE, body);
    assert_eq!(r.status, 200);
    assert_eq!(sb.revoke_tokens(), 1);
    // A token this sandbox never issued is not attributed to anyone.
    let (r, _) = call(&sb, &mut easy, "never-issued", SANDBOX_CLIENT_ID, VA, body);
    assert_eq!(r.status, 401);

    let stats = sb.stats();
    assert_eq!(
        stats,
        json!({
            "connections": 1,
            "requests": 8,
            "token_requests": 3,
            "tokens_issued": 3,
            "by_path": {
                SNAP: 3, VA: 3, BALANCE: 1, "/nicepay/v1.0/transfer-va/inquiry": 1,
            },
            "by_client": {SANDBOX_CLIENT_ID: 2, RSA_CLIENT_ID: 1},
            "service_calls": 5,
            "service_ok": 2,
            "service_401": 3,
            "service_409": 0,
            "tokens_revoked": 3,
            "service_by_client": {SANDBOX_CLIENT_ID: 4},
            "customer_token_requests": 0,
            "customer_tokens_issued": 0,
        })
    );
    sb.reset_stats();
    let zeroed = sb.stats();
    for field in [
        "service_calls",
        "service_ok",
        "service_401",
        "service_409",
        "tokens_revoked",
    ] {
        assert_eq!(zeroed[field], 0, "{field}");
    }
    assert_eq!(zeroed["service_by_client"], json!({}));
    // Resetting the stats does not bring tokens back.
    let (r, _) = call(&sb, &mut easy, &fresh, SANDBOX_CLIENT_ID, VA, body);
    assert_eq!(r.status, 401);
}

/// Waits until `field` of the stats reaches `n`.
fn await_stat(sb: &Sandbox, field: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while sb.stats()[field] != n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sb.stats()[field], n, "{field}");
}

#[test]
fn service_fault_clients_take_the_call_and_misbehave() {
    let sb = start_default();
    let mut easy = Easy::new();
    let body = VA_BODY.as_bytes();
    let signed = |easy: &mut Easy, client: &str| {
        let token = token_for(&sb, easy, client);
        service_headers(Signing::Hmac, &token, client, VA, body, &timestamp(0))
    };
    let url = format!("{}{VA}", sb.base_url());

    // SILENT: read and counted once, never answered.
    let h = signed(&mut easy, "FAULT-SVC-SILENT");
    easy.timeout(Duration::from_millis(700)).unwrap();
    let err = perform_as_set(&mut easy, "POST", &url, &h, body, &sb.ca_file()).unwrap_err();
    assert!(err.is_operation_timedout(), "{err}");
    drop(easy);
    await_stat(&sb, "service_calls", 1);

    // DROP: read and counted once, then closed without a word.
    let mut easy = Easy::new();
    let h = signed(&mut easy, "FAULT-SVC-DROP");
    // On a fresh connection: libcurl silently resends a request once when a
    // reused connection closes without an answer (which here would meet 409).
    let dropped = perform(&mut Easy::new(), "POST", &url, &h, body, &sb.ca_file());
    assert!(dropped.is_err(), "FAULT-SVC-DROP answered: {dropped:?}");
    await_stat(&sb, "service_calls", 2);
    // The call was taken: its id is used up, as at a provider that processed
    // it and lost the answer.
    let mut easy = Easy::new();
    let retry = set(
        signed(&mut easy, "FAULT-SVC-DROP"),
        "X-EXTERNAL-ID",
        header_of(&h, "X-EXTERNAL-ID"),
    );
    assert_eq!(post(&sb, &mut easy, VA, &retry, body).status, 409);

    // 500: answered as a general error, with the id it took.
    let h = signed(&mut easy, "FAULT-SVC-500");
    let r = post(&sb, &mut easy, VA, &h, body);
    assert_code(&r, 500, "5002400", "General Error");
    assert_eq!(
        r.header("X-EXTERNAL-ID"),
        Some(header_of(&h, "X-EXTERNAL-ID"))
    );
    // A refused call is answered normally.
    let r = post(&sb, &mut easy, VA, &without(h, "CHANNEL-ID"), body);
    assert_eq!(r.status, 400);

    let stats = sb.stats();
    assert_eq!(stats["service_calls"], 5);
    assert_eq!(stats["service_ok"], 0);
    assert_eq!(stats["service_409"], 1);
    assert_eq!(
        stats["service_by_client"],
        json!({"FAULT-SVC-SILENT": 1, "FAULT-SVC-DROP": 2, "FAULT-SVC-500": 2})
    );
    assert_eq!(stats["tokens_issued"], 4, "tokens are issued normally");

    // SILENT holds the call until the server stops.
    let h = signed(&mut easy, "FAULT-SVC-SILENT");
    let ca = sb.ca_file();
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let r = perform(&mut Easy::new(), "POST", &url, &h, VA_BODY.as_bytes(), &ca);
        (r.map(|r| r.status), started.elapsed())
    });
    await_stat(&sb, "service_calls", 6);
    drop(sb);
    let (result, waited) = waiting.join().unwrap();
    assert!(result.is_err(), "answered: {result:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

// ---------------------------------------------------------------- customer tokens (B2B2C)

#[test]
fn the_b2b2c_endpoint_checks_what_the_token_endpoint_does_and_its_grants() {
    let sb = start_default();
    let mut easy = Easy::new();
    let key = merchant_key(&sb);
    let id = SANDBOX_CLIENT_ID;
    // SNAP's B2B2C request carries the merchant's B2B token beside the signature.
    let b2b = token_for(&sb, &mut easy, id);
    let foreign = token_for(&sb, &mut easy, RSA_CLIENT_ID);
    let signed = || snap_headers(&merchant_key(&sb), id, &timestamp(0));
    let with_token = |token: &str| {
        let mut h = signed();
        h.push(("Authorization", format!("Bearer {token}")));
        h
    };
    let good = || with_token(&b2b);
    let code = |c: &str| format!(r#"{{"grantType":"authorization_code","authCode":"{c}"}}"#);
    let unique = format!("SANDBOX-AUTH-raw-{}", std::process::id());
    let cases: Vec<Case<'_, String>> = vec![
        (
            "no B2B token",
            signed(),
            code(&unique),
            401,
            "4017401",
            "Invalid Token (B2B)",
        ),
        (
            "another client's B2B token",
            with_token(&foreign),
            code(&unique),
            401,
            "4017401",
            "Invalid Token (B2B)",
        ),
        (
            "a B2B token this sandbox never issued",
            with_token("bogus-token"),
            code(&unique),
            401,
            "4017401",
            "Invalid Token (B2B)",
        ),
        (
            "no signature",
            good()[..3].to_vec(),
            code(&unique),
            400,
            "4007402",
            "Invalid Mandatory Field X-SIGNATURE",
        ),
        (
            "bad timestamp",
            snap_headers(&key, id, "2024-12-31 10:11:40"),
            code(&unique),
            400,
            "4007401",
            "Invalid Field Format X-TIMESTAMP",
        ),
        (
            "not JSON",
            good(),
            "[".into(),
            400,
            "4007400",
            "Bad Request",
        ),
        (
            "no grant type",
            good(),
            r#"{"authCode":"x"}"#.into(),
            400,
            "4007402",
            "Invalid Mandatory Field grantType",
        ),
        (
            "client credentials",
            good(),
            r#"{"grantType":"client_credentials"}"#.into(),
            400,
            "4007401",
            "Invalid Field Format grantType",
        ),
        (
            "no auth code",
            good(),
            r#"{"grantType":"authorization_code"}"#.into(),
            400,
            "4007402",
            "Invalid Mandatory Field authCode",
        ),
        (
            "no refresh token",
            good(),
            r#"{"grantType":"refresh_token","refreshToken":""}"#.into(),
            400,
            "4007402",
            "Invalid Mandatory Field refreshToken",
        ),
        (
            "bad additionalInfo",
            good(),
            r#"{"grantType":"authorization_code","authCode":"x","additionalInfo":"s"}"#.into(),
            400,
            "4007401",
            "Invalid Field Format additionalInfo",
        ),
        (
            "wrong key",
            snap_headers(&other_key(), id, &timestamp(0)),
            code(&unique),
            401,
            "4017400",
            "Unauthorized. Signature",
        ),
        (
            "stale",
            snap_headers(&key, id, &timestamp(-900)),
            code(&unique),
            401,
            "4017400",
            "Unauthorized. Stale Timestamp",
        ),
        (
            "unknown code",
            good(),
            code("XYZ"),
            401,
            "4017400",
            "Unauthorized. Invalid Auth Code",
        ),
        (
            "unknown refresh",
            good(),
            r#"{"grantType":"refresh_token","refreshToken":"nope"}"#.into(),
            401,
            "4017400",
            "Unauthorized. Invalid Refresh Token",
        ),
    ];
    let url = format!("{}/v1.0/access-token/b2b2c", sb.base_url());
    for (what, headers, body, status, want, message) in &cases {
        let r = perform(
            &mut easy,
            "POST",
            &url,
            headers,
            body.as_bytes(),
            &sb.ca_file(),
        )
        .unwrap();
        assert_eq!(r.status, *status, "{what}");
        assert_eq!(
            r.json(),
            json!({"responseCode": want, "responseMessage": message}),
            "{what}"
        );
    }
    // None of those refusals used the code up: it works now, once.
    let r = perform(
        &mut easy,
        "POST",
        &url,
        &good(),
        code(&unique).as_bytes(),
        &sb.ca_file(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer = r.json();
    assert_eq!(answer["responseCode"], "2007400");
    assert_eq!(answer["tokenType"], "Bearer");
    assert!(answer["accessTokenExpiryTime"]
        .as_str()
        .unwrap()
        .ends_with("+07:00"));
    assert_eq!(
        answer["additionalInfo"],
        json!({"customerId": unique.trim_start_matches("SANDBOX-AUTH-")})
    );
    let r = perform(
        &mut easy,
        "POST",
        &url,
        &good(),
        code(&unique).as_bytes(),
        &sb.ca_file(),
    )
    .unwrap();
    assert_eq!(
        r.json()["responseMessage"],
        "Unauthorized. Auth Code Already Used"
    );
    // A GET is 405; DOKU's path echoes its headers and asks for no B2B
    // token (a refusal of the code shows the rest passed); the B2B path is not it.
    let r = perform(&mut easy, "GET", &url, &good(), b"", &sb.ca_file()).unwrap();
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST")));
    let doku = format!("{}/authorization/v1/access-token/b2b2c", sb.base_url());
    let r = perform(
        &mut easy,
        "POST",
        &doku,
        &signed(),
        code("XYZ").as_bytes(),
        &sb.ca_file(),
    )
    .unwrap();
    assert_eq!((r.status, r.header("X-CLIENT-KEY")), (401, Some(id)));
    assert_eq!(
        r.json()["responseMessage"],
        "Unauthorized. Invalid Auth Code"
    );
    assert!(r.header("X-TIMESTAMP").is_some());
    let stats = sb.stats();
    assert_eq!(stats["customer_token_requests"], cases.len() as u64 + 4);
    assert_eq!(stats["customer_tokens_issued"], 1);
    // The two B2B tokens above.
    assert_eq!(stats["token_requests"], 2);
    assert_eq!(stats["tokens_issued"], 2);
}
