//! Purpose-built misbehaving servers for the fault tests: std `TcpListener`
//! plus one thread per connection, TLS through openssl's `SslAcceptor`, and a
//! throwaway PKI (a CA and leaf certificates) generated in the test.
//!
//! Every server listens on 127.0.0.1 only, refuses to serve anything that is
//! not loopback, and stops by itself: when dropped (stop flag, then the accept
//! loop and every connection thread are joined) and in any case after
//! [`MAX_LIFETIME`]. Connection threads never block for long: reads poll
//! with a short timeout and give up as soon as the peer closes, the stop flag
//! is raised or the server's lifetime ends.

#![allow(dead_code)] // shared helpers: not every test file uses every one

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::ssl::{HandshakeError, SslAcceptor, SslMethod, SslStream};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509};

/// No server outlives this, whatever its handler does.
pub const MAX_LIFETIME: Duration = Duration::from_secs(20);
/// Socket read timeout: how often a blocked connection thread looks at the
/// stop flag.
const POLL: Duration = Duration::from_millis(20);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

// ------------------------------------------------------------------ PKI

/// Which certificate a TLS server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// Chained to the test CA, SAN IP:127.0.0.1 and DNS:localhost.
    Good,
    /// Chained to the test CA, valid, but SAN DNS:other.example only.
    OtherHost,
    /// Chained to the test CA, right host, notAfter yesterday.
    Expired,
}

/// The files and acceptors every test shares (generated once per process).
pub struct Fixture {
    pub dir: PathBuf,
    /// PEM of the test CA: the `ca_file` of every config.
    pub ca_file: PathBuf,
    /// The client's RSA-2048 private key (PKCS#8 PEM): `private_key_file`.
    pub key_file: PathBuf,
    /// Its public half, to verify the requests' X-SIGNATURE.
    pub public_key: PKey<Public>,
    good: SslAcceptor,
    other_host: SslAcceptor,
    expired: SslAcceptor,
}

impl Fixture {
    pub fn acceptor(&self, cert: Cert) -> &SslAcceptor {
        match cert {
            Cert::Good => &self.good,
            Cert::OtherHost => &self.other_host,
            Cert::Expired => &self.expired,
        }
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build_fixture().unwrap_or_else(|e| panic!("test PKI: {e}")))
}

fn fixture_dir_name(pid: u32) -> String {
    format!("faults-{pid}")
}

extern "C" fn remove_fixture_dir() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(fixture_dir_name(std::process::id()));
    let _ = fs::remove_dir_all(dir);
}

fn build_fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ours = fixture_dir_name(std::process::id());
    // Leftovers of runs that were killed before their exit handler ran
    // (never those of a run still going on: `cargo test` may run twice at
    // once in one tree).
    if let Ok(entries) = fs::read_dir(base) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("faults-")
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(pid) = pid {
                // SAFETY: signal 0 only checks that the process exists.
                let gone = unsafe { libc::kill(pid, 0) } != 0
                    && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
                if gone {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = base.join(ours);
    fs::create_dir_all(&dir)?;
    // SAFETY: registers a plain extern "C" fn with no captured state.
    unsafe {
        libc::atexit(remove_fixture_dir);
    }

    let now = chrono::Utc::now().timestamp();
    let day = 24 * 3600;

    let ca_key = ec_key()?;
    let ca_name = name("snapb2b faults test CA")?;
    let mut ca = X509::builder()?;
    ca.set_version(2)?;
    ca.set_serial_number(&*serial()?)?;
    ca.set_subject_name(&ca_name)?;
    ca.set_issuer_name(&ca_name)?;
    ca.set_pubkey(&ca_key)?;
    ca.set_not_before(&*Asn1Time::from_unix(now - 30 * day)?)?;
    ca.set_not_after(&*Asn1Time::from_unix(now + 30 * day)?)?;
    ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    ca.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&ca.x509v3_context(None, None))?;
    ca.append_extension(ski)?;
    ca.sign(&ca_key, MessageDigest::sha256())?;
    let ca_cert = ca.build();

    let ca_file = dir.join("ca.pem");
    fs::write(&ca_file, ca_cert.to_pem()?)?;

    let rsa = Rsa::generate(2048)?;
    let client_key = PKey::from_rsa(rsa)?;
    let key_file = dir.join("client-key.pem");
    fs::write(&key_file, client_key.private_key_to_pem_pkcs8()?)?;
    let public_key = PKey::public_key_from_der(&client_key.public_key_to_der()?)?;

    let good = leaf(
        &ca_cert,
        &ca_key,
        "127.0.0.1",
        &[San::Ip("127.0.0.1"), San::Dns("localhost")],
        (now - day, now + 30 * day),
    )?;
    let other_host = leaf(
        &ca_cert,
        &ca_key,
        "other.example",
        &[San::Dns("other.example")],
        (now - day, now + 30 * day),
    )?;
    let expired = leaf(
        &ca_cert,
        &ca_key,
        "127.0.0.1",
        &[San::Ip("127.0.0.1"), San::Dns("localhost")],
        (now - 30 * day, now - day),
    )?;

    Ok(Fixture {
        dir,
        ca_file,
        key_file,
        public_key,
        good: acceptor(&good, &ca_cert)?,
        other_host: acceptor(&other_host, &ca_cert)?,
        expired: acceptor(&expired, &ca_cert)?,
    })
}

enum San<'a> {
    Ip(&'a str),
    Dns(&'a str),
}

fn ec_key() -> Result<PKey<Private>, openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(common_name: &str) -> Result<X509Name, openssl::error::ErrorStack> {
    let mut b = X509Name::builder()?;
    b.append_entry_by_text("O", "snapb2b faults")?;
    b.append_entry_by_text("CN", common_name)?;
    Ok(b.build())
}

fn serial() -> Result<openssl::asn1::Asn1Integer, openssl::error::ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

fn leaf(
    ca_cert: &X509,
    ca_key: &PKey<Private>,
    common_name: &str,
    sans: &[San],
    (not_before, not_after): (i64, i64),
) -> Result<(X509, PKey<Private>), openssl::error::ErrorStack> {
    let key = ec_key()?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    b.set_serial_number(&*serial()?)?;
    let subject = name(common_name)?;
    b.set_subject_name(&subject)?;
    b.set_issuer_name(ca_cert.subject_name())?;
    b.set_pubkey(&key)?;
    b.set_not_before(&*Asn1Time::from_unix(not_before)?)?;
    b.set_not_after(&*Asn1Time::from_unix(not_after)?)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    for s in sans {
        match s {
            San::Ip(ip) => san.ip(ip),
            San::Dns(dns) => san.dns(dns),
        };
    }
    let san = san.build(&b.x509v3_context(Some(ca_cert), None))?;
    b.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(ca_cert), None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(false)
        .build(&b.x509v3_context(Some(ca_cert), None))?;
    b.append_extension(aki)?;
    b.sign(ca_key, MessageDigest::sha256())?;
    Ok((b.build(), key))
}

fn acceptor(
    (cert, key): &(X509, PKey<Private>),
    ca_cert: &X509,
) -> Result<SslAcceptor, openssl::error::ErrorStack> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
    b.set_private_key(key)?;
    b.set_certificate(cert)?;
    b.add_extra_chain_cert(ca_cert.clone())?;
    b.check_private_key()?;
    Ok(b.build())
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
pub struct Counters {
    pub connections: AtomicUsize,
    /// Complete HTTP requests read.
    pub requests: AtomicUsize,
    /// Response bytes written (headers and body).
    pub bytes_sent: AtomicUsize,
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

pub struct Server {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts listening on 127.0.0.1 (an ephemeral port) and runs `handler`
    /// on its own thread for every connection, after the TLS handshake in
    /// [`Mode::Tls`].
    pub fn start<F>(mode: Mode, handler: F) -> Server
    where
        F: Fn(&mut Session) + Send + Sync + 'static,
    {
        let acceptor = match mode {
            Mode::Tls(cert) => Some(fixture().acceptor(cert).clone()),
            Mode::RawTcp => None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            ends_at: Instant::now() + MAX_LIFETIME,
            counters: Counters::default(),
        });
        let handler = Arc::new(handler);
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            let mut connections: Vec<JoinHandle<()>> = Vec::new();
            let mut index = 0;
            while s.alive() {
                match listener.accept() {
                    Ok((stream, peer)) => {
                        if !is_loopback(&peer) {
                            continue; // dropped unanswered
                        }
                        s.counters.connections.fetch_add(1, Ordering::SeqCst);
                        let (s, handler, acceptor) = (s.clone(), handler.clone(), acceptor.clone());
                        let i = index;
                        index += 1;
                        connections.push(std::thread::spawn(move || {
                            if let Some(mut session) = Session::open(stream, acceptor, s, i) {
                                handler(&mut session);
                            }
                        }));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
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

    pub fn connections(&self) -> usize {
        self.shared.counters.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

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
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// One HTTP request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One accepted connection, handed to the handler.
pub struct Session {
    conn: Option<Conn>,
    /// 0 for the server's first connection, 1 for the second, ...
    pub index: usize,
    shared: Arc<Shared>,
    buf: Vec<u8>,
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
        let conn = match acceptor {
            None => Conn::Plain(stream),
            Some(acceptor) => {
                let mut attempt = acceptor.accept(stream);
                loop {
                    match attempt {
                        Ok(tls) => break Conn::Tls(Box::new(tls)),
                        Err(HandshakeError::WouldBlock(mid)) if shared.alive() => {
                            attempt = mid.handshake();
                        }
                        // The client gave up (e.g. rejected our certificate).
                        Err(_) => return None,
                    }
                }
            }
        };
        Some(Session {
            conn: Some(conn),
            index,
            shared,
            buf: Vec::new(),
        })
    }

    fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("connection still open")
    }

    /// Reads more bytes into the buffer; `None` once the peer closed, the
    /// connection failed or the server is stopping.
    fn fill(&mut self) -> Option<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if !self.shared.alive() || self.conn.is_none() {
                return None;
            }
            match self.conn().read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Some(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return None,
            }
        }
    }

    /// The next complete request (head and Content-Length body), or `None`
    /// when the client closed the connection.
    pub fn read_request(&mut self) -> Option<Request> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_string();
                let path = first.next().unwrap_or("").to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                let length = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(0);
                while self.buf.len() < end + 4 + length {
                    self.fill()?;
                }
                let body = self.buf[end + 4..end + 4 + length].to_vec();
                self.buf.drain(..end + 4 + length);
                self.shared.counters.requests.fetch_add(1, Ordering::SeqCst);
                return Some(Request {
                    method,
                    path,
                    headers,
                    body,
                });
            }
            self.fill()?;
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

    /// A complete response with Content-Length (keep-alive unless the
    /// headers say otherwise).
    pub fn respond(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        out.push_str("Content-Type: application/json\r\n");
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes)
    }

    /// Says nothing for up to `max`, returning early when the client closes
    /// the connection or the server stops. Whatever the client sends is read
    /// and discarded.
    pub fn idle(&mut self, max: Duration) {
        let until = Instant::now() + max;
        while Instant::now() < until {
            if self.fill().is_none() {
                return;
            }
            self.buf.clear();
        }
    }

    /// Pauses up to `d`, but returns at once when the server stops.
    pub fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && self.shared.alive() {
            std::thread::sleep(Duration::from_millis(5).min(d));
        }
    }

    /// Closes with SO_LINGER 0: the peer gets a TCP RST (no TLS close_notify,
    /// no FIN).
    pub fn reset(&mut self) {
        if let Some(conn) = self.conn.take() {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid open socket and a correctly sized linger struct.
            unsafe {
                libc::setsockopt(
                    conn.tcp().as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
            drop(conn);
        }
    }

    /// Closes without a word: TCP FIN, no TLS close_notify, no HTTP answer.
    pub fn hang_up(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.tcp().shutdown(Shutdown::Both);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
