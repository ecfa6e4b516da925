//! What a destination is handed and what it answers: the [`Event`]s of a batch, the
//! [`Verdict`] on each, the [`SinkError`] of a whole batch, and the org an output runs for
//! ([`OrgContext`]). Every output's sink, the shipper and the shared parts take these.

use futures_util::future::BoxFuture;

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
