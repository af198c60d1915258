//! Listeners and connections: one accept thread per listener, one thread per
//! connection (capped), TLS or plain, keep-alive, routing, logging and counting.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::SslAcceptor;
use serde_json::json;

use super::conn::Conn;
use super::http::{RequestReader, Response};
use super::providers::{provider_for_path, Action, Endpoints, Handled};
use super::services::service_for_path;
use super::stats::Stats;

/// Most connections served at once; further ones are closed on accept.
pub const MAX_CONNECTIONS: usize = 256;
/// A TLS handshake must complete within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An idle keep-alive connection is closed after this time.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a delayed answer checks for shutdown or a vanished peer.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// State shared by the listeners and connection threads.
pub struct State {
    pub endpoints: Endpoints,
    pub stats: Stats,
    pub log_requests: bool,
    shutdown: AtomicBool,
    active: AtomicUsize,
    next_conn_id: AtomicU64,
    /// Clones of open sockets, so shutdown can unblock their threads.
    open: Mutex<HashMap<u64, TcpStream>>,
}

impl State {
    pub fn new(endpoints: Endpoints, log_requests: bool) -> Self {
        State {
            endpoints,
            stats: Stats::default(),
            log_requests,
            shutdown: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            next_conn_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    fn open(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self, line: std::fmt::Arguments<'_>) {
        if self.log_requests {
            // Not eprintln!: it panics when stderr is a closed pipe.
            let _ = writeln!(io::stderr().lock(), "snapb2b-sandbox: {line}");
        }
    }

    /// Stops accepting and closes every open connection.
    pub fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for (_, s) in self.open().drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Revokes every valid token issued; returns how many.
    pub fn revoke_tokens(&self) -> u64 {
        let n = self.endpoints.tokens.revoke_all(chrono::Utc::now());
        self.stats.tokens_revoked(n);
        n
    }

    pub fn reset_stats(&self) {
        self.stats.reset();
        self.endpoints.reset_counters();
    }
}

/// What a listener speaks.
#[derive(Clone)]
pub enum Transport {
    Tls(Arc<SslAcceptor>),
    Plain,
}

/// A running listener; [`Listener::stop`] after [`State::begin_shutdown`].
pub struct Listener {
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    pub fn spawn(
        listener: TcpListener,
        transport: Transport,
        state: Arc<State>,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let thread = std::thread::Builder::new()
            .name(format!("sandbox-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, transport, state))?;
        Ok(Listener {
            addr,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Wakes the blocked `accept` with a connection of our own, then joins.
    pub fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                let _ = thread.join();
            }
            // Otherwise leave the thread detached rather than hang the caller.
        }
    }
}

fn accept_loop(listener: TcpListener, transport: Transport, state: Arc<State>) {
    loop {
        let accepted = listener.accept();
        if state.shutting_down() {
            return;
        }
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                state.log(format_args!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        state.stats.connection();
        if state.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            state.active.fetch_sub(1, Ordering::SeqCst);
            state.log(format_args!("{peer}: too many connections, closing"));
            continue;
        }
        let guard = ActiveGuard::new(&state, &tcp);
        let transport = transport.clone();
        let spawned = std::thread::Builder::new()
            .name("sandbox-conn".into())
            .spawn(move || {
                serve_connection(&guard.state, tcp, peer, &transport);
                drop(guard);
            });
        if let Err(e) = spawned {
            state.log(format_args!("{peer}: cannot start a thread: {e}"));
        }
    }
}

/// Counts a connection as active and registered for its whole life, even if its
/// thread panics (or never starts: the closure, and so the guard, is dropped).
struct ActiveGuard {
    state: Arc<State>,
    id: u64,
}

impl ActiveGuard {
    fn new(state: &Arc<State>, tcp: &TcpStream) -> Self {
        let id = state.next_conn_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = tcp.try_clone() {
            state.open().insert(id, clone);
        }
        ActiveGuard {
            state: Arc::clone(state),
            id,
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.state.open().remove(&self.id);
        self.state.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve_connection(state: &State, tcp: TcpStream, peer: SocketAddr, transport: &Transport) {
    // Small request/response exchanges: Nagle would add delayed-ACK stalls.
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let acceptor = match transport {
        Transport::Plain => None,
        Transport::Tls(acceptor) => {
            let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
            Some(acceptor.as_ref())
        }
    };
    // A handshake that times out is given up at once.
    let mut conn = match Conn::accept(tcp, acceptor, || false) {
        Ok(conn) => conn,
        Err(e) => {
            state.log(format_args!("{peer}: {e}"));
            return;
        }
    };
    let _ = conn.tcp().set_read_timeout(Some(IDLE_TIMEOUT));

    let mut reader = RequestReader::default();
    while !state.shutting_down() {
        let request = match reader.read_request(&mut conn) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                state.log(format_args!(
                    "{peer}: bad request: {} {}",
                    e.status, e.message
                ));
                let _ = send(&mut conn, &e.to_response(), false);
                conn.close();
                return;
            }
        };
        let keep_alive = request.keep_alive();
        let started = Instant::now();
        let handled = route(state, &request);
        let (written, status) = match &handled.action {
            Action::Respond(r) => (send(&mut conn, r, keep_alive), r.status.to_string()),
            Action::RespondAfter(delay, r) => {
                if wait(state, conn.tcp(), Some(*delay)) {
                    (send(&mut conn, r, keep_alive), r.status.to_string())
                } else {
                    (false, "abandoned".to_string())
                }
            }
            Action::Drop => (false, "dropped".to_string()),
            Action::Hold => {
                wait(state, conn.tcp(), None);
                (false, "held".to_string())
            }
        };
        if written && handled.issues_token {
            state.stats.token_issued();
        }
        state.log(format_args!(
            "{} {} client={} status={} code={} {}ms",
            printable(&request.method),
            printable(&request.path),
            handled.client_id.as_deref().map_or("-".into(), printable),
            status,
            handled.response_code.as_deref().unwrap_or("-"),
            started.elapsed().as_millis(),
        ));
        match handled.action {
            // Just vanish: no close_notify, no response.
            Action::Drop | Action::Hold => {
                conn.hang_up();
                return;
            }
            _ if !written => return,
            _ if !keep_alive => {
                conn.close();
                return;
            }
            _ => {}
        }
    }
}

fn send(conn: &mut Conn, response: &Response, keep_alive: bool) -> bool {
    conn.write_all(&response.to_bytes(keep_alive))
        .and_then(|()| conn.flush())
        .is_ok()
}

/// Sleeps for `delay` (`None`: for ever); false if the sandbox shuts down or
/// the peer hangs up first.
fn wait(state: &State, tcp: &TcpStream, delay: Option<Duration>) -> bool {
    let deadline = delay.and_then(|d| Instant::now().checked_add(d));
    loop {
        if state.shutting_down() || peer_closed(tcp) {
            return false;
        }
        let now = Instant::now();
        let left = match deadline {
            Some(d) if now >= d => return true,
            Some(d) => d - now,
            None => POLL_INTERVAL,
        };
        std::thread::sleep(POLL_INTERVAL.min(left));
    }
}

/// Whether the peer has shut down its side (it gave up on us).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_closed(tcp: &TcpStream) -> bool {
    use std::os::unix::io::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: tcp.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a socket we own, zero timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
}

/// Portable fallback: EOF visible to a non-blocking peek (misses a TLS
/// close_notify still queued ahead of the EOF, which only delays giving up).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_closed(tcp: &TcpStream) -> bool {
    if tcp.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let result = tcp.peek(&mut byte);
    let _ = tcp.set_nonblocking(false);
    matches!(result, Ok(0))
}

/// Control endpoints, then token and service endpoints; everything else is a 404.
fn route(state: &State, req: &super::http::Request) -> Handled {
    let plain = |response: Response| Handled {
        action: Action::Respond(response),
        client_id: None,
        response_code: None,
        issues_token: false,
    };
    let not_found = || {
        plain(Response::json(
            404,
            &json!({"responseCode": "4040000", "responseMessage": "Not Found"}),
        ))
    };
    let method_not_allowed = |allow: &str| {
        plain(
            Response::json(
                405,
                &json!({"responseCode": "4050000", "responseMessage": "Method Not Allowed"}),
            )
            .with_header("Allow", allow),
        )
    };

    // Control endpoints are not counted, so reading the stats does not change them.
    if req.path == "/sandbox" || req.path.starts_with("/sandbox/") {
        return match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/sandbox/health") => plain(Response::json(200, &json!({"ok": true}))),
            ("GET", "/sandbox/stats") => plain(Response::json(200, &state.stats.snapshot())),
            ("POST", "/sandbox/stats/reset") => {
                state.reset_stats();
                plain(Response::json(200, &json!({"ok": true})))
            }
            ("POST", "/sandbox/tokens/revoke") => {
                let revoked = state.revoke_tokens();
                plain(Response::json(200, &json!({ "revoked": revoked })))
            }
            (_, "/sandbox/health" | "/sandbox/stats") => method_not_allowed("GET"),
            (_, "/sandbox/stats/reset" | "/sandbox/tokens/revoke") => method_not_allowed("POST"),
            _ => not_found(),
        };
    }

    state.stats.request(&req.path);
    if let Some((provider, service)) = service_for_path(&req.path) {
        let handled = state
            .endpoints
            .handle_service(provider, service, req, chrono::Utc::now());
        state
            .stats
            .service_call(handled.client_id.as_deref(), handled.status());
        return handled;
    }
    if let Some(provider) = super::customer::provider_for_path(&req.path) {
        let handled = state
            .endpoints
            .handle_customer(provider, req, chrono::Utc::now());
        state
            .stats
            .customer_token_request(handled.status() == Some(200));
        return handled;
    }
    let Some(provider) = provider_for_path(&req.path) else {
        return not_found();
    };
    let handled = state.endpoints.handle(provider, req, chrono::Utc::now());
    state.stats.token_request(handled.client_id.as_deref());
    handled
}

/// A peer-supplied value made safe for a log line: no control characters,
/// bounded length.
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}
