//! `snapb2b-sandbox` command line: parse arguments, run until a deadline or a
//! signal, shut down cleanly.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Sandbox, SandboxOptions};

pub const USAGE: &str = "\
usage: snapb2b-sandbox [options]
       snapb2b sandbox [options]          (the same, through the snapb2b tool)

Local HTTPS sandbox playing the SNAP B2B access-token endpoints of DOKU, NICEPAY,
a generic SNAP bank and Klikoo, and the service calls after them (VA inquiry,
balance inquiry), and the customer (B2B2C) token of DOKU and SNAP: auth codes
are SANDBOX-AUTH-<customer id>, each usable once. POST /sandbox/tokens/revoke
revokes every B2B token issued.

options:
  --dir DIR                 files go here (default ./sandbox): ca.pem, merchant-key.pem,
                            merchant-public.pem, config-*.json, sandbox.json (written last)
  --host HOST               loopback address to listen on (default 127.0.0.1)
  --port N                  HTTPS port, 0 = any free port (default 0)
  --http-port N             also serve plain HTTP on N (0 = any free port)
  --client ID=FILE          register a client with a public key / certificate PEM (repeatable)
  --client-rsa ID=FILE      the same, for a client signing service calls with SHA256withRSA
                            (verified with that key) instead of HMAC-SHA512 (repeatable)
  --max-seconds N           exit by itself after N seconds (default 0 = run until signalled)
  --slow-ms N               delay of the FAULT-SLOW client (default 30000)
  --quiet                   no per-request log lines on stderr
  -h, --help                this text

usage: snapb2b-sandbox notify --url URL [--dir DIR] [--token-url URL] [--client-id ID]
           [--channel-id ID] [--body-file FILE] [--tamper KIND] [--replay]
           [--no-token | --expired-token [--wait-s N]] [--ca-file PEM]

Plays the provider calling a merchant endpoint on loopback: asks the merchant
for a B2B token (POST <origin of URL>/v1.0/access-token/b2b, or --token-url;
X-CLIENT-KEY|X-TIMESTAMP signed with DIR/provider-key.pem: the merchant verifies
with DIR/provider-public.pem; client id SANDBOX-PROVIDER unless --client-id),
then sends a signed SNAP payment notification with that token.
  --tamper body|timestamp|signature|stale   spoil the notification on purpose
  --replay          send it twice with the same X-EXTERNAL-ID (freshly signed)
  --no-token        no token request, no Authorization header
  --expired-token   wait --wait-s N seconds (default 2, at most 900) after getting
                    the token, past the merchant's token_ttl_s, then send
Prints one line per HTTP exchange: what was sent, the HTTP status and the
merchant's responseCode (never the token). Exit 0 when every exchange got an
HTTP answer, 1 when one did not, 2 for bad arguments.
";

/// Set by SIGINT / SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: the one thing safe to do in a signal handler.
    STOP.store(true, Ordering::SeqCst);
}

/// Signal dispositions replaced by [`install_signal_handlers`].
#[cfg(unix)]
struct PreviousHandlers(Vec<(libc::c_int, libc::sighandler_t)>);

/// Installed before the sandbox starts: a signal sent as soon as
/// `sandbox.json` appears must already stop it cleanly. A signal inherited as
/// ignored (SIGINT in a shell's background job) stays ignored.
#[cfg(unix)]
fn install_signal_handlers() -> PreviousHandlers {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    let mut previous = Vec::new();
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler is async-signal-safe (a single atomic store).
        let old = unsafe { libc::signal(sig, handler) };
        if old == libc::SIG_IGN {
            // SAFETY: restoring the inherited disposition.
            unsafe { libc::signal(sig, libc::SIG_IGN) };
        }
        previous.push((sig, old));
    }
    PreviousHandlers(previous)
}

#[cfg(unix)]
fn restore_signal_handlers(previous: PreviousHandlers) {
    for (sig, old) in previous.0 {
        if old != libc::SIG_ERR {
            // SAFETY: putting back what was there before.
            unsafe { libc::signal(sig, old) };
        }
    }
}

#[cfg(not(unix))]
struct PreviousHandlers;

#[cfg(not(unix))]
fn install_signal_handlers() -> PreviousHandlers {
    PreviousHandlers
}

#[cfg(not(unix))]
fn restore_signal_handlers(_: PreviousHandlers) {}

#[derive(Debug)]
struct CliOptions {
    sandbox: SandboxOptions,
    max_seconds: u64,
    quiet: bool,
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: not a valid number: {value:?}"))
}

/// `Ok(None)`: help was asked for.
fn parse(args: Vec<String>) -> Result<Option<CliOptions>, String> {
    let mut opts = CliOptions {
        sandbox: SandboxOptions {
            dir: Some(PathBuf::from("sandbox")),
            log_requests: true,
            ..SandboxOptions::default()
        },
        max_seconds: 0,
        quiet: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let takes_value = matches!(
            flag.as_str(),
            "--dir"
                | "--host"
                | "--port"
                | "--http-port"
                | "--client"
                | "--client-rsa"
                | "--max-seconds"
                | "--slow-ms"
        );
        let value = if takes_value {
            match inline {
                Some(v) => v,
                None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
            }
        } else {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            String::new()
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quiet" => opts.quiet = true,
            "--dir" => opts.sandbox.dir = Some(PathBuf::from(value)),
            "--host" => opts.sandbox.host = value,
            "--port" => opts.sandbox.port = number(&flag, &value)?,
            "--http-port" => opts.sandbox.http_port = Some(number(&flag, &value)?),
            "--max-seconds" => opts.max_seconds = number(&flag, &value)?,
            "--slow-ms" => opts.sandbox.slow_ms = number(&flag, &value)?,
            "--client" | "--client-rsa" => match value.split_once('=') {
                Some((id, file)) if !id.is_empty() && !file.is_empty() => {
                    let list = if flag == "--client" {
                        &mut opts.sandbox.clients
                    } else {
                        &mut opts.sandbox.rsa_clients
                    };
                    list.push((id.to_string(), PathBuf::from(file)));
                }
                _ => return Err(format!("{flag} needs ID=FILE, got {value:?}")),
            },
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    opts.sandbox.log_requests = !opts.quiet;
    Ok(Some(opts))
}

/// Runs the sandbox command with its arguments (without the program name);
/// returns the process exit code: 0 after a clean stop, 1 if it could not
/// start, 2 for bad arguments.
pub fn cli_main<I, S>(args: I) -> i32
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    if args.first().map(String::as_str) == Some("notify") {
        return notify_main(args[1..].to_vec());
    }
    // Writes below ignore errors: a closed stdout/stderr must not panic us.
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            let _ = io::stdout().lock().write_all(USAGE.as_bytes());
            return 0;
        }
        Err(msg) => {
            let _ = write!(io::stderr().lock(), "snapb2b-sandbox: {msg}\n\n{USAGE}");
            return 2;
        }
    };
    let quiet = opts.quiet;
    STOP.store(false, Ordering::SeqCst);
    let previous_handlers = install_signal_handlers();
    let sandbox = match Sandbox::start(opts.sandbox) {
        Ok(s) => s,
        Err(e) => {
            restore_signal_handlers(previous_handlers);
            let _ = writeln!(io::stderr().lock(), "snapb2b-sandbox: {e}");
            return 1;
        }
    };
    {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "snapb2b-sandbox listening on {}", sandbox.base_url());
        let _ = out.flush();
    }
    if !quiet {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "snapb2b-sandbox: files in {}", sandbox.dir().display());
        if let Some(http) = sandbox.http_base_url() {
            let _ = writeln!(err, "snapb2b-sandbox: plain HTTP on {http}");
        }
    }

    let deadline =
        (opts.max_seconds > 0).then(|| Instant::now() + Duration::from_secs(opts.max_seconds));
    while !STOP.load(Ordering::SeqCst) && deadline.is_none_or(|d| Instant::now() < d) {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !quiet {
        let _ = writeln!(io::stderr().lock(), "snapb2b-sandbox: shutting down");
    }
    drop(sandbox);
    // Embedded in another binary, leave its signal handling as it was.
    restore_signal_handlers(previous_handlers);
    0
}

/// `snapb2b-sandbox notify ...`: a token request and a notification to a
/// merchant, as a provider would send them.
fn notify_main(args: Vec<String>) -> i32 {
    use super::notify;
    let fail = |msg: String| {
        let _ = writeln!(io::stderr().lock(), "snapb2b-sandbox notify: {msg}");
        2
    };
    let opts = match parse_notify(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            let _ = io::stdout().lock().write_all(USAGE.as_bytes());
            return 0;
        }
        Err(msg) => return fail(msg),
    };
    let mut report = |e: &notify::Exchange| {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}", e.line());
        let _ = out.flush();
    };
    match notify::run(&opts, &mut report) {
        Ok(_) => 0,
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => fail(e.to_string()),
        Err(e) => {
            let _ = writeln!(io::stderr().lock(), "snapb2b-sandbox notify: {e}");
            1
        }
    }
}

/// `Ok(None)`: help was asked for.
fn parse_notify(args: Vec<String>) -> Result<Option<super::notify::Options>, String> {
    use super::notify::{Options, Tamper, TokenMode, MAX_WAIT_S};
    let mut opts = Options::new("sandbox", String::new());
    let mut url = None;
    let mut body_file = None;
    let (mut no_token, mut expired, mut wait_s) = (false, false, 2u64);
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--replay" => opts.replay = true,
            "--no-token" => no_token = true,
            "--expired-token" => expired = true,
            _ => {
                let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                match flag.as_str() {
                    "--dir" => opts.dir = PathBuf::from(value),
                    "--url" => url = Some(value),
                    "--token-url" => opts.token_url = Some(value),
                    "--client-id" | "--channel-id" => {
                        // Sent as header values: printable ASCII only.
                        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                            return Err(format!("{flag} must be printable ASCII, no spaces"));
                        }
                        if flag == "--client-id" {
                            opts.client_id = value;
                        } else {
                            opts.channel_id = value;
                        }
                    }
                    "--body-file" => body_file = Some(PathBuf::from(value)),
                    "--ca-file" => opts.ca_file = Some(PathBuf::from(value)),
                    "--wait-s" => {
                        wait_s = number(&flag, &value)?;
                        if wait_s > MAX_WAIT_S {
                            return Err(format!("--wait-s must be at most {MAX_WAIT_S}"));
                        }
                    }
                    "--tamper" => {
                        opts.tamper = Tamper::parse(&value)
                            .ok_or_else(|| format!("unknown --tamper {value:?}"))?
                    }
                    _ => return Err(format!("unknown argument {flag:?}")),
                }
            }
        }
    }
    opts.url = url.ok_or("--url is required")?;
    opts.token = match (no_token, expired) {
        (true, true) => return Err("--no-token and --expired-token exclude each other".into()),
        (true, false) => TokenMode::Skip,
        (false, true) => TokenMode::Expired(Duration::from_secs(wait_s)),
        (false, false) => TokenMode::Fetch,
    };
    if let Some(path) = body_file {
        opts.body = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Some(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_all_flags_in_both_forms() {
        let o = parse(args(&[
            "--dir=/tmp/x",
            "--host",
            "::1",
            "--port",
            "8443",
            "--http-port=0",
            "--client",
            "A=a.pem",
            "--client=B=b=c.pem",
            "--client-rsa=R=r.pem",
            "--max-seconds",
            "5",
            "--slow-ms=10",
            "--quiet",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(o.sandbox.dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(o.sandbox.host, "::1");
        assert_eq!((o.sandbox.port, o.sandbox.http_port), (8443, Some(0)));
        assert_eq!(
            o.sandbox.clients,
            vec![
                ("A".to_string(), PathBuf::from("a.pem")),
                ("B".to_string(), PathBuf::from("b=c.pem"))
            ]
        );
        assert_eq!(
            o.sandbox.rsa_clients,
            vec![("R".to_string(), PathBuf::from("r.pem"))]
        );
        assert_eq!((o.max_seconds, o.sandbox.slow_ms), (5, 10));
        assert!(o.quiet && !o.sandbox.log_requests);
    }

    #[test]
    fn defaults_and_errors() {
        let o = parse(vec![]).unwrap().unwrap();
        assert_eq!(o.sandbox.dir, Some(PathBuf::from("sandbox")));
        assert_eq!(o.sandbox.slow_ms, 30_000);
        assert!(o.sandbox.log_requests);
        assert!(parse(args(&["--help"])).unwrap().is_none());
        for bad in [
            &["--port"][..],
            &["--port", "x"],
            &["--port", "70000"],
            &["--client", "noequals"],
            &["--client", "=f"],
            &["--client-rsa", "R"],
            &["--quiet=1"],
            &["--bogus"],
        ] {
            assert!(parse(args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_notify_flags() {
        use crate::notify::{Tamper, TokenMode};
        let o = parse_notify(args(&[
            "--url",
            "http://127.0.0.1:9/n",
            "--dir",
            "d",
            "--token-url",
            "http://127.0.0.1:9/t",
            "--client-id",
            "P1",
            "--tamper",
            "body",
            "--replay",
            "--expired-token",
            "--wait-s",
            "3",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(o.url, "http://127.0.0.1:9/n");
        assert_eq!(o.token_url.as_deref(), Some("http://127.0.0.1:9/t"));
        assert_eq!(
            (o.client_id.as_str(), o.channel_id.as_str()),
            ("P1", "95221")
        );
        assert_eq!(o.dir, PathBuf::from("d"));
        assert!(o.replay && o.tamper == Tamper::Body);
        assert_eq!(o.token, TokenMode::Expired(Duration::from_secs(3)));
        let o = parse_notify(args(&["--url", "http://x/", "--no-token"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.token, TokenMode::Skip);
        assert!(parse_notify(args(&["--help"])).unwrap().is_none());
        for bad in [
            &[][..],
            &["--url"],
            &["--url", "u", "--no-token", "--expired-token"],
            &["--url", "u", "--wait-s", "901"],
            &["--url", "u", "--wait-s", "x"],
            &["--url", "u", "--tamper", "bogus"],
            &["--url", "u", "--client-id", "a b"],
            &["--url", "u", "--bogus"],
        ] {
            assert!(parse_notify(args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn notify_refuses_non_loopback_urls() {
        assert_eq!(cli_main(["notify", "--url", "http://10.0.0.1/x"]), 2);
        assert_eq!(
            cli_main([
                "notify",
                "--url",
                "http://127.0.0.1:9/x",
                "--token-url",
                "http://example.com/t"
            ]),
            2
        );
    }

    #[test]
    fn refuses_non_loopback_host() {
        assert_eq!(cli_main(["--host", "0.0.0.0", "--quiet"]), 1);
    }
}
