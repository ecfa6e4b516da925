//! HEC answers: the JSON `{"text": ..., "code": N}` bodies and their HTTP statuses, as listed in
//! Splunk's "Troubleshoot HTTP Event Collector" (possible error codes) and emulated by Vector's
//! `splunk_hec` source.
//!
//! | code | status | text |
//! |---|---|---|
//! | 0 | 200 | Success |
//! | 1 | 403 | Token disabled |
//! | 2 | 401 | Token is required |
//! | 3 | 401 | Invalid authorization |
//! | 4 | 403 | Invalid token |
//! | 5 | 400 | No data |
//! | 6 | 400 | Invalid data format |
//! | 7 | 400 | Incorrect index |
//! | 9 | 503 | Server is busy |
//! | 10 | 400 | Data channel is missing |
//! | 11 | 400 | Invalid data channel |
//! | 12 | 400 | Event field is required |
//! | 13 | 400 | Event field cannot be blank |
//! | 14 | 400 | ACK is disabled |
//! | 15 | 400 | Error in handling indexed fields |
//! | 17 | 200 | HEC is healthy |
//!
//! Errors about one event of a batch carry `invalid-event-number`, its 0-based position.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// An HEC status: its code, text and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    TokenDisabled,
    TokenRequired,
    InvalidAuthorization,
    InvalidToken,
    NoData,
    InvalidDataFormat,
    IncorrectIndex,
    ServerBusy,
    ChannelMissing,
    InvalidChannel,
    EventRequired,
    EventBlank,
    AckDisabled,
    IndexedFields,
    Healthy,
}

impl Code {
    pub fn number(self) -> u16 {
        match self {
            Code::Success => 0,
            Code::TokenDisabled => 1,
            Code::TokenRequired => 2,
            Code::InvalidAuthorization => 3,
            Code::InvalidToken => 4,
            Code::NoData => 5,
            Code::InvalidDataFormat => 6,
            Code::IncorrectIndex => 7,
            Code::ServerBusy => 9,
            Code::ChannelMissing => 10,
            Code::InvalidChannel => 11,
            Code::EventRequired => 12,
            Code::EventBlank => 13,
            Code::AckDisabled => 14,
            Code::IndexedFields => 15,
            Code::Healthy => 17,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::TokenDisabled => "Token disabled",
            Code::TokenRequired => "Token is required",
            Code::InvalidAuthorization => "Invalid authorization",
            Code::InvalidToken => "Invalid token",
            Code::NoData => "No data",
            Code::InvalidDataFormat => "Invalid data format",
            Code::IncorrectIndex => "Incorrect index",
            Code::ServerBusy => "Server is busy",
            Code::ChannelMissing => "Data channel is missing",
            Code::InvalidChannel => "Invalid data channel",
            Code::EventRequired => "Event field is required",
            Code::EventBlank => "Event field cannot be blank",
            Code::AckDisabled => "ACK is disabled",
            Code::IndexedFields => "Error in handling indexed fields",
            Code::Healthy => "HEC is healthy",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::Success | Code::Healthy => StatusCode::OK,
            Code::TokenRequired | Code::InvalidAuthorization => StatusCode::UNAUTHORIZED,
            Code::TokenDisabled | Code::InvalidToken => StatusCode::FORBIDDEN,
            Code::ServerBusy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An HEC answer: a code, maybe the failing event's position or an `ackId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: Code,
    /// `invalid-event-number`.
    pub event: Option<usize>,
    /// `ackId`.
    pub ack_id: Option<u64>,
    /// Overrides the code's HTTP status (a 429 fault).
    pub status: Option<StatusCode>,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn new(code: Code) -> Self {
        Answer {
            code,
            event: None,
            ack_id: None,
            status: None,
            retry_after: None,
        }
    }

    /// An error about event `i` of the body.
    pub fn at(code: Code, i: usize) -> Self {
        Answer {
            event: Some(i),
            ..Answer::new(code)
        }
    }

    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("text".into(), json!(self.code.text()));
        m.insert("code".into(), json!(self.code.number()));
        if let Some(i) = self.event {
            m.insert("invalid-event-number".into(), json!(i));
        }
        if let Some(id) = self.ack_id {
            m.insert("ackId".into(), json!(id));
        }
        Value::Object(m)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| self.code.status());
        let mut resp = json_response(status, &self.body());
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// A JSON answer with splunkd's headers.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "application/json; charset=UTF-8"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (axum::http::header::SERVER, "Splunkd"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// splunkd's 404 for a path it does not serve.
pub fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "text": "The requested URL was not found on this server.", "code": 404 }),
    )
}

/// A body over `max_content_length`. The wording is splunkd's HTTP server's (from memory).
pub fn too_large(length: Option<u64>, max: u64) -> Response {
    let text = match length {
        Some(n) => format!("Content-Length of {n} too large (maximum is {max})"),
        None => format!("Content too large (maximum is {max})"),
    };
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        &json!({ "text": text, "code": 413 }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_splunks() {
        let ok = Answer {
            ack_id: Some(3),
            ..Answer::new(Code::Success)
        };
        assert_eq!(
            ok.body().to_string(),
            r#"{"text":"Success","code":0,"ackId":3}"#
        );
        assert_eq!(
            Answer::at(Code::EventBlank, 2).body().to_string(),
            r#"{"text":"Event field cannot be blank","code":13,"invalid-event-number":2}"#
        );
        assert_eq!(Code::InvalidToken.status(), StatusCode::FORBIDDEN);
        assert_eq!(Code::TokenRequired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(Code::ServerBusy.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
