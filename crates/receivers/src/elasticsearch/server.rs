//! Routes and the layers every answer goes through.

use std::sync::Arc;

use axum::extract::{OriginalUri, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::errors::no_handler;
use super::http::{check_compat, ok, Params};
use super::{
    admin, auth, bulk, components, mappings, policies, streams, templates, Flavor, Shared,
};

pub fn router(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        .route("/", get(root))
        .route("/_bulk", post(bulk::bulk_root).put(bulk::bulk_root))
        .route(
            "/{index}/_bulk",
            post(bulk::bulk_index).put(bulk::bulk_index),
        )
        .route("/_index_template", get(templates::get_index_templates))
        .route(
            "/_index_template/{name}",
            get(templates::get_index_templates)
                .put(templates::put_index_template)
                .post(templates::put_index_template)
                .delete(templates::delete_index_template),
        )
        .route(
            "/_component_template",
            get(components::get_component_templates),
        )
        .route(
            "/_component_template/{name}",
            get(components::get_component_templates)
                .put(components::put_component_template)
                .post(components::put_component_template)
                .delete(components::delete_component_template),
        )
        .route("/_ilm/policy", get(policies::get_ilm))
        .route(
            "/_ilm/policy/{name}",
            get(policies::get_ilm)
                .put(policies::put_ilm)
                .delete(policies::delete_ilm),
        )
        .route(
            "/_plugins/_ism/policies/{name}",
            get(policies::get_ism)
                .put(policies::put_ism)
                .delete(policies::delete_ism),
        )
        .route("/_data_stream", get(streams::get_data_streams))
        .route(
            "/_data_stream/{name}",
            get(streams::get_data_streams)
                .put(streams::put_data_stream)
                .delete(streams::delete_data_stream),
        )
        .route("/{index}/_rollover", post(streams::rollover))
        .route("/{index}/_mapping", get(mappings::get_mapping))
        .route("/_refresh", post(streams::refresh).get(streams::refresh))
        .route(
            "/{index}/_refresh",
            post(streams::refresh).get(streams::refresh),
        )
        .merge(admin::router())
        .fallback(fallback)
        .layer(from_fn_with_state(shared.clone(), auth::layer))
        .layer(from_fn_with_state(shared.clone(), product_layer));
    // `http.compression` defaults to on for HTTP and off for HTTPS.
    let compress = shared
        .config
        .compress_responses
        .unwrap_or(!shared.config.tls);
    let router = if compress {
        router.layer(tower_http::compression::CompressionLayer::new())
    } else {
        router
    };
    router.with_state(shared)
}

async fn fallback(method: Method, uri: OriginalUri) -> Response {
    no_handler(method.as_str(), &uri.0.to_string())
}

/// `GET /`: the cluster's name and version.
async fn root(State(shared): State<Arc<Shared>>, uri: OriginalUri) -> Response {
    let c = &shared.config;
    let params = Params::parse(uri.0.query());
    let body = if c.flavor == Flavor::OpenSearch {
        json!({
            "name": c.node_name, "cluster_name": c.cluster_name, "cluster_uuid": shared.cluster_uuid,
            "version": {
                "distribution": "opensearch", "number": c.version, "build_type": "tar",
                "build_hash": "0000000000000000000000000000000000000000",
                "build_date": "2025-01-01T00:00:00.000000Z", "build_snapshot": false,
                "lucene_version": "9.12.1",
                "minimum_wire_compatibility_version": "7.10.0",
                "minimum_index_compatibility_version": "7.0.0"
            },
            "tagline": "The OpenSearch Project: https://opensearch.org/"
        })
    } else {
        let (wire, index, lucene) = match shared.major {
            0..=7 => ("6.8.0", "6.0.0-beta1", "8.11.3"),
            8 => ("7.17.0", "7.0.0", "9.12.0"),
            _ => ("8.18.0", "8.0.0", "10.1.0"),
        };
        json!({
            "name": c.node_name, "cluster_name": c.cluster_name, "cluster_uuid": shared.cluster_uuid,
            "version": {
                "number": c.version, "build_flavor": "default", "build_type": "tar",
                "build_hash": "0000000000000000000000000000000000000000",
                "build_date": "2025-01-01T00:00:00.000000000Z", "build_snapshot": false,
                "lucene_version": lucene,
                "minimum_wire_compatibility_version": wire,
                "minimum_index_compatibility_version": index
            },
            "tagline": "You Know, for Search"
        })
    };
    ok(body, &params)
}

/// Elasticsearch's outer layer: REST API compatibility headers are checked before anything
/// else, every answer carries `X-Elastic-Product: Elasticsearch` (what official clients check
/// since 7.14), a compatible-with request gets a `vnd.elasticsearch` Content-Type back, and a
/// wrong method gets Elasticsearch's 405 text. OpenSearch does none of it.
async fn product_layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if shared.config.flavor == Flavor::OpenSearch {
        return next.run(req).await;
    }
    let admin = req.uri().path().starts_with("/__receiver");
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    let method = req.method().clone();
    let uri = req.uri().to_string();
    let compat = if admin {
        Ok(None)
    } else {
        check_compat(req.headers(), shared.major, has_body)
    };
    let mut resp = match compat {
        Err(e) => e.into_response(),
        Ok(v) => {
            let mut resp = next.run(req).await;
            let is_json = resp
                .headers()
                .get(CONTENT_TYPE)
                .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
            if let (Some(v), true) = (v, is_json) {
                if let Ok(h) = HeaderValue::from_str(&format!(
                    "application/vnd.elasticsearch+json;compatible-with={v}"
                )) {
                    resp.headers_mut().insert(CONTENT_TYPE, h);
                }
            }
            resp
        }
    };
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = resp
            .headers()
            .get(ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(", ");
        resp = (
            StatusCode::METHOD_NOT_ALLOWED,
            [(CONTENT_TYPE, "application/json")],
            json!({
                "error": format!("Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{allowed}]"),
                "status": 405
            })
            .to_string(),
        )
            .into_response();
    }
    resp.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    resp
}
