//! What a shipping pass reports, and why it stopped when it stopped early.

use std::fmt;
use std::path::PathBuf;

use archive::state::StateError;

/// What one shipping pass did.
#[derive(Debug, Clone, Default)]
pub struct ShipReport {
    pub output: String,
    /// Acknowledged by the destination.
    pub delivered: u64,
    /// Already at the destination (counted in `delivered` too).
    pub duplicates: u64,
    pub dead: u64,
    /// Events sent again after a refusal for now.
    pub retried: u64,
    /// Events left to deliver when the pass ended.
    pub remaining: u64,
    /// Events a previous process had in flight when it stopped: the destination may hold
    /// them twice (unless it deduplicates by id).
    pub repeats: u64,
    /// A notifier's alerts held back by `suppress_minutes`, and those its `min_level` or
    /// `rules` do not take (neither counted in `delivered`).
    pub suppressed: u64,
    pub skipped: u64,
    /// Why the pass stopped before the end of the log.
    pub error: Option<LastError>,
}

impl ShipReport {
    /// A pass of `output` that could not start.
    pub fn failed(output: &str, kind: ErrorKind, message: impl Into<String>) -> ShipReport {
        ShipReport {
            output: output.to_string(),
            error: Some(LastError::new(kind, message)),
            ..ShipReport::default()
        }
    }
}

/// Why a pass stopped: which kind of fault, and the message `status`, the logs and the
/// terminal show (its `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    pub kind: ErrorKind,
    pub message: String,
}

impl LastError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> LastError {
        LastError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for LastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The kinds of fault that stop a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The pass could not start: the output's lock, its sink, the selection of the log.
    Start,
    /// state.db could not be read or written.
    State,
    /// The archive could not be read (a file the delivery log lists).
    Archive,
    /// The destination refused for good (credentials, no such destination, ...).
    Refused,
    /// The destination refused for now through every attempt the pass makes.
    Unavailable,
    /// The output answered something that makes no sense (as many verdicts as events, not).
    Protocol,
    /// The dead letters could not be written.
    DeadLetters,
}

/// What stops a pass, as the shipper meets it. A variant that wraps another error prints it
/// in its own message and does not give it as its `source`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShipError {
    #[error("{0}")]
    State(StateError),
    #[error("cannot read {} (listed in the delivery log, seq {seq}): {error}", path.display())]
    Open {
        path: PathBuf,
        seq: i64,
        error: std::io::Error,
    },
    #[error("{0}")]
    Read(std::io::Error),
    #[error("reading the archive failed: {0}")]
    Join(tokio::task::JoinError),
    #[error("the output answered {got} verdicts for {sent} events")]
    Verdicts { got: usize, sent: usize },
    #[error("{0}")]
    Refused(String),
    #[error("{pending} events not delivered after {attempts} attempts: {why}")]
    Exhausted {
        pending: usize,
        attempts: u32,
        why: String,
    },
    #[error("cannot write dead letters: {0}")]
    DeadLetters(std::io::Error),
}

impl From<StateError> for ShipError {
    fn from(e: StateError) -> ShipError {
        ShipError::State(e)
    }
}

impl ShipError {
    fn kind(&self) -> ErrorKind {
        match self {
            ShipError::State(_) => ErrorKind::State,
            ShipError::Open { .. } | ShipError::Read(_) | ShipError::Join(_) => ErrorKind::Archive,
            ShipError::Verdicts { .. } => ErrorKind::Protocol,
            ShipError::Refused(_) => ErrorKind::Refused,
            ShipError::Exhausted { .. } => ErrorKind::Unavailable,
            ShipError::DeadLetters(_) => ErrorKind::DeadLetters,
        }
    }
}

impl From<ShipError> for LastError {
    fn from(e: ShipError) -> LastError {
        LastError::new(e.kind(), e.to_string())
    }
}
