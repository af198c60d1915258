//! The customer token endpoint (SNAP B2B2C, service code 74) of the profiles
//! that document one, the sandbox's auth codes, and the customer tokens
//! service calls may carry in `Authorization-Customer`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Map, Value};

use super::http::Request;
use super::http::Response;
use super::providers::{
    check_timestamp, json_object, new_token, provider_by_name, required_header, wib_timestamp,
    Action, Endpoints, Failure, Handled, Provider,
};

/// The service code in the customer token endpoint's codes.
pub const CUSTOMER_TOKEN_SERVICE: &str = "74";
/// Auth codes this sandbox accepts: any code starting with this, once.
/// What follows the prefix (1-64 letters, digits, `-`, `_`) is the
/// customer's id.
pub const SANDBOX_AUTH_CODE_PREFIX: &str = "SANDBOX-AUTH-";
/// Auth codes starting with this (after [`SANDBOX_AUTH_CODE_PREFIX`]'s
/// place) give tokens that expire after [`SHORT_TTL_SECS`]: for tests of
/// expired customer and refresh tokens.
pub const SANDBOX_SHORT_AUTH_CODE_PREFIX: &str = "SANDBOX-AUTH-SHORT-";
/// Lifetime of customer access tokens.
pub const CUSTOMER_TOKEN_TTL_SECS: i64 = 900;
/// Lifetime of refresh tokens.
pub const REFRESH_TOKEN_TTL_SECS: i64 = 30 * 24 * 3600;
/// Lifetime of both tokens from a short auth code.
pub const SHORT_TTL_SECS: i64 = 1;
/// Tokens, and used auth codes, kept at most; beyond it the oldest state
/// is dropped (a sandbox, not a bank).
const MAX_ENTRIES: usize = 100_000;

/// The B2B2C paths: the profiles' (DOKU, SNAP) and SNAP's prefixed forms,
/// as the sandbox serves B2B tokens under them.
pub const ROUTES: &[(&str, &str)] = &[
    ("/authorization/v1/access-token/b2b2c", "doku"),
    ("/v1.0/access-token/b2b2c", "snap"),
    ("/snap/v1.0/access-token/b2b2c", "snap"),
    ("/openapi/v1.0/access-token/b2b2c", "snap"),
];

pub fn provider_for_path(path: &str) -> Option<&'static Provider> {
    ROUTES
        .iter()
        .find(|(p, _)| *p == path)
        .and_then(|(_, name)| provider_by_name(name))
}

/// `{"doku": [paths], "snap": [paths]}`, for `sandbox.json`.
pub fn paths_by_provider() -> Value {
    let mut by_provider = Map::new();
    for (path, name) in ROUTES {
        if let Value::Array(paths) = by_provider
            .entry(name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            paths.push(Value::from(*path));
        }
    }
    Value::Object(by_provider)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
}

struct Issued {
    kind: Kind,
    client_id: String,
    customer_id: String,
    expires: DateTime<Utc>,
    /// A refresh token is used once: the new answer carries a new one.
    used: bool,
    /// Tokens from a short auth code beget short tokens.
    short: bool,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, Issued>,
    used_codes: HashSet<(String, String)>,
}

/// Customer tokens issued and auth codes used.
#[derive(Default)]
pub struct CustomerStore {
    state: Mutex<State>,
}

/// Who a grant is for.
struct Grantee {
    customer_id: String,
    short: bool,
}

impl CustomerStore {
    /// Uses `code` up for `client_id`: the customer it names, or why not.
    fn use_code(&self, client_id: &str, code: &str) -> Result<Grantee, Failure> {
        let invalid = Failure::Unauthorized("Invalid Auth Code");
        let (rest, short) = match code.strip_prefix(SANDBOX_SHORT_AUTH_CODE_PREFIX) {
            Some(rest) => (rest, true),
            None => (
                code.strip_prefix(SANDBOX_AUTH_CODE_PREFIX)
                    .ok_or(invalid.clone())?,
                false,
            ),
        };
        let id_ok = !rest.is_empty()
            && rest.len() <= 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(invalid);
        }
        let mut state = lock(&self.state);
        if state.used_codes.len() >= MAX_ENTRIES {
            state.used_codes.clear();
        }
        if !state
            .used_codes
            .insert((client_id.to_string(), code.to_string()))
        {
            return Err(Failure::Unauthorized("Auth Code Already Used"));
        }
        Ok(Grantee {
            customer_id: rest.to_string(),
            short,
        })
    }

    /// Uses a refresh token up: valid, unused, this client's.
    fn use_refresh(
        &self,
        client_id: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Grantee, Failure> {
        let mut state = lock(&self.state);
        match state.tokens.get_mut(token) {
            Some(t)
                if t.kind == Kind::Refresh
                    && t.client_id == client_id
                    && !t.used
                    && now < t.expires =>
            {
                t.used = true;
                Ok(Grantee {
                    customer_id: t.customer_id.clone(),
                    short: t.short,
                })
            }
            _ => Err(Failure::Unauthorized("Invalid Refresh Token")),
        }
    }

    fn record(&self, token: &str, kind: Kind, client_id: &str, who: &Grantee, ttl: i64) {
        let now = Utc::now();
        let mut state = lock(&self.state);
        if state.tokens.len() >= MAX_ENTRIES {
            state.tokens.retain(|_, t| now < t.expires && !t.used);
        }
        if state.tokens.len() >= MAX_ENTRIES {
            state.tokens.clear();
        }
        state.tokens.insert(
            token.to_string(),
            Issued {
                kind,
                client_id: client_id.to_string(),
                customer_id: who.customer_id.clone(),
                expires: now + TimeDelta::seconds(ttl),
                used: false,
                short: who.short,
            },
        );
    }

    /// Whether `token` is a valid customer access token of `client_id`.
    pub fn access_valid(&self, client_id: &str, token: &str, now: DateTime<Utc>) -> bool {
        lock(&self.state)
            .tokens
            .get(token)
            .is_some_and(|t| t.kind == Kind::Access && t.client_id == client_id && now < t.expires)
    }
}

/// `Authorization-Customer: Bearer <token>` of a service call, if sent:
/// `Ok` when absent or valid for `client_id`.
pub fn check_customer_header(
    endpoints: &Endpoints,
    req: &Request,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let Some(value) = req.header("Authorization-Customer") else {
        return Ok(());
    };
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, t)| t.trim())
        .ok_or(Failure::InvalidCustomerToken)?;
    if endpoints.customers.access_valid(client_id, token, now) {
        Ok(())
    } else {
        Err(Failure::InvalidCustomerToken)
    }
}

impl Endpoints {
    /// Handles a request to one of the B2B2C paths of `provider`.
    pub fn handle_customer(
        &self,
        provider: &Provider,
        req: &Request,
        now: DateTime<Utc>,
    ) -> Handled {
        let service = CUSTOMER_TOKEN_SERVICE;
        let mut client_id = req
            .header("X-CLIENT-KEY")
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let handled = if req.method != "POST" {
            self.failure(provider, service, Failure::MethodNotAllowed)
                .with_header("Allow", "POST")
        } else {
            match self.check_customer(provider, req, now) {
                Ok((id, who, body)) => {
                    client_id = Some(id.clone());
                    self.issue_customer(provider, &id, &who, &body, now)
                }
                Err(f) => self.failure(provider, service, f),
            }
        };
        handled.echoing(provider, client_id, now)
    }

    /// The B2B token's checks (headers, timestamp, signature, freshness),
    /// the B2B access token where the provider asks for it, then the grant;
    /// returns the client id, the grantee and the body.
    fn check_customer(
        &self,
        provider: &Provider,
        req: &Request,
        now: DateTime<Utc>,
    ) -> Result<(String, Grantee, Map<String, Value>), Failure> {
        let timestamp = required_header(req, "X-TIMESTAMP")?;
        let client_id = required_header(req, "X-CLIENT-KEY")?;
        let signature = required_header(req, "X-SIGNATURE")?;
        let millis_required = self
            .registry
            .get(client_id)
            .is_some_and(|c| c.millis_required);
        let when = check_timestamp(timestamp, "X-TIMESTAMP", millis_required)?;
        let body = json_object(&req.body)?;
        let grant = match body.get("grantType") {
            None | Some(Value::Null) => return Err(Failure::Mandatory("grantType")),
            Some(Value::String(g)) if g == "authorization_code" => ("authCode", true),
            Some(Value::String(g)) if g == "refresh_token" => ("refreshToken", false),
            Some(_) => return Err(Failure::InvalidFormat("grantType")),
        };
        let value = match body.get(grant.0) {
            Some(Value::String(v)) if !v.is_empty() => v.as_str(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(Failure::Mandatory(grant.0))
            }
            Some(_) => return Err(Failure::InvalidFormat(grant.0)),
        };
        match body.get("additionalInfo") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err(Failure::InvalidFormat("additionalInfo")),
        }
        self.authenticate(client_id, timestamp, signature, when, now, None)?;
        if provider.customer_token_needs_b2b_token {
            // The merchant's own B2B token, issued here to the same client.
            let token = super::services::bearer_token(req).ok_or(Failure::InvalidToken)?;
            match self.tokens.check(token, now) {
                Ok(owner) if owner == client_id => {}
                _ => return Err(Failure::InvalidToken),
            }
        }
        let who = if grant.1 {
            self.customers.use_code(client_id, value)?
        } else {
            self.customers.use_refresh(client_id, value, now)?
        };
        Ok((client_id.to_string(), who, body))
    }

    /// A new access and refresh token; `additionalInfo` echoes the
    /// request's plus `customerId`.
    fn issue_customer(
        &self,
        provider: &Provider,
        client_id: &str,
        who: &Grantee,
        request: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Handled {
        let service = CUSTOMER_TOKEN_SERVICE;
        let (Some(access), Some(refresh)) = (new_token(), new_token()) else {
            return self.failure(provider, service, Failure::Internal);
        };
        let (access_ttl, refresh_ttl) = if who.short {
            (SHORT_TTL_SECS, SHORT_TTL_SECS)
        } else {
            (CUSTOMER_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS)
        };
        self.customers
            .record(&access, Kind::Access, client_id, who, access_ttl);
        self.customers
            .record(&refresh, Kind::Refresh, client_id, who, refresh_ttl);
        let mut info = match request.get("additionalInfo") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        info.insert("customerId".into(), who.customer_id.clone().into());
        let mut m = Map::new();
        m.insert("accessToken".into(), access.into());
        m.insert("tokenType".into(), "Bearer".into());
        m.insert(
            "accessTokenExpiryTime".into(),
            wib_timestamp(now + TimeDelta::seconds(access_ttl)).into(),
        );
        m.insert("refreshToken".into(), refresh.into());
        m.insert(
            "refreshTokenExpiryTime".into(),
            wib_timestamp(now + TimeDelta::seconds(refresh_ttl)).into(),
        );
        m.insert("additionalInfo".into(), Value::Object(info));
        let body = provider.success_with(service, m);
        Handled {
            action: Action::Respond(Response::json(200, &Value::Object(body))),
            client_id: None,
            response_code: Some(provider.success_code(service)),
            // Counted as a customer token, not a B2B one.
            issues_token: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_codes_are_single_use_per_client_and_name_the_customer() {
        let store = CustomerStore::default();
        let who = store.use_code("C", "SANDBOX-AUTH-alice_1").unwrap();
        assert_eq!((who.customer_id.as_str(), who.short), ("alice_1", false));
        assert_eq!(
            store.use_code("C", "SANDBOX-AUTH-alice_1").err(),
            Some(Failure::Unauthorized("Auth Code Already Used"))
        );
        assert!(store.use_code("D", "SANDBOX-AUTH-alice_1").is_ok());
        assert!(store.use_code("C", "SANDBOX-AUTH-SHORT-bob").unwrap().short);
        for bad in [
            "",
            "SANDBOX-AUTH-",
            "sandbox-auth-x",
            "SANDBOX-AUTH-a b",
            "XYZ",
        ] {
            assert_eq!(
                store.use_code("C", bad).err(),
                Some(Failure::Unauthorized("Invalid Auth Code")),
                "{bad}"
            );
        }
    }

    #[test]
    fn refresh_tokens_are_single_use_unexpired_and_the_clients() {
        let store = CustomerStore::default();
        let who = Grantee {
            customer_id: "x".into(),
            short: false,
        };
        store.record("r", Kind::Refresh, "C", &who, 60);
        store.record("a", Kind::Access, "C", &who, 60);
        let now = Utc::now();
        assert!(store.use_refresh("D", "r", now).is_err());
        assert!(store.use_refresh("C", "a", now).is_err());
        assert!(store
            .use_refresh("C", "r", now + TimeDelta::seconds(61))
            .is_err());
        assert_eq!(store.use_refresh("C", "r", now).unwrap().customer_id, "x");
        assert!(store.use_refresh("C", "r", now).is_err());
        assert!(store.access_valid("C", "a", now));
        assert!(!store.access_valid("D", "a", now));
        assert!(!store.access_valid("C", "r", now));
        assert!(!store.access_valid("C", "a", now + TimeDelta::seconds(61)));
    }

    #[test]
    fn routes_name_known_providers() {
        for (path, name) in ROUTES {
            assert_eq!(provider_for_path(path).map(|p| p.name), Some(*name));
        }
        assert!(provider_for_path("/v1.0/access-token/b2b").is_none());
    }
}
