//! `POST <workflow path>?…&sig=…`: one message for the flow.
//!
//! Order: the path (404 when no workflow has it), the `sig` query parameter (401 when absent or
//! not the workflow's), the body (413 over the size limit, 28 KB), injected faults, the rate
//! limit (429 with `Retry-After`), then the body ([`card`]: 400 when the flow would fail); an
//! accepted message is stored and answered 202 with an empty body, as the trigger answers
//! before the flow runs. Every request is counted first, whatever its answer.
//!
//! Error bodies use the Azure `{"error":{"code","message"}}` shape of Logic Apps; beyond the
//! texts [`card`] quotes, their codes and messages are this receiver's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::card::{self, Refused};
use super::{Shared, StoredMessage};
use crate::common::body::{self, BodyError};
use crate::common::faults;
use crate::common::ratelimit;

pub async fn post(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = shared.lock().count_request();
    let path = uri.path().to_string();
    let Some(flow) = shared.config.workflows.iter().find(|w| w.path == path) else {
        return error(
            &shared,
            StatusCode::NOT_FOUND,
            "WorkflowNotFound",
            "No workflow has this URL.",
        );
    };
    if method != Method::POST {
        return error(
            &shared,
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The trigger takes POST only.",
        );
    }
    let sig = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "sig")
        .map(|(_, v)| v.into_owned());
    if sig.as_deref() != Some(flow.sig.as_str()) {
        return error(
            &shared,
            StatusCode::UNAUTHORIZED,
            "DirectApiInvalidAuthorizationSignature",
            "The provided shared access signature ('sig') is missing or not valid.",
        );
    }
    let raw = match body::read_raw(body, &headers, shared.config.max_body_bytes).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => {
            let limit = shared.config.max_body_bytes;
            let message = format!("The message is larger than {limit} bytes (Teams takes 28 KB).");
            return error(
                &shared,
                StatusCode::PAYLOAD_TOO_LARGE,
                "MessageTooLarge",
                &message,
            );
        }
        Err(e) => {
            return error(
                &shared,
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                &format!("{e:?}"),
            )
        }
    };
    if let Some(resp) = fault(&shared, peer) {
        return resp;
    }
    if let Some(resp) = rate_limit(&shared, &path) {
        return resp;
    }
    let (message, cards) = match parse(&raw) {
        Ok(x) => x,
        Err(r) => return error(&shared, StatusCode::BAD_REQUEST, r.code, &r.message),
    };
    let after = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.messages.push(StoredMessage {
            path,
            message,
            cards,
            request,
        });
        st.stats.accepted += 1;
        st.faults.take_after_store(&mut st.stats.faults)
    };
    faults::finish(
        after,
        &shared.kills,
        peer,
        StatusCode::ACCEPTED.into_response(),
    )
    .await
}

fn parse(raw: &[u8]) -> Result<(Value, Vec<Value>), Refused> {
    let message: Value = serde_json::from_slice(raw).map_err(|e| Refused {
        code: "InvalidRequestContent",
        message: format!("The request content is not valid JSON: {e}"),
    })?;
    let cards = card::cards(&message)?;
    Ok((message, cards))
}

/// The injected fault the request meets, if any: 503 and 429 in the Azure error shape.
fn fault(shared: &Shared, peer: SocketAddr) -> Option<Response> {
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.faults.take_request_fault(&mut st.stats.faults)
    };
    let reject = |status: u16, retry_after: Option<u64>| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let reason = status.canonical_reason().unwrap_or("Server error");
        let mut resp = (
            status,
            Json(json!({"error": {"code": reason.replace(' ', ""), "message": reason}})),
        )
            .into_response();
        if let Some(s) = retry_after {
            resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    };
    faults::answer(fault, &shared.kills, peer, reject)
}

/// Takes one of the workflow's requests allowed per second, or answers 429.
fn rate_limit(shared: &Shared, path: &str) -> Option<Response> {
    let rate = shared.config.rate?;
    let wait = shared
        .lock()
        .limiter
        .take(path, rate, Instant::now())
        .err()?;
    shared.lock().stats.rate_limited += 1;
    let secs = ratelimit::retry_after_secs(wait);
    let body = json!({"error": {
        "code": "WorkflowTriggerIsThrottled",
        "message": format!("Too many requests to this workflow; retry in {secs} seconds."),
    }});
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    resp.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    Some(resp)
}

/// An error answer, counted by its code.
fn error(shared: &Shared, status: StatusCode, code: &str, message: &str) -> Response {
    *shared
        .lock()
        .stats
        .errors
        .entry(code.to_string())
        .or_default() += 1;
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}
