//! Misbehaving servers for fault tests of HTTPS clients: each connection is
//! handed to a test's handler, which reads requests and then answers, stalls,
//! resets, hangs up or sends raw bytes as the case needs. Built on the
//! sandbox's own pieces: [`crate::http`] reads requests and writes responses,
//! [`crate::tls`] makes the certificates, [`crate::conn`] holds connections.
//!
//! Every server listens on 127.0.0.1 only, drops peers that are not loopback,
//! and stops by itself: when dropped (stop flag, then the accept loop and
//! every connection thread are joined) and in any case after
//! [`MAX_LIFETIME`]. Connection threads never block for long: reads poll
//! with a short timeout and give up as soon as the peer closes, the stop flag
//! is raised or the server's lifetime ends.
//!
//! ```no_run
//! use snapb2b_sandbox::faults::{Cert, Mode, Server};
//! // Reads one request and never answers it.
//! let server = Server::start(Mode::Tls(Cert::Good), |s| {
//!     if s.read_request().is_some() {
//!         s.idle(std::time::Duration::from_secs(10));
//!     }
//! });
//! let ca_pem = snapb2b_sandbox::faults::pki().ca_pem(); // what clients trust
//! # let _ = (server.url(), ca_pem);
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::SslAcceptor;

use crate::conn::Conn;
pub use crate::http::Request;
use crate::http::{RequestReader, Response};
use crate::tls::{acceptor, CertSpec, CertificateAuthority};

/// No server outlives this, whatever its handler does.
pub const MAX_LIFETIME: Duration = Duration::from_secs(20);
/// Socket read timeout: how often a blocked connection thread looks at the
/// stop flag.
const POLL: Duration = Duration::from_millis(20);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
const DAY_SECS: i64 = 24 * 3600;

// ------------------------------------------------------------------ PKI

/// Which certificate a TLS server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// Chained to the test CA, for 127.0.0.1, ::1 and localhost.
    Good,
    /// Chained to the test CA, valid, but for DNS:other.example only.
    OtherHost,
    /// Chained to the test CA, right host, notAfter yesterday.
    Expired,
}

/// One test CA and an acceptor per [`Cert`], made once per process.
pub struct Pki {
    ca_pem: Vec<u8>,
    good: SslAcceptor,
    other_host: SslAcceptor,
    expired: SslAcceptor,
}

impl Pki {
    fn generate() -> io::Result<Pki> {
        let ca = CertificateAuthority::generate("snapb2b faults test CA")?;
        let now = chrono::Utc::now().timestamp();
        let other_host = CertSpec {
            common_name: "other.example".into(),
            dns_names: vec!["other.example".into()],
            ip_addresses: Vec::new(),
            ..CertSpec::loopback()
        };
        let expired = CertSpec {
            valid_from: now - 30 * DAY_SECS,
            valid_until: now - DAY_SECS,
            ..CertSpec::loopback()
        };
        Ok(Pki {
            ca_pem: ca.cert.to_pem().map_err(io::Error::other)?,
            good: acceptor(&ca.issue(&CertSpec::loopback())?)?,
            other_host: acceptor(&ca.issue(&other_host)?)?,
            expired: acceptor(&ca.issue(&expired)?)?,
        })
    }

    /// PEM of the CA every [`Cert`] chains to: what a client's CA file holds.
    pub fn ca_pem(&self) -> &[u8] {
        &self.ca_pem
    }

    pub fn acceptor(&self, cert: Cert) -> &SslAcceptor {
        match cert {
            Cert::Good => &self.good,
            Cert::OtherHost => &self.other_host,
            Cert::Expired => &self.expired,
        }
    }
}

/// The process's test PKI (generated on first use; panics if openssl cannot).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate().unwrap_or_else(|e| panic!("fault-test PKI: {e}")))
}

// --------------------------------------------------------------- server

/// How connections are set up before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// TLS handshake with this certificate first.
    Tls(Cert),
    /// No TLS at all: the handler gets the raw TCP connection (a server that
    /// never answers the ClientHello).
    RawTcp,
}

/// What the server saw and did, for assertions.
#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    /// Complete HTTP requests read.
    requests: AtomicUsize,
    /// Response bytes written (headers and body).
    bytes_sent: AtomicUsize,
}

struct Shared {
    stop: AtomicBool,
    ends_at: Instant,
    counters: Counters,
}

impl Shared {
    fn alive(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && Instant::now() < self.ends_at
    }
}

/// A running fault server; stops when dropped.
pub struct Server {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts listening on 127.0.0.1 (an ephemeral port) and runs `handler`
    /// on its own thread for every connection, after the TLS handshake in
    /// [`Mode::Tls`]. Panics if it cannot listen (a test setup failure).
    pub fn start<F>(mode: Mode, handler: F) -> Server
    where
        F: Fn(&mut Session) + Send + Sync + 'static,
    {
        let acceptor = match mode {
            Mode::Tls(cert) => Some(pki().acceptor(cert).clone()),
            Mode::RawTcp => None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        // Non-blocking, so the accept loop can watch the stop flag.
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            ends_at: Instant::now() + MAX_LIFETIME,
            counters: Counters::default(),
        });
        let handler = Arc::new(handler);
        let s = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let mut connections: Vec<JoinHandle<()>> = Vec::new();
            while s.alive() {
                match listener.accept() {
                    Ok((stream, peer)) if is_loopback(&peer) => {
                        let index = s.counters.connections.fetch_add(1, Ordering::SeqCst);
                        let (s, handler, acceptor) =
                            (Arc::clone(&s), Arc::clone(&handler), acceptor.clone());
                        connections.push(std::thread::spawn(move || {
                            if let Some(mut session) = Session::open(stream, acceptor, s, index) {
                                handler(&mut session);
                            }
                        }));
                    }
                    Ok(_) => {} // not loopback: dropped unanswered
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in connections {
                let _ = c.join();
            }
        });
        Server {
            port,
            shared,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.counters.connections.load(Ordering::SeqCst)
    }

    /// Complete requests read so far.
    pub fn requests(&self) -> usize {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// Bytes written to clients so far.
    pub fn bytes_sent(&self) -> usize {
        self.shared.counters.bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn is_loopback(peer: &SocketAddr) -> bool {
    peer.ip().is_loopback()
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    l.local_addr().expect("local address").port()
}

/// The connection as the request reader sees it: reads wait out the short
/// socket timeout while the server lives (and until `until`), so a read ends
/// only with data, the peer's close, an error, or the server stopping.
struct Patient<'a> {
    conn: &'a mut Conn,
    shared: &'a Shared,
    until: Instant,
}

impl Read for Patient<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.shared.alive() || Instant::now() >= self.until {
                return Ok(0);
            }
            match self.conn.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                other => return other,
            }
        }
    }
}

impl Write for Patient<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.flush()
    }
}

/// One accepted connection, handed to the handler.
pub struct Session {
    /// `None` once the handler reset or hung up.
    conn: Option<Conn>,
    /// 0 for the server's first connection, 1 for the second, ...
    pub index: usize,
    shared: Arc<Shared>,
    reader: RequestReader,
}

impl Session {
    fn open(
        stream: TcpStream,
        acceptor: Option<SslAcceptor>,
        shared: Arc<Shared>,
        index: usize,
    ) -> Option<Session> {
        stream.set_nonblocking(false).ok()?;
        stream.set_read_timeout(Some(POLL)).ok()?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT)).ok()?;
        stream.set_nodelay(true).ok()?;
        // Fails when the client gives up (e.g. rejects our certificate).
        let conn = Conn::accept(stream, acceptor.as_ref(), || shared.alive()).ok()?;
        Some(Session {
            conn: Some(conn),
            index,
            shared,
            reader: RequestReader::default(),
        })
    }

    fn patient(&mut self, until: Instant) -> Option<Patient<'_>> {
        Some(Patient {
            conn: self.conn.as_mut()?,
            shared: &self.shared,
            until,
        })
    }

    /// The next complete request, or `None` when the client closed the
    /// connection or the server is stopping. A request the sandbox's reader
    /// refuses is answered with its error and also ends in `None`.
    pub fn read_request(&mut self) -> Option<Request> {
        let mut peer = Patient {
            conn: self.conn.as_mut()?,
            shared: &self.shared,
            until: self.shared.ends_at,
        };
        match self.reader.read_request(&mut peer) {
            Ok(Some(request)) => {
                self.shared.counters.requests.fetch_add(1, Ordering::SeqCst);
                Some(request)
            }
            Ok(None) => None,
            Err(e) => {
                self.send(&e.to_response().to_bytes(false));
                None
            }
        }
    }

    /// Writes and flushes; false once the client is gone.
    pub fn send(&mut self, data: &[u8]) -> bool {
        if !self.shared.alive() {
            return false;
        }
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        let ok = conn.write_all(data).and_then(|_| conn.flush()).is_ok();
        if ok {
            self.shared
                .counters
                .bytes_sent
                .fetch_add(data.len(), Ordering::SeqCst);
        }
        ok
    }

    /// A complete keep-alive response (the sandbox's: Content-Length, Date and
    /// a JSON Content-Type unless `headers` set them).
    pub fn respond(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let response = headers
            .iter()
            .fold(Response::raw(status, body), |r, (n, v)| {
                r.with_header(n, *v)
            });
        self.send(&response.to_bytes(true))
    }

    /// Says nothing for up to `max`, returning early when the client closes
    /// the connection or the server stops. Whatever the client sends is read
    /// and discarded.
    pub fn idle(&mut self, max: Duration) {
        let mut sink = [0u8; 16 * 1024];
        let until = Instant::now() + max;
        while let Some(mut peer) = self.patient(until) {
            if !matches!(peer.read(&mut sink), Ok(n) if n > 0) {
                return;
            }
        }
    }

    /// Pauses up to `d`, but returns at once when the server stops.
    pub fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && self.shared.alive() {
            std::thread::sleep(Duration::from_millis(5).min(d));
        }
    }

    /// Aborts the connection: the peer gets a TCP RST (no TLS close_notify,
    /// no FIN).
    pub fn reset(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.reset();
        }
    }

    /// Closes without a word: TCP FIN, no TLS close_notify, no HTTP answer.
    pub fn hang_up(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.hang_up();
        }
    }
}
