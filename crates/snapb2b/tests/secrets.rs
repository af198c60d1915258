//! No error message, error JSON, cache file or debug output contains key
//! material, passphrases, client secrets or tokens. Each failure path is
//! provoked with recognisable test secrets and every output is scanned.

use serde_json::json;
use snapb2b::client::Client;
use snapb2b::config::{Config, ConfigKind};
use snapb2b::keys::PrivateKey;
use snapb2b_sandbox::{Sandbox, SandboxOptions};

const PASSPHRASE: &str = "PASSPHRASE-7f3a9";
const SECRET: &str = "CLIENTSECRET-c41e2";

struct Secrets {
    key_pem: String,
    key_body: String,
}

impl Secrets {
    fn new() -> Secrets {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pkey = openssl::pkey::PKey::from_rsa(rsa).unwrap();
        let key_pem = String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let key_body = key_pem.lines().nth(1).unwrap().to_string();
        Secrets { key_pem, key_body }
    }

    fn assert_absent(&self, what: &str, text: &str, tokens: &[String]) {
        let mut needles = vec![
            PASSPHRASE.to_string(),
            SECRET.to_string(),
            self.key_body[..24].to_string(),
        ];
        // Any 24-character run of the key body, not only the first line.
        let flat: String = self
            .key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        needles.extend(
            flat.as_bytes()
                .chunks(64)
                .map(|c| String::from_utf8_lossy(&c[..24.min(c.len())]).into_owned()),
        );
        needles.extend(tokens.iter().cloned());
        for n in needles {
            assert!(!text.contains(&n), "{what} contains a secret ({n}): {text}");
        }
    }
}

#[test]
fn errors_debug_output_and_cache_files_hold_no_secrets() {
    let s = Secrets::new();
    let sb = Sandbox::start(SandboxOptions {
        slow_ms: 1_000,
        ..Default::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("snapb2b-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("token.json");
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();

    let base = sb.config_json("klikoo");
    let with = |changes: serde_json::Value| {
        let mut c = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c["client_secret"] = json!(SECRET);
        c.to_string()
    };
    let encrypted = {
        let pkey = openssl::pkey::PKey::private_key_from_pem(s.key_pem.as_bytes()).unwrap();
        String::from_utf8(
            pkey.private_key_to_pem_pkcs8_passphrase(
                openssl::symm::Cipher::aes_256_cbc(),
                PASSPHRASE.as_bytes(),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let truncated = s.key_pem[..s.key_pem.len() / 2].to_string();
    let configs = vec![
        // Key problems, the key given inline.
        with(json!({"private_key_file": null, "private_key": truncated})),
        with(json!({"private_key_file": null, "private_key": encrypted})),
        with(
            json!({"private_key_file": null, "private_key": encrypted, "private_key_passphrase": "wrong"}),
        ),
        with(json!({"private_key_file": null, "private_key": s.key_pem.replace("MII", "!!!")})),
        // Key text where a path belongs, or in other keys.
        with(json!({"private_key_file": s.key_pem})),
        with(json!({"ca_file": s.key_pem})),
        with(json!({"provider": s.key_pem})),
        with(json!({"timestamp_style": PASSPHRASE})),
        with(json!({"timeout_ms": SECRET})),
        with(json!({"unknown": SECRET})),
        // Provider refusals: the key the sandbox does not know, a wrong secret.
        with(json!({"private_key_file": null, "private_key": s.key_pem})),
        with(json!({"client_secret": "wrong"})),
        // Transport faults.
        with(json!({"client_id": "FAULT-SLOW", "timeout_ms": 300})),
        with(json!({"ca_file": null})),
    ];
    for config in &configs {
        match snapb2b::token::get_token(config) {
            Err(e) => outputs.push((
                format!("error for {config:.60}"),
                format!("{e} {} {e:?}", e.to_json()),
            )),
            Ok(t) => tokens.push(t.access_token.expose().to_string()),
        }
        if let Ok(c) = Config::parse(config, ConfigKind::OneShot) {
            outputs.push(("Config debug".into(), format!("{c:?}")));
        }
    }

    // A real token, through the caching client with a cache file.
    let mut good = base.clone();
    good["cache_file"] = json!(cache.to_str().unwrap());
    good["client_secret"] = json!(snapb2b_sandbox::KLIKOO_CLIENT_SECRET);
    let client = Client::new(&good.to_string()).unwrap();
    let (token, _) = client.token().unwrap();
    tokens.push(token.access_token.expose().to_string());
    outputs.push(("Token debug".into(), format!("{token:?}")));
    let key = PrivateKey::parse(&s.key_pem, None).unwrap();
    outputs.push(("PrivateKey debug".into(), format!("{key:?}")));
    let cache_text = std::fs::read_to_string(&cache).unwrap();
    assert!(
        cache_text.contains(&tokens[tokens.len() - 1]),
        "the cache file holds the token itself"
    );
    s.assert_absent("cache file", &cache_text, &[]);
    assert!(!cache_text.contains(snapb2b_sandbox::KLIKOO_CLIENT_SECRET));

    assert!(outputs.len() > 14, "every case produced output");
    for (what, text) in &outputs {
        s.assert_absent(what, text, &tokens);
    }
    std::fs::remove_dir_all(dir).ok();
}
