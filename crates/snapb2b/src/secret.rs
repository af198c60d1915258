//! Owned copies of secrets that are wiped when dropped.
//!
//! Keys, passphrases and tokens pass through Rust-owned buffers (normalised
//! key text, decoded DER, request bodies, response bodies, parsed JSON).
//! Wiping them on drop keeps them out of freed heap memory that a later
//! allocation or a core dump could expose.

use std::io::{self, Read, Write};
use std::ops::{Deref, DerefMut};

use serde_json::Value;

/// Overwrites `bytes` with zeros in a way the optimiser may not elide.
pub fn wipe_bytes(bytes: &mut [u8]) {
    // glibc's explicit_bzero: a memset the compiler may not remove, at
    // memset's speed (a volatile store per byte cost a service call's
    // result several thousand instructions).
    // SAFETY: a valid, exclusive slice; exactly its length is written.
    unsafe { libc::explicit_bzero(bytes.as_mut_ptr().cast(), bytes.len()) };
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

    /// `len` zero bytes, to be filled in place (e.g. by a decoder).
    pub fn zeroed(len: usize) -> SecretBytes {
        SecretBytes(vec![0; len])
    }

    /// Shortens to `len` bytes; the allocation, wiped whole on drop, stays.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

impl DerefMut for SecretBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
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

impl From<SecretBuf> for SecretBytes {
    /// Takes the buffer's allocation over without copying it.
    fn from(mut buf: SecretBuf) -> SecretBytes {
        let mut storage = std::mem::take(&mut buf.storage);
        storage.truncate(buf.len);
        SecretBytes(storage)
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

/// Zeroes every string in a JSON tree (object keys included) and empties
/// it. `Value`'s own drop frees strings unwiped.
pub fn wipe_value(v: &mut Value) {
    match v {
        Value::String(s) => wipe_string(s),
        Value::Array(items) => {
            for item in items.iter_mut() {
                wipe_value(item);
            }
        }
        Value::Object(map) => {
            // Keys cannot be mutated in place: take each entry out to wipe it.
            for (mut key, mut value) in std::mem::take(map) {
                wipe_string(&mut key);
                wipe_value(&mut value);
            }
        }
        // Numbers and literals hold no secret text.
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    *v = Value::Null;
}

/// A parsed or built JSON tree whose strings are wiped when dropped.
#[derive(Default)]
pub struct SecretJson(pub Value);

impl SecretJson {
    /// Parses `bytes`; `None` when they are not JSON. A tree serde_json
    /// abandons half-built on a parse error is freed unwiped (its internals).
    pub fn parse(bytes: &[u8]) -> Option<SecretJson> {
        serde_json::from_slice(bytes).ok().map(SecretJson)
    }

    /// Serialises into a wiping buffer, so no reallocated copy is left.
    pub fn to_secret_buf(&self) -> serde_json::Result<SecretBuf> {
        let mut out = SecretBuf::with_capacity(256);
        serde_json::to_writer(&mut out, &self.0)?;
        Ok(out)
    }
}

impl Deref for SecretJson {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl DerefMut for SecretJson {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.0
    }
}

impl Drop for SecretJson {
    fn drop(&mut self) {
        wipe_value(&mut self.0);
    }
}

/// A growable byte buffer that is zeroed when dropped and, unlike a `Vec`,
/// when it grows: the old allocation is wiped before it is freed, so growing
/// leaves no stray copy of what it held.
#[derive(Default)]
pub struct SecretBuf {
    /// Fully initialised (zero-filled past `len`), so reads can land in it
    /// without `unsafe`; its whole length is wiped when retired.
    storage: Vec<u8>,
    len: usize,
}

/// Smallest allocation after the first growth: a token answer or request
/// body fits without growing again.
const MIN_SECRET_BUF: usize = 1024;

impl SecretBuf {
    pub fn new() -> SecretBuf {
        SecretBuf::default()
    }

    pub fn with_capacity(capacity: usize) -> SecretBuf {
        SecretBuf {
            storage: vec![0; capacity],
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.reserve(data.len());
        self.storage[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
    }

    /// Makes room for `additional` more bytes, at least doubling the
    /// allocation so a byte-by-byte fill copies O(n) bytes in total.
    pub fn reserve(&mut self, additional: usize) {
        let needed = self
            .len
            .checked_add(additional)
            .expect("SecretBuf size overflows usize");
        if needed <= self.storage.len() {
            return;
        }
        let capacity = needed.max(2 * self.storage.len()).max(MIN_SECRET_BUF);
        let mut grown = vec![0; capacity];
        grown[..self.len].copy_from_slice(&self.storage[..self.len]);
        retire(std::mem::replace(&mut self.storage, grown));
    }

    /// Appends everything `reader` yields, reading straight into the buffer
    /// (no intermediate stack buffer holds a copy). More than `limit` bytes
    /// in total is an `InvalidData` error.
    pub fn read_from(&mut self, reader: &mut impl Read, limit: usize) -> io::Result<()> {
        loop {
            if self.len > limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("more than {limit} bytes"),
                ));
            }
            if self.len == self.storage.len() {
                self.reserve(1);
            }
            // One byte past the limit is enough to tell it was exceeded.
            let end = self.storage.len().min(limit + 1);
            match reader.read(&mut self.storage[self.len..end]) {
                Ok(0) => return Ok(()),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl From<Vec<u8>> for SecretBuf {
    /// Takes ownership without copying; the whole allocation is wiped later.
    fn from(mut bytes: Vec<u8>) -> SecretBuf {
        let len = bytes.len();
        bytes.resize(bytes.capacity(), 0);
        SecretBuf {
            storage: bytes,
            len,
        }
    }
}

impl From<&[u8]> for SecretBuf {
    fn from(bytes: &[u8]) -> SecretBuf {
        let mut buf = SecretBuf::with_capacity(bytes.len());
        buf.extend_from_slice(bytes);
        buf
    }
}

impl Clone for SecretBuf {
    fn clone(&self) -> SecretBuf {
        SecretBuf::from(&self[..])
    }
}

impl Deref for SecretBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.storage[..self.len]
    }
}

impl Write for SecretBuf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for SecretBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBuf({} bytes)", self.len)
    }
}

impl Drop for SecretBuf {
    fn drop(&mut self) {
        retire(std::mem::take(&mut self.storage));
    }
}

/// Wipes an allocation a [`SecretBuf`] no longer uses, then frees it.
fn retire(mut storage: Vec<u8>) {
    wipe_bytes(&mut storage);
    #[cfg(test)]
    tests::RETIRED.with(|r| r.borrow_mut().push(storage.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// Copies of every allocation a SecretBuf retired on this thread, as
        /// they were just before being freed.
        pub(super) static RETIRED: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    fn take_retired() -> Vec<Vec<u8>> {
        RETIRED.with(|r| std::mem::take(&mut *r.borrow_mut()))
    }

    #[test]
    fn secret_buf_wipes_each_old_allocation_as_it_grows() {
        take_retired();
        let mut buf = SecretBuf::new();
        let chunk = b"token-0123456789";
        let mut want = Vec::new();
        for _ in 0..200 {
            buf.extend_from_slice(chunk);
            want.extend_from_slice(chunk);
        }
        assert_eq!(&buf[..], &want[..]);
        let retired = take_retired();
        // 0 -> 1024 -> 2048 -> 4096: two non-empty allocations left behind,
        // each wiped in full before it was freed.
        let sizes: Vec<usize> = retired.iter().map(Vec::len).collect();
        assert_eq!(sizes, [0, 1024, 2048], "{sizes:?}");
        assert!(retired.iter().all(|r| r.iter().all(|&b| b == 0)));
        assert_eq!(buf.capacity(), 4096);
        drop(buf);
        let dropped = take_retired();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].len(), 4096);
        assert!(dropped[0].iter().all(|&b| b == 0));
    }

    #[test]
    fn secret_buf_serialises_and_reads_with_limits() {
        let mut buf = SecretBuf::new();
        serde_json::to_writer(&mut buf, &serde_json::json!({"k": "v".repeat(3000)})).unwrap();
        assert_eq!(buf.len(), r#"{"k":""}"#.len() + 3000);
        let text = vec![b'x'; 5000];
        let mut read = SecretBuf::with_capacity(10);
        read.read_from(&mut &text[..], 5000).unwrap();
        assert_eq!(&read[..], &text[..]);
        let mut over = SecretBuf::new();
        let e = over.read_from(&mut &text[..], 4999).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A Vec handed over keeps its bytes and is wiped whole later.
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"abc");
        let b = SecretBuf::from(v);
        assert_eq!((&b[..], b.capacity()), (&b"abc"[..], 64));
        assert_eq!(format!("{b:?}"), "SecretBuf(3 bytes)");
    }

    #[test]
    fn serde_writes_into_a_secret_buf_wipe_what_it_outgrows() {
        take_retired();
        let mut buf = SecretBuf::with_capacity(16);
        let token = "t".repeat(3000);
        serde_json::to_writer(&mut buf, &serde_json::json!({ "access_token": token })).unwrap();
        let retired = take_retired();
        assert!(!retired.is_empty());
        assert!(retired.iter().all(|r| r.iter().all(|&b| b == 0)));
        // Handed over as SecretBytes without a copy: nothing more retired,
        // and the allocation is the buffer's own (wiped whole when dropped).
        let capacity = buf.capacity();
        let bytes = SecretBytes::from(buf);
        assert!(take_retired().iter().all(Vec::is_empty));
        assert_eq!((bytes.len(), bytes.0.capacity()), (3000 + 19, capacity));
    }

    #[test]
    fn wipe_value_empties_every_string_and_key() {
        let mut v = serde_json::json!({
            "accessToken": "tok",
            "nested": {"client_secret": "s", "list": ["a", {"b": "c"}, 1, null]},
        });
        wipe_value(&mut v);
        assert_eq!(v, Value::Null);
        let parsed = SecretJson::parse(br#"{"a":"b"}"#).unwrap();
        assert_eq!(parsed["a"], "b");
        assert!(SecretJson::parse(b"{").is_none());
    }

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
