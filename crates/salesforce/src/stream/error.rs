//! What can go wrong on the Pub/Sub API, each with the fix where there is one.

use std::path::PathBuf;

use tonic::{Code, Status};

/// Salesforce's `error-code` trailer for a refused session.
const AUTH_ERROR: &str = "sfdc.platform.eventbus.grpc.service.auth.error";

/// A Pub/Sub API error.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The Pub/Sub URL cannot be used.
    #[error("Pub/Sub URL {url}: {reason}")]
    Url { url: String, reason: String },
    /// Plain `http://` to another machine: the access token would cross the network in clear.
    #[error(transparent)]
    PlainHttp(#[from] base::http::PlainHttp),
    #[error("cannot read the CA file {}: {source}", path.display())]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the Pub/Sub API at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// gRPC metadata is visible ASCII only; a token or URL with anything else cannot be sent.
    #[error(
        "the {what} cannot be sent as gRPC metadata: it holds characters other than visible ASCII"
    )]
    Metadata { what: &'static str },
    #[error("the topic {topic} does not exist in this org: check its name (Real-Time Event Monitoring streams are named like /event/LoginEventStream), that the org has Event Monitoring, and that the event's streaming is enabled in Setup > Event Manager ({message})")]
    TopicNotFound { topic: String, message: String },
    #[error("the topic {topic} is not enabled for streaming: enable its streaming in Setup > Event Manager, and give the user View Real-Time Event Monitoring Data ({message})")]
    TopicNotEnabled { topic: String, message: String },
    #[error("the Pub/Sub API refused the session: the access token is invalid or expired, or the instance URL or org id (tenant) do not belong to it ({message})")]
    Auth { message: String },
    /// Any other gRPC status, with Salesforce's `error-code` trailer when it sent one (the
    /// caller's retry policy keys on it: replay-id errors, `service.unavailable`, ...).
    #[error("{what}: {code:?}: {message}")]
    Status {
        what: String,
        code: Code,
        error_code: Option<String>,
        message: String,
    },
    #[error("cannot decode an event of schema {schema_id}: {reason}")]
    Decode { schema_id: String, reason: String },
    /// The subscription's request stream is gone (the call ended).
    #[error("the subscription to {topic} is closed")]
    Closed { topic: String },
}

impl StreamError {
    /// The error of a gRPC status from `what`; `topic` names the topic the call was about,
    /// so NOT_FOUND and PERMISSION_DENIED can say which topic and what to do.
    pub(crate) fn from_status(s: Status, what: &str, topic: Option<&str>) -> StreamError {
        let message = s.message().to_string();
        let error_code = s
            .metadata()
            .get("error-code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if s.code() == Code::Unauthenticated || error_code.as_deref() == Some(AUTH_ERROR) {
            return StreamError::Auth { message };
        }
        match (s.code(), topic) {
            (Code::NotFound, Some(t)) => StreamError::TopicNotFound {
                topic: t.to_string(),
                message,
            },
            (Code::PermissionDenied, Some(t)) => StreamError::TopicNotEnabled {
                topic: t.to_string(),
                message,
            },
            (code, _) => StreamError::Status {
                what: what.to_string(),
                code,
                error_code,
                message,
            },
        }
    }

    /// Salesforce's `error-code` trailer, when the error came with one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            StreamError::Status { error_code, .. } => error_code.as_deref(),
            StreamError::Auth { .. } => Some(AUTH_ERROR),
            _ => None,
        }
    }
}
