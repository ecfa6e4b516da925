//! `agent` mode's document for the integration's own EventLogFile data streams (Login, Logout,
//! the Apex types, AuraRequest), written from the line: the row as Filebeat's input marshals it
//! into `message` (Go's JSON of a `map[string]string`: keys sorted by bytes, HTML characters
//! escaped), beside the few fields Elastic Agent adds. The same bytes as `Normalizer::agent`.

use super::cells::Event;
use crate::agent::go_string;
use crate::convert;

/// What a header's agent documents share.
#[derive(Debug, Clone)]
pub(super) struct AgentPlan {
    /// Columns in the order Go writes map keys (by bytes).
    sorted: Vec<usize>,
    /// From `"data_stream"` to `"message":`.
    head: String,
    /// `,"instance_url":"..."` or nothing.
    instance_url: String,
    /// `,"tags":[...]` or nothing.
    tags: String,
}

impl AgentPlan {
    pub(super) fn new(
        dataset: &str,
        keys: &[String],
        namespace: &str,
        instance_url: &str,
        tags: &[&str],
    ) -> Option<AgentPlan> {
        let json = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let full = json(&format!("salesforce.{dataset}"));
        let mut sorted: Vec<usize> = (0..keys.len()).collect();
        sorted.sort_by(|a, b| keys[*a].as_bytes().cmp(keys[*b].as_bytes()));
        Some(AgentPlan {
            sorted,
            head: format!(
                "\"data_stream\":{{\"dataset\":{full},\"namespace\":{},\"type\":\"logs\"}},\"event\":{{\"dataset\":{full},\"provider\":\"EventLogFile\"}},\"input\":{{\"type\":\"salesforce\"}},\"message\":",
                json(namespace)
            ),
            instance_url: if instance_url.is_empty() {
                String::new()
            } else {
                format!(",\"instance_url\":{}", json(instance_url))
            },
            tags: if tags.is_empty() {
                String::new()
            } else {
                format!(",\"tags\":{}", serde_json::to_string(tags).ok()?)
            },
        })
    }
}

/// Writes the document into `out` (`msg` is a reused buffer).
pub(super) fn document(
    a: &AgentPlan,
    keys: &[String],
    ev: &Event,
    out: &mut Vec<u8>,
    msg: &mut String,
) {
    out.push(b'{');
    if let Some(t) = ev.archive_ts.and_then(|t| iso(t.text().as_ref())) {
        out.extend_from_slice(b"\"@timestamp\":\"");
        out.extend_from_slice(t.as_bytes());
        out.extend_from_slice(b"\",");
    }
    out.extend_from_slice(a.head.as_bytes());
    msg.clear();
    msg.push('{');
    for (i, &c) in a.sorted.iter().enumerate() {
        if i > 0 {
            msg.push(',');
        }
        go_string(msg, &keys[c]);
        msg.push(':');
        let cell = ev.cell(c).map(|s| s.text()).unwrap_or_default();
        go_string(msg, &cell);
    }
    msg.push('}');
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, msg.as_str());
    out.extend_from_slice(b",\"salesforce\":{\"event_id\":\"");
    out.extend_from_slice(ev.id.raw.as_bytes());
    out.push(b'"');
    out.extend_from_slice(a.instance_url.as_bytes());
    if let Some(org) = ev.org_id {
        out.extend_from_slice(b",\"org_id\":\"");
        out.extend_from_slice(org.raw.as_bytes());
        out.push(b'"');
    }
    out.push(b'}');
    out.extend_from_slice(a.tags.as_bytes());
    out.push(b'}');
}

fn iso(s: &str) -> Option<String> {
    convert::iso8601_utc(s).map(|t| t.into_owned())
}
