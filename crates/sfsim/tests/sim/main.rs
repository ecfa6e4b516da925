//! End-to-end tests of the simulator over HTTP with reqwest.

mod common;
mod download;
mod events;
mod faults;
mod oauth;
mod query;
mod scenarios;
mod tls;
