//! The `snapb2b` command-line tool, run as a real process: output formats,
//! exit codes, secrets kept out of messages, public vectors, and tokens from
//! the in-process sandbox provider (also through the printed `curl` command,
//! executed with the system curl when it is installed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};
use snapb2b::keys::PrivateKey;
use snapb2b_sandbox::{Sandbox, SandboxOptions, PROVIDER_NAMES};

const BIN: &str = env!("CARGO_BIN_EXE_snapb2b");

// ---------------------------------------------------------------- helpers

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    fn line(&self, name: &str) -> String {
        let prefix = format!("{name}: ");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} line in {:?}", self.stdout))
            .to_string()
    }
}

/// Runs the tool with `args`, `env` and `stdin` (closed when `None`).
fn run_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("snapb2b runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input).unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

fn run(args: &[&str]) -> Run {
    run_with(args, &[], None)
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "snapb2b-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, contents).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new 2048-bit key: (private PKCS#8 PEM, public SPKI PEM).
fn key_pair() -> (String, String) {
    let pkey = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    (
        String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        String::from_utf8(pkey.public_key_to_pem().unwrap()).unwrap(),
    )
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).expect("sandbox starts")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `SNAPB2B_VECTORS`, else the copy in `tests/vectors/`.
fn vectors() -> Option<(Value, PathBuf)> {
    let dir = std::env::var_os("SNAPB2B_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors"));
    let text = std::fs::read_to_string(dir.join("snap-vectors.json")).ok()?;
    let v: Value = serde_json::from_str(&text).expect("vectors file is JSON");
    let key = dir.join(
        v["private_key_file"]
            .as_str()
            .unwrap_or("public-demo-key.pem"),
    );
    Some((v, key))
}

fn now_wib() -> String {
    snapb2b::timestamp::TimestampStyle::Wib.now()
}

// ------------------------------------------------------------------ sign

#[test]
fn sign_prints_the_three_headers_and_the_librarys_signature() {
    let dir = TempDir::new();
    let (private, _) = key_pair();
    let key_file = dir.write("key.pem", private.as_bytes());
    let key = PrivateKey::parse(&private, None).unwrap();

    let r = run(&["sign", "--key", &key_file, "--client-id", "MCH-0001"]).ok();
    let names: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split_once(": ").expect("Name: value").0)
        .collect();
    assert_eq!(names, ["X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE"]);
    let ts = r.line("X-TIMESTAMP");
    assert!(ts.ends_with("+07:00"), "wib by default: {ts}");
    assert!(snapb2b::timestamp::parse(&ts).is_some(), "{ts}");
    assert_eq!(r.line("X-CLIENT-KEY"), "MCH-0001");
    assert_eq!(
        r.line("X-SIGNATURE"),
        snapb2b::sign::b2b_signature(&key, "MCH-0001", &ts).unwrap()
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);

    // Each style, each signed as printed.
    for (style, suffix) in [
        ("utc", "Z"),
        ("utc_ms", "Z"),
        ("wib", "+07:00"),
        ("wib_ms", "+07:00"),
    ] {
        let r = run(&[
            "sign",
            "--key",
            &key_file,
            "--client-id",
            "C",
            "--style",
            style,
        ])
        .ok();
        let ts = r.line("X-TIMESTAMP");
        assert!(ts.ends_with(suffix), "{style}: {ts}");
        assert_eq!(ts.contains('.'), style.ends_with("_ms"), "{style}: {ts}");
        assert_eq!(
            r.line("X-SIGNATURE"),
            snapb2b::sign::b2b_signature(&key, "C", &ts).unwrap()
        );
    }

    // The key from stdin and from an environment variable, fixed timestamp.
    let ts = "2024-12-31T10:11:40+07:00";
    let want = snapb2b::sign::b2b_signature(&key, "C", ts).unwrap();
    let from_file = run(&[
        "sign",
        "--key",
        &key_file,
        "--client-id",
        "C",
        "--timestamp",
        ts,
    ])
    .ok();
    let from_stdin = run_with(
        &["sign", "--key", "-", "--client-id", "C", "--timestamp", ts],
        &[],
        Some(private.as_bytes()),
    )
    .ok();
    let from_env = run_with(
        &[
            "sign",
            "--key-env",
            "MY_KEY",
            "--client-id",
            "C",
            "--timestamp",
            ts,
        ],
        &[("MY_KEY", &private.replace('\n', "\\n"))],
        None,
    )
    .ok();
    for r in [from_file, from_stdin, from_env] {
        assert_eq!(r.line("X-TIMESTAMP"), ts);
        assert_eq!(r.line("X-SIGNATURE"), want);
    }
}

#[test]
fn sign_with_a_given_timestamp_matches_the_public_vectors() {
    let Some((v, key_file)) = vectors() else {
        eprintln!("public vectors not found (set SNAPB2B_VECTORS): skipped");
        return;
    };
    let cases = v["asymmetric_b2b_token"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let client = case["client_id"].as_str().unwrap();
        let ts = case["timestamp"].as_str().unwrap();
        let r = run(&[
            "sign",
            "--key",
            path_str(&key_file),
            "--client-id",
            client,
            "--timestamp",
            ts,
        ])
        .ok();
        assert_eq!(r.line("X-TIMESTAMP"), ts);
        assert_eq!(r.line("X-CLIENT-KEY"), client);
        assert_eq!(
            r.line("X-SIGNATURE"),
            case["signature"].as_str().unwrap(),
            "{client}|{ts}"
        );
    }
}

#[test]
fn sign_refuses_bad_arguments_with_invalid_argument() {
    let dir = TempDir::new();
    let (private, _) = key_pair();
    let key_file = dir.write("key.pem", private.as_bytes());
    for args in [
        &["sign", "--client-id", "C"][..], // no key
        &["sign", "--key", &key_file],     // no client id
        &[
            "sign",
            "--key",
            &key_file,
            "--key-env",
            "K",
            "--client-id",
            "C",
        ], // two keys
        &[
            "sign",
            "--key",
            &key_file,
            "--client-id",
            "C",
            "--timestamp",
            "yesterday",
        ],
        &[
            "sign",
            "--key",
            &key_file,
            "--client-id",
            "C",
            "--timestamp",
            " 2024-12-31T10:11:40Z",
        ],
        &[
            "sign",
            "--key",
            &key_file,
            "--client-id",
            "C",
            "--style",
            "local",
        ],
        &[
            "sign",
            "--key",
            &key_file,
            "--client-id",
            "C",
            "--style",
            "utc",
            "--timestamp",
            "2024-12-31T10:11:40Z",
        ],
        &["sign", "--key", &key_file, "--client-id", "C\nX-EVIL: 1"],
        &["sign", "--key", &key_file, "--client-id", "C", "--bogus"],
        &["sign", "--key", &key_file, "--client-id", "C", "extra"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("snapb2b: INVALID_ARGUMENT: "),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
}

// ------------------------------------------------------------ secrets

#[test]
fn a_bad_key_exits_2_and_the_key_text_is_never_shown() {
    let dir = TempDir::new();
    let (private, _) = key_pair();
    // Key-looking text whose body does not parse.
    let body: String = private.lines().nth(3).unwrap().to_string();
    let damaged =
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n{body}\n-----END PRIVATE KEY-----\n");
    let bad_file = dir.write("bad.pem", damaged.as_bytes());
    let public_only = key_pair().1;
    let public_file = dir.write("public.pem", public_only.as_bytes());

    let runs = vec![
        run(&["sign", "--key", &bad_file, "--client-id", "C"]),
        run_with(
            &["sign", "--key", "-", "--client-id", "C"],
            &[],
            Some(damaged.as_bytes()),
        ),
        run_with(
            &["sign", "--key-env", "K", "--client-id", "C"],
            &[("K", &damaged)],
            None,
        ),
        run(&["sign", "--key", &public_file, "--client-id", "C"]),
        run(&[
            "service-sign",
            "--key",
            &bad_file,
            "--method",
            "POST",
            "--path",
            "/x",
        ]),
    ];
    for r in runs {
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.starts_with("snapb2b: KEY: "), "{}", r.stderr);
        assert!(!r.stderr.contains(&body), "key text in: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }

    // The same through `token`: an inline key in the config.
    let sb = sandbox();
    let mut config = sb.config_json("snap");
    config.as_object_mut().unwrap().remove("private_key_file");
    config["private_key"] = Value::String(damaged.clone());
    let config_file = dir.write("config.json", config.to_string().as_bytes());
    let r = run(&["token", "--config", &config_file]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("snapb2b: KEY: "), "{}", r.stderr);
    assert!(!r.stderr.contains(&body));

    // Key text where a path belongs: refused without echoing it.
    let r = run(&["sign", "--key", &private, "--client-id", "C"]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stderr.contains(private.lines().nth(1).unwrap()),
        "{}",
        r.stderr
    );
}

#[test]
fn secrets_passed_in_the_wrong_place_are_not_echoed() {
    let secret = "s3cretValue42";
    for args in [
        &[
            "service-sign",
            "--method",
            "POST",
            "--path",
            "/x",
            "--secret-env",
            "s3cretValue42 ",
            "--access-token-env",
            "T",
        ][..],
        &[
            "service-sign",
            "--method",
            "POST",
            "--path",
            "/x",
            "--secret-file",
            "s3cretValue42",
            "--access-token-env",
            "T",
        ],
        &[
            "service-sign",
            "--method",
            "POST",
            "--path",
            "/x",
            "--secret",
            "s3cretValue42",
        ],
        &["sign", "s3cretValue42"],
        &["sign", "--key-env", "s3cret-Value42", "--client-id", "C"],
    ] {
        let r = run_with(args, &[("T", "tok")], None);
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.stderr.starts_with("snapb2b: "), "{}", r.stderr);
        assert!(
            !r.stderr.contains(secret) && !r.stderr.contains("s3cret-Value42"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // An unset variable is named (names are not secrets).
    let r = run(&[
        "sign",
        "--key-env",
        "SNAPB2B_TEST_UNSET_VAR",
        "--client-id",
        "C",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("SNAPB2B_TEST_UNSET_VAR is not set"),
        "{}",
        r.stderr
    );
}

// ----------------------------------------------------------------- token

#[test]
fn token_for_each_sandbox_config() {
    let sb = sandbox();
    for provider in PROVIDER_NAMES {
        let config = sb.config_path(provider);
        let r = run(&["token", "--config", path_str(&config)]).ok();
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        let v: Value = serde_json::from_str(&r.stdout).expect("token JSON");
        assert_eq!(v["provider"], provider);
        assert!(!v["access_token"].as_str().unwrap().is_empty());
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["expires_in"], 900);
        assert!(v["expires_at"].as_i64().unwrap() > chrono::Utc::now().timestamp());
        assert!(v.get("cached").is_none());

        // The config on stdin.
        let text = std::fs::read(&config).unwrap();
        let r = run_with(&["token", "--config", "-"], &[], Some(&text)).ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["provider"], provider);
    }
}

/// A CA certificate that signed nothing the sandbox serves.
fn unrelated_ca_pem() -> Vec<u8> {
    let identity = snapb2b_sandbox::generate_identity().unwrap();
    identity.ca_cert.to_pem().unwrap()
}

#[test]
fn ca_file_adds_to_the_system_roots_instead_of_replacing_them() {
    // Each run is a new process, so the system store can be stood in for by
    // SSL_CERT_FILE/SSL_CERT_DIR (read by libcurl's OpenSSL set-up).
    let sb = sandbox();
    let dir = TempDir::new();
    let unrelated = dir.write("unrelated-ca.pem", &unrelated_ca_pem());
    let sandbox_ca = path_str(&sb.ca_file()).to_string();
    let empty_dir = path_str(&dir.0).to_string();
    let (key, _) = key_pair();
    let key_only = dir.write("key-not-ca.pem", key.as_bytes());
    let with_ca = |name: &str, ca: &str| {
        let mut config = sb.config_json("snap");
        config["ca_file"] = Value::String(ca.to_string());
        dir.write(name, config.to_string().as_bytes())
    };
    let system = |file: &str| {
        [
            ("SSL_CERT_FILE", file.to_string()),
            ("SSL_CERT_DIR", empty_dir.clone()),
        ]
    };
    let token = |args: &[&str], env: &[(&str, String); 2]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_with(args, &env, None)
    };

    // The system store trusts the sandbox; ca_file names another CA: both
    // count, so the request succeeds (one-shot and caching client alike).
    let config = with_ca("unrelated.json", &unrelated);
    for args in [
        &["token", "--config", config.as_str()][..],
        &["token", "--client", "--config", config.as_str()][..],
    ] {
        let r = token(args, &system(&sandbox_ca)).ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["provider"], "snap");
    }

    // Nobody trusts the sandbox: refused as untrusted.
    let r = token(&["token", "--config", &config], &system(&unrelated));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("not trusted"), "{}", r.stderr);

    // ca_file alone is enough when the system store does not know the CA.
    let config = with_ca("sandbox.json", &sandbox_ca);
    token(&["token", "--config", &config], &system(&unrelated)).ok();

    // A file without certificates is a config mistake, said as one, and the
    // key it holds by mistake is not shown.
    let config = with_ca("key.json", &key_only);
    let r = token(&["token", "--config", &config], &system(&sandbox_ca));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("ca_file") && r.stderr.contains("no PEM certificate"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("PRIVATE KEY") && !r.stderr.contains(&key[40..80]),
        "{}",
        r.stderr
    );
}

#[test]
fn token_through_the_caching_client_reuses_the_cache_file() {
    let sb = sandbox();
    let dir = TempDir::new();
    let mut config = sb.config_json("doku");
    config["cache_file"] = Value::String(path_str(&dir.0.join("token.cache")).to_string());
    let config_file = dir.write("config.json", config.to_string().as_bytes());

    // cache_file is a client-only key: the one-shot path refuses it.
    let r = run(&["token", "--config", &config_file]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("cache_file"), "{}", r.stderr);

    let first = run(&["token", "--client", "--config", &config_file]).ok();
    let second = run(&["token", "--client", "--config", &config_file]).ok();
    let first: Value = serde_json::from_str(&first.stdout).unwrap();
    let second: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(first["cached"], false);
    assert_eq!(second["cached"], true);
    assert_eq!(first["access_token"], second["access_token"]);
    assert_eq!(sb.stats()["by_client"]["SANDBOX-CLIENT"], 1);
}

#[test]
fn token_refused_by_the_provider_exits_6() {
    let sb = sandbox();
    let dir = TempDir::new();
    let mut config = sb.config_json("snap");
    config["client_id"] = Value::String("NOBODY-KNOWS-ME".into());
    let config_file = dir.write("config.json", config.to_string().as_bytes());
    let r = run(&["token", "--config", &config_file]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.starts_with("snapb2b: PROVIDER: "), "{}", r.stderr);
    assert!(r.stderr.contains("4017300"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let r = run(&["token", "--error-json", "--config", &config_file]);
    assert_eq!(r.code, 6);
    let e: Value = serde_json::from_str(&r.stdout).expect("error JSON");
    assert_eq!(
        (e["status"].as_i64(), e["name"].as_str()),
        (Some(6), Some("PROVIDER"))
    );
    assert_eq!(e["http_status"], 401);

    // Other status codes pass through as exit codes too.
    config["client_id"] = Value::String("FAULT-GARBAGE".into());
    let config_file = dir.write("garbage.json", config.to_string().as_bytes());
    let r = run(&["token", "--config", &config_file]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(r.stderr.starts_with("snapb2b: PROTOCOL: "), "{}", r.stderr);

    let r = run(&["token", "--config", path_str(&dir.0.join("missing.json"))]);
    assert_eq!(r.code, 1);
    let r = run_with(
        &["token", "--config", "-"],
        &[],
        Some(b"{\"provider\":\"ovo\"}"),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("snapb2b: INVALID_ARGUMENT: "),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------- verify

#[test]
fn verify_valid_invalid_and_stale() {
    let dir = TempDir::new();
    let (private, public) = key_pair();
    let key_file = dir.write("key.pem", private.as_bytes());
    let pub_file = dir.write("pub.pem", public.as_bytes());

    let signed = run(&["sign", "--key", &key_file, "--client-id", "CID"]).ok();
    let ts = signed.line("X-TIMESTAMP");
    let sig = signed.line("X-SIGNATURE");
    let verify = |client: &str, ts: &str, sig: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--public-key",
            &pub_file,
            "--client-id",
            client,
            "--timestamp",
            ts,
            "--signature",
            sig,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    let r = verify("CID", &ts, &sig, &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "valid\n"), "{}", r.stderr);

    let r = verify("CID2", &ts, &sig, &[]);
    assert_eq!(r.code, 8);
    assert!(r.stdout.starts_with("invalid: "), "{}", r.stdout);

    let r = verify("CID", &ts, "bm90IGEgc2lnbmF0dXJl", &[]);
    assert_eq!(r.code, 8);

    // A correct signature over an old timestamp: stale unless the check is off.
    let old = "2020-01-01T07:00:00+07:00";
    let old_sig = run(&[
        "sign",
        "--key",
        &key_file,
        "--client-id",
        "CID",
        "--timestamp",
        old,
    ])
    .ok()
    .line("X-SIGNATURE");
    let r = verify("CID", old, &old_sig, &[]);
    assert_eq!(r.code, 8);
    assert!(
        r.stdout.starts_with("invalid: ") && r.stdout.contains("stale"),
        "{}",
        r.stdout
    );
    let r = verify("CID", old, &old_sig, &["--max-skew-s", "0"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "valid\n"));

    // The public key on stdin; a private key where the public one belongs.
    let r = run_with(
        &[
            "verify",
            "--public-key",
            "-",
            "--client-id",
            "CID",
            "--timestamp",
            &ts,
            "--signature",
            &sig,
        ],
        &[],
        Some(public.as_bytes()),
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "valid\n"));
    let r = run(&[
        "verify",
        "--public-key",
        &key_file,
        "--client-id",
        "CID",
        "--timestamp",
        &ts,
        "--signature",
        &sig,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains(private.lines().nth(1).unwrap()));

    // Usage mistakes.
    for args in [
        &[
            "verify",
            "--public-key",
            &pub_file,
            "--client-id",
            "CID",
            "--timestamp",
            &ts,
        ][..],
        &[
            "verify",
            "--public-key",
            &pub_file,
            "--client-id",
            "CID",
            "--timestamp",
            &ts,
            "--signature",
            &sig,
            "--max-skew-s",
            "-1",
        ],
        &[
            "verify",
            "--public-key",
            &pub_file,
            "--client-id",
            "CID",
            "--timestamp",
            &ts,
            "--signature",
            &sig,
            "--method",
            "POST",
        ],
        &[
            "verify",
            "--service",
            "--hmac",
            "--timestamp",
            &ts,
            "--signature",
            &sig,
        ],
    ] {
        assert_eq!(run(args).code, 1, "{args:?}");
    }
}

#[test]
fn service_sign_and_verify_rsa_and_hmac() {
    let dir = TempDir::new();
    let (private, public) = key_pair();
    let key_file = dir.write("key.pem", private.as_bytes());
    let pub_file = dir.write("pub.pem", public.as_bytes());
    let body = "{ \"amount\" : {\"value\": \"10000.00\", \"currency\": \"IDR\"} }";
    let body_file = dir.write("body.json", body.as_bytes());
    let key = PrivateKey::parse(&private, None).unwrap();
    let ts = now_wib();

    // RSA: body from a file, inline and on stdin all sign the same.
    let want =
        snapb2b::service::service_signature_rsa(&key, "POST", "/v1.0/x", Some(body), &ts).unwrap();
    let base = [
        "service-sign",
        "--key",
        &key_file,
        "--method",
        "post",
        "--path",
        "/v1.0/x",
        "--timestamp",
        &ts,
    ];
    let by_file = run(&[&base[..], &["--body-file", &body_file]].concat()).ok();
    let inline = run(&[&base[..], &["--body", body]].concat()).ok();
    let stdin = run_with(
        &[&base[..], &["--body", "-"]].concat(),
        &[],
        Some(body.as_bytes()),
    )
    .ok();
    for r in [&by_file, &inline, &stdin] {
        assert_eq!(r.stdout, format!("{want}\n"));
    }
    let headers = run(&[&base[..], &["--body-file", &body_file, "--headers"]].concat()).ok();
    assert_eq!(
        headers.stdout,
        format!("X-TIMESTAMP: {ts}\nX-SIGNATURE: {want}\n")
    );

    let verify = |sig: &str, body: &str| {
        run(&[
            "verify",
            "--service",
            "--public-key",
            &pub_file,
            "--method",
            "POST",
            "--path",
            "/v1.0/x",
            "--timestamp",
            &ts,
            "--signature",
            sig,
            "--body",
            body,
        ])
    };
    assert_eq!(verify(&want, body).code, 0);
    assert_eq!(
        verify(
            &want,
            "{\"amount\":{\"value\":\"10000.00\",\"currency\":\"IDR\"}}"
        )
        .code,
        0
    );
    let r = verify(
        &want,
        "{\"amount\":{\"value\":\"99999.00\",\"currency\":\"IDR\"}}",
    );
    assert_eq!(r.code, 8);
    assert!(r.stdout.starts_with("invalid: "));
    // A body that is not JSON cannot carry a valid signature: invalid (8).
    assert_eq!(verify(&want, "{not json").code, 8);

    // No body hashes the empty string.
    let empty = run(&[
        "service-sign",
        "--key",
        &key_file,
        "--method",
        "GET",
        "--path",
        "/v1.0/y",
        "--timestamp",
        &ts,
    ])
    .ok();
    assert_eq!(
        empty.stdout.trim_end(),
        snapb2b::service::service_signature_rsa(&key, "GET", "/v1.0/y", None, &ts).unwrap()
    );

    // HMAC: secret and token from variables or files, verified back.
    let tok_file = dir.write("token.txt", b"tok-123\n");
    let env = [("CS", "client-secret"), ("AT", "tok-123")];
    let want = snapb2b::service::service_signature(
        "client-secret",
        "POST",
        "/v1.0/x",
        "tok-123",
        Some(body),
        &ts,
    )
    .unwrap();
    let r = run_with(
        &[
            "service-sign",
            "--secret-env",
            "CS",
            "--access-token-file",
            &tok_file,
            "--method",
            "POST",
            "--path",
            "/v1.0/x",
            "--timestamp",
            &ts,
            "--body-file",
            &body_file,
        ],
        &env,
        None,
    )
    .ok();
    assert_eq!(r.stdout, format!("{want}\n"));
    let hmac_verify = |sig: &str, token_var: &str| {
        run_with(
            &[
                "verify",
                "--hmac",
                "--secret-env",
                "CS",
                "--access-token-env",
                token_var,
                "--method",
                "POST",
                "--path",
                "/v1.0/x",
                "--timestamp",
                &ts,
                "--signature",
                sig,
                "--body-stdin",
            ],
            &[
                ("CS", "client-secret"),
                ("AT", "tok-123"),
                ("AT2", "tok-456"),
            ],
            Some(body.as_bytes()),
        )
    };
    assert_eq!(hmac_verify(&want, "AT").stdout, "valid\n");
    let r = hmac_verify(&want, "AT2");
    assert_eq!(r.code, 8);
    assert!(!r.stdout.contains("tok-") && !r.stderr.contains("tok-"));

    // One signer only; stdin for one input only.
    let r = run_with(
        &[
            "service-sign",
            "--key",
            &key_file,
            "--secret-env",
            "CS",
            "--access-token-env",
            "AT",
            "--method",
            "POST",
            "--path",
            "/x",
        ],
        &env,
        None,
    );
    assert_eq!(r.code, 1);
    let r = run_with(
        &[
            "service-sign",
            "--key",
            "-",
            "--body",
            "-",
            "--method",
            "POST",
            "--path",
            "/x",
        ],
        &[],
        Some(private.as_bytes()),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("stdin"), "{}", r.stderr);
}

#[test]
fn service_sign_hmac_matches_the_public_vector() {
    let Some((v, _)) = vectors() else {
        eprintln!("public vectors not found (set SNAPB2B_VECTORS): skipped");
        return;
    };
    let dir = TempDir::new();
    let cases = v["symmetric_service"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let s = |k: &str| case[k].as_str().unwrap().to_string();
        let body_file = dir.write("body.json", s("body").as_bytes());
        let secret_file = dir.write("secret.txt", format!("{}\n", s("client_secret")).as_bytes());
        let env = [("SNAP_TOKEN", s("access_token"))];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (method, path, ts) = (s("method"), s("path"), s("timestamp"));
        let common = [
            "--method",
            &method,
            "--path",
            &path,
            "--timestamp",
            &ts,
            "--secret-file",
            &secret_file,
            "--access-token-env",
            "SNAP_TOKEN",
        ];
        let r = run_with(
            &[&["service-sign"][..], &common, &["--body-file", &body_file]].concat(),
            &env,
            None,
        )
        .ok();
        assert_eq!(r.stdout.trim_end(), s("signature"));
        // The minified body signs the same.
        let r = run_with(
            &[
                &["service-sign"][..],
                &common,
                &["--body", &s("minified_body")],
            ]
            .concat(),
            &env,
            None,
        )
        .ok();
        assert_eq!(r.stdout.trim_end(), s("signature"));
        let r = run_with(
            &[
                &["verify", "--hmac"][..],
                &common,
                &[
                    "--body-file",
                    &body_file,
                    "--signature",
                    &s("signature"),
                    "--max-skew-s",
                    "0",
                ],
            ]
            .concat(),
            &env,
            None,
        );
        assert_eq!((r.code, r.stdout.as_str()), (0, "valid\n"), "{}", r.stderr);
        // And minify reproduces the vector's minified body.
        let r = run(&["minify", &body_file]).ok();
        assert_eq!(r.stdout, format!("{}\n", s("minified_body")));
    }
}

// ------------------------------------------------ minify, timestamp, misc

#[test]
fn minify_from_stdin_and_files() {
    let dir = TempDir::new();
    let text = "{ \"b\" : [1.0e+2, \"x y\"],\n  \"a\": \"caf\\u00e9 \\/\" }\n";
    let want = "{\"b\":[1.0e+2,\"x y\"],\"a\":\"caf\\u00e9 \\/\"}\n";
    assert_eq!(
        run_with(&["minify"], &[], Some(text.as_bytes()))
            .ok()
            .stdout,
        want
    );
    assert_eq!(
        run_with(&["minify", "-"], &[], Some(text.as_bytes()))
            .ok()
            .stdout,
        want
    );
    let f = dir.write("in.json", text.as_bytes());
    assert_eq!(run(&["minify", &f]).ok().stdout, want);
    let r = run_with(&["minify"], &[], Some(b"{\"a\":1,}"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("snapb2b: INVALID_ARGUMENT: "),
        "{}",
        r.stderr
    );
    assert_eq!(run(&["minify", &f, &f]).code, 1);
}

#[test]
fn timestamp_styles() {
    let r = run(&["timestamp"]).ok();
    let ts = r.stdout.trim_end();
    assert!(
        ts.ends_with("+07:00") && snapb2b::timestamp::parse(ts).is_some(),
        "{ts}"
    );
    let now = chrono::Utc::now().timestamp();
    for style in ["wib", "utc", "utc_ms", "wib_ms"] {
        let r = run(&["timestamp", "--style", style]).ok();
        let at = snapb2b::timestamp::parse(r.stdout.trim_end()).expect("parses");
        assert!((at.timestamp() - now).abs() < 60);
    }
    assert_eq!(run(&["timestamp", "--style", "local"]).code, 1);
}

#[test]
fn every_help_exits_0_and_mistakes_exit_1() {
    let commands = [
        "sign",
        "token",
        "verify",
        "service-sign",
        "minify",
        "timestamp",
        "curl",
        "completions",
        "man",
        "call",
        "headers",
        "external-id",
        "customer-token",
    ];
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let r = run(args).ok();
        assert!(r.stdout.starts_with("usage: snapb2b"), "{}", r.stdout);
        for c in commands.iter().chain(&["sandbox"]) {
            assert!(r.stdout.contains(c), "{c} missing from the overview");
        }
    }
    for c in commands {
        for flag in ["--help", "-h"] {
            let r = run(&[c, flag]).ok();
            assert!(
                r.stdout.starts_with(&format!("usage: snapb2b {c}")),
                "{}",
                r.stdout
            );
        }
        assert!(run(&["help", c]).ok().stdout.starts_with("usage:"));
    }
    let r = run(&["sandbox", "--help"]).ok();
    assert!(r.stdout.contains("--dir"), "{}", r.stdout);

    let r = run(&["--version"]).ok();
    assert_eq!(r.stdout, format!("snapb2b {}\n", env!("CARGO_PKG_VERSION")));

    // A mistake is one line naming the command and pointing to its --help.
    for (args, expected) in [
        (
            &["frobnicate"][..],
            "unknown command `frobnicate` (see snapb2b --help)",
        ),
        (&[], "a command is required (see snapb2b --help)"),
        (
            &["--bogus"],
            "unknown command `--bogus` (see snapb2b --help)",
        ),
        (
            &["sign", "--bogus"],
            "sign: unknown option `--bogus` (see snapb2b sign --help)",
        ),
        (
            &["token"],
            "token: --config is required (see snapb2b token --help)",
        ),
        (
            &["curl", "--config"],
            "curl: --config needs a value (see snapb2b curl --help)",
        ),
        (
            &["completions", "tcsh"],
            "completions: unknown shell (not shown): choose bash, zsh or fish (see snapb2b completions --help)",
        ),
        (
            &["verify", "--service", "--hmac"],
            "verify: --service and --hmac cannot be combined (see snapb2b verify --help)",
        ),
    ] {
        let r = run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert_eq!(
            r.stderr,
            format!("snapb2b: INVALID_ARGUMENT: {expected}\n"),
            "{args:?}"
        );
    }
    // The sandbox's own parser (a crate of its own) still prints its usage.
    let r = run(&["sandbox", "--bogus"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("--bogus"), "{}", r.stderr);
}

// ------------------------------------------------------- service calls

/// The sandbox's HMAC key and channel id for service calls.
const SANDBOX_SECRET: &str = "sandbox0secret0klikoo00000000000";
const SANDBOX_CHANNEL: &str = "95221";
const VA_INQUIRY: &str = "/v1.0/transfer-va/inquiry";
const VA_BODY: &str = r#"{"partnerServiceId": "  088899", "customerNo": "12345678901234567890",
  "virtualAccountNo": "  08889912345678901234567890", "inquiryRequestId": "abcdef-123456-abcdef"}"#;

/// The sandbox's snap config with what service calls need, written to `dir`.
fn call_config(sb: &Sandbox, dir: &TempDir, edit: impl FnOnce(&mut Value)) -> String {
    let mut config = sb.config_json("snap");
    config["client_secret"] = SANDBOX_SECRET.into();
    config["channel_id"] = SANDBOX_CHANNEL.into();
    edit(&mut config);
    dir.write("call.json", config.to_string().as_bytes())
}

#[test]
fn external_id_prints_32_fresh_digits() {
    let first = run(&["external-id"]).ok().stdout;
    let second = run(&["external-id"]).ok().stdout;
    for id in [&first, &second] {
        let id = id.strip_suffix('\n').expect("one line");
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    }
    assert_ne!(first, second);
}

#[test]
fn headers_are_in_order_and_signed_with_hmac_sha512_over_the_documented_string() {
    let sb = sandbox();
    let dir = TempDir::new();
    let config = call_config(&sb, &dir, |_| {});
    let body_file = dir.write("body.json", VA_BODY.as_bytes());
    for data in [
        format!("@{body_file}"),
        VA_BODY.to_string(),
        "-".to_string(),
    ] {
        let stdin = (data == "-").then_some(VA_BODY.as_bytes());
        let r = run_with(
            &[
                "headers", "--config", &config, "POST", VA_INQUIRY, "--data", &data,
            ],
            &[],
            stdin,
        )
        .ok();
        assert!(
            r.stderr.contains("contain the access token"),
            "{}",
            r.stderr
        );
        let names: Vec<&str> = r
            .stdout
            .lines()
            .map(|l| l.split_once(": ").expect("Name: value").0)
            .collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Authorization",
                "X-TIMESTAMP",
                "X-SIGNATURE",
                "X-PARTNER-ID",
                "X-EXTERNAL-ID",
                "CHANNEL-ID"
            ]
        );
        assert_eq!(r.line("Content-Type"), "application/json");
        assert_eq!(r.line("X-PARTNER-ID"), "SANDBOX-CLIENT");
        assert_eq!(r.line("CHANNEL-ID"), SANDBOX_CHANNEL);
        assert_eq!(r.line("X-EXTERNAL-ID").len(), 32);
        let token = r.line("Authorization");
        let token = token.strip_prefix("Bearer ").expect("a bearer token");
        let ts = r.line("X-TIMESTAMP");
        assert!(snapb2b::timestamp::parse(&ts).is_some(), "{ts}");

        // METHOD:EndpointUrl:AccessToken:lowercase(hex(sha256(minified body))):X-TIMESTAMP
        let minified: String = {
            let v: Value = serde_json::from_str(VA_BODY).unwrap();
            v.to_string() // no escapes or numbers to respell in this body
        };
        let hash: String = openssl::sha::sha256(minified.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let string_to_sign = format!("POST:{VA_INQUIRY}:{token}:{hash}:{ts}");
        let key = openssl::pkey::PKey::hmac(SANDBOX_SECRET.as_bytes()).unwrap();
        let mut signer =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha512(), &key).unwrap();
        signer.update(string_to_sign.as_bytes()).unwrap();
        use base64::Engine;
        let want = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
        assert_eq!(r.line("X-SIGNATURE"), want, "--data {data}");
    }
}

#[test]
fn customer_token_then_a_call_carrying_it() {
    let sb = sandbox();
    let dir = TempDir::new();
    let config = call_config(&sb, &dir, |_| {});
    let code = format!("SANDBOX-AUTH-cli-{}", std::process::id());
    let r = run(&["customer-token", "--config", &config, "--auth-code", &code]).ok();
    let first: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON line");
    assert_eq!(first["response_code"], "2007400");
    assert_eq!(
        first["customer_id"],
        code.trim_start_matches("SANDBOX-AUTH-")
    );
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert!(first["access_token_expires_at"].as_i64().unwrap() > 1_700_000_000);

    // The customer token from a file, sent with the call.
    let token_file = dir.write("customer-token", format!("{access}\n").as_bytes());
    let r = run(&[
        "call",
        "--config",
        &config,
        "POST",
        VA_INQUIRY,
        "--data",
        VA_BODY,
        "--customer-token-file",
        &token_file,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.line("responseCode"), "2002400");
    let bogus = dir.write("bogus-token", b"bm90LWlzc3VlZA");
    let r = run(&[
        "call",
        "--config",
        &config,
        "POST",
        VA_INQUIRY,
        "--data",
        VA_BODY,
        "--customer-token-file",
        &bogus,
    ]);
    assert_eq!(
        (r.code, r.line("responseCode")),
        (6, "4012402".to_string()),
        "{}",
        r.stdout
    );

    // The refresh token from the environment, once.
    let env = [("SNAPB2B_TEST_REFRESH", refresh)];
    let args = [
        "customer-token",
        "--config",
        &config,
        "--refresh-token-env",
        "SNAPB2B_TEST_REFRESH",
    ];
    let second: Value =
        serde_json::from_str(run_with(&args, &env, None).ok().stdout.trim()).unwrap();
    assert_ne!(second["access_token"], first["access_token"]);
    let again = run_with(&[&args[..], &["--error-json"]].concat(), &env, None);
    assert_eq!(again.code, 6, "{}", again.stderr);
    assert!(
        again.stderr.contains("4017400") && !again.stderr.contains(refresh),
        "{}",
        again.stderr
    );
    let error: Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(error["response_code"], "4017400");

    // Mistakes: exactly one grant; the library's checks; no value echoed.
    for (args, words) in [
        (
            vec!["customer-token", "--config", &config],
            "one of --auth-code",
        ),
        (
            vec![
                "customer-token",
                "--config",
                &config,
                "--auth-code",
                "a",
                "--refresh-token-env",
                "X",
            ],
            "cannot be combined",
        ),
        (
            vec![
                "customer-token",
                "--config",
                &config,
                "--auth-code",
                "SECRET code",
            ],
            "`auth_code` must be",
        ),
        (
            vec![
                "customer-token",
                "--config",
                &config,
                "--refresh-token",
                "x",
            ],
            "unknown option",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("SECRET"), "{}", r.stderr);
    }
}

#[test]
fn call_to_an_unknown_path_prints_the_answer_and_exits_6() {
    let sb = sandbox();
    let dir = TempDir::new();
    let config = call_config(&sb, &dir, |_| {});
    let r = run(&[
        "call",
        "--config",
        &config,
        "POST",
        "/v1.0/no-such-service",
        "--data",
        r#"{"a": 1}"#,
        "-H",
        "X-DEVICE-ID: cli-test",
        "--external-id",
        "CLI-TEST-0001",
    ]);
    assert_eq!(r.code, 6, "{}{}", r.stdout, r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("HTTP 404"));
    assert_eq!(r.line("X-EXTERNAL-ID"), "CLI-TEST-0001");
    assert_eq!(r.line("token-renewed"), "no");
    assert_eq!(r.line("attempts"), "1");
    // Status lines, a blank line, then the body as received.
    let (_, body) = r.stdout.split_once("\n\n").expect("a blank line");
    let body: Value = serde_json::from_str(body).expect("the sandbox answers JSON");
    assert_eq!(
        r.line("responseCode"),
        body["responseCode"].as_str().unwrap()
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("snapb2b: PROVIDER: POST /v1.0/no-such-service: ")
            && r.stderr.contains("HTTP 404"),
        "{}",
        r.stderr
    );
}

#[test]
fn call_mistakes_and_failures_exit_with_their_status() {
    let sb = sandbox();
    let dir = TempDir::new();
    let config = call_config(&sb, &dir, |_| {});
    let call = |extra: &[&str]| {
        let mut args = vec!["call", "--config", &config];
        args.extend_from_slice(extra);
        run(&args)
    };

    // Headers the library writes are refused, by the library, before sending.
    let r = call(&["POST", VA_INQUIRY, "-H", "X-SIGNATURE: forged"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("`X-SIGNATURE` is written by the library"),
        "{}",
        r.stderr
    );
    // A header without a colon, a bad body, no PATH: one line, value not shown.
    for (extra, want) in [
        (
            &["POST", VA_INQUIRY, "-H", "mysecretvalue"][..],
            "Name: value",
        ),
        (
            &["POST", VA_INQUIRY, "--data", "{mysecretvalue"],
            "not valid JSON",
        ),
        (&["POST"], "METHOD and PATH are required"),
    ] {
        let r = call(extra);
        assert_eq!(r.code, 1, "{extra:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(want), "{extra:?}: {}", r.stderr);
        assert!(!r.stderr.contains("mysecretvalue"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    assert_eq!(
        sb.stats()["by_client"]["SANDBOX-CLIENT"],
        Value::Null,
        "nothing sent"
    );

    // No channel_id: the key is named.
    let no_channel = call_config(&sb, &dir, |c| {
        c.as_object_mut().unwrap().remove("channel_id");
    });
    let r = run(&["call", "--config", &no_channel, "POST", VA_INQUIRY]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("`channel_id`"), "{}", r.stderr);

    // Nobody listening: TRANSPORT, and the message says the call was not sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = call_config(&sb, &dir, |c| {
        c["base_url"] = format!("https://127.0.0.1:{port}").into();
        c["timeout_ms"] = 2000.into();
    });
    let r = run(&[
        "call", "--config", &closed, "POST", VA_INQUIRY, "--data", VA_BODY,
    ]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.starts_with("snapb2b: TRANSPORT: "), "{}", r.stderr);
    assert!(r.stderr.contains("not sent"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn call_inquires_a_virtual_account() {
    let sb = sandbox();
    let dir = TempDir::new();
    let config = call_config(&sb, &dir, |_| {});
    let r = run(&[
        "call", "--config", &config, "POST", VA_INQUIRY, "--data", VA_BODY,
    ]);
    if r.stdout.starts_with("HTTP 404\n") {
        eprintln!("skipped: this sandbox has no {VA_INQUIRY} endpoint yet (answered 404)");
        return;
    }
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.lines().next(), Some("HTTP 200"));
    assert_eq!(r.line("responseCode"), "2002400");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

// ------------------------------------------------------------------ curl

/// Single-quoted words of the printed command (enough to check its parts).
fn quoted_words(command: &str) -> Vec<String> {
    command
        .replace(r"'\''", "\u{1}")
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(|w| w.replace('\u{1}', "'"))
        .collect()
}

fn have_curl() -> bool {
    Command::new("which")
        .arg("curl")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the printed command with `sh`, adding `--write-out` for the status;
/// returns (HTTP status, response body).
fn execute(command: &str) -> (u32, Value) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} --write-out '\\n%{{http_code}}'",
            command.trim_end()
        ))
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, status) = stdout.rsplit_once('\n').expect("status line");
    (
        status.parse().unwrap(),
        serde_json::from_str(body).expect("JSON answer"),
    )
}

#[test]
fn curl_prints_a_command_that_gets_a_token() {
    let sb = sandbox();
    let curl = have_curl();
    if !curl {
        eprintln!("no curl binary: printed commands are checked but not executed");
    }
    for provider in PROVIDER_NAMES {
        let config: snapb2b::config::Config = snapb2b::config::Config::parse(
            &sb.config_json(provider).to_string(),
            snapb2b::config::ConfigKind::OneShot,
        )
        .unwrap();
        let r = run(&["curl", "--config", path_str(&sb.config_path(provider))]).ok();
        assert!(
            r.stderr.contains("warning") && r.stderr.contains("credentials"),
            "{}",
            r.stderr
        );
        assert!(r.stdout.starts_with("curl "), "{}", r.stdout);
        let words = quoted_words(&r.stdout);
        assert!(words.contains(&config.token_url()), "{provider}: {words:?}");
        assert!(r
            .stdout
            .contains(&format!("--cacert '{}'", path_str(&sb.ca_file()))));
        assert!(r.stdout.contains("--max-time 10"), "{}", r.stdout);
        assert!(words.contains(&"Content-Type: application/json".to_string()));
        let header = |name: &str| {
            words
                .iter()
                .find_map(|w| w.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("{provider}: no {name} header in {words:?}"))
                .to_string()
        };
        let (ts_name, sig_name) = if provider == "klikoo" {
            ("Open-Api-Timestamp", "Open-Api-Signature")
        } else {
            assert_eq!(header("X-CLIENT-KEY"), config.client_id);
            ("X-TIMESTAMP", "X-SIGNATURE")
        };
        // The signature is the library's over the printed timestamp.
        let ts = header(ts_name);
        let key = config.load_key().unwrap();
        assert_eq!(
            header(sig_name),
            snapb2b::sign::b2b_signature(&key, &config.client_id, &ts).unwrap()
        );
        if curl {
            let (status, body) = execute(&r.stdout);
            assert_eq!(status, 200, "{provider}: {body}");
            let token = if provider == "klikoo" {
                &body["data"]["access_token"]
            } else {
                &body["accessToken"]
            };
            assert!(
                token.as_str().is_some_and(|t| !t.is_empty()),
                "{provider}: {body}"
            );
        }
    }
}

#[test]
fn curl_quotes_awkward_values_safely() {
    let sb = sandbox();
    let dir = TempDir::new();
    let mut config = sb.config_json("klikoo");
    let secret = "it's $(touch pwned) `x` \"q\" \\ ;'";
    config["client_secret"] = Value::String(secret.into());
    config["timeout_ms"] = Value::from(2_500);
    let config_file = dir.write("config.json", config.to_string().as_bytes());
    let r = run(&["curl", "--config", &config_file]).ok();
    assert!(r.stdout.contains("--max-time 2.5"), "{}", r.stdout);
    assert!(!r.stderr.contains(secret));
    let body = quoted_words(&r.stdout)
        .into_iter()
        .find(|w| w.starts_with('{'))
        .expect("body word");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["additional_info"]["client_secret"], secret);
    if have_curl() {
        // The shell passes the secret through untouched: the sandbox reads it
        // and refuses it as the wrong secret (not a shell error, no command run).
        let cwd = TempDir::new();
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{} --write-out '\\n%{{http_code}}'",
                r.stdout.trim_end()
            ))
            .current_dir(&cwd.0)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.ends_with("\n401"), "{stdout}");
        assert!(stdout.contains("Kredensial tidak sesuai"), "{stdout}");
        assert!(!cwd.0.join("pwned").exists());
    }
}

// ----------------------------------------------------------- inputs

fn run_os(args: &[&std::ffi::OsStr]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("snapb2b runs");
    Run::from(out)
}

#[test]
fn file_errors_are_the_os_message_for_every_input() {
    let dir = TempDir::new();
    let missing = dir.0.join("missing.pem");
    let missing = path_str(&missing);
    let a_dir = path_str(&dir.0);
    let ts = "2024-12-31T10:11:40+07:00";
    let (private, _) = key_pair();
    for (path, reason) in [
        (missing, "No such file or directory"),
        (a_dir, "Is a directory"),
    ] {
        for (args, code) in [
            (&["sign", "--client-id", "C", "--key", path][..], 2),
            (
                &[
                    "verify",
                    "--public-key",
                    path,
                    "--client-id",
                    "C",
                    "--timestamp",
                    ts,
                    "--signature",
                    "x",
                ],
                2,
            ),
            (&["token", "--config", path], 1),
            (&["curl", "--config", path], 1),
            (&["minify", path], 1),
            (
                &[
                    "service-sign",
                    "--method",
                    "POST",
                    "--path",
                    "/x",
                    "--body-file",
                    path,
                    "--key-env",
                    "K",
                ],
                1,
            ),
            (
                &[
                    "service-sign",
                    "--method",
                    "POST",
                    "--path",
                    "/x",
                    "--secret-file",
                    path,
                    "--access-token-env",
                    "T",
                ],
                1,
            ),
        ] {
            let r = run_with(args, &[("K", &private), ("T", "tok")], None);
            assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
            assert!(
                r.stderr.ends_with(&format!(": {reason}\n")) && r.stderr.lines().count() == 1,
                "{args:?}: {}",
                r.stderr
            );
            assert!(!r.stderr.contains("os error") && !r.stderr.contains(path));
        }
    }
}

#[test]
fn paths_that_are_not_utf8_work() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new();
    let (private, public) = key_pair();
    let name = |n: &[u8]| dir.0.join(OsStr::from_bytes(n));
    let key = name(b"\xffkey.pem");
    std::fs::write(&key, &private).unwrap();
    let public_key = name(b"pub\xfe.pem");
    std::fs::write(&public_key, &public).unwrap();
    let json = name(b"body\xff.json");
    std::fs::write(&json, b"{ \"a\" : 1 }").unwrap();
    let ts = "2024-12-31T10:11:40+07:00";

    let os = |s: &'static str| OsStr::new(s);
    let mut with_key = b"--key=".to_vec();
    with_key.extend_from_slice(key.as_os_str().as_bytes());
    let r = run_os(&[
        os("sign"),
        os("--client-id"),
        os("C"),
        os("--timestamp"),
        os(ts),
        OsStr::from_bytes(&with_key),
    ])
    .ok();
    let signature = r.line("X-SIGNATURE");
    let r = run_os(&[
        os("verify"),
        os("--public-key"),
        public_key.as_os_str(),
        os("--client-id"),
        os("C"),
        os("--timestamp"),
        os(ts),
        os("--signature"),
        OsStr::new(&signature),
        os("--max-skew-s"),
        os("0"),
    ])
    .ok();
    assert_eq!(r.stdout, "valid\n");
    let r = run_os(&[os("minify"), json.as_os_str()]).ok();
    assert_eq!(r.stdout, "{\"a\":1}\n");

    // Elsewhere non-UTF-8 is refused, without echoing it.
    let r = run_os(&[
        os("sign"),
        os("--key"),
        key.as_os_str(),
        os("--client-id"),
        OsStr::from_bytes(b"secr\xffet"),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "snapb2b: INVALID_ARGUMENT: sign: --client-id needs UTF-8 text (value not shown) (see snapb2b sign --help)\n"
    );
    let r = run_os(&[OsStr::from_bytes(b"secr\xffet")]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("secr"), "{}", r.stderr);
}

#[test]
fn stdin_is_read_up_to_one_mib() {
    const MIB: usize = 1 << 20;
    // Exactly 1 MiB of JSON (a string) is read in full.
    let mut json = vec![b'a'; MIB];
    json[0] = b'"';
    json[MIB - 1] = b'"';
    let r = run_with(&["minify"], &[], Some(&json)).ok();
    assert_eq!(r.stdout.len(), MIB + 1);
    // One byte more is refused, stdin and files alike.
    let mut json = vec![b' '; MIB + 1];
    json[0] = b'1';
    let r = run_with(&["minify", "-"], &[], Some(&json));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "snapb2b: INVALID_ARGUMENT: the JSON input: cannot read stdin: larger than 1 MiB, more than any input here\n"
    );
    let dir = TempDir::new();
    let file = dir.write("big.json", &json);
    let r = run(&[
        "service-sign",
        "--method",
        "POST",
        "--path",
        "/x",
        "--body-file",
        &file,
        "--secret-env",
        "S",
        "--access-token-env",
        "S",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.ends_with(
            "cannot read the file (path not shown): larger than 1 MiB, more than any input here\n"
        ),
        "{}",
        r.stderr
    );
}

// ------------------------------------------------------------------- man

/// Options (`-h`, `--key`, ...) named in `text`.
fn options_in(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| {
            let rest = w.trim_start_matches('-');
            (1..=2).contains(&(w.len() - rest.len()))
                && rest.starts_with(|c: char| c.is_ascii_alphabetic())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_man_page_renders_and_matches_every_help_text() {
    let dir = TempDir::new();
    let page = dir.write("snapb2b.1", run(&["man"]).ok().stdout.as_bytes());
    let rendered = match Command::new("man")
        .args(["-l", &page])
        .env("LC_ALL", "C")
        .env("MANWIDTH", "200")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        }
        Err(_) => {
            eprintln!("man is not installed (apt-get install man-db): rendering not checked");
            return;
        }
    };
    // No warnings at groff's strictest.
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-ww", "-z", &page])
        .output()
    {
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    }

    let overview = run(&["--help"]).ok().stdout;
    let commands: Vec<&str> = overview
        .lines()
        .skip_while(|l| *l != "commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(commands.contains(&"man") && commands.contains(&"sandbox"));
    let mut help = overview.clone();
    for c in &commands {
        let usage = run(&[c, "--help"]).ok().stdout;
        assert!(
            rendered.lines().any(|l| l.trim() == *c),
            "no section for {c}"
        );
        // Each usage line is in the page as --help prints it.
        for line in usage.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                rendered.contains(line.trim_end()),
                "{c}: {line:?} not in the page"
            );
        }
        help.push_str(&usage);
    }
    assert_eq!(options_in(&rendered), options_in(&help));
    assert!(options_in(&help).contains("--passphrase-file"));
}

// ----------------------------------------------------------- keygen and pubkey

fn openssl_cli(args: &[&str], stdin: Option<&[u8]>) -> Option<Output> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    Some(child.wait_with_output().unwrap())
}

#[test]
fn keygen_writes_a_private_key_0600_and_never_overwrites_by_accident() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let key = dir.0.join("key.pem");
    let r = run(&["keygen", "--out", path_str(&key)]).ok();
    assert!(r.stdout.is_empty(), "the key is not printed: {}", r.stdout);
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
    // Loads as the library loads keys, and as openssl does.
    let parsed = snapb2b::keys::PrivateKey::parse(&pem, None).unwrap();
    assert_eq!(parsed.bits(), 2048);
    if let Some(out) = openssl_cli(&["pkey", "-in", path_str(&key), "-noout", "-check"], None) {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Not replaced without --force; replaced with it.
    let r = run(&["keygen", "--out", path_str(&key)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), pem);
    run(&[
        "keygen",
        "--out",
        path_str(&key),
        "--force",
        "--bits",
        "3072",
    ])
    .ok();
    let replaced = std::fs::read_to_string(&key).unwrap();
    assert_ne!(replaced, pem);
    assert_eq!(
        snapb2b::keys::PrivateKey::parse(&replaced, None)
            .unwrap()
            .bits(),
        3072
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A symbolic link is not followed: the file it points to stays as it was.
    let victim = dir.0.join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = dir.0.join("link.pem");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let r = run(&["keygen", "--out", path_str(&link)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    run(&["keygen", "--out", path_str(&link), "--force"]).ok();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(!std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // Mistakes.
    for args in [
        &["keygen", "--out", "-"][..],
        &["keygen"],
        &[
            "keygen",
            "--out",
            path_str(&dir.0.join("x.pem")),
            "--bits",
            "1024",
        ],
        &["keygen", "--out", path_str(&dir.0.join("missing/x.pem"))],
    ] {
        let r = run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
    }
    assert!(!dir.0.join("x.pem").exists());
}

#[test]
fn pubkey_prints_what_openssl_derives_in_each_format() {
    let dir = TempDir::new();
    let key = dir.0.join("key.pem");
    run(&["keygen", "--out", path_str(&key)]).ok();
    let pem = run(&["pubkey", "--key", path_str(&key)]).ok().stdout;
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let der = run(&["pubkey", "--key", path_str(&key), "--format", "base64-der"])
        .ok()
        .stdout;
    let b64pem = run(&["pubkey", "--key", path_str(&key), "--format", "base64-pem"])
        .ok()
        .stdout;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(b64.decode(b64pem.trim()).unwrap(), pem.as_bytes());
    let der_bytes = b64.decode(der.trim()).unwrap();
    // The key text itself base64-encoded is accepted as a key.
    let key_b64 = b64.encode(std::fs::read(&key).unwrap());
    let again = run_with(&["pubkey", "--key", "-"], &[], Some(key_b64.as_bytes())).ok();
    assert_eq!(again.stdout, pem);
    let Some(expected) = openssl_cli(&["rsa", "-in", path_str(&key), "-pubout"], None) else {
        eprintln!("no openssl binary: not cross-checked");
        return;
    };
    assert!(expected.status.success());
    assert_eq!(
        pem.as_bytes(),
        expected.stdout.as_slice(),
        "matches openssl rsa -pubout"
    );
    let read = openssl_cli(&["pkey", "-pubin", "-noout", "-text"], Some(pem.as_bytes())).unwrap();
    assert!(read.status.success());
    assert!(String::from_utf8_lossy(&read.stdout).contains("2048 bit"));
    let der_read = openssl_cli(
        &["pkey", "-pubin", "-inform", "DER", "-outform", "PEM"],
        Some(&der_bytes),
    )
    .unwrap();
    assert_eq!(der_read.stdout, expected.stdout);
    let r = run(&["pubkey", "--key", path_str(&key), "--format", "hex"]);
    assert_eq!(r.code, 1);
}

#[test]
fn a_base64_pem_key_gets_a_token_from_midtrans_and_the_bnc_profile() {
    use base64::Engine as _;
    let sb = sandbox();
    let dir = TempDir::new();
    let pem = std::fs::read(sb.dir().join("merchant-key.pem")).unwrap();
    let wrapped = base64::engine::general_purpose::STANDARD.encode(pem);
    for provider in ["midtrans", "bnc"] {
        let mut c = sb.config_json(provider);
        c.as_object_mut().unwrap().remove("private_key_file");
        c["private_key"] = json!(wrapped);
        let file = dir.write(&format!("{provider}.json"), c.to_string().as_bytes());
        let r = run(&["token", "--config", &file]).ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["provider"], provider);
        assert_eq!(v["expires_in"], 900);
        assert!(v.get("additional_info").is_some());
    }
}
