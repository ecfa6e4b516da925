//! The detections crate's errors: each names the rule file (and line, where the parser knows
//! it) and what to change.

use std::path::PathBuf;

/// A rule that cannot be loaded. Exit code 2 at the binary's edge.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read rule file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        file: String,
        line: Option<u32>,
        message: String,
    },
    #[error("{file}: rule '{rule}': {message}")]
    Invalid {
        file: String,
        rule: String,
        message: String,
    },
    #[error("two rules are named '{name}' ({first} and {second}): names must be unique")]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error("no rule is named '{0}' (see `sfevents rules list`)")]
    UnknownName(String),
    #[error("[detections] allowlist: {0}")]
    Allowlist(String),
    #[error("{0}")]
    Engine(String),
}

/// An archive line the rules cannot read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("no '{0}'")]
    Missing(&'static str),
    #[error("'@timestamp' {0:?} is not an RFC 3339 time")]
    Time(String),
}
