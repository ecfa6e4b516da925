use thiserror::Error;

/// A query error carrying Salesforce's `errorCode` and a message in Salesforce's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code}: {message}")]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, `INVALID_QUERY_FILTER_OPERATOR`, ...
    pub code: &'static str,
    pub message: String,
}

impl SoqlError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SoqlError {
            code,
            message: message.into(),
        }
    }
}
