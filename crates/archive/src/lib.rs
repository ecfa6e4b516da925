//! The local archive, everything sfevents keeps on disk: `output/` (raw CSV), `events/`
//! (NDJSON, from [`normalize`]), `state.db` ([`state`], the only module with SQL), field
//! [`redact`]ion and [`retention`]. Files are installed whole ([`Archive`], [`AtomicFile`]).

mod files;
pub mod lines;
pub mod normalize;
pub mod redact;
pub mod retention;
pub mod state;

pub use files::{Archive, AtomicFile, LockError};
