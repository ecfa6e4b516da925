//! Faults injected into `_bulk` on demand.
//!
//! Counters say how many of the *next* requests or items are hit; each hit uses one up, so a
//! test can say "the next 3 requests answer 429" and then see the fourth succeed. Set them in
//! [`super::Config::faults`], with [`super::Handle::set_faults`], or with
//! `POST /__receiver/faults` (this struct as JSON; it replaces the faults in force).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::faults::take;

/// The faults in force. Every field is off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The next N bulk requests answer a whole-request 429 `es_rejected_execution_exception`
    /// (indexing pressure on the coordinating node).
    pub requests_429: u32,
    /// `Retry-After` seconds sent with those 429s (Elasticsearch itself sends none).
    pub retry_after_secs: Option<u64>,
    /// The next N bulk requests answer a whole-request 5xx.
    pub requests_5xx: u32,
    /// Status of those answers (default 503, `cluster_block_exception` "no master").
    pub status_5xx: Option<u16>,
    /// The next N bulk items answer item status 429 `es_rejected_execution_exception`.
    pub items_429: u32,
    /// The next N bulk items answer item status 503 `unavailable_shards_exception`.
    pub items_5xx: u32,
    /// Documents matching any rule are refused with item status 400
    /// (`document_parsing_exception`; `mapper_parsing_exception` for OpenSearch and 7.x).
    pub reject_documents: Vec<RejectRule>,
    /// The next N bulk requests are read and then the connection is closed with no answer;
    /// nothing is stored.
    pub close_connection: u32,
    /// The next N bulk requests are executed (documents stored) and then the connection is
    /// closed with no answer: the client cannot know its documents arrived.
    pub close_after_store: u32,
    /// Every bulk answer is delayed this many milliseconds.
    pub delay_ms: Option<u64>,
    /// `http.max_content_length` in bytes; `None` is Elasticsearch's default, 100mb. Larger
    /// bodies answer 413 (see [`super::LimitOn`] for which bytes count).
    pub max_content_length: Option<u64>,
}

/// A per-document rejection: the document's `field` (a dotted path through objects, or a
/// literal dotted key) holds `value`, or exists at all when `value` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectRule {
    pub field: String,
    #[serde(default)]
    pub value: Option<Value>,
    /// The field type named in the error reason, as a mapping conflict would (default `long`).
    #[serde(default)]
    pub mapped_as: Option<String>,
}

/// Elasticsearch's default `http.max_content_length` (100mb).
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 100 * 1024 * 1024;

/// What a bulk request meets, decided once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    None,
    Reject429,
    Reject5xx,
    Close,
}

/// What one bulk item meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFault {
    None,
    Reject429,
    Reject5xx,
}

impl Faults {
    pub fn max_content_length(&self) -> u64 {
        self.max_content_length
            .unwrap_or(DEFAULT_MAX_CONTENT_LENGTH)
    }

    /// Takes the request-level fault for the next bulk request, in a fixed order.
    pub fn take_request_fault(&mut self) -> RequestFault {
        if take(&mut self.requests_429) {
            RequestFault::Reject429
        } else if take(&mut self.requests_5xx) {
            RequestFault::Reject5xx
        } else if take(&mut self.close_connection) {
            RequestFault::Close
        } else {
            RequestFault::None
        }
    }

    /// Whether the connection of a request just executed is to be closed.
    pub fn take_close_after_store(&mut self) -> bool {
        take(&mut self.close_after_store)
    }

    /// Takes the item-level fault for the next item that reaches a shard.
    pub fn take_item_fault(&mut self) -> ItemFault {
        if take(&mut self.items_429) {
            ItemFault::Reject429
        } else if take(&mut self.items_5xx) {
            ItemFault::Reject5xx
        } else {
            ItemFault::None
        }
    }

    /// The first rule a document matches.
    pub fn rejecting_rule(&self, doc: &Value) -> Option<(&RejectRule, Value)> {
        self.reject_documents.iter().find_map(|r| {
            let found = lookup(doc, &r.field)?;
            match &r.value {
                Some(v) if v != found => None,
                _ => Some((r, found.clone())),
            }
        })
    }
}

/// Finds `path` in a document, trying a literal key first (`"event.id": ..`) and then nested
/// objects (`{"event": {"id": ..}}`), mixing both as Elasticsearch's mapping does.
pub fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = doc.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let mut rest = path;
    while let Some(pos) = rest.find('.') {
        let (head, tail) = (&path[..path.len() - rest.len() + pos], &rest[pos + 1..]);
        if let Some(child) = obj.get(head) {
            if let Some(v) = lookup(child, tail) {
                return Some(v);
            }
        }
        rest = tail;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counters_are_used_up_in_order() {
        let mut f = Faults {
            requests_429: 1,
            requests_5xx: 1,
            ..Faults::default()
        };
        assert_eq!(f.take_request_fault(), RequestFault::Reject429);
        assert_eq!(f.take_request_fault(), RequestFault::Reject5xx);
        assert_eq!(f.take_request_fault(), RequestFault::None);
    }

    #[test]
    fn lookup_mixes_dotted_keys_and_objects() {
        let doc = json!({"event": {"outcome": "x"}, "a.b": {"c": 1}});
        assert_eq!(lookup(&doc, "event.outcome"), Some(&json!("x")));
        assert_eq!(lookup(&doc, "a.b.c"), Some(&json!(1)));
        assert_eq!(lookup(&doc, "event.missing"), None);
        let f = Faults {
            reject_documents: vec![RejectRule {
                field: "event.outcome".into(),
                value: Some(json!("x")),
                mapped_as: None,
            }],
            ..Faults::default()
        };
        assert!(f.rejecting_rule(&doc).is_some());
        assert!(f
            .rejecting_rule(&json!({"event": {"outcome": "y"}}))
            .is_none());
    }
}
