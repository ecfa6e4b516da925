//! Outputs: each reads the delivery log from its own position, sends batches of archived
//! events to its destination, and moves its position once the destination has acknowledged
//! them. One folder per destination (`elasticsearch/`, ...), each an [`Output`] (its settings,
//! its [`Sink`], its `doctor` check, its `setup`) listed once in the [`registry`]; what they
//! share lives beside them: the event handed to a sink and the verdicts it returns (`sink`),
//! what an output is once configured ([`output`]), batching and retries with position commits
//! (`shipper`), dead letters (`dead_letter`), configuration (`config`, and the `settings`
//! reader each output parses its own with) and `doctor`'s findings (`probe`).
//!
//! Guarantees: a crash redoes at most the batches in flight; a destination that deduplicates
//! by id (Elasticsearch with `create` and the event id as `_id`) sees each event once. An
//! output that is down never slows collection: the archive is the buffer.

pub mod config;
pub mod dead_letter;
pub mod elasticsearch;
pub mod email;
pub mod encode;
pub mod http;
pub mod http_client;
#[cfg(feature = "lake")]
pub mod lake;
pub mod logplex;
pub mod notify;
pub mod output;
pub mod pagerduty;
pub mod parts;
pub mod probe;
pub mod registry;
mod settings;
pub mod shipper;
mod sink;
pub mod slack;
pub mod splunk;
pub mod syslog;
pub mod teams;
pub mod webhook;

pub use config::ConfigError;
pub use output::{Linger, Output, OutputConfig, OutputKind};
pub use registry::register;
pub use shipper::{ErrorKind, LastError, ShipReport, Shipper};
pub use sink::{Event, OrgContext, Sink, SinkError, Verdict};

/// Builds the sink of an output for one org (through the output that read its settings).
pub fn sink(cfg: &OutputConfig, org: &OrgContext) -> Result<Box<dyn Sink>, SinkError> {
    cfg.sink(org)
}
