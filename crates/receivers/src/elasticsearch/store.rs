//! The receiver's memory: indices, data streams, templates, policies, counters.
//!
//! Everything sits behind one mutex in [`super::Shared`]; no lock is held across an `await`.

use std::collections::{BTreeMap, HashMap};

use rand::Rng;
use serde::Serialize;
use serde_json::{json, Value};

use super::attempts::Attempts;
use super::faults::Faults;
use super::index_mapping::IndexMapping;
use super::templates;

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Doc {
    /// The data stream or index the action named (`_index`, or the path's index).
    pub index: String,
    /// The concrete index holding it: a `.ds-…` backing index for data streams.
    pub backing_index: String,
    pub id: String,
    pub source: Value,
    /// The `pipeline` the request named (action line first, then the query parameter).
    pub pipeline: Option<String>,
    pub version: u64,
    pub seq_no: u64,
    /// Fields whose malformed values were ignored (`ignore_malformed`), as `_ignored` lists them.
    #[serde(rename = "_ignored", skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// Counters, readable with [`super::Handle::stats`] and `GET /__receiver/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// `_bulk` requests that passed authentication.
    pub bulk_requests: u64,
    /// Bulk body bytes as received (compressed bytes for gzip bodies).
    pub bytes_received: u64,
    /// Bulk body bytes after decompression.
    pub bytes_decoded: u64,
    /// Bulk requests with `Content-Encoding: gzip` (or deflate).
    pub compressed_requests: u64,
    /// Whole-request answers by kind.
    pub requests_429: u64,
    pub requests_5xx: u64,
    pub requests_413: u64,
    /// Malformed bodies, validation failures, bad parameters.
    pub requests_400: u64,
    pub connections_closed: u64,
    /// Requests refused with 401.
    pub auth_failures: u64,
    /// Bulk actions executed (whole-request failures execute none).
    pub items: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Item status 409 (`create` of an `_id` already in the write index).
    pub conflicts: u64,
    pub items_429: u64,
    pub items_5xx: u64,
    /// Other item failures (4xx): refused documents, wrong op type, missing `@timestamp`, ...
    pub rejected: u64,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub uuid: String,
    pub docs: BTreeMap<u64, Doc>,
    pub by_id: HashMap<String, u64>,
    pub next_seq: u64,
    /// Its mappings: from its template, grown by dynamic mapping.
    pub mapping: IndexMapping,
}

#[derive(Debug, Clone)]
pub struct DataStream {
    pub template: String,
    pub generation: u32,
    /// Backing indices, oldest first; the last one is the write index.
    pub indices: Vec<String>,
    pub ilm_policy: Option<String>,
}

impl DataStream {
    pub fn write_index(&self) -> &str {
        self.indices.last().map(String::as_str).unwrap_or_default()
    }
}

/// An ILM policy (Elasticsearch).
#[derive(Debug, Clone)]
pub struct IlmPolicy {
    pub version: u64,
    pub modified_ms: i64,
    pub policy: Value,
}

/// An ISM policy (OpenSearch), stored as a document of the `.opendistro-ism-config` index.
#[derive(Debug, Clone)]
pub struct IsmPolicy {
    pub version: u64,
    pub seq_no: u64,
    pub policy: Value,
}

/// Where a bulk action lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    DataStream { name: String, write_index: String },
    Index { name: String },
}

#[derive(Debug, Default)]
pub struct State {
    pub indices: BTreeMap<String, Index>,
    pub data_streams: BTreeMap<String, DataStream>,
    pub index_templates: BTreeMap<String, Value>,
    pub component_templates: BTreeMap<String, Value>,
    pub ilm_policies: BTreeMap<String, IlmPolicy>,
    pub ism_policies: BTreeMap<String, IsmPolicy>,
    /// Times each (`_index` as named, `_id`) was sent, whatever the answer.
    pub offers: BTreeMap<(String, String), u64>,
    /// Every attempt of each `_id`, with its answer.
    pub attempts: Attempts,
    /// x-pack's component templates (`logs@mappings`, ...) can be named by index templates.
    pub builtin_components: bool,
    pub ism_seq_no: u64,
    pub faults: Faults,
    pub stats: Stats,
}

/// A random id in the style of Elasticsearch's: 20 or 22 URL-safe base64 characters.
pub fn random_id(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

impl State {
    /// The target of a write to `name`, creating the index or data stream when `create` is set
    /// (Elasticsearch auto-creates both: a data stream when the best matching index template
    /// has `data_stream`, a plain index otherwise).
    pub fn resolve(&mut self, name: &str, create: bool) -> Option<Target> {
        if let Some(ds) = self.data_streams.get(name) {
            return Some(Target::DataStream {
                name: name.to_string(),
                write_index: ds.write_index().to_string(),
            });
        }
        if self.indices.contains_key(name) {
            return Some(Target::Index {
                name: name.to_string(),
            });
        }
        let template = templates::best_template(&self.index_templates, name);
        let is_stream = template
            .as_ref()
            .is_some_and(|(_, t)| t.get("data_stream").is_some());
        if is_stream {
            if !create {
                // Not created yet, but any write to it is a data-stream write.
                return Some(Target::DataStream {
                    name: name.to_string(),
                    write_index: String::new(),
                });
            }
            let (tname, t) = template?;
            let policy = templates::lifecycle_name(&self.component_templates, &t);
            self.create_data_stream(name, &tname, policy);
            return self.resolve(name, false);
        }
        if create {
            let mapping = self.compose(template.as_ref().map(|(_, t)| t), false);
            self.indices.insert(name.to_string(), new_index(mapping));
        }
        Some(Target::Index {
            name: name.to_string(),
        })
    }

    pub fn create_data_stream(&mut self, name: &str, template: &str, policy: Option<String>) {
        let backing = backing_index_name(name, 1);
        let mapping = self.compose(self.index_templates.get(template), true);
        self.indices.insert(backing.clone(), new_index(mapping));
        self.data_streams.insert(
            name.to_string(),
            DataStream {
                template: template.to_string(),
                generation: 1,
                indices: vec![backing],
                ilm_policy: policy,
            },
        );
    }

    /// Rolls a data stream over to a new write index; returns (old, new).
    pub fn rollover(&mut self, name: &str) -> Option<(String, String)> {
        let template = self.data_streams.get(name)?.template.clone();
        let mapping = self.compose(self.index_templates.get(&template), true);
        let ds = self.data_streams.get_mut(name)?;
        let old = ds.write_index().to_string();
        ds.generation += 1;
        let new = backing_index_name(name, ds.generation);
        ds.indices.push(new.clone());
        self.indices.insert(new.clone(), new_index(mapping));
        Some((old, new))
    }

    pub fn delete_data_stream(&mut self, name: &str) -> bool {
        match self.data_streams.remove(name) {
            Some(ds) => {
                for i in ds.indices {
                    self.indices.remove(&i);
                }
                true
            }
            None => false,
        }
    }

    /// Documents of a data stream (all backing indices) or of an index, oldest first.
    pub fn docs(&self, name: &str) -> Vec<Doc> {
        let names: Vec<String> = match self.data_streams.get(name) {
            Some(ds) => ds.indices.clone(),
            None => vec![name.to_string()],
        };
        names
            .iter()
            .filter_map(|n| self.indices.get(n))
            .flat_map(|i| i.docs.values().cloned())
            .collect()
    }

    pub fn all_docs(&self) -> Vec<Doc> {
        self.indices
            .values()
            .flat_map(|i| i.docs.values().cloned())
            .collect()
    }

    /// Forgets documents, data streams, indices, offers, counters and faults; templates and
    /// policies stay, as they would on a cluster whose data was deleted.
    pub fn reset(&mut self) {
        self.indices.clear();
        self.data_streams.clear();
        self.offers.clear();
        self.attempts = Attempts::default();
        self.faults = Faults::default();
        self.stats = Stats::default();
    }

    /// `GET /_data_stream` entry, in Elasticsearch 8.x's shape.
    pub fn data_stream_json(&self, name: &str, opensearch: bool) -> Option<Value> {
        let ds = self.data_streams.get(name)?;
        let managed_by = if ds.ilm_policy.is_some() {
            "Index Lifecycle Management"
        } else {
            "Unmanaged"
        };
        let indices: Vec<Value> = ds
            .indices
            .iter()
            .map(|i| {
                let uuid = self
                    .indices
                    .get(i)
                    .map(|x| x.uuid.clone())
                    .unwrap_or_default();
                let mut entry = json!({ "index_name": i, "index_uuid": uuid });
                if !opensearch {
                    entry["prefer_ilm"] = json!(true);
                    if let Some(p) = &ds.ilm_policy {
                        entry["ilm_policy"] = json!(p);
                    }
                    entry["managed_by"] = json!(managed_by);
                }
                entry
            })
            .collect();
        let mut v = json!({
            "name": name,
            "timestamp_field": { "name": "@timestamp" },
            "indices": indices,
            "generation": ds.generation,
            "status": "GREEN",
            "template": ds.template,
        });
        if !opensearch {
            let extra = json!({
                "ilm_policy": ds.ilm_policy,
                "next_generation_managed_by": managed_by,
                "prefer_ilm": true,
                "hidden": false,
                "system": false,
                "allow_custom_routing": false,
                "replicated": false,
                "rollover_on_write": false,
            });
            if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
                if ds.ilm_policy.is_none() {
                    m.remove("ilm_policy");
                }
            }
        }
        Some(v)
    }
}

fn new_index(mapping: IndexMapping) -> Index {
    Index {
        uuid: random_id(22),
        docs: BTreeMap::new(),
        by_id: HashMap::new(),
        next_seq: 0,
        mapping,
    }
}

/// `.ds-<data-stream>-<yyyy.MM.dd>-<generation>`, as Elasticsearch names backing indices.
pub fn backing_index_name(stream: &str, generation: u32) -> String {
    let date = chrono::Utc::now().format("%Y.%m.%d");
    format!(".ds-{stream}-{date}-{generation:06}")
}
