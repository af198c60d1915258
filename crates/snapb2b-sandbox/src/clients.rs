//! Registered clients: who may ask for a token, with which public key, and which
//! of them are fault clients that misbehave on purpose.

use std::collections::HashMap;

use openssl::pkey::{PKey, Public};

/// The ordinary demo client (all SNAP-style providers).
pub const SANDBOX_CLIENT_ID: &str = "SANDBOX-CLIENT";
/// The Klikoo demo client (Klikoo client ids are UUIDs).
pub const KLIKOO_CLIENT_ID: &str = "3f9c8962-4c4b-4bb6-b3c1-8fc883519c02";
/// A client whose provider, like some banks, accepts only timestamps with
/// milliseconds (`2024-12-31T10:11:40.123+07:00`): anything else is 4007301
/// Invalid Field Format. Configs for it need `"timestamp_style":"wib_ms"`.
pub const MILLIS_CLIENT_ID: &str = "SANDBOX-CLIENT-MS";
/// A client that signs its service calls with SHA256withRSA (its private key
/// is the demo merchant key) instead of HMAC-SHA512 with a secret.
pub const RSA_CLIENT_ID: &str = "SANDBOX-CLIENT-RSA";
/// Klikoo client secret registered for every client (32 characters).
pub const KLIKOO_CLIENT_SECRET: &str = "sandbox0secret0klikoo00000000000";
/// The client secret keying every HMAC-signing client's service-call
/// signatures: the one sandbox secret, so also what Klikoo's token endpoint expects.
pub const SERVICE_CLIENT_SECRET: &str = KLIKOO_CLIENT_SECRET;

/// Behaviour forced on a client's requests once its signature has verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Waits `slow_ms`, then answers normally.
    Slow,
    /// 200 with an HTML body.
    Garbage,
    /// 200 with a ~2 MiB (valid JSON) body.
    Huge,
    /// 200 "Successful" without an access token.
    NoToken,
    /// 500 Internal Server Error.
    ServerError,
    /// Closes the connection without answering.
    Drop,
    /// 503 on odd-numbered requests (1st, 3rd, ...), success on even ones.
    Flaky,
    /// 200 whose body is an "Unauthorized. Signature" error.
    ErrorWith200,
    /// 429 with `Retry-After: 1`.
    TooManyRequests,
    /// 401 Stale Timestamp with `X-TIMESTAMP` and `Date` 7 hours ahead.
    Clock,
    /// Service calls (once checked) are read and counted, then never answered
    /// until the peer hangs up or the server stops. Tokens are issued normally.
    ServiceSilent,
    /// Service calls (once checked) are read and counted, then the connection
    /// is closed without an answer. Tokens are issued normally.
    ServiceDrop,
    /// Service calls (once checked) get 500 General Error. Tokens are issued normally.
    ServiceError,
    /// Service calls are refused at the token check as made with an expired
    /// token (Klikoo `401xx6535 Token kadaluarsa`). Tokens are issued normally.
    ServiceExpired,
    /// 403: the caller's IP is not whitelisted (Klikoo `403xx6571`).
    IpNotAllowed,
    /// 400: the grant type refused (Klikoo `400xx6569 Grant type tidak
    /// sesuai`, SNAP `4007301 Invalid Field Format grantType`).
    GrantType,
}

/// Fault client ids and their behaviour.
pub const FAULTS: &[(&str, Fault)] = &[
    ("FAULT-SLOW", Fault::Slow),
    ("FAULT-GARBAGE", Fault::Garbage),
    ("FAULT-HUGE", Fault::Huge),
    ("FAULT-NOTOKEN", Fault::NoToken),
    ("FAULT-500", Fault::ServerError),
    ("FAULT-DROP", Fault::Drop),
    ("FAULT-FLAKY", Fault::Flaky),
    ("FAULT-200ERROR", Fault::ErrorWith200),
    ("FAULT-429", Fault::TooManyRequests),
    ("FAULT-CLOCK", Fault::Clock),
    ("FAULT-SVC-SILENT", Fault::ServiceSilent),
    ("FAULT-SVC-DROP", Fault::ServiceDrop),
    ("FAULT-SVC-500", Fault::ServiceError),
    ("FAULT-SVC-EXPIRED", Fault::ServiceExpired),
    ("FAULT-IP", Fault::IpNotAllowed),
    ("FAULT-GRANT", Fault::GrantType),
];

impl Fault {
    pub fn for_client(client_id: &str) -> Option<Fault> {
        FAULTS
            .iter()
            .find(|(id, _)| *id == client_id)
            .map(|(_, f)| *f)
    }
}

pub struct Client {
    /// Verifies token-request signatures, and service-call signatures of an
    /// RSA-signing client.
    pub public_key: PKey<Public>,
    /// What the Klikoo endpoint expects in `additional_info.client_secret`,
    /// and the HMAC key of service-call signatures.
    pub secret: String,
    /// Timestamps must carry milliseconds ([`MILLIS_CLIENT_ID`]).
    pub millis_required: bool,
    /// Service calls are signed with SHA256withRSA, not HMAC-SHA512.
    pub rsa_service_signatures: bool,
}

#[derive(Default)]
pub struct Registry {
    clients: HashMap<String, Client>,
}

impl Registry {
    /// The built-in clients, all verified with the merchant public key.
    pub fn with_builtins(merchant: &PKey<Public>) -> Self {
        let mut r = Registry::default();
        let ids = [SANDBOX_CLIENT_ID, KLIKOO_CLIENT_ID, MILLIS_CLIENT_ID]
            .into_iter()
            .chain(FAULTS.iter().map(|(id, _)| *id));
        for id in ids {
            r.insert(id, merchant.clone(), false);
        }
        r.insert(RSA_CLIENT_ID, merchant.clone(), true);
        if let Some(c) = r.clients.get_mut(MILLIS_CLIENT_ID) {
            c.millis_required = true;
        }
        r
    }

    /// Adds or replaces a client (a `--client` may override a built-in key).
    pub fn insert(&mut self, id: &str, public_key: PKey<Public>, rsa_service_signatures: bool) {
        self.clients.insert(
            id.to_string(),
            Client {
                public_key,
                secret: SERVICE_CLIENT_SECRET.to_string(),
                millis_required: false,
                rsa_service_signatures,
            },
        );
    }

    pub fn get(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }
}
