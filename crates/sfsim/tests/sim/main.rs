//! End-to-end tests of the simulator over HTTP with reqwest.

mod common;
mod download;
mod faults;
mod oauth;
mod query;
mod tls;
