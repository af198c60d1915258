//! Provider profiles: everything that differs between providers' token
//! endpoints, as data. The request builder and response reader in
//! [`crate::token`] read these fields and contain no provider names.
//!
//! The built-in presets ([`ALL`]) are `const` data borrowing `'static`
//! strings; a profile a user supplies in the config (`"profile": {...}`,
//! parsed in [`user`]) is the same type holding owned strings. Either way
//! it is resolved once, when the config is parsed.

use std::borrow::Cow;

use crate::timestamp::TimestampStyle;

pub mod user;

/// A name or value of a profile: borrowed in the presets, owned in a
/// user's profile.
pub type Text = Cow<'static, str>;
/// A list of names or patterns.
pub type Texts = Cow<'static, [Text]>;

const fn t(s: &'static str) -> Text {
    Cow::Borrowed(s)
}

/// Where the client id and secret travel in the token request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Not in the body (SNAP: the client id is a header, there is no secret).
    None,
    /// Top-level members of the body.
    Body,
    /// Members of the additional-info object (Klikoo).
    AdditionalInfo,
}

/// Shape of the token request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBody {
    /// Member holding `"client_credentials"`: SNAP `grantType`, some
    /// providers `grant_type`.
    pub grant_type_key: Text,
    /// Name of the additional-info object: `additionalInfo` or `additional_info`.
    pub additional_info_key: Text,
    /// A fixed additional-info object sent with every request (JSON text of
    /// an object, checked when the profile is parsed), e.g. `{}`.
    pub additional_info: Option<Text>,
    pub credentials: Credentials,
    pub client_id_key: Text,
    pub client_secret_key: Text,
}

/// Where the fields of the token response live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFields {
    /// Names of the response code, the first present wins (NICEPAY may
    /// spell it `responseCd`).
    pub response_code: Texts,
    pub response_message: Texts,
    /// Object holding the token fields, or `None` for the top level.
    pub data: Option<Text>,
    pub access_token: Text,
    pub token_type: Text,
    pub expires_in: Text,
    /// The provider's additional-info object, beside the token fields.
    pub additional_info: Text,
}

/// What a refusal most likely means; the hint texts are in
/// `token::hint`, the codes and words that point to each in the profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    UnknownClient,
    /// The signature did not verify.
    Signature,
    /// The timestamp was refused (stale, or the clock is off).
    Timestamp,
    /// The timestamp could not be read.
    TimestampFormat,
    /// Client id or secret refused.
    Credentials,
    /// The client id is not in the provider's format (Klikoo: a UUID).
    ClientIdFormat,
    GrantType,
    /// The caller's IP address is not on the provider's list.
    IpNotAllowed,
    InvalidToken,
    ExpiredToken,
}

impl HintKind {
    /// The names a user's profile uses (`"hint": "signature"`).
    pub const NAMES: &'static [(&'static str, HintKind)] = &[
        ("unknown_client", HintKind::UnknownClient),
        ("signature", HintKind::Signature),
        ("timestamp", HintKind::Timestamp),
        ("timestamp_format", HintKind::TimestampFormat),
        ("credentials", HintKind::Credentials),
        ("client_id_format", HintKind::ClientIdFormat),
        ("grant_type", HintKind::GrantType),
        ("ip_not_allowed", HintKind::IpNotAllowed),
        ("invalid_token", HintKind::InvalidToken),
        ("expired_token", HintKind::ExpiredToken),
    ];
}

/// A refusal that points to a [`HintKind`]: its code matches `code` (a
/// pattern, see [`code_matches`]; any code when `None`) and its message
/// holds every one of `words` (lower case; none means any message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintRule {
    pub code: Option<Text>,
    pub words: Texts,
    pub kind: HintKind,
}

/// A [`HintRule`] in a `const` table.
macro_rules! rule {
    ($code:literal, [$($word:literal),*], $kind:ident) => {
        HintRule {
            code: Some(Cow::Borrowed($code)),
            words: Cow::Borrowed(&[$(Cow::Borrowed($word)),*]),
            kind: HintKind::$kind,
        }
    };
}

/// Rules every profile ends with, after its own: SNAP's English reasons
/// (`4017300 Unauthorized. Signature`) and the Indonesian words providers
/// use (`Signature tidak sesuai`, `Waktu tidak sesuai`).
pub const COMMON_HINTS: &[HintRule] = &[
    rule!("401*", ["unknown client"], UnknownClient),
    rule!("401*", ["signature"], Signature),
    rule!("401*", ["timestamp"], Timestamp),
    // SNAP 4007301 / Klikoo-style 400012001: invalid field format.
    rule!("400*01", ["timestamp"], TimestampFormat),
    rule!("4*", ["signature", "tidak"], Signature),
    rule!("4*", ["waktu"], Timestamp),
    rule!("4*", ["kredensial"], Credentials),
    rule!("4*", ["client secret"], Credentials),
    rule!("403*", ["whitelist"], IpNotAllowed),
    rule!("4*", ["grant"], GrantType),
    rule!("401*", ["kadaluarsa"], ExpiredToken),
    rule!("401*", ["expired"], ExpiredToken),
];

/// One provider's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The config name (`provider` key), or the user profile's `name`.
    pub name: Text,
    pub token_path: Text,
    pub sandbox_url: Option<Text>,
    pub production_url: Option<Text>,
    pub timestamp_style: TimestampStyle,
    pub timestamp_header: Text,
    pub signature_header: Text,
    /// Header carrying the client id, if the provider wants one.
    pub client_key_header: Option<Text>,
    /// Static headers sent with every token request.
    pub extra_headers: Cow<'static, [(Text, Text)]>,
    pub body: RequestBody,
    pub response: ResponseFields,
    /// A response code matching one of these means success (patterns, see
    /// [`code_matches`]); an answer without a code is judged by its HTTP status.
    pub success_codes: Texts,
    /// Response codes of a service call that mean "this access token is not
    /// (or no longer) valid": the client renews the token once and sends
    /// the call again.
    pub invalid_token_codes: Texts,
    /// The provider's own codes and words for common mistakes, tried before
    /// [`COMMON_HINTS`].
    pub hints: Cow<'static, [HintRule]>,
    /// The customer (B2B2C, SNAP service 74) token endpoint, where the
    /// provider documents one; read by [`crate::customer_token`].
    pub customer_token: Option<CustomerTokenEndpoint>,
}

/// How a provider's customer (B2B2C) token request differs from its B2B one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTokenEndpoint {
    pub path: Text,
    /// Whether the request also carries the B2B access token as
    /// `Authorization` (SNAP's service-call rule; DOKU's B2B2C document
    /// asks only for the signature headers).
    pub b2b_authorization: bool,
}

const fn customer(path: &'static str, b2b_authorization: bool) -> Option<CustomerTokenEndpoint> {
    Some(CustomerTokenEndpoint {
        path: t(path),
        b2b_authorization,
    })
}

/// Whether `code` matches `pattern`: `?` stands for one digit (SNAP's `xx`,
/// the service code), `*` for any rest (including nothing); other
/// characters match themselves.
pub fn code_matches(pattern: &str, code: &str) -> bool {
    fn go(p: &[u8], c: &[u8]) -> bool {
        match (p.first(), c.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], c) || (!c.is_empty() && go(p, &c[1..])),
            (Some(b'?'), Some(d)) if d.is_ascii_digit() => go(&p[1..], &c[1..]),
            (Some(x), Some(y)) if x == y && *x != b'?' => go(&p[1..], &c[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), code.as_bytes())
}

impl Profile {
    /// Whether a service call's response code says the token was refused.
    pub fn is_invalid_token_code(&self, code: &str) -> bool {
        self.invalid_token_codes
            .iter()
            .any(|p| code_matches(p, code))
    }

    /// Whether a token answer's response code means success.
    pub fn is_success_code(&self, code: &str) -> bool {
        self.success_codes.iter().any(|p| code_matches(p, code))
    }

    /// The client secret travels in the body, so the config must hold one.
    pub fn requires_client_secret(&self) -> bool {
        self.body.credentials != Credentials::None
    }

    /// The profile's own hint rules, then the common ones.
    pub fn hint_rules(&self) -> impl Iterator<Item = &HintRule> {
        self.hints.iter().chain(COMMON_HINTS)
    }
}

const SNAP_FIELDS: ResponseFields = ResponseFields {
    response_code: Cow::Borrowed(&[t("responseCode")]),
    response_message: Cow::Borrowed(&[t("responseMessage")]),
    data: None,
    access_token: t("accessToken"),
    token_type: t("tokenType"),
    expires_in: t("expiresIn"),
    additional_info: t("additionalInfo"),
};

const SNAP_BODY: RequestBody = RequestBody {
    grant_type_key: t("grantType"),
    additional_info_key: t("additionalInfo"),
    additional_info: None,
    credentials: Credentials::None,
    client_id_key: t("clientId"),
    client_secret_key: t("clientSecret"),
};

/// SNAP: `401xx01 Invalid Token (B2B)` (NICEPAY: `401XX01 Access Token
/// Invalid`), `xx` being the service's code.
const SNAP_INVALID_TOKEN: Texts = Cow::Borrowed(&[t("401??01")]);
/// SNAP: `200xx00` and the other 2xx cases.
const SNAP_SUCCESS: Texts = Cow::Borrowed(&[t("200*")]);
const NO_HEADERS: Cow<'static, [(Text, Text)]> = Cow::Borrowed(&[]);
const NO_HINTS: Cow<'static, [HintRule]> = Cow::Borrowed(&[]);

/// A profile following SNAP (its headers, signature, codes), differing in
/// the given fields. `const`: `..SNAP` cannot be evaluated in a `const` of a
/// type holding `Cow`s, so the SNAP presets are built here, each field of
/// theirs written once.
const fn snap_profile(
    name: &'static str,
    token_path: &'static str,
    urls: Option<(&'static str, &'static str)>,
    timestamp_style: TimestampStyle,
    body: RequestBody,
    response: ResponseFields,
    customer_token: Option<CustomerTokenEndpoint>,
) -> Profile {
    Profile {
        name: t(name),
        token_path: t(token_path),
        sandbox_url: match urls {
            Some((sandbox, _)) => Some(t(sandbox)),
            None => None,
        },
        production_url: match urls {
            Some((_, production)) => Some(t(production)),
            None => None,
        },
        timestamp_style,
        timestamp_header: t("X-TIMESTAMP"),
        signature_header: t("X-SIGNATURE"),
        client_key_header: Some(t("X-CLIENT-KEY")),
        extra_headers: NO_HEADERS,
        body,
        response,
        success_codes: SNAP_SUCCESS,
        invalid_token_codes: SNAP_INVALID_TOKEN,
        hints: NO_HINTS,
        customer_token,
    }
}

/// The SNAP standard (`/v1.0/access-token/b2b`), and what a user's profile
/// without `provider` starts from.
pub const SNAP: Profile = snap_profile(
    "snap",
    "/v1.0/access-token/b2b",
    None,
    TimestampStyle::Wib,
    SNAP_BODY,
    SNAP_FIELDS,
    // SNAP: the B2B path with `b2b2c`; the service-call Authorization too.
    customer("/v1.0/access-token/b2b2c", true),
);

pub const DOKU: Profile = snap_profile(
    "doku",
    "/authorization/v1/access-token/b2b",
    Some(("https://api-sandbox.doku.com", "https://api.doku.com")),
    // DOKU's document asks for UTC in the `Z` form.
    TimestampStyle::Utc,
    SNAP_BODY,
    SNAP_FIELDS,
    // developers.doku.com, Get Token API, B2B2C (service code 74): the
    // signature headers only.
    customer("/authorization/v1/access-token/b2b2c", false),
);

pub const NICEPAY: Profile = snap_profile(
    "nicepay",
    "/nicepay/v1.0/access-token/b2b",
    Some(("https://dev.nicepay.co.id", "https://www.nicepay.co.id")),
    TimestampStyle::Wib,
    NICEPAY_BODY,
    NICEPAY_FIELDS,
    // Its SNAP documents describe no B2B2C token.
    None,
);

/// NICEPAY's sample request carries `"additionalInfo":{}`.
const NICEPAY_BODY: RequestBody = RequestBody {
    grant_type_key: t("grantType"),
    additional_info_key: t("additionalInfo"),
    additional_info: Some(t("{}")),
    credentials: Credentials::None,
    client_id_key: t("clientId"),
    client_secret_key: t("clientSecret"),
};

/// NICEPAY's document lists `responseCd` / `responseMsg` beside the BI names.
const NICEPAY_FIELDS: ResponseFields = ResponseFields {
    response_code: Cow::Borrowed(&[t("responseCode"), t("responseCd")]),
    response_message: Cow::Borrowed(&[t("responseMessage"), t("responseMsg")]),
    data: None,
    access_token: t("accessToken"),
    token_type: t("tokenType"),
    expires_in: t("expiresIn"),
    additional_info: t("additionalInfo"),
};

/// Midtrans' SNAP BI token call: the standard path on its own hosts, a
/// snake-case `grant_type` in the body and `expiresIn` as a string (the
/// reader takes either form).
pub const MIDTRANS: Profile = snap_profile(
    "midtrans",
    "/v1.0/access-token/b2b",
    Some((
        "https://merchants.sbx.midtrans.com",
        "https://merchants.midtrans.com",
    )),
    TimestampStyle::Wib,
    RequestBody {
        grant_type_key: t("grant_type"),
        additional_info_key: t("additionalInfo"),
        additional_info: None,
        credentials: Credentials::None,
        client_id_key: t("clientId"),
        client_secret_key: t("clientSecret"),
    },
    SNAP_FIELDS,
    // Its SNAP BI documents describe no B2B2C token.
    None,
);

/// Klikoo's document does not say how `Open-Api-Signature` is computed;
/// public integrations sign `client_id|timestamp` with SHA256withRSA and the
/// merchant key, exactly as SNAP does, so that is what we send.
pub const KLIKOO: Profile = Profile {
    name: t("klikoo"),
    token_path: t("/v1/open-api/access-token"),
    sandbox_url: None,
    production_url: None,
    timestamp_style: TimestampStyle::Wib,
    timestamp_header: t("Open-Api-Timestamp"),
    signature_header: t("Open-Api-Signature"),
    client_key_header: None,
    extra_headers: NO_HEADERS,
    body: RequestBody {
        grant_type_key: t("grant_type"),
        additional_info_key: t("additional_info"),
        additional_info: None,
        credentials: Credentials::AdditionalInfo,
        client_id_key: t("client_id"),
        client_secret_key: t("client_secret"),
    },
    response: ResponseFields {
        response_code: Cow::Borrowed(&[t("response_code")]),
        response_message: Cow::Borrowed(&[t("response_message")]),
        data: Some(t("data")),
        access_token: t("access_token"),
        token_type: t("token_type"),
        expires_in: t("expires_in"),
        additional_info: t("additional_info"),
    },
    // Klikoo's 9-digit codes: HTTP status, service code, then its own case
    // (`200xx2000 Sukses`, `201xx2001 Berhasil dibuat`).
    success_codes: Cow::Borrowed(&[t("2*")]),
    // `401xx6500 Token tidak sesuai`, `401xx6535 Token kadaluarsa`.
    invalid_token_codes: Cow::Borrowed(&[t("401??6500"), t("401??6535")]),
    // Klikoo's response-code table (its "API's Response Code" page).
    hints: Cow::Borrowed(&[
        rule!("400??6505", [], Timestamp),
        rule!("400??6508", [], Signature),
        rule!("400??6568", [], ClientIdFormat),
        rule!("400??6569", [], GrantType),
        rule!("401??6500", [], InvalidToken),
        rule!("401??6535", [], ExpiredToken),
        rule!("401??6570", [], Credentials),
        rule!("403??6571", [], IpNotAllowed),
    ]),
    customer_token: None,
};

pub const ALL: [&Profile; 5] = [&DOKU, &NICEPAY, &KLIKOO, &MIDTRANS, &SNAP];

pub fn by_name(name: &str) -> Option<&'static Profile> {
    ALL.iter().copied().find(|p| p.name == name)
}

/// `doku, nicepay, klikoo, midtrans, snap`, for messages.
pub fn names() -> String {
    ALL.iter()
        .map(|p| p.name.as_ref())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_token_codes_match_any_service_code_and_nothing_else() {
        assert!(KLIKOO.is_invalid_token_code("401246500"));
        assert!(KLIKOO.is_invalid_token_code("401026535"));
        assert!(!KLIKOO.is_invalid_token_code("4012401"));
        assert!(!KLIKOO.is_invalid_token_code("401246570"));
        for p in [&DOKU, &NICEPAY, &SNAP, &MIDTRANS] {
            assert!(p.is_invalid_token_code("4012401"), "{}", p.name);
            assert!(p.is_invalid_token_code("4011101"), "{}", p.name);
            for other in [
                "4012400", "4012402", "401240", "40124011", "401ab01", "4092400", "",
            ] {
                assert!(!p.is_invalid_token_code(other), "{} {other}", p.name);
            }
        }
    }

    #[test]
    fn patterns() {
        for (p, c, ok) in [
            ("200*", "2007300", true),
            ("200*", "200", true),
            ("200*", "4017300", false),
            ("400*01", "4007301", true),
            ("400*01", "400012001", true),
            ("400*01", "4007302", false),
            ("401??01", "401ab01", false),
            ("2*", "201012001", true),
            ("*", "", true),
            ("", "", true),
            ("", "1", false),
        ] {
            assert_eq!(code_matches(p, c), ok, "{p} {c}");
        }
    }

    #[test]
    fn presets_are_distinct_and_named_once() {
        for (i, p) in ALL.iter().enumerate() {
            assert_eq!(by_name(&p.name), Some(*p));
            assert!(ALL[i + 1..].iter().all(|q| q.name != p.name));
        }
        assert!(KLIKOO.requires_client_secret() && !SNAP.requires_client_secret());
    }
}
