//! The connection to the receiver: TCP or TLS with octet-counting framing (`MSG-LEN SP
//! SYSLOG-MSG`, RFC 6587 3.4.1 and RFC 5425 4.3), or UDP with one datagram per message
//! (RFC 5426). How a TCP or TLS batch is confirmed is told in the module above.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::config::{SyslogConfig, Transport};
use super::tls;
use crate::sink::SinkError;

/// Connecting, resolving and the TLS handshake, each.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Writing one batch into the socket (a receiver that stopped reading blocks it).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The peer's TCP acknowledging the whole batch.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the send queue is looked at while waiting for the acknowledgement.
const ACK_POLL: Duration = Duration::from_millis(2);
/// How long a receiver that asked for a client certificate may take to accept or refuse it.
const CLIENT_AUTH_WAIT: Duration = Duration::from_secs(3);
/// How long a TLS record waiting in the socket may take to be read: it is already there.
const TLS_RECORD_WAIT: Duration = Duration::from_millis(20);

/// Opens connections to one receiver.
pub struct Connector {
    transport: Transport,
    host: String,
    port: u16,
    tls: Option<Tls>,
}

struct Tls {
    connector: TlsConnector,
    name: rustls_pki_types::ServerName<'static>,
    auth: Arc<tls::ClientAuth>,
}

/// An open connection.
pub enum Conn {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Udp(UdpSocket),
}

impl Connector {
    pub fn new(c: &SyslogConfig) -> Result<Connector, SinkError> {
        let tls = match c.transport {
            Transport::Tls => {
                let (config, auth) = tls::client_config(c)?;
                Some(Tls {
                    connector: TlsConnector::from(config),
                    name: tls::server_name(&c.host)?,
                    auth,
                })
            }
            _ => None,
        };
        Ok(Connector {
            transport: c.transport,
            host: c.host.clone(),
            port: c.port,
            tls,
        })
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub async fn connect(&self) -> Result<Conn, SinkError> {
        let at = self.address();
        let addrs = self.resolve().await?;
        if self.transport == Transport::Udp {
            return udp(&self.host, &addrs, &at).await;
        }
        let tcp = self.tcp(&addrs, &at).await?;
        // Each batch is flushed and waited for: Nagle's delay would only add to that wait.
        let _ = tcp.set_nodelay(true);
        let Some(tls) = &self.tls else {
            tracing::info!("syslog: connected to {at} over TCP");
            return Ok(Conn::Tcp(tcp));
        };
        let mut conn = match timeout(
            CONNECT_TIMEOUT,
            tls.connector.connect(tls.name.clone(), tcp),
        )
        .await
        {
            Ok(Ok(s)) => Conn::Tls(Box::new(s)),
            Ok(Err(e)) => return Err(handshake_error(&at, &e)),
            Err(_) => {
                return Err(SinkError::Transient(format!(
                    "the TLS handshake with the syslog receiver {at} took over {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
        };
        if tls.auth.asked() {
            conn.judged(&at).await?;
        }
        tracing::info!("syslog: connected to {at} over TLS");
        Ok(conn)
    }

    /// The receiver's addresses.
    async fn resolve(&self) -> Result<Vec<std::net::SocketAddr>, SinkError> {
        match timeout(
            CONNECT_TIMEOUT,
            tokio::net::lookup_host((self.host.as_str(), self.port)),
        )
        .await
        {
            Ok(Ok(a)) => Ok(a.collect()),
            Ok(Err(e)) => Err(SinkError::Transient(format!(
                "cannot resolve the syslog receiver's host {}: {e}. Check the url and DNS",
                self.host
            ))),
            Err(_) => Err(SinkError::Transient(format!(
                "resolving the syslog receiver's host {} took over {} s",
                self.host,
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// A TCP connection to the first address that takes one.
    async fn tcp(&self, addrs: &[std::net::SocketAddr], at: &str) -> Result<TcpStream, SinkError> {
        let mut why = format!("{} has no address", self.host);
        for addr in addrs {
            match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok(s),
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    why =
                        format!("connection refused by {addr}: is it running and listening there?")
                }
                Ok(Err(e)) => why = format!("{addr}: {e}"),
                Err(_) => {
                    why = format!(
                        "{addr} did not answer within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )
                }
            }
        }
        Err(SinkError::Transient(format!(
            "cannot connect to the syslog receiver {at}: {why}"
        )))
    }
}

/// A UDP socket connected to the first address.
async fn udp(host: &str, addrs: &[std::net::SocketAddr], at: &str) -> Result<Conn, SinkError> {
    let Some(addr) = addrs.first() else {
        return Err(SinkError::Transient(format!("{host} has no address")));
    };
    let local = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| SinkError::Transient(format!("cannot open a UDP socket: {e}")))?;
    socket.connect(addr).await.map_err(|e| {
        SinkError::Transient(format!("cannot send UDP to the syslog receiver {at}: {e}"))
    })?;
    tracing::info!("syslog: sending to {at} over UDP");
    Ok(Conn::Udp(socket))
}

/// A failed handshake. A certificate problem is fatal: retrying cannot make it trusted, and
/// backing off forever would hide a setting to fix.
fn handshake_error(at: &str, e: &io::Error) -> SinkError {
    if let Some(fatal) = certificate_refusal(at, e) {
        return fatal;
    }
    let why = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => tls.to_string(),
        None => e.to_string(),
    };
    SinkError::Transient(format!(
        "the TLS handshake with the syslog receiver {at} failed: {why}"
    ))
}

/// A certificate the output does not trust, or an alert from a receiver that does not take
/// ours: with TLS 1.3 a receiver refuses a missing client certificate only after the client
/// has finished the handshake, so the alert can come with the first read after it.
fn certificate_refusal(at: &str, e: &io::Error) -> Option<SinkError> {
    use rustls::AlertDescription as A;
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(why) => Some(SinkError::Fatal(format!(
            "the TLS certificate of the syslog receiver {at} is not trusted ({why:?}): give its CA with ca_file (or SSL_CERT_FILE), or tls_verify = false for a test receiver"
        ))),
        rustls::Error::AlertReceived(
            a @ (A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::AccessDenied
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked),
        ) => Some(SinkError::Fatal(format!(
            "the syslog receiver {at} refused the TLS session ({a:?}): it wants a client certificate it trusts: give one with cert_file and key_file"
        ))),
        _ => None,
    }
}

/// What a look at a socket's receive side found.
#[derive(Debug, PartialEq, Eq)]
enum Peek {
    /// Nothing to read and no error: open.
    Quiet,
    /// Bytes wait to be read (for TLS, a record: a session ticket or a close_notify).
    Data,
    /// The peer closed or reset the connection.
    Closed(String),
}

impl Conn {
    /// Whether the connection is still usable: the peer has not closed or reset it. Syslog
    /// receivers send nothing, so an end of stream or an error is the only news there can be.
    /// A closed connection is [`SinkError::Transient`]; a refused client certificate, fatal.
    pub async fn check(&mut self, at: &str) -> Result<(), SinkError> {
        let closed = |why: &str| SinkError::Transient(format!("the syslog receiver {at}: {why}"));
        match self {
            // Connectionless: nothing to look at.
            Conn::Udp(_) => Ok(()),
            Conn::Tcp(s) => match peek(s) {
                Peek::Closed(why) => Err(closed(&why)),
                Peek::Quiet | Peek::Data => Ok(()),
            },
            Conn::Tls(s) => {
                // Bounded: a receiver sending application data without end is not healthy.
                for _ in 0..16 {
                    match peek(s.get_ref().0) {
                        Peek::Quiet => return Ok(()),
                        Peek::Closed(why) => return Err(closed(&why)),
                        // Let rustls take the record. Nothing for the application (a ticket):
                        // the read waits for more, which is the answer.
                        Peek::Data => {
                            let mut buf = [0u8; 1024];
                            match timeout(TLS_RECORD_WAIT, s.read(&mut buf)).await {
                                Err(_) => return Ok(()),
                                Ok(Ok(0)) => return Err(closed("it closed the TLS session")),
                                Ok(Ok(_)) => continue,
                                Ok(Err(e)) => {
                                    return Err(certificate_refusal(at, &e)
                                        .unwrap_or_else(|| closed(&e.to_string())))
                                }
                            }
                        }
                    }
                }
                Err(closed(
                    "it keeps sending data, which syslog receivers do not",
                ))
            }
        }
    }

    /// Waits for a receiver that asked for a client certificate to say what it made of it:
    /// with TLS 1.3 it answers after the client's handshake is over, with session tickets
    /// (accepted) or an alert (refused). Without that wait, the first batch could be written
    /// and acknowledged by TCP, then thrown away by a receiver refusing the session. Bounded,
    /// for receivers that send no tickets (and TLS 1.2, where the handshake settled it).
    async fn judged(&mut self, at: &str) -> Result<(), SinkError> {
        let Conn::Tls(s) = self else {
            return Ok(());
        };
        if s.get_ref().1.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
            return Ok(());
        }
        let deadline = Instant::now() + CLIENT_AUTH_WAIT;
        while peek(s.get_ref().0) == Peek::Quiet && Instant::now() < deadline {
            tokio::time::sleep(ACK_POLL).await;
        }
        self.check(at).await
    }

    /// Whether the connection is still ESTABLISHED (UDP: always).
    #[cfg(test)]
    pub fn open(&self) -> bool {
        match self {
            Conn::Tcp(s) => established(s),
            Conn::Tls(s) => established(s.get_ref().0),
            Conn::Udp(_) => true,
        }
    }

    /// Whether the peer reset the connection (or it timed out) rather than closing it. A
    /// receiver's kernel answers a close with a reset instead of an orderly end of stream when
    /// bytes it acknowledged were still unread: what the output last confirmed may be lost.
    pub fn was_reset(&self) -> bool {
        let tcp = match self {
            Conn::Tcp(s) => s,
            Conn::Tls(s) => s.get_ref().0,
            Conn::Udp(_) => return false,
        };
        tcp_state(tcp) == Some(TCP_CLOSE)
    }

    /// Sends the messages; for TCP and TLS, returns once the peer's TCP acknowledged all of
    /// them and the connection is still open.
    pub async fn send(&mut self, messages: &[Vec<u8>], at: &str) -> Result<(), SinkError> {
        let transient = |what: &str, e: &dyn std::fmt::Display| {
            SinkError::Transient(format!("{what} the syslog receiver {at}: {e}"))
        };
        let framed = |messages: &[Vec<u8>]| {
            let mut buf = Vec::with_capacity(messages.iter().map(|m| m.len() + 8).sum());
            for m in messages {
                buf.extend_from_slice(itoa::Buffer::new().format(m.len()).as_bytes());
                buf.push(b' ');
                buf.extend_from_slice(m);
            }
            buf
        };
        let written = match self {
            Conn::Udp(s) => {
                for m in messages {
                    match timeout(WRITE_TIMEOUT, s.send(m)).await {
                        Ok(Ok(n)) if n == m.len() => {}
                        Ok(Ok(n)) => {
                            return Err(transient(
                                "sending to",
                                &format!("{n} of {} bytes in a datagram", m.len()),
                            ))
                        }
                        Ok(Err(e)) => return Err(transient("sending to", &e)),
                        Err(_) => return Err(transient("sending to", &"timed out")),
                    }
                }
                return Ok(());
            }
            Conn::Tcp(s) => {
                let buf = framed(messages);
                timeout(WRITE_TIMEOUT, async {
                    s.write_all(&buf).await?;
                    s.flush().await
                })
                .await
            }
            Conn::Tls(s) => {
                let buf = framed(messages);
                timeout(WRITE_TIMEOUT, async {
                    s.write_all(&buf).await?;
                    s.flush().await
                })
                .await
            }
        };
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(transient("writing to", &e)),
            Err(_) => {
                return Err(transient(
                    "writing to",
                    &format!("it took in nothing for {} s", WRITE_TIMEOUT.as_secs()),
                ))
            }
        }
        self.acknowledged(at).await?;
        self.check(at).await.map_err(|e| match e {
            SinkError::Transient(why) => SinkError::Transient(format!(
                "the batch may not have reached the receiver, the connection ended: {why}"
            )),
            other => other,
        })
    }

    /// Waits until the kernel's send queue is empty: every byte written has been acknowledged
    /// by the peer's TCP. A peer that closes or resets the connection meanwhile ends the wait
    /// at once (the queue of a reset connection never empties), with what it said if it was a
    /// TLS alert.
    async fn acknowledged(&mut self, at: &str) -> Result<(), SinkError> {
        let deadline = Instant::now() + ACK_TIMEOUT;
        loop {
            let tcp = match self {
                Conn::Tcp(s) => &*s,
                Conn::Tls(s) => s.get_ref().0,
                Conn::Udp(_) => return Ok(()),
            };
            let queued = unacknowledged(tcp).map_err(|e| {
                SinkError::Transient(format!(
                    "cannot read the send queue of the connection to {at}: {e}"
                ))
            })?;
            if queued == 0 {
                return Ok(());
            }
            // A peek sees an end or a reset only once any bytes before it are read (a TLS
            // alert): the connection's state tells at once.
            if !established(tcp) || matches!(peek(tcp), Peek::Closed(_)) {
                self.check(at).await?;
                return Err(SinkError::Transient(format!(
                    "the syslog receiver {at} closed the connection with {queued} bytes of the batch not acknowledged"
                )));
            }
            if Instant::now() >= deadline {
                return Err(SinkError::Transient(format!(
                    "{queued} bytes sent to the syslog receiver {at} were not acknowledged by the peer's TCP within {} s",
                    ACK_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(ACK_POLL).await;
        }
    }
}

/// A TLS session ends with close_notify, as RFC 5425 4.4 asks: receivers log a session cut
/// without it as an error (rsyslog's GnuTLS driver does). Best effort, without blocking: the
/// socket closes right after.
impl Drop for Conn {
    fn drop(&mut self) {
        if let Conn::Tls(s) = self {
            let (tcp, tls) = s.get_mut();
            tls.send_close_notify();
            let _ = tls.write_tls(&mut TryWrite(tcp));
        }
    }
}

/// Writes what the socket takes now, never waiting. A raw `send`: tokio's `try_write` gives up
/// without trying when it has not yet seen the socket writable.
struct TryWrite<'a>(&'a TcpStream);

impl io::Write for TryWrite<'_> {
    #[cfg(target_os = "linux")]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        // SAFETY: the fd is open while `self.0` is borrowed; `buf` is valid for its length.
        let n = unsafe {
            libc::send(
                self.0.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }

    #[cfg(not(target_os = "linux"))]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A non-blocking `recv(MSG_PEEK)` of one byte: what waits on the receive side, without taking
/// it (rustls still reads TLS records itself).
#[cfg(unix)]
fn peek(s: &TcpStream) -> Peek {
    use std::os::fd::AsRawFd;
    let mut b = 0u8;
    // SAFETY: the fd is open for as long as `s` is borrowed, and the buffer is one valid byte.
    let n = unsafe {
        libc::recv(
            s.as_raw_fd(),
            (&mut b as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => Peek::Closed("it closed the connection".into()),
        n if n > 0 => Peek::Data,
        _ => {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Peek::Quiet,
                _ => Peek::Closed(e.to_string()),
            }
        }
    }
}

/// Without `recv(MSG_PEEK)`, a closed connection shows only when a write fails.
#[cfg(not(unix))]
fn peek(_: &TcpStream) -> Peek {
    Peek::Quiet
}

/// Bytes written but not yet acknowledged by the peer (`SIOCOUTQ`, alias `TIOCOUTQ`).
#[cfg(target_os = "linux")]
fn unacknowledged(s: &TcpStream) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one c_int through the pointer, which points at `n`.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut n as *mut libc::c_int) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The connection's TCP state (`tcpi_state`, the first byte of `TCP_INFO`), when it can be
/// read.
#[cfg(target_os = "linux")]
fn tcp_state(s: &TcpStream) -> Option<u8> {
    use std::os::fd::AsRawFd;
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info`, and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0 && len > 0).then_some(info[0])
}

#[cfg(not(target_os = "linux"))]
fn tcp_state(_: &TcpStream) -> Option<u8> {
    None
}

/// Linux's `TCP_ESTABLISHED` and `TCP_CLOSE` (include/net/tcp_states.h).
const TCP_ESTABLISHED: u8 = 1;
const TCP_CLOSE: u8 = 7;

/// Whether the connection is still ESTABLISHED: not closing, closed or reset. Taken as open
/// when the state cannot be read.
fn established(s: &TcpStream) -> bool {
    tcp_state(s).is_none_or(|st| st == TCP_ESTABLISHED)
}

/// Elsewhere there is no portable count of unacknowledged bytes: a batch is confirmed once
/// flushed into the socket and the connection is still open.
#[cfg(not(target_os = "linux"))]
fn unacknowledged(_: &TcpStream) -> io::Result<usize> {
    Ok(0)
}
