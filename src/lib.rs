//! snapb2b: SNAP B2B access-token signing and fetching.
pub mod sandbox;
