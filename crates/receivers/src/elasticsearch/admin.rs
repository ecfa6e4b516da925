//! `/__receiver/…`: the test-facing endpoints, outside anything Elasticsearch serves. They need
//! no credentials and meet no faults.
//!
//! - `GET /__receiver/faults`, `POST /__receiver/faults` (a [`Faults`] JSON; replaces them)
//! - `GET /__receiver/stats`: [`super::Stats`]
//! - `GET /__receiver/docs[?index=<data stream or index>]`: `{"docs": [Doc, ...]}`
//! - `GET /__receiver/offers[?index=<name>]`: `{"offers": [{"index", "id", "count"}, ...]}`
//! - `GET /__receiver/attempts[?id=<_id>]`: every attempt of each `_id` with its answer
//!   ([`super::Attempts`]'s JSON)
//! - `POST /__receiver/reset`: forgets documents, streams, attempts, counters and faults

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::body::decoded;
use super::faults::Faults;
use super::http::Params;
use super::Shared;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__receiver/faults", get(get_faults).post(set_faults))
        .route("/__receiver/stats", get(stats))
        .route("/__receiver/docs", get(docs))
        .route("/__receiver/offers", get(offers))
        .route("/__receiver/attempts", get(attempts))
        .route("/__receiver/reset", post(reset))
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().faults.clone()).into_response()
}

async fn set_faults(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match decoded(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            shared.lock().faults = f.clone();
            Json(f).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("invalid faults: {e}") })),
        )
            .into_response(),
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().stats.clone()).into_response()
}

async fn docs(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let docs = match params.get("index") {
        Some(i) => st.docs(i),
        None => st.all_docs(),
    };
    Json(json!({ "docs": docs })).into_response()
}

async fn offers(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let offers: Vec<_> = st
        .offers
        .iter()
        .filter(|((i, _), _)| params.get("index").is_none_or(|want| want == i))
        .map(|((i, id), n)| json!({ "index": i, "id": id, "count": n }))
        .collect();
    Json(json!({ "offers": offers })).into_response()
}

async fn attempts(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let mut a = st.attempts.clone();
    if let Some(id) = params.get("id") {
        a.events.retain(|k, _| k == id);
    }
    Json(a.to_json()).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().reset();
    Json(json!({ "reset": true })).into_response()
}
