//! What `sfevents setup elasticsearch` installs: the index template for the Salesforce data
//! streams and the lifecycle policy (ILM on Elasticsearch, ISM on OpenSearch).
//!
//! Each body carries a digest of itself (`_meta.sfevents_digest`, or the end of an ISM
//! policy's description, since ISM policies have no `_meta`), so that setup can tell "already
//! there" from "changed" without comparing bodies that the cluster stores with its own defaults
//! added.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::cluster::Flavor;

/// The index template and the lifecycle policy.
pub const NAME: &str = "sfevents-salesforce";
/// Every data stream sfevents writes: `logs-salesforce.<dataset>-<namespace>`.
pub const PATTERN: &str = "logs-salesforce.*-*";

/// The template's priority. It must be above x-pack's `logs` template (`logs-*-*`, 100) so that
/// our mappings apply, and below the templates Fleet installs with Elastic's Salesforce
/// integration (`logs-salesforce.login` etc., priority 200; 150 for dataset-prefix templates,
/// 250 for namespace-scoped ones, Kibana's `DEFAULT_TEMPLATE_PRIORITY` and friends): when the
/// integration is installed, its templates (mappings and `index.default_pipeline`) must win
/// for its five data streams, which `agent` mode depends on. It must also differ from every
/// template whose patterns overlap ours, since Elasticsearch refuses two overlapping templates
/// of equal priority: 120 is x-pack's `logs-otel@template` (`logs-*.otel-*`), hence 130.
pub const PRIORITY: i64 = 130;

const DIGEST_KEY: &str = "sfevents_digest";

/// A short digest of a JSON body (its compact text).
pub fn digest(v: &Value) -> String {
    let d = Sha256::digest(v.to_string().as_bytes());
    hex::encode(&d[..8])
}

/// The digest stored in a body's `_meta`, if any.
pub fn meta_digest(v: &Value) -> Option<&str> {
    v.get("_meta")?.get(DIGEST_KEY)?.as_str()
}

fn with_meta_digest(mut v: Value, what: &str) -> Value {
    let d = digest(&v);
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "_meta".into(),
            json!({ "managed_by": "sfevents", "description": what, DIGEST_KEY: d }),
        );
    }
    v
}

/// How often an index rolls over under the policy: a quarter of the retention, between 1 and
/// 30 days. Indices are deleted `days` after their rollover, so a document lives between `days`
/// and `days` + this; more frequent rollovers would also weaken `_id` de-duplication, which
/// holds only within one backing index.
pub fn rollover_days(days: u32) -> u32 {
    (days / 4).clamp(1, 30)
}

/// `PUT _index_template/sfevents-salesforce`.
pub fn index_template(flavor: Flavor, retention_days: Option<u32>) -> Value {
    let es = flavor == Flavor::Elasticsearch;
    let kw = json!({ "type": "keyword", "ignore_above": 1024 });
    // Every other string is a keyword (Salesforce's columns are codes, ids and names, not
    // prose); numbers get Elasticsearch's dynamic long/float.
    let dynamic_templates = json!([
        { "salesforce_strings": {
            "path_match": "salesforce.*", "match_mapping_type": "string", "mapping": kw } },
        { "strings_as_keyword": { "match_mapping_type": "string", "mapping": kw } },
    ]);
    let mut settings = json!({
        // A column that is mostly numbers and sometimes `N/A` would otherwise make
        // Elasticsearch refuse the whole document; this drops only the odd value.
        "index.mapping.ignore_malformed": true,
    });
    if let (Some(_), true) = (retention_days, es) {
        settings["index.lifecycle.name"] = json!(NAME);
    }
    let body = json!({
        "index_patterns": [PATTERN],
        "priority": PRIORITY,
        "data_stream": {},
        "template": {
            "settings": settings,
            "mappings": { "dynamic_templates": dynamic_templates, "properties": properties(es) },
        },
    });
    with_meta_digest(
        body,
        "Salesforce event monitoring data streams written by sfevents",
    )
}

/// The template's mappings of the ECS fields (`es`: with Elasticsearch's own types).
fn properties(es: bool) -> Value {
    let kw = json!({ "type": "keyword", "ignore_above": 1024 });
    let ip = json!({ "type": "ip" });
    let long = json!({ "type": "long" });
    let date = json!({ "type": "date" });
    // Elasticsearch-only types, with their OpenSearch stand-ins (`constant_keyword` came to
    // OpenSearch only in 2.14, `wildcard` in 2.15).
    let constant = if es {
        json!({ "type": "constant_keyword" })
    } else {
        kw.clone()
    };
    let wildcard = if es {
        json!({ "type": "wildcard" })
    } else {
        kw.clone()
    };
    // `message` lives only in `agent` documents that no integration pipeline has parsed.
    let text = json!({ "type": "text" });
    let obj = |fields: &[(&str, &Value)]| {
        let mut m = Map::new();
        for (k, v) in fields {
            m.insert((*k).to_string(), (*v).clone());
        }
        json!({ "properties": m })
    };
    json!({
        "@timestamp": date,
        "message": text,
        "tags": kw,
        "data_stream": obj(&[("type", &constant), ("dataset", &constant), ("namespace", &constant)]),
        "ecs": obj(&[("version", &kw)]),
        "input": obj(&[("type", &kw)]),
        "event": obj(&[
            ("action", &kw), ("category", &kw), ("code", &kw), ("dataset", &kw), ("id", &kw),
            ("kind", &kw), ("module", &kw), ("outcome", &kw), ("provider", &kw), ("type", &kw),
            ("url", &kw), ("created", &date), ("ingested", &date), ("duration", &long),
            // ECS: kept for reading, not searched.
            ("original", &json!({ "type": "keyword", "index": false, "doc_values": false })),
        ]),
        "http": obj(&[
            ("request", &obj(&[("bytes", &long), ("id", &kw), ("method", &kw)])),
            ("response", &obj(&[("bytes", &long), ("status_code", &long)])),
        ]),
        "organization": obj(&[("id", &kw)]),
        "related": obj(&[("ip", &ip), ("user", &kw)]),
        "source": obj(&[
            ("ip", &ip),
            ("geo", &obj(&[("location", &json!({ "type": "geo_point" }))])),
            ("as", &obj(&[("number", &long)])),
        ]),
        "tls": obj(&[("cipher", &kw), ("version", &kw), ("version_protocol", &kw)]),
        "url": obj(&[
            ("original", &wildcard), ("path", &wildcard), ("domain", &kw), ("scheme", &kw),
            ("extension", &kw), ("query", &kw), ("fragment", &kw), ("port", &long),
        ]),
        "user": obj(&[("id", &kw), ("name", &kw), ("email", &kw), ("roles", &kw)]),
        "user_agent": obj(&[
            ("original", &kw), ("name", &kw), ("version", &kw),
            ("os", &obj(&[("name", &kw), ("version", &kw), ("full", &kw)])),
            ("device", &obj(&[("name", &kw)])),
        ]),
        "salesforce": obj(&[("instance_url", &kw), ("org_id", &kw), ("event_id", &kw)]),
    })
}

/// Where the lifecycle policy lives: ILM's on Elasticsearch, ISM's on OpenSearch.
pub fn policy_path(flavor: Flavor) -> String {
    match flavor {
        Flavor::Elasticsearch => format!("_ilm/policy/{NAME}"),
        Flavor::OpenSearch => format!("_plugins/_ism/policies/{NAME}"),
    }
}

/// `PUT _ilm/policy/sfevents-salesforce`: roll over, then delete `days` after rollover.
pub fn ilm_policy(days: u32) -> Value {
    let policy = json!({
        "phases": {
            "hot": { "min_age": "0ms", "actions": { "rollover": {
                "max_age": format!("{}d", rollover_days(days)),
                "max_primary_shard_size": "50gb",
            } } },
            "delete": { "min_age": format!("{days}d"), "actions": { "delete": {} } },
        },
    });
    json!({ "policy": with_meta_digest(policy, &format!("sfevents: delete Salesforce events {days} days after rollover")) })
}

/// `PUT _plugins/_ism/policies/sfevents-salesforce`: the same life as [`ilm_policy`]. ISM
/// attaches it to new indices through `ism_template`; for a data stream's backing indices the
/// data stream's name is what is matched, the `.ds-` pattern covers versions that match the
/// index name instead.
pub fn ism_policy(days: u32) -> Value {
    let mut policy = json!({
        "default_state": "hot",
        "states": [
            { "name": "hot",
              "actions": [ { "rollover": {
                  "min_index_age": format!("{}d", rollover_days(days)),
                  "min_primary_shard_size": "50gb" } } ],
              "transitions": [ { "state_name": "delete",
                                 "conditions": { "min_rollover_age": format!("{days}d") } } ] },
            { "name": "delete", "actions": [ { "delete": {} } ], "transitions": [] },
        ],
        "ism_template": [ {
            "index_patterns": [PATTERN, format!(".ds-{PATTERN}")],
            "priority": 100,
        } ],
    });
    let d = digest(&policy);
    policy["description"] = json!(format!(
        "sfevents: delete Salesforce events {days} days after rollover [{DIGEST_KEY} {d}]"
    ));
    json!({ "policy": policy })
}

/// The digest at the end of an ISM policy's description.
pub fn ism_digest(policy: &Value) -> Option<&str> {
    let text = policy.get("description")?.as_str()?;
    let start = text.rfind(&format!("[{DIGEST_KEY} "))? + DIGEST_KEY.len() + 2;
    text.get(start..text.len().checked_sub(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_name_the_content() {
        let a = index_template(Flavor::Elasticsearch, Some(30));
        let b = index_template(Flavor::Elasticsearch, None);
        let c = index_template(Flavor::OpenSearch, Some(30));
        assert_eq!(a["template"]["settings"]["index.lifecycle.name"], NAME);
        assert!(c["template"]["settings"]
            .get("index.lifecycle.name")
            .is_none());
        let digests = [meta_digest(&a), meta_digest(&b), meta_digest(&c)];
        assert!(digests.iter().all(Option::is_some));
        assert!(digests[0] != digests[1] && digests[0] != digests[2]);
        assert_eq!(
            meta_digest(&a),
            meta_digest(&index_template(Flavor::Elasticsearch, Some(30)))
        );

        let p = ism_policy(30);
        let d = ism_digest(&p["policy"]).unwrap();
        assert_eq!(d.len(), 16);
        assert_ne!(Some(d), ism_digest(&ism_policy(31)["policy"]));
        assert!(meta_digest(&ilm_policy(30)["policy"]).is_some());
        assert_eq!(
            ilm_policy(30)["policy"]["phases"]["delete"]["min_age"],
            "30d"
        );
        assert_eq!(
            (rollover_days(3), rollover_days(30), rollover_days(400)),
            (1, 7, 30)
        );
    }
}
