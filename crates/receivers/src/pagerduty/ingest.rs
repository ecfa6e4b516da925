//! `POST /v2/enqueue` and `POST /v2/change/enqueue`.
//!
//! Order: the body under the size cap (413), injected faults, the JSON object (400), its
//! routing key (400: missing, not 32 characters, not one this receiver serves), the key's rate
//! limit (429), the rest of the event (400, every mistake listed), then the event is applied to
//! the incidents and answered 202 with its dedup key. Every request is counted first, so a test
//! can compare what a sender sent with what arrived, refusals included.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::event::{self, Action, Valid};
use super::store::StoredEvent;
use super::Shared;
use crate::common::body::{self, BodyError};
use crate::common::faults;
use crate::common::ratelimit::{self, Rate};

pub const CHANGE_PATH: &str = "/v2/change/enqueue";

pub async fn enqueue(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        st.stats.requests
    };
    let raw = match body::read_raw(body, &headers, shared.config.max_body_bytes).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => {
            shared.lock().stats.too_large += 1;
            return error(StatusCode::PAYLOAD_TOO_LARGE, "Request too large", &[]);
        }
        Err(e) => return invalid(&shared, vec![format!("Reading the body failed: {e:?}")]),
    };
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.faults.take_request_fault(&mut st.stats.faults)
    };
    if let Some(resp) = faults::answer(fault, &shared.kills, peer, reject) {
        return resp;
    }
    let change = uri.path() == CHANGE_PATH;
    let (routing_key, valid, body) = match check(&shared, &raw, change) {
        Ok(x) => x,
        Err(Refused::Invalid(errors)) => return invalid(&shared, errors),
        Err(Refused::Throttled(secs)) => {
            let mut resp = throttled();
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
            return resp;
        }
    };
    let generated = valid.dedup_key.is_none() && valid.action == Action::Trigger;
    let dedup_key = match (&valid.dedup_key, generated) {
        (Some(k), _) => Some(k.clone()),
        (None, true) => Some(format!("{:032x}", rand::random::<u128>())),
        (None, false) => None,
    };
    let answer = match &dedup_key {
        Some(k) => json!({"status": "success", "message": "Event processed", "dedup_key": k}),
        None => json!({"status": "success", "message": "Change event processed"}),
    };
    let after = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        st.accept(StoredEvent {
            routing_key,
            action: valid.action,
            dedup_key,
            generated_key: generated,
            body: Value::Object(body),
            path: uri.path().to_string(),
            request,
        });
        st.faults.take_after_store(&mut st.stats.faults)
    };
    let ok = (StatusCode::ACCEPTED, Json(answer)).into_response();
    faults::finish(after, &shared.kills, peer, ok).await
}

/// Why an event is refused after its body was read.
enum Refused {
    /// 400 with these errors.
    Invalid(Vec<String>),
    /// 429, retry after these seconds.
    Throttled(u64),
}

/// Everything before storing: the JSON object, its routing key (known, within its rate) and
/// the event; or why it is refused.
fn check(
    shared: &Shared,
    raw: &[u8],
    change: bool,
) -> Result<(String, Valid, Map<String, Value>), Refused> {
    let body = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(Refused::Invalid(vec!["Event must be a JSON object".into()])),
        Err(e) => {
            return Err(Refused::Invalid(vec![format!(
                "Body is not valid JSON: {e}"
            )]))
        }
    };
    let key = event::routing_key(&body)
        .map_err(|e| Refused::Invalid(vec![e]))?
        .to_string();
    if !shared.config.routing_keys.contains(&key) {
        return Err(Refused::Invalid(vec![format!(
            "Unknown 'routing_key' {key:?}: no service on this receiver has that integration key"
        )]));
    }
    rate_limit(shared, &key)?;
    let valid = if change {
        event::change(&body)
    } else {
        event::alert(&body)
    };
    let valid = valid.map_err(Refused::Invalid)?;
    Ok((key, valid, body))
}

/// Takes one event of the routing key's allowance, or refuses with the wait, counted.
fn rate_limit(shared: &Shared, key: &str) -> Result<(), Refused> {
    let per_minute = shared.config.events_per_minute;
    if per_minute == 0 {
        return Ok(());
    }
    let mut st = shared.lock();
    let rate = Rate::per_minute(per_minute);
    st.limiter.take(key, rate, Instant::now()).map_err(|wait| {
        st.stats.rate_limited += 1;
        Refused::Throttled(ratelimit::retry_after_secs(wait))
    })
}

/// An injected 429 or 5xx, in PagerDuty's error schema.
fn reject(status: u16, retry_after: Option<u64>) -> Response {
    let mut resp = if status == 429 {
        throttled()
    } else {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        error(
            status,
            status.canonical_reason().unwrap_or("Server error"),
            &[],
        )
    };
    if let Some(s) = retry_after {
        resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

/// 429 as the Events API answers a throttled key (the wording is this receiver's).
fn throttled() -> Response {
    let body = json!({
        "status": "throttle event",
        "message": "Requests for this service are arriving too quickly. Please retry later.",
        "errors": [],
    });
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

/// 400 `invalid event` with its errors, counted.
fn invalid(shared: &Shared, errors: Vec<String>) -> Response {
    shared.lock().stats.invalid += 1;
    let body = json!({
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": errors,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// An error in the `{status, message, errors[]}` schema.
fn error(status: StatusCode, message: &str, errors: &[String]) -> Response {
    let body = json!({
        "status": status.canonical_reason().unwrap_or("error").to_ascii_lowercase(),
        "message": message,
        "errors": errors,
    });
    (status, Json(body)).into_response()
}
