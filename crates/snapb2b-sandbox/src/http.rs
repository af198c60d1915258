//! Minimal HTTP/1.1: reading requests off a byte stream and writing responses.
//!
//! Only what token clients send is supported: `Content-Length` bodies, persistent
//! connections and `Expect: 100-continue`. Anything else is answered with a 4xx and
//! the connection is closed; nothing a peer sends can panic the server.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Largest request head (request line + headers) accepted.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
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

/// Request head as parsed, before the body is read.
#[derive(Debug)]
struct Head {
    method: String,
    path: String,
    minor_version: u8,
    headers: Vec<(String, String)>,
    content_length: usize,
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
                return Err(HttpError::new(431, "Request Header Fields Too Large"));
            }
            if started.elapsed() > REQUEST_DEADLINE || !self.fill(stream) {
                return Ok(None);
            }
        };
        if head_end.head_len > MAX_HEAD_BYTES {
            return Err(HttpError::new(431, "Request Header Fields Too Large"));
        }
        let head = parse_head(&self.buf[..head_end.head_len])?;
        self.buf.drain(..head_end.consumed);

        if head.content_length > MAX_BODY_BYTES {
            return Err(HttpError::new(413, "Payload Too Large"));
        }
        if head.expect_continue && head.content_length > self.buf.len() {
            // The client waits for this before sending the body.
            if stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .and_then(|_| stream.flush())
                .is_err()
            {
                return Ok(None);
            }
        }
        while self.buf.len() < head.content_length {
            if started.elapsed() > REQUEST_DEADLINE || !self.fill(stream) {
                return Ok(None);
            }
        }
        let body: Vec<u8> = self.buf.drain(..head.content_length).collect();
        Ok(Some(Request {
            method: head.method,
            path: head.path,
            minor_version: head.minor_version,
            headers: head.headers,
            body,
        }))
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

fn parse_head(raw: &[u8]) -> Result<Head, HttpError> {
    const BAD: HttpError = HttpError::new(400, "Bad Request");
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
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding is a request-smuggling vector; refuse it.
            return Err(BAD);
        }
        let (name, value) = line.split_once(':').ok_or(BAD)?;
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Err(BAD);
        }
        if headers.len() >= MAX_HEADERS {
            return Err(HttpError::new(431, "Request Header Fields Too Large"));
        }
        headers.push((
            name.to_ascii_lowercase(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }

    if headers.iter().any(|(n, _)| n == "transfer-encoding") {
        // Chunked bodies are not supported: ask for a Content-Length instead.
        return Err(HttpError::new(411, "Length Required"));
    }
    let mut content_length: Option<usize> = None;
    for (_, v) in headers.iter().filter(|(n, _)| n == "content-length") {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BAD);
        }
        // Too many digits to be a sane length: same as too large.
        let n: usize = v
            .parse()
            .map_err(|_| HttpError::new(413, "Payload Too Large"))?;
        if content_length.is_some_and(|prev| prev != n) {
            return Err(BAD);
        }
        content_length = Some(n);
    }
    let content_length = match (content_length, method) {
        (Some(n), _) => n,
        (None, "POST" | "PUT" | "PATCH") => return Err(HttpError::new(411, "Length Required")),
        (None, _) => 0,
    };
    let expect_continue = headers
        .iter()
        .any(|(n, v)| n == "expect" && v.eq_ignore_ascii_case("100-continue"));

    Ok(Head {
        method: method.to_string(),
        path,
        minor_version,
        headers,
        content_length,
        expect_continue,
    })
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
            (b"POST / HTTP/1.1\r\n\r\n", 411),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                411,
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
