//! `sobjects`: the global list, an object's describe, and one EventLogFile record.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use soql::{FieldType, ObjectSchema};

use super::versions::ApiVersion;
use super::{ok_json, ApiError, Shared};

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Id => "id",
        FieldType::String => "string",
        FieldType::Picklist => "picklist",
        FieldType::Int => "int",
        FieldType::Double => "double",
        FieldType::Boolean => "boolean",
        FieldType::DateTime => "datetime",
        FieldType::Date => "date",
        FieldType::Base64 => "base64",
        FieldType::Reference => "reference",
    }
}

/// "LogFileLength" → "Log File Length"; a trailing "Id" of a lookup becomes " ID".
fn label(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || (prev.is_uppercase() && next_lower) {
                out.push(' ');
            }
        }
        out.push(*c);
    }
    out
}

fn object_label(name: &str) -> String {
    label(name)
}

fn object_summary(schema: &ObjectSchema, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", schema.name);
    json!({
        "name": schema.name,
        "label": object_label(&schema.name),
        "labelPlural": format!("{}s", object_label(&schema.name)),
        "keyPrefix": schema.key_prefix,
        "custom": false,
        "queryable": true,
        "retrieveable": true,
        "searchable": false,
        "createable": false,
        "updateable": false,
        "deletable": false,
        "urls": {
            "sobject": base,
            "describe": format!("{base}/describe"),
            "rowTemplate": format!("{base}/{{ID}}"),
        },
    })
}

pub async fn global(
    State(s): State<Arc<Shared>>,
    Extension(ApiVersion(version)): Extension<ApiVersion>,
) -> Response {
    let objects: Vec<Value> = s
        .objects()
        .into_iter()
        .filter_map(|o| s.object_schema(o))
        .map(|schema| object_summary(&schema, &version))
        .collect();
    ok_json(json!({
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": objects,
    }))
}

pub async fn describe(
    State(s): State<Arc<Shared>>,
    Extension(ApiVersion(version)): Extension<ApiVersion>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let object = params.get("object").map(String::as_str).unwrap_or("");
    let schema = s.object_schema(object).ok_or_else(ApiError::not_found)?;
    let fields: Vec<Value> = schema
        .fields
        .iter()
        .map(|f| {
            let (rel, to) = match &f.relationship {
                Some((r, t)) => (json!(r), json!([t])),
                None => (Value::Null, json!([])),
            };
            json!({
                "name": f.name,
                "type": type_name(f.ftype),
                "label": label(&f.name),
                "filterable": f.filterable,
                "sortable": f.sortable,
                "nillable": f.ftype != FieldType::Id,
                "custom": false,
                "relationshipName": rel,
                "referenceTo": to,
            })
        })
        .collect();
    let mut v = object_summary(&schema, &version);
    v["fields"] = Value::Array(fields);
    Ok(ok_json(v))
}

pub async fn record(
    State(s): State<Arc<Shared>>,
    Extension(ApiVersion(version)): Extension<ApiVersion>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let object = params.get("object").map(String::as_str).unwrap_or("");
    let id = params.get("id").map(String::as_str).unwrap_or("");
    if !object.eq_ignore_ascii_case("EventLogFile") {
        if s.object_schema(object).is_none() {
            return Err(ApiError::invalid_type(object));
        }
        return Err(ApiError::not_found());
    }
    let meta = s.visible_file(id).ok_or_else(ApiError::not_found)?.clone();
    let (st, v) = (s.clone(), version.clone());
    let rec = tokio::task::spawn_blocking(move || super::query::elf_record(&st, &meta, &v))
        .await
        .map_err(|_| ApiError::not_found())?;
    Ok(ok_json(rec.to_json(&version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label("LogFileLength"), "Log File Length");
        assert_eq!(label("EventLogFile"), "Event Log File");
        assert_eq!(label("Id"), "Id");
        assert_eq!(label("CreatedById"), "Created By Id");
    }
}
