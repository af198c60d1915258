//! The token on the fleet's store (`cache_url`): one token per lifetime for
//! every process of every host.
//!
//! - The entry is the `cache_file` entry (same encoding, same binding to
//!   provider, token URL and client id, same checks on reading) and expires
//!   in Redis with the token.
//! - Renewal is single flight across the fleet: the renewer holds a lock
//!   (`SET lock <random owner> NX PX <ttl>`), released only by its owner
//!   (compare and delete, in one script). Its TTL is the renewer's own
//!   remaining `timeout_ms`, so a crashed holder blocks nobody longer.
//! - Waiters poll the entry with a growing pause and read the new token.
//!   After half of their own budget the holder may be dead: one waiter
//!   takes over (a second lock, same rules) while the others wait on; after
//!   three quarters each fetches its own, with a quarter still left.
//! - Any failure of the store (down, slow, garbage) ends its part: the
//!   caller fetches its own token, and [`SharedTokens::status`] says why.

use std::time::{Duration, Instant};

use redis::Value;

use super::{Outcome, Problem, Store, StoreSettings};
use crate::config::Config;
use crate::digest::lower_hex;
use crate::error::Result;
use crate::token::Token;
use crate::token_file::{self, Binding};

/// Waiters' first and longest pause between two looks at the entry.
const POLL_MIN: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);
/// Less time than this before the end of a wait is not enough for a round
/// trip: a command started then would time out and count as a failure.
const MIN_COMMAND: Duration = Duration::from_millis(20);

/// Deletes the lock only if it is still the caller's.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
/// Deletes the entry only if it still holds the given token: a newer one,
/// written by another host meanwhile, stays.
const REMOVE_IF_HOLDS: &str = "local v = redis.call('GET', KEYS[1]) \
if not v then return 0 end \
local ok, e = pcall(cjson.decode, v) \
if ok and type(e) == 'table' and e.access_token == ARGV[1] then return redis.call('DEL', KEYS[1]) end \
return 0";

pub struct SharedTokens {
    store: Store,
    binding: Binding,
    profile_name: crate::provider::Text,
    entry_key: String,
    lock_key: String,
    /// Taken by one waiter when the lock's holder does not deliver.
    takeover_key: String,
}

enum Wait {
    Shared(Box<Token>),
    Locked,
    TimedOut,
    StoreFailed,
}

/// How a renewal through the store ended.
pub enum Renewed {
    /// Another process's token, read from the store.
    Shared(Token),
    /// This call's request.
    Fetched(Token),
}

impl SharedTokens {
    pub fn new(settings: StoreSettings, config: &Config) -> SharedTokens {
        let binding = Binding::of(config);
        // Hashed: a client id may hold anything, a key name should not.
        let id = crate::digest::sha256(
            format!(
                "{}\n{}\n{}",
                binding.provider, binding.token_url, binding.client_id
            )
            .as_bytes(),
        );
        let id = lower_hex(&id[..16]);
        let store = Store::new(settings);
        SharedTokens {
            entry_key: store.key(&format!("token:{id}")),
            lock_key: store.key(&format!("lock:{id}")),
            takeover_key: store.key(&format!("takeover:{id}")),
            store,
            binding,
            profile_name: config.profile.name.clone(),
        }
    }

    /// `None` while shared, else `"unavailable: redis at ...: <why>"`.
    pub fn status(&self) -> Option<String> {
        self.store.status()
    }

    pub fn entry_key(&self) -> &str {
        &self.entry_key
    }

    pub fn lock_key(&self) -> &str {
        &self.lock_key
    }

    /// The stored token, if there is a readable one of ours.
    fn read(&self, deadline: Instant) -> Outcome<Option<Token>> {
        let value = self.store.with(deadline, |c| {
            c.run(redis::cmd("GET").arg(&self.entry_key), deadline)
        })?;
        match value {
            Value::Nil => Ok(None),
            // Not ours or not sane: a miss, replaced by the next renewal.
            Value::BulkString(bytes) => Ok(token_file::decode(
                &self.binding,
                &self.profile_name,
                &bytes,
            )),
            _ => Err(self.store.failed(Problem(
                "answered GET with something else than a string".into(),
            ))),
        }
    }

    /// Takes the renewal lock for `ttl`: false when another process holds it.
    fn try_lock(&self, lock: &str, owner: &str, ttl: Duration, deadline: Instant) -> Outcome<bool> {
        let ms = (ttl.as_millis() as u64).max(1);
        let value = self.store.with(deadline, |c| {
            c.run(
                redis::cmd("SET")
                    .arg(lock)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms),
                deadline,
            )
        })?;
        match value {
            Value::Okay => Ok(true),
            Value::Nil => Ok(false),
            _ => Err(self.store.failed(Problem(
                "answered SET NX with something else than OK or nil".into(),
            ))),
        }
    }

    fn release(&self, lock: &str, owner: &str, deadline: Instant) {
        let _ = self.store.with(deadline, |c| {
            c.run(
                redis::cmd("EVAL").arg(RELEASE).arg(1).arg(lock).arg(owner),
                deadline,
            )
        });
    }

    /// Stores `token` until it expires.
    fn publish(&self, token: &Token, deadline: Instant) {
        let life_ms = token
            .remaining_s(chrono::Utc::now().timestamp())
            .saturating_mul(1000);
        if life_ms <= 0 {
            return;
        }
        let Ok(bytes) = token_file::encode(&self.binding, token) else {
            return;
        };
        let _ = self.store.with(deadline, |c| {
            c.run(
                redis::cmd("SET")
                    .arg(&self.entry_key)
                    .arg(&bytes[..])
                    .arg("PX")
                    .arg(life_ms),
                deadline,
            )
        });
    }

    /// A token through the store: the stored one when `is_fresh`, else one
    /// renewal for the whole fleet (this call's `fetch`, or another
    /// process's). A holder that does not deliver within half of this
    /// call's budget may be dead: then one waiter takes over (a second lock)
    /// while the others keep waiting, until three quarters; after that each
    /// fetches its own. A store that fails ends its part at once: `fetch`.
    pub fn renew(
        &self,
        deadline: Instant,
        is_fresh: &dyn Fn(&Token) -> bool,
        fetch: &mut dyn FnMut() -> Result<Token>,
    ) -> Result<Renewed> {
        let start = Instant::now();
        let budget = deadline.saturating_duration_since(start);
        match self.read(start + budget / 2) {
            Ok(Some(t)) if is_fresh(&t) => return Ok(Renewed::Shared(t)),
            Ok(_) => {}
            // The store is down or paused: no lock to wait for.
            Err(_) => return fetch().map(Renewed::Fetched),
        }
        let mut owner = [0u8; 16];
        let _ = openssl::rand::rand_bytes(&mut owner);
        let owner = lower_hex(&owner);
        let stages = [
            (&self.lock_key, start + budget / 2),
            (&self.takeover_key, start + budget * 3 / 4),
        ];
        for (lock, until) in stages {
            match self.lock_or_wait(lock, &owner, until, deadline, is_fresh) {
                Wait::Shared(t) => return Ok(Renewed::Shared(*t)),
                Wait::Locked => {
                    // Someone may have renewed just before we took it.
                    let result = match self.read(until) {
                        Ok(Some(t)) if is_fresh(&t) => Ok(Renewed::Shared(t)),
                        _ => fetch().map(|t| {
                            self.publish(&t, deadline);
                            Renewed::Fetched(t)
                        }),
                    };
                    self.release(lock, &owner, deadline);
                    return result;
                }
                Wait::TimedOut => {}
                Wait::StoreFailed => return fetch().map(Renewed::Fetched),
            }
        }
        // Nobody delivered: ours, shared for those who come after.
        let t = fetch()?;
        self.publish(&t, deadline);
        Ok(Renewed::Fetched(t))
    }

    /// Takes `lock`, or waits for the token of whoever holds it, until
    /// `until`.
    fn lock_or_wait(
        &self,
        lock: &str,
        owner: &str,
        until: Instant,
        deadline: Instant,
        is_fresh: &dyn Fn(&Token) -> bool,
    ) -> Wait {
        let mut pause = POLL_MIN;
        let no_time = || until.saturating_duration_since(Instant::now()) < MIN_COMMAND;
        loop {
            if no_time() {
                return Wait::TimedOut;
            }
            // Held no longer than this call's own budget.
            let ttl = deadline.saturating_duration_since(Instant::now());
            match self.try_lock(lock, owner, ttl, until) {
                Ok(true) => return Wait::Locked,
                Ok(false) => {}
                Err(_) => return Wait::StoreFailed,
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Wait::TimedOut;
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(POLL_MAX);
            if no_time() {
                return Wait::TimedOut;
            }
            match self.read(until) {
                Ok(Some(t)) if is_fresh(&t) => return Wait::Shared(Box::new(t)),
                Ok(_) => {}
                Err(_) => return Wait::StoreFailed,
            }
        }
    }

    /// Deletes the stored entry if it still holds `token`.
    pub fn remove_if_holds(&self, token: &Token, deadline: Instant) {
        let _ = self.store.with(deadline, |c| {
            c.run(
                redis::cmd("EVAL")
                    .arg(REMOVE_IF_HOLDS)
                    .arg(1)
                    .arg(&self.entry_key)
                    .arg(token.access_token.expose()),
                deadline,
            )
        });
    }
}
