//! Component templates (`/_component_template`): building blocks that composable index
//! templates name in `composed_of`. One in use by an index template cannot be deleted.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::body::json_body;
use super::errors::EsError;
use super::http::{acknowledged, ok, Params};
use super::templates::{names_matching, unknown_field, COMPONENT_TEMPLATE_FIELDS};
use super::{Flavor, Shared};

pub async fn put_component_template(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::parse(q.as_deref());
    let opensearch = shared.config.flavor == Flavor::OpenSearch;
    let body = match json_body(&headers, &body, opensearch) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if let Err(e) = unknown_field("component_template", &body, COMPONENT_TEMPLATE_FIELDS) {
        return e.into_response();
    }
    if body.get("template").is_none() {
        return EsError::new(
            400,
            "x_content_parse_exception",
            "[1:2] Required [template]",
        )
        .into_response();
    }
    let mut st = shared.lock();
    if params.flag("create") && st.component_templates.contains_key(&name) {
        return EsError::illegal_argument(format!("component template [{name}] already exists"))
            .into_response();
    }
    st.component_templates.insert(name, body);
    acknowledged(&params)
}

pub async fn get_component_templates(
    State(shared): State<Arc<Shared>>,
    name: Option<Path<String>>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let expr = name.map(|Path(n)| n).unwrap_or_else(|| "*".into());
    let st = shared.lock();
    let found: Vec<Value> = names_matching(&st.component_templates, &expr)
        .into_iter()
        .map(|(n, t)| json!({ "name": n, "component_template": t }))
        .collect();
    if found.is_empty() && !expr.contains('*') {
        return EsError::resource_not_found(format!(
            "component template matching [{expr}] not found"
        ))
        .into_response();
    }
    ok(json!({ "component_templates": found }), &params)
}

pub async fn delete_component_template(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let mut st = shared.lock();
    if !st.component_templates.contains_key(&name) {
        return EsError::resource_not_found(format!(
            "component template matching [{name}] not found"
        ))
        .into_response();
    }
    let users: Vec<String> = st
        .index_templates
        .iter()
        .filter(|(_, t)| {
            t["composed_of"]
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c.as_str() == Some(name.as_str())))
        })
        .map(|(n, _)| n.clone())
        .collect();
    if !users.is_empty() {
        return EsError::illegal_argument(format!(
            "component templates [{name}] cannot be removed as they are still in use by index templates [{}]",
            users.join(", ")
        ))
        .into_response();
    }
    st.component_templates.remove(&name);
    acknowledged(&params)
}
