//! The sfevents binary's commands, over the library crates that do the work: `salesforce`
//! (config, auth, client, sources), `archive` (files, normalization, state.db), `outputs`
//! (the shipper and its destinations), `reports` and `ecs`. Data flows one way: config ->
//! auth -> a source plans units of work -> fetch -> normalize -> archive -> state.db commits
//! the ledger, cursor and delivery log together ([`collect`]); [`ship`] then delivers the log
//! to each output. docs/ARCHITECTURE.md draws the whole house.

pub mod archives;
pub mod cli;
pub mod collect;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod detect;
pub mod doctor;
pub mod logging;
pub mod metrics;
pub mod progress;
pub mod run;
pub mod ship;
pub mod status;
pub mod verify;
