//! A token client that never asks twice: it keeps the token while it is
//! fresh, lets exactly one caller renew it while the others wait for that
//! result (single flight), shares it with other processes through an
//! optional cache file (one host) and an optional Redis store (`cache_url`,
//! the fleet), keeps its parsed key and its HTTP connection, and retries
//! transient failures within the configured time budget.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::config::{Config, ConfigKind};
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::service_call::{self, ServiceRequest, ServiceResponse};
use crate::shared_store::tokens::{Renewed, SharedTokens};
use crate::token::{self, Token};
use crate::token_file::TokenFile;
use crate::transport::{self, Delivery, Limits, Transport};

/// A failed renewal still returns the old token when at least this much of
/// its life is left.
pub const MIN_USABLE_S: i64 = 5;
const BACKOFF_BASE_MS: u64 = 100;
const BACKOFF_MAX_MS: u64 = 1_000;
const MAX_IDLE_CONNECTIONS: usize = 8;

/// Time source, injectable so freshness can be tested without sleeping.
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        Utc::now().timestamp()
    }
}

/// Where a returned token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This call made the token request.
    Fetched,
    /// Memory, the cache file, or another thread's request.
    Cached,
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    fetching: bool,
    /// Bumped when a fetch finishes, so waiters know theirs is done.
    generation: u64,
    /// The outcome of the last failed fetch, shared with its waiters.
    last_error: Option<(u64, Error)>,
}

/// What belongs to one process: a child of `fork()` gets its own (see
/// [`Client::local`]).
struct Local {
    /// The process this belongs to.
    pid: u32,
    state: Mutex<State>,
    done: Condvar,
    /// Idle connections (curl handles), shared by token renewals and
    /// service calls: a request takes one (or a new one) and puts it back,
    /// so sequential calls reuse one TLS connection and concurrent ones do
    /// not wait for each other.
    transports: Mutex<Vec<Transport>>,
}

impl Local {
    fn new(pid: u32, token: Option<Token>) -> Local {
        Local {
            pid,
            state: Mutex::new(State {
                token,
                ..State::default()
            }),
            done: Condvar::new(),
            transports: Mutex::new(Vec::new()),
        }
    }
}

// `local` is a raw pointer, so the compiler no longer checks this for us.
const _: () = {
    fn shareable<T: Send + Sync>() {}
    let _ = shareable::<Local>;
};

pub struct Client {
    config: Config,
    key: PrivateKey,
    /// Always a valid `Box<Local>`; replaced (never freed) in a forked
    /// child, so a reference to the old one stays valid.
    local: AtomicPtr<Local>,
    file: Option<TokenFile>,
    /// The fleet's store (`cache_url`), asked after memory and the file.
    shared: Option<SharedTokens>,
    clock: Arc<dyn Clock>,
    /// Number of token requests sent (attempts, including retries).
    requests: std::sync::atomic::AtomicU64,
}

impl Client {
    pub fn new(config_json: &str) -> Result<Client> {
        Client::with_clock(
            Config::parse(config_json, ConfigKind::Client)?,
            Arc::new(SystemClock),
        )
    }

    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Client> {
        let key = config.load_key()?;
        let file = config
            .client
            .cache_file
            .as_deref()
            .map(|p| TokenFile::new(p, &config));
        let shared = config
            .client
            .cache_url
            .clone()
            .map(|s| SharedTokens::new(s, &config));
        Ok(Client {
            config,
            key,
            local: AtomicPtr::new(Box::into_raw(Box::new(Local::new(current_pid(), None)))),
            file,
            shared,
            clock,
            requests: Default::default(),
        })
    }

    /// The process's client for this exact config text: one parsed key,
    /// trust store, cached token and kept-alive connection per config
    /// (PHP-FPM workers create a client per request). Keyed by the
    /// SHA-256 of `config_json`, at most [`SHARED_CLIENTS`], least recently
    /// used dropped first (its holders keep it alive).
    pub fn shared(config_json: &str) -> Result<Arc<Client>> {
        let key = crate::digest::sha256(config_json.as_bytes());
        if let Some(found) = with_registry(|r| r.get(&key)).flatten() {
            return Ok(found);
        }
        // Parsed outside the registry's lock: a key takes milliseconds.
        // The key file is stamped before and after it is read: a client
        // whose file changed meanwhile is used once, not shared.
        let config = Config::parse(config_json, ConfigKind::Client)?;
        let files = FileStamps::of(&config);
        let client = Arc::new(Client::with_clock(config, Arc::new(SystemClock))?);
        if !files.unchanged() {
            return Ok(client);
        }
        Ok(with_registry(|r| r.insert(key, files, client.clone())).unwrap_or(client))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Token requests sent so far by this client.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This process's state. After a `fork()` the child inherits the
    /// parent's connections (the same TLS sessions: using them from two
    /// processes corrupts both) and possibly a renewal in flight that no
    /// thread of the child will ever finish. So the first call in a new
    /// process starts over: no connections, nothing in flight, the cached
    /// token kept. The inherited connections are leaked, not closed: closing
    /// would send a TLS close_notify on the parent's connection (and a
    /// mutex held at the fork would never be released here anyway).
    /// One `getpid()` per call.
    fn local(&self) -> &Local {
        let pid = current_pid();
        loop {
            let current = self.local.load(Ordering::Acquire);
            // SAFETY: always a valid Box<Local>, freed only in Drop.
            let local = unsafe { &*current };
            if local.pid == pid {
                return local;
            }
            // A mutex held by a thread of the parent stays locked here:
            // try, and do without the token if so.
            let token = match local.state.try_lock() {
                Ok(mut s) => s.token.take(),
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().token.take(),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            let fresh = Box::into_raw(Box::new(Local::new(pid, token)));
            if self
                .local
                .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // Another thread of this child got there first.
                // SAFETY: ours, never shared.
                drop(unsafe { Box::from_raw(fresh) });
            }
            // The inherited Local (and its curl handles) is deliberately
            // leaked: see above.
        }
    }

    /// A fresh token: the cached one while more than the refresh margin
    /// remains, otherwise a new one. Returns within `timeout_ms` in all:
    /// waiting for another thread's renewal, for another process's cache
    /// file lock and the request itself share that one budget.
    pub fn token(&self) -> Result<(Token, Source)> {
        self.token_until(Instant::now() + self.config.timeout)
    }

    /// [`Client::token`] within a call's own budget (a service call's or
    /// customer token request's `timeout_ms`), the wait for it included.
    fn token_until(&self, deadline: Instant) -> Result<(Token, Source)> {
        let local = self.local();
        let mut state = lock(&local.state);
        let mut retried = false;
        loop {
            if let Some(t) = state.token.as_ref().filter(|t| self.is_fresh(t)) {
                return Ok((t.clone(), Source::Cached));
            }
            if !state.fetching {
                break;
            }
            // Someone else is renewing: wait for their outcome, not ours.
            let generation = state.generation;
            while state.fetching && state.generation == generation {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let e = Error::new(
                        Status::B2B_TIMEOUT,
                        "no token within timeout_ms: another thread's renewal is still running",
                    );
                    return self.fallback(&state, e);
                }
                state = local
                    .done
                    .wait_timeout(state, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            if let Some((g, e)) = &state.last_error {
                if *g == generation + 1 {
                    // That renewal ran out of its caller's time (a service
                    // call with a short timeout_ms may have started it):
                    // with time of its own left, this call tries once itself.
                    if e.status == Status::B2B_TIMEOUT && !retried && Instant::now() < deadline {
                        retried = true;
                        continue;
                    }
                    return self.fallback(&state, e.clone());
                }
            }
        }
        state.fetching = true;
        drop(state);

        // Reset `fetching` even if the renewal panics, or waiters hang.
        let mut finish = FetchGuard {
            local,
            outcome: None,
        };
        let outcome = self.renew(deadline);
        finish.outcome = Some(outcome.clone().map(|(t, _)| t));
        drop(finish);

        match outcome {
            Ok(ok) => Ok(ok),
            Err(e) => {
                let state = lock(&local.state);
                self.fallback(&state, e)
            }
        }
    }

    /// Whether the token is shared, for the token result's `cache` field:
    /// `None` without `cache_file` or `cache_url`, `"on"`, or what is not
    /// shared and why, as the last use found it: `"off: <why>"` for the
    /// file (not ours, a read-only directory ...), `"unavailable: redis at
    /// <url>: <why>"` for the store; both joined by `"; "`.
    pub fn cache_status(&self) -> Option<String> {
        if self.file.is_none() && self.shared.is_none() {
            return None;
        }
        let problems: Vec<String> = [
            self.file.as_ref().and_then(TokenFile::status),
            self.shared.as_ref().and_then(SharedTokens::status),
        ]
        .into_iter()
        .flatten()
        .collect();
        Some(if problems.is_empty() {
            "on".to_string()
        } else {
            problems.join("; ")
        })
    }

    /// The fleet's store, when `cache_url` is set (for tests and tools).
    pub fn shared_tokens(&self) -> Option<&SharedTokens> {
        self.shared.as_ref()
    }

    /// Drops the cached token (e.g. after a service call answered 401
    /// "Invalid Token (B2B)"), including the cache file's entry and the
    /// fleet's (each only while it still holds that token).
    pub fn invalidate(&self) {
        let mut state = lock(&self.local().state);
        let old = state.token.take();
        if let Some(file) = &self.file {
            file.remove_if_holds(old.as_ref());
        }
        // Not under the lock: a slow Redis must not hold up other threads.
        drop(state);
        self.unshare(old.as_ref());
    }

    /// Removes `token` from the fleet's store, if it is still there.
    fn unshare(&self, token: Option<&Token>) {
        if let (Some(shared), Some(token)) = (&self.shared, token) {
            shared.remove_if_holds(token, Instant::now() + self.config.timeout);
        }
    }

    /// Drops the cached token only if it is still `used`: after a service
    /// call refused `used`, another thread may already hold a new one.
    fn invalidate_if(&self, used: &Token) {
        let mut state = lock(&self.local().state);
        let held = state.token.as_ref() == Some(used);
        if held {
            state.token = None;
        }
        if held || state.token.is_none() {
            // Another process may still hold it in the shared file or store.
            if let Some(file) = &self.file {
                file.remove_if_holds(Some(used));
            }
            drop(state);
            self.unshare(Some(used));
        }
    }

    fn take_transport(&self) -> Transport {
        let mut idle = lock(&self.local().transports);
        idle.pop().unwrap_or_default()
    }

    fn put_transport(&self, transport: Transport) {
        let local = self.local();
        let mut idle = lock(&local.transports);
        // More idle connections than this are not worth keeping open.
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(transport);
        }
    }

    /// The headers of one service call (`b2b_client_headers`), for callers
    /// that send it themselves: a fresh token through the cache, one
    /// timestamp signed and sent, a new X-EXTERNAL-ID unless the request
    /// names one.
    pub fn headers(&self, request: &ServiceRequest) -> Result<Vec<(String, String)>> {
        service_call::check_settings(&self.config)?;
        let external_id = self.external_id_for(request)?;
        let (token, _) = self.token()?;
        let timestamp = self.config.timestamp_style.format(Utc::now());
        let envelope = service_call::envelope(
            &self.config,
            &self.key,
            &token,
            request,
            &external_id,
            &timestamp,
        )?;
        Ok(envelope.headers)
    }

    /// A customer (B2B2C) token for `request`'s auth code or refresh token,
    /// over this client's connections: see [`crate::customer_token`].
    pub fn customer_token(
        &self,
        request: &crate::customer_token::CustomerTokenRequest,
    ) -> Result<crate::customer_token::CustomerToken> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.config.timeout);
        let token = if crate::customer_token::wants_b2b_token(&self.config) {
            let (token, _) = self.token_until(deadline).map_err(|mut e| {
                e.message = format!(
                    "customer token request: not sent: no B2B access token: {}",
                    e.message
                );
                e
            })?;
            Some(token)
        } else {
            None
        };
        let authorization = token.as_ref().map(|t| {
            crate::secret::SecretString::new(format!(
                "{} {}",
                t.token_type,
                t.access_token.expose()
            ))
        });
        let mut transport = self.take_transport();
        let result = crate::customer_token::fetch(
            &self.config,
            &self.key,
            &mut transport,
            request,
            authorization.as_ref(),
            deadline,
        );
        self.put_transport(transport);
        // A B2B token the provider calls invalid is dropped (everywhere), so
        // the caller's next attempt renews it; the grant is not re-sent here.
        if let (Err(e), Some(token)) = (&result, &token) {
            if e.http_status == Some(401)
                && e.response_code
                    .as_deref()
                    .is_some_and(|c| self.config.profile.is_invalid_token_code(c))
            {
                self.invalidate_if(token);
            }
        }
        result
    }

    fn external_id_for(&self, request: &ServiceRequest) -> Result<String> {
        match &request.external_id {
            Some(id) => Ok(id.clone()),
            None => crate::external_id::generate(self.config.client.service.external_id_length),
        }
    }

    /// Sends one service call over this client's connections and returns
    /// the provider's answer, whatever its status. A refused token (the
    /// profile's invalid-token codes on HTTP 401) is renewed once and the
    /// call sent once more with a new timestamp and signature and the same
    /// X-EXTERNAL-ID. A call that may have reached the provider is never
    /// sent again: only failures before anything was sent are retried.
    pub fn request(&self, request: &ServiceRequest) -> Result<ServiceResponse> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.config.timeout);
        service_call::check_settings(&self.config)?;
        let external_id = self.external_id_for(request)?;
        let not_sent = |mut e: Error| {
            e.message = format!(
                "{} {}: not sent: no access token: {}",
                request.method, request.path, e.message
            );
            e
        };
        let (mut token, _) = self.token_until(deadline).map_err(not_sent)?;
        let mut renewed = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut answer = self.send_service(request, &token, &external_id, deadline)?;
            if !renewed && answer.is_invalid_token(&self.config) {
                self.invalidate_if(&token);
                token = self.token_until(deadline).map_err(not_sent)?.0;
                renewed = true;
                continue;
            }
            answer.token_renewed = renewed;
            answer.attempts = attempts;
            return Ok(answer);
        }
    }

    /// One sending of a call: retried (with a new timestamp) only while
    /// nothing of it has been sent.
    fn send_service(
        &self,
        request: &ServiceRequest,
        token: &Token,
        external_id: &str,
        deadline: Instant,
    ) -> Result<ServiceResponse> {
        let service = &self.config.client.service;
        // Only failures name the call: not formatted on the way to success.
        let endpoint = || format!("{} {}", request.method, request.path);
        let mut retry = 0u32;
        // A kept-alive connection the provider had already dropped costs
        // nothing: the first such failure is sent again on a new connection
        // without counting as a retry.
        let mut stale_connection_seen = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::new(
                    Status::B2B_TIMEOUT,
                    format!("{}: not sent: no time left of timeout_ms", endpoint()),
                ));
            }
            let timestamp = self.config.timestamp_style.format(Utc::now());
            let envelope = service_call::envelope(
                &self.config,
                &self.key,
                token,
                request,
                external_id,
                &timestamp,
            )?;
            let http = transport::Request {
                method: &request.method,
                url: &envelope.url,
                headers: &envelope.headers,
                body: request.body.as_bytes(),
                max_response_bytes: service.max_response_bytes,
                resend_on_dead_connection: false,
            };
            let limits = Limits {
                timeout: remaining,
                connect_timeout: self.config.connect_timeout.min(remaining),
                ca_file: self.config.ca_file.clone(),
            };
            let mut transport = self.take_transport();
            let result = transport.send(&http, &limits);
            self.put_transport(transport);
            // Drawn only after a failure: the jitter costs a random number.
            let pause = match &result {
                Err(f)
                    if f.delivery == Delivery::NotSent
                        && retry < self.config.client.max_retries =>
                {
                    Some(backoff(retry))
                }
                _ => None,
            };
            match result {
                Err(f)
                    if f.delivery == Delivery::NotSent
                        && f.reused_connection
                        && !stale_connection_seen =>
                {
                    stale_connection_seen = true;
                }
                Ok(response) => {
                    return Ok(ServiceResponse::from_http(
                        &self.config,
                        &response,
                        external_id,
                    ))
                }
                Err(_) if pause.is_some_and(|p| Instant::now() + p < deadline) => {
                    std::thread::sleep(pause.unwrap_or_default());
                    retry += 1;
                }
                Err(f) => {
                    let mut e = f.error;
                    e.message = match f.delivery {
                        Delivery::NotSent => format!("{}: not sent: {}", endpoint(), e.message),
                        Delivery::MaybeSent => format!(
                            "{}: sent, no answer: it may have been processed; query its status with X-EXTERNAL-ID {external_id} before sending it again ({})",
                            endpoint(),
                            e.message
                        ),
                    };
                    return Err(e);
                }
            }
        }
    }

    /// Fresh while more than the refresh margin remains; the margin is
    /// capped at half the token's life so short-lived tokens are still
    /// reused.
    fn is_fresh(&self, token: &Token) -> bool {
        let margin = (self.config.client.refresh_margin_s).min(token.expires_in / 2) as i64;
        token.remaining_s(self.clock.now()) > margin
    }

    /// After a failed renewal: the old token if it still has a few seconds,
    /// else the error.
    fn fallback(&self, state: &State, err: Error) -> Result<(Token, Source)> {
        match &state.token {
            Some(t) if t.remaining_s(self.clock.now()) >= MIN_USABLE_S => {
                Ok((t.clone(), Source::Cached))
            }
            _ => Err(err),
        }
    }

    /// Cache file first (under its lock), then the fleet's store, then the
    /// provider.
    fn renew(&self, deadline: Instant) -> Result<(Token, Source)> {
        let Some(file) = &self.file else {
            return self.renew_shared(deadline);
        };
        if let Some(t) = file.read().filter(|t| self.is_fresh(t)) {
            return Ok((t, Source::Cached));
        }
        // The lock gets what is left of timeout_ms, the request what is left
        // after the lock: a process that holds it longer (stuck, or renewing
        // with a longer timeout) must not stretch this caller's wait.
        let _lock = file.lock(deadline.saturating_duration_since(Instant::now()));
        // Another process may have renewed while we waited for the lock.
        if let Some(t) = file.read().filter(|t| self.is_fresh(t)) {
            return Ok((t, Source::Cached));
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                Status::B2B_TIMEOUT,
                format!(
                    "no token within {} ms (timeout_ms): another process held the cache_file lock all that time",
                    self.config.timeout.as_millis()
                ),
            ));
        }
        let (token, source) = self.renew_shared(deadline)?;
        let _ = file.write(&token);
        Ok((token, source))
    }

    /// Through the fleet's store when `cache_url` is set (one renewal for
    /// every host), else straight from the provider.
    fn renew_shared(&self, deadline: Instant) -> Result<(Token, Source)> {
        let Some(shared) = &self.shared else {
            return self
                .fetch_with_retries(deadline)
                .map(|t| (t, Source::Fetched));
        };
        let renewed = shared.renew(deadline, &|t| self.is_fresh(t), &mut || {
            self.fetch_with_retries(deadline)
        })?;
        Ok(match renewed {
            Renewed::Shared(t) => (t, Source::Cached),
            Renewed::Fetched(t) => (t, Source::Fetched),
        })
    }

    /// Transport failures, timeouts and HTTP 5xx are retried with jittered
    /// backoff while the overall `timeout_ms` lasts; 4xx never.
    fn fetch_with_retries(&self, deadline: Instant) -> Result<Token> {
        let mut attempt = 0u32;
        loop {
            let remaining = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let started = self.clock.now();
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let result = {
                let mut transport = self.take_transport();
                let result = token::fetch(&self.config, &self.key, &mut transport, remaining);
                self.put_transport(transport);
                result
            };
            match result {
                Ok(mut t) => {
                    // Expiry on this client's clock, from the request's start.
                    t.expires_at = started + t.expires_in as i64;
                    return Ok(t);
                }
                Err(e) if attempt < self.config.client.max_retries && is_retryable(&e) => {
                    let pause = backoff(attempt);
                    if Instant::now() + pause >= deadline {
                        return Err(e);
                    }
                    std::thread::sleep(pause);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let local = self.local.load(Ordering::Acquire);
        // SAFETY: always a valid Box<Local>; no call is running (&mut self).
        let local = unsafe { Box::from_raw(local) };
        if local.pid != current_pid() {
            // Freed in a forked child that never used it: the connections
            // are the parent's (see `local`).
            std::mem::forget(local);
        }
    }
}

/// This process's id, without a system call on every client call (glibc no
/// longer caches `getpid()`; three calls were a fifth of a cached-token
/// call). Kept by a `pthread_atfork` child handler, which `fork()` runs in
/// the child (Python's `os.fork`, PHP's `pcntl_fork` and C `fork()` alike);
/// a child made without it (`vfork`, `posix_spawn`) runs `exec` before any
/// call of ours.
fn current_pid() -> u32 {
    use std::sync::atomic::{AtomicBool, AtomicU32};
    static PID: AtomicU32 = AtomicU32::new(0);
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    extern "C" fn forked_child() {
        PID.store(std::process::id(), Ordering::Relaxed);
    }
    match PID.load(Ordering::Relaxed) {
        0 => {
            // Not a `Once`: a child forked while another thread was inside
            // it would wait for that thread forever. The first caller
            // registers; the others ask the kernel until it is done.
            if !REGISTERED.swap(true, Ordering::AcqRel) {
                // SAFETY: a plain function that only stores to an atomic
                // (async-signal-safe, as a fork child handler must be).
                if unsafe { libc::pthread_atfork(None, None, Some(forked_child)) } == 0 {
                    PID.store(std::process::id(), Ordering::Relaxed);
                }
            }
            std::process::id()
        }
        pid => pid,
    }
}

/// How many configs [`Client::shared`] keeps.
pub const SHARED_CLIENTS: usize = 32;

/// Most recently used last.
#[derive(Default)]
struct Registry(Vec<Entry>);

struct Entry {
    key: [u8; 32],
    files: FileStamps,
    /// When `files` were last found unchanged.
    checked: Instant,
    client: Arc<Client>,
}

/// How long a registry entry is used without looking at its files again.
/// Two `stat()`s per new client were the largest part of a PHP-FPM
/// request's `new TokenClient` (path walks, cold in a busy worker); a
/// rotated key or CA file is picked up within this much time instead.
pub const FILE_RECHECK: Duration = Duration::from_secs(1);

impl Registry {
    /// The client for `key`, unless a file it was made from (the key file,
    /// the CA file) has changed since it was last looked at (at most
    /// [`FILE_RECHECK`] ago): a rotated key is read again.
    fn get(&mut self, key: &[u8; 32]) -> Option<Arc<Client>> {
        let at = self.0.iter().position(|e| &e.key == key)?;
        let mut entry = self.0.remove(at);
        let now = Instant::now();
        if now.duration_since(entry.checked) >= FILE_RECHECK {
            if !entry.files.unchanged() {
                return None;
            }
            entry.checked = now;
        }
        let client = entry.client.clone();
        self.0.push(entry);
        Some(client)
    }

    /// The entry for `key`: `client` unless another thread got there first.
    fn insert(&mut self, key: [u8; 32], files: FileStamps, client: Arc<Client>) -> Arc<Client> {
        if let Some(found) = self.get(&key) {
            return found;
        }
        if self.0.len() >= SHARED_CLIENTS {
            self.0.remove(0);
        }
        self.0.push(Entry {
            key,
            files,
            checked: Instant::now(),
            client: client.clone(),
        });
        client
    }
}

/// What identifies the contents of the files a config names without reading
/// them: device, inode, size, modification and change times (a rewrite in
/// place, an atomic rename and a Kubernetes secret's symlink swap each
/// change one of them).
struct FileStamps(Vec<(std::path::PathBuf, Option<[i64; 6]>)>);

impl FileStamps {
    fn of(config: &Config) -> FileStamps {
        let key = match &config.key {
            crate::config::KeySource::File(path) => Some(path.clone()),
            crate::config::KeySource::Inline(_) => None,
        };
        let ca = config.ca_file.as_ref().map(|t| t.path().to_path_buf());
        FileStamps(
            key.into_iter()
                .chain(ca)
                .map(|path| {
                    let stamp = Self::stamp(&path);
                    (path, stamp)
                })
                .collect(),
        )
    }

    fn stamp(path: &std::path::Path) -> Option<[i64; 6]> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some([
            m.dev() as i64,
            m.ino() as i64,
            m.size() as i64,
            m.mtime()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(m.mtime_nsec()),
            m.ctime()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(m.ctime_nsec()),
            m.mode() as i64,
        ])
    }

    fn unchanged(&self) -> bool {
        self.0
            .iter()
            .all(|(path, stamp)| stamp.is_some() && Self::stamp(path) == *stamp)
    }
}

/// Runs `f` on the registry; `None` when its lock cannot be had within
/// 100 ms, which only happens in a child forked while another thread held
/// it (that lock is never released there): the caller then does without.
fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> Option<T> {
    static REGISTRY: Mutex<Registry> = Mutex::new(Registry(Vec::new()));
    let give_up = Instant::now() + Duration::from_millis(100);
    loop {
        match REGISTRY.try_lock() {
            Ok(mut r) => return Some(f(&mut r)),
            Err(std::sync::TryLockError::Poisoned(p)) => return Some(f(&mut p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) if Instant::now() < give_up => {
                std::thread::yield_now()
            }
            Err(std::sync::TryLockError::WouldBlock) => return None,
        }
    }
}

/// The number of configs [`Client::shared`] holds now.
pub fn shared_clients() -> usize {
    with_registry(|r| r.0.len()).unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct FetchGuard<'a> {
    local: &'a Local,
    outcome: Option<Result<Token>>,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.local.state);
        state.fetching = false;
        state.generation += 1;
        match self.outcome.take() {
            Some(Ok(t)) => state.token = Some(t),
            Some(Err(e)) => state.last_error = Some((state.generation, e)),
            None => {
                state.last_error = Some((
                    state.generation,
                    Error::new(Status::B2B_INTERNAL, "token renewal was interrupted"),
                ))
            }
        }
        self.local.done.notify_all();
    }
}

fn is_retryable(e: &Error) -> bool {
    match e.status {
        Status::B2B_TRANSPORT | Status::B2B_TIMEOUT => true,
        Status::B2B_PROVIDER => e.http_status.is_some_and(|s| s >= 500),
        _ => false,
    }
}

/// 100 ms, 200 ms, 400 ms ... capped, each with +-50 % jitter so clients that
/// failed together do not retry together.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = (BACKOFF_BASE_MS << attempt.min(8)).min(BACKOFF_MAX_MS);
    let mut r = [0u8; 2];
    let _ = openssl::rand::rand_bytes(&mut r);
    let jitter = u16::from_le_bytes(r) as u64 % (base + 1);
    Duration::from_millis(base / 2 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy() {
        let mut e = Error::new(Status::B2B_PROVIDER, "x");
        e.http_status = Some(503);
        assert!(is_retryable(&e));
        e.http_status = Some(401);
        assert!(!is_retryable(&e));
        assert!(is_retryable(&Error::new(Status::B2B_TIMEOUT, "t")));
        assert!(!is_retryable(&Error::new(Status::B2B_PROTOCOL, "p")));
        for a in 0..5 {
            let d = backoff(a);
            assert!(d <= Duration::from_millis(1500), "{d:?}");
        }
    }
}
