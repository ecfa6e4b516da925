//! The Salesforce side of sfevents: an org's [`config`], [`auth`] (every login flow), the REST
//! [`client`] (the only way API requests reach the org; token requests leave from `auth` on
//! the same HTTP client), and the [`sources`] that plan units of work (one EventLogFile, one
//! query window) and fetch them into the archive.

pub mod auth;
pub mod client;
pub mod config;
pub mod sources;
pub mod stream;
