//! Values, records and object schemas shared by the SOQL evaluator, the org generator and
//! the simulator's JSON rendering.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value as Json};

/// Salesforce field types that matter for parsing literals, comparing and rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Id,
    String,
    Picklist,
    Int,
    Double,
    Boolean,
    DateTime,
    Date,
    /// A base64 field (EventLogFile.LogFile): rendered as the URL of its blob.
    Base64,
    /// A lookup; the relationship name is in [`FieldDef::relationship`].
    Reference,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ftype: FieldType,
    /// Part of `FIELDS(STANDARD)`.
    pub standard: bool,
    pub filterable: bool,
    pub sortable: bool,
    /// For a `Reference` field: the relationship name (`CreatedBy`) and target object (`User`).
    pub relationship: Option<(String, String)>,
}

impl FieldDef {
    pub fn new(name: &str, ftype: FieldType) -> Self {
        FieldDef {
            name: name.to_string(),
            ftype,
            standard: true,
            filterable: !matches!(ftype, FieldType::Base64),
            sortable: !matches!(ftype, FieldType::Base64),
            relationship: None,
        }
    }
}

/// Rules of Salesforce big objects (Real-Time Event Monitoring storage objects): only the
/// index fields may be filtered and ordered on, left to right.
#[derive(Debug, Clone)]
pub struct BigObjectRules {
    /// Index fields in order, e.g. `["EventDate", "EventIdentifier"]`.
    pub index: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ObjectSchema {
    pub name: String,
    /// Three-character id prefix, e.g. `0AT` for EventLogFile.
    pub key_prefix: String,
    pub fields: Vec<FieldDef>,
    pub big_object: Option<BigObjectRules>,
}

impl ObjectSchema {
    /// Case-insensitive field lookup, as SOQL is case-insensitive.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
    /// A reference field by its relationship name (`CreatedBy`).
    pub fn relationship(&self, rel: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            f.relationship
                .as_ref()
                .is_some_and(|(r, _)| r.eq_ignore_ascii_case(rel))
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    String(String),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    /// A related record (`CreatedBy`), rendered as a nested object with its own attributes.
    Record(Box<Record>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// JSON as Salesforce's REST API renders it: dateTimes as `2023-12-19T21:04:35.000+0000`,
    /// doubles as JSON numbers with a fraction (`2692.0`).
    pub fn to_json(&self, api_version: &str) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => json!(i),
            Value::Double(d) => json!(d),
            Value::String(s) => Json::String(s.clone()),
            Value::DateTime(t) => Json::String(format_datetime(t)),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::Record(r) => r.to_json(api_version),
        }
    }
}

/// Salesforce's REST rendering of a dateTime.
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// One record: its object type, its id (when it has one) and its fields in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub sobject: String,
    pub id: Option<String>,
    pub fields: Vec<(String, Value)>,
}

impl Record {
    pub fn new(sobject: &str, id: Option<String>) -> Self {
        Record {
            sobject: sobject.to_string(),
            id,
            fields: Vec::new(),
        }
    }
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.fields.push((name.to_string(), value));
        self
    }
    /// Case-insensitive field lookup.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// A dotted path through related records: `["CreatedBy", "Username"]`.
    pub fn get_path(&self, path: &[String]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        let v = self.get(first)?;
        if rest.is_empty() {
            return Some(v);
        }
        match v {
            Value::Record(r) => r.get_path(rest),
            _ => None,
        }
    }
    /// The REST JSON form: `attributes` first, then the fields in order.
    pub fn to_json(&self, api_version: &str) -> Json {
        let mut m = Map::new();
        let mut attrs = Map::new();
        attrs.insert("type".into(), Json::String(self.sobject.clone()));
        if let Some(id) = &self.id {
            attrs.insert(
                "url".into(),
                Json::String(format!(
                    "/services/data/v{api_version}/sobjects/{}/{id}",
                    self.sobject
                )),
            );
        }
        m.insert("attributes".into(), Json::Object(attrs));
        for (n, v) in &self.fields {
            m.insert(n.clone(), v.to_json(api_version));
        }
        Json::Object(m)
    }
}
