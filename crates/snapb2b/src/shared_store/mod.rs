//! The fleet-wide store: Redis, reached by every host of a fleet
//! (`cache_url` for the token client, `replay_url` for the merchant's side).
//!
//! The `redis` crate encodes the commands and parses the answers; the
//! connection is ours, so that every step (connect, TLS handshake, each
//! command) is bounded by the caller's deadline, and `rediss://` trusts and
//! verifies exactly as the provider connection does (system roots plus
//! `ca_file`, host name checked, TLS 1.2 at least).
//!
//! The store is never the reason a call fails: every error here is a
//! [`Problem`] (one line, no password, no token), and the caller carries on
//! without the store. After a failure the store is left alone for a short,
//! growing pause (not asked by every call while it is down) and tried again
//! after it: sharing resumes by itself when Redis is back.

pub mod tokens;

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::Value;

use crate::error::{Error, Result};
use crate::redact;
use crate::secret::SecretString;
use crate::trust::TrustAnchors;

pub const DEFAULT_PORT: u16 = 6379;
/// Key prefix when the config names none.
pub const DEFAULT_PREFIX: &str = "snapb2b:";
const MAX_PREFIX_BYTES: usize = 128;
/// A password file holds one line.
const MAX_PASSWORD_FILE_BYTES: u64 = 4096;
/// No answer of ours is anywhere near this: more is not Redis, or not sane.
const MAX_REPLY_BYTES: u64 = 1 << 20;
/// First pause after a failure, doubled per failure up to the maximum.
const PAUSE_MIN_MS: u64 = 200;
const PAUSE_MAX_MS: u64 = 5_000;
/// Idle connections kept per process.
const MAX_IDLE: usize = 4;

/// Where the store is.
#[derive(Clone, PartialEq, Eq)]
pub enum Address {
    Tcp { host: String, port: u16, tls: bool },
    Unix(PathBuf),
}

/// A parsed `cache_url` / `replay_url` and what goes with it.
#[derive(Clone)]
pub struct StoreSettings {
    pub address: Address,
    pub db: u32,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub prefix: String,
    /// Extra trust for `rediss://` (the config's `ca_file`).
    pub ca_file: Option<TrustAnchors>,
    /// How messages name the store: no credentials, ever.
    pub shown: String,
}

impl PartialEq for StoreSettings {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address
            && self.db == other.db
            && self.username == other.username
            && self.password == other.password
            && self.prefix == other.prefix
    }
}

impl Eq for StoreSettings {}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreSettings({}, prefix {:?})", self.shown, self.prefix)
    }
}

impl StoreSettings {
    /// `keys` name the settings in messages: the URL's, the password
    /// file's and the prefix's (`cache_url`, `cache_password_file`,
    /// `cache_key_prefix`). The password comes from the URL or from
    /// `password_file`, not both.
    pub fn parse(
        keys: [&str; 3],
        url: &str,
        password_file: Option<&Path>,
        prefix: Option<&str>,
        ca_file: Option<TrustAnchors>,
    ) -> Result<StoreSettings> {
        let [url_key, password_key, prefix_key] = keys;
        let form = || {
            Error::invalid_argument(format!(
                "config key `{url_key}` must be redis://[user:password@]host[:port][/db], rediss://... (TLS) or unix:///path[?db=N]"
            ))
        };
        let parsed = WipedUrl(url::Url::parse(url).map_err(|_| form())?);
        let parsed = &parsed.0;
        if parsed.fragment().is_some() {
            return Err(form());
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    Error::invalid_argument(format!(
                        "config key `{url_key}`: user and password must be UTF-8 once percent-decoded"
                    ))
                })
        };
        let username = Some(parsed.username())
            .filter(|u| !u.is_empty())
            .map(decode)
            .transpose()?;
        let mut password = parsed
            .password()
            .map(decode)
            .transpose()?
            .map(SecretString::new);
        let db_text;
        let (address, shown) = match parsed.scheme() {
            scheme @ ("redis" | "rediss") => {
                let host = parsed
                    .host_str()
                    .filter(|h| !h.is_empty())
                    .ok_or_else(form)?;
                // `[::1]` is kept bracketed by the parser: bare for connect.
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let port = parsed.port().unwrap_or(DEFAULT_PORT);
                if parsed.query().is_some() {
                    return Err(form());
                }
                db_text = parsed.path().trim_start_matches('/').to_string();
                let shown = if host.contains(':') {
                    format!("{scheme}://[{host}]:{port}")
                } else {
                    format!("{scheme}://{host}:{port}")
                };
                (
                    Address::Tcp {
                        host: host.to_string(),
                        port,
                        tls: scheme == "rediss",
                    },
                    shown,
                )
            }
            "unix" => {
                if parsed.host_str().is_some_and(|h| !h.is_empty()) || parsed.path().len() < 2 {
                    return Err(form());
                }
                db_text = match parsed.query() {
                    None => String::new(),
                    Some(q) => q.strip_prefix("db=").ok_or_else(form)?.to_string(),
                };
                let path = PathBuf::from(
                    percent_encoding::percent_decode_str(parsed.path())
                        .decode_utf8()
                        .map_err(|_| form())?
                        .into_owned(),
                );
                let shown = format!("unix://{}", redact::path(&path));
                (Address::Unix(path), shown)
            }
            _ => return Err(form()),
        };
        let db = if db_text.is_empty() {
            0
        } else {
            db_text
                .parse::<u32>()
                .ok()
                .filter(|n| *n < 1 << 16)
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "config key `{url_key}`: the database must be a number (redis://host:port/0)"
                    ))
                })?
        };
        if let Some(file) = password_file {
            if password.is_some() {
                return Err(Error::invalid_argument(format!(
                    "config has a password in `{url_key}` and `{password_key}`: keep one"
                )));
            }
            password = Some(read_password_file(password_key, file)?);
        }
        if username.is_some() && password.is_none() {
            return Err(Error::invalid_argument(format!(
                "config key `{url_key}` names a user without a password"
            )));
        }
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        if prefix.len() > MAX_PREFIX_BYTES || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_argument(format!(
                "config key `{prefix_key}` must be at most {MAX_PREFIX_BYTES} printable ASCII characters without spaces"
            )));
        }
        Ok(StoreSettings {
            address,
            db,
            username,
            password,
            prefix: prefix.to_string(),
            ca_file,
            shown: format!("redis at {shown}"),
        })
    }
}

/// A parsed URL whose text (which may hold the password) is wiped when
/// dropped, on every return path.
struct WipedUrl(url::Url);

impl Drop for WipedUrl {
    fn drop(&mut self) {
        let empty = url::Url::parse("unix:///").expect("a constant URL");
        crate::secret::wipe_string(&mut String::from(std::mem::replace(&mut self.0, empty)));
    }
}

/// Reads a password file the way a key file should be read: no link
/// followed, no FIFO waited on, a regular file of this user (or root) that
/// nobody else can write or read; one line, the newline dropped.
fn read_password_file(key: &str, path: &Path) -> Result<SecretString> {
    let shown = redact::path(path);
    let refuse =
        |why: String| Error::invalid_argument(format!("config key `{key}`: {shown} {why}"));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refuse("is a symbolic link".into()),
            _ => refuse(format!("cannot be read: {}", crate::error::io_reason(&e))),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| refuse(format!("cannot be read: {}", crate::error::io_reason(&e))))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !meta.file_type().is_file() {
        return Err(refuse("is not a regular file".into()));
    }
    if meta.uid() != euid && meta.uid() != 0 {
        return Err(refuse("is owned by another user".into()));
    }
    if meta.mode() & 0o027 != 0 {
        return Err(refuse(
            "is readable by others or writable by group or others (chmod 600 or 640)".into(),
        ));
    }
    if meta.len() > MAX_PASSWORD_FILE_BYTES {
        return Err(refuse("is too large for a password".into()));
    }
    let mut bytes = crate::secret::SecretBuf::with_capacity(meta.len() as usize + 1);
    bytes
        .read_from(&mut file, MAX_PASSWORD_FILE_BYTES as usize)
        .map_err(|e| refuse(format!("cannot be read: {}", crate::error::io_reason(&e))))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| refuse("is not text".into()))?;
    let line = text.trim_end_matches(['\n', '\r']);
    if line.is_empty() || line.contains(['\n', '\r', '\0']) {
        return Err(refuse("must hold one non-empty line".into()));
    }
    Ok(SecretString::from(line))
}

/// Why the store could not be used: one line, no secret.
#[derive(Debug, Clone)]
pub struct Problem(pub String);

type Outcome<T> = std::result::Result<T, Problem>;

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<openssl::ssl::SslStream<TcpStream>>),
}

impl Stream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        let t = Some(t.max(Duration::from_millis(1)));
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t).and(s.set_write_timeout(t)),
            Stream::Unix(s) => s.set_read_timeout(t).and(s.set_write_timeout(t)),
            Stream::Tls(s) => s
                .get_ref()
                .set_read_timeout(t)
                .and(s.get_ref().set_write_timeout(t)),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Reads at most `left` bytes of one answer: a server that sends more is
/// not trusted to stop.
struct Bounded<'a> {
    inner: &'a mut Stream,
    left: u64,
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("answer too large"));
        }
        let max = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// One connection, authenticated and on its database.
pub struct Conn {
    stream: Stream,
    parser: redis::Parser,
    /// The process that opened it (see [`Store::take`]).
    pid: u32,
}

impl Conn {
    fn open(settings: &StoreSettings, tls: &TlsSlot, deadline: Instant) -> Outcome<Conn> {
        let left = || deadline.saturating_duration_since(Instant::now());
        let io = |what: &str, e: std::io::Error| Problem(format!("{what}: {}", plain_io(&e)));
        if left().is_zero() {
            return Err(Problem("no time left to connect".into()));
        }
        let stream = match &settings.address {
            Address::Unix(path) => {
                let s = UnixStream::connect(path).map_err(|e| io("cannot connect", e))?;
                Stream::Unix(s)
            }
            Address::Tcp {
                host,
                port,
                tls: use_tls,
            } => {
                let addrs =
                    resolve(host, *port, left()).map_err(|e| io("cannot resolve the host", e))?;
                let mut last = None;
                let mut tcp = None;
                for addr in addrs {
                    if left().is_zero() {
                        break;
                    }
                    match TcpStream::connect_timeout(&addr, left()) {
                        Ok(s) => {
                            tcp = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let tcp = match (tcp, last) {
                    (Some(s), _) => s,
                    (None, Some(e)) => return Err(io("cannot connect", e)),
                    (None, None) => return Err(Problem("cannot connect: no address".into())),
                };
                let _ = tcp.set_nodelay(true);
                if *use_tls {
                    let t = left();
                    tcp.set_read_timeout(Some(t.max(Duration::from_millis(1))))
                        .and(tcp.set_write_timeout(Some(t.max(Duration::from_millis(1)))))
                        .map_err(|e| io("cannot connect", e))?;
                    let connector = tls.get(settings.ca_file.as_ref())?;
                    let config = connector.configure().map_err(|e| {
                        Problem(format!("TLS: {}", crate::error::openssl_reason(&e)))
                    })?;
                    let s = config.connect(host, tcp).map_err(|e| {
                        use openssl::ssl::HandshakeError;
                        let stack = match &e {
                            HandshakeError::SetupFailure(s) => Some(s),
                            HandshakeError::Failure(m) | HandshakeError::WouldBlock(m) => {
                                m.error().ssl_error()
                            }
                        };
                        let verify = match &e {
                            HandshakeError::Failure(m) => m.ssl().verify_result(),
                            _ => openssl::x509::X509VerifyResult::OK,
                        };
                        Problem(if verify != openssl::x509::X509VerifyResult::OK {
                            format!("TLS: certificate not trusted: {}", verify.error_string())
                        } else {
                            match stack {
                                Some(s) => format!(
                                    "TLS handshake failed: {}",
                                    crate::error::openssl_reason(s)
                                ),
                                None => "TLS handshake failed (timed out or connection closed)"
                                    .to_string(),
                            }
                        })
                    })?;
                    Stream::Tls(Box::new(s))
                } else {
                    Stream::Tcp(tcp)
                }
            }
        };
        let mut conn = Conn {
            stream,
            parser: redis::Parser::new(),
            pid: std::process::id(),
        };
        if let Some(password) = &settings.password {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = &settings.username {
                auth.arg(user.as_str());
            }
            auth.arg(password.expose());
            match conn.run_raw(&auth, deadline)? {
                Value::Okay => {}
                // Redis's words could only echo the user name: not quoted.
                _ => return Err(Problem("refused the password (AUTH)".into())),
            }
        }
        if settings.db != 0 {
            match conn.run(redis::cmd("SELECT").arg(settings.db), deadline)? {
                Value::Okay => {}
                _ => return Err(Problem(format!("refused database {}", settings.db))),
            }
        }
        Ok(conn)
    }

    /// Sends one command and reads its answer, both before `deadline`. A
    /// Redis error answer is a [`Problem`] (quoted, scrubbed).
    pub fn run(&mut self, cmd: &redis::Cmd, deadline: Instant) -> Outcome<Value> {
        match self.run_raw(cmd, deadline)? {
            Value::ServerError(e) => Err(Problem(format!(
                "answered an error: {}",
                redact::scrub(e.details().unwrap_or(e.code()), &[], 120)
            ))),
            v => Ok(v),
        }
    }

    /// [`Conn::run`], with an error answer returned as a value.
    fn run_raw(&mut self, cmd: &redis::Cmd, deadline: Instant) -> Outcome<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Problem("no time left for a command".into()));
        }
        let fail = |e: std::io::Error| Problem(plain_io(&e));
        self.stream.set_timeout(left).map_err(fail)?;
        self.stream
            .write_all(&cmd.get_packed_command())
            .map_err(fail)?;
        let mut reader = Bounded {
            inner: &mut self.stream,
            left: MAX_REPLY_BYTES,
        };
        let value = self.parser.parse_value(&mut reader).map_err(|e| {
            Problem(if reader.left == 0 {
                format!("answered more than {} KiB", MAX_REPLY_BYTES >> 10)
            } else if e.is_timeout() {
                "no answer in time".to_string()
            } else if e.is_io_error() {
                "connection lost".to_string()
            } else {
                "answered something that is not Redis's protocol".to_string()
            })
        })?;
        Ok(value)
    }
}

/// The addresses of `host`, within `wait`: the system resolver has no
/// timeout of its own, so a name is looked up on a thread of its own, which
/// is left to finish by itself if it takes longer (as libcurl's threaded
/// resolver does).
fn resolve(host: &str, port: u16, wait: Duration) -> std::io::Result<Vec<std::net::SocketAddr>> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![std::net::SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("snapb2b-resolve".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        })?;
    rx.recv_timeout(wait).unwrap_or_else(|_| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer in time",
        ))
    })
}

/// The OS's words for a socket failure; a timeout said plainly.
fn plain_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "no answer in time".to_string()
        }
        _ => crate::error::io_reason(e),
    }
}

/// The TLS connector, built once (it parses the trust store).
#[derive(Default)]
struct TlsSlot(OnceLock<std::result::Result<openssl::ssl::SslConnector, String>>);

impl TlsSlot {
    fn get(&self, ca: Option<&TrustAnchors>) -> Outcome<&openssl::ssl::SslConnector> {
        self.0
            .get_or_init(|| crate::trust::ssl_connector(ca).map_err(|e| e.message))
            .as_ref()
            .map_err(|e| Problem(e.clone()))
    }
}

/// A store: settings, idle connections, and whether it is usable now.
pub struct Store {
    pub settings: StoreSettings,
    idle: Mutex<Vec<Conn>>,
    tls: TlsSlot,
    /// Milliseconds since `epoch` before which the store is not tried.
    paused_until_ms: AtomicU64,
    pause_ms: AtomicU64,
    epoch: Instant,
    /// The last problem, while it lasts.
    problem: Mutex<Option<String>>,
}

impl Store {
    pub fn new(settings: StoreSettings) -> Store {
        Store {
            settings,
            idle: Mutex::default(),
            tls: TlsSlot::default(),
            paused_until_ms: AtomicU64::new(0),
            pause_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            problem: Mutex::default(),
        }
    }

    /// `None` while shared, else `"unavailable: <store>: <why>"`.
    pub fn status(&self) -> Option<String> {
        let problem = self.problem.lock().unwrap_or_else(|p| p.into_inner());
        problem
            .as_ref()
            .map(|p| format!("unavailable: {}: {p}", self.settings.shown))
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Runs `f` on a connection (an idle one, or a new one), all before
    /// `deadline`. `Err` when the store is paused after a failure or fails
    /// now; a failure closes the connection and pauses the store.
    pub fn with<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&mut Conn) -> Outcome<T>,
    ) -> Outcome<T> {
        if Instant::now() >= deadline {
            // The caller's budget, not the store, ran out.
            return Err(Problem("no time left".into()));
        }
        if self.now_ms() < self.paused_until_ms.load(Ordering::Relaxed) {
            let why = self
                .problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(Problem(format!("{why} (retried shortly)")));
        }
        let mut conn = match self.take() {
            Some(c) => c,
            None => match Conn::open(&self.settings, &self.tls, deadline) {
                Ok(c) => c,
                Err(p) => return Err(self.failed(p)),
            },
        };
        match f(&mut conn) {
            Ok(v) => {
                self.put(conn);
                self.recovered();
                Ok(v)
            }
            // The connection may hold half an answer: never reused.
            Err(p) => Err(self.failed(p)),
        }
    }

    /// An idle connection of this process: one opened before a `fork()`
    /// is the parent's (the same socket, and TLS state), never used here;
    /// it is leaked rather than closed, as the client's curl handles are.
    fn take(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if idle.iter().any(|c| c.pid != pid) {
            for c in idle.drain(..) {
                std::mem::forget(c);
            }
        }
        idle.pop()
    }

    fn put(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn failed(&self, p: Problem) -> Problem {
        let pause = self
            .pause_ms
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .clamp(PAUSE_MIN_MS, PAUSE_MAX_MS);
        self.pause_ms.store(pause, Ordering::Relaxed);
        self.paused_until_ms
            .store(self.now_ms() + pause, Ordering::Relaxed);
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(p.0.clone());
        // Other idle connections likely share the fate (Redis restarted).
        for c in self
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            if c.pid != std::process::id() {
                std::mem::forget(c);
            }
        }
        p
    }

    fn recovered(&self) {
        if self.pause_ms.load(Ordering::Relaxed) != 0 {
            self.pause_ms.store(0, Ordering::Relaxed);
            *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    /// The key `name` under this store's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<StoreSettings> {
        StoreSettings::parse(
            ["cache_url", "cache_password_file", "cache_key_prefix"],
            url,
            None,
            None,
            None,
        )
    }

    #[test]
    fn urls() {
        let s = parse("redis://127.0.0.1:6380/2").unwrap();
        assert!(
            matches!(&s.address, Address::Tcp { host, port: 6380, tls: false } if host == "127.0.0.1")
        );
        assert_eq!(s.db, 2);
        assert_eq!(s.shown, "redis at redis://127.0.0.1:6380");
        let s = parse("rediss://u:p%40ss@localhost").unwrap();
        assert!(matches!(
            &s.address,
            Address::Tcp {
                port: 6379,
                tls: true,
                ..
            }
        ));
        assert_eq!(s.password.as_ref().unwrap().expose(), "p@ss");
        assert_eq!(s.username.as_deref(), Some("u"));
        assert!(!s.shown.contains("p@ss") && !format!("{s:?}").contains("p@ss"));
        let s = parse("redis://:hunter2@[::1]:7000").unwrap();
        assert_eq!(s.shown, "redis at redis://[::1]:7000");
        let s = parse("unix:///run/redis.sock?db=3").unwrap();
        assert!(matches!(&s.address, Address::Unix(p) if p == Path::new("/run/redis.sock")));
        assert_eq!(s.db, 3);
        for bad in [
            "http://127.0.0.1",
            "redis://",
            "redis://h/x",
            "redis://h/1?x=1",
            "unix://",
            "127.0.0.1:6379",
            "redis://user@h",
            "redis://:hunter2@h/notanumber",
        ] {
            let e = parse(bad).map(|_| ()).unwrap_err();
            assert_eq!(e.status, crate::Status::B2B_INVALID_ARGUMENT, "{bad}");
            assert!(e.message.contains("cache_url"), "{bad}: {e}");
            assert!(!e.message.contains("hunter2"), "{e}");
        }
    }
}
