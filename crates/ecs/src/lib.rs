//! Archive events to ECS documents, in the shape of Elastic's Salesforce integration.
//!
//! [`Normalizer::ecs`] maps an archive event (a line of sfevents' NDJSON) the way the
//! integration's ingest pipelines would: for the integration's five data streams (`login`,
//! `logout`, `apex`, `setupaudittrail`, `aura_request`) field for field, and for every other
//! EventLogFile type or object with one generic rule set (see `README.md`).
//! [`Normalizer::agent`] instead builds what Filebeat's `salesforce` input sends, for
//! Elasticsearch clusters that have the integration's pipelines installed.
//!
//! ```
//! use ecs::{Mode, Normalizer, Options};
//! let n = Normalizer::new(Options {
//!     instance_url: "https://acme.my.salesforce.com".into(),
//!     ..Options::default()
//! })?;
//! let event = serde_json::json!({
//!     "@timestamp": "2024-01-01T01:02:03.400Z", "id": "4f1c", "org_id": "00D000000000001AAA",
//!     "source": "EventLogFile", "event_type": "ApiTotalUsage",
//!     "fields": {"EVENT_TYPE": "ApiTotalUsage", "USER_ID": "005000000000001",
//!                "CLIENT_IP": "10.0.0.1", "ROWS": "12"}});
//! let doc = n.ecs(&event)?;
//! assert_eq!(doc.data_stream, "logs-salesforce.api_total_usage-default");
//! assert_eq!(doc.body["salesforce"]["api_total_usage"]["rows"], 12);
//! assert_eq!(n.agent(&event)?.mode, Mode::Ecs); // the integration has no such data stream
//! # Ok::<(), ecs::EcsError>(())
//! ```

mod agent;
pub mod alert;
mod apex;
mod aura_request;
mod body;
mod convert;
pub mod corpus;
mod event;
mod fast;
mod generic;
mod geoip;
mod ingest;
pub mod json_check;
pub mod line;
mod login;
mod logout;
mod setup_audit_trail;
mod uri;
mod useragent;

use std::sync::Arc;

use serde_json::Value;

pub use convert::{elf_timestamp, snake_case};
pub use fast::{LineEncoder, Written};
pub use geoip::{DatabaseKind, GeoIp, GeoIpError, MaxMindGeoIp};

use body::Body;
use event::{ArchiveEvent, Provider};
use ingest::Ctx;

/// The integration's data streams (`salesforce.<name>` datasets).
pub const ELASTIC_DATASETS: &[&str] =
    &["login", "logout", "apex", "setupaudittrail", "aura_request"];

/// Fields that [`Normalizer::ecs`] adds around what Elastic's pipelines produce: the ones
/// Elastic Agent adds to every event (`data_stream.*`, `event.dataset`), the integration's
/// `add_fields` processor (`salesforce.instance_url`), and this crate's provenance
/// (`salesforce.org_id`: the org's 18-character id; `salesforce.event_id`: the archive's event
/// id, also the document's `_id`). Pipeline test fixtures show none of them.
pub const ENVELOPE_FIELDS: &[&str] = &[
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
    "event.dataset",
    "salesforce.instance_url",
    "salesforce.org_id",
    "salesforce.event_id",
];

/// What the caller knows about the collection.
#[derive(Debug, Clone)]
pub struct Options {
    /// The org's URL, e.g. `https://acme.my.salesforce.com` (`salesforce.instance_url`, which the
    /// integration's dashboards filter on). Left out when empty.
    pub instance_url: String,
    /// The data stream namespace (`default`).
    pub namespace: String,
    /// Keep the record in `event.original`, with the tag `preserve_original_event`, as the
    /// integration's "Preserve original event" setting does.
    pub preserve_original: bool,
    /// More tags, after `preserve_original_event` (the integration's `tags` setting).
    pub tags: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            instance_url: String::new(),
            namespace: "default".into(),
            preserve_original: false,
            tags: Vec::new(),
        }
    }
}

/// Which shape a document has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Mapped here, ready to index with no pipeline.
    Ecs,
    /// Filebeat's shape, for the integration's ingest pipeline to map.
    Agent,
}

/// A document for Elasticsearch or OpenSearch.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The document `_id`: the archive's event id, so a re-sent event overwrites itself.
    pub id: String,
    /// The target data stream, `logs-salesforce.<dataset>-<namespace>`.
    pub data_stream: String,
    /// `salesforce.<dataset>`.
    pub dataset: String,
    /// The document `_source`.
    pub body: Value,
    /// The shape of `body`. [`Normalizer::agent`] answers [`Mode::Ecs`] for datasets the
    /// integration does not have, since no pipeline would map them.
    pub mode: Mode,
}

/// Why an archive event could not be turned into a document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EcsError {
    #[error("the archive event is not a JSON object")]
    NotAnObject,
    #[error("the archive event has no `{0}`")]
    MissingField(&'static str),
    #[error("the archive event's `{field}` is {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    #[error("invalid data stream namespace {0:?}: lower case, at most 100 bytes, none of \\ / * ? \" < > | , # : - or spaces")]
    InvalidNamespace(String),
}

/// The data stream an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stream {
    Login,
    Logout,
    Apex,
    SetupAuditTrail,
    AuraRequest,
    /// Alerts sfevents raised.
    Alert,
    Generic(String),
}

impl Stream {
    fn of(provider: Provider, kind: &str) -> Stream {
        match (provider, kind) {
            (Provider::EventLogFile, "Login") | (Provider::Object, "LoginEvent") => Stream::Login,
            (Provider::EventLogFile, "Logout") | (Provider::Object, "LogoutEvent") => {
                Stream::Logout
            }
            (Provider::EventLogFile, t) if apex::EVENT_TYPES.contains(&t) => Stream::Apex,
            (Provider::Object, "SetupAuditTrail") => Stream::SetupAuditTrail,
            (Provider::Object, alert::SOURCE) => Stream::Alert,
            (Provider::EventLogFile, "AuraRequest") | (Provider::Object, "AuraRequestEventLog") => {
                Stream::AuraRequest
            }
            (p, k) => {
                let mut name = snake_case(k);
                // Never share a data stream (and its mappings) with the integration's own.
                if ELASTIC_DATASETS.contains(&name.as_str()) {
                    name = format!("{name}_{}", snake_case(p.as_str()));
                }
                Stream::Generic(name)
            }
        }
    }

    fn dataset(&self) -> &str {
        match self {
            Stream::Login => "login",
            Stream::Logout => "logout",
            Stream::Apex => "apex",
            Stream::SetupAuditTrail => "setupaudittrail",
            Stream::AuraRequest => "aura_request",
            Stream::Alert => "alert",
            Stream::Generic(name) => name,
        }
    }
}

/// The dataset (without `salesforce.`) for an archive `source` and, for EventLogFile, its
/// event type: `login` for Login rows and LoginEvent, `api_total_usage` for ApiTotalUsage.
pub fn dataset_for(source: &str, event_type: Option<&str>) -> String {
    let (provider, kind) = if source == "EventLogFile" {
        (Provider::EventLogFile, event_type.unwrap_or(source))
    } else {
        (Provider::Object, source)
    };
    Stream::of(provider, kind).dataset().to_string()
}

/// Turns archive events into documents.
#[derive(Clone)]
pub struct Normalizer {
    opts: Options,
    geoip: Option<Arc<dyn GeoIp>>,
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalizer")
            .field("opts", &self.opts)
            .field("geoip", &self.geoip.is_some())
            .finish()
    }
}

impl Normalizer {
    /// Checks the namespace against the data stream naming rules (Fleet's): Elasticsearch
    /// would refuse to create `logs-salesforce.login-Bad-Name`.
    pub fn new(opts: Options) -> Result<Normalizer, EcsError> {
        let ns = &opts.namespace;
        let bad = |c: char| "\\/*?\"<>|,#:- ".contains(c) || c.is_uppercase() || c.is_whitespace();
        if ns.is_empty() || ns.len() > 100 || ns.chars().any(bad) {
            return Err(EcsError::InvalidNamespace(ns.clone()));
        }
        Ok(Normalizer { opts, geoip: None })
    }

    /// Adds GeoIP enrichment where Elastic's pipelines run the `geoip` processor (see
    /// [`GeoIp`]; [`MaxMindGeoIp`] reads MaxMind City and ASN databases).
    pub fn with_geoip(mut self, provider: Arc<dyn GeoIp>) -> Normalizer {
        self.geoip = Some(provider);
        self
    }

    /// The data stream namespace.
    pub fn namespace(&self) -> &str {
        &self.opts.namespace
    }

    /// The document in the chosen shape.
    pub fn normalize(&self, event: &Value, mode: Mode) -> Result<Doc, EcsError> {
        match mode {
            Mode::Ecs => self.ecs(event),
            Mode::Agent => self.agent(event),
        }
    }

    /// The ECS document: what Elastic's pipeline makes of the record, plus the envelope
    /// ([`ENVELOPE_FIELDS`]).
    pub fn ecs(&self, event: &Value) -> Result<Doc, EcsError> {
        let ev = ArchiveEvent::parse(event)?;
        let stream = Stream::of(ev.provider, ev.kind);
        let mut b = Body::new();
        // What the Beat event carries before any pipeline runs.
        b.set_opt("@timestamp", archive_timestamp(&ev));
        b.set("event.provider", ev.provider.as_str());
        self.tags(&mut b);
        // The aura_request pipeline always keeps the original; the others on request.
        if self.opts.preserve_original || stream == Stream::AuraRequest {
            b.set("event.original", original(&ev));
        }
        let cx = Ctx {
            ev: &ev,
            rec: ev.record,
            geoip: self.geoip.as_deref(),
        };
        match &stream {
            Stream::Login => login::map(&cx, &mut b),
            Stream::Logout => logout::map(&cx, &mut b),
            Stream::Apex => apex::map(&cx, &mut b),
            Stream::SetupAuditTrail => setup_audit_trail::map(&cx, &mut b),
            Stream::AuraRequest => aura_request::map(&cx, &mut b),
            Stream::Alert => alert::map(&cx, &mut b),
            Stream::Generic(ds) => generic::map(&cx, ds, &mut b),
        }
        // The ECS version the integration's pipelines declare; the generic mapping follows it.
        b.set("ecs.version", "8.11.0");
        b.drop_empty();
        if !b.has("@timestamp") {
            return Err(EcsError::MissingField("@timestamp"));
        }
        self.envelope(&mut b, &ev, stream.dataset());
        Ok(self.doc(&ev, &stream, b, Mode::Ecs))
    }

    /// Filebeat's event, for the integration's pipeline; for a dataset the integration does
    /// not have, the ECS document ([`Doc::mode`] says which).
    pub fn agent(&self, event: &Value) -> Result<Doc, EcsError> {
        let ev = ArchiveEvent::parse(event)?;
        let stream = Stream::of(ev.provider, ev.kind);
        if matches!(stream, Stream::Generic(_) | Stream::Alert) {
            return self.ecs(event);
        }
        let mut b = Body::new();
        // Filebeat stamps the collection time; the event's own time is a better fallback for
        // a document the pipeline fails on, and the pipeline replaces it anyway.
        b.set_opt("@timestamp", archive_timestamp(&ev));
        b.set("message", agent::message(&ev));
        b.set("event.provider", ev.provider.as_str());
        b.set("input.type", "salesforce");
        self.tags(&mut b);
        b.drop_empty();
        self.envelope(&mut b, &ev, stream.dataset());
        Ok(self.doc(&ev, &stream, b, Mode::Agent))
    }

    fn tags(&self, b: &mut Body) {
        if self.opts.preserve_original {
            b.append_unique("tags", "preserve_original_event");
        }
        for t in &self.opts.tags {
            b.append_unique("tags", t.as_str());
        }
    }

    fn envelope(&self, b: &mut Body, ev: &ArchiveEvent, dataset: &str) {
        let full = format!("salesforce.{dataset}");
        b.set("data_stream.type", "logs");
        b.set("data_stream.dataset", full.as_str());
        b.set("data_stream.namespace", self.opts.namespace.as_str());
        if !b.has("event.dataset") {
            b.set("event.dataset", full.as_str());
        }
        if !self.opts.instance_url.is_empty() {
            b.set("salesforce.instance_url", self.opts.instance_url.as_str());
        }
        b.set_opt("salesforce.org_id", ev.org_id);
        b.set("salesforce.event_id", ev.id);
    }

    fn doc(&self, ev: &ArchiveEvent, stream: &Stream, b: Body, mode: Mode) -> Doc {
        let dataset = format!("salesforce.{}", stream.dataset());
        Doc {
            id: ev.id.to_string(),
            data_stream: format!("logs-{dataset}-{}", self.opts.namespace),
            dataset,
            body: b.finish(),
            mode,
        }
    }
}

/// The archive's `@timestamp`, written as Elasticsearch writes dates.
fn archive_timestamp(ev: &ArchiveEvent) -> Option<String> {
    convert::iso8601(ev.timestamp?).map(|t| convert::format_utc(&t))
}

/// `event.original`: the record as collected (the archive's fields, in their order, with
/// every field the API or the CSV gave), as compact JSON.
fn original(ev: &ArchiveEvent) -> String {
    // Serialising a map of JSON values cannot fail (its keys are strings).
    serde_json::to_string(ev.record.map()).unwrap_or_default()
}
