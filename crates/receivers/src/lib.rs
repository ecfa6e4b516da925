//! Test receivers that follow the destinations' documented behaviour, so sfevents' outputs can
//! be tested end to end on a machine where the real products cannot be installed. They share no
//! code with sfevents.
//!
//! - [`elasticsearch`]: Elasticsearch and OpenSearch (`_bulk`, data streams, templates,
//!   lifecycle policies, authentication, injected faults).
//! - [`splunk`]: Splunk HTTP Event Collector (`/services/collector/event`, tokens, indexes,
//!   batched envelopes, HEC status codes, indexer acknowledgement).
//! - [`logplex`]: a Heroku Logplex HTTPS drain (`application/logplex-1` octet-counted frames,
//!   validated as strictly as Vector's `heroku_logs` source parses them, frame-id dedup).
//! - [`http`]: a plain HTTP receiver of newline-delimited logs, playing Sumo Logic's HTTP Logs
//!   source or a generic webhook (one log per line, gzip, a 1 MiB decoded limit).
//! - [`pagerduty`]: PagerDuty Events API v2 (`/v2/enqueue`, routing keys, validation, incidents
//!   deduplicated by `dedup_key`, a per-key rate limit).
//! - [`slack`]: Slack incoming webhooks (webhook paths, Block Kit limits, Slack's plain-string
//!   errors, a per-webhook rate limit with `Retry-After`).
//! - [`teams`]: a Microsoft Teams Workflows webhook (Adaptive Card messages, the `sig` query
//!   parameter, 28 KB, 4 requests per second).
//!
//! Every receiver serves HTTP or HTTPS (a generated CA, [`common::Error`] when it cannot
//! start), can be stopped and restarted on the same port, and takes injected faults at run time
//! through its handle or `POST /__receiver/faults`.

pub mod common;
pub mod elasticsearch;
pub mod http;
pub mod logplex;
pub mod pagerduty;
pub mod slack;
pub mod smtp;
pub mod splunk;
pub mod teams;
