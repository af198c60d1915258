//! A token client that never asks twice: it keeps the token while it is
//! fresh, lets exactly one caller renew it while the others wait for that
//! result (single flight), shares it with other processes through an
//! optional cache file, keeps its parsed key and its HTTP connection, and
//! retries transient failures within the configured time budget.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::config::{Config, ConfigKind};
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::token::{self, Token};
use crate::token_file::TokenFile;
use crate::transport::Transport;

/// A failed renewal still returns the old token when at least this much of
/// its life is left.
pub const MIN_USABLE_S: i64 = 5;
const BACKOFF_BASE_MS: u64 = 100;
const BACKOFF_MAX_MS: u64 = 1_000;

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

pub struct Client {
    config: Config,
    key: PrivateKey,
    state: Mutex<State>,
    done: Condvar,
    transport: Mutex<Transport>,
    file: Option<TokenFile>,
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
        Ok(Client {
            config,
            key,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
            transport: Mutex::new(Transport::new()),
            file,
            clock,
            requests: Default::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Token requests sent so far by this client.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A fresh token: the cached one while more than the refresh margin
    /// remains, otherwise a new one.
    pub fn token(&self) -> Result<(Token, Source)> {
        let mut state = self.lock_state();
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
                state = self.done.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if let Some((g, e)) = &state.last_error {
                if *g == generation + 1 {
                    return self.fallback(&state, e.clone());
                }
            }
        }
        state.fetching = true;
        drop(state);

        // Reset `fetching` even if the renewal panics, or waiters hang.
        let mut finish = FetchGuard {
            client: self,
            outcome: None,
        };
        let outcome = self.renew();
        finish.outcome = Some(outcome.clone().map(|(t, _)| t));
        drop(finish);

        match outcome {
            Ok(ok) => Ok(ok),
            Err(e) => {
                let state = self.lock_state();
                self.fallback(&state, e)
            }
        }
    }

    /// Drops the cached token (e.g. after a service call answered 401
    /// "Invalid Token (B2B)"), including the cache file's entry.
    pub fn invalidate(&self) {
        let mut state = self.lock_state();
        let old = state.token.take();
        if let Some(file) = &self.file {
            file.remove_if_holds(old.as_ref());
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Cache file first (under its lock), then the provider.
    fn renew(&self) -> Result<(Token, Source)> {
        let Some(file) = &self.file else {
            return self.fetch_with_retries().map(|t| (t, Source::Fetched));
        };
        if let Some(t) = file.read().filter(|t| self.is_fresh(t)) {
            return Ok((t, Source::Cached));
        }
        let _lock = file.lock(self.config.timeout * (self.config.client.max_retries + 1));
        // Another process may have renewed while we waited for the lock.
        if let Some(t) = file.read().filter(|t| self.is_fresh(t)) {
            return Ok((t, Source::Cached));
        }
        let token = self.fetch_with_retries()?;
        let _ = file.write(&token);
        Ok((token, Source::Fetched))
    }

    /// Transport failures, timeouts and HTTP 5xx are retried with jittered
    /// backoff while the overall `timeout_ms` lasts; 4xx never.
    fn fetch_with_retries(&self) -> Result<Token> {
        let deadline = Instant::now() + self.config.timeout;
        let mut attempt = 0u32;
        loop {
            let remaining = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let started = self.clock.now();
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let result = {
                let mut transport = self.transport.lock().unwrap_or_else(|p| p.into_inner());
                token::fetch(&self.config, &self.key, &mut transport, remaining)
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

struct FetchGuard<'a> {
    client: &'a Client,
    outcome: Option<Result<Token>>,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.client.lock_state();
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
        self.client.done.notify_all();
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
fn backoff(attempt: u32) -> Duration {
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
