//! Request and connection counters, so tests can check how many TLS connections,
//! token requests and service calls a client made (e.g. that keep-alive, token
//! caching and retries work).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

/// Distinct paths / client ids tracked; the rest are summed under [`OTHER_KEY`]
/// so a peer sending random values cannot grow memory without bound.
const MAX_KEYS: usize = 1024;
pub const OTHER_KEY: &str = "(other)";

#[derive(Default)]
struct Counters {
    connections: u64,
    requests: u64,
    token_requests: u64,
    tokens_issued: u64,
    by_path: BTreeMap<String, u64>,
    by_client: BTreeMap<String, u64>,
    service_calls: u64,
    service_ok: u64,
    service_401: u64,
    service_409: u64,
    tokens_revoked: u64,
    service_by_client: BTreeMap<String, u64>,
    customer_token_requests: u64,
    customer_tokens_issued: u64,
}

#[derive(Default)]
pub struct Stats {
    counters: Mutex<Counters>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_KEYS {
        map.insert(key.to_string(), 1);
    } else {
        *map.entry(OTHER_KEY.to_string()).or_insert(0) += 1;
    }
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Counters> {
        // A panicking connection thread must not take the counters down with it.
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An accepted TCP connection (before any TLS handshake).
    pub fn connection(&self) {
        self.lock().connections += 1;
    }

    /// A request to anything but the `/sandbox/...` control endpoints.
    pub fn request(&self, path: &str) {
        let mut c = self.lock();
        c.requests += 1;
        bump(&mut c.by_path, path);
    }

    /// A request to a token endpoint, with the client id it named, if any.
    pub fn token_request(&self, client_id: Option<&str>) {
        let mut c = self.lock();
        c.token_requests += 1;
        if let Some(id) = client_id {
            bump(&mut c.by_client, id);
        }
    }

    /// A service call read, with the client id of its token (if the sandbox
    /// issued it) and the status answered (none: held or dropped).
    pub fn service_call(&self, client_id: Option<&str>, status: Option<u16>) {
        let mut c = self.lock();
        c.service_calls += 1;
        match status {
            Some(200) => c.service_ok += 1,
            Some(401) => c.service_401 += 1,
            Some(409) => c.service_409 += 1,
            _ => {}
        }
        if let Some(id) = client_id {
            bump(&mut c.service_by_client, id);
        }
    }

    /// A request to a customer (B2B2C) token endpoint; `issued` when it
    /// was answered with tokens.
    pub fn customer_token_request(&self, issued: bool) {
        let mut c = self.lock();
        c.customer_token_requests += 1;
        if issued {
            c.customer_tokens_issued += 1;
        }
    }

    pub fn tokens_revoked(&self, n: u64) {
        self.lock().tokens_revoked += n;
    }

    /// A response carrying a token was written in full.
    pub fn token_issued(&self) {
        self.lock().tokens_issued += 1;
    }

    pub fn reset(&self) {
        *self.lock() = Counters::default();
    }

    pub fn snapshot(&self) -> Value {
        let c = self.lock();
        json!({
            "connections": c.connections,
            "requests": c.requests,
            "token_requests": c.token_requests,
            "tokens_issued": c.tokens_issued,
            "by_path": c.by_path,
            "by_client": c.by_client,
            "service_calls": c.service_calls,
            "service_ok": c.service_ok,
            "service_401": c.service_401,
            "service_409": c.service_409,
            "tokens_revoked": c.tokens_revoked,
            "service_by_client": c.service_by_client,
            "customer_token_requests": c.customer_token_requests,
            "customer_tokens_issued": c.customer_tokens_issued,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_caps_keys() {
        let s = Stats::default();
        s.connection();
        for i in 0..(MAX_KEYS + 5) {
            s.request(&format!("/p{i}"));
        }
        s.token_request(Some("A"));
        s.token_request(None);
        s.token_issued();
        s.service_call(Some("A"), Some(200));
        s.service_call(Some("A"), Some(401));
        s.service_call(None, Some(409));
        s.service_call(Some("B"), None);
        s.tokens_revoked(3);
        s.customer_token_request(true);
        s.customer_token_request(false);
        let v = s.snapshot();
        assert_eq!(v["customer_token_requests"], 2);
        assert_eq!(v["customer_tokens_issued"], 1);
        assert_eq!(v["service_calls"], 4);
        assert_eq!(v["service_ok"], 1);
        assert_eq!(v["service_401"], 1);
        assert_eq!(v["service_409"], 1);
        assert_eq!(v["tokens_revoked"], 3);
        assert_eq!(v["service_by_client"], json!({"A": 2, "B": 1}));
        assert_eq!(v["connections"], 1);
        assert_eq!(v["requests"], (MAX_KEYS + 5) as u64);
        assert_eq!(v["token_requests"], 2);
        assert_eq!(v["tokens_issued"], 1);
        assert_eq!(v["by_path"][OTHER_KEY], 5);
        assert_eq!(v["by_client"]["A"], 1);
        s.reset();
        assert_eq!(s.snapshot()["requests"], 0);
    }
}
