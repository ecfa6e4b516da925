//! `POST <any path>`: one Logplex drain request.
//!
//! Order: basic auth (401), `Content-Type: application/logplex-1` (415), the `Logplex-Msg-Count`
//! and `Logplex-Frame-Id` headers (400), the body size (413), injected faults, the frames (400,
//! see [`super::frames`]), the message count (400), the frame-id dedup, then storing.
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
use crate::common::body::{self, BodyError, Encoding};
use crate::common::faults;

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
        let mut resp = error(StatusCode::UNAUTHORIZED, message);
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"logplex drain\""),
        );
        return resp;
    }
    let reject = |status: StatusCode, message: String| {
        shared.lock().stats.rejected += 1;
        error(status, &message)
    };
    let ctype = header(&headers, CONTENT_TYPE.as_str()).unwrap_or_default();
    let essence = ctype.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/logplex-1") {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/logplex-1, got {ctype:?}"),
        );
    }
    let count = match header(&headers, "logplex-msg-count") {
        None => {
            return reject(
                StatusCode::BAD_REQUEST,
                header_error("Logplex-Msg-Count", "Header does not exist"),
            )
        }
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) => n,
            Err(e) => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    header_error("Logplex-Msg-Count", &e.to_string()),
                )
            }
        },
    };
    let frame_id = match header(&headers, "logplex-frame-id").filter(|v| !v.trim().is_empty()) {
        Some(v) => v.to_string(),
        None => {
            return reject(
                StatusCode::BAD_REQUEST,
                header_error("Logplex-Frame-Id", "Header does not exist"),
            )
        }
    };
    let drain_token = header(&headers, "logplex-drain-token").map(str::to_string);
    let encoding = body::encoding_of(&headers);
    if let Encoding::Other(e) = &encoding {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {e:?}"),
        );
    }
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
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.faults.take_request_fault(&mut st.stats.faults)
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
    if let Some(resp) = faults::answer(fault, &shared.kills, peer, busy) {
        return resp;
    }
    let decoded = match body::decode(&raw, &encoding, max.saturating_mul(64)) {
        Ok(d) => d.unwrap_or(raw),
        Err(e) => return reject(StatusCode::BAD_REQUEST, format!("decoding the body: {e:?}")),
    };
    let messages = match frames::parse(&decoded) {
        Ok(m) => m,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e),
    };
    if messages.len() != count {
        return reject(
            StatusCode::BAD_REQUEST,
            header_error(
                "Logplex-Msg-Count",
                &format!(
                    "Parsed event count does not match message count header: {} vs {count}",
                    messages.len()
                ),
            ),
        );
    }
    let after = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        if shared.config.dedup_frame_ids && st.frame_ids.contains(&frame_id) {
            st.stats.duplicate_frames += 1;
        } else {
            st.frame_ids.insert(frame_id.clone());
            for m in messages {
                st.messages.push(StoredMessage::new(
                    m,
                    &frame_id,
                    drain_token.as_deref(),
                    request,
                    uri.path(),
                ));
            }
            st.stats.messages = st.messages.len() as u64;
        }
        st.faults.take_after_store(&mut st.stats.faults)
    };
    faults::finish(after, &shared.kills, peer, StatusCode::OK.into_response()).await
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

/// Vector's HTTP source error body.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": message })),
    )
        .into_response()
}
