//! Local sandbox provider: a real HTTPS server playing the B2B access-token
//! endpoints of DOKU, NICEPAY, Midtrans, a generic SNAP bank, Klikoo and BNC (a
//! bank without a preset, reached with a user profile), and the SNAP
//! service calls that follow them, for tests and for trying clients offline.
//!
//! Start it in-process with [`Sandbox::start`] or from the command line with
//! `snapb2b-sandbox` ([`cli_main`]). Each start makes a fresh CA (RSA 2048,
//! `DIR/ca.pem`) and server certificate (ECDSA P-256, for 127.0.0.1, ::1 and
//! localhost, valid from a day ago for 30 days), reuses or creates the demo merchant key pair
//! (`DIR/merchant-key.pem`, PKCS#8, mode 0600; `DIR/merchant-public.pem`), writes
//! ready client configs `DIR/config-{doku,nicepay,snap,klikoo,midtrans,bnc}.json`
//! (`config-bnc.json` carries a `"profile"`, [`BNC_PROFILE`], not a `provider`) and, last and
//! atomically, `DIR/sandbox.json` (removed again on clean shutdown; a stale one is
//! removed at start).
//!
//! # Endpoints (POST, signed)
//! | provider | path | success body |
//! |---|---|---|
//! | doku | `/authorization/v1/access-token/b2b` | `expiresIn` number, `"additionalInfo":""`, headers `X-CLIENT-KEY`, `X-TIMESTAMP` |
//! | nicepay | `/nicepay/v1.0/access-token/b2b` | `expiresIn` string `"900"` |
//! | snap | `/v1.0/access-token/b2b`, `/snap/v1.0/...`, `/openapi/v1.0/...` | `expiresIn` string `"900"`, `"additionalInfo":{"bankCode":"SANDBOX","channel":"b2b"}` |
//! | midtrans | `/midtrans/v1.0/access-token/b2b` (the prefix stands for Midtrans' host) | `expiresIn` string `"900"`; the body must say `grant_type` |
//! | bnc | `/open/bi/1.0.0/get/token` | `expiresIn` string `"900"`; the body must say `grant_type` |
//! | klikoo | `/v1/open-api/access-token` | `{"response_code":"200012000","response_message":"Sukses","data":{...,"expires_in":900}}` |
//!
//! SNAP requests carry `X-TIMESTAMP`, `X-CLIENT-KEY`, `X-SIGNATURE` =
//! base64(SHA256withRSA(`client_id|X-TIMESTAMP`)) and `{"grantType":"client_credentials"}`
//! (Midtrans and BNC: `{"grant_type":...}`; the other spelling is a missing field).
//! Klikoo requests carry `Open-Api-Timestamp`, `Open-Api-Signature` (same scheme)
//! and `{"grant_type":"client_credentials","additional_info":{"client_id","client_secret"}}`.
//! Timestamps must be ISO-8601 with a `T` and an offset (`Z` or `±hh:mm`),
//! optionally with a fraction, and within 300 s of the server clock.
//!
//! # Token error codes
//! Checked in this order: mandatory headers, timestamp format, JSON body, grant
//! type (Klikoo: then `additional_info` fields), known client, Klikoo secret,
//! signature, freshness, then the client's fault (if it is a fault client).
//!
//! | SNAP | message | Klikoo (its documented table) |
//! |---|---|---|
//! | 400 `4007300` | `Bad Request` (body is not a JSON object) | 400 `400016510 Validasi Error` |
//! | 400 `4007301` | `Invalid Field Format {field}` (timestamp, grant type not `client_credentials`, FAULT-GRANT) | timestamp: 400 `400016505 Waktu tidak sesuai`; grant type: 400 `400016569 Grant type tidak sesuai`; unregistered client id that is no UUID: 400 `400016568 UUID tidak sesuai` |
//! | 400 `4007302` | `Invalid Mandatory Field {field}` (missing or empty header / field) | 400 `400016512 Field tidak boleh kosong` |
//! | 401 `4017300` | `Unauthorized. Unknown Client` / `Signature` / `Stale Timestamp` | unknown client, wrong secret: 401 `401016570 Kredensial tidak sesuai`; signature: 400 `400016508 Signature tidak sesuai`; stale: 400 `400016505 Waktu tidak sesuai` |
//! | 403 `4037300` | `Forbidden` (FAULT-IP) | 403 `403016571 IP tidak ada di dalam whitelist` |
//! | 405 `4057300` | `Method Not Allowed` (token path without POST) | 405 `405012000` (undocumented by Klikoo: the generic rule) |
//! | 429 `4297300` | `Too Many Requests` (FAULT-429) | 429 `429012000` (likewise) |
//! | 500 `5007301` | `Internal Server Error` (FAULT-500) | 500 `500019999 Harap hubungi admin` |
//! | 503 `5037300` | `Service Unavailable` (FAULT-FLAKY) | 503 `503019991 Supplier sedang gangguan` |
//!
//! SNAP errors are `{"responseCode","responseMessage"}`, Klikoo errors
//! `{"response_code","response_message"}`. Every code, token or service, is
//! HTTP status + service code + case: SNAP `{status}{SS}{case:02}` (tokens:
//! `SS` = `73`), Klikoo `{status}{SS}{case:04}` with its documented case where
//! it has one, else `2000+case` (tokens: `SS` = `01`).
//!
//! # Customer tokens (B2B2C, service code 74; POST, signed)
//! | provider | path |
//! |---|---|
//! | doku | `/authorization/v1/access-token/b2b2c` |
//! | snap | `/v1.0/access-token/b2b2c`, `/snap/v1.0/...`, `/openapi/v1.0/...` |
//!
//! Headers and signature as for the B2B token (`X-TIMESTAMP`, `X-CLIENT-KEY`,
//! `X-SIGNATURE` over `client_id|X-TIMESTAMP`); the `snap` paths also ask for
//! `Authorization: Bearer <B2B token>` issued here to the same client (else
//! 401 `4017401`), DOKU's does not. Body
//! `{"grantType":"authorization_code","authCode":...}` or
//! `{"grantType":"refresh_token","refreshToken":...}`, optional
//! `additionalInfo` object. Auth codes: any [`SANDBOX_AUTH_CODE_PREFIX`]
//! (`SANDBOX-AUTH-`) followed by the customer's id (1-64 letters, digits, `-`,
//! `_`), each usable once per client; [`SANDBOX_SHORT_AUTH_CODE_PREFIX`]
//! (`SANDBOX-AUTH-SHORT-`) codes give tokens that live [`SHORT_TTL_SECS`].
//! Refresh tokens: those issued here, to the same client, unexpired, once
//! (each answer carries a new one). Success: `{"responseCode":"2007400",
//! "responseMessage":"Successful","accessToken","tokenType":"Bearer",
//! "accessTokenExpiryTime"` (WIB, [`CUSTOMER_TOKEN_TTL_SECS`] ahead)`,
//! "refreshToken","refreshTokenExpiryTime"` ([`REFRESH_TOKEN_TTL_SECS`])`,
//! "additionalInfo"}`: the request's `additionalInfo` plus `customerId`.
//! Refusals are the token endpoint's with service code `74` (`4007402`
//! for a missing `authCode`/`refreshToken`, `4007401` for another
//! `grantType`), and 401 `4017400` `Unauthorized. Invalid Auth Code` /
//! `Auth Code Already Used` / `Invalid Refresh Token` after the signature
//! verified. DOKU's path echoes `X-TIMESTAMP` and `X-CLIENT-KEY`.
//!
//! # Service calls (POST, signed)
//! | provider | paths | success |
//! |---|---|---|
//! | doku, snap | `/v1.0/{service}` | `{"responseCode":"200SS00","responseMessage":"Successful",...payload}` |
//! | snap | `/snap/v1.0/{service}`, `/openapi/v1.0/{service}` | the same |
//! | nicepay | `/nicepay/v1.0/{service}` | the same |
//! | klikoo | `/v1/open-api/{service}` | `{"response_code":"200SS2000","response_message":"Sukses","data":{...payload}}` |
//! | midtrans | `/midtrans/v1.0/{service}` | as doku |
//! | bnc | `/open/bi/private/v1.0/{service}` | as doku |
//!
//! Services (`SS` = service code): `/transfer-va/inquiry` (24), payload
//! `virtualAccountData` echoing `partnerServiceId`, `customerNo`,
//! `virtualAccountNo`, `inquiryRequestId` (those sent; fields are not
//! validated) plus `virtualAccountName` and `totalAmount`
//! `{"value":"150000.00","currency":"IDR"}`; `/balance-inquiry` (11), payload
//! echoing `partnerReferenceNo`, `accountNo`, plus `name` and `accountInfos`
//! (one `Cash` entry with `amount`, `availableBalance`). DOKU documents other
//! prefixes for its services; the standard one is served. Klikoo documents no
//! service-call signature: assumed here to be the SNAP header scheme below with
//! Klikoo-style codes and snake_case bodies. A call that passed the checks is
//! answered with its `X-EXTERNAL-ID` echoed as a response header.
//!
//! Checked in this order (the first failure answers):
//! 1. `POST`, else 405 `405SS00 Method Not Allowed` (`Allow: POST`);
//! 2. `Authorization: Bearer <token>` issued by this sandbox, unexpired
//!    ([`TOKEN_TTL_SECS`]) and not revoked, else 401 `401SS01` (Klikoo:
//!    `401SS6500 Token tidak sesuai`, expired `401SS6535 Token kadaluarsa`;
//!    FAULT-SVC-EXPIRED's tokens always count as expired); then
//!    `Authorization-Customer: Bearer <token>`, when sent: a customer access
//!    token this sandbox issued to the same client, unexpired, else 401
//!    `401SS02 Invalid Customer Token`;
//! 3. `X-TIMESTAMP`: present (`400SS02`), as for tokens (`400SS01`; milliseconds
//!    for `SANDBOX-CLIENT-MS`), within [`MAX_SKEW_MS`] (401 `401SS00 Unauthorized. Stale Timestamp`);
//! 4. `X-SIGNATURE`: present (`400SS02`), and base64 of HMAC-SHA512 keyed with
//!    the client secret over
//!    `METHOD:EndpointUrl:AccessToken:lowercase(hex(SHA-256(minify(body)))):X-TIMESTAMP`,
//!    or, for RSA-signing clients, SHA256withRSA over
//!    `METHOD:EndpointUrl:lowercase(hex(SHA-256(minify(body)))):X-TIMESTAMP`
//!    with the client's key, else 401 `401SS00 Unauthorized. Signature`.
//!    EndpointUrl is the request target as sent (path and query); minify
//!    removes space, tab, CR and LF outside JSON strings of the body as sent,
//!    so a signature over the pretty or the minified form fits either;
//! 5. `X-PARTNER-ID`: present (`400SS02`), equal to the token's client id, else
//!    401 `401SS00 Unauthorized. Unknown Partner`;
//! 6. `CHANNEL-ID`: present (`400SS02`), digits only (`400SS01`);
//! 7. body a JSON object, else `400SS00 Bad Request`;
//! 8. `X-EXTERNAL-ID`: present (`400SS02`), at most [`MAX_EXTERNAL_ID_CHARS`]
//!    characters (`400SS01`), not used by this partner (token client) on this
//!    Asia/Jakarta day, in any service, else 409 `409SS00`. Only a call that
//!    passed 1-7 uses its id up;
//! 9. then the client's service fault, if any.
//!
//! | HTTP | SNAP | Klikoo | message |
//! |---|---|---|---|
//! | HTTP | SNAP | Klikoo | message (Klikoo's) |
//! |---|---|---|---|
//! | 200 | `200SS00` | `200SS2000` | `Successful` (`Sukses`) |
//! | 400 | `400SS00` | `400SS6510` | `Bad Request` (`Validasi Error`) |
//! | 400 | `400SS01` | `400SS6510` / `400SS6505` | `Invalid Field Format {field}` (`Validasi Error`; timestamp: `Waktu tidak sesuai`) |
//! | 400 | `400SS02` | `400SS6512` | `Invalid Mandatory Field {field}` (`Field tidak boleh kosong`) |
//! | 401 / 400 | `401SS00` | `400SS6505` / `400SS6508` / `401SS6570` | `Unauthorized. Stale Timestamp` / `Signature` / `Unknown Partner` (`Waktu tidak sesuai` / `Signature tidak sesuai` / `Kredensial tidak sesuai`) |
//! | 401 | `401SS01` | `401SS6500` / `401SS6535` | `Invalid Token (B2B)` / (NICEPAY) `Access Token Invalid` (`Token tidak sesuai` / `Token kadaluarsa`) |
//! | 401 | `401SS02` | - | `Invalid Customer Token` |
//! | 405 | `405SS00` | `405SS2000` | `Method Not Allowed` |
//! | 409 | `409SS00` | `409SS6563` | `Cannot use same X-EXTERNAL-ID in same day` (`ReferenceNo sudah digunakan, ...`) |
//! | 500 | `500SS00` | `500SS9999` | `General Error` (FAULT-SVC-500) (`Harap hubungi admin`) |
//!
//! For configs: [`SERVICE_CLIENT_SECRET`] (every client's secret, the same as
//! [`KLIKOO_CLIENT_SECRET`]), [`SERVICE_CHANNEL_ID`], [`RSA_CLIENT_ID`]; also in
//! `sandbox.json` as `service_client_secret`, `service_channel_id`,
//! `rsa_client_id`, `service_paths` (per provider), `customer_token_paths`
//! (per provider) and `auth_code_prefix`. The `config-*.json`
//! files carry no service settings.
//!
//! # HTTP-level refusals
//! Answered with `{"responseCode":"{status}0000","responseMessage":...}`, then
//! the connection is closed (unknown paths excepted: they keep it open).
//! Request bodies are framed per RFC 9112 6.3: `Content-Length`, or
//! `Transfer-Encoding: chunked` (chunk extensions ignored, trailer fields read
//! and dropped), or neither: no body, so a bare `POST` reaches its endpoint with
//! an empty body (a token endpoint then answers its own `Bad Request`).
//!
//! | HTTP | when |
//! |---|---|
//! | 400 | malformed request line, header or chunk; both `Content-Length` and `Transfer-Encoding`; `Transfer-Encoding` in HTTP/1.0 |
//! | 404 | unknown path |
//! | 413 | body over 64 KiB (a chunked one: decoded, or over 128 KiB on the wire) |
//! | 431 | head over 32 KiB or over 100 header lines |
//! | 501 | a transfer coding other than `chunked` |
//! | 505 | an HTTP version other than 1.0 and 1.1 |
//!
//! # Clients
//! All verified with the merchant public key; every client's secret (Klikoo
//! token body, HMAC service signatures) is [`SERVICE_CLIENT_SECRET`]:
//! - [`SANDBOX_CLIENT_ID`] (`SANDBOX-CLIENT`) and the Klikoo uuid [`KLIKOO_CLIENT_ID`];
//! - [`RSA_CLIENT_ID`] (`SANDBOX-CLIENT-RSA`): signs its service calls with
//!   SHA256withRSA (the merchant key) instead of HMAC;
//! - [`MILLIS_CLIENT_ID`] (`SANDBOX-CLIENT-MS`, SNAP paths): like some banks,
//!   accepts only millisecond timestamps (`timestamp_style` `wib_ms` or
//!   `utc_ms`) and answers others with `4007301 Invalid Field Format X-TIMESTAMP`;
//! - fault clients (SNAP and Klikoo paths alike, answers in the path's dialect):
//!   `FAULT-SLOW` (answers after `slow_ms`, abandoned if the peer hangs up),
//!   `FAULT-GARBAGE` (200 `<html>this is not json</html>`), `FAULT-HUGE` (200,
//!   valid JSON with a token and a 2 MiB `padding` string), `FAULT-NOTOKEN`
//!   (200 Successful without token), `FAULT-500`, `FAULT-DROP` (closes without
//!   answering), `FAULT-FLAKY` (503 on the 1st, 3rd, ... request, success
//!   otherwise; the count resets with the stats), `FAULT-200ERROR` (200 carrying
//!   `4017300 Unauthorized. Signature`), `FAULT-429` (`Retry-After: 1`),
//!   `FAULT-CLOCK` (401 Stale Timestamp with `X-TIMESTAMP` and `Date` 7 h ahead),
//!   `FAULT-IP` (403, the caller's IP not whitelisted), `FAULT-GRANT` (400, the
//!   grant type refused);
//! - service fault clients (tokens issued normally; a service call that passed
//!   the checks, so its `X-EXTERNAL-ID` is used up, then misbehaves):
//!   `FAULT-SVC-SILENT` (counted, never answered until the peer hangs up or the
//!   server stops), `FAULT-SVC-DROP` (counted, connection closed without an
//!   answer), `FAULT-SVC-500` (500 `500SS00 General Error`); `FAULT-SVC-EXPIRED`
//!   (refused at the token check as expired, before its `X-EXTERNAL-ID` is used);
//! - any `--client ID=FILE` / [`SandboxOptions::clients`] (SPKI or PKCS#1 public
//!   key, certificate, or private key PEM), which may also override a built-in;
//!   `--client-rsa ID=FILE` / [`SandboxOptions::rsa_clients`] the same for an
//!   RSA-signing client.
//!
//! # Control endpoints
//! `GET /sandbox/health` → `{"ok":true}`; `GET /sandbox/stats` →
//! `{"connections","requests","token_requests","tokens_issued","by_path","by_client",
//! "service_calls","service_ok","service_401","service_409","tokens_revoked","service_by_client",
//! "customer_token_requests","customer_tokens_issued"}`;
//! `POST /sandbox/stats/reset` (zeroes them; revoked tokens stay revoked);
//! `POST /sandbox/tokens/revoke` → `{"revoked":N}`, N the tokens still valid
//! ([`Sandbox::revoke_tokens`]). `connections` counts every accepted TCP
//! connection (TLS or plain, including ones used for control calls); the request
//! counters leave the control endpoints out. Tokens are counted as issued once
//! the response carrying them was written. `service_calls` counts every service
//! request read (answered or not); `service_ok`/`_401`/`_409` by the status
//! answered; `service_by_client` by the token's client, for tokens this sandbox
//! issued (expired and revoked ones included).
//!
//! The server logs one line per request to stderr (method, path without query,
//! client id, status, response code) when asked to; never tokens, secrets or
//! signatures.

mod cli;
mod clients;
pub mod conn;
mod customer;
pub mod faults;
mod files;
pub mod http;
pub mod notify;
mod providers;
pub mod redis;
mod server;
mod services;
mod stats;
pub mod tls;

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use cli::{cli_main, USAGE};
pub use clients::{
    KLIKOO_CLIENT_ID, KLIKOO_CLIENT_SECRET, MILLIS_CLIENT_ID, RSA_CLIENT_ID, SANDBOX_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
};
pub use customer::{
    CUSTOMER_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS, SANDBOX_AUTH_CODE_PREFIX,
    SANDBOX_SHORT_AUTH_CODE_PREFIX, SHORT_TTL_SECS,
};
pub use providers::{BNC_PROFILE, MAX_SKEW_MS, TOKEN_TTL_SECS};
pub use services::{MAX_EXTERNAL_ID_CHARS, SERVICE_CHANNEL_ID};
pub use tls::{generate_identity, CertSpec, CertificateAuthority, ServerIdentity};

use clients::Registry;
use files::Layout;
use providers::{provider_by_name, Endpoints};
use server::{Listener, State, Transport};

/// Feeds `bytes` to the sandbox's HTTP request reader as one connection's
/// worth of input, answering each error as the server would; for the fuzz
/// target (nothing a peer sends may panic the server). Returns the number of
/// requests read.
#[doc(hidden)]
pub fn parse_request_for_fuzzing(bytes: &[u8]) -> usize {
    struct Peer<'a> {
        input: &'a [u8],
    }
    impl io::Read for Peer<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }
    impl io::Write for Peer<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut peer = Peer { input: bytes };
    let mut reader = http::RequestReader::default();
    let mut requests = 0;
    loop {
        match reader.read_request(&mut peer) {
            Ok(Some(request)) => {
                requests += 1;
                let _ = request.keep_alive();
            }
            Ok(None) => return requests,
            Err(e) => {
                let _ = e.to_response().to_bytes(false);
                return requests;
            }
        }
    }
}

/// Provider names with a `config-{name}.json`.
pub const PROVIDER_NAMES: [&str; 6] = ["doku", "nicepay", "snap", "klikoo", "midtrans", "bnc"];
/// Fault client ids (see the module docs for their behaviour).
pub const FAULT_CLIENT_IDS: [&str; 16] = [
    "FAULT-SLOW",
    "FAULT-GARBAGE",
    "FAULT-HUGE",
    "FAULT-NOTOKEN",
    "FAULT-500",
    "FAULT-DROP",
    "FAULT-FLAKY",
    "FAULT-200ERROR",
    "FAULT-429",
    "FAULT-CLOCK",
    "FAULT-SVC-SILENT",
    "FAULT-SVC-DROP",
    "FAULT-SVC-500",
    "FAULT-SVC-EXPIRED",
    "FAULT-IP",
    "FAULT-GRANT",
];
/// Default delay of `FAULT-SLOW`.
pub const DEFAULT_SLOW_MS: u64 = 30_000;

const SANDBOX_JSON: &str = "sandbox.json";

/// How to start a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where keys, certificates and JSON files go. `None`: a fresh temp dir,
    /// removed when the sandbox is dropped.
    pub dir: Option<PathBuf>,
    /// Must be a loopback address (`127.0.0.1`, `::1`) or `localhost`.
    pub host: String,
    /// HTTPS port; 0 picks a free one.
    pub port: u16,
    /// Also serve plain HTTP on this port (0: a free one), e.g. to check that a
    /// client refuses `http://` without opting in.
    pub http_port: Option<u16>,
    /// Extra clients: id and a public key (or certificate) file.
    pub clients: Vec<(String, PathBuf)>,
    /// Extra clients whose service calls are signed with SHA256withRSA
    /// (verified with that key) instead of HMAC-SHA512.
    pub rsa_clients: Vec<(String, PathBuf)>,
    /// Delay of `FAULT-SLOW`, in milliseconds.
    pub slow_ms: u64,
    /// Log one line per request to stderr.
    pub log_requests: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            dir: None,
            host: "127.0.0.1".into(),
            port: 0,
            http_port: None,
            clients: Vec::new(),
            rsa_clients: Vec::new(),
            slow_ms: DEFAULT_SLOW_MS,
            log_requests: false,
        }
    }
}

/// A running sandbox; its listeners and connections stop when it is dropped.
pub struct Sandbox {
    state: Arc<State>,
    listeners: Vec<Listener>,
    dir: PathBuf,
    owns_dir: bool,
    base_url: String,
    http_base_url: Option<String>,
}

/// Parses `host`, refusing anything that is not loopback: the sandbox accepts
/// a published demo key and must never be reachable from the network.
fn loopback_ip(host: &str) -> io::Result<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to listen on {host:?}: only loopback addresses are allowed"),
        )),
    }
}

fn url(scheme: &str, ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{scheme}://{v4}:{port}"),
        IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{port}"),
    }
}

fn bind(ip: IpAddr, port: u16, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind((ip, port)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "binding the {what} listener to {}: {e}",
                url("tcp", ip, port)
            ),
        )
    })
}

impl Sandbox {
    /// Generates certificates and keys, starts listening and writes the files.
    pub fn start(options: SandboxOptions) -> io::Result<Sandbox> {
        let ip = loopback_ip(&options.host)?;
        let (dir, owns_dir) = match &options.dir {
            Some(d) => {
                fs::create_dir_all(d).map_err(|e| {
                    io::Error::new(e.kind(), format!("creating {}: {e}", d.display()))
                })?;
                (d.clone(), false)
            }
            None => (files::create_temp_dir()?, true),
        };
        let result =
            fs::canonicalize(&dir).and_then(|dir| Self::start_in(dir, owns_dir, ip, &options));
        if result.is_err() && owns_dir {
            let _ = fs::remove_dir_all(&dir);
        }
        result
    }

    fn start_in(
        dir: PathBuf,
        owns_dir: bool,
        ip: IpAddr,
        options: &SandboxOptions,
    ) -> io::Result<Sandbox> {
        // Before anything else, so nobody mistakes the old file for this server.
        match fs::remove_file(dir.join(SANDBOX_JSON)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }

        // Client keys first: a bad `--client` file fails before any key generation.
        let mut extra_clients = Vec::new();
        let hmac = options.clients.iter().map(|c| (c, false));
        let rsa = options.rsa_clients.iter().map(|c| (c, true));
        for ((id, path), rsa_signing) in hmac.chain(rsa) {
            if id.is_empty() || id.chars().any(char::is_control) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid client id {id:?}"),
                ));
            }
            extra_clients.push((id, tls::load_public_key(path)?, rsa_signing));
        }

        let identity = tls::generate_identity()?;
        let ca_pem = identity
            .ca_cert
            .to_pem()
            .map_err(|e| io::Error::other(format!("encoding CA: {e}")))?;
        files::write_atomic(&dir.join("ca.pem"), &ca_pem, false)?;

        let merchant = tls::load_or_create_merchant_key(
            &dir.join("merchant-key.pem"),
            &dir.join("merchant-public.pem"),
        )?;
        // The provider's own key pair, for signing notifications to merchants.
        tls::load_or_create_merchant_key(
            &dir.join("provider-key.pem"),
            &dir.join("provider-public.pem"),
        )?;
        let mut registry = Registry::with_builtins(&tls::public_of(&merchant)?);
        for (id, key, rsa_signing) in extra_clients {
            registry.insert(id, key, rsa_signing);
        }
        let acceptor = Arc::new(tls::acceptor(&identity)?);

        let tls_listener = bind(ip, options.port, "HTTPS")?;
        let plain_listener = match options.http_port {
            Some(port) => Some(bind(ip, port, "HTTP")?),
            None => None,
        };
        let endpoints = Endpoints::new(registry, Duration::from_millis(options.slow_ms));
        let state = Arc::new(State::new(endpoints, options.log_requests));

        let mut sandbox = Sandbox {
            state: Arc::clone(&state),
            listeners: Vec::new(),
            dir,
            owns_dir,
            base_url: String::new(),
            http_base_url: None,
        };
        // From here on, dropping `sandbox` on an error stops what was started.
        let https = Listener::spawn(tls_listener, Transport::Tls(acceptor), Arc::clone(&state))?;
        sandbox.base_url = url("https", ip, https.port());
        sandbox.listeners.push(https);
        if let Some(l) = plain_listener {
            let plain = Listener::spawn(l, Transport::Plain, Arc::clone(&state))?;
            sandbox.http_base_url = Some(url("http", ip, plain.port()));
            sandbox.listeners.push(plain);
        }
        sandbox.write_files()?;
        Ok(sandbox)
    }

    fn with_layout<T>(&self, f: impl FnOnce(&Layout<'_>) -> T) -> T {
        let (ca, key, public) = (
            self.ca_file(),
            self.private_key_file(),
            self.public_key_file(),
        );
        f(&Layout {
            base_url: &self.base_url,
            port: self.port(),
            http_base_url: self.http_base_url.as_deref(),
            ca_file: &ca,
            private_key_file: &key,
            public_key_file: &public,
            client_id: SANDBOX_CLIENT_ID,
            klikoo_client_id: KLIKOO_CLIENT_ID,
            klikoo_client_secret: KLIKOO_CLIENT_SECRET,
            rsa_client_id: RSA_CLIENT_ID,
            service_client_secret: SERVICE_CLIENT_SECRET,
            service_channel_id: SERVICE_CHANNEL_ID,
        })
    }

    /// Client configs first, `sandbox.json` last: its appearance means ready.
    fn write_files(&self) -> io::Result<()> {
        for provider in PROVIDER_NAMES {
            files::write_json_atomic(&self.config_path(provider), &self.config_json(provider))?;
        }
        let description = self.with_layout(files::sandbox_description);
        files::write_json_atomic(&self.dir.join(SANDBOX_JSON), &description)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT` when a plain listener was asked for.
    pub fn http_base_url(&self) -> Option<String> {
        self.http_base_url.clone()
    }

    /// The HTTPS port.
    pub fn port(&self) -> u16 {
        self.listeners.first().map_or(0, Listener::port)
    }

    /// The sandbox directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate clients must trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The demo merchant private key (PKCS#8 PEM).
    pub fn private_key_file(&self) -> PathBuf {
        self.dir.join("merchant-key.pem")
    }

    /// The demo merchant public key (SPKI PEM).
    pub fn public_key_file(&self) -> PathBuf {
        self.dir.join("merchant-public.pem")
    }

    /// `sandbox.json`.
    pub fn description_file(&self) -> PathBuf {
        self.dir.join(SANDBOX_JSON)
    }

    /// `DIR/config-{provider}.json` (written for [`PROVIDER_NAMES`]).
    pub fn config_path(&self, provider: &str) -> PathBuf {
        self.dir.join(format!("config-{provider}.json"))
    }

    /// The client config for `provider` (as written to [`Sandbox::config_path`]);
    /// `Value::Null` for an unknown provider.
    pub fn config_json(&self, provider: &str) -> Value {
        match provider_by_name(provider) {
            Some(p) => self.with_layout(|l| files::client_config(p, l)),
            None => Value::Null,
        }
    }

    /// Current counters, as `GET /sandbox/stats` returns them.
    pub fn stats(&self) -> Value {
        self.state.stats.snapshot()
    }

    /// Revokes every valid token issued so far (as `POST /sandbox/tokens/revoke`);
    /// returns how many.
    pub fn revoke_tokens(&self) -> u64 {
        self.state.revoke_tokens()
    }

    /// Zeroes the counters (and FAULT-FLAKY's request count).
    pub fn reset_stats(&self) {
        self.state.reset_stats();
    }

    /// Stops the sandbox now (same as dropping it).
    pub fn shutdown(self) {}
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.state.begin_shutdown();
        for l in &mut self.listeners {
            l.stop();
        }
        // Again: a connection accepted just before the flag was set may have
        // registered after the first sweep.
        self.state.begin_shutdown();
        let _ = fs::remove_file(self.dir.join(SANDBOX_JSON));
        if self.owns_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        for ok in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            assert!(loopback_ip(ok).unwrap().is_loopback(), "{ok}");
        }
        for bad in ["0.0.0.0", "::", "192.168.1.1", "example.com", ""] {
            let e = loopback_ip(bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn fault_ids_match_the_registry() {
        let listed: Vec<&str> = clients::FAULTS.iter().map(|(id, _)| *id).collect();
        assert_eq!(listed, FAULT_CLIENT_IDS);
    }
}
