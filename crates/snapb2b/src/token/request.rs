//! Building the token request from a config and a profile, and sending it.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{read_response, Token};
use crate::config::{Config, ConfigKind};
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::provider::RequestBody;
use crate::secret::{SecretBuf, SecretJson};
use crate::sign;
use crate::transport::{Limits, Transport};

/// A ready-to-send token request.
pub struct TokenRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Holds Klikoo's client secret.
    pub body: SecretBuf,
    /// The timestamp that was both signed and sent.
    pub timestamp: String,
}

/// Builds the request: one timestamp, formatted once, used for the header and
/// the signature alike.
pub fn build_request(
    config: &Config,
    key: &PrivateKey,
    now: DateTime<Utc>,
) -> Result<TokenRequest> {
    let profile = config.profile;
    let timestamp = config.timestamp_style.format(now);
    let signature = sign::b2b_signature(key, &config.client_id, &timestamp)?;
    let mut headers = vec![(profile.timestamp_header, timestamp.clone())];
    if let Some(client_key) = profile.client_key_header {
        headers.push((client_key, config.client_id.clone()));
    }
    headers.push((profile.signature_header, signature));
    let body = SecretJson(match profile.body {
        RequestBody::Snap { additional_info } => {
            let mut body = json!({"grantType": "client_credentials"});
            if additional_info {
                body["additionalInfo"] = json!({});
            }
            body
        }
        RequestBody::SnakeCaseWithCredentials => json!({
            "grant_type": "client_credentials",
            "additional_info": {
                "client_id": config.client_id,
                "client_secret": config.client_secret.as_ref().map(|s| s.expose()).unwrap_or(""),
            }
        }),
    });
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
    read_response(config.profile, &response, started).map_err(scrub)
}

/// One-shot: parse the config, sign, request, normalise.
pub fn get_token(config_json: &str) -> Result<Token> {
    let config = Config::parse(config_json, ConfigKind::OneShot)?;
    let key = config.load_key_cached()?;
    fetch(&config, &key, &mut Transport::new(), config.timeout)
}
