//! snapb2b: SNAP (Bank Indonesia's Standar Nasional Open API Pembayaran) B2B
//! access tokens, signed and fetched once, correctly, behind a stable C ABI.
//!
//! This crate holds the logic and is usable from Rust directly; the C ABI is
//! the separate `snapb2b-ffi` crate, a thin layer over it.

pub mod client;
pub mod config;
pub mod customer_token;
pub mod digest;
pub mod error;
pub mod external_id;
pub mod keys;
pub mod minify;
pub mod provider;
pub mod redact;
pub mod secret;
pub mod server;
pub mod service;
pub mod service_call;
pub mod shared_store;
pub mod sign;
pub mod timestamp;
pub mod token;
pub mod token_file;
pub mod transport;
pub mod trust;

pub use error::{Error, Result, Status};
