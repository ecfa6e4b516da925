//! The Elasticsearch receiver through HTTP, as a client sees it (reqwest).

mod admin_and_templates;
mod attempts;
mod auth;
mod bulk;
mod faults;
mod mapping;

use receivers::elasticsearch::{self, Config, Handle};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

pub const STREAM: &str = "logs-salesforce.login-default";

pub async fn start(config: Config) -> Handle {
    elasticsearch::start(config).await.expect("receiver starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// NDJSON with the final newline.
pub fn ndjson(lines: &[Value]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(&l.to_string());
        s.push('\n');
    }
    s
}

/// A `create` into `index` with a timestamped source.
pub fn create(index: &str, id: &str) -> [Value; 2] {
    [
        serde_json::json!({ "create": { "_index": index, "_id": id } }),
        serde_json::json!({ "@timestamp": "2026-03-10T14:25:00.000Z", "event": { "id": id }, "message": format!("event {id}") }),
    ]
}

pub fn creates(index: &str, ids: &[&str]) -> String {
    let lines: Vec<Value> = ids.iter().flat_map(|id| create(index, id)).collect();
    ndjson(&lines)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// `POST {url}{path}` with an NDJSON body.
pub async fn post_bulk(url: &str, path: &str, body: impl Into<reqwest::Body>) -> Answer {
    let resp = client()
        .post(format!("{url}{path}"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("bulk request");
    answer(resp).await
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Item `i` of a bulk answer, under whatever action key it has.
pub fn item(body: &Value, i: usize) -> &Value {
    let entry = &body["items"][i];
    entry
        .as_object()
        .and_then(|m| m.values().next())
        .unwrap_or(&Value::Null)
}
