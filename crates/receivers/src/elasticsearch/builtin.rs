//! The component templates x-pack's `logs` index template is composed of (`logs@mappings`,
//! `logs@settings`, `ecs@mappings`), with what this receiver applies of them: the mappings in
//! full, and of the settings only those that decide whether a document is refused
//! (`index.mapping.ignore_malformed`; no lifecycle, pipeline or codec). They are not listed by
//! `GET /_component_template`, but an index template may name them.
//!
//! Source: elastic/elasticsearch `x-pack/plugin/core/template-resources/src/main/resources/`
//! (`logs@mappings.json`, `logs@settings.json`, `ecs@mappings.json`), 8.x.

use std::sync::LazyLock;

use serde_json::{json, Value};

static LOGS_MAPPINGS: LazyLock<Value> = LazyLock::new(|| {
    json!({ "template": { "mappings": {
        "date_detection": false,
        "properties": {
            "@timestamp": { "type": "date" },
            "data_stream.type": { "type": "constant_keyword", "value": "logs" },
            "data_stream.dataset": { "type": "constant_keyword" },
            "data_stream.namespace": { "type": "constant_keyword" }
        }
    } } })
});

static LOGS_SETTINGS: LazyLock<Value> = LazyLock::new(|| {
    json!({ "template": { "settings": { "index": { "mapping": {
        "ignore_malformed": true,
        "total_fields": { "ignore_dynamic_beyond_limit": true }
    } } } } })
});

/// A dynamic template: `(name, conditions, mapping)`.
fn dt(name: &str, conditions: Value, mapping: Value) -> Value {
    let mut body = conditions;
    body["mapping"] = mapping;
    json!({ name: body })
}

static ECS_MAPPINGS: LazyLock<Value> = LazyLock::new(|| {
    let mot = json!({ "type": "match_only_text" });
    let with_text = |ty: &str| json!({ "type": ty, "fields": { "text": mot.clone() } });
    let templates = vec![
        dt(
            "ecs_timestamp",
            json!({ "match": "@timestamp" }),
            json!({ "type": "date", "ignore_malformed": false }),
        ),
        dt(
            "ecs_message_match_only_text",
            json!({ "path_match": ["message", "*.message"] }),
            mot.clone(),
        ),
        dt(
            "ecs_ip",
            json!({ "path_match": ["ip", "*.ip", "*_ip"], "match_mapping_type": "string" }),
            json!({ "type": "ip" }),
        ),
        dt(
            "ecs_wildcard",
            json!({ "path_match": ["*.io.text", "*.message_id", "*registry.data.strings", "*url.path"] }),
            json!({ "type": "wildcard" }),
        ),
        dt(
            "ecs_path_match_wildcard_and_match_only_text",
            json!({ "path_match": ["*.body.content", "*url.full", "*url.original"] }),
            with_text("wildcard"),
        ),
        dt(
            "ecs_match_wildcard_and_match_only_text",
            json!({ "match": ["*command_line", "*stack_trace"] }),
            with_text("wildcard"),
        ),
        dt(
            "ecs_path_match_keyword_and_match_only_text",
            json!({ "path_match": ["*.title", "*.executable", "*.name", "*.working_directory",
                "*.full_name", "*file.path", "*file.target_path", "*os.full", "email.subject",
                "vulnerability.description", "user_agent.original"] }),
            with_text("keyword"),
        ),
        dt(
            "ecs_date",
            json!({ "path_match": ["*.timestamp", "*_timestamp", "*.not_after", "*.not_before",
                "*.accessed", "created", "*.created", "*.installed", "*.creation_date", "*.ctime",
                "*.mtime", "ingested", "*.ingested", "*.start", "*.end"] }),
            json!({ "type": "date" }),
        ),
        dt(
            "ecs_path_match_float",
            json!({ "path_match": ["*.score.*", "*_score*"], "path_unmatch": "*.version" }),
            json!({ "type": "float" }),
        ),
        dt(
            "ecs_usage_double_scaled_float",
            json!({ "path_match": "*.usage", "match_mapping_type": "double" }),
            json!({ "type": "scaled_float", "scaling_factor": 1000 }),
        ),
        dt(
            "ecs_usage_long_scaled_float",
            json!({ "path_match": "*.usage", "match_mapping_type": "long" }),
            json!({ "type": "scaled_float", "scaling_factor": 1000 }),
        ),
        dt(
            "ecs_geo_point",
            json!({ "path_match": ["location", "*.location"] }),
            json!({ "type": "geo_point" }),
        ),
        dt(
            "ecs_flattened",
            json!({ "path_match": ["*structured_data", "*exports", "*imports"] }),
            json!({ "type": "flattened" }),
        ),
        dt(
            "all_strings_to_keywords",
            json!({ "match_mapping_type": "string" }),
            json!({ "type": "keyword", "ignore_above": 1024 }),
        ),
    ];
    json!({ "template": { "mappings": { "dynamic_templates": templates } } })
});

/// A built-in component template by name.
pub fn component(name: &str) -> Option<&'static Value> {
    match name {
        "logs@mappings" => Some(&LOGS_MAPPINGS),
        "logs@settings" => Some(&LOGS_SETTINGS),
        "ecs@mappings" => Some(&ECS_MAPPINGS),
        _ => None,
    }
}
