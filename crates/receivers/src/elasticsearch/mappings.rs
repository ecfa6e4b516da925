//! Index mappings: what a new index gets from its template, and `GET /<target>/_mapping`.
//!
//! Documented behaviour followed ("Index templates", "Composing index templates", "Data
//! streams"): a new index (a data stream's backing index included) takes the mappings and
//! settings of the matching template's `composed_of` component templates in order, then the
//! template's own, each later one overriding: `properties` merge field by field (objects
//! deeply), `dynamic_templates` merge by name, other keys are replaced. Dotted names in
//! `properties` stand for objects (`"data_stream.type"` is `data_stream` → `type`). A data
//! stream's index maps `@timestamp` as `date` when the template does not. Dynamic mappings
//! live in one index: a rollover starts again from the template.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::filter_path::glob_match;
use super::http::{ok, Params};
use super::store::State as Store;
use super::{builtin, Shared};

/// One index's mappings and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexMapping {
    /// The root object mapper as `GET /<index>/_mapping` shows it: `properties`,
    /// `dynamic_templates`, `dynamic`, `date_detection`...
    pub root: Value,
    /// Index settings, flattened to dotted keys starting with `index.`.
    pub settings: Map<String, Value>,
}

impl Default for IndexMapping {
    fn default() -> Self {
        IndexMapping {
            root: json!({}),
            settings: Map::new(),
        }
    }
}

impl IndexMapping {
    /// `index.mapping.ignore_malformed`.
    pub fn ignore_malformed(&self) -> bool {
        truthy(self.settings.get("index.mapping.ignore_malformed"))
    }

    /// Adds the parts of a template body (`{"mappings", "settings"}`).
    fn merge(&mut self, part: &Value) {
        if let Some(m) = part.get("mappings").and_then(Value::as_object) {
            merge_root(&mut self.root, m);
        }
        if let Some(s) = part.get("settings") {
            flatten("", s, &mut self.settings);
        }
    }
}

pub fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

/// Settings as dotted keys, each under `index.` (Elasticsearch's normalisation).
fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, child, out);
            }
        }
        other => {
            let key = if prefix.starts_with("index.") {
                prefix.to_string()
            } else {
                format!("index.{prefix}")
            };
            out.insert(key, other.clone());
        }
    }
}

fn merge_root(root: &mut Value, add: &Map<String, Value>) {
    for (k, v) in add {
        match k.as_str() {
            "properties" => {
                let into = root
                    .as_object_mut()
                    .map(|r| r.entry("properties").or_insert_with(|| json!({})));
                if let (Some(into), Some(props)) = (into, v.as_object()) {
                    merge_properties(into, &expand(props));
                }
            }
            "dynamic_templates" => merge_dynamic_templates(root, v),
            _ => root[k] = v.clone(),
        }
    }
}

/// Dotted property names as nested objects.
pub fn expand(props: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Value::Object(Map::new());
    for (name, def) in props {
        let mut def = def.clone();
        if let Some(inner) = def.get("properties").and_then(Value::as_object) {
            def["properties"] = Value::Object(expand(inner));
        }
        let mut parts: Vec<&str> = name.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let nested = parts.iter().rev().fold(
            json!({ last: def }),
            |acc, p| json!({ *p: { "properties": acc } }),
        );
        if let Some(m) = nested.as_object() {
            merge_properties(&mut out, m);
        }
    }
    match out {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Field by field; two object mappers merge deeply, anything else is replaced.
fn merge_properties(into: &mut Value, add: &Map<String, Value>) {
    let Some(into) = into.as_object_mut() else {
        return;
    };
    for (name, def) in add {
        match into.get_mut(name) {
            Some(old) if is_object(old) && is_object(def) => {
                for (k, v) in def.as_object().into_iter().flatten() {
                    if k == "properties" {
                        let slot = old
                            .as_object_mut()
                            .map(|o| o.entry("properties").or_insert_with(|| json!({})));
                        if let (Some(slot), Some(p)) = (slot, v.as_object()) {
                            merge_properties(slot, p);
                        }
                    } else {
                        old[k] = v.clone();
                    }
                }
            }
            _ => {
                into.insert(name.clone(), def.clone());
            }
        }
    }
}

/// An object mapper (explicit `object`/`nested`/`passthrough`, or no type at all).
pub fn is_object(def: &Value) -> bool {
    match def.get("type").and_then(Value::as_str) {
        None => def.is_object(),
        Some(t) => matches!(t, "object" | "nested" | "passthrough"),
    }
}

fn merge_dynamic_templates(root: &mut Value, add: &Value) {
    let mut list: Vec<Value> = root
        .get("dynamic_templates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in add.as_array().into_iter().flatten() {
        let name = t.as_object().and_then(|m| m.keys().next().cloned());
        let same = |x: &Value| x.as_object().and_then(|m| m.keys().next().cloned()) == name;
        match list.iter_mut().find(|x| same(x)) {
            Some(slot) => *slot = t.clone(),
            None => list.push(t.clone()),
        }
    }
    root["dynamic_templates"] = Value::Array(list);
}

impl Store {
    /// A component template by name: a stored one, else a built-in one when x-pack's templates
    /// are installed.
    pub fn component(&self, name: &str) -> Option<&Value> {
        self.component_templates
            .get(name)
            .or_else(|| builtin::component(name).filter(|_| self.builtin_components))
    }

    /// The mappings a new index gets from index template `template` (none: the defaults).
    pub fn compose(&self, template: Option<&Value>, data_stream: bool) -> IndexMapping {
        let mut m = IndexMapping::default();
        if let Some(t) = template {
            for c in t
                .get("composed_of")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(part) = c.as_str().and_then(|c| self.component(c)) {
                    m.merge(&part["template"]);
                }
            }
            m.merge(&t["template"]);
        }
        if data_stream && m.root.pointer("/properties/@timestamp").is_none() {
            merge_root(
                &mut m.root,
                json!({ "properties": { "@timestamp": { "type": "date" } } })
                    .as_object()
                    .unwrap_or(&Map::new()),
            );
        }
        m
    }
}

/// `GET /<target>/_mapping`: each concrete index (a data stream's backing indices) with its
/// mappings.
pub async fn get_mapping(
    State(shared): State<Arc<Shared>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let st = shared.lock();
    let mut out = Map::new();
    for part in target.split(',') {
        let names: Vec<String> = match st.data_streams.get(part) {
            Some(ds) => ds.indices.clone(),
            None => st
                .data_streams
                .iter()
                .filter(|(n, _)| part.contains('*') && glob_match(part, n))
                .flat_map(|(_, d)| d.indices.clone())
                .chain(
                    st.indices
                        .keys()
                        .filter(|i| glob_match(part, i) && (part.contains('*') || *i == part))
                        .filter(|i| !i.starts_with(".ds-") || part.starts_with(".ds-"))
                        .cloned(),
                )
                .collect(),
        };
        if names.is_empty() && !part.contains('*') {
            return EsError::index_not_found(part).into_response();
        }
        for n in names {
            if let Some(i) = st.indices.get(&n) {
                out.insert(n, json!({ "mappings": i.mapping.root }));
            }
        }
    }
    ok(Value::Object(out), &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_then_own_mappings_merge() {
        let mut m = IndexMapping::default();
        m.merge(&json!({
            "mappings": {
                "dynamic_templates": [{ "a": { "match": "x" } }, { "b": { "match": "y" } }],
                "properties": { "data_stream.type": { "type": "constant_keyword" }, "n": { "type": "long" } }
            },
            "settings": { "index": { "mapping": { "ignore_malformed": "true" } } }
        }));
        m.merge(&json!({
            "mappings": {
                "dynamic_templates": [{ "b": { "match": "z" } }, { "c": { "match": "w" } }],
                "properties": { "data_stream": { "properties": { "dataset": { "type": "keyword" } } }, "n": { "type": "keyword" } }
            },
            "settings": { "mapping.total_fields.limit": 10 }
        }));
        let ds = &m.root["properties"]["data_stream"]["properties"];
        assert_eq!(ds["type"]["type"], "constant_keyword");
        assert_eq!(ds["dataset"]["type"], "keyword");
        assert_eq!(m.root["properties"]["n"]["type"], "keyword");
        let names: Vec<String> = m.root["dynamic_templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_object().unwrap().keys().next().unwrap().clone())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(m.root["dynamic_templates"][1]["b"]["match"], "z");
        assert!(m.ignore_malformed());
        assert_eq!(m.settings["index.mapping.total_fields.limit"], 10);
    }
}
