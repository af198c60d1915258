//! snapb2b: SNAP (Bank Indonesia's Standar Nasional Open API Pembayaran) B2B
//! access tokens, signed and fetched once, correctly, behind a stable C ABI.
//!
//! The Rust modules hold the logic and are usable directly; [`ffi`] is the
//! thin C layer over them.

pub mod client;
pub mod config;
pub mod error;
pub mod keys;
pub mod minify;
pub mod provider;
pub mod redact;
pub mod secret;
pub mod service;
pub mod sign;
pub mod timestamp;
pub mod token;
pub mod token_cache;
pub mod transport;
pub mod trust;

pub use error::{Error, Result, Status};
