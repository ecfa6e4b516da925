//! What the primary shard does with one document: parse it (the injected refusals first, then
//! the index's mappings, see [`super::mapper`]), then write it.
//!
//! Elasticsearch 8 names document failures `document_parsing_exception`; 7.x and OpenSearch say
//! `mapper_parsing_exception`.

use serde_json::{json, Value};

use super::errors::EsError;
use super::faults::Faults;
use super::mapper::{self, Parsed};
use super::mappings::IndexMapping;
use super::positions::Positions;
use super::store::{Doc, State};
use super::values::java_preview;

pub struct ParseCtx {
    pub opensearch: bool,
    pub major: u64,
    /// A data-stream write: `@timestamp` must be there and be a date.
    pub require_timestamp: bool,
}

impl ParseCtx {
    fn mapper<'a>(&self, id: &'a str, raw: &'a [u8]) -> mapper::Ctx<'a> {
        mapper::Ctx {
            es8: !self.opensearch && self.major >= 8,
            id,
            raw,
            data_stream: self.require_timestamp,
        }
    }
}

/// An injected refusal ([`super::RejectRule`]), worded as the mapping conflict it stands for.
fn rule_error(ctx: &mapper::Ctx, field: &str, ty: &str, value: &Value) -> EsError {
    let shown = java_preview(value);
    let cause = match ty {
        "long" | "integer" | "short" | "byte" | "double" | "float" => {
            format!("For input string: \"{shown}\"")
        }
        "date" => format!(
            "failed to parse date field [{shown}] with format [strict_date_optional_time||epoch_millis]"
        ),
        _ => format!("failed to parse field [{field}] of type [{ty}]"),
    };
    let at = Positions::scan(ctx.raw).get(field, 0).start;
    let msg = format!(
        "failed to parse field [{field}] of type [{ty}] in document with id '{}'. Preview of field's value: '{shown}'",
        ctx.id
    );
    EsError::new(400, ctx.kind(), ctx.at(at, &msg)).caused_by("illegal_argument_exception", cause)
}

/// Parses and checks a source line against `mapping`; the error is the item's.
pub fn check_source(
    faults: &Faults,
    mapping: &IndexMapping,
    ctx: &ParseCtx,
    raw: &[u8],
    id: &str,
) -> Result<(Value, Parsed), EsError> {
    let mctx = ctx.mapper(id, raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(EsError::new(
            400,
            mctx.kind(),
            "failed to parse, document is empty",
        ));
    }
    let source: Value = serde_json::from_slice(raw).map_err(|e| {
        EsError::new(
            400,
            mctx.kind(),
            format!("[{}:{}] failed to parse", e.line(), e.column()),
        )
        .caused_by(
            "x_content_parse_exception",
            format!("[{}:{}] {e}", e.line(), e.column()),
        )
    })?;
    let Some(fields) = source.as_object() else {
        return Err(EsError::new(
            400,
            mctx.kind(),
            "[1:1] failed to parse: Malformed content, must start with an object",
        ));
    };
    if let Some((rule, found)) = faults.rejecting_rule(&source) {
        let ty = rule.mapped_as.as_deref().unwrap_or("long");
        return Err(rule_error(&mctx, &rule.field, ty, &found));
    }
    let parsed = mapper::parse(mapping, fields, &mctx)?;
    Ok((source, parsed))
}

fn shards() -> Value {
    // One primary, one replica that a single node cannot allocate.
    json!({ "total": 2, "successful": 1, "failed": 0 })
}

/// Writes a document; `create_only` refuses an `_id` already in this (backing) index.
pub fn write(st: &mut State, mut doc: Doc, create_only: bool) -> Result<Value, EsError> {
    let Some(index) = st.indices.get_mut(&doc.backing_index) else {
        return Err(EsError::index_not_found(&doc.backing_index));
    };
    let previous = index.by_id.get(&doc.id).copied();
    let version = match previous.and_then(|seq| index.docs.get(&seq)) {
        Some(existing) if create_only => {
            return Err(EsError::new(
                409,
                "version_conflict_engine_exception",
                format!(
                    "[{}]: version conflict, document already exists (current version [{}])",
                    doc.id, existing.version
                ),
            )
            .with("index_uuid", index.uuid.clone())
            .with("shard", "0")
            .with("index", doc.backing_index.clone()));
        }
        Some(existing) => existing.version + 1,
        None => 1,
    };
    if let Some(seq) = previous {
        index.docs.remove(&seq);
    }
    let seq_no = index.next_seq;
    index.next_seq += 1;
    doc.version = version;
    doc.seq_no = seq_no;
    index.by_id.insert(doc.id.clone(), seq_no);
    let (result, status) = if version == 1 {
        st.stats.created += 1;
        ("created", 201)
    } else {
        st.stats.updated += 1;
        ("updated", 200)
    };
    let item = json!({
        "_index": doc.backing_index, "_id": doc.id, "_version": version, "result": result,
        "_shards": shards(), "_seq_no": seq_no, "_primary_term": 1, "status": status
    });
    index.docs.insert(seq_no, doc);
    Ok(item)
}

/// A `delete` item: 200 `deleted`, or 404 `not_found`, which is not a failure.
pub fn delete(st: &mut State, concrete: &str, id: &str) -> (Value, bool) {
    let Some(index) = st.indices.get_mut(concrete) else {
        let e = EsError::index_not_found(concrete);
        return (
            json!({ "delete": { "_index": concrete, "_id": id, "status": 404, "error": e.cause_json() } }),
            true,
        );
    };
    let seq_no = index.next_seq;
    index.next_seq += 1;
    let removed = index
        .by_id
        .remove(id)
        .and_then(|seq| index.docs.remove(&seq));
    let (version, result, status) = match removed {
        Some(d) => {
            st.stats.deleted += 1;
            (d.version + 1, "deleted", 200)
        }
        None => (1, "not_found", 404),
    };
    (
        json!({ "delete": {
            "_index": concrete, "_id": id, "_version": version, "result": result,
            "_shards": shards(), "_seq_no": seq_no, "_primary_term": 1, "status": status
        }}),
        false,
    )
}
