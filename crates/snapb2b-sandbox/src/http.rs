//! Minimal HTTP/1.1: reading requests off a byte stream ([`RequestReader`]) and
//! writing responses ([`Response`]).
//!
//! Request bodies are framed per RFC 9112 6.3: `Content-Length`, `Transfer-Encoding:
//! chunked` (extensions ignored, trailer fields read and dropped), or neither (no
//! body). Persistent connections, pipelining and `Expect: 100-continue` work.
//! Anything else is refused with an [`HttpError`], which the caller answers before
//! closing; nothing a peer sends can panic the server.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Largest request head (request line + headers) accepted.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Largest request body accepted (decoded, for a chunked body).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most bytes a chunked body may take on the wire, framing and trailers included,
/// so tiny chunks with long extensions cannot stretch a request without bound.
const MAX_CHUNKED_WIRE_BYTES: usize = 2 * MAX_BODY_BYTES;
/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;
/// A whole request must arrive within this time, so a peer trickling bytes
/// cannot hold a connection thread forever (the socket read timeout alone resets
/// on every byte).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// One parsed request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The request target as sent (path and query): what SNAP service
    /// signatures cover as `EndpointUrl`.
    pub target: String,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// Header names lower-cased, values trimmed, in arrival order.
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the peer wants the connection kept open after this exchange.
    pub fn keep_alive(&self) -> bool {
        let tokens: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n == "connection")
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if tokens.iter().any(|t| t == "close") {
            return false;
        }
        // HTTP/1.1 is persistent by default, HTTP/1.0 only when asked.
        self.minor_version >= 1 || tokens.iter().any(|t| t == "keep-alive")
    }
}

/// A request the server refuses at the HTTP level; always answered, then closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub message: &'static str,
}

impl HttpError {
    const fn new(status: u16, message: &'static str) -> Self {
        HttpError { status, message }
    }

    /// JSON error response in the SNAP shape (`{status}0000`: no service code applies).
    pub fn to_response(&self) -> Response {
        Response::json(
            self.status,
            &serde_json::json!({
                "responseCode": format!("{}0000", self.status),
                "responseMessage": self.message,
            }),
        )
    }
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length` bytes; 0 without any framing header.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

const BAD: HttpError = HttpError::new(400, "Bad Request");
const TOO_LARGE: HttpError = HttpError::new(413, "Payload Too Large");
const HEAD_TOO_LARGE: HttpError = HttpError::new(431, "Request Header Fields Too Large");

/// Request head as parsed, before the body is read.
#[derive(Debug)]
struct Head {
    method: String,
    path: String,
    target: String,
    minor_version: u8,
    headers: Vec<(String, String)>,
    framing: Framing,
    expect_continue: bool,
}

/// Reads successive requests from one connection, keeping bytes that arrived
/// early (pipelining) for the next request.
#[derive(Default)]
pub struct RequestReader {
    buf: Vec<u8>,
}

impl RequestReader {
    /// Reads the next request. `Ok(None)`: the peer closed, went idle past the
    /// socket timeout, or hit an I/O error; just close. `Err`: answer the error
    /// and close.
    pub fn read_request<S: Read + Write>(
        &mut self,
        stream: &mut S,
    ) -> Result<Option<Request>, HttpError> {
        let started = Instant::now();
        // Where the terminator search resumes: rescanning the whole buffer after
        // every read would be quadratic for a peer sending tiny segments.
        let mut scanned = 0;
        let head_end = loop {
            // Blank lines before a request line are allowed (RFC 9112 2.2).
            let skip = self
                .buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            if skip > 0 {
                self.buf.drain(..skip);
                scanned = 0;
            }
            if let Some(end) = find_head_end(&self.buf, scanned) {
                break end;
            }
            // A terminator may straddle the next read.
            scanned = self.buf.len().saturating_sub(3);
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(HEAD_TOO_LARGE);
            }
            if started.elapsed() > REQUEST_DEADLINE || !self.fill(stream) {
                return Ok(None);
            }
        };
        if head_end.head_len > MAX_HEAD_BYTES {
            return Err(HEAD_TOO_LARGE);
        }
        let head = parse_head(&self.buf[..head_end.head_len])?;
        self.buf.drain(..head_end.consumed);

        let body_pending = match head.framing {
            Framing::Length(n) if n > MAX_BODY_BYTES => return Err(TOO_LARGE),
            Framing::Length(n) => n > self.buf.len(),
            Framing::Chunked => self.buf.is_empty(),
        };
        if head.expect_continue && body_pending {
            // The client waits for this before sending the body.
            if stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .and_then(|_| stream.flush())
                .is_err()
            {
                return Ok(None);
            }
        }
        let body = match head.framing {
            Framing::Length(n) => self.read_exact(stream, started, n),
            Framing::Chunked => self.read_chunked(stream, started)?,
        };
        let Some(body) = body else {
            return Ok(None);
        };
        Ok(Some(Request {
            method: head.method,
            path: head.path,
            target: head.target,
            minor_version: head.minor_version,
            headers: head.headers,
            body,
        }))
    }

    /// The next `n` bytes; `None` if the peer stops sending first.
    fn read_exact<S: Read>(
        &mut self,
        stream: &mut S,
        started: Instant,
        n: usize,
    ) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if started.elapsed() > REQUEST_DEADLINE || !self.fill(stream) {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    /// The next line without its CRLF (or bare LF); `None` if the peer stops
    /// sending first, `too_long` if more than `max` bytes come without a line end.
    fn read_line<S: Read>(
        &mut self,
        stream: &mut S,
        started: Instant,
        max: usize,
        too_long: HttpError,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        // `max + 1` below: the line's CR does not count against `max`.
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + i;
                if end > max + 1 {
                    return Err(too_long);
                }
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            scanned = self.buf.len();
            if scanned > max + 1 {
                return Err(too_long);
            }
            if started.elapsed() > REQUEST_DEADLINE || !self.fill(stream) {
                return Ok(None);
            }
        }
    }

    /// A chunked body, decoded (RFC 9112 7.1); `None` if the peer stops sending
    /// first.
    fn read_chunked<S: Read>(
        &mut self,
        stream: &mut S,
        started: Instant,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let mut body = Vec::new();
        let mut wire = 0;
        let mut count = |line: &[u8], extra: usize| {
            wire += line.len() + 2 + extra;
            if wire > MAX_CHUNKED_WIRE_BYTES {
                Err(TOO_LARGE)
            } else {
                Ok(())
            }
        };
        loop {
            let Some(line) = self.read_line(stream, started, MAX_CHUNK_LINE, BAD)? else {
                return Ok(None);
            };
            let size = chunk_size(&line)?;
            if size > MAX_BODY_BYTES - body.len() {
                return Err(TOO_LARGE);
            }
            count(&line, size)?;
            if size == 0 {
                break;
            }
            let Some(data) = self.read_exact(stream, started, size) else {
                return Ok(None);
            };
            body.extend_from_slice(&data);
            // The chunk's data ends with a line end of its own.
            match self.read_line(stream, started, 0, BAD)? {
                None => return Ok(None),
                Some(rest) if rest.is_empty() => count(&rest, 0)?,
                Some(_) => return Err(BAD),
            }
        }
        // Trailer fields, up to a blank line: checked for form, then dropped.
        loop {
            let Some(line) = self.read_line(stream, started, MAX_HEAD_BYTES, HEAD_TOO_LARGE)?
            else {
                return Ok(None);
            };
            if line.is_empty() {
                return Ok(Some(body));
            }
            count(&line, 0).map_err(|_| HEAD_TOO_LARGE)?;
            parse_field_line(&String::from_utf8_lossy(&line))?;
        }
    }

    /// Appends one read's worth of bytes; false on EOF, timeout or error.
    fn fill<S: Read>(&mut self, stream: &mut S) -> bool {
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }
}

struct HeadEnd {
    /// Bytes of request line + header lines (without the blank line).
    head_len: usize,
    /// Bytes to drop from the buffer, blank line included.
    consumed: usize,
}

/// Finds the blank line ending the head, searching from `from`; bare LF line
/// ends are tolerated.
fn find_head_end(buf: &[u8], from: usize) -> Option<HeadEnd> {
    let tail = buf.get(from..)?;
    let crlf = tail
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| HeadEnd {
            head_len: from + p,
            consumed: from + p + 4,
        });
    let lf = tail.windows(2).position(|w| w == b"\n\n").map(|p| HeadEnd {
        head_len: from + p,
        consumed: from + p + 2,
    });
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.head_len <= b.head_len { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// `name: value` (a header or trailer line) as (lower-case name, trimmed value).
fn parse_field_line(line: &str) -> Result<(String, String), HttpError> {
    if line.starts_with([' ', '\t']) {
        // Obsolete line folding is a request-smuggling vector; refuse it.
        return Err(BAD);
    }
    let (name, value) = line.split_once(':').ok_or(BAD)?;
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(BAD);
    }
    Ok((
        name.to_ascii_lowercase(),
        value.trim_matches([' ', '\t']).to_string(),
    ))
}

/// The size on a chunk-size line: `1*HEXDIG [ BWS ";" chunk-ext ]`, the
/// extensions ignored.
fn chunk_size(line: &[u8]) -> Result<usize, HttpError> {
    let (hex, rest) = line.split_at(line.iter().take_while(|b| b.is_ascii_hexdigit()).count());
    let ext = rest.trim_ascii_start();
    let well_formed = !hex.is_empty()
        && (rest.is_empty() || ext.first() == Some(&b';'))
        && !ext.iter().any(|b| b.is_ascii_control() && *b != b'\t');
    if !well_formed {
        return Err(BAD);
    }
    let hex = std::str::from_utf8(hex).map_err(|_| BAD)?;
    // Too many digits for usize: too large either way.
    usize::from_str_radix(hex, 16).map_err(|_| TOO_LARGE)
}

fn parse_head(raw: &[u8]) -> Result<Head, HttpError> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));

    let request_line = lines.next().ok_or(BAD)?;
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return Err(BAD),
    };
    if method.is_empty() || !method.chars().all(is_token_char) || !target.starts_with('/') {
        return Err(BAD);
    }
    if target.chars().any(|c| c.is_control() || c == ' ') {
        return Err(BAD);
    }
    let minor_version = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/") => {
            return Err(HttpError::new(505, "HTTP Version Not Supported"))
        }
        _ => return Err(BAD),
    };
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or(target)
        .to_string();

    let mut headers = Vec::new();
    for line in lines {
        let field = parse_field_line(line)?;
        if headers.len() >= MAX_HEADERS {
            return Err(HEAD_TOO_LARGE);
        }
        headers.push(field);
    }

    let mut content_length: Option<usize> = None;
    for (_, v) in headers.iter().filter(|(n, _)| n == "content-length") {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BAD);
        }
        // Too many digits to be a sane length: same as too large.
        let n: usize = v.parse().map_err(|_| TOO_LARGE)?;
        if content_length.is_some_and(|prev| prev != n) {
            return Err(BAD);
        }
        content_length = Some(n);
    }
    let framing = body_framing(&headers, content_length, minor_version)?;
    let expect_continue = headers
        .iter()
        .any(|(n, v)| n == "expect" && v.eq_ignore_ascii_case("100-continue"));

    Ok(Head {
        method: method.to_string(),
        path,
        target: target.to_string(),
        minor_version,
        headers,
        framing,
        expect_continue,
    })
}

/// RFC 9112 6.3: `Transfer-Encoding` (chunked only) or `Content-Length`, and
/// without either, no body.
fn body_framing(
    headers: &[(String, String)],
    content_length: Option<usize>,
    minor_version: u8,
) -> Result<Framing, HttpError> {
    if !headers.iter().any(|(n, _)| n == "transfer-encoding") {
        return Ok(Framing::Length(content_length.unwrap_or(0)));
    }
    // Both framings, or chunked from an HTTP/1.0 peer, leave the body's end in
    // doubt (the stuff of request smuggling): refused, not guessed.
    if content_length.is_some() || minor_version == 0 {
        return Err(BAD);
    }
    let codings: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .flat_map(|(_, v)| v.split(','))
        .map(|c| c.trim_matches([' ', '\t']).to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if codings.iter().any(|c| c != "chunked") {
        return Err(HttpError::new(501, "Not Implemented"));
    }
    // Exactly once: chunked applied twice, or no coding at all, is malformed.
    if codings.len() != 1 {
        return Err(BAD);
    }
    Ok(Framing::Chunked)
}

/// A response to write; Content-Length, Date and Connection are added on write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &Value) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The bytes on the wire. Header values are stripped of CR/LF so an echoed
    /// request value can never inject a header.
    pub fn to_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.has_header("Content-Type") {
            head.push_str("Content-Type: application/json\r\n");
        }
        if !self.has_header("Date") {
            head.push_str(&format!("Date: {}\r\n", http_date(Utc::now())));
        }
        head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A read side fed from bytes, and a write side collected (for 100-continue).
    struct Duplex {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Duplex {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            // One byte at a time exercises the incremental parsing.
            let n = buf.len().min(1);
            self.input.read(&mut buf[..n])
        }
    }

    impl Write for Duplex {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn duplex(bytes: &[u8]) -> Duplex {
        Duplex {
            input: Cursor::new(bytes.to_vec()),
            output: Vec::new(),
        }
    }

    #[test]
    fn reads_pipelined_requests_and_bodies() {
        let mut d = duplex(
            b"POST /a?x=1 HTTP/1.1\r\nX-Thing:  v \r\ncontent-length: 3\r\n\r\nabc\
              GET /b HTTP/1.0\nConnection: keep-alive\n\n",
        );
        let mut r = RequestReader::default();
        let a = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!((a.method.as_str(), a.path.as_str()), ("POST", "/a"));
        assert_eq!(a.header("x-THING"), Some("v"));
        assert_eq!(a.body, b"abc");
        assert!(a.keep_alive());
        let b = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!((b.path.as_str(), b.minor_version), ("/b", 0));
        assert!(b.keep_alive());
        assert!(r.read_request(&mut d).unwrap().is_none());
    }

    #[test]
    fn refuses_malformed_heads() {
        let cases: &[(&[u8], u16)] = &[
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET nopath HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                400,
            ),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                501,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
                413,
            ),
        ];
        for (raw, status) in cases {
            let err = RequestReader::default()
                .read_request(&mut duplex(raw))
                .unwrap_err();
            assert_eq!(err.status, *status, "{}", String::from_utf8_lossy(raw));
        }
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        let err = RequestReader::default()
            .read_request(&mut duplex(&huge))
            .unwrap_err();
        assert_eq!(err.status, 431);
    }

    #[test]
    fn post_without_framing_has_an_empty_body() {
        let mut d = duplex(b"POST /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        let mut r = RequestReader::default();
        let a = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!((a.method.as_str(), a.body.len()), ("POST", 0));
        let b = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!(b.path, "/b");
    }

    #[test]
    fn reads_chunked_bodies_with_extensions_and_trailers() {
        let mut d = duplex(
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n\
              5;name=value\r\nhello\r\n1 ; x\r\n \r\nA\r\n0123456789\r\n000\r\nX-Trailer: t\r\n\r\n\
              GET /b HTTP/1.1\r\n\r\n",
        );
        let mut r = RequestReader::default();
        let a = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!(a.body, b"hello 0123456789");
        assert_eq!(a.header("x-trailer"), None, "trailers are dropped");
        let b = r.read_request(&mut d).unwrap().unwrap();
        assert_eq!(b.path, "/b");
    }

    #[test]
    fn refuses_malformed_and_oversized_chunks() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let big = format!("{:x}\r\n", MAX_BODY_BYTES + 1);
        let half = format!(
            "{:x}\r\n{}\r\n",
            MAX_BODY_BYTES / 2,
            "a".repeat(MAX_BODY_BYTES / 2)
        );
        let cases: Vec<(String, u16)> = vec![
            ("zz\r\n".into(), 400),
            ("\r\n".into(), 400),
            ("5 x\r\nhello\r\n0\r\n\r\n".into(), 400),
            ("5;\x01\r\nhello\r\n0\r\n\r\n".into(), 400),
            ("3\r\nhelloXX\r\n0\r\n\r\n".into(), 400),
            ("0\r\nno colon\r\n\r\n".into(), 400),
            (format!("{}\r\n", "1".repeat(MAX_CHUNK_LINE + 10)), 400),
            ("ffffffffffffffffffffffff\r\n".into(), 413),
            (big, 413),
            (format!("{half}{half}1\r\n"), 413),
            (format!("1;{}\r\na\r\n", "e".repeat(4000)).repeat(40), 413),
        ];
        for (body, status) in cases {
            let raw = format!("{head}{body}");
            let err = RequestReader::default()
                .read_request(&mut duplex(raw.as_bytes()))
                .unwrap_err();
            assert_eq!(err.status, status, "{}", &raw[..raw.len().min(120)]);
        }
        // Cut short: a close, not an error.
        let raw = format!("{head}5\r\nhel");
        assert!(RequestReader::default()
            .read_request(&mut duplex(raw.as_bytes()))
            .unwrap()
            .is_none());
    }

    #[test]
    fn answers_expect_continue_and_honours_connection_close() {
        let mut d =
            duplex(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi");
        let req = RequestReader::default()
            .read_request(&mut d)
            .unwrap()
            .unwrap();
        assert_eq!(d.output, b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(req.body, b"hi");
        assert!(!req.keep_alive());
    }

    #[test]
    fn truncated_body_is_a_close_not_an_error() {
        let mut d = duplex(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
        assert!(RequestReader::default()
            .read_request(&mut d)
            .unwrap()
            .is_none());
    }

    #[test]
    fn response_bytes_carry_length_type_date_and_no_injected_lines() {
        let r = Response::raw(200, "{}").with_header("X-Echo", "a\r\nEvil: 1");
        let text = String::from_utf8(r.to_bytes(false)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("X-Echo: aEvil: 1\r\n"));
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("Date: "));
        assert!(text.ends_with("Connection: close\r\n\r\n{}"));
    }
}
