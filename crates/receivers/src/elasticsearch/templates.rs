//! Composable index templates and component templates.
//!
//! Documented behaviour followed (Elasticsearch "Index templates" and "Create or update index
//! template" API): the matching template with the highest `priority` (default 0) applies to a
//! new index; a template with `data_stream: {}` makes a matching name a data stream; two templates
//! with overlapping `index_patterns` at the same priority are refused; `composed_of` must name
//! existing component templates unless listed in `ignore_missing_component_templates`.
//! Elasticsearch (x-pack) ships a `logs` template (`logs-*-*`, priority 100, data stream), so
//! `logs-<dataset>-<namespace>` is a data stream even on an empty cluster.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::body::json_body;
use super::errors::EsError;
use super::faults::lookup;
use super::filter_path::glob_match;
use super::http::{acknowledged, ok, Params};
use super::{Flavor, Shared};

const INDEX_TEMPLATE_FIELDS: &[&str] = &[
    "index_patterns",
    "template",
    "composed_of",
    "priority",
    "version",
    "_meta",
    "data_stream",
    "allow_auto_create",
    "ignore_missing_component_templates",
    "deprecated",
];
pub const COMPONENT_TEMPLATE_FIELDS: &[&str] = &["template", "version", "_meta", "deprecated"];

/// The x-pack `logs` template (`logs@template.json`), as `GET /_index_template/logs` shows it.
pub fn builtin_logs() -> Value {
    json!({
        "index_patterns": ["logs-*-*"],
        "composed_of": ["logs@mappings", "logs@settings", "logs@custom", "ecs@mappings"],
        "priority": 100,
        "_meta": { "description": "default logs template installed by x-pack", "managed": true },
        "data_stream": { "hidden": false, "allow_custom_routing": false },
        "allow_auto_create": true,
        "ignore_missing_component_templates": ["logs@custom"]
    })
}

fn patterns(t: &Value) -> Vec<String> {
    t.get("index_patterns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn priority(t: &Value) -> i64 {
    t.get("priority").and_then(Value::as_i64).unwrap_or(0)
}

/// The template a new index named `name` gets: the highest priority among those matching.
pub fn best_template(templates: &BTreeMap<String, Value>, name: &str) -> Option<(String, Value)> {
    templates
        .iter()
        .filter(|(_, t)| patterns(t).iter().any(|p| glob_match(p, name)))
        .max_by_key(|(_, t)| priority(t))
        .map(|(n, t)| (n.clone(), t.clone()))
}

/// `index.lifecycle.name` from a template's settings, its own over its components', later
/// components over earlier ones.
pub fn lifecycle_name(components: &BTreeMap<String, Value>, template: &Value) -> Option<String> {
    let from = |t: &Value| {
        let settings = t.get("template")?.get("settings")?;
        lookup(settings, "index.lifecycle.name")
            .or_else(|| lookup(settings, "lifecycle.name"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    if let Some(n) = from(template) {
        return Some(n);
    }
    let composed = template.get("composed_of").and_then(Value::as_array)?;
    composed
        .iter()
        .rev()
        .filter_map(|c| components.get(c.as_str()?))
        .find_map(from)
}

/// Whether some name matches both globs (`*` wildcards only).
pub fn patterns_overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
    overlap(&a, &b, 0, 0, &mut memo)
}

fn overlap(a: &[char], b: &[char], i: usize, j: usize, memo: &mut Vec<Vec<Option<bool>>>) -> bool {
    if let Some(r) = memo[i][j] {
        return r;
    }
    let r = if i == a.len() && j == b.len() {
        true
    } else if i < a.len() && a[i] == '*' {
        overlap(a, b, i + 1, j, memo) || (j < b.len() && overlap(a, b, i, j + 1, memo))
    } else if j < b.len() && b[j] == '*' {
        overlap(a, b, i, j + 1, memo) || (i < a.len() && overlap(a, b, i + 1, j, memo))
    } else {
        i < a.len() && j < b.len() && a[i] == b[j] && overlap(a, b, i + 1, j + 1, memo)
    };
    memo[i][j] = Some(r);
    r
}

pub fn unknown_field(kind: &str, body: &Value, allowed: &[&str]) -> Result<(), EsError> {
    if let Some(k) = body
        .as_object()
        .and_then(|m| m.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        return Err(EsError::new(
            400,
            "x_content_parse_exception",
            format!("[1:2] [{kind}] unknown field [{k}]"),
        ));
    }
    Ok(())
}

/// Checks a `PUT /_index_template` body and gives it the shape `GET` returns.
fn normalize_index_template(body: &Value) -> Result<Value, EsError> {
    unknown_field("index_template", body, INDEX_TEMPLATE_FIELDS)?;
    let pats: Vec<Value> = match body.get("index_patterns") {
        Some(Value::String(s)) => vec![Value::String(s.clone())],
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => {
            return Err(EsError::new(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index patterns are missing;",
            ))
        }
    };
    let mut out = Map::new();
    out.insert("index_patterns".into(), Value::Array(pats));
    for key in INDEX_TEMPLATE_FIELDS.iter().skip(1) {
        let value = match (*key, body.get(*key)) {
            ("composed_of", None) => json!([]),
            ("data_stream", Some(ds)) => {
                let mut d = json!({ "hidden": false, "allow_custom_routing": false });
                if let (Some(m), Some(given)) = (d.as_object_mut(), ds.as_object()) {
                    m.extend(given.clone());
                }
                d
            }
            (_, Some(v)) => v.clone(),
            (_, None) => continue,
        };
        out.insert(key.to_string(), value);
    }
    Ok(Value::Object(out))
}

pub fn names_matching<'a>(
    map: &'a BTreeMap<String, Value>,
    expr: &str,
) -> Vec<(&'a String, &'a Value)> {
    let parts: Vec<&str> = expr.split(',').collect();
    map.iter()
        .filter(|(n, _)| parts.iter().any(|p| glob_match(p, n)))
        .collect()
}

pub async fn put_index_template(
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
    let template = match normalize_index_template(&body) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let mut st = shared.lock();
    if params.flag("create") && st.index_templates.contains_key(&name) {
        return EsError::illegal_argument(format!("index template [{name}] already exists"))
            .into_response();
    }
    let ignored: Vec<String> = template
        .get("ignore_missing_component_templates")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<String> = template["composed_of"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|c| st.component(c).is_none() && !ignored.iter().any(|i| i == c))
        .map(String::from)
        .collect();
    if !missing.is_empty() {
        return EsError::illegal_argument(format!(
            "index template [{name}] specifies component templates [{}] that do not exist",
            missing.join(", ")
        ))
        .into_response();
    }
    let mine = patterns(&template);
    let clashes: Vec<(&String, Vec<String>)> = st
        .index_templates
        .iter()
        .filter(|(n, t)| **n != name && priority(t) == priority(&template))
        .filter(|(_, t)| {
            patterns(t)
                .iter()
                .any(|p| mine.iter().any(|m| patterns_overlap(p, m)))
        })
        .map(|(n, t)| (n, patterns(t)))
        .collect();
    if !clashes.is_empty() {
        let names: Vec<&str> = clashes.iter().map(|(n, _)| n.as_str()).collect();
        let detail: Vec<String> = clashes
            .iter()
            .map(|(n, p)| format!("{n} => [{}]", p.join(", ")))
            .collect();
        return EsError::illegal_argument(format!(
            "index template [{name}] has index patterns [{}] matching patterns from existing templates [{}] with patterns ({}) that have the same priority [{}], multiple index templates may not match during index creation, please use a different priority",
            mine.join(", "),
            names.join(", "),
            detail.join(","),
            priority(&template)
        ))
        .into_response();
    }
    st.index_templates.insert(name, template);
    acknowledged(&params)
}

pub async fn get_index_templates(
    State(shared): State<Arc<Shared>>,
    name: Option<Path<String>>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let expr = name.map(|Path(n)| n).unwrap_or_else(|| "*".into());
    let st = shared.lock();
    let found: Vec<Value> = names_matching(&st.index_templates, &expr)
        .into_iter()
        .map(|(n, t)| json!({ "name": n, "index_template": t }))
        .collect();
    if found.is_empty() && !expr.contains('*') {
        return EsError::resource_not_found(format!("index template matching [{expr}] not found"))
            .into_response();
    }
    ok(json!({ "index_templates": found }), &params)
}

pub async fn delete_index_template(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let mut st = shared.lock();
    if !st.index_templates.contains_key(&name) {
        return EsError::resource_not_found(format!("index_template matching [{name}] not found"))
            .into_response();
    }
    let users: Vec<String> = st
        .data_streams
        .iter()
        .filter(|(_, d)| d.template == name)
        .map(|(n, _)| n.clone())
        .collect();
    if !users.is_empty() {
        return EsError::illegal_argument(format!(
            "unable to remove composable templates [{name}] as they are in use by a data streams [{}]",
            users.join(", ")
        ))
        .into_response();
    }
    st.index_templates.remove(&name);
    acknowledged(&params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_of_globs() {
        assert!(patterns_overlap("logs-*-*", "logs-salesforce.*-*"));
        assert!(patterns_overlap("logs-*", "*-default"));
        assert!(!patterns_overlap("logs-*", "metrics-*"));
        assert!(!patterns_overlap("a*b", "a*c"));
    }

    #[test]
    fn highest_priority_wins_and_decides_data_streams() {
        let mut t = BTreeMap::new();
        t.insert("logs".to_string(), builtin_logs());
        t.insert(
            "plain".to_string(),
            json!({"index_patterns": ["logs-plain.*-*"], "priority": 200}),
        );
        let (n, _) = best_template(&t, "logs-salesforce.login-default").unwrap();
        assert_eq!(n, "logs");
        let (n, v) = best_template(&t, "logs-plain.x-default").unwrap();
        assert_eq!(n, "plain");
        assert!(v.get("data_stream").is_none());
        assert!(best_template(&t, "other").is_none());
    }

    #[test]
    fn normalized_shape() {
        let v =
            normalize_index_template(&json!({"index_patterns": "a-*", "data_stream": {}})).unwrap();
        assert_eq!(v["index_patterns"], json!(["a-*"]));
        assert_eq!(v["composed_of"], json!([]));
        assert_eq!(v["data_stream"]["hidden"], false);
        assert!(normalize_index_template(&json!({"template": {}})).is_err());
        assert!(normalize_index_template(&json!({"index_patterns": ["x"], "bogus": 1})).is_err());
    }
}
