//! One accepted connection, TLS or plain, as the sandbox and the fault-test
//! servers hold it: the handshake, the ways to end it, and plain `Read`/`Write`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use openssl::ssl::{HandshakeError, SslAcceptor, SslStream};

/// A connection, TLS or plain.
pub enum Conn {
    Tls(Box<SslStream<TcpStream>>),
    Plain(TcpStream),
}

impl Conn {
    /// Runs the TLS handshake over `tcp` (plain without an acceptor). A read
    /// timeout on `tcp` interrupts the handshake; it is resumed as long as
    /// `keep_trying()` says so, which lets a caller poll a stop flag.
    pub fn accept(
        tcp: TcpStream,
        acceptor: Option<&SslAcceptor>,
        keep_trying: impl Fn() -> bool,
    ) -> io::Result<Conn> {
        let Some(acceptor) = acceptor else {
            return Ok(Conn::Plain(tcp));
        };
        let mut attempt = acceptor.accept(tcp);
        loop {
            match attempt {
                Ok(tls) => return Ok(Conn::Tls(Box::new(tls))),
                Err(HandshakeError::WouldBlock(mid)) if keep_trying() => {
                    attempt = mid.handshake();
                }
                Err(e) => return Err(io::Error::other(format!("TLS handshake failed: {e}"))),
            }
        }
    }

    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Tls(s) => s.get_ref(),
            Conn::Plain(s) => s,
        }
    }

    /// Polite close: TLS close_notify, then FIN; drains what the peer still
    /// sends so the kernel does not answer it with a RST that could destroy our
    /// last response before the peer reads it.
    pub fn close(mut self) {
        if let Conn::Tls(s) = &mut self {
            let _ = s.shutdown();
        }
        let tcp = self.tcp();
        let _ = tcp.shutdown(Shutdown::Write);
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(200)));
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < 256 * 1024 {
            match self.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }

    /// Vanishes without a word: FIN both ways, no TLS close_notify, no answer.
    pub fn hang_up(self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }

    /// Aborts with SO_LINGER 0: the peer gets a TCP RST (no close_notify, no
    /// FIN; elsewhere than Unix, a plain FIN).
    pub fn reset(self) {
        #[cfg(unix)]
        self.set_linger_zero();
    }

    #[cfg(unix)]
    fn set_linger_zero(&self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid open socket and a correctly sized linger struct.
        unsafe {
            libc::setsockopt(
                self.tcp().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tls(s) => s.read(buf),
            Conn::Plain(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tls(s) => s.write(buf),
            Conn::Plain(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Tls(s) => s.flush(),
            Conn::Plain(s) => s.flush(),
        }
    }
}
