//! The syslog output: each event becomes one RFC 5424 message (`message`), sent over TLS
//! (RFC 5425) or TCP with octet-counting framing, or over UDP one datagram per message
//! (`conn`, `tls`). Settings are in `config`.
//!
//! # When a batch counts as delivered
//!
//! Syslog has no acknowledgement: a receiver reads and never answers. A batch counts as
//! delivered only once written and flushed on a healthy connection, which this output makes
//! as strong as TCP allows:
//!
//! 1. Before writing, the connection is checked: a non-blocking peek that finds the end of the
//!    stream or an error means the receiver went away since the last batch, so the output
//!    reconnects first instead of writing into a dead connection (which would "succeed").
//! 2. The whole batch is written and flushed.
//! 3. The output waits until the kernel's send queue for the socket is empty (`SIOCOUTQ`,
//!    polled every 2 ms for at most 10 s): the receiver's TCP has acknowledged every byte. A
//!    connection that leaves the ESTABLISHED state meanwhile ends the wait at once (a reset
//!    connection's queue never empties).
//! 4. The connection is checked again: a receiver that closed or reset it meanwhile may not
//!    have read what its kernel acknowledged. For TLS the check lets rustls read what waits
//!    (session tickets; a close_notify; an alert, such as a refused client certificate, which
//!    TLS 1.3 receivers send only after the client finished its handshake).
//!
//! Only then is every event of the batch `Delivered`. Any failure drops the connection and
//! answers [`SinkError::Transient`]: the shipper sends the whole batch again with backoff (so
//! reconnecting backs off too), and its position stays before the batch. A receiver stopped or
//! killed mid-batch therefore makes that batch be sent again, not lost: at most one batch is
//! repeated (one connection writes in order, so one batch is in flight). Syslog receivers do
//! not deduplicate; the event id in the structured data lets a search find the repeats.
//!
//! The limit: TCP acknowledges bytes that reached the receiver's kernel, not its application.
//! A receiver that stops reading (shutting down, hung) and then closes loses what sat unread in
//! its socket buffer, although the output saw it acknowledged. Its kernel then answers the
//! close with a reset instead of an orderly end of stream, and the output, finding the
//! connection reset before the next batch, sends the last confirmed batch again first (still
//! at most one batch repeated). That covers a receiver stopped or killed right after a batch;
//! a receiver that sat on more than one batch before closing, or a reset seen only after the
//! process ended, can still lose what it did not read. Only an application-level protocol
//! (RELP) closes that gap.
//!
//! UDP is best effort: a datagram is sent and nothing confirms it arrived. A receiver that is
//! down or drops datagrams loses them without the output knowing (an ICMP "port unreachable"
//! may surface as an error on a later send, which makes the batch be sent again).
//!
//! # What a batch's verdicts are
//!
//! An event the encoder cannot encode, or one too big with `oversize = dead_letter`, is `Dead`
//! with the reason (the shipper writes it to the dead letters). Every other event is
//! `Delivered` once the batch is confirmed; a batch that cannot be confirmed is an error for
//! the whole batch. An untrusted certificate is [`SinkError::Fatal`] (the fix is `ca_file`), and
//! so is a receiver refusing the client certificate (`cert_file`, `key_file`). A TLS session
//! ends with close_notify when the output is dropped (RFC 5425 4.4).
//!
//! Linux only: `SIOCOUTQ` and the TCP state. Elsewhere a batch is confirmed once flushed into
//! the socket with the connection still open.

pub mod config;
mod conn;
pub mod message;
mod tls;

use futures_util::future::BoxFuture;
use tokio::sync::Mutex;

use self::config::{SyslogConfig, Transport};
use self::conn::{Conn, Connector};
use self::message::Formatter;
use crate::encode::Encoder;
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

/// The syslog output: `type = "syslog"`, `--to syslog+tls://...` (or `+tcp`, `+udp`).
pub struct Syslog;

impl Output for Syslog {
    type Config = SyslogConfig;

    fn names(&self) -> &'static [&'static str] {
        &["syslog"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        config::BATCH
    }
    fn parse(&self, url: &url::Url, s: &Settings) -> Result<SyslogConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &SyslogConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(SyslogSink::new(cfg, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a SyslogConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(check(c, out))
    }
}

pub struct SyslogSink {
    encoder: Encoder,
    formatter: Formatter,
    connector: Connector,
    /// The lock also keeps batches from interleaving.
    link: Mutex<Link>,
}

/// The connection, and what the output last confirmed on it.
#[derive(Default)]
struct Link {
    /// One connection, kept across batches; opened at the first batch (nothing is sent at
    /// start), dropped at the first error.
    conn: Option<Conn>,
    /// The messages of the last confirmed batch (up to `max_batch_bytes`).
    last: Vec<Vec<u8>>,
    /// The connection they went on was found reset: send them again before the next batch.
    resend_last: bool,
}

impl SyslogSink {
    /// Builds the sink: reads certificates now (a bad file is a configuration error), connects
    /// at the first batch.
    pub fn new(
        cfg: &OutputConfig,
        c: &SyslogConfig,
        org: &OrgContext,
    ) -> Result<SyslogSink, SinkError> {
        Ok(SyslogSink {
            encoder: Encoder::new(&cfg.name, c.format, org)?,
            formatter: Formatter::new(c, org),
            // Its errors name the receiver; the caller adds the output's name.
            connector: Connector::new(c)?,
            link: Mutex::new(Link::default()),
        })
    }

    /// Sends a batch: see the module's documentation.
    pub async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let now = base::clock::now();
        let mut verdicts = Vec::with_capacity(events.len());
        let mut messages = Vec::with_capacity(events.len());
        let mut msg = Vec::new();
        for e in events {
            msg.clear();
            let built = self
                .encoder
                .write(e, &mut msg)
                .and_then(|()| self.formatter.format(e, &msg, now));
            match built {
                Ok(m) => {
                    messages.push(m);
                    verdicts.push(Verdict::Delivered);
                }
                Err(why) => verdicts.push(Verdict::Dead(why.to_string())),
            }
        }
        if messages.is_empty() {
            return Ok(verdicts);
        }
        let at = self.connector.address();
        let mut link = self.link.lock().await;
        let link = &mut *link;
        if let Some(c) = link.conn.as_mut() {
            let reset = c.was_reset();
            if let Err(e) = c.check(&at).await {
                if reset && !link.last.is_empty() {
                    tracing::warn!(
                        "syslog: {e}; the connection was reset, so the receiver may not have read the last batch: sending it again"
                    );
                    link.resend_last = true;
                } else {
                    tracing::info!("syslog: {e}; reconnecting");
                }
                link.conn = None;
            }
        }
        let conn = match link.conn.as_mut() {
            Some(c) => c,
            None => link.conn.insert(self.connector.connect().await?),
        };
        let sent = if link.resend_last {
            let both: Vec<Vec<u8>> = link.last.iter().chain(&messages).cloned().collect();
            conn.send(&both, &at).await
        } else {
            conn.send(&messages, &at).await
        };
        if let Err(e) = sent {
            link.conn = None;
            return Err(e);
        }
        link.last = messages;
        link.resend_last = false;
        Ok(verdicts)
    }
}

/// Opens a connection to the receiver as the output would (the TLS handshake included, with
/// the output's trust and client certificate) and closes it without sending a message: for
/// `sfevents doctor`. Answers the receiver's address.
pub async fn probe(c: &SyslogConfig) -> Result<String, SinkError> {
    let connector = Connector::new(c)?;
    let conn = connector.connect().await?;
    drop(conn);
    Ok(connector.address())
}

/// `doctor`'s check: [`probe`], except over UDP, which cannot be checked without sending.
async fn check(c: &SyslogConfig, out: &mut dyn Findings) {
    let what = "reachable";
    if c.transport == Transport::Udp {
        return out.ok(
            what,
            format!(
                "UDP to {}:{} cannot be checked without sending",
                c.host, c.port
            ),
        );
    }
    match probe(c).await {
        Ok(at) => out.ok(
            what,
            match c.transport {
                Transport::Tls => format!("{at} completes the TLS handshake (nothing was sent)"),
                _ => format!("{at} accepts connections (nothing was sent)"),
            },
        ),
        Err(e) => out.problem(
            what,
            format!("{e}. Fix: check the host, the port, that the receiver is up, the firewall and, for TLS, ca_file"),
        ),
    }
}

impl Sink for SyslogSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::config::from_url;

    fn sink(port: u16) -> SyslogSink {
        let cfg = from_url(&format!("syslog+tcp://127.0.0.1:{port}")).unwrap();
        let c = cfg.kind.settings::<SyslogConfig>().unwrap();
        let org = OrgContext {
            org: "o".into(),
            instance_url: String::new(),
            state: None,
        };
        SyslogSink::new(&cfg, c, &org).unwrap()
    }

    fn batch(name: &str) -> Vec<Event> {
        (1..=3)
            .map(|i| {
                let id = format!("{name}-{i}");
                let value = serde_json::json!({"id": id, "source": "LoginEvent", "fields": {}});
                Event::with_id(id, value)
            })
            .collect()
    }

    /// Reads `n` octet-counted frames and gives the event id of each.
    async fn frames(s: &mut TcpStream, n: usize) -> Vec<String> {
        let mut buf = Vec::new();
        let mut ids = Vec::new();
        while ids.len() < n {
            let mut chunk = [0u8; 4096];
            let got = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
                .await
                .unwrap_or_else(|_| panic!("{n} frames expected, {ids:?} came"))
                .unwrap();
            assert!(got > 0, "the connection ended after {ids:?}");
            buf.extend_from_slice(&chunk[..got]);
            while let Some(sp) = buf.iter().position(|b| *b == b' ') {
                let len: usize = std::str::from_utf8(&buf[..sp]).unwrap().parse().unwrap();
                if buf.len() < sp + 1 + len {
                    break;
                }
                let msg = String::from_utf8(buf[sp + 1..sp + 1 + len].to_vec()).unwrap();
                let id = msg
                    .split("id=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                ids.push(id.to_string());
                buf.drain(..sp + 1 + len);
            }
        }
        ids
    }

    /// Waits until the sink's connection shows what the peer did.
    async fn until(sink: &SyslogSink, what: impl Fn(&Conn) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if sink.link.lock().await.conn.as_ref().is_some_and(&what) {
                return;
            }
            assert!(Instant::now() < deadline, "the peer's close never arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_closed_connection_is_replaced_and_a_reset_one_resends_the_last_batch() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = sink(listener.local_addr().unwrap().port());
        let ok = vec![Verdict::Delivered; 3];
        // A receiver that read everything, then closed: the next batch goes on a new
        // connection, and nothing is sent twice.
        assert_eq!(sink.send_batch(&batch("a")).await.unwrap(), ok);
        let (mut first, _) = listener.accept().await.unwrap();
        assert_eq!(frames(&mut first, 3).await, ["a-1", "a-2", "a-3"]);
        drop(first);
        until(&sink, |c| !c.open()).await;
        assert_eq!(sink.send_batch(&batch("b")).await.unwrap(), ok);
        let (mut second, _) = listener.accept().await.unwrap();
        assert_eq!(frames(&mut second, 3).await, ["b-1", "b-2", "b-3"]);
        // A receiver that closes with a confirmed batch unread: its kernel resets the
        // connection, and the batch is sent again before the next one.
        assert_eq!(sink.send_batch(&batch("c")).await.unwrap(), ok);
        drop(second);
        until(&sink, |c| c.was_reset()).await;
        assert_eq!(sink.send_batch(&batch("d")).await.unwrap(), ok);
        let (mut third, _) = listener.accept().await.unwrap();
        assert_eq!(
            frames(&mut third, 6).await,
            ["c-1", "c-2", "c-3", "d-1", "d-2", "d-3"]
        );
    }
}
