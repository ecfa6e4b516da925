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
//! Retry timing belongs to the shipper: [`ElasticsearchSink::send_batch`] sends each batch once,
//! except that a body refused as too large (413) is split in two and the halves sent in turn.

mod auth;
pub mod bulk;
pub mod client;
pub mod cluster;
pub mod config;
mod geoip;
pub mod setup;
pub mod templates;

use futures_util::future::BoxFuture;
use reqwest::Method;

use self::bulk::{Body, Outcome};
use self::client::EsClient;
use self::cluster::Flavor;
use super::config::{EsConfig, EsMode, OutputConfig};
use super::{Event, OrgContext, Sink, SinkError, Verdict};

pub use self::setup::setup;

pub struct ElasticsearchSink {
    name: String,
    client: EsClient,
    normalizer: ecs::Normalizer,
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
            normalizer,
            mode: es.mode,
            gzip: es.gzip,
        })
    }

    /// Sends a batch: see [`Sink::send`] and the table in [`bulk`].
    pub async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let cluster = self.client.cluster().await?;
        if self.mode == EsMode::Agent && cluster.flavor == Some(Flavor::OpenSearch) {
            return Err(SinkError::Fatal(format!(
                "output {}: mode = agent sends events for Elastic's Salesforce integration pipelines, which OpenSearch does not run: use mode = ecs",
                self.name
            )));
        }
        let mut verdicts: Vec<Option<Verdict>> = vec![None; events.len()];
        let body = self.documents(events, &mut verdicts);
        // Ranges of items still to send; a 413 replaces a range by its two halves, first half
        // on top, so documents go in their batch order.
        let mut todo: Vec<std::ops::Range<usize>> = Vec::with_capacity(8);
        todo.push(0..body.items.len());
        while let Some(range) = todo.pop() {
            if range.is_empty() {
                continue;
            }
            match self.post(&body, range.clone()).await? {
                Outcome::Items(vs) => {
                    for (item, v) in body.items[range].iter().zip(vs) {
                        verdicts[item.event] = Some(v);
                    }
                }
                Outcome::TooLarge if range.len() == 1 => {
                    let item = &body.items[range.start];
                    verdicts[item.event] = Some(Verdict::Dead(format!(
                        "document too large: {} bytes of NDJSON are refused with 413 by {} even alone (http.max_content_length, or a proxy's body limit)",
                        item.bytes.len(),
                        self.client.base()
                    )));
                }
                Outcome::TooLarge => {
                    tracing::info!(
                        output = %self.name,
                        documents = range.len(),
                        "bulk body too large (413): sending it in two halves"
                    );
                    let mid = range.start + range.len() / 2;
                    todo.push(mid..range.end);
                    todo.push(range.start..mid);
                }
            }
        }
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| Verdict::Retry("not answered".into())))
            .collect())
    }

    /// Normalizes the events into one NDJSON buffer; an event that cannot be normalized gets
    /// its `Dead` verdict here and is not sent.
    fn documents(&self, events: &[Event], verdicts: &mut [Option<Verdict>]) -> Body {
        let mut body = Body::default();
        for (i, event) in events.iter().enumerate() {
            // `agent` answers the ECS document for datasets Elastic's integration lacks; the
            // document's own data stream is right either way.
            let doc = match self.mode {
                EsMode::Ecs => self.normalizer.ecs(&event.value),
                EsMode::Agent => self.normalizer.agent(&event.value),
            };
            let pushed = match doc {
                Ok(d) => body
                    .push(i, &d.data_stream, &d.id, &d.body)
                    .map_err(|e| format!("cannot write the document as JSON: {e}")),
                Err(e) => Err(format!("cannot make a document of the event: {e}")),
            };
            if let Err(reason) = pushed {
                verdicts[i] = Some(Verdict::Dead(reason));
            }
        }
        body
    }

    /// One `_bulk` request for items `range`.
    async fn post(&self, body: &Body, range: std::ops::Range<usize>) -> Result<Outcome, SinkError> {
        let bytes = bulk::encode(body.slice(range.clone()), self.gzip)?;
        let mut query = vec![("filter_path", bulk::FILTER_PATH)];
        // In `ecs` mode the documents are final: an ingest pipeline installed with Elastic's
        // integration (the data stream's `index.default_pipeline`) would map them a second
        // time. In `agent` mode that pipeline is the point, so no parameter.
        if self.mode == EsMode::Ecs {
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
