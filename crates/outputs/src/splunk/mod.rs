//! The Splunk HTTP Event Collector output: events go to `services/collector/event`, several
//! JSON envelopes per request, each with `time` from the event, `host`, `source`, `index` and
//! the `sourcetype` of the Splunk Add-on for Salesforce (`sfdc:logfile` for EventLogFile rows,
//! `sfdc:<object>` for objects: `sfdc:loginhistory`, `sfdc:setupaudittrail`...), so the
//! add-on's field extractions and dashboards apply. In `raw` format the event is the
//! Salesforce record itself, keyed by its own column or field names, as the add-on indexes it;
//! in `ecs` it is the ECS document. The event id, org id and dataset go in `fields`
//! (index-time fields), since HEC has no id of its own to deduplicate on.
//!
//! With `ack = true` every request carries the output's channel (`X-Splunk-Request-Channel`,
//! a random GUID per run) and the position moves only once `services/collector/ack` says the
//! request's `ackId` is indexed; an ack that does not come within `ack_timeout_secs` sends the
//! batch again (a repeat, never a loss). Without ack, a 200 counts. `hec` has the table of
//! answers.

pub mod config;
mod hec;
mod probe;

use std::time::Instant;

use ecs::line::ArchiveLine;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use serde::Serialize;
use serde_json::Value;

use self::config::SplunkConfig;
use crate::encode::{EncodeError, Encoder, Format, Meta};
use crate::http_client;
use crate::logplex::instance_host;
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::parts::{send_in_parts, Lines, Packing, Part};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};
use base::secret::{scrub, Secret};

/// The Splunk HEC output: `type = "splunk"`, `--to splunk+https://host:8088`.
pub struct Splunk;

impl Output for Splunk {
    type Config = SplunkConfig;

    fn names(&self) -> &'static [&'static str] {
        &["splunk"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        config::BATCH
    }
    fn parse(&self, url: &url::Url, s: &Settings) -> Result<SplunkConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &SplunkConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(SplunkSink::new(cfg, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a SplunkConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(probe::probe(c, out))
    }
}

/// The largest request body: HEC's `max_content_length` is 800 MB on Splunk Enterprise and
/// 1 MB on Splunk Cloud by default; a 413 splits a body larger than the server takes.
const MAX_BODY: usize = 8 << 20;

pub struct SplunkSink {
    name: String,
    client: reqwest::Client,
    cfg: SplunkConfig,
    encoder: Encoder,
    org: String,
    host: Option<String>,
    event_url: url::Url,
    ack_url: url::Url,
    channel: String,
    auth: Secret,
}

/// One HEC envelope, but its `event`, which is written after it from the line (see
/// [`SplunkSink::envelope`]).
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<serde_json::Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    source: &'a str,
    sourcetype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
}

/// Index-time fields: what a search needs to drop repeats and tell orgs apart.
#[derive(Serialize)]
struct Fields<'a> {
    event_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a str>,
    dataset: &'a str,
}

/// The Splunk Add-on for Salesforce's sourcetype for an event's source.
pub fn sourcetype(source: &str) -> String {
    if source == ecs::alert::SOURCE {
        // Not the add-on's: an alert is sfevents' own event.
        "sfevents:alert".into()
    } else if source == "EventLogFile" {
        "sfdc:logfile".into()
    } else {
        format!("sfdc:{}", source.to_ascii_lowercase())
    }
}

impl SplunkSink {
    pub fn new(
        cfg: &OutputConfig,
        c: &SplunkConfig,
        org: &OrgContext,
    ) -> Result<SplunkSink, SinkError> {
        let mut base = c.target.url.clone();
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let join = |p: &str| {
            base.join(p)
                .map_err(|e| SinkError::Fatal(format!("output {}: {p}: {e}", cfg.name)))
        };
        Ok(SplunkSink {
            name: cfg.name.clone(),
            client: c.target.client()?,
            encoder: Encoder::new(&cfg.name, c.format, org)?,
            org: org.org.clone(),
            host: c.host.clone().or_else(|| instance_host(&org.instance_url)),
            event_url: join("services/collector/event")?,
            ack_url: join("services/collector/ack")?,
            channel: uuid::Uuid::new_v4().to_string(),
            auth: Secret::new(format!("Splunk {}", c.token.expose())),
            cfg: c.clone(),
        })
    }

    /// Appends the event's envelope: `time`, `host`, `source`, `sourcetype`, `index`, `event`
    /// and `fields`, in that order. `event` is the record under the line's `fields` (`raw`) or
    /// the ECS document, copied or written without a tree.
    fn envelope(&self, event: &Event, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let meta = Meta::of(event);
        let source = match &self.cfg.source {
            Some(s) => s.clone(),
            None if meta.source == "EventLogFile" => format!("sfdc_event_log://{}", self.org),
            None if meta.source == ecs::alert::SOURCE => format!("sfevents://{}/alert", self.org),
            None => format!("sfdc_object://{}/{}", self.org, meta.source),
        };
        let sourcetype = self
            .cfg
            .sourcetype
            .clone()
            .unwrap_or_else(|| sourcetype(meta.source));
        let time = meta.time.and_then(|t| {
            // Seconds with milliseconds, the precision Salesforce gives.
            serde_json::Number::from_f64(t.timestamp_millis() as f64 / 1000.0)
        });
        let env = Envelope {
            time,
            host: self.host.as_deref(),
            source: &source,
            sourcetype: &sourcetype,
            index: self.cfg.index.as_deref(),
        };
        serde_json::to_writer(&mut *out, &env).map_err(EncodeError::Json)?;
        out.pop(); // the closing brace: `event` and `fields` follow
        out.extend_from_slice(b",\"event\":");
        match self.encoder.format() {
            // The record as Salesforce gave it, as the add-on indexes it.
            Format::Raw => match ArchiveLine::scan(event.line()) {
                Some(l) => out.extend_from_slice(l.fields.unwrap_or("null").as_bytes()),
                None => serde_json::to_writer(&mut *out, &event.value()["fields"])
                    .map_err(EncodeError::Json)?,
            },
            Format::Ecs => self.encoder.write(event, out)?,
        }
        out.extend_from_slice(b",\"fields\":");
        let fields = Fields {
            event_id: &event.id,
            org_id: meta.org_id,
            dataset: &meta.dataset,
        };
        serde_json::to_writer(&mut *out, &fields).map_err(EncodeError::Json)?;
        out.push(b'}');
        Ok(())
    }

    fn headers(&self) -> Result<HeaderMap, SinkError> {
        let mut h = HeaderMap::new();
        let mut auth = HeaderValue::from_str(self.auth.expose()).map_err(|_| {
            SinkError::Fatal(format!(
                "output {}: the HEC token is not a valid header value",
                self.name
            ))
        })?;
        auth.set_sensitive(true);
        h.insert(AUTHORIZATION, auth);
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(c) = HeaderValue::from_str(&self.channel) {
            h.insert("X-Splunk-Request-Channel", c);
        }
        Ok(h)
    }

    fn scrub(&self, t: &str) -> String {
        scrub(t, &[&self.cfg.token, &self.auth])
    }

    async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let mut verdicts: Vec<Option<Verdict>> = vec![None; events.len()];
        let lines = Lines::encode(events, &mut verdicts, |e, buf| self.envelope(e, buf));
        let dest = format!("output {} ({})", self.name, self.cfg.target.url);
        let packing = Packing::new(MAX_BODY, "the HEC request size");
        let sent = send_in_parts(&lines.lens(), &packing, |r| {
            let body = lines.slice(&r).to_vec();
            let n = r.len();
            let dest = &dest;
            Box::pin(async move { self.post(dest, body, n).await })
        })
        .await?;
        Ok(lines.settle(&mut verdicts, sent))
    }

    async fn post(&self, dest: &str, body: Vec<u8>, n: usize) -> Result<Part, SinkError> {
        let mut h = self.headers()?;
        let body = if self.cfg.gzip {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            http_client::gzip(&body)?
        } else {
            body
        };
        tracing::debug!(output = %self.name, events = n, bytes = body.len(), "HEC POST");
        let a =
            http_client::post(&self.client, &self.event_url, h, body, |t| self.scrub(t)).await?;
        let (part, ack_id) = hec::classify(dest, n, &a)?;
        match (self.cfg.ack, ack_id, part) {
            (true, Some(id), Part::Done(vs)) => Ok(Part::Done(match self.acknowledged(dest, id).await? {
                None => vs,
                Some(why) => vs
                    .into_iter()
                    .map(|v| match v {
                        Verdict::Delivered => Verdict::Retry(why.clone()),
                        other => other,
                    })
                    .collect(),
            })),
            (true, None, Part::Done(_)) if a.status.is_success() => Err(SinkError::Fatal(format!(
                "{dest}: ack = true but Splunk answered without an ackId: enable indexer acknowledgement on the token, or set ack = false"
            ))),
            (_, _, part) => Ok(part),
        }
    }

    /// Polls `services/collector/ack` until `id` is indexed. `Ok(None)`: acknowledged;
    /// `Ok(Some(why))`: not within `ack_timeout` (the events are sent again).
    async fn acknowledged(&self, dest: &str, id: u64) -> Result<Option<String>, SinkError> {
        let started = Instant::now();
        let body = serde_json::json!({ "acks": [id] }).to_string().into_bytes();
        let mut last = String::from("not yet indexed");
        loop {
            tokio::time::sleep(self.cfg.ack_interval).await;
            let h = self.headers()?;
            match http_client::post(&self.client, &self.ack_url, h, body.clone(), |t| {
                self.scrub(t)
            })
            .await
            {
                Ok(a) if a.status.is_success() => {
                    let v: Value = serde_json::from_slice(&a.body).unwrap_or_default();
                    if v["acks"][id.to_string()].as_bool() == Some(true) {
                        return Ok(None);
                    }
                }
                Ok(a) => {
                    let r = hec::reply(&a);
                    if r.code == Some(14) || matches!(a.status.as_u16(), 401 | 403 | 404) {
                        return Err(SinkError::Fatal(format!(
                            "{dest}: asking for acknowledgements failed ({} code {}: {}): enable indexer acknowledgement on the token, or set ack = false",
                            a.status,
                            r.code.unwrap_or(-1),
                            r.text
                        )));
                    }
                    last = format!("{} {}", a.status, r.text);
                }
                Err(SinkError::Fatal(m)) => return Err(SinkError::Fatal(m)),
                Err(e) => last = e.to_string(),
            }
            if started.elapsed() >= self.cfg.ack_timeout {
                tracing::warn!(output = %self.name, ack_id = id, "no acknowledgement within {} s: sending the events again", self.cfg.ack_timeout.as_secs());
                return Ok(Some(format!(
                    "Splunk did not acknowledge ackId {id} on channel {} within {} s ({last}): sent again",
                    self.channel,
                    self.cfg.ack_timeout.as_secs()
                )));
            }
        }
    }
}

impl Sink for SplunkSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_url;

    #[test]
    fn envelopes_carry_the_add_on_sourcetypes_and_the_record() {
        std::env::set_var(
            "SFEVENTS_TEST_HEC_TOKEN",
            "00000000-0000-0000-0000-000000000001",
        );
        let cfg = from_url(
            "splunk+https://splunk.example:8088?token_env=SFEVENTS_TEST_HEC_TOKEN&index=sfdc",
        )
        .unwrap();
        let c = cfg.kind.settings::<SplunkConfig>().unwrap();
        let org = OrgContext {
            org: "prod".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            state: None,
        };
        let sink = SplunkSink::new(&cfg, c, &org).unwrap();
        let e = Event::with_id(
            "abc-7".into(),
            serde_json::json!({"@timestamp": "2024-03-01T10:00:00.123Z", "id": "abc-7", "org_id": "00Dxx",
                "source": "EventLogFile", "event_type": "ApiTotalUsage", "fields": {"EVENT_TYPE": "ApiTotalUsage", "USER_ID": "005x"}}),
        );
        let mut out = Vec::new();
        sink.envelope(&e, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["time"], serde_json::json!(1709287200.123));
        assert_eq!(v["sourcetype"], "sfdc:logfile");
        assert_eq!(v["source"], "sfdc_event_log://prod");
        assert_eq!(v["host"], "acme.my.salesforce.com");
        assert_eq!(v["index"], "sfdc");
        assert_eq!(v["event"], e.value()["fields"]);
        assert_eq!(
            v["fields"],
            serde_json::json!({"event_id": "abc-7", "org_id": "00Dxx", "dataset": "api_total_usage"})
        );
        assert_eq!(sourcetype("LoginHistory"), "sfdc:loginhistory");
        assert_eq!(sourcetype("SetupAuditTrail"), "sfdc:setupaudittrail");
        assert!(!format!("{sink:?}", sink = sink.cfg).contains("0001"));
    }
}
