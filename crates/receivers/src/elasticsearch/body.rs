//! Request bodies: `http.max_content_length` (413), Content-Encoding (gzip, deflate), and the
//! refusals that happen before a handler's own logic.

use std::io::Read;

use axum::body::Body;
use axum::http::header::{CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::errors::EsError;
use super::http::{check_content_type, parse_json};
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
    Ok(decode(bytes, encoding_of(headers), cap)?.unwrap_or_else(|| bytes.to_vec()))
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
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
    let counts_received = on == LimitOn::Received || encoding == Encoding::Identity;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if counts_received && declared.is_some_and(|n| n > limit) {
        return Err(Refusal::TooLarge);
    }
    // A compressed body limited on its decoded size is read generously: the decoded size
    // decides. The cap only keeps a hostile body from exhausting memory.
    let raw_cap = if counts_received {
        limit
    } else {
        limit.saturating_mul(2).saturating_add(1 << 20)
    };
    let mut raw = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Refusal::Es(EsError::new(
                400,
                "parse_exception",
                format!("reading the body: {e}"),
            ))
        })?;
        raw.extend_from_slice(&chunk);
        if raw.len() as u64 > raw_cap {
            return Err(Refusal::TooLarge);
        }
    }
    let received = raw.len() as u64;
    if encoding == Encoding::Identity {
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
    let bytes = decode(&raw, encoding, decoded_cap)?.unwrap_or_default();
    Ok(ReadBody {
        received,
        compressed: true,
        bytes,
    })
}

fn encoding_of(headers: &HeaderMap) -> Encoding {
    match headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("gzip" | "x-gzip") => Encoding::Gzip,
        Some("deflate" | "x-deflate") => Encoding::Deflate,
        // Netty passes other encodings through untouched.
        _ => Encoding::Identity,
    }
}

/// Decompresses at most `cap` bytes; `None` for an identity body.
fn decode(raw: &[u8], encoding: Encoding, cap: u64) -> Result<Option<Vec<u8>>, Refusal> {
    let mut bytes = Vec::new();
    let read = match encoding {
        Encoding::Identity => return Ok(None),
        Encoding::Gzip => flate2::read::MultiGzDecoder::new(raw)
            .take(cap + 1)
            .read_to_end(&mut bytes),
        Encoding::Deflate => flate2::read::ZlibDecoder::new(raw)
            .take(cap + 1)
            .read_to_end(&mut bytes),
    };
    if let Err(e) = read {
        return Err(Refusal::Es(EsError::new(
            400,
            "parse_exception",
            format!("failed to decompress the request body: {e}"),
        )));
    }
    if bytes.len() as u64 > cap {
        return Err(Refusal::TooLarge);
    }
    Ok(Some(bytes))
}
