//! The token file (`cache_file`): the cross-process token cache.
//!
//! Under PHP-FPM or CGI each request is a fresh process, so an in-memory
//! cache alone still fetches once per request. The file lets every process
//! using the same config share one token:
//! - written atomically (temp file in the same directory + rename), mode 0600;
//! - refreshed under an advisory lock (`<cache_file>.lock`, flock), so N
//!   processes starting at once make one request, not N;
//! - bound to provider, base URL, token path and client id: another client
//!   reads it as a miss;
//! - holding the token and its expiry only, never a key or secret;
//! - corrupt, foreign or unreadable files are misses and get replaced: the
//!   cache can never be the reason a payment fails.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::config::Config;
use crate::secret::{SecretBuf, SecretJson, SecretString};
use crate::token::Token;

const FORMAT_VERSION: u64 = 1;
/// Cache files are tiny; anything larger is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Who a cache entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub provider: String,
    pub token_url: String,
    pub client_id: String,
}

impl Binding {
    pub fn of(config: &Config) -> Binding {
        Binding {
            provider: config.profile.name.to_string(),
            token_url: config.token_url(),
            client_id: config.client_id.clone(),
        }
    }
}

pub struct TokenFile {
    path: PathBuf,
    lock_path: PathBuf,
    binding: Binding,
    profile_name: &'static str,
}

/// An exclusive advisory lock, released when dropped.
pub struct FileLock {
    file: File,
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by `self.file` and still open.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

impl TokenFile {
    pub fn new(path: &Path, config: &Config) -> TokenFile {
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        TokenFile {
            path: path.to_path_buf(),
            lock_path: PathBuf::from(lock_name),
            binding: Binding::of(config),
            profile_name: config.profile.name,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached token if the file holds one for this binding; any problem
    /// reading it is a miss.
    pub fn read(&self) -> Option<Token> {
        let mut file = File::open(&self.path).ok()?;
        let size = file.metadata().ok()?.len();
        if size > MAX_FILE_BYTES {
            return None;
        }
        // Sized for the whole file plus the byte that proves EOF, so the
        // buffer holding the token normally never has to grow.
        let mut bytes = SecretBuf::with_capacity(size as usize + 1);
        bytes.read_from(&mut file, MAX_FILE_BYTES as usize).ok()?;
        // Wiped on every return path, hit or miss.
        let v = SecretJson::parse(&bytes)?;
        if v.get("v")?.as_u64()? != FORMAT_VERSION
            || v.get("provider")?.as_str()? != self.binding.provider
            || v.get("token_url")?.as_str()? != self.binding.token_url
            || v.get("client_id")?.as_str()? != self.binding.client_id
        {
            return None;
        }
        let access_token = v.get("access_token")?.as_str()?;
        if access_token.is_empty() {
            return None;
        }
        Some(Token {
            provider: self.profile_name,
            access_token: SecretString::from(access_token),
            token_type: v.get("token_type")?.as_str()?.to_string(),
            expires_in: v.get("expires_in")?.as_u64()?,
            expires_at: v.get("expires_at")?.as_i64()?,
            response_code: v
                .get("response_code")
                .and_then(Value::as_str)
                .map(str::to_string),
            response_message: v
                .get("response_message")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// Replaces the file atomically with `token`. Failures are returned for
    /// tests and diagnostics; callers carry on without the file.
    pub fn write(&self, token: &Token) -> std::io::Result<()> {
        let entry = SecretJson(json!({
            "v": FORMAT_VERSION,
            "provider": self.binding.provider,
            "token_url": self.binding.token_url,
            "client_id": self.binding.client_id,
            "access_token": token.access_token.expose(),
            "token_type": token.token_type,
            "expires_in": token.expires_in,
            "expires_at": token.expires_at,
            "response_code": token.response_code,
            "response_message": token.response_message,
        }));
        let bytes = entry.to_secret_buf().map_err(std::io::Error::other)?;
        let tmp = self.temp_path();
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Removes the entry if it still holds `token` (a newer token written by
    /// another process is left alone).
    pub fn remove_if_holds(&self, token: Option<&Token>) {
        let current = self.read();
        let ours = match (current.as_ref(), token) {
            (Some(c), Some(t)) => c.access_token == t.access_token,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Takes the refresh lock, waiting at most `wait`. `None` when the lock
    /// cannot be had in time or at all: the caller then fetches without it
    /// (one extra request is better than a stalled payment).
    pub fn lock(&self, wait: Duration) -> Option<FileLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
            .ok()?;
        let deadline = Instant::now() + wait;
        loop {
            // SAFETY: a valid open descriptor owned by `file`.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Some(FileLock { file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) || Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn temp_path(&self) -> PathBuf {
        let mut rnd = [0u8; 6];
        let _ = openssl::rand::rand_bytes(&mut rnd);
        let suffix: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "token".into());
        self.path
            .with_file_name(format!(".{name}.{}.{suffix}.tmp", std::process::id()))
    }
}
