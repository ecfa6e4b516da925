//! The plain HTTP output: batches of events as newline-delimited JSON, POSTed to one URL with
//! the configured headers, optionally gzipped, in bodies of at most `max_body_bytes` (Sumo
//! Logic's HTTP source takes 1 MB). For Sumo Logic, Datadog-style intakes and webhooks.
//!
//! Such destinations keep no event ids: a batch re-sent after a crash or a lost answer is
//! stored twice. Each event carries its id (`id` in `raw`, `salesforce.event_id` in `ecs`)
//! so searches can drop repeats.

pub mod config;
mod probe;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use url::Url;

use self::config::HttpConfig;
use crate::encode::Encoder;
use crate::http_client::{self, Answer};
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::parts::{send_in_parts, Lines, Packing};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};
use base::secret::{scrub, Secret};

/// The plain HTTP output: `type = "http"`, `--to http+https://...` or a bare `https://` URL.
pub struct Http;

impl Output for Http {
    type Config = HttpConfig;

    fn names(&self) -> &'static [&'static str] {
        &["http"]
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["https", "http"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        config::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<HttpConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &HttpConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(HttpSink::new(cfg, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a HttpConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(probe::probe(c, out))
    }
}

pub struct HttpSink {
    name: String,
    client: reqwest::Client,
    cfg: HttpConfig,
    encoder: Encoder,
    headers: HeaderMap,
}

impl HttpSink {
    pub fn new(
        cfg: &OutputConfig,
        c: &HttpConfig,
        org: &OrgContext,
    ) -> Result<HttpSink, SinkError> {
        let mut headers = HeaderMap::new();
        for (n, v) in &c.headers {
            let name = HeaderName::from_bytes(n.as_bytes())
                .map_err(|e| SinkError::Fatal(format!("output {}: header {n}: {e}", cfg.name)))?;
            let mut value = HeaderValue::from_str(v.expose())
                .map_err(|e| SinkError::Fatal(format!("output {}: header {n}: {e}", cfg.name)))?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let ctype = HeaderValue::from_str(&c.content_type)
            .map_err(|e| SinkError::Fatal(format!("output {}: content_type: {e}", cfg.name)))?;
        headers.insert(CONTENT_TYPE, ctype);
        if c.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(HttpSink {
            name: cfg.name.clone(),
            client: c.target.client()?,
            encoder: Encoder::new(&cfg.name, c.format, org)?,
            cfg: c.clone(),
            headers,
        })
    }

    fn scrub(&self, text: &str) -> String {
        let secrets: Vec<&Secret> = self.cfg.headers.iter().map(|(_, v)| v).collect();
        scrub(text, &secrets)
    }

    async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let mut verdicts: Vec<Option<Verdict>> = vec![None; events.len()];
        let lines = Lines::encode(events, &mut verdicts, |e, buf| {
            self.encoder.write(e, buf)?;
            buf.push(b'\n');
            Ok(())
        });
        let dest = format!("output {} ({})", self.name, self.cfg.target.url);
        let packing = Packing::new(self.cfg.max_body_bytes, "max_body_bytes");
        let sent = send_in_parts(&lines.lens(), &packing, |r| {
            let body = lines.slice(&r).to_vec();
            let n = r.len();
            let dest = &dest;
            Box::pin(async move {
                let a = self.post(body).await?;
                http_client::part(dest, n, &a)
            })
        })
        .await?;
        Ok(lines.settle(&mut verdicts, sent))
    }

    async fn post(&self, body: Vec<u8>) -> Result<Answer, SinkError> {
        let body = if self.cfg.gzip {
            http_client::gzip(&body)?
        } else {
            body
        };
        tracing::debug!(output = %self.name, bytes = body.len(), "POST");
        http_client::post(
            &self.client,
            &self.cfg.target.url,
            self.headers.clone(),
            body,
            |t| self.scrub(t),
        )
        .await
    }
}

impl Sink for HttpSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}
