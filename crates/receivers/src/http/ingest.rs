//! `POST <any path>`: one batch of lines.
//!
//! Order: the required header (401), `Content-Encoding` (415), the body under the limit (413,
//! measured on the decoded body as Sumo states its 1 MB limit "uncompressed"), injected
//! faults, then every non-empty line is stored. Success is an empty 200, as Sumo answers.
//! Each decoded body's lines count as one attempt of their events' ids, whatever the answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::{Shared, StoredLine};
use crate::common::attempts;
use crate::common::body::{self, BodyError, Encoding};
use crate::common::faults::{self, AfterStore, RequestFault};

/// Slack for compressed bodies: the limit is on decoded bytes, and a compressed body can be
/// slightly larger than what it decodes to.
const COMPRESSED_SLACK: u64 = 64 << 10;

pub async fn receive(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only POST is accepted");
    }
    let request = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        st.stats.requests
    };
    if let Some((name, want)) = &shared.config.required_header {
        let given = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        if given != Some(want.as_str()) {
            shared.lock().stats.auth_failures += 1;
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
    }
    let (decoded, sizes) = match read_body(&shared, &headers, body).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let ids: Vec<Option<String>> = lines_of(&decoded).map(attempts::id_of_text).collect();
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        let fault = st.faults.take_request_fault(&mut st.stats.faults);
        st.attempts.read(&ids);
        if fault != RequestFault::None {
            st.attempts.refused(&ids);
        }
        fault
    };
    let reject = |status: u16, retry_after: Option<u64>| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = text(status, status.canonical_reason().unwrap_or("unavailable"));
        if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut().insert(RETRY_AFTER, v);
        }
        resp
    };
    if let Some(resp) = faults::answer(fault, &shared.kills, peer, reject) {
        return resp;
    }
    let after = store(&shared, &headers, &uri, request, &decoded, sizes);
    let close = after.close;
    let resp = faults::finish(after, &shared.kills, peer, StatusCode::OK.into_response()).await;
    if !close {
        shared.lock().attempts.accepted(&ids);
    }
    resp
}

/// Reads and decodes the body under the limit: the decoded bytes, and the received size and
/// whether it was compressed; or the refusal (415, 413, 400), counted.
async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, (u64, bool)), Response> {
    let encoding = body::encoding_of(headers);
    if let Encoding::Other(e) = &encoding {
        shared.lock().stats.rejected += 1;
        return Err(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("unsupported Content-Encoding {e:?}"),
        ));
    }
    let limit = shared.config.max_body_bytes;
    let too_large = || {
        shared.lock().stats.requests_413 += 1;
        text(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
    };
    let raw_cap = if encoding == Encoding::Identity {
        limit
    } else {
        limit.saturating_add(COMPRESSED_SLACK)
    };
    let raw = match body::read_raw(body, headers, raw_cap).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => return Err(too_large()),
        Err(e) => {
            shared.lock().stats.rejected += 1;
            return Err(text(
                StatusCode::BAD_REQUEST,
                &format!("reading the body: {e:?}"),
            ));
        }
    };
    let sizes = (raw.len() as u64, encoding != Encoding::Identity);
    match body::decode(&raw, &encoding, limit) {
        Ok(d) => Ok((d.unwrap_or(raw), sizes)),
        Err(BodyError::TooLarge) => Err(too_large()),
        Err(e) => {
            shared.lock().stats.rejected += 1;
            Err(text(
                StatusCode::BAD_REQUEST,
                &format!("decoding the body: {e:?}"),
            ))
        }
    }
}

/// The non-empty lines of a body, without their CR.
fn lines_of(decoded: &[u8]) -> impl Iterator<Item = &[u8]> {
    decoded
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
}

/// Stores every line with the request's path and headers; `sizes` is the body's received size
/// and whether it was compressed. Returns what the stored request meets before its answer.
fn store(
    shared: &Shared,
    headers: &HeaderMap,
    uri: &Uri,
    request: u64,
    decoded: &[u8],
    (received, compressed): (u64, bool),
) -> AfterStore {
    let recorded: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut guard = shared.lock();
    let st = &mut *guard;
    st.stats.bytes_received += received;
    st.stats.bytes_decoded += decoded.len() as u64;
    st.stats.compressed_requests += u64::from(compressed);
    for line in lines_of(decoded) {
        st.lines.push(StoredLine {
            line: String::from_utf8_lossy(line).into_owned(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers: recorded.clone(),
            request,
        });
    }
    st.stats.lines = st.lines.len() as u64;
    st.faults.take_after_store(&mut st.stats.faults)
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}
