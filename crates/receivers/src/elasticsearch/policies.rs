//! Lifecycle policies: Elasticsearch ILM (`/_ilm/policy`) and OpenSearch ISM
//! (`/_plugins/_ism/policies`). Each flavour answers only its own API; the other one gets the
//! "no handler found" answer a real cluster gives, so a sink must pick the right one.
//!
//! ISM policies are documents of the `.opendistro-ism-config` index: replacing one needs the
//! `if_seq_no` and `if_primary_term` of the stored version, else 409 (OpenSearch ISM API docs,
//! "Update policy").

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::body::json_body;
use super::errors::{no_handler, EsError};
use super::http::{acknowledged, json_response, ok, Params};
use super::store::IlmPolicy;
use super::store::IsmPolicy;
use super::templates::lifecycle_name;
use super::{Flavor, Shared};

const ISM_INDEX: &str = ".opendistro-ism-config";

fn millis_now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The `policy` object of a `{ "policy": {...} }` body.
fn policy_of(body: &Value, kind: &str) -> Result<Value, EsError> {
    if let Some(k) = body
        .as_object()
        .and_then(|m| m.keys().find(|k| k.as_str() != "policy"))
    {
        return Err(EsError::new(
            400,
            "x_content_parse_exception",
            format!("[1:2] [{kind}] unknown field [{k}]"),
        ));
    }
    match body.get("policy") {
        Some(p @ Value::Object(_)) => Ok(p.clone()),
        _ => Err(EsError::new(
            400,
            "x_content_parse_exception",
            "[1:2] Required [policy]",
        )),
    }
}

/// Guards an endpoint to one flavour, answering like the other product would.
fn only(shared: &Shared, flavor: Flavor, method: &Method, uri: &OriginalUri) -> Option<Response> {
    (shared.config.flavor != flavor).then(|| no_handler(method.as_str(), &uri.0.to_string()))
}

pub async fn put_ilm(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = only(&shared, Flavor::Elasticsearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    let policy = match json_body(&headers, &body, false)
        .and_then(|b| Ok(policy_of(&b, "put_lifecycle_request")?))
    {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let mut st = shared.lock();
    let version = st.ilm_policies.get(&name).map_or(1, |p| p.version + 1);
    st.ilm_policies.insert(
        name,
        IlmPolicy {
            version,
            modified_ms: millis_now(),
            policy,
        },
    );
    acknowledged(&params)
}

pub async fn get_ilm(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    name: Option<Path<String>>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = only(&shared, Flavor::Elasticsearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let wanted: Vec<String> = match &name {
        Some(Path(n)) => n.split(',').map(String::from).collect(),
        None => st.ilm_policies.keys().cloned().collect(),
    };
    let mut out = Map::new();
    for n in wanted {
        let Some(p) = st.ilm_policies.get(&n) else {
            return EsError::resource_not_found(format!("Lifecycle policy not found: [{n}]"))
                .into_response();
        };
        let templates: Vec<&String> = st
            .index_templates
            .iter()
            .filter(|(_, t)| lifecycle_name(&st.component_templates, t).as_deref() == Some(&n))
            .map(|(tn, _)| tn)
            .collect();
        let streams: Vec<(&String, &Vec<String>)> = st
            .data_streams
            .iter()
            .filter(|(_, d)| d.ilm_policy.as_deref() == Some(&n))
            .map(|(dn, d)| (dn, &d.indices))
            .collect();
        let modified = chrono::DateTime::from_timestamp_millis(p.modified_ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        out.insert(
            n.clone(),
            json!({
                "version": p.version,
                "modified_date": modified,
                "policy": p.policy,
                "in_use_by": {
                    "indices": streams.iter().flat_map(|(_, i)| i.iter()).collect::<Vec<_>>(),
                    "data_streams": streams.iter().map(|(d, _)| d).collect::<Vec<_>>(),
                    "composable_templates": templates,
                }
            }),
        );
    }
    ok(Value::Object(out), &params)
}

pub async fn delete_ilm(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = only(&shared, Flavor::Elasticsearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    match shared.lock().ilm_policies.remove(&name) {
        Some(_) => acknowledged(&params),
        None => EsError::resource_not_found(format!("Lifecycle policy not found: [{name}]"))
            .into_response(),
    }
}

fn ism_not_found() -> Response {
    EsError::new(404, "status_exception", "Policy not found").into_response()
}

fn ism_conflict(name: &str, reason: String) -> Response {
    EsError::new(
        409,
        "version_conflict_engine_exception",
        format!("[{name}]: {reason}"),
    )
    .with("index_uuid", "ism-config")
    .with("shard", "0")
    .with("index", ISM_INDEX)
    .into_response()
}

fn ism_doc(name: &str, p: &IsmPolicy) -> Value {
    json!({
        "_id": name, "_version": p.version, "_seq_no": p.seq_no, "_primary_term": 1,
        "policy": p.policy,
    })
}

pub async fn put_ism(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = only(&shared, Flavor::OpenSearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    let mut policy =
        match json_body(&headers, &body, true).and_then(|b| Ok(policy_of(&b, "policy")?)) {
            Ok(p) => p,
            Err(r) => return r.into_response(),
        };
    if let Some(m) = policy.as_object_mut() {
        m.insert("policy_id".into(), json!(name));
        m.insert("last_updated_time".into(), json!(millis_now()));
        m.entry("schema_version").or_insert(json!(1));
        m.entry("error_notification").or_insert(Value::Null);
    }
    let if_seq = params.get("if_seq_no").and_then(|v| v.parse::<u64>().ok());
    let if_term = params
        .get("if_primary_term")
        .and_then(|v| v.parse::<u64>().ok());
    let mut st = shared.lock();
    st.ism_seq_no += 1;
    let seq_no = st.ism_seq_no - 1;
    let (status, version) = match st.ism_policies.get(&name) {
        None => (StatusCode::CREATED, 1),
        Some(old) => match (if_seq, if_term) {
            (Some(s), Some(1)) if s == old.seq_no => (StatusCode::OK, old.version + 1),
            (Some(s), Some(t)) => {
                return ism_conflict(
                    &name,
                    format!(
                        "version conflict, required seqNo [{s}], primary term [{t}]. current document has seqNo [{}] and primary term [1]",
                        old.seq_no
                    ),
                )
            }
            _ => {
                return ism_conflict(
                    &name,
                    format!(
                        "version conflict, document already exists (current version [{}])",
                        old.version
                    ),
                )
            }
        },
    };
    let stored = IsmPolicy {
        version,
        seq_no,
        policy,
    };
    let mut answer = ism_doc(&name, &stored);
    answer["policy"] = json!({ "policy": stored.policy });
    st.ism_policies.insert(name, stored);
    json_response(status, answer, &params)
}

pub async fn get_ism(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = only(&shared, Flavor::OpenSearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    match shared.lock().ism_policies.get(&name) {
        Some(p) => ok(ism_doc(&name, p), &params),
        None => ism_not_found(),
    }
}

pub async fn delete_ism(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = only(&shared, Flavor::OpenSearch, &method, &uri) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    let mut st = shared.lock();
    let Some(old) = st.ism_policies.remove(&name) else {
        return ism_not_found();
    };
    st.ism_seq_no += 1;
    ok(
        json!({
            "_index": ISM_INDEX, "_id": name, "_version": old.version + 1, "result": "deleted",
            "forced_refresh": true,
            "_shards": { "total": 2, "successful": 1, "failed": 0 },
            "_seq_no": st.ism_seq_no - 1, "_primary_term": 1
        }),
        &params,
    )
}
