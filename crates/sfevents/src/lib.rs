//! sfevents: gets a Salesforce org's event-monitoring data out of Salesforce before it
//! expires, into a local archive (raw CSV, NDJSON, SQLite state).
//!
//! Data flows one way: [`config`] -> [`auth`] -> a source plans units of work
//! ([`sources::event_log_file`]) -> [`client`] fetches (streamed, spooled) -> parse and
//! [`normalize`] -> [`archive`] -> [`state`] commits the unit's ledger row and cursor together.

pub mod archive;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod collect;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod fsmode;
pub mod logging;
pub mod metrics;
mod metrics_text;
pub mod normalize;
pub mod outputs;
pub mod progress;
pub mod redact;
pub mod report;
pub mod retention;
pub mod run;
pub mod secret;
pub mod ship;
pub mod sources;
pub mod state;
pub mod status;
pub mod verify;
