//! One index's mappings and settings, and the merge rules of templates (see `mappings.rs` for
//! where they come from): a leaf both the store and the mapping handlers use.

use serde_json::{json, Map, Value};

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
    pub(super) fn merge(&mut self, part: &Value) {
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

pub(super) fn merge_root(root: &mut Value, add: &Map<String, Value>) {
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
