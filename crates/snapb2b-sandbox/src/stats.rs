//! Request and connection counters, so tests can check how many TLS connections
//! and token requests a client made (e.g. that keep-alive and token caching work).

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
        let v = s.snapshot();
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
