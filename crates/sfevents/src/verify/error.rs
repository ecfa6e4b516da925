//! Why a verify check could not run: the row it becomes says so (verdict `error`), and verify
//! goes on with the other checks.

use std::path::PathBuf;

use archive::state::StateError;
use salesforce::client::ApiError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum VerifyError {
    /// `state.db` exists but cannot be opened read-only.
    #[error("cannot open {} read-only: {}", path.display(), cause(source))]
    Open { path: PathBuf, source: StateError },
    /// A query of `state.db` failed (`state database: ...`).
    #[error(transparent)]
    State(#[from] StateError),
    /// An archived NDJSON file the ledger lists cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A line of an archived NDJSON file is not a record sfevents wrote.
    #[error("{path}: a line is not an archived record: {source}")]
    Record {
        path: String,
        source: serde_json::Error,
    },
    /// The blocking task that reads the archive failed.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// No cursor names the date field, and Salesforce's describe of the object failed.
    #[error("cannot describe {object}: {source}")]
    Describe { object: String, source: ApiError },
}

/// The open error's own cause: verify's message names the file itself, and reads
/// `cannot open <db> read-only: <cause>` as it always has.
fn cause(e: &StateError) -> String {
    match e {
        StateError::Open { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}
