//! SNAP service calls after the token: which services exist (as data), the
//! tokens they accept, the checks in the order providers make them, and the
//! service-call fault clients.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Duration as TimeDelta, FixedOffset, NaiveDate, Offset as _, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::{json, Map, Value};

use super::clients::{Client, Fault};
use super::http::{Request, Response};
use super::providers::{
    check_fresh, check_timestamp, echoable, json_object, required_header, signature_valid, Action,
    Endpoints, Failure, Handled, Provider, PROVIDERS, TOKEN_TTL_SECS,
};

/// What `CHANNEL-ID` configs should send (any non-empty digits are accepted).
pub const SERVICE_CHANNEL_ID: &str = "95221";
/// Longest accepted `X-EXTERNAL-ID`.
pub const MAX_EXTERNAL_ID_CHARS: usize = 36;
/// Tokens kept at most; beyond it revoked and expired ones go first.
const MAX_TOKENS: usize = 100_000;
/// `X-EXTERNAL-ID`s remembered per day at most; beyond it the day starts over.
const MAX_EXTERNAL_IDS: usize = 100_000;

/// What a service answers with on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    VaInquiry,
    BalanceInquiry,
}

/// One SNAP service.
#[derive(Debug)]
pub struct Service {
    /// After a provider's service prefix.
    pub path: &'static str,
    /// The two digits in its response codes.
    pub code: &'static str,
    pub kind: ServiceKind,
}

pub const SERVICES: &[Service] = &[
    Service {
        path: "/transfer-va/inquiry",
        code: "24",
        kind: ServiceKind::VaInquiry,
    },
    Service {
        path: "/balance-inquiry",
        code: "11",
        kind: ServiceKind::BalanceInquiry,
    },
];

/// The provider (first in [`PROVIDERS`] with that prefix) and service at `path`.
/// DOKU and the SNAP profile share `/v1.0`; both speak the SNAP dialect with
/// the same messages, so which one answers makes no difference.
pub fn service_for_path(path: &str) -> Option<(&'static Provider, &'static Service)> {
    PROVIDERS.iter().find_map(|p| {
        p.service_prefixes.iter().find_map(|prefix| {
            let rest = path.strip_prefix(prefix)?;
            SERVICES.iter().find(|s| s.path == rest).map(|s| (p, s))
        })
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the shared state down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Issued {
    client_id: String,
    expires: DateTime<Utc>,
    revoked: bool,
}

impl Issued {
    fn valid(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now < self.expires
    }
}

/// Every token issued: to whom, until when, and whether revoked. Expired
/// tokens stay a further TTL, so calls with them are still attributed.
#[derive(Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<String, Issued>>,
}

impl TokenStore {
    pub fn record(&self, token: &str, client_id: &str, now: DateTime<Utc>) {
        let ttl = TimeDelta::seconds(TOKEN_TTL_SECS as i64);
        let mut tokens = lock(&self.tokens);
        tokens.retain(|_, t| t.expires + ttl > now);
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, t| t.valid(now));
        }
        if tokens.len() >= MAX_TOKENS {
            if let Some(victim) = tokens.keys().next().cloned() {
                tokens.remove(&victim);
            }
        }
        tokens.insert(
            token.to_string(),
            Issued {
                client_id: client_id.to_string(),
                expires: now + ttl,
                revoked: false,
            },
        );
    }

    /// `Ok(client id)` for a valid token; `Err` with the client id of a token
    /// once issued but now expired or revoked.
    pub(crate) fn check(&self, token: &str, now: DateTime<Utc>) -> Result<String, Option<String>> {
        match lock(&self.tokens).get(token) {
            Some(t) if t.valid(now) => Ok(t.client_id.clone()),
            Some(t) => Err(Some(t.client_id.clone())),
            None => Err(None),
        }
    }

    /// Revokes every valid token; returns how many.
    /// Issued, not revoked, past its lifetime.
    fn is_expired(&self, token: &str, now: DateTime<Utc>) -> bool {
        lock(&self.tokens)
            .get(token)
            .is_some_and(|t| !t.revoked && now >= t.expires)
    }

    pub fn revoke_all(&self, now: DateTime<Utc>) -> u64 {
        let mut n = 0;
        for t in lock(&self.tokens).values_mut() {
            if t.valid(now) {
                t.revoked = true;
                n += 1;
            }
        }
        n
    }
}

/// `X-EXTERNAL-ID`s used today (Asia/Jakarta), per partner.
#[derive(Default)]
pub struct ExternalIds {
    day: Option<NaiveDate>,
    used: HashSet<(String, String)>,
}

impl ExternalIds {
    /// False if `partner` used `id` before on `day`.
    fn use_once(&mut self, partner: &str, id: &str, day: NaiveDate) -> bool {
        if self.day != Some(day) || self.used.len() >= MAX_EXTERNAL_IDS {
            self.day = Some(day);
            self.used.clear();
        }
        self.used.insert((partner.to_string(), id.to_string()))
    }
}

fn jakarta_day(now: DateTime<Utc>) -> NaiveDate {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
    now.with_timezone(&wib).date_naive()
}

/// JSON whitespace (space, tab, CR, LF) removed outside strings; works on any
/// bytes, so a body that is not JSON still has a hash to sign.
pub fn minify(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `X-SIGNATURE` of a service call: HMAC-SHA512 with the client secret
/// over `METHOD:target:token:bodyhash:timestamp`, or for an RSA-signing client
/// SHA256withRSA over `METHOD:target:bodyhash:timestamp`.
fn service_signature_valid(
    client: &Client,
    req: &Request,
    token: &str,
    timestamp: &str,
    signature: &str,
) -> bool {
    let body_hash = hex(&openssl::sha::sha256(&minify(&req.body)));
    let (method, target) = (&req.method, &req.target);
    if client.rsa_service_signatures {
        let message = format!("{method}:{target}:{body_hash}:{timestamp}");
        return signature_valid(&client.public_key, message.as_bytes(), signature);
    }
    let message = format!("{method}:{target}:{token}:{body_hash}:{timestamp}");
    let expected = PKey::hmac(client.secret.as_bytes()).and_then(|key| {
        let mut signer = Signer::new(MessageDigest::sha512(), &key)?;
        signer.sign_oneshot_to_vec(message.as_bytes())
    });
    match (expected, STANDARD.decode(signature)) {
        // Lengths are not secret; the bytes are compared in constant time.
        (Ok(expected), Ok(given)) => {
            expected.len() == given.len() && openssl::memcmp::eq(&expected, &given)
        }
        _ => false,
    }
}

pub(crate) fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.header("Authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

/// The request's fields named in `keys`, those present, for an echo.
fn echo(body: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| body.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

fn amount(value: &str) -> Value {
    json!({"value": value, "currency": "IDR"})
}

impl ServiceKind {
    /// The success payload: the request's identifying fields echoed, plus
    /// made-up data.
    fn payload(self, body: &Map<String, Value>) -> Map<String, Value> {
        match self {
            ServiceKind::VaInquiry => {
                let mut va = echo(
                    body,
                    &[
                        "partnerServiceId",
                        "customerNo",
                        "virtualAccountNo",
                        "inquiryRequestId",
                    ],
                );
                va.insert("virtualAccountName".into(), "Sandbox Customer".into());
                va.insert("totalAmount".into(), amount("150000.00"));
                let mut m = Map::new();
                m.insert("virtualAccountData".into(), Value::Object(va));
                m
            }
            ServiceKind::BalanceInquiry => {
                let mut m = echo(body, &["partnerReferenceNo", "accountNo"]);
                m.insert("name".into(), "Sandbox Merchant".into());
                m.insert(
                    "accountInfos".into(),
                    json!([{
                        "balanceType": "Cash",
                        "amount": amount("1000000.00"),
                        "availableBalance": amount("1000000.00"),
                        "status": "0001",
                    }]),
                );
                m
            }
        }
    }
}

/// What passed every check.
struct Accepted {
    client_id: String,
    external_id: String,
    body: Map<String, Value>,
}

impl Endpoints {
    /// Handles a request to `service` under one of `provider`'s prefixes.
    pub fn handle_service(
        &self,
        provider: &Provider,
        service: &Service,
        req: &Request,
        now: DateTime<Utc>,
    ) -> Handled {
        let mut client_id = None;
        let mut handled = match self.check_service(req, now, &mut client_id) {
            Err(f @ Failure::MethodNotAllowed) => self
                .failure(provider, service.code, f)
                .with_header("Allow", "POST"),
            Err(f) => self.failure(provider, service.code, f),
            Ok(accepted) => self.serve(provider, service, &accepted),
        };
        handled.client_id = client_id;
        handled
    }

    /// The checks, in the providers' order; `client_out` gets the token's
    /// client id as soon as the token is known.
    fn check_service(
        &self,
        req: &Request,
        now: DateTime<Utc>,
        client_out: &mut Option<String>,
    ) -> Result<Accepted, Failure> {
        if req.method != "POST" {
            return Err(Failure::MethodNotAllowed);
        }
        let token = bearer_token(req).ok_or(Failure::InvalidToken)?;
        let client_id = self.tokens.check(token, now).map_err(|known| {
            *client_out = known;
            if self.tokens.is_expired(token, now) {
                Failure::ExpiredToken
            } else {
                Failure::InvalidToken
            }
        })?;
        *client_out = Some(client_id.clone());
        // Tokens go only to registered clients, and the registry never shrinks.
        let client = self.registry.get(&client_id).ok_or(Failure::InvalidToken)?;
        // Refused as the token check refuses: before anything is used up.
        if Fault::for_client(&client_id) == Some(Fault::ServiceExpired) {
            return Err(Failure::ExpiredToken);
        }
        super::customer::check_customer_header(self, req, &client_id, now)?;

        let timestamp = required_header(req, "X-TIMESTAMP")?;
        let when = check_timestamp(timestamp, "X-TIMESTAMP", client.millis_required)?;
        check_fresh(when, now)?;

        let signature = required_header(req, "X-SIGNATURE")?;
        if !service_signature_valid(client, req, token, timestamp, signature) {
            return Err(Failure::Unauthorized("Signature"));
        }

        let partner = required_header(req, "X-PARTNER-ID")?;
        if partner != client_id {
            return Err(Failure::Unauthorized("Unknown Partner"));
        }
        let channel = required_header(req, "CHANNEL-ID")?;
        if !channel.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::InvalidFormat("CHANNEL-ID"));
        }
        let body = json_object(&req.body)?;

        let external_id = required_header(req, "X-EXTERNAL-ID")?;
        if external_id.chars().count() > MAX_EXTERNAL_ID_CHARS {
            return Err(Failure::InvalidFormat("X-EXTERNAL-ID"));
        }
        // Last: only a request that passed everything else uses its id up.
        if !lock(&self.external_ids).use_once(&client_id, external_id, jakarta_day(now)) {
            return Err(Failure::Conflict);
        }
        Ok(Accepted {
            client_id,
            external_id: external_id.to_string(),
            body,
        })
    }

    /// The answer to an accepted call: the payload, unless the client is a
    /// service fault client.
    fn serve(&self, provider: &Provider, service: &Service, accepted: &Accepted) -> Handled {
        let bare = |action| Handled {
            action,
            client_id: None,
            response_code: None,
            issues_token: false,
        };
        let handled = match Fault::for_client(&accepted.client_id) {
            Some(Fault::ServiceSilent) => return bare(Action::Hold),
            Some(Fault::ServiceDrop) => return bare(Action::Drop),
            Some(Fault::ServiceError) => {
                self.failure(provider, service.code, Failure::GeneralError)
            }

            _ => {
                let body =
                    provider.success_with(service.code, service.kind.payload(&accepted.body));
                Handled {
                    response_code: Some(provider.success_code(service.code)),
                    ..bare(Action::Respond(Response::json(200, &Value::Object(body))))
                }
            }
        };
        if echoable(&accepted.external_id) {
            handled.with_header("X-EXTERNAL-ID", accepted.external_id.as_str())
        } else {
            handled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_intact() {
        let pretty = b"{\n  \"a b\" : \"x \\\" y\\\\\",\n\t\"n\": [1, 2]\r\n}";
        assert_eq!(minify(pretty), br#"{"a b":"x \" y\\","n":[1,2]}"#.to_vec());
        assert_eq!(minify(b""), b"".to_vec());
        // Unterminated string: the rest is kept as is.
        assert_eq!(minify(b"{\"a \n"), b"{\"a \n".to_vec());
    }

    #[test]
    fn service_paths_per_provider() {
        let find = |p: &str| service_for_path(p).map(|(p, s)| (p.name, s.code));
        assert_eq!(find("/v1.0/transfer-va/inquiry"), Some(("doku", "24")));
        assert_eq!(find("/snap/v1.0/balance-inquiry"), Some(("snap", "11")));
        assert_eq!(
            find("/openapi/v1.0/transfer-va/inquiry"),
            Some(("snap", "24"))
        );
        assert_eq!(
            find("/nicepay/v1.0/balance-inquiry"),
            Some(("nicepay", "11"))
        );
        assert_eq!(
            find("/v1/open-api/transfer-va/inquiry"),
            Some(("klikoo", "24"))
        );
        assert_eq!(find("/v1.0/transfer-va/payment"), None);
        assert_eq!(find("/v1.0"), None);
    }

    #[test]
    fn providers_sharing_a_prefix_answer_alike() {
        for a in PROVIDERS {
            for b in PROVIDERS {
                if a.service_prefixes
                    .iter()
                    .any(|p| b.service_prefixes.contains(p))
                {
                    assert_eq!(a.dialect, b.dialect, "{} {}", a.name, b.name);
                    assert_eq!(a.invalid_token_message, b.invalid_token_message);
                }
            }
        }
    }

    #[test]
    fn tokens_expire_and_revoke() {
        let store = TokenStore::default();
        let t0 = Utc::now();
        store.record("a", "C", t0);
        assert_eq!(store.check("a", t0), Ok("C".into()));
        assert_eq!(store.check("b", t0), Err(None));
        let later = t0 + TimeDelta::seconds(TOKEN_TTL_SECS as i64);
        assert_eq!(store.check("a", later), Err(Some("C".into())));
        assert_eq!(store.revoke_all(later), 0);
        assert_eq!(store.revoke_all(t0), 1);
        assert_eq!(store.check("a", t0), Err(Some("C".into())));
    }

    #[test]
    fn external_ids_are_per_partner_and_day() {
        let mut ids = ExternalIds::default();
        let day = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        assert!(ids.use_once("A", "1", day));
        assert!(!ids.use_once("A", "1", day));
        assert!(ids.use_once("B", "1", day));
        assert!(ids.use_once("A", "1", day.succ_opt().unwrap()));
        // 17:00 UTC is already the next day in Jakarta.
        let t = DateTime::parse_from_rfc3339("2025-01-01T17:00:00Z").unwrap();
        assert_eq!(jakarta_day(t.with_timezone(&Utc)), day);
    }
}
