//! Data streams (`/_data_stream`), rollover and refresh.
//!
//! A data stream writes to its newest backing index (`.ds-<name>-<date>-<generation>`). A
//! rollover starts a new one, and since `_id` uniqueness holds only inside one backing index, a
//! `create` of an `_id` written before the rollover succeeds again (elastic/elasticsearch#44794):
//! tests can show that limit of `_id`-based de-duplication with `POST /<stream>/_rollover`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::bulk::validate_index_name;
use super::errors::EsError;
use super::filter_path::glob_match;
use super::http::{acknowledged, ok, Params};
use super::templates::{best_template, lifecycle_name};
use super::{Flavor, Shared};

pub async fn get_data_streams(
    State(shared): State<Arc<Shared>>,
    name: Option<Path<String>>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let expr = name.map(|Path(n)| n).unwrap_or_else(|| "*".into());
    let opensearch = shared.config.flavor == Flavor::OpenSearch;
    let st = shared.lock();
    let mut found = Vec::new();
    for part in expr.split(',') {
        let names: Vec<&String> = st
            .data_streams
            .keys()
            .filter(|n| glob_match(part, n))
            .collect();
        if names.is_empty() && !part.contains('*') {
            return EsError::index_not_found(part).into_response();
        }
        found.extend(
            names
                .into_iter()
                .filter_map(|n| st.data_stream_json(n, opensearch)),
        );
    }
    ok(json!({ "data_streams": found }), &params)
}

pub async fn put_data_stream(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    if let Err(e) = validate_index_name(&name) {
        return e.into_response();
    }
    let mut st = shared.lock();
    if st.data_streams.contains_key(&name) {
        return EsError::new(
            400,
            "resource_already_exists_exception",
            format!("data_stream [{name}] already exists"),
        )
        .into_response();
    }
    if st.indices.contains_key(&name) {
        return EsError::new(
            400,
            "resource_already_exists_exception",
            format!("index [{name}] already exists"),
        )
        .into_response();
    }
    let Some((tname, t)) =
        best_template(&st.index_templates, &name).filter(|(_, t)| t.get("data_stream").is_some())
    else {
        return EsError::illegal_argument(format!(
            "no matching index template found for data stream [{name}]"
        ))
        .into_response();
    };
    let policy = lifecycle_name(&st.component_templates, &t);
    st.create_data_stream(&name, &tname, policy);
    acknowledged(&params)
}

pub async fn delete_data_stream(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let mut st = shared.lock();
    let names: Vec<String> = st
        .data_streams
        .keys()
        .filter(|n| glob_match(&name, n))
        .cloned()
        .collect();
    if names.is_empty() && !name.contains('*') {
        return EsError::index_not_found(&name).into_response();
    }
    for n in names {
        st.delete_data_stream(&n);
    }
    acknowledged(&params)
}

/// `POST /<data-stream>/_rollover`. Conditions in the body are not evaluated: the stream rolls
/// over unconditionally, as with an empty body.
pub async fn rollover(
    State(shared): State<Arc<Shared>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let mut st = shared.lock();
    if !st.data_streams.contains_key(&target) {
        if st.indices.contains_key(&target) {
            return EsError::illegal_argument(format!(
                "rollover target [{target}] is not a data stream: this receiver rolls over data streams only"
            ))
            .into_response();
        }
        return EsError::illegal_argument(format!("rollover target [{target}] does not exist"))
            .into_response();
    }
    let Some((old, new)) = st.rollover(&target) else {
        return EsError::index_not_found(&target).into_response();
    };
    ok(
        json!({
            "acknowledged": true, "shards_acknowledged": true,
            "old_index": old, "new_index": new,
            "rolled_over": true, "dry_run": false, "lazy": false, "conditions": {}
        }),
        &params,
    )
}

/// `POST /_refresh` and `POST /<target>/_refresh`. Documents are searchable here as soon as
/// they are stored, so this only checks the target and reports its shards.
pub async fn refresh(
    State(shared): State<Arc<Shared>>,
    target: Option<Path<String>>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let count = match &target {
        None => st.indices.len(),
        Some(Path(t)) => {
            let mut n = 0;
            for part in t.split(',') {
                let here = match st.data_streams.get(part) {
                    Some(ds) => ds.indices.len(),
                    None => st.indices.keys().filter(|i| glob_match(part, i)).count(),
                };
                if here == 0 && !part.contains('*') {
                    return EsError::index_not_found(part).into_response();
                }
                n += here;
            }
            n
        }
    };
    let shards: Value = json!({ "total": count * 2, "successful": count, "failed": 0 });
    ok(json!({ "_shards": shards }), &params)
}
