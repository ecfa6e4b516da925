//! `POST /services/<T>/<B>/<secret>`: one message.
//!
//! Order: the webhook (404 `no_service` when not configured; its configured refusal: 403
//! `action_prohibited`, 404 `channel_not_found`, 410 `channel_is_archived`), the body under the
//! size cap, injected faults, the webhook's rate limit (429 `rate_limited` with `Retry-After`),
//! then the message itself (400 `invalid_payload` or `invalid_blocks`); a taken message is
//! stored and answered 200 `ok`. Every request is counted first, whatever its answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::blocks;
use super::{Shared, StoredMessage};
use crate::common::body::{self, BodyError};
use crate::common::faults;
use crate::common::ratelimit;

pub async fn post(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_string();
    let request = shared.lock().count_request(&path);
    let Some(hook) = shared.config.webhooks.iter().find(|w| w.path == path) else {
        return refuse(&shared, StatusCode::NOT_FOUND, "no_service");
    };
    if let Some(r) = hook.refusal {
        return refuse(&shared, r.status(), r.body());
    }
    let raw = match body::read_raw(body, &headers, shared.config.max_body_bytes).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => {
            return refuse(&shared, StatusCode::PAYLOAD_TOO_LARGE, "request_too_large")
        }
        Err(_) => return refuse(&shared, StatusCode::BAD_REQUEST, "invalid_payload"),
    };
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.faults.take_request_fault(&mut st.stats.faults)
    };
    let reject = |status: u16, retry_after: Option<u64>| {
        if status == 429 {
            rate_limited(retry_after.unwrap_or(1))
        } else {
            // Slack's one documented server error.
            text(StatusCode::INTERNAL_SERVER_ERROR, "rollup_error")
        }
    };
    if let Some(resp) = faults::answer(fault, &shared.kills, peer, reject) {
        return resp;
    }
    if let Some(rate) = shared.config.rate {
        let taken = shared.lock().limiter.take(&path, rate, Instant::now());
        if let Err(wait) = taken {
            shared.lock().stats.rate_limited += 1;
            return rate_limited(ratelimit::retry_after_secs(wait));
        }
    }
    let message: Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(_) => return refuse(&shared, StatusCode::BAD_REQUEST, "invalid_payload"),
    };
    if let Err(bad) = blocks::check(&message) {
        return refuse(&shared, StatusCode::BAD_REQUEST, bad.body());
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let after = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.messages.push(StoredMessage {
            webhook: path,
            message,
            content_type,
            request,
        });
        st.stats.accepted += 1;
        st.faults.take_after_store(&mut st.stats.faults)
    };
    faults::finish(after, &shared.kills, peer, text(StatusCode::OK, "ok")).await
}

/// Any other path: Slack's answer to a webhook that does not exist.
pub async fn not_found(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    shared.lock().count_request(uri.path());
    refuse(&shared, StatusCode::NOT_FOUND, "no_service")
}

/// 429 `rate_limited` with `Retry-After: <secs>`.
fn rate_limited(secs: u64) -> Response {
    let mut resp = text(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    resp.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    resp
}

/// An error answer, counted by its body.
fn refuse(shared: &Shared, status: StatusCode, error: &str) -> Response {
    *shared
        .lock()
        .stats
        .errors
        .entry(error.to_string())
        .or_default() += 1;
    text(status, error)
}

/// Slack answers webhooks with plain strings.
fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}
