//! `POST /_bulk` and `POST /<index>/_bulk`.
//!
//! Order of a request, as Elasticsearch goes: authentication (middleware), parameters,
//! Content-Type, body size (413) and decoding, NDJSON parsing and validation (400), indexing
//! pressure (whole-request 429), then each item: target resolution and auto-creation,
//! coordinating checks (index name, op type on data streams), shard-level rejection (item 429),
//! the document itself (400), the write (201/200, or 409 on a duplicate `create`).
//!
//! Offers (`_index`, `_id` pairs sent) are counted once the body is parsed, before any
//! whole-request fault, so a test sees every delivery attempt that reached the server; each
//! attempt is also recorded with its answer ([`super::attempts`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::attempts::Answer;
use super::body::{check_content_type, read_body, Refusal};
use super::errors::EsError;
use super::faults::{ItemFault, RequestFault};
use super::http::{json_response, Params};
use super::mappings::IndexMapping;
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
    let (actions, bytes) = match read_actions(&shared, &params, index, &headers, body).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    let keys: Vec<(String, Option<String>)> = actions
        .iter()
        .map(|a| (a.index.clone().unwrap_or_default(), a.id.clone()))
        .collect();
    if let Some(refused) = request_fault(&shared, peer, &keys, bytes) {
        return refused;
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
        let status = |i: usize| {
            items[i]
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|r| r["status"].as_u64())
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0)
        };
        record(&mut st, &keys, status, false, close_now);
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

/// Parameters, Content-Type, body (413 over the limit, gzip) and NDJSON: the actions and the
/// decoded body's size, or the whole request's refusal.
async fn read_actions(
    shared: &Shared,
    params: &Params,
    index: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<Action>, usize), Response> {
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
    check_params(params, &path).map_err(bad_request)?;
    if let Err(r) = check_content_type(headers, opensearch) {
        shared.lock().stats.requests_400 += 1;
        return Err(r.into_response());
    }
    let read = match read_body(body, headers, limit, shared.config.limit_on).await {
        Ok(r) => r,
        Err(Refusal::TooLarge) => {
            shared.lock().stats.requests_413 += 1;
            return Err(Refusal::TooLarge.into_response());
        }
        Err(Refusal::Es(e)) => return Err(bad_request(e)),
        Err(other) => return Err(other.into_response()),
    };
    {
        let mut st = shared.lock();
        st.stats.bytes_received += read.received;
        st.stats.bytes_decoded += read.bytes.len() as u64;
        st.stats.compressed_requests += u64::from(read.compressed);
    }
    let actions = ndjson::parse(&read.bytes, index.as_deref()).map_err(bad_request)?;
    Ok((actions, read.bytes.len()))
}

/// Counts the offers, then the whole-request fault in force, if any: its answer.
fn request_fault(
    shared: &Shared,
    peer: SocketAddr,
    keys: &[(String, Option<String>)],
    bytes: usize,
) -> Option<Response> {
    let mut st = shared.lock();
    for (i, id) in keys {
        if let Some(id) = id.as_ref().filter(|_| !i.is_empty()) {
            *st.offers.entry((i.clone(), id.clone())).or_default() += 1;
        }
    }
    let status_5xx = st.faults.status_5xx.unwrap_or(503);
    match st.faults.take_request_fault() {
        RequestFault::Reject429 => {
            st.stats.requests_429 += 1;
            record(&mut st, keys, |_| 429, true, false);
            drop(st);
            Some(coordinating_rejection(shared, bytes))
        }
        RequestFault::Reject5xx => {
            st.stats.requests_5xx += 1;
            record(&mut st, keys, |_| status_5xx, true, false);
            drop(st);
            let e = EsError::new(
                status_5xx,
                "cluster_block_exception",
                "blocked by: [SERVICE_UNAVAILABLE/2/no master];",
            );
            Some(e.into_response())
        }
        RequestFault::Close => {
            st.stats.connections_closed += 1;
            record(&mut st, keys, |_| 0, true, true);
            drop(st);
            Some(close(shared, peer))
        }
        RequestFault::None => None,
    }
}

/// Records one attempt for each action of a request.
fn record(
    st: &mut Store,
    keys: &[(String, Option<String>)],
    status: impl Fn(usize) -> u16,
    request: bool,
    unanswered: bool,
) {
    for (n, (index, id)) in keys.iter().enumerate() {
        let answer = Answer {
            index: index.clone(),
            status: status(n),
            request,
            unanswered,
        };
        st.attempts.record(id.as_deref(), answer);
    }
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

/// A failed item: its answer, counted by status.
fn failure(
    st: &mut Store,
    op: OpType,
    id: &Option<String>,
    index: &str,
    e: EsError,
) -> (Value, bool) {
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
}

/// One item's answer and whether it failed.
fn execute(
    st: &mut Store,
    shared: &Shared,
    a: Action,
    req_pipeline: Option<&str>,
) -> (Value, bool) {
    st.stats.items += 1;
    let (op, id) = (a.op, a.id.clone());
    let (concrete, is_stream) = match route(st, &a) {
        Ok(x) => x,
        Err(e) => return failure(st, op, &id, a.index.as_deref().unwrap_or_default(), e),
    };
    if let Some(e) = shard_fault(st, &concrete) {
        return failure(st, op, &id, &concrete, e);
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
    let checked = {
        let none = IndexMapping::default();
        let mapping = st.indices.get(&concrete).map_or(&none, |i| &i.mapping);
        let raw = a.source.as_deref().unwrap_or_default();
        documents::check_source(&st.faults, mapping, &ctx, raw, &id_text)
    };
    let (source, parsed) = match checked {
        Ok(x) => x,
        Err(e) => return failure(st, op, &id, &concrete, e),
    };
    if let (Some(root), Some(index)) = (parsed.updated, st.indices.get_mut(&concrete)) {
        index.mapping.root = root;
    }
    let doc = Doc {
        index: a.index.unwrap_or_default(),
        backing_index: concrete.clone(),
        id: id_text,
        source,
        pipeline: a.pipeline.or_else(|| req_pipeline.map(String::from)),
        version: 1,
        seq_no: 0,
        ignored: parsed.ignored,
    };
    match documents::write(st, doc, op == OpType::Create) {
        Ok(item) => (json!({ op.as_str(): item }), false),
        Err(e) => failure(st, op, &id, &concrete, e),
    }
}

/// The coordinating node: where the action goes (the concrete index, created if need be, and
/// whether it is a data stream's), or why it may not go there.
fn route(st: &mut Store, a: &Action) -> Result<(String, bool), EsError> {
    let name = a.index.clone().unwrap_or_default();
    let op = a.op;
    let exists = st.data_streams.contains_key(&name) || st.indices.contains_key(&name);
    let is_stream = matches!(st.resolve(&name, false), Some(Target::DataStream { .. }));
    if is_stream && op != OpType::Create {
        return Err(EsError::illegal_argument(
            "only write ops with an op_type of create are allowed in data streams",
        ));
    }
    if !exists && op == OpType::Delete {
        return Err(EsError::index_not_found(&name));
    }
    if !exists {
        validate_index_name(&name)?;
    }
    if op == OpType::Update {
        return Err(EsError::illegal_argument(
            "[receivers] the update action is not implemented by this receiver",
        ));
    }
    match st.resolve(&name, true) {
        Some(Target::DataStream { write_index, .. }) => Ok((write_index, is_stream)),
        Some(Target::Index { name }) => Ok((name, is_stream)),
        None => Err(EsError::index_not_found(&name)),
    }
}

/// The primary shard: the write thread pool may refuse, or the shard be unavailable.
fn shard_fault(st: &mut Store, concrete: &str) -> Option<EsError> {
    match st.faults.take_item_fault() {
        ItemFault::Reject429 => Some(EsError::new(
            429,
            "es_rejected_execution_exception",
            "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=0, max_coordinating_and_primary_bytes=0]",
        )),
        ItemFault::Reject5xx => Some(EsError::new(
            503,
            "unavailable_shards_exception",
            format!("[{concrete}][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[{concrete}][0]] containing [1] requests]"),
        )),
        ItemFault::None => None,
    }
}
