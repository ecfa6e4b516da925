//! Request bodies: `http.max_content_length` (413), Content-Encoding (gzip, deflate), and the
//! refusals that happen before a handler's own logic.

use axum::body::Body;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::common::body::{self as common, BodyError, Encoding};

use super::errors::EsError;
use super::LimitOn;

/// A JSON request body: the Content-Type must say JSON, then the body must parse.
pub fn json_body(headers: &HeaderMap, bytes: &[u8], opensearch: bool) -> Result<Value, Refusal> {
    check_content_type(headers, opensearch)?;
    Ok(parse_json(&decoded(headers, bytes)?)?)
}

/// A small body decompressed per its Content-Encoding: every request body may be compressed
/// (the official clients' `compression: true`), not only `_bulk`'s.
pub fn decoded(headers: &HeaderMap, bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let cap = super::faults::DEFAULT_MAX_CONTENT_LENGTH;
    Ok(common::decode(bytes, &encoding_of(headers), cap)
        .map_err(refusal)?
        .unwrap_or_else(|| bytes.to_vec()))
}

/// Why a request is refused before its handler's own logic: an Elasticsearch error, Netty's 413,
/// or the 406 for a Content-Type Elasticsearch does not read.
#[derive(Debug)]
pub enum Refusal {
    Es(EsError),
    NotAcceptable(String),
    TooLarge,
}

impl From<EsError> for Refusal {
    fn from(e: EsError) -> Self {
        Refusal::Es(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Es(e) => e.into_response(),
            Refusal::NotAcceptable(message) => (
                StatusCode::NOT_ACCEPTABLE,
                [(CONTENT_TYPE, "application/json")],
                json!({ "error": message, "status": 406 }).to_string(),
            )
                .into_response(),
            // Netty's 413, which Elasticsearch answers before any of its own code runs: no
            // body, and the connection closed because the client may still be sending.
            Refusal::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(CONTENT_LENGTH, "0"), (CONNECTION, "close")],
            )
                .into_response(),
        }
    }
}

/// A request body, decoded.
pub struct ReadBody {
    /// Bytes as received on the wire.
    pub received: u64,
    pub compressed: bool,
    pub bytes: Vec<u8>,
}

/// Reads a body under `limit`. Which bytes count is [`LimitOn`]: Elasticsearch's HTTP pipeline
/// decompresses before it aggregates against `http.max_content_length`, so by default the
/// decoded size counts; `Content-Length` of an uncompressed body is refused before reading.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    on: LimitOn,
) -> Result<ReadBody, Refusal> {
    let encoding = encoding_of(headers);
    let identity = encoding == Encoding::Identity;
    let counts_received = on == LimitOn::Received || identity;
    // A compressed body limited on its decoded size is read generously: the decoded size
    // decides. The cap only keeps a hostile body from exhausting memory.
    let raw_cap = if counts_received {
        limit
    } else {
        limit.saturating_mul(2).saturating_add(1 << 20)
    };
    let raw = if counts_received {
        common::read_raw(body, headers, raw_cap).await
    } else {
        // The declared length of a compressed body says nothing about its decoded size.
        common::read_raw(body, &HeaderMap::new(), raw_cap).await
    }
    .map_err(refusal)?;
    let received = raw.len() as u64;
    if identity {
        return Ok(ReadBody {
            received,
            compressed: false,
            bytes: raw,
        });
    }
    let decoded_cap = if on == LimitOn::Decoded {
        limit
    } else {
        limit.saturating_mul(64)
    };
    let bytes = common::decode(&raw, &encoding, decoded_cap)
        .map_err(refusal)?
        .unwrap_or_default();
    Ok(ReadBody {
        received,
        compressed: true,
        bytes,
    })
}

/// The encoding Elasticsearch undoes: Netty passes encodings other than gzip and deflate
/// through untouched.
fn encoding_of(headers: &HeaderMap) -> Encoding {
    match common::encoding_of(headers) {
        Encoding::Other(_) => Encoding::Identity,
        e => e,
    }
}

fn refusal(e: BodyError) -> Refusal {
    match e {
        BodyError::TooLarge => Refusal::TooLarge,
        BodyError::Read(e) => Refusal::Es(EsError::new(
            400,
            "parse_exception",
            format!("reading the body: {e}"),
        )),
        BodyError::Corrupt(e) => Refusal::Es(EsError::new(
            400,
            "parse_exception",
            format!("failed to decompress the request body: {e}"),
        )),
    }
}
/// A JSON object body, or Elasticsearch's parse errors.
pub fn parse_json(bytes: &[u8]) -> Result<Value, EsError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(EsError::new(
            400,
            "parse_exception",
            "request body is required",
        ));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        EsError::new(
            400,
            "x_content_parse_exception",
            format!("[{}:{}] {e}", e.line(), e.column()),
        )
    })?;
    if !v.is_object() {
        return Err(EsError::new(
            400,
            "parse_exception",
            "request body must be a JSON object",
        ));
    }
    Ok(v)
}

/// Elasticsearch reads JSON (and NDJSON for `_bulk`) bodies only with a Content-Type saying so;
/// otherwise 406 with a string `error`. OpenSearch, forked before REST API compatibility,
/// does not know the `vnd.elasticsearch` types.
pub fn check_content_type(headers: &HeaderMap, opensearch: bool) -> Result<(), Refusal> {
    let Some(raw) = headers.get(CONTENT_TYPE) else {
        return Err(Refusal::NotAcceptable(
            "Content-Type header is missing".into(),
        ));
    };
    let value = raw.to_str().unwrap_or_default();
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let ok = match essence.as_str() {
        "application/json" | "application/x-ndjson" => true,
        "application/vnd.elasticsearch+json" | "application/vnd.elasticsearch+x-ndjson" => {
            !opensearch
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::NotAcceptable(format!(
            "Content-Type header [{value}] is not supported"
        )))
    }
}
