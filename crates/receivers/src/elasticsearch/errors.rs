//! Elasticsearch's error bodies.
//!
//! A whole-request failure is `{"error": {"root_cause": [..], "type", "reason", ..}, "status": N}`;
//! a bulk item failure carries only the inner object (`type`, `reason`, extra fields and an optional
//! `caused_by`). Both come from [`EsError`], so the two shapes cannot drift apart.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// One Elasticsearch exception, with the HTTP status it maps to.
#[derive(Debug, Clone)]
pub struct EsError {
    pub status: StatusCode,
    pub kind: String,
    pub reason: String,
    /// Fields printed after `reason` (`index_uuid`, `shard`, `index`, `header`, ...), in order.
    pub extra: Vec<(String, Value)>,
    pub caused_by: Option<Box<EsError>>,
    /// HTTP headers of a whole-request answer (`WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(HeaderName, String)>,
}

impl EsError {
    pub fn new(status: u16, kind: &str, reason: impl Into<String>) -> Self {
        EsError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            kind: kind.to_string(),
            reason: reason.into(),
            extra: Vec::new(),
            caused_by: None,
            headers: Vec::new(),
        }
    }

    /// Adds a field after `reason`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.retain(|(k, _)| k != key);
        self.extra.push((key.to_string(), value.into()));
        self
    }

    /// Sets the `caused_by` exception.
    pub fn caused_by(mut self, kind: &str, reason: impl Into<String>) -> Self {
        self.caused_by = Some(Box::new(EsError::new(self.status.as_u16(), kind, reason)));
        self
    }

    /// Adds an HTTP header to the whole-request answer.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The `index_not_found_exception` Elasticsearch gives for a missing index or data stream.
    pub fn index_not_found(name: &str) -> Self {
        EsError::new(
            404,
            "index_not_found_exception",
            format!("no such index [{name}]"),
        )
        .with("resource.type", "index_or_alias")
        .with("resource.id", name)
        .with("index_uuid", "_na_")
        .with("index", name)
    }

    /// A `resource_not_found_exception` (missing template or policy).
    pub fn resource_not_found(reason: impl Into<String>) -> Self {
        EsError::new(404, "resource_not_found_exception", reason)
    }

    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        EsError::new(400, "illegal_argument_exception", reason)
    }

    /// The inner object: what a bulk item's `error` and a `caused_by` hold.
    pub fn cause_json(&self) -> Value {
        let mut m = self.head();
        if let Some(c) = &self.caused_by {
            m.insert("caused_by".into(), c.cause_json());
        }
        Value::Object(m)
    }

    /// The whole-request body.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("root_cause".into(), json!([Value::Object(self.head())]));
        error.extend(self.head());
        if let Some(c) = &self.caused_by {
            error.insert("caused_by".into(), c.cause_json());
        }
        json!({ "error": error, "status": self.status.as_u16() })
    }

    fn head(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.kind.clone()));
        m.insert("reason".into(), Value::String(self.reason.clone()));
        m.extend(self.extra.iter().cloned());
        m
    }
}

impl IntoResponse for EsError {
    fn into_response(self) -> Response {
        // Elasticsearch builds error answers without `filter_path` filtering, so neither does this.
        let mut resp = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body().to_string(),
        )
            .into_response();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                resp.headers_mut().append(name.clone(), v);
            }
        }
        resp
    }
}

/// Elasticsearch's answer to a path no handler serves: a string `error`, not an object.
pub fn no_handler(method: &str, uri: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({ "error": format!("no handler found for uri [{uri}] and method [{method}]") })
            .to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_request_body_repeats_the_cause_as_root_cause() {
        let e = EsError::new(409, "version_conflict_engine_exception", "[1]: conflict")
            .with("index", "x");
        let body = e.body();
        assert_eq!(body["status"], 409);
        assert_eq!(
            body["error"]["root_cause"][0]["type"],
            "version_conflict_engine_exception"
        );
        assert_eq!(body["error"]["index"], "x");
        assert_eq!(e.cause_json()["reason"], "[1]: conflict");
    }
}
