//! `_bulk` bodies and answers.
//!
//! A batch's documents are written once into one NDJSON buffer (`create` action line, source
//! line); a request sends a contiguous run of them, so the halves of a batch split after a 413
//! are slices of the same buffer, gzipped on their own when compression is on.
//!
//! Answers are classified as Beats does (`libbeat/outputs/elasticsearch/client.go`; reference
//! `outputs.md` §1.4, §1.7, §1.10):
//!
//! | answer | result |
//! |---|---|
//! | item 2xx | `Delivered` |
//! | item 409 (`create` of an `_id` already there) | `Duplicate` |
//! | item 429, 5xx | `Retry` (only these items are sent again) |
//! | item 401, 403 | the whole batch `Fatal`: the credentials cannot write that data stream, and every later event would fail the same way |
//! | item other 4xx (mapping conflict, ...) | `Dead` with the error's type and reason |
//! | request 413 | split in two and sent again; one document alone is `Dead` |
//! | request 408, 429, 5xx but 501, connection faults, timeouts | `Transient` |
//! | request 401, 403, 404, 501, other 4xx, 3xx | `Fatal` |

use std::ops::Range;

use bytes::Bytes;
use serde_json::Value;

use super::client::{describe_error, Answer, EsClient};
use crate::sink::{SinkError, Verdict};

/// `filter_path` of every bulk request: statuses and errors only, in request order (Beats').
pub const FILTER_PATH: &str = "errors,items.*.error,items.*.status";

/// One document of a batch.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its event's index in the batch.
    pub event: usize,
    /// The data stream it goes to.
    pub index: String,
    /// Its action and source lines in the buffer.
    pub bytes: Range<usize>,
}

/// A batch's NDJSON.
#[derive(Debug, Default)]
pub struct Body {
    pub buf: Vec<u8>,
    pub items: Vec<Item>,
}

impl Body {
    /// Appends a `create` of the document `source` (one line of JSON) into `index` with `id`.
    pub fn push_bytes(&mut self, event: usize, index: &str, id: &str, source: &[u8]) {
        let start = self.buf.len();
        self.action(index, id);
        self.buf.extend_from_slice(source);
        self.buf.push(b'\n');
        self.items.push(Item {
            event,
            index: index.to_string(),
            bytes: start..self.buf.len(),
        });
    }

    fn action(&mut self, index: &str, id: &str) {
        self.buf.extend_from_slice(b"{\"create\":{\"_index\":");
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, index);
        self.buf.extend_from_slice(b",\"_id\":");
        let _ = serde_json::to_writer(&mut self.buf, id);
        self.buf.extend_from_slice(b"}}\n");
    }

    /// Appends a `create` of `source` into `index` with `id`. On failure (a source that cannot
    /// be written as JSON) nothing is appended.
    pub fn push(
        &mut self,
        event: usize,
        index: &str,
        id: &str,
        source: &Value,
    ) -> Result<(), serde_json::Error> {
        let start = self.buf.len();
        self.action(index, id);
        let written = (|| {
            serde_json::to_writer(&mut self.buf, source)?;
            self.buf.push(b'\n');
            Ok(())
        })();
        match written {
            Ok(()) => {
                self.items.push(Item {
                    event,
                    index: index.to_string(),
                    bytes: start..self.buf.len(),
                });
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(e)
            }
        }
    }

    /// The bytes of items `range` (a contiguous run of the buffer).
    pub fn slice(&self, range: Range<usize>) -> &[u8] {
        match (self.items.get(range.start), range.end.checked_sub(1)) {
            (Some(first), Some(last)) if last >= range.start => match self.items.get(last) {
                Some(l) => &self.buf[first.bytes.start..l.bytes.end],
                None => &[],
            },
            _ => &[],
        }
    }
}

/// The request body for `bytes`: as is, or gzipped ([`crate::http_client::gzip`]).
pub fn encode(bytes: &[u8], gzip: bool) -> Result<Bytes, SinkError> {
    if !gzip {
        return Ok(Bytes::copy_from_slice(bytes));
    }
    crate::http_client::gzip(bytes).map(Bytes::from)
}

/// What one bulk request came to.
#[derive(Debug)]
pub enum Outcome {
    /// One verdict per item sent, in order.
    Items(Vec<Verdict>),
    /// 413: the body is over the cluster's `http.max_content_length` (or a proxy's limit).
    TooLarge,
}

/// Classifies a bulk answer for the `items` sent.
pub fn classify(client: &EsClient, a: &Answer, items: &[Item]) -> Result<Outcome, SinkError> {
    if a.status.as_u16() == 413 {
        return Ok(Outcome::TooLarge);
    }
    if !a.status.is_success() {
        return Err(client.refusal(
            "_bulk",
            a,
            "the create_doc and auto_configure index privileges on logs-salesforce.*",
        ));
    }
    if all_went_in(&a.body, items.len()) {
        return Ok(Outcome::Items(vec![Verdict::Delivered; items.len()]));
    }
    let answer = a.json().unwrap_or(Value::Null);
    let Some(entries) = answer.get("items").and_then(Value::as_array) else {
        return Err(SinkError::Fatal(format!(
            "{} answered _bulk with 2xx but no items: is it Elasticsearch or OpenSearch? ({})",
            client.base(),
            client.scrub(&a.error_text())
        )));
    };
    if entries.len() != items.len() {
        // A cut or altered answer (a proxy?): nothing says which items went through, and a
        // resend is harmless since duplicates answer 409.
        return Err(SinkError::Transient(format!(
            "{} answered {} items for the {} documents sent",
            client.base(),
            entries.len(),
            items.len()
        )));
    }
    let mut verdicts = Vec::with_capacity(items.len());
    for (entry, item) in entries.iter().zip(items) {
        verdicts.push(verdict(client, entry, item)?);
    }
    Ok(Outcome::Items(verdicts))
}

/// `{"errors": false, "items": [...]}` with one item per document sent: every item went in
/// (Elasticsearch sets `errors` when any item failed, a 409 included). Read without building
/// a tree: most answers are this one, and its tree of a thousand items was about 4% of `raw`
/// shipping's samples in one perf profile, its allocations not counted. Anything else is read item by item ([`verdict`]).
fn all_went_in(body: &[u8], sent: usize) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        errors: Option<bool>,
        #[serde(default)]
        items: Count,
    }
    matches!(
        serde_json::from_slice::<Head>(body),
        Ok(Head { errors: Some(false), items: Count(n) }) if n == sent
    )
}

/// The length of a JSON list, its entries skipped unread.
#[derive(Default)]
struct Count(usize);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Count, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(Counter)
    }
}

/// One item: `{"create": {"status": 201}}` or with an `error`.
fn verdict(client: &EsClient, entry: &Value, item: &Item) -> Result<Verdict, SinkError> {
    let result = entry
        .as_object()
        .and_then(|m| m.values().next())
        .unwrap_or(&Value::Null);
    let Some(status) = result.get("status").and_then(Value::as_u64) else {
        return Err(SinkError::Transient(format!(
            "{} answered a bulk item without a status: {}",
            client.base(),
            client.scrub(&entry.to_string())
        )));
    };
    let reason = || {
        let error = match result.get("error") {
            Some(e) if e.is_object() => describe_error(e),
            Some(Value::String(s)) => s.clone(),
            _ => "no reason given".to_string(),
        };
        client.scrub(&format!("{status} {error}"))
    };
    Ok(match status {
        200..=299 => Verdict::Delivered,
        409 => Verdict::Duplicate,
        429 | 500..=599 => Verdict::Retry(reason()),
        401 | 403 => {
            return Err(SinkError::Fatal(format!(
                "{} refused to write to {} ({}): give the credentials the create_doc and auto_configure index privileges on logs-salesforce.*",
                client.base(),
                item.index,
                reason()
            )))
        }
        _ => Verdict::Dead(reason()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_answer_without_errors_and_with_every_item_reads_as_all_in() {
        let ok =
            br#"{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}"#;
        assert!(all_went_in(ok, 2));
        assert!(!all_went_in(ok, 3), "an item short");
        let failed =
            br#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}}]}"#;
        assert!(!all_went_in(failed, 2));
        assert!(!all_went_in(br#"{"items":[{},{}]}"#, 2), "no errors flag");
        assert!(!all_went_in(br#"{"errors":false}"#, 2), "no items");
        assert!(
            !all_went_in(br#"{"errors":false,"items":{}}"#, 0),
            "items not a list"
        );
        assert!(!all_went_in(b"<html>", 0));
    }

    #[test]
    fn bodies_are_ndjson_runs() {
        let mut b = Body::default();
        b.push(0, "logs-a-default", "id\"1", &json!({"x": 1}))
            .unwrap();
        b.push(2, "logs-b-default", "id2", &json!({"y": "z"}))
            .unwrap();
        let all = std::str::from_utf8(b.slice(0..2)).unwrap();
        assert_eq!(
            all,
            "{\"create\":{\"_index\":\"logs-a-default\",\"_id\":\"id\\\"1\"}}\n{\"x\":1}\n{\"create\":{\"_index\":\"logs-b-default\",\"_id\":\"id2\"}}\n{\"y\":\"z\"}\n"
        );
        assert!(all.starts_with(std::str::from_utf8(b.slice(0..1)).unwrap()));
        assert!(all.ends_with(std::str::from_utf8(b.slice(1..2)).unwrap()));
        assert!(b.slice(1..1).is_empty() && b.slice(5..6).is_empty());

        let gz = encode(b.slice(0..2), true).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, all);
    }
}
