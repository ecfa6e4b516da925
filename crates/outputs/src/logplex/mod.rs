//! The log drain output: Heroku's HTTPS drain format (`application/logplex-1`, Heroku's
//! `doc/README.http_drains.md`), which Logplex-compatible receivers (Vector's `heroku_logs`
//! source, log add-ons) read.
//!
//! A request's body is `Logplex-Msg-Count` octet-counted frames, `<len> <syslog message>\n`,
//! where `len` counts the message and its LF, as Heroku's own drains do. Messages are RFC 5424
//! without structured data (Logplex puts none, not even `-`), single-line (the event is one
//! line of JSON), with the dataset as MSGID; Vector splits each line into eight fields, so
//! none of the header fields may hold a space.
//!
//! `Logplex-Frame-Id` is a hash of the batch's event ids: a batch sent again (after a lost
//! answer, a 503 or a crash) carries the same id, so a receiver that drops repeated frame ids
//! stores it once. No other field deduplicates.

pub mod config;
mod probe;

use chrono::Utc;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use sha2::{Digest, Sha256};

use self::config::LogplexConfig;
use crate::encode::{EncodeError, Encoder, Meta};
use crate::http_client;
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::parts::{send_in_parts, Lines, Packing};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};
use base::secret::{scrub, Secret};

/// The log drain output: `type = "logplex"`, `--to logplex+https://...`.
pub struct Logplex;

impl Output for Logplex {
    type Config = LogplexConfig;

    fn names(&self) -> &'static [&'static str] {
        &["logplex"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        config::BATCH
    }
    fn parse(&self, url: &url::Url, s: &Settings) -> Result<LogplexConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &LogplexConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(LogplexSink::new(cfg, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a LogplexConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(probe::probe(c, out))
    }
}

/// Heroku's drains use `local7` (facility 23) for application logs.
const FACILITY: u8 = 23;
/// `info`, and `notice` for failed logins and setup changes.
const INFO: u8 = 6;
const NOTICE: u8 = 5;

/// The most bytes of one request body (Logplex sends small batches; receivers such as Vector
/// take a few MB).
const MAX_BODY: usize = 4 << 20;

pub struct LogplexSink {
    name: String,
    client: reqwest::Client,
    cfg: LogplexConfig,
    encoder: Encoder,
    hostname: String,
    auth: Option<Secret>,
}

impl LogplexSink {
    pub fn new(
        cfg: &OutputConfig,
        c: &LogplexConfig,
        org: &OrgContext,
    ) -> Result<LogplexSink, SinkError> {
        let auth = c.basic_auth();
        Ok(LogplexSink {
            name: cfg.name.clone(),
            client: c.target.client()?,
            encoder: Encoder::new(&cfg.name, c.format, org)?,
            hostname: c
                .hostname
                .clone()
                .or_else(|| instance_host(&org.instance_url))
                .unwrap_or_else(|| "-".into()),
            cfg: c.clone(),
            auth,
        })
    }

    /// Appends one frame: `<len> <PRI>1 TIMESTAMP HOST APP - MSGID MSG\n`.
    fn frame(&self, event: &Event, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let meta = Meta::of(event);
        let severity = if meta.is_notable(event) { NOTICE } else { INFO };
        let time = meta.time.unwrap_or_else(Utc::now);
        let mut msg = format!(
            "<{}>1 {} {} {} - {} ",
            FACILITY * 8 + severity,
            time.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            self.hostname,
            self.cfg.app_name,
            msgid(&meta.dataset),
        )
        .into_bytes();
        self.encoder.write(event, &mut msg)?;
        msg.push(b'\n');
        out.extend_from_slice(msg.len().to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&msg);
        Ok(())
    }

    async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let mut verdicts: Vec<Option<Verdict>> = vec![None; events.len()];
        let lines = Lines::encode(events, &mut verdicts, |e, buf| self.frame(e, buf));
        let dest = format!("output {} ({})", self.name, self.cfg.target.url);
        let packing = Packing::new(MAX_BODY, "a log drain request");
        let sent = send_in_parts(&lines.lens(), &packing, |r| {
            let body = lines.slice(&r).to_vec();
            let ids: Vec<&str> = r
                .clone()
                .map(|i| events[lines.events[i]].id.as_str())
                .collect();
            let frame_id = frame_id(&ids);
            let n = r.len();
            let dest = &dest;
            Box::pin(async move {
                let a = self.post(body, n, &frame_id).await?;
                http_client::part(dest, n, &a)
            })
        })
        .await?;
        Ok(lines.settle(&mut verdicts, sent))
    }

    async fn post(
        &self,
        body: Vec<u8>,
        count: usize,
        frame_id: &str,
    ) -> Result<http_client::Answer, SinkError> {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/logplex-1"),
        );
        h.insert("Logplex-Msg-Count", HeaderValue::from(count));
        let header = |v: &str| {
            HeaderValue::from_str(v)
                .map_err(|e| SinkError::Fatal(format!("output {}: {e}", self.name)))
        };
        h.insert("Logplex-Frame-Id", header(frame_id)?);
        if let Some(t) = &self.cfg.drain_token {
            h.insert("Logplex-Drain-Token", header(t)?);
        }
        if let Some(a) = &self.auth {
            let mut v = header(a.expose())?;
            v.set_sensitive(true);
            h.insert(AUTHORIZATION, v);
        }
        tracing::debug!(output = %self.name, messages = count, frame_id, "logplex POST");
        let secrets: Vec<&Secret> = self.cfg.password.iter().chain(&self.auth).collect();
        http_client::post(&self.client, &self.cfg.target.url, h, body, |t| {
            scrub(t, &secrets)
        })
        .await
    }
}

/// The host of the org's instance URL.
pub(crate) fn instance_host(instance_url: &str) -> Option<String> {
    url::Url::parse(instance_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

/// MSGID: the dataset, printable ASCII, at most 32 characters (RFC 5424 6.2.7).
fn msgid(dataset: &str) -> String {
    let m: String = dataset
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(32)
        .collect();
    if m.is_empty() {
        "-".into()
    } else {
        m
    }
}

/// The same for the same events, so a batch sent again is recognisable.
fn frame_id(ids: &[&str]) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

impl Sink for LogplexSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_url;

    #[test]
    fn frames_are_octet_counted_single_lines_without_structured_data() {
        let cfg = from_url("logplex+https://drain.example/logs?hostname=acme").unwrap();
        let c = cfg.kind.settings::<LogplexConfig>().unwrap();
        let org = OrgContext {
            org: "o".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            state: None,
        };
        let sink = LogplexSink::new(&cfg, c, &org).unwrap();
        let e = Event::with_id(
            "abc-1".into(),
            serde_json::json!({"@timestamp": "2024-03-01T10:00:00.5Z", "id": "abc-1",
                "source": "SetupAuditTrail", "fields": {"Display": "line1\nline2 ]\"é"}}),
        );
        let mut out = Vec::new();
        sink.frame(&e, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (len, msg) = text.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), msg.len());
        assert!(
            msg.ends_with('\n') && msg.matches('\n').count() == 1,
            "{msg}"
        );
        assert!(
            msg.starts_with("<189>1 2024-03-01T10:00:00.500000Z acme sfevents - setupaudittrail {"),
            "{msg}"
        );
        let json: serde_json::Value =
            serde_json::from_str(msg.splitn(7, ' ').last().unwrap()).unwrap();
        assert_eq!(json, *e.value());
        assert_eq!(frame_id(&["a", "b"]), frame_id(&["a", "b"]));
        assert_ne!(frame_id(&["a", "b"]), frame_id(&["ab"]));
    }
}
