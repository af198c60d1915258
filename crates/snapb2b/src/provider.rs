//! Provider profiles: everything that differs between providers' token
//! endpoints, as data. The request builder and response reader in
//! [`crate::token`] read these fields and contain no provider names.

use crate::timestamp::TimestampStyle;

/// Shape of the token request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// `{"grantType":"client_credentials"}`, plus `"additionalInfo":{}` when set.
    Snap { additional_info: bool },
    /// Klikoo: `{"grant_type":"client_credentials","additional_info":{"client_id","client_secret"}}`.
    SnakeCaseWithCredentials,
}

/// Where the fields of the token response live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseFields {
    pub response_code: &'static str,
    pub response_message: &'static str,
    /// Object holding the token fields, or `None` for the top level.
    pub data: Option<&'static str>,
    pub access_token: &'static str,
    pub token_type: &'static str,
    pub expires_in: &'static str,
}

const SNAP_FIELDS: ResponseFields = ResponseFields {
    response_code: "responseCode",
    response_message: "responseMessage",
    data: None,
    access_token: "accessToken",
    token_type: "tokenType",
    expires_in: "expiresIn",
};

/// One provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The config name (`provider` key).
    pub name: &'static str,
    pub token_path: &'static str,
    pub sandbox_url: Option<&'static str>,
    pub production_url: Option<&'static str>,
    pub timestamp_style: TimestampStyle,
    pub timestamp_header: &'static str,
    pub signature_header: &'static str,
    /// Header carrying the client id, if the provider wants one.
    pub client_key_header: Option<&'static str>,
    pub body: RequestBody,
    pub response: ResponseFields,
    /// A response code starting with this means success.
    pub success_code_prefix: &'static str,
    pub requires_client_secret: bool,
    /// Response codes of a service call that mean "this access token is not
    /// (or no longer) valid" (`?` matches any digit, e.g. the service code):
    /// the client renews the token once and sends the call again.
    pub invalid_token_codes: &'static [&'static str],
    /// The customer (B2B2C, SNAP service 74) token endpoint, where the
    /// provider documents one; read by [`crate::customer_token`].
    pub customer_token_path: Option<&'static str>,
}

/// SNAP: `401xx01 Invalid Token (B2B)` (NICEPAY: `401XX01 Access Token
/// Invalid`), `xx` being the service's code.
const SNAP_INVALID_TOKEN: &[&str] = &["401??01"];

impl Profile {
    /// Whether a service call's response code says the token was refused.
    pub fn is_invalid_token_code(&self, code: &str) -> bool {
        self.invalid_token_codes.iter().any(|pattern| {
            pattern.len() == code.len()
                && pattern.bytes().zip(code.bytes()).all(|(p, c)| {
                    if p == b'?' {
                        c.is_ascii_digit()
                    } else {
                        p == c
                    }
                })
        })
    }
}

pub const DOKU: Profile = Profile {
    name: "doku",
    token_path: "/authorization/v1/access-token/b2b",
    sandbox_url: Some("https://api-sandbox.doku.com"),
    production_url: Some("https://api.doku.com"),
    // DOKU's document asks for UTC in the `Z` form.
    timestamp_style: TimestampStyle::Utc,
    timestamp_header: "X-TIMESTAMP",
    signature_header: "X-SIGNATURE",
    client_key_header: Some("X-CLIENT-KEY"),
    body: RequestBody::Snap {
        additional_info: false,
    },
    response: SNAP_FIELDS,
    success_code_prefix: "200",
    requires_client_secret: false,
    invalid_token_codes: SNAP_INVALID_TOKEN,
    // developers.doku.com, Get Token API, B2B2C (service code 74).
    customer_token_path: Some("/authorization/v1/access-token/b2b2c"),
};

pub const NICEPAY: Profile = Profile {
    name: "nicepay",
    token_path: "/nicepay/v1.0/access-token/b2b",
    sandbox_url: Some("https://dev.nicepay.co.id"),
    production_url: Some("https://www.nicepay.co.id"),
    timestamp_style: TimestampStyle::Wib,
    timestamp_header: "X-TIMESTAMP",
    signature_header: "X-SIGNATURE",
    client_key_header: Some("X-CLIENT-KEY"),
    body: RequestBody::Snap {
        additional_info: true,
    },
    response: SNAP_FIELDS,
    success_code_prefix: "200",
    requires_client_secret: false,
    invalid_token_codes: SNAP_INVALID_TOKEN,
    // Its SNAP documents describe no B2B2C token.
    customer_token_path: None,
};

/// Klikoo's document does not say how `Open-Api-Signature` is computed;
/// public integrations sign `client_id|timestamp` with SHA256withRSA and the
/// merchant key, exactly as SNAP does, so that is what we send.
pub const KLIKOO: Profile = Profile {
    name: "klikoo",
    token_path: "/v1/open-api/access-token",
    sandbox_url: None,
    production_url: None,
    timestamp_style: TimestampStyle::Wib,
    timestamp_header: "Open-Api-Timestamp",
    signature_header: "Open-Api-Signature",
    client_key_header: None,
    body: RequestBody::SnakeCaseWithCredentials,
    response: ResponseFields {
        response_code: "response_code",
        response_message: "response_message",
        data: Some("data"),
        access_token: "access_token",
        token_type: "token_type",
        expires_in: "expires_in",
    },
    success_code_prefix: "200",
    requires_client_secret: true,
    // Klikoo's 9-digit codes: HTTP status, service code, then 2000 + the
    // SNAP case, so SNAP's `01` is `2001`.
    invalid_token_codes: &["401??2001"],
    customer_token_path: None,
};

/// The SNAP standard path, for banks that follow it (`token_path` overrides
/// prefixed variants such as `/snap/v1.0/access-token/b2b`).
pub const SNAP: Profile = Profile {
    name: "snap",
    token_path: "/v1.0/access-token/b2b",
    sandbox_url: None,
    production_url: None,
    timestamp_style: TimestampStyle::Wib,
    timestamp_header: "X-TIMESTAMP",
    signature_header: "X-SIGNATURE",
    client_key_header: Some("X-CLIENT-KEY"),
    body: RequestBody::Snap {
        additional_info: false,
    },
    response: SNAP_FIELDS,
    success_code_prefix: "200",
    requires_client_secret: false,
    invalid_token_codes: SNAP_INVALID_TOKEN,
    // The standard path (SNAP BI, service 74).
    customer_token_path: Some("/v1.0/access-token/b2b2c"),
};

pub const ALL: [&Profile; 4] = [&DOKU, &NICEPAY, &KLIKOO, &SNAP];

pub fn by_name(name: &str) -> Option<&'static Profile> {
    ALL.iter().copied().find(|p| p.name == name)
}

/// `doku, nicepay, klikoo, snap`, for messages.
pub fn names() -> String {
    ALL.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_token_codes_match_any_service_code_and_nothing_else() {
        assert!(KLIKOO.is_invalid_token_code("401242001"));
        assert!(!KLIKOO.is_invalid_token_code("4012401"));
        assert!(!KLIKOO.is_invalid_token_code("401242000"));
        for p in [&DOKU, &NICEPAY, &SNAP] {
            assert!(p.is_invalid_token_code("4012401"), "{}", p.name);
            assert!(p.is_invalid_token_code("4011101"), "{}", p.name);
            for other in [
                "4012400", "4012402", "401240", "40124011", "401ab01", "4092400", "",
            ] {
                assert!(!p.is_invalid_token_code(other), "{} {other}", p.name);
            }
        }
    }
}
