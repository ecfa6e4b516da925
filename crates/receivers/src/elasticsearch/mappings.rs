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
use super::index_mapping::merge_root;
pub use super::index_mapping::{is_object, truthy, IndexMapping};
use super::store::State as Store;
use super::{builtin, Shared};

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
