//! SOQL queries: `query`, `queryAll`, `nextRecordsUrl` pages, `columns=true` metadata, and the
//! Tooling API query the `sf` CLI sends.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use soql::{FieldType, ObjectSchema, Record};

use super::versions::ApiVersion;
use super::{lock, ok_json, ApiError, Cursor, Shared, Visibility, MAX_CURSORS};
use crate::credentials::random_alnum;

/// The objects served besides the org's event objects ([`sfgen::Org::objects`]).
pub(crate) const CORE_OBJECTS: &[&str] = &["EventLogFile", "Organization", "User"];

/// Every record of an object the client may see now.
pub fn records_of(s: &Shared, schema: &ObjectSchema, version: &str) -> Vec<Record> {
    match schema.name.as_str() {
        "EventLogFile" => {
            let now = s.now();
            s.org
                .files
                .iter()
                .filter(|f| s.visibility(f, now) == Visibility::Visible)
                .map(|f| elf_record(s, f, version))
                .collect()
        }
        "Organization" => vec![s.org.organization_record()],
        "User" => s.org.users.iter().map(|u| user_record(schema, u)).collect(),
        other => s.visible_object_records(other, s.now()).cloned().collect(),
    }
}

/// An EventLogFile record as this org shows it: without the fields it hides, and with
/// `LogFileFieldNames`/`LogFileFieldTypes` null when it serves them so.
pub(crate) fn elf_record(s: &Shared, f: &sfgen::LogFileMeta, version: &str) -> Record {
    let mut r = s.org.event_log_file_record(f, version);
    r.fields.retain(|(n, _)| s.elf_field_shown(n));
    if s.elf_field_schema == crate::ElfFieldSchema::Null {
        for (n, v) in &mut r.fields {
            if matches!(n.as_str(), "LogFileFieldNames" | "LogFileFieldTypes") {
                *v = soql::Value::Null;
            }
        }
    }
    r
}

fn user_record(schema: &ObjectSchema, u: &sfgen::User) -> Record {
    let mut r = Record::new("User", Some(u.id.clone()));
    let (first, last) = u.name.split_once(' ').unwrap_or(("", u.name.as_str()));
    for f in &schema.fields {
        let v = match f.name.as_str() {
            "Id" => soql::Value::str(u.id.clone()),
            "Username" => soql::Value::str(u.username.clone()),
            "Name" => soql::Value::str(u.name.clone()),
            "FirstName" => soql::Value::str(first),
            "LastName" => soql::Value::str(last),
            "Email" => soql::Value::str(u.username.clone()),
            "IsActive" => soql::Value::Bool(u.is_active),
            _ => soql::Value::Null,
        };
        r.fields.push((f.name.clone(), v));
    }
    r
}

/// `Sforce-Query-Options: batchSize=N`, clamped to Salesforce's [200, 2000].
fn batch_size(headers: &HeaderMap) -> Option<usize> {
    let v = headers.get("sforce-query-options")?.to_str().ok()?;
    v.split([',', ';']).find_map(|opt| {
        let (k, n) = opt.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("batchSize") {
            return None;
        }
        let n: usize = n.trim().parse().ok()?;
        Some(n.clamp(200, 2000))
    })
}

pub async fn query(
    State(s): State<Arc<Shared>>,
    Extension(ApiVersion(version)): Extension<ApiVersion>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("MALFORMED_QUERY", "A query string must be provided.")
        })?;
    let parsed = soql::parse(q)?;
    let schema = s
        .object_schema(&parsed.from)
        .ok_or_else(|| ApiError::invalid_type(&parsed.from))?;
    let faults = s.faults();
    if faults
        .deny_objects
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&schema.name))
    {
        return Err(ApiError::invalid_type(&parsed.from));
    }
    let empty = faults
        .empty_objects
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&schema.name));
    s.count_query(&schema.name);
    let object = schema.name.clone();
    if params.get("columns").is_some_and(|c| c == "true") {
        return Ok(ok_json(column_metadata(&parsed, &schema)?));
    }
    let now = s.now();
    let batch = batch_size(&headers).unwrap_or(s.default_batch_size);
    let batch = s.page_size_cap.map_or(batch, |cap| batch.min(cap));
    let st = s.clone();
    let output = tokio::task::spawn_blocking(move || {
        let records = if empty {
            Vec::new()
        } else {
            records_of(&st, &schema, &version)
        };
        soql::execute(&parsed, &schema, records.iter(), now).map(|o| (o, version))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            format!("query failed: {e}"),
        )
    })?;
    let (output, version) = output?;
    match output {
        soql::Output::Count(n) => Ok(ok_json(json!({
            "totalSize": n,
            "done": true,
            "records": [],
        }))),
        soql::Output::Records(records) => {
            if let Some(max) = s.faults().query_timeout_over_rows {
                if records.len() as u64 > max {
                    return Err(ApiError::bad_request(
                        "QUERY_TIMEOUT",
                        "Your query request was running for too long.",
                    ));
                }
            }
            let cursor = Arc::new(Cursor {
                object,
                records,
                batch_size: batch,
            });
            Ok(ok_json(page(&s, cursor, None, 0, batch, &version)))
        }
    }
}

/// One page of a cursor from `offset`; registers the cursor when more pages follow.
fn page(
    s: &Shared,
    cursor: Arc<Cursor>,
    locator: Option<&str>,
    offset: usize,
    batch: usize,
    version: &str,
) -> Value {
    let total = cursor.records.len();
    let end = offset.saturating_add(batch).min(total);
    let records: Vec<Value> = cursor.records[offset.min(total)..end]
        .iter()
        .map(|r| r.to_json(version))
        .collect();
    let mut m = Map::new();
    m.insert("totalSize".into(), json!(total));
    let done = end >= total;
    m.insert("done".into(), json!(done));
    if !done {
        let id = match locator {
            Some(l) => l.to_string(),
            None => register(s, cursor.clone()),
        };
        m.insert(
            "nextRecordsUrl".into(),
            json!(format!("/services/data/v{version}/query/{id}-{end}")),
        );
    }
    m.insert("records".into(), Value::Array(records));
    Value::Object(m)
}

/// Stores a cursor under a new 18-character locator, dropping the oldest when too many.
fn register(s: &Shared, cursor: Arc<Cursor>) -> String {
    let id = format!("0r8{}", random_alnum(15));
    let mut c = lock(&s.cursors);
    c.by_id.insert(id.clone(), cursor);
    c.order.push_back(id.clone());
    while c.order.len() > MAX_CURSORS {
        if let Some(old) = c.order.pop_front() {
            c.by_id.remove(&old);
        }
    }
    id
}

pub async fn query_more(
    State(s): State<Arc<Shared>>,
    Extension(ApiVersion(version)): Extension<ApiVersion>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if s.faults().fail_query_more {
        return Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-67890 (-987654321)",
        ));
    }
    let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
    let raw = params.get("locator").ok_or_else(invalid)?;
    let (id, offset) = raw.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let cursor = lock(&s.cursors)
        .by_id
        .get(id)
        .cloned()
        .ok_or_else(invalid)?;
    if offset > cursor.records.len() {
        return Err(invalid());
    }
    s.count_query(&cursor.object);
    let batch = batch_size(&headers).unwrap_or(cursor.batch_size);
    let batch = s.page_size_cap.map_or(batch, |cap| batch.min(cap));
    Ok(ok_json(page(&s, cursor, Some(id), offset, batch, &version)))
}

/// The Tooling API: no object is served (the `sf` CLI tolerates the `SandboxProcess` error).
pub async fn tooling_query(
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let q = params.get("q").ok_or_else(|| {
        ApiError::bad_request("MALFORMED_QUERY", "A query string must be provided.")
    })?;
    let parsed = soql::parse(q)?;
    Err(ApiError::invalid_type(&parsed.from))
}

/// Apex type name, and whether it is a number, text or boolean column.
fn column_types(t: FieldType) -> (&'static str, bool, bool, bool) {
    match t {
        FieldType::Id | FieldType::Reference => ("Id", false, true, false),
        FieldType::String | FieldType::Picklist => ("String", false, true, false),
        FieldType::Int => ("Integer", true, false, false),
        FieldType::Double => ("Double", true, false, false),
        FieldType::Boolean => ("Boolean", false, false, true),
        FieldType::DateTime => ("Datetime", false, false, false),
        FieldType::Date => ("Date", false, false, false),
        FieldType::Base64 => ("Blob", false, false, false),
    }
}

fn column(name: &str, ftype: Option<FieldType>, joins: Vec<Value>) -> Value {
    let (apex, number, text, boolean) = ftype.map(column_types).unwrap_or((
        if joins.is_empty() {
            "String"
        } else {
            "SObject"
        },
        false,
        false,
        false,
    ));
    json!({
        "aggregate": false,
        "apexType": apex,
        "booleanType": boolean,
        "columnName": name,
        "custom": name.ends_with("__c"),
        "displayName": name,
        "foreignKeyName": null,
        "insertable": false,
        "joinColumns": joins,
        "numberType": number,
        "textType": text,
        "updatable": false,
    })
}

/// The `columns=true` answer.
fn column_metadata(q: &soql::Query, schema: &ObjectSchema) -> Result<Value, ApiError> {
    let is_count = q
        .select
        .iter()
        .any(|i| matches!(i, soql::ast::SelectItem::Count));
    let mut columns: Vec<Value> = Vec::new();
    if is_count {
        let mut c = column("expr0", Some(FieldType::Int), Vec::new());
        c["aggregate"] = json!(true);
        columns.push(c);
    }
    let paths = if is_count {
        Vec::new()
    } else {
        soql::selected_fields(q, schema)?
    };
    let mut id_selected = false;
    // Relationship paths are grouped under their first segment, as join columns.
    let mut joins: Vec<(String, Vec<Value>)> = Vec::new();
    for path in &paths {
        match path.as_slice() {
            [name] => {
                let f = schema.field(name);
                if f.is_some_and(|f| f.name == "Id") {
                    id_selected = true;
                }
                let shown = f.map(|f| f.name.clone()).unwrap_or_else(|| name.clone());
                columns.push(column(&shown, f.map(|f| f.ftype), Vec::new()));
            }
            [rel, rest @ ..] if !rest.is_empty() => {
                let target = schema
                    .relationship(rel)
                    .and_then(|f| f.relationship.as_ref())
                    .and_then(|(_, obj)| sfgen::schema(obj));
                let leaf = rest.join(".");
                let ftype = target
                    .as_ref()
                    .and_then(|t| t.field(&rest[0]))
                    .map(|f| f.ftype);
                let col = column(&leaf, ftype, Vec::new());
                match joins.iter_mut().find(|(r, _)| r.eq_ignore_ascii_case(rel)) {
                    Some((_, cols)) => cols.push(col),
                    None => {
                        joins.push((rel.clone(), vec![col]));
                        columns.push(json!(null));
                    }
                }
            }
            _ => {}
        }
    }
    // Fill the placeholders left for relationship columns, in order.
    let mut join_iter = joins.into_iter();
    for c in columns.iter_mut() {
        if c.is_null() {
            if let Some((rel, cols)) = join_iter.next() {
                *c = column(&rel, None, cols);
            }
        }
    }
    Ok(json!({
        "columnMetadata": columns,
        "entityName": schema.name,
        "groupBy": false,
        "idSelected": id_selected,
        "keyPrefix": schema.key_prefix,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn batch_size_header() {
        let mut h = HeaderMap::new();
        assert_eq!(batch_size(&h), None);
        h.insert(
            "sforce-query-options",
            HeaderValue::from_static("batchSize=1000"),
        );
        assert_eq!(batch_size(&h), Some(1000));
        h.insert(
            "sforce-query-options",
            HeaderValue::from_static("batchSize=5"),
        );
        assert_eq!(batch_size(&h), Some(200));
        h.insert(
            "sforce-query-options",
            HeaderValue::from_static("foo=bar, batchSize=9000"),
        );
        assert_eq!(batch_size(&h), Some(2000));
    }
}
