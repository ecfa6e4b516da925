//! An archive event as the rules see it: the record's own fields (`fields` in the archive's
//! line) plus `org_id`, with its time, id and dataset kept beside them.

use std::borrow::Cow;

use rsigma_eval::{Event, EventValue};
use serde_json::{Map, Value};

use crate::error::EventError;

/// The product every Salesforce rule names in its `logsource`.
pub const PRODUCT: &str = "salesforce";
/// Fields the logsource pruning reads; they cannot clash with Salesforce's own names, which
/// never start with an underscore.
pub(crate) const PRODUCT_FIELD: &str = "__sfevents_product";
pub(crate) const SERVICE_FIELD: &str = "__sfevents_service";

/// One parsed archive line.
#[derive(Debug, Clone)]
pub struct ArchiveEvent {
    /// `@timestamp`, seconds since the epoch (the event's own time, not its arrival).
    pub time: i64,
    /// `@timestamp` as written in the archive.
    pub timestamp: String,
    /// The archive's deterministic event id.
    pub id: String,
    pub org_id: String,
    /// The archive's dataset (`login`, `login_event`, `setup_audit_trail`, ...): the rules'
    /// `logsource.service`.
    pub dataset: String,
    fields: Value,
}

impl ArchiveEvent {
    /// Reads one NDJSON line of the archive. `dataset` is the file's (the delivery log knows
    /// it); a line without `@timestamp` or `fields` is refused.
    pub fn parse(line: &str, dataset: &str) -> Result<Self, EventError> {
        let mut value: Value = serde_json::from_str(line).map_err(EventError::Json)?;
        let obj = value.as_object_mut().ok_or(EventError::NotAnObject)?;
        let timestamp = take_string(obj, "@timestamp").ok_or(EventError::Missing("@timestamp"))?;
        let time = chrono::DateTime::parse_from_rfc3339(&timestamp)
            .map_err(|_| EventError::Time(timestamp.clone()))?
            .timestamp();
        let fields = match obj.remove("fields") {
            Some(Value::Object(map)) => Value::Object(map),
            _ => return Err(EventError::Missing("fields")),
        };
        Ok(Self {
            time,
            timestamp,
            id: take_string(obj, "id").unwrap_or_default(),
            org_id: take_string(obj, "org_id").unwrap_or_default(),
            dataset: dataset.to_string(),
            fields,
        })
    }

    /// An event built from its parts (tests, rule samples).
    pub fn new(
        time: i64,
        id: &str,
        org_id: &str,
        dataset: &str,
        fields: Map<String, Value>,
    ) -> Self {
        let timestamp = chrono::DateTime::from_timestamp(time, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        Self {
            time,
            timestamp,
            id: id.to_string(),
            org_id: org_id.to_string(),
            dataset: dataset.to_string(),
            fields: Value::Object(fields),
        }
    }

    /// The record's fields.
    pub fn fields(&self) -> &Value {
        &self.fields
    }

    /// A field as text, by the rules' lookup (flat key first, then the dotted path).
    pub fn text(&self, field: &str) -> Option<String> {
        let value = self.get_field(field)?;
        match value {
            EventValue::Null => None,
            v => v.as_str().map(|s| s.into_owned()).filter(|s| !s.is_empty()),
        }
    }
}

fn take_string(obj: &mut Map<String, Value>, key: &str) -> Option<String> {
    match obj.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

impl Event for ArchiveEvent {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match path {
            "org_id" => Some(EventValue::Str(Cow::Borrowed(&self.org_id))),
            // The archive's event id (Salesforce's own names are `Id`, `EventIdentifier`):
            // rsigma reads it into a correlation's event references.
            "id" => Some(EventValue::Str(Cow::Borrowed(&self.id))),
            PRODUCT_FIELD => Some(EventValue::Str(Cow::Borrowed(PRODUCT))),
            SERVICE_FIELD => Some(EventValue::Str(Cow::Borrowed(&self.dataset))),
            _ => lookup(&self.fields, path).map(EventValue::from),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        visit_strings(&self.fields, &mut |s| found = found || pred(s));
        found
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        visit_strings(&self.fields, &mut |s| out.push(Cow::Borrowed(s)));
        out
    }

    /// The record with `org_id` and the archive's `id` (rsigma reads a correlation's event
    /// references from `id`).
    fn to_json(&self) -> Value {
        let mut fields = self.fields.clone();
        if let Some(map) = fields.as_object_mut() {
            map.insert("org_id".into(), Value::String(self.org_id.clone()));
            map.insert("id".into(), Value::String(self.id.clone()));
        }
        fields
    }
}

/// rsigma's lookup: a literal flat key wins (`CreatedBy.Username` as archived from a CSV
/// header), otherwise the dotted path is walked through nested objects (object records keep
/// relationship fields nested).
fn lookup<'a>(fields: &'a Value, path: &str) -> Option<&'a Value> {
    let map = fields.as_object()?;
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(map.get(head)?, rest)
}

fn visit_strings<'a>(value: &'a Value, visit: &mut dyn FnMut(&'a str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, visit)),
        _ => {}
    }
}
