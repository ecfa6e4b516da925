//! HTTP plumbing shared by the handlers: query parameters, JSON answers (`filter_path`,
//! `pretty`) and media types (REST API compatibility headers, Content-Type).

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::errors::EsError;
use super::filter_path;

/// Query parameters, URL-decoded, in order.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean flag: present with no value, `true`, or anything but `false`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v != "false")
    }

    /// Elasticsearch refuses parameters an endpoint does not know.
    pub fn check_known(&self, path: &str, known: &[&str]) -> Result<(), EsError> {
        const COMMON: &[&str] = &["pretty", "human", "error_trace", "filter_path"];
        let unknown: Vec<&str> = self
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !known.contains(k) && !COMMON.contains(k))
            .collect();
        match unknown.as_slice() {
            [] => Ok(()),
            [one] => Err(EsError::illegal_argument(format!(
                "request [{path}] contains unrecognized parameter: [{one}]"
            ))),
            many => Err(EsError::illegal_argument(format!(
                "request [{path}] contains unrecognized parameters: {}",
                many.iter()
                    .map(|k| format!("[{k}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A JSON answer, filtered by `filter_path` and pretty-printed on `pretty`, as Elasticsearch
/// does for every successful response.
pub fn json_response(status: StatusCode, body: Value, params: &Params) -> Response {
    let body = match params.get("filter_path") {
        Some(f) if !f.is_empty() => filter_path::apply(&body, f),
        _ => body,
    };
    let text = if params.flag("pretty") {
        serde_json::to_string_pretty(&body).unwrap_or_default() + "\n"
    } else {
        body.to_string()
    };
    (status, [(CONTENT_TYPE, "application/json")], text).into_response()
}

pub fn ok(body: Value, params: &Params) -> Response {
    json_response(StatusCode::OK, body, params)
}

pub fn acknowledged(params: &Params) -> Response {
    ok(json!({ "acknowledged": true }), params)
}

/// The `compatible-with=N` of a media type (list), if any.
fn compat_of(value: &str) -> Option<u64> {
    value.split([',', ';']).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim() == "compatible-with").then(|| v.trim().parse().ok())?
    })
}

/// REST API compatibility (Elasticsearch 7.11+): a client may ask for the answers of its own
/// major version with `application/vnd.elasticsearch+json; compatible-with=N` in `Accept` and
/// `Content-Type`. The server accepts its major and the one before; otherwise 400
/// `media_type_header_exception`, which is what a 9.x client meets on an 8.x cluster. Returns
/// the version asked for, if any.
pub fn check_compat(
    headers: &HeaderMap,
    major: u64,
    has_body: bool,
) -> Result<Option<u64>, EsError> {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let ctype = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let a = accept.and_then(compat_of);
    let c = ctype.filter(|_| has_body).and_then(compat_of);
    let invalid = |reason: String| {
        EsError::new(
            400,
            "media_type_header_exception",
            "Invalid media-type value on headers [Accept, Content-Type]",
        )
        .caused_by("status_exception", reason)
    };
    let allowed = |v: u64| v == major || v + 1 == major;
    if let Some(v) = a.filter(|v| !allowed(*v)) {
        return Err(invalid(format!(
            "Accept version must be either version {major} or {}, but found {v}. Accept={}",
            major.saturating_sub(1),
            accept.unwrap_or_default()
        )));
    }
    if let Some(v) = c.filter(|v| !allowed(*v)) {
        return Err(invalid(format!(
            "Content-Type version must be either version {major} or {}, but found {v}. Content-Type={}",
            major.saturating_sub(1),
            ctype.unwrap_or_default()
        )));
    }
    if has_body && a.unwrap_or(major) != c.unwrap_or(major) {
        return Err(invalid(format!(
            "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept={}, Content-Type={}",
            accept.unwrap_or_default(),
            ctype.unwrap_or_default()
        )));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(accept: &str, ctype: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ctype).unwrap());
        h
    }

    #[test]
    fn compat_accepts_own_and_previous_major_only() {
        let v9 = "application/vnd.elasticsearch+json; compatible-with=9,text/plain";
        let ct9 = "application/vnd.elasticsearch+x-ndjson; compatible-with=9";
        assert_eq!(check_compat(&headers(v9, ct9), 9, true).unwrap(), Some(9));
        let err = check_compat(&headers(v9, ct9), 8, true).unwrap_err();
        assert_eq!(err.kind, "media_type_header_exception");
        let cause = err.caused_by.unwrap();
        assert!(cause
            .reason
            .starts_with("Accept version must be either version 8 or 7, but found 9."));
        let v8 = "application/vnd.elasticsearch+json; compatible-with=8";
        let mixed = check_compat(&headers(v8, "application/json"), 9, true).unwrap_err();
        assert!(mixed
            .caused_by
            .unwrap()
            .reason
            .starts_with("A compatible version is required"));
        assert_eq!(
            check_compat(&headers("application/json", "application/json"), 8, true).unwrap(),
            None
        );
    }

    #[test]
    fn params_know_their_endpoint() {
        let p = Params::parse(Some("pipeline=x&filter_path=items.*.status&bogus=1"));
        assert_eq!(p.get("pipeline"), Some("x"));
        let e = p.check_known("/_bulk", &["pipeline"]).unwrap_err();
        assert_eq!(
            e.reason,
            "request [/_bulk] contains unrecognized parameter: [bogus]"
        );
    }
}
