//! `snapb2b::config::Config::parse(json, ConfigKind::OneShot / Client)`.
//!
//! Input: the config JSON (bytes as lossy UTF-8); both kinds parse it.
//! Properties: never panics; a failure is INVALID_ARGUMENT and never echoes
//! `private_key`, `private_key_passphrase` or `client_secret`; a success
//! holds the documented invariants (https unless allow_http, token_path
//! starting with `/`, printable-ASCII client_id, bounded timeouts) and
//! anything the OneShot kind accepts the Client kind accepts too.
//! (`load_key` is not called: it would read files named by the input.)
#![no_main]

mod common;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use snapb2b::config::{Config, ConfigKind};
use snapb2b::Status;

const SECRET_KEYS: [&str; 3] = ["private_key", "private_key_passphrase", "client_secret"];

fn check(json: &str, kind: ConfigKind) -> bool {
    match Config::parse(json, kind) {
        Ok(c) => {
            assert!(
                c.base_url.starts_with("https://")
                    || (c.allow_http && c.base_url.starts_with("http://")),
                "accepted base_url scheme"
            );
            assert!(!c.base_url.ends_with('/'), "base_url keeps a trailing slash");
            assert!(c.token_path.starts_with('/'));
            assert!(c.client_id.chars().all(|ch| ch.is_ascii_graphic() || ch == ' '));
            assert!(c.timeout <= Duration::from_millis(300_000), "{:?}", c.timeout);
            assert!(c.connect_timeout <= c.timeout);
            assert!(c.client.max_retries <= 10);
            let url = c.token_url();
            assert!(url.starts_with(&c.base_url));
            if kind == ConfigKind::OneShot {
                assert_eq!(c.client, Default::default());
            }
            true
        }
        Err(e) => {
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{e:?}");
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) {
                for name in SECRET_KEYS {
                    if let Some(Value::String(secret)) = map.get(name) {
                        // An unknown key is named in the message by design;
                        // a secret equal to some key name proves nothing.
                        if !map.keys().any(|k| k.contains(secret.as_str())) {
                            common::assert_not_echoed(&e, name, secret);
                        }
                    }
                }
            }
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let json = common::text(data);
    let one_shot = check(&json, ConfigKind::OneShot);
    let client = check(&json, ConfigKind::Client);
    assert!(!one_shot || client, "OneShot accepts what Client refuses");
});
