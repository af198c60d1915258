//! Owned copies of secrets that are wiped when dropped.
//!
//! Keys, passphrases and tokens pass through Rust-owned buffers (normalised
//! key text, decoded DER, request bodies). Wiping them on drop keeps them out
//! of freed heap memory that a later allocation or a core dump could expose.

use std::ops::Deref;

/// Overwrites `bytes` with zeros in a way the optimiser may not elide.
pub fn wipe_bytes(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Zeroes a `String`'s bytes in place and empties it.
pub fn wipe_string(s: &mut String) {
    let mut bytes = std::mem::take(s).into_bytes();
    let cap = bytes.capacity();
    bytes.resize(cap, 0);
    wipe_bytes(&mut bytes);
}

/// A byte buffer that is zeroed when dropped.
#[derive(Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(bytes)
    }
}

impl Deref for SecretBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // Wipe the whole allocation, not only the initialised length.
        let cap = self.0.capacity();
        self.0.resize(cap, 0);
        wipe_bytes(&mut self.0);
    }
}

/// A string that is zeroed when dropped; `Debug` never shows its content.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: String) -> SecretString {
        SecretString(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> SecretString {
        SecretString(s.to_string())
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        wipe_string(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut v = b"secret".to_vec();
        wipe_bytes(&mut v);
        assert_eq!(v, vec![0u8; 6]);
    }

    #[test]
    fn debug_hides_content() {
        let s = SecretString::from("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }
}
