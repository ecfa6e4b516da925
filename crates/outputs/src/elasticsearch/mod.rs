//! The Elasticsearch / OpenSearch output: archive events become documents (`ecs` crate) and go
//! to the data streams `logs-salesforce.<dataset>-<namespace>` through `_bulk`, each a
//! `create` with the event id as `_id`, so that a redelivered event answers 409 and counts as
//! delivered.
//!
//! - `client`: HTTP, TLS, and what a refused request means; `auth`: the `Authorization`
//!   header; `cluster`: Elasticsearch or OpenSearch, and which version (`GET /`, once).
//! - `bulk`: request bodies and the classification of answers (the table is there).
//! - `setup`, `templates`: `sfevents setup elasticsearch` and what it installs.
//! - `geoip`: the MaxMind databases for `source.geo.*` / `source.as.*`.
//!
//! - `probe`: what `sfevents doctor` checks (`GET /`, the templates setup installs).
//!
//! Retry timing belongs to the shipper: [`ElasticsearchSink::send_batch`] sends each batch once,
//! as one body, except that a body refused as too large (413) is split in two and the halves
//! sent in turn (`parts::send_in_parts`, as the other HTTP outputs split theirs).

mod auth;
pub mod bulk;
pub mod client;
pub mod cluster;
pub mod config;
mod geoip;
mod probe;
pub mod setup;
pub mod templates;

use std::ops::Range;
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use reqwest::Method;
use tokio::sync::OnceCell;
use url::Url;

use self::bulk::{Body, Outcome};
use self::client::EsClient;
use self::cluster::{detect, Cluster, Flavor};
use self::config::{EsConfig, EsMode};
use crate::encode::EncodeError;
use crate::output::{Output, OutputConfig, SetupResult};
use crate::parts::{send_in_parts, Packing, Part};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

pub use self::setup::setup;

/// The Elasticsearch output: `type = "elasticsearch"` (or `"opensearch"`), `--to
/// elasticsearch+https://...` (or `opensearch+`).
pub struct Elasticsearch;

impl Output for Elasticsearch {
    type Config = EsConfig;

    fn names(&self) -> &'static [&'static str] {
        &["elasticsearch", "opensearch"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<EsConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &EsConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(ElasticsearchSink::new(cfg, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a EsConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(probe::probe(c, out))
    }
    fn setup<'a>(
        &'a self,
        cfg: &'a OutputConfig,
        c: &'a EsConfig,
    ) -> Option<BoxFuture<'a, SetupResult>> {
        Some(Box::pin(setup(cfg, c)))
    }
}

pub struct ElasticsearchSink {
    name: String,
    client: EsClient,
    /// The cluster's product and version, asked once (`GET /`) and then remembered; a failure
    /// is not remembered, so the next batch asks again.
    cluster: OnceCell<Cluster>,
    normalizer: ecs::Normalizer,
    /// The tree-free writer of `ecs` and `agent` documents of EventLogFile rows.
    lines: Mutex<ecs::LineEncoder>,
    mode: EsMode,
    gzip: bool,
}

impl ElasticsearchSink {
    /// Builds the sink; nothing is sent until the first batch.
    pub fn new(
        cfg: &OutputConfig,
        es: &EsConfig,
        org: &OrgContext,
    ) -> Result<ElasticsearchSink, SinkError> {
        let mut normalizer = ecs::Normalizer::new(ecs::Options {
            instance_url: org.instance_url.clone(),
            namespace: es.namespace.clone(),
            preserve_original: es.preserve_original_event,
            ..ecs::Options::default()
        })
        .map_err(|e| SinkError::Fatal(format!("output {}: {e}", cfg.name)))?;
        // In `agent` mode Elastic's pipelines run their own geoip for their five data streams
        // (the normalizer adds nothing there); the databases still serve the datasets that
        // fall back to `ecs`.
        if let Some(provider) = geoip::provider(&cfg.name, es)? {
            normalizer = normalizer.with_geoip(provider);
        }
        Ok(ElasticsearchSink {
            name: cfg.name.clone(),
            client: EsClient::new(es)?,
            cluster: OnceCell::new(),
            lines: Mutex::new(ecs::LineEncoder::new(normalizer.clone())),
            normalizer,
            mode: es.mode,
            gzip: es.gzip,
        })
    }

    /// Sends a batch: see [`Sink::send`] and the table in [`bulk`].
    pub async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let cluster = self
            .cluster
            .get_or_try_init(|| detect(&self.client))
            .await?;
        if self.mode == EsMode::Agent && cluster.flavor == Some(Flavor::OpenSearch) {
            return Err(SinkError::Fatal(format!(
                "output {}: mode = agent sends events for Elastic's Salesforce integration pipelines, which OpenSearch does not run: use mode = ecs",
                self.name
            )));
        }
        let mut verdicts: Vec<Option<Verdict>> = vec![None; events.len()];
        let body = self.documents(events, &mut verdicts);
        let lens: Vec<usize> = body.items.iter().map(|i| i.bytes.len()).collect();
        let on_split = |documents: usize, reason: &str| {
            tracing::info!(output = %self.name, documents, "{reason}: sending it in two halves");
        };
        // One body for the whole batch, halved on a 413 only. An error after a half went
        // through fails the batch: sent again, what arrived answers 409.
        let packing = Packing {
            max_bytes: usize::MAX,
            what: "",
            whole_batch: true,
            on_split: &on_split,
        };
        let sent = send_in_parts(&lens, &packing, |r| Box::pin(self.part(&body, r))).await?;
        for (item, v) in body.items.iter().zip(sent) {
            verdicts[item.event] = Some(v);
        }
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| Verdict::Retry("not answered".into())))
            .collect())
    }

    /// One `_bulk` request for items `range`, as a part of the batch: a 413 splits it, and
    /// a document refused with 413 alone is dead.
    async fn part(&self, body: &Body, range: Range<usize>) -> Result<Part, SinkError> {
        let first = body.items[range.start].bytes.len();
        let alone = range.len() == 1;
        Ok(match self.post(body, range).await? {
            Outcome::Items(vs) => Part::Done(vs),
            Outcome::TooLarge if alone => Part::Split(format!(
                "document too large: {first} bytes of NDJSON are refused with 413 by {} even alone (http.max_content_length, or a proxy's body limit)",
                self.client.base()
            )),
            Outcome::TooLarge => Part::Split("bulk body too large (413)".into()),
        })
    }

    /// Normalizes the events into one NDJSON buffer; an event that cannot be normalized gets
    /// its `Dead` verdict here and is not sent.
    fn documents(&self, events: &[Event], verdicts: &mut [Option<Verdict>]) -> Body {
        let mut body = Body::default();
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let mut doc = Vec::new();
        let mut last = Default::default();
        for (i, event) in events.iter().enumerate() {
            doc.clear();
            if self.mode == EsMode::Raw {
                let stream = self.raw_stream(event, &mut last);
                body.push_bytes(i, stream, &event.id, event.line().as_bytes());
                continue;
            }
            let written = match self.mode {
                EsMode::Agent => lines.agent(event.line(), &mut doc),
                _ => lines.ecs(event.line(), &mut doc),
            };
            if let Some(w) = written {
                body.push_bytes(i, w.data_stream, &event.id, &doc);
                continue;
            }
            // `agent` answers the ECS document for datasets Elastic's integration lacks; the
            // document's own data stream is right either way.
            let doc = match self.mode {
                EsMode::Agent => self.normalizer.agent(event.value()),
                _ => self.normalizer.ecs(event.value()),
            };
            let pushed = match doc {
                Ok(d) => body
                    .push(i, &d.data_stream, &d.id, &d.body)
                    .map_err(EncodeError::DocumentJson),
                Err(e) => Err(EncodeError::Document(e)),
            };
            if let Err(reason) = pushed {
                verdicts[i] = Some(Verdict::Dead(reason.to_string()));
            }
        }
        body
    }

    /// `raw` mode's data stream: the one the event's dataset has in the other modes.
    /// Kept per batch in `last`: (source, event type, data stream), since a batch is mostly
    /// one file's rows.
    fn raw_stream<'l>(&self, event: &Event, last: &'l mut (String, String, String)) -> &'l str {
        let key = ecs::line::ArchiveLine::routing(event.line());
        if let Some((source, kind)) = key {
            if last.0 == source && last.1 == kind {
                return &last.2;
            }
        }
        let meta = crate::encode::Meta::of(event);
        let stream = format!(
            "logs-salesforce.{}-{}",
            meta.dataset,
            self.normalizer.namespace()
        );
        // A line routing cannot read is kept under a key no line has (a NUL source).
        let (source, kind) = key.unwrap_or(("\0", ""));
        *last = (source.to_string(), kind.to_string(), stream);
        &last.2
    }

    /// One `_bulk` request for items `range`.
    async fn post(&self, body: &Body, range: Range<usize>) -> Result<Outcome, SinkError> {
        let bytes = bulk::encode(body.slice(range.clone()), self.gzip)?;
        let mut query = vec![("filter_path", bulk::FILTER_PATH)];
        // In `ecs` mode the documents are final: an ingest pipeline installed with Elastic's
        // integration (the data stream's `index.default_pipeline`) would map them a second
        // time. In `agent` mode that pipeline is the point, so no parameter.
        if self.mode != EsMode::Agent {
            query.push(("pipeline", "_none"));
        }
        tracing::debug!(
            output = %self.name,
            documents = range.len(),
            bytes = bytes.len(),
            "bulk request"
        );
        let answer = self
            .client
            .send(
                Method::POST,
                "_bulk",
                &query,
                Some((bytes, "application/x-ndjson", self.gzip)),
            )
            .await?;
        bulk::classify(&self.client, &answer, &body.items[range])
    }
}

impl Sink for ElasticsearchSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}
