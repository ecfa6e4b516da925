//! Parsing of `_bulk` bodies, following Elasticsearch's `BulkRequestParser`:
//! - lines end with `\n`, and so must the last one: "The bulk request must be terminated by a
//!   newline [\n]";
//! - blank lines where an action is expected are skipped;
//! - an action line is an object with one key, `create`, `index`, `delete` or `update`, whose
//!   value is an object of known metadata fields; anything else fails the whole request (400);
//! - every action but `delete` is followed by a source line; an action with no source line
//!   left is dropped;
//! - then `BulkRequest.validate()`: no actions, a missing index or an `_id` over 512 bytes fail
//!   the whole request with `action_request_validation_exception`.
//!
//! Source lines are not parsed here: as in Elasticsearch, a bad document fails only its item.

use serde_json::Value;

use super::errors::EsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpType {
    Create,
    Index,
    Delete,
    Update,
}

impl OpType {
    pub fn as_str(self) -> &'static str {
        match self {
            OpType::Create => "create",
            OpType::Index => "index",
            OpType::Delete => "delete",
            OpType::Update => "update",
        }
    }
}

/// One bulk action with its (unparsed) source line.
#[derive(Debug, Clone)]
pub struct Action {
    pub op: OpType,
    pub index: Option<String>,
    pub id: Option<String>,
    pub pipeline: Option<String>,
    pub source: Option<Vec<u8>>,
}

/// The metadata fields an action line may carry (Elasticsearch 8.x).
const KNOWN: &[&str] = &[
    "_index",
    "_id",
    "routing",
    "op_type",
    "version",
    "version_type",
    "if_seq_no",
    "if_primary_term",
    "pipeline",
    "retry_on_conflict",
    "_source",
    "require_alias",
    "require_data_stream",
    "list_executed_pipelines",
    "dynamic_templates",
];

/// Elasticsearch's limit on `_id` length, in UTF-8 bytes.
pub const MAX_ID_BYTES: usize = 512;

fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}

fn malformed(line: usize, what: String) -> EsError {
    EsError::illegal_argument(format!("Malformed action/metadata line [{line}], {what}"))
}

fn parse_action(raw: &[u8], line: usize) -> Result<Action, EsError> {
    let v: Value = serde_json::from_slice(raw).map_err(|e| {
        EsError::new(
            400,
            "x_content_parse_exception",
            format!("[{line}:{}] {e}", e.column()),
        )
    })?;
    let Value::Object(m) = v else {
        return Err(malformed(
            line,
            format!("expected START_OBJECT but found [{}]", token_name(&v)),
        ));
    };
    let mut entries = m.into_iter();
    let Some((name, meta)) = entries.next() else {
        return Err(malformed(
            line,
            "expected FIELD_NAME but found [END_OBJECT]".into(),
        ));
    };
    if entries.next().is_some() {
        return Err(malformed(
            line,
            "expected END_OBJECT but found [FIELD_NAME]".into(),
        ));
    }
    let mut op = match name.as_str() {
        "create" => OpType::Create,
        "index" => OpType::Index,
        "delete" => OpType::Delete,
        "update" => OpType::Update,
        other => {
            return Err(malformed(
                line,
                format!(
                    "expected field [create], [delete], [index] or [update] but found [{other}]"
                ),
            ))
        }
    };
    let Value::Object(meta) = meta else {
        return Err(malformed(
            line,
            format!("expected START_OBJECT but found [{}]", token_name(&meta)),
        ));
    };
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut action = Action {
        op,
        index: None,
        id: None,
        pipeline: None,
        source: None,
    };
    for (k, v) in &meta {
        if !KNOWN.contains(&k.as_str()) {
            return Err(EsError::illegal_argument(format!(
                "Action/metadata line [{line}] contains an unknown parameter [{k}]"
            )));
        }
        match k.as_str() {
            "_index" => action.index = text(v),
            "_id" => action.id = text(v),
            "pipeline" => action.pipeline = text(v),
            "op_type" if op == OpType::Index => match v.as_str() {
                Some("create") => op = OpType::Create,
                Some("index") => {}
                _ => {
                    return Err(EsError::illegal_argument(format!(
                        "opType must be 'create' or 'index', found: [{}]",
                        text(v).unwrap_or_default()
                    )))
                }
            },
            _ => {}
        }
    }
    action.op = op;
    Ok(action)
}

/// Parses a bulk body; `default_index` is the `<index>` of `POST /<index>/_bulk`.
pub fn parse(body: &[u8], default_index: Option<&str>) -> Result<Vec<Action>, EsError> {
    let mut actions = Vec::new();
    let mut from = 0usize;
    let mut line = 0usize;
    let next_line = |from: usize| -> Result<Option<usize>, EsError> {
        match body[from..].iter().position(|b| *b == b'\n') {
            Some(p) => Ok(Some(from + p)),
            None if from < body.len() => Err(EsError::illegal_argument(
                "The bulk request must be terminated by a newline [\\n]",
            )),
            None => Ok(None),
        }
    };
    while let Some(end) = next_line(from)? {
        line += 1;
        let raw = &body[from..end];
        from = end + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut action = parse_action(raw, line)?;
        if action.index.is_none() {
            action.index = default_index.map(String::from);
        }
        if action.op != OpType::Delete {
            let Some(end) = next_line(from)? else {
                break;
            };
            line += 1;
            action.source = Some(body[from..end].to_vec());
            from = end + 1;
        }
        actions.push(action);
    }
    validate(&actions)?;
    Ok(actions)
}

/// `BulkRequest.validate()`: every problem of every action, numbered, in one exception.
fn validate(actions: &[Action]) -> Result<(), EsError> {
    let mut problems = Vec::new();
    if actions.is_empty() {
        problems.push("no requests added".to_string());
    }
    for a in actions {
        if a.index.as_deref().is_none_or(str::is_empty) {
            problems.push("index is missing".to_string());
        }
        if a.op == OpType::Delete && a.id.is_none() {
            problems.push("id is missing".to_string());
        }
        if let Some(id) = &a.id {
            if id.len() > MAX_ID_BYTES {
                problems.push(format!(
                    "id [{id}] is too long, must be no longer than {MAX_ID_BYTES} bytes but was: {}",
                    id.len()
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let text: String = problems
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}: {p};", i + 1))
        .collect();
    Err(EsError::new(
        400,
        "action_request_validation_exception",
        format!("Validation Failed: {text}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_actions_with_sources() {
        let body = b"{\"create\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n\n{\"delete\":{\"_id\":2}}\n";
        let a = parse(body, Some("d")).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].source.as_deref(), Some(&b"{\"x\":1}"[..]));
        assert_eq!(
            (a[1].op, a[1].index.as_deref(), a[1].id.as_deref()),
            (OpType::Delete, Some("d"), Some("2"))
        );
    }

    #[test]
    fn refusals_of_the_whole_request() {
        let e = parse(b"{\"create\":{\"_index\":\"a\"}}\n{}", None).unwrap_err();
        assert_eq!(
            e.reason,
            "The bulk request must be terminated by a newline [\\n]"
        );
        let e = parse(b"{\"upsert\":{}}\n{}\n", None).unwrap_err();
        assert!(e
            .reason
            .contains("expected field [create], [delete], [index] or [update] but found [upsert]"));
        let e = parse(b"{\"index\":{\"_type\":\"doc\"}}\n{}\n", None).unwrap_err();
        assert_eq!(
            e.reason,
            "Action/metadata line [1] contains an unknown parameter [_type]"
        );
        let e = parse(b"{\"index\":{}}\n{}\n", None).unwrap_err();
        assert_eq!(e.reason, "Validation Failed: 1: index is missing;");
        let e = parse(b"\n", None).unwrap_err();
        assert_eq!(e.reason, "Validation Failed: 1: no requests added;");
        let long = format!(
            "{{\"create\":{{\"_index\":\"a\",\"_id\":\"{}\"}}}}\n{{}}\n",
            "x".repeat(513)
        );
        assert!(parse(long.as_bytes(), None)
            .unwrap_err()
            .reason
            .contains("is too long, must be no longer than 512 bytes but was: 513"));
    }

    #[test]
    fn op_type_create_on_an_index_action() {
        let a = parse(
            b"{\"index\":{\"_index\":\"a\",\"op_type\":\"create\"}}\n{}\n",
            None,
        )
        .unwrap();
        assert_eq!(a[0].op, OpType::Create);
    }
}
