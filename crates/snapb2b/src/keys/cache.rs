//! The one-shot path's cache of parsed keys.

use std::sync::{Arc, Mutex};

use super::PrivateKey;
use crate::error::Result;

/// Bounded cache of parsed keys for one-shot signing, so a caller passing the
/// same PEM string on every call does not pay for parsing each time (OpenSSL 3
/// takes about as long to parse a key as to sign with it).
pub struct KeyCache {
    entries: Mutex<Vec<([u8; 32], Arc<PrivateKey>)>>,
    capacity: usize,
}

impl KeyCache {
    pub const fn new(capacity: usize) -> KeyCache {
        KeyCache {
            entries: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// Returns the parsed key for `text`, parsing it on a miss. Failures are
    /// not cached. The cache key is a SHA-256 of the text, so no key text is
    /// kept.
    pub fn get(&self, text: &str, passphrase: Option<&str>) -> Result<Arc<PrivateKey>> {
        let id = Self::fingerprint(text, passphrase);
        if let Some(hit) = self.lookup(id) {
            return Ok(hit);
        }
        let key = Arc::new(PrivateKey::parse(text, passphrase)?);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if !entries.iter().any(|(k, _)| *k == id) {
            if entries.len() >= self.capacity {
                entries.pop();
            }
            entries.insert(0, (id, key.clone()));
        }
        Ok(key)
    }

    fn lookup(&self, id: [u8; 32]) -> Option<Arc<PrivateKey>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let pos = entries.iter().position(|(k, _)| *k == id)?;
        if pos > 0 {
            let e = entries.remove(pos);
            entries.insert(0, e);
        }
        Some(entries[0].1.clone())
    }

    fn fingerprint(text: &str, passphrase: Option<&str>) -> [u8; 32] {
        // A digest, so the cache keeps no key text; the full 32 bytes, so two
        // keys can never be confused.
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(text.as_bytes());
        hasher.update(&[0]);
        hasher.update(passphrase.unwrap_or("").as_bytes());
        hasher.finish()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process-wide cache used by one-shot signing.
pub static ONE_SHOT_KEYS: KeyCache = KeyCache::new(16);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::rsa_pem;

    #[test]
    fn cache_returns_the_same_parsed_key_and_stays_bounded() {
        let cache = KeyCache::new(2);
        let (a, _) = rsa_pem(2048);
        let (b, _) = rsa_pem(2048);
        let (c, _) = rsa_pem(2048);
        let k1 = cache.get(&a, None).unwrap();
        let k2 = cache.get(&a, None).unwrap();
        assert!(Arc::ptr_eq(&k1, &k2));
        cache.get(&b, None).unwrap();
        cache.get(&c, None).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.get("garbage", None).is_err());
        assert_eq!(cache.len(), 2);
    }
}
