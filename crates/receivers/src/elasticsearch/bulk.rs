//! `POST /_bulk` and `POST /<index>/_bulk`.
//!
//! Order of a request, as Elasticsearch goes: authentication (middleware), parameters,
//! Content-Type, body size (413) and decoding, NDJSON parsing and validation (400), indexing
//! pressure (whole-request 429), then each item: target resolution and auto-creation,
//! coordinating checks (index name, op type on data streams), shard-level rejection (item 429),
//! the document itself (400), the write (201/200, or 409 on a duplicate `create`).
//!
//! Offers (`_index`, `_id` pairs sent) are counted once the body is parsed, before any
//! whole-request fault, so a test sees every delivery attempt that reached the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::body::{check_content_type, read_body, Refusal};
use super::errors::EsError;
use super::faults::{ItemFault, RequestFault};
use super::http::{json_response, Params};
use super::ndjson::{self, Action, OpType};
use super::store::{random_id, Doc, State as Store, Target};
use super::{conn, documents, Flavor, Shared};

const KNOWN_PARAMS: &[&str] = &[
    "pipeline",
    "refresh",
    "routing",
    "timeout",
    "wait_for_active_shards",
    "require_alias",
    "require_data_stream",
    "_source",
    "_source_includes",
    "_source_excludes",
    "list_executed_pipelines",
    "include_source_on_error",
];

pub async fn bulk_root(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run(shared, peer, None, q, headers, body).await
}

pub async fn bulk_index(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(index): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run(shared, peer, Some(index), q, headers, body).await
}

fn check_params(params: &Params, path: &str) -> Result<(), EsError> {
    params.check_known(path, KNOWN_PARAMS)?;
    match params.get("refresh") {
        None | Some("" | "true" | "false" | "wait_for") => Ok(()),
        Some(other) => Err(EsError::illegal_argument(format!(
            "Unknown value for refresh: [{other}]."
        ))),
    }
}

async fn run(
    shared: Arc<Shared>,
    peer: SocketAddr,
    index: Option<String>,
    q: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let params = Params::parse(q.as_deref());
    let path = index
        .as_ref()
        .map_or("/_bulk".to_string(), |i| format!("/{i}/_bulk"));
    let opensearch = shared.config.flavor == Flavor::OpenSearch;
    let limit = {
        let mut st = shared.lock();
        st.stats.bulk_requests += 1;
        st.faults.max_content_length()
    };
    let bad_request = |e: EsError| {
        shared.lock().stats.requests_400 += 1;
        e.into_response()
    };
    if let Err(e) = check_params(&params, &path) {
        return bad_request(e);
    }
    if let Err(r) = check_content_type(&headers, opensearch) {
        shared.lock().stats.requests_400 += 1;
        return r.into_response();
    }
    let read = match read_body(body, &headers, limit, shared.config.limit_on).await {
        Ok(r) => r,
        Err(Refusal::TooLarge) => {
            shared.lock().stats.requests_413 += 1;
            return Refusal::TooLarge.into_response();
        }
        Err(Refusal::Es(e)) => return bad_request(e),
        Err(other) => return other.into_response(),
    };
    {
        let mut st = shared.lock();
        st.stats.bytes_received += read.received;
        st.stats.bytes_decoded += read.bytes.len() as u64;
        st.stats.compressed_requests += u64::from(read.compressed);
    }
    let actions = match ndjson::parse(&read.bytes, index.as_deref()) {
        Ok(a) => a,
        Err(e) => return bad_request(e),
    };

    let fault = {
        let mut st = shared.lock();
        for a in &actions {
            if let (Some(i), Some(id)) = (&a.index, &a.id) {
                *st.offers.entry((i.clone(), id.clone())).or_default() += 1;
            }
        }
        let fault = st.faults.take_request_fault();
        match fault {
            RequestFault::Reject429 => st.stats.requests_429 += 1,
            RequestFault::Reject5xx => st.stats.requests_5xx += 1,
            RequestFault::Close => st.stats.connections_closed += 1,
            RequestFault::None => {}
        }
        fault
    };
    match fault {
        RequestFault::Reject429 => return coordinating_rejection(&shared, read.bytes.len()),
        RequestFault::Reject5xx => {
            let status = shared.lock().faults.status_5xx.unwrap_or(503);
            return EsError::new(
                status,
                "cluster_block_exception",
                "blocked by: [SERVICE_UNAVAILABLE/2/no master];",
            )
            .into_response();
        }
        RequestFault::Close => return close(&shared, peer),
        RequestFault::None => {}
    }

    let req_pipeline = params.get("pipeline");
    let (items, errors, close_now, delay) = {
        let mut st = shared.lock();
        let mut errors = false;
        let items: Vec<Value> = actions
            .into_iter()
            .map(|a| {
                let (item, failed) = execute(&mut st, &shared, a, req_pipeline);
                errors |= failed;
                item
            })
            .collect();
        let close_now = st.faults.take_close_after_store();
        if close_now {
            st.stats.connections_closed += 1;
        }
        (items, errors, close_now, st.faults.delay_ms)
    };
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if close_now {
        return close(&shared, peer);
    }
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    json_response(
        StatusCode::OK,
        json!({ "took": took, "errors": errors, "items": items }),
        &params,
    )
}

/// Indexing pressure on the coordinating node: the whole request is refused with 429.
fn coordinating_rejection(shared: &Shared, bytes: usize) -> Response {
    let retry_after = shared.lock().faults.retry_after_secs;
    let mut e = EsError::new(
        429,
        "es_rejected_execution_exception",
        format!(
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes={bytes}, max_coordinating_and_primary_bytes=0]"
        ),
    );
    if let Some(secs) = retry_after {
        e = e.header(RETRY_AFTER, secs.to_string());
    }
    e.into_response()
}

/// Closes the client's connection without an answer.
fn close(shared: &Shared, peer: SocketAddr) -> Response {
    conn::close(&shared.kills, peer)
}

/// Elasticsearch's index name rules (`MetadataCreateIndexService.validateIndexOrAliasName`).
pub fn validate_index_name(name: &str) -> Result<(), EsError> {
    let invalid = |why: &str| {
        Err(EsError::new(
            400,
            "invalid_index_name_exception",
            format!("Invalid index name [{name}], {why}"),
        )
        .with("index_uuid", "_na_")
        .with("index", name))
    };
    const FORBIDDEN: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ','];
    if name.contains(FORBIDDEN) {
        return invalid(
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        );
    }
    if name.contains('#') {
        return invalid("must not contain '#'");
    }
    if name.contains(':') {
        return invalid("must not contain ':'");
    }
    if name.starts_with(['_', '-', '+']) {
        return invalid("must not start with '_', '-', or '+'");
    }
    if name != name.to_lowercase() {
        return invalid("must be lowercase");
    }
    if name == "." || name == ".." {
        return invalid("must not be '.' or '..'");
    }
    if name.len() > 255 {
        return invalid(&format!("index name is too long, ({} > 255)", name.len()));
    }
    Ok(())
}

/// One item's answer and whether it failed.
fn execute(
    st: &mut Store,
    shared: &Shared,
    a: Action,
    req_pipeline: Option<&str>,
) -> (Value, bool) {
    st.stats.items += 1;
    let op = a.op;
    let name = a.index.clone().unwrap_or_default();
    let id = a.id.clone();
    let failure = |st: &mut Store, index: &str, e: EsError| {
        match e.status.as_u16() {
            409 => st.stats.conflicts += 1,
            429 => st.stats.items_429 += 1,
            500..=599 => st.stats.items_5xx += 1,
            _ => st.stats.rejected += 1,
        }
        let item = json!({ op.as_str(): {
            "_index": index, "_id": id, "status": e.status.as_u16(), "error": e.cause_json()
        }});
        (item, true)
    };

    // Coordinating node: where does the action go, and may it go there?
    let exists = st.data_streams.contains_key(&name) || st.indices.contains_key(&name);
    let target = st.resolve(&name, false);
    let is_stream = matches!(target, Some(Target::DataStream { .. }));
    if is_stream && op != OpType::Create {
        return failure(
            st,
            &name,
            EsError::illegal_argument(
                "only write ops with an op_type of create are allowed in data streams",
            ),
        );
    }
    if !exists && op == OpType::Delete {
        return failure(st, &name, EsError::index_not_found(&name));
    }
    if !exists {
        if let Err(e) = validate_index_name(&name) {
            return failure(st, &name, e);
        }
    }
    if op == OpType::Update {
        return failure(
            st,
            &name,
            EsError::illegal_argument(
                "[receivers] the update action is not implemented by this receiver",
            ),
        );
    }
    let concrete = match st.resolve(&name, true) {
        Some(Target::DataStream { write_index, .. }) => write_index,
        Some(Target::Index { name }) => name,
        None => return failure(st, &name, EsError::index_not_found(&name)),
    };

    // The primary shard: the write thread pool may refuse, or the shard be unavailable.
    match st.faults.take_item_fault() {
        ItemFault::Reject429 => {
            let e = EsError::new(
                429,
                "es_rejected_execution_exception",
                "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=0, max_coordinating_and_primary_bytes=0]",
            );
            return failure(st, &concrete, e);
        }
        ItemFault::Reject5xx => {
            let e = EsError::new(
                503,
                "unavailable_shards_exception",
                format!("[{concrete}][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[{concrete}][0]] containing [1] requests]"),
            );
            return failure(st, &concrete, e);
        }
        ItemFault::None => {}
    }

    if op == OpType::Delete {
        return documents::delete(st, &concrete, id.as_deref().unwrap_or_default());
    }

    let ctx = documents::ParseCtx {
        opensearch: shared.config.flavor == Flavor::OpenSearch,
        major: shared.major,
        require_timestamp: shared.config.require_timestamp && is_stream,
    };
    let id_text = id.clone().unwrap_or_else(|| random_id(20));
    let source = match documents::check_source(
        st,
        &ctx,
        a.source.as_deref().unwrap_or_default(),
        &id_text,
    ) {
        Ok(s) => s,
        Err(e) => return failure(st, &concrete, e),
    };
    let pipeline = a.pipeline.or_else(|| req_pipeline.map(String::from));
    let doc = Doc {
        index: name,
        backing_index: concrete.clone(),
        id: id_text,
        source,
        pipeline,
        version: 1,
        seq_no: 0,
    };
    match documents::write(st, doc, op == OpType::Create) {
        Ok(item) => (json!({ op.as_str(): item }), false),
        Err(e) => failure(st, &concrete, e),
    }
}
