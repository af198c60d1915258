//! Building the token request from a config and a profile, and sending it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{read_response, Token};
use crate::config::{Config, ConfigKind};
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::provider::{Credentials, RequestBody};
use crate::secret::{SecretBuf, SecretJson};
use crate::sign;
use crate::transport::{Limits, Transport};

/// A ready-to-send token request; header names borrow from the profile.
pub struct TokenRequest<'c> {
    pub url: String,
    pub headers: Vec<(&'c str, String)>,
    /// May hold the client secret (Klikoo).
    pub body: SecretBuf,
    /// The timestamp that was both signed and sent.
    pub timestamp: String,
}

/// Builds the request: one timestamp, formatted once, used for the header and
/// the signature alike.
pub fn build_request<'c>(
    config: &'c Config,
    key: &PrivateKey,
    now: DateTime<Utc>,
) -> Result<TokenRequest<'c>> {
    let profile = &*config.profile;
    let timestamp = config.timestamp_style.format(now);
    let signature = sign::b2b_signature(key, &config.client_id, &timestamp)?;
    let mut headers = vec![(profile.timestamp_header.as_ref(), timestamp.clone())];
    if let Some(client_key) = &profile.client_key_header {
        headers.push((client_key.as_ref(), config.client_id.clone()));
    }
    headers.push((profile.signature_header.as_ref(), signature));
    headers.extend(
        profile
            .extra_headers
            .iter()
            .map(|(name, value)| (name.as_ref(), value.to_string())),
    );
    let body = SecretJson(Value::Object(request_body(config, &profile.body)?));
    // `serde_json::to_vec` would leave a copy of the secret behind each time
    // its Vec reallocated.
    let body = body
        .to_secret_buf()
        .map_err(|e| Error::new(Status::B2B_INTERNAL, e.to_string()))?;
    Ok(TokenRequest {
        url: config.token_url(),
        headers,
        body,
        timestamp,
    })
}

/// `{"grantType":"client_credentials"}` in the profile's spelling, with its
/// fixed additional info and the credentials where it wants them.
fn request_body(config: &Config, shape: &RequestBody) -> Result<Map<String, Value>> {
    let mut body = Map::new();
    body.insert(
        shape.grant_type_key.to_string(),
        Value::from("client_credentials"),
    );
    let mut info = match &shape.additional_info {
        // Checked to be an object when the profile was parsed.
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => Some(m),
            _ => {
                return Err(Error::new(
                    Status::B2B_INTERNAL,
                    "the profile's additional_info is not a JSON object",
                ))
            }
        },
        None => None,
    };
    let credentials = || {
        [
            (&shape.client_id_key, config.client_id.as_str()),
            (
                &shape.client_secret_key,
                config
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose())
                    .unwrap_or(""),
            ),
        ]
        .map(|(k, v)| (k.to_string(), Value::from(v)))
    };
    match shape.credentials {
        Credentials::None => {}
        Credentials::Body => body.extend(credentials()),
        Credentials::AdditionalInfo => info.get_or_insert_with(Map::new).extend(credentials()),
    }
    if let Some(info) = info {
        body.insert(shape.additional_info_key.to_string(), Value::Object(info));
    }
    Ok(body)
}

/// Sends the request and reads the answer.
/// `timeout` is this request's budget: `config.timeout` for one request, what
/// is left of it for a retry.
pub fn fetch(
    config: &Config,
    key: &PrivateKey,
    transport: &mut Transport,
    timeout: std::time::Duration,
) -> Result<Token> {
    let started = Utc::now();
    let request = build_request(config, key, started)?;
    let limits = Limits {
        timeout,
        connect_timeout: config.connect_timeout.min(timeout),
        ca_file: config.ca_file.clone(),
    };
    // A provider (or a proxy) may echo the request, client secret included.
    let scrub = |e: Error| e.without_secrets(&config.secret_values());
    let response = transport
        .post_json(&request.url, &request.headers, &request.body, &limits)
        .map_err(scrub)?;
    read_response(&config.profile, &response, started).map_err(scrub)
}

/// One-shot: parse the config, sign, request, normalise.
pub fn get_token(config_json: &str) -> Result<Token> {
    let config = Config::parse(config_json, ConfigKind::OneShot)?;
    let key = config.load_key_cached()?;
    fetch(&config, &key, &mut Transport::new(), config.timeout)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn request(profile: Value, extra: Value) -> (Vec<(String, String)>, Value) {
        let mut c = json!({"base_url": "https://bank.example", "client_id": "CID",
                           "private_key": "unused", "profile": profile});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        let config = Config::parse(&c.to_string(), ConfigKind::OneShot).unwrap();
        let key = PrivateKey::generate(2048).unwrap();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let r = build_request(&config, &key, now).unwrap();
        let headers = r
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        (headers, serde_json::from_slice(&r.body).unwrap())
    }

    #[test]
    fn the_profile_shapes_headers_and_body() {
        // The SNAP standard a profile starts from.
        let (headers, body) = request(json!({}), json!({}));
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE"]);
        assert_eq!(body, json!({"grantType": "client_credentials"}));
        // Every knob at once: names, static headers, credentials merged into
        // a fixed additional-info object, no client-key header.
        let (headers, body) = request(
            json!({"timestamp_header": "X-Time", "signature_header": "X-Sig", "client_key_header": null,
                   "headers": {"X-Channel": "web", "X-Partner": "P 1"},
                   "body": {"grant_type_key": "grant_type", "additional_info_key": "info",
                            "additional_info": {"merchantId": "M1"}, "credentials": "additional_info",
                            "client_id_key": "id", "client_secret_key": "secret"}}),
            json!({"client_secret": "S3"}),
        );
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["X-Time", "X-Sig", "X-Channel", "X-Partner"]);
        assert_eq!(headers[2].1, "web");
        assert_eq!(
            body,
            json!({"grant_type": "client_credentials",
                   "info": {"merchantId": "M1", "id": "CID", "secret": "S3"}})
        );
        // Credentials at the top level.
        let (_, body) = request(
            json!({"body": {"credentials": "body"}}),
            json!({"client_secret": "S3"}),
        );
        assert_eq!(
            body,
            json!({"grantType": "client_credentials", "clientId": "CID", "clientSecret": "S3"})
        );
    }
}
