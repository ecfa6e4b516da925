//! `POST <any path>`: one Logplex drain request.
//!
//! Order: basic auth (401), `Content-Type: application/logplex-1` (415), the `Logplex-Msg-Count`
//! and `Logplex-Frame-Id` headers (400), the body size (413), injected faults, the frames (400,
//! see [`super::frames`]), the message count (400), the frame-id dedup, then storing.
//! Each readable body counts one attempt of its messages' event ids, whatever the answer
//! (a repeated frame id answered 200 is an accepted attempt).
//! Errors are Vector's HTTP source's: `{"code": N, "message": "..."}`; success is an empty 200.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use super::frames;
use super::{Shared, StoredMessage};
use crate::common::attempts::{self, Ids};
use crate::common::body::{self, BodyError, Encoding};
use crate::common::faults::{self, AfterStore, RequestFault};

pub async fn drain(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, "only POST is accepted");
    }
    let request = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        st.stats.requests
    };
    if let Err(message) = check_auth(&shared, &headers) {
        shared.lock().stats.auth_failures += 1;
        return unauthorized(message);
    }
    let reject = |status: StatusCode, message: String| {
        shared.lock().stats.rejected += 1;
        error(status, &message)
    };
    let head = match head_of(&headers) {
        Ok(h) => h,
        Err((status, message)) => return reject(status, message),
    };
    let max = shared.config.max_content_length;
    let raw = match body::read_raw(body, &headers, max).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => {
            shared.lock().stats.requests_413 += 1;
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("body over {max} bytes"),
            );
        }
        Err(e) => return reject(StatusCode::BAD_REQUEST, format!("reading the body: {e:?}")),
    };
    let messages = messages_of(raw, &head.encoding, max);
    let ids: Vec<Option<String>> = match &messages {
        Ok(ms) => ms
            .iter()
            .map(|m| attempts::id_of_text(m.msg.as_bytes()))
            .collect(),
        Err(_) => Vec::new(),
    };
    if let Some(resp) = fault(&shared, peer, &ids) {
        return resp;
    }
    let messages = match messages {
        Ok(m) => m,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e),
    };
    if messages.len() != head.count {
        shared.lock().attempts.refused(&ids);
        return reject(
            StatusCode::BAD_REQUEST,
            header_error(
                "Logplex-Msg-Count",
                &format!(
                    "Parsed event count does not match message count header: {} vs {}",
                    messages.len(),
                    head.count
                ),
            ),
        );
    }
    let after = store(&shared, &head, messages, request, uri.path());
    let close = after.close;
    let resp = faults::finish(after, &shared.kills, peer, StatusCode::OK.into_response()).await;
    if !close {
        shared.lock().attempts.accepted(&ids);
    }
    resp
}

/// What the headers say about a request's body.
struct Head {
    count: usize,
    frame_id: String,
    drain_token: Option<String>,
    encoding: Encoding,
}

/// `Content-Type` (415), `Logplex-Msg-Count` and `Logplex-Frame-Id` (400), `Content-Encoding`
/// (415), in that order.
fn head_of(headers: &HeaderMap) -> Result<Head, (StatusCode, String)> {
    let ctype = header(headers, CONTENT_TYPE.as_str()).unwrap_or_default();
    let essence = ctype.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/logplex-1") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/logplex-1, got {ctype:?}"),
        ));
    }
    let bad = |name: &str, msg: &str| (StatusCode::BAD_REQUEST, header_error(name, msg));
    let count = match header(headers, "logplex-msg-count") {
        None => return Err(bad("Logplex-Msg-Count", "Header does not exist")),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|e| bad("Logplex-Msg-Count", &e.to_string()))?,
    };
    let frame_id = header(headers, "logplex-frame-id")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| bad("Logplex-Frame-Id", "Header does not exist"))?
        .to_string();
    let drain_token = header(headers, "logplex-drain-token").map(str::to_string);
    let encoding = body::encoding_of(headers);
    if let Encoding::Other(e) = &encoding {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {e:?}"),
        ));
    }
    Ok(Head {
        count,
        frame_id,
        drain_token,
        encoding,
    })
}

/// The body's messages, or why it cannot be read (the 400's message).
fn messages_of(
    raw: Vec<u8>,
    encoding: &Encoding,
    max: u64,
) -> Result<Vec<frames::Message>, String> {
    let decoded = match body::decode(&raw, encoding, max.saturating_mul(64)) {
        Ok(d) => d.unwrap_or(raw),
        Err(e) => return Err(format!("decoding the body: {e:?}")),
    };
    frames::parse(&decoded)
}

/// The injected fault the request meets, counting the attempt of `ids` (refused when a fault
/// strikes); `None` to go on.
fn fault(shared: &Shared, peer: SocketAddr, ids: &Ids) -> Option<Response> {
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        let fault = st.faults.take_request_fault(&mut st.stats.faults);
        st.attempts.read(ids);
        if fault != RequestFault::None {
            st.attempts.refused(ids);
        }
        fault
    };
    let busy = |status: u16, retry_after: Option<u64>| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = error(status, "injected fault");
        if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    };
    faults::answer(fault, &shared.kills, peer, busy)
}

/// Stores the messages, unless their frame id was stored before (with dedup on). Returns what
/// the request meets before its answer.
fn store(
    shared: &Shared,
    head: &Head,
    messages: Vec<frames::Message>,
    request: u64,
    path: &str,
) -> AfterStore {
    let mut guard = shared.lock();
    let st = &mut *guard;
    if shared.config.dedup_frame_ids && st.frame_ids.contains(&head.frame_id) {
        st.stats.duplicate_frames += 1;
    } else {
        st.frame_ids.insert(head.frame_id.clone());
        for m in messages {
            st.messages.push(StoredMessage::new(
                m,
                &head.frame_id,
                head.drain_token.as_deref(),
                request,
                path,
            ));
        }
        st.stats.messages = st.messages.len() as u64;
    }
    st.faults.take_after_store(&mut st.stats.faults)
}

/// Basic auth, when configured (the drain URL's `https://user:password@host/...`); the error
/// is the 401's message.
fn check_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), &'static str> {
    let Some((user, password)) = &shared.config.basic else {
        return Ok(());
    };
    let Some(value) = header(headers, AUTHORIZATION.as_str()) else {
        return Err("No authorization header");
    };
    let given = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok());
    match given.as_deref().and_then(|g| g.split_once(':')) {
        Some((u, p)) if u == user && p == password => Ok(()),
        _ => Err("Invalid username/password"),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Vector's wording for a bad header.
fn header_error(name: &str, msg: &str) -> String {
    format!("Invalid request header {name:?}: {msg:?}")
}

/// The 401, with the basic-auth challenge.
fn unauthorized(message: &str) -> Response {
    let mut resp = error(StatusCode::UNAUTHORIZED, message);
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"logplex drain\""),
    );
    resp
}

/// Vector's HTTP source error body.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": message })),
    )
        .into_response()
}
