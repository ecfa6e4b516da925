//! The leaves every sfevents crate stands on: secrets that never print, owner-only files, the
//! collector's clock and Salesforce's time formats, exit codes, error chains and the rule for
//! plain-HTTP URLs. Nothing here imports another sfevents crate, so nothing can circle back.

pub mod clock;
pub mod error;
pub mod exit;
pub mod fsmode;
pub mod http;
pub mod secret;
pub mod time;

pub use error::error_chain;
