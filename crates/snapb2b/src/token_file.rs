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
//!   cache can never be the reason a payment fails;
//! - trusted only when it is a regular file owned by the effective user and
//!   writable by no one else, checked on the opened descriptor (`fstat`),
//!   opened without following a symlink or blocking on a FIFO: in a shared
//!   directory another user could otherwise plant the token we send, or
//!   have us create files where a link points. Such a file, like a
//!   directory we cannot write, is a miss, and [`TokenFile::status`] says
//!   why sharing is off;
//! - checked like a provider's answer (token characters, expiry range):
//!   whoever could write the file must not be able to inject a header.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::config::Config;
use crate::error::io_reason;
use crate::redact;
use crate::secret::{SecretBuf, SecretJson, SecretString};
use crate::token::response::{is_b64token, MAX_ADDITIONAL_INFO_BYTES, MAX_EXPIRES_IN_S};
use crate::token::Token;

const FORMAT_VERSION: u64 = 1;
/// Cache files are tiny; anything larger is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// A cached `expires_at` further back or ahead than this is not believable
/// (and keeps `expires_at - now` far from overflow).
const MAX_PAST_S: i64 = 24 * 3600;
const MAX_AHEAD_S: i64 = 366 * 24 * 3600;
/// Never follow a link, never wait on a FIFO, never leak into a child.
/// O_NONBLOCK can stay set: it changes nothing for a regular file's reads
/// or for `flock`, and any other file is refused.
const OPEN_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;

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
    profile_name: crate::provider::Text,
    /// Why sharing is off, per operation: the last read, lock and write
    /// each replace their own slot.
    problems: Mutex<[Option<String>; 3]>,
}

#[derive(Clone, Copy)]
enum Op {
    Read = 0,
    Lock = 1,
    Write = 2,
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
            profile_name: config.profile.name.clone(),
            problems: Mutex::default(),
        }
    }

    /// Why the file is not being shared, as of the last read, lock and
    /// write (`"off: <path> is owned by another user"`); `None` when it is.
    /// For the token result's `"cache"` field.
    pub fn status(&self) -> Option<String> {
        let problems = self.problems.lock().unwrap_or_else(|p| p.into_inner());
        let all: Vec<&str> = problems.iter().flatten().map(String::as_str).collect();
        (!all.is_empty()).then(|| format!("off: {}", all.join("; ")))
    }

    fn note(&self, op: Op, problem: Option<String>) {
        self.problems.lock().unwrap_or_else(|p| p.into_inner())[op as usize] = problem;
    }

    /// Opens `path` (creating it with `create`) and returns it only if it
    /// can be trusted: why not, otherwise.
    fn open_trusted(path: &Path, create: bool) -> Result<File, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(create)
            .create(create)
            .truncate(false)
            .mode(0o600)
            .custom_flags(OPEN_FLAGS)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => format!("{} is a symbolic link", redact::path(path)),
                _ => format!("cannot open {}: {}", redact::path(path), io_reason(&e)),
            })?;
        // On the descriptor: the path may have been swapped since open.
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot stat {}: {}", redact::path(path), io_reason(&e)))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        let why = if !meta.file_type().is_file() {
            "is not a regular file"
        } else if meta.uid() != euid {
            "is owned by another user"
        } else if meta.mode() & 0o022 != 0 {
            "is writable by group or others"
        } else {
            return Ok(file);
        };
        Err(format!("{} {why}", redact::path(path)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached token if the file holds one for this binding; any problem
    /// reading it is a miss.
    pub fn read(&self) -> Option<Token> {
        let mut file = match Self::open_trusted(&self.path, false) {
            Ok(f) => {
                self.note(Op::Read, None);
                f
            }
            Err(why) => {
                // No file yet is the normal cold start, not a problem.
                let absent = std::fs::symlink_metadata(&self.path).is_err();
                self.note(Op::Read, (!absent).then_some(why));
                return None;
            }
        };
        let size = file.metadata().ok()?.len();
        if size > MAX_FILE_BYTES {
            return None;
        }
        // Sized for the whole file plus the byte that proves EOF, so the
        // buffer holding the token normally never has to grow.
        let mut bytes = SecretBuf::with_capacity(size as usize + 1);
        bytes.read_from(&mut file, MAX_FILE_BYTES as usize).ok()?;
        decode(&self.binding, &self.profile_name, &bytes)
    }

    /// Replaces the file atomically with `token`. Failures are returned for
    /// tests and diagnostics; callers carry on without the file.
    pub fn write(&self, token: &Token) -> std::io::Result<()> {
        let bytes = encode(&self.binding, token)?;
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
        if let Err(e) = &result {
            let _ = std::fs::remove_file(&tmp);
            let dir = match self.path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            self.note(
                Op::Write,
                Some(format!(
                    "cannot write {} in {}: {}",
                    redact::path(&self.path),
                    redact::path(dir),
                    io_reason(e)
                )),
            );
        } else {
            self.note(Op::Write, None);
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
        // Another user's lock file could be held forever.
        let file = match Self::open_trusted(&self.lock_path, true) {
            Ok(f) => f,
            Err(why) => {
                self.note(Op::Lock, Some(why));
                return None;
            }
        };
        self.note(Op::Lock, None);
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

/// A cache entry (the file's contents, the shared store's value): the token
/// and its expiry, bound to who it belongs to; never a key or secret.
pub fn encode(binding: &Binding, token: &Token) -> std::io::Result<SecretBuf> {
    let entry = SecretJson(json!({
        "v": FORMAT_VERSION,
        "provider": binding.provider,
        "token_url": binding.token_url,
        "client_id": binding.client_id,
        "access_token": token.access_token.expose(),
        "token_type": token.token_type,
        "expires_in": token.expires_in,
        "expires_at": token.expires_at,
        "response_code": token.response_code,
        "response_message": token.response_message,
        "additional_info": token.additional_info,
    }));
    entry.to_secret_buf().map_err(std::io::Error::other)
}

/// The token of an entry if it belongs to `binding` and passes the checks a
/// provider's answer does (whoever could write the entry must not be able to
/// inject a header); anything else is a miss. At most [`MAX_FILE_BYTES`].
pub fn decode(
    binding: &Binding,
    profile_name: &crate::provider::Text,
    bytes: &[u8],
) -> Option<Token> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return None;
    }
    // Wiped on every return path, hit or miss.
    let v = SecretJson::parse(bytes)?;
    if v.get("v")?.as_u64()? != FORMAT_VERSION
        || v.get("provider")?.as_str()? != binding.provider
        || v.get("token_url")?.as_str()? != binding.token_url
        || v.get("client_id")?.as_str()? != binding.client_id
    {
        return None;
    }
    let access_token = v.get("access_token")?.as_str()?;
    let token_type = v.get("token_type")?.as_str()?;
    let expires_in = v.get("expires_in")?.as_u64()?;
    let expires_at = v.get("expires_at")?.as_i64()?;
    let now = chrono::Utc::now().timestamp();
    if !is_b64token(access_token)
        || !is_b64token(token_type)
        || !(1..=MAX_EXPIRES_IN_S).contains(&expires_in)
        || !(now - MAX_PAST_S..=now + MAX_AHEAD_S).contains(&expires_at)
    {
        return None;
    }
    let text = |key: &str, max: usize| {
        v.get(key)
            .and_then(Value::as_str)
            .map(|s| redact::scrub(s, &[], max))
    };
    Some(Token {
        provider: profile_name.clone(),
        access_token: SecretString::from(access_token),
        token_type: token_type.to_string(),
        expires_in,
        expires_at,
        response_code: text("response_code", redact::MAX_RESPONSE_CODE_CHARS),
        response_message: text("response_message", redact::MAX_RESPONSE_MESSAGE_CHARS),
        // An object as the provider sent it, bounded as from the network.
        additional_info: v
            .get("additional_info")
            .filter(|i| i.is_object() && i.to_string().len() <= MAX_ADDITIONAL_INFO_BYTES)
            .cloned(),
    })
}
