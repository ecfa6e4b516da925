//! Outputs: each reads the delivery log from its own position, sends batches of archived
//! events to its destination, and moves its position once the destination has acknowledged
//! them. One folder per destination (`elasticsearch/`, ...), each an [`Output`] (its settings,
//! its [`Sink`], its `doctor` check, its `setup`) listed once in the [`registry`]; what they
//! share lives here: the event handed to a sink, the verdicts it returns, batching and retries
//! with position commits (`shipper`), dead letters (`dead_letter`), configuration (`config`)
//! and `doctor`'s findings (`probe`).
//!
//! Guarantees: a crash redoes at most the batches in flight; a destination that deduplicates
//! by id (Elasticsearch with `create` and the event id as `_id`) sees each event once. An
//! output that is down never slows collection: the archive is the buffer.

pub mod config;
pub mod dead_letter;
pub mod elasticsearch;
pub mod encode;
pub mod http;
pub mod http_client;
pub mod logplex;
pub mod parts;
pub mod probe;
pub mod registry;
pub mod shipper;
pub mod splunk;
pub mod syslog;

use futures_util::future::BoxFuture;

pub use config::{ConfigError, OutputConfig, OutputKind};
pub use registry::{register, Output};
pub use shipper::{ErrorKind, LastError, ShipReport, Shipper};

/// One archived event, as read from the archive's NDJSON.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event id (the document id at destinations that deduplicate).
    pub id: String,
    /// The archive line, parsed.
    pub value: serde_json::Value,
}

/// What the destination did with one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged.
    Delivered,
    /// Already there (a redo after a crash, or a replay): counts as delivered.
    Duplicate,
    /// Refused for now (overloaded, unavailable): send it again later.
    Retry(String),
    /// Refused for good (a mapping error, an oversized document): dead-letter it.
    Dead(String),
}

/// A whole batch failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    /// Connection refused or cut, 429, 5xx: try the batch again later.
    #[error("{0}")]
    Transient(String),
    /// The same, with the destination's `Retry-After`: not before `after`.
    #[error("{message}")]
    Throttled {
        message: String,
        after: std::time::Duration,
    },
    /// Credentials refused, no such destination, ...: retrying cannot help.
    #[error("{0}")]
    Fatal(String),
}

/// A destination.
pub trait Sink: Send + Sync {
    /// Sends a batch and returns one verdict per event, in order.
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>>;
}

/// Where and with what an output runs for one org's archive.
#[derive(Debug, Clone)]
pub struct OrgContext {
    /// The org's name in state.db.
    pub org: String,
    /// The Salesforce instance the events came from (`salesforce.instance_url`).
    pub instance_url: String,
}

/// Builds the sink of an output for one org (through the output that read its settings).
pub fn sink(cfg: &OutputConfig, org: &OrgContext) -> Result<Box<dyn Sink>, SinkError> {
    cfg.sink(org)
}
