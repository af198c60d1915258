//! A real `redis-server` for tests: started on a free loopback port with no
//! persistence, in its own temporary directory, and killed when dropped.
//!
//! [`RedisServer::start`] returns `None` (after saying why on stderr) only
//! when no `redis-server` is installed and not under CI (`CI` set): there a
//! missing server is a failure, since `make test` installs it.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    tls: bool,
}

/// How long a starting server may take to answer PING.
const START_WAIT: Duration = Duration::from_secs(10);

fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl RedisServer {
    /// A plain server (`redis://127.0.0.1:<port>`).
    pub fn start() -> Option<RedisServer> {
        Self::start_with(false)
    }

    /// A TLS-only server (`rediss://127.0.0.1:<port>`) with a certificate
    /// for 127.0.0.1 signed by a fresh CA: [`RedisServer::ca_file`].
    pub fn start_tls() -> Option<RedisServer> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<RedisServer> {
        if !installed() {
            if std::env::var_os("CI").is_some() {
                panic!("redis-server is not installed (scripts/install-test-deps.sh installs it)");
            }
            eprintln!(
                "SKIPPED: redis-server is not installed (scripts/install-test-deps.sh installs it)"
            );
            return None;
        }
        let dir = crate::files::create_temp_dir().expect("temp dir for redis-server");
        if tls {
            let id = crate::tls::generate_identity().expect("TLS identity");
            let pem = |b: Vec<u8>| b;
            std::fs::write(dir.join("ca.pem"), pem(id.ca_cert.to_pem().unwrap())).unwrap();
            std::fs::write(dir.join("cert.pem"), pem(id.cert.to_pem().unwrap())).unwrap();
            std::fs::write(
                dir.join("key.pem"),
                pem(id.key.private_key_to_pem_pkcs8().unwrap()),
            )
            .unwrap();
        }
        let mut server = RedisServer {
            child: None,
            port: free_port().expect("a free port"),
            dir,
            tls,
        };
        server.restart().expect("redis-server starts");
        Some(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>` (or `rediss://`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `unix://<dir>/redis.sock`: the same server on a Unix socket.
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.dir.join("redis.sock").display())
    }

    /// The CA that signed a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the server (again) on the same port, empty; waits until it
    /// answers.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--protected-mode", "yes", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--unixsocket")
            .arg(self.dir.join("redis.sock"))
            .args(["--unixsocketperm", "700"]);
        if self.tls {
            let file = |n: &str| self.dir.join(n).to_string_lossy().into_owned();
            cmd.args(["--port", "0", "--tls-port", &port])
                .args(["--tls-cert-file", &file("cert.pem")])
                .args(["--tls-key-file", &file("key.pem")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "no"]);
        } else {
            cmd.args(["--port", &port]);
        }
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        self.child = Some(child);
        let give_up = Instant::now() + START_WAIT;
        loop {
            let up = if self.tls {
                // TLS: an accepted connection is as far as we check.
                TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
            } else {
                self.ping().is_ok()
            };
            if up {
                return Ok(());
            }
            if Instant::now() > give_up {
                return Err(io::Error::other("redis-server did not start"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ping(&self) -> io::Result<()> {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        s.write_all(b"PING\r\n")?;
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf)?;
        if &buf == b"+PONG\r\n" {
            Ok(())
        } else {
            Err(io::Error::other("not PONG"))
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the server: a Redis that
    /// accepts connections and never answers.
    pub fn freeze(&self, frozen: bool) {
        if let Some(child) = &self.child {
            let sig = if frozen { libc::SIGSTOP } else { libc::SIGCONT };
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.freeze(false);
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
