//! An archive event as the rules see it: the record's own fields (`fields` in the archive's
//! line) plus `org_id` and `id`, with its time and dataset kept beside them.
//!
//! The rules read a handful of fields of each event, so the line is not turned into a JSON
//! tree: it is kept as it is, with the place of each field's key and value in it, and a value
//! is decoded only when a rule asks for it (most are plain strings, handed out as slices of
//! the line). One allocation for the line, one for the index, whatever the record's width.

use std::borrow::Cow;
use std::sync::Arc;

use rsigma_eval::{Event, EventValue};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
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
    pub dataset: Arc<str>,
    /// The JSON text the spans point into (the archive line).
    text: Box<str>,
    fields: Vec<Span>,
}

/// Where one field's key and raw JSON value are in `text`, with the key's `tag`.
#[derive(Debug, Clone, Copy)]
struct Span {
    key: (u32, u32),
    value: (u32, u32),
    tag: u32,
}

/// A key's length, first and last byte: most keys differ in one of them, so a lookup compares
/// bytes only when the tags agree.
fn tag(key: &str) -> u32 {
    let b = key.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => ((b.len() as u32) << 16) | (u32::from(*f) << 8) | u32::from(*l),
        _ => 0,
    }
}

/// The parts of an archive line the rules need; the rest (`source`, `file_id`, ...) is skipped.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "@timestamp", borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    org_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fields: Option<RawFields<'a>>,
}

/// `fields` as (key, raw value) pairs borrowed from the line.
struct RawFields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawFields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawFields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(32));
                while let Some((k, v)) = m.next_entry::<&'de str, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(RawFields(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl ArchiveEvent {
    /// Reads one NDJSON line of the archive. `dataset` is the file's (the delivery log knows
    /// it); a line without `@timestamp` or `fields` is refused.
    pub fn parse(line: String, dataset: &Arc<str>) -> Result<Self, EventError> {
        // A field name with an escape cannot be borrowed: such a line is normalised once.
        let Ok(l) = serde_json::from_str::<Line>(&line) else {
            return Self::parse_slow(&line, dataset);
        };
        let timestamp = l
            .timestamp
            .ok_or(EventError::Missing("@timestamp"))?
            .into_owned();
        let time = parse_time(&timestamp)?;
        let fields = l.fields.ok_or(EventError::Missing("fields"))?;
        let base = line.as_ptr() as usize;
        let range = |s: &str| {
            let start = s.as_ptr() as usize - base;
            (start as u32, (start + s.len()) as u32)
        };
        let spans = fields
            .0
            .iter()
            .map(|(k, v)| Span {
                key: range(k),
                value: range(v.get()),
                tag: tag(k),
            })
            .collect();
        let id = l.id.map(Cow::into_owned).unwrap_or_default();
        let org_id = l.org_id.map(Cow::into_owned).unwrap_or_default();
        Ok(Self {
            time,
            timestamp,
            id,
            org_id,
            dataset: dataset.clone(),
            text: line.into_boxed_str(),
            fields: spans,
        })
    }

    /// Parses through a JSON tree and writes the event again in plain form.
    fn parse_slow(line: &str, dataset: &Arc<str>) -> Result<Self, EventError> {
        let value: Value = serde_json::from_str(line).map_err(EventError::Json)?;
        let obj = value.as_object().ok_or(EventError::NotAnObject)?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
        let timestamp = obj
            .get("@timestamp")
            .and_then(Value::as_str)
            .ok_or(EventError::Missing("@timestamp"))?;
        let fields = match obj.get("fields") {
            Some(Value::Object(m)) => m.clone(),
            _ => return Err(EventError::Missing("fields")),
        };
        let mut ev = Self::new(
            parse_time(timestamp)?,
            text("id"),
            text("org_id"),
            dataset,
            fields,
        );
        ev.timestamp = timestamp.to_string();
        Ok(ev)
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
        // Keys written by serde_json never need unescaping when they are plain names; a key
        // that does still round-trips, as its span holds the escaped form (see `key`).
        let text = serde_json::json!({ "@timestamp": timestamp, "fields": fields }).to_string();
        let mut ev = Self::parse(text, &Arc::from(dataset)).expect("a line serde_json wrote");
        ev.id = id.to_string();
        ev.org_id = org_id.to_string();
        ev.time = time;
        ev
    }

    /// A field as text, by the rules' lookup (flat key first, then the dotted path).
    pub fn text(&self, field: &str) -> Option<String> {
        match self.get_field(field)? {
            EventValue::Null => None,
            v => v.as_str().map(|s| s.into_owned()).filter(|s| !s.is_empty()),
        }
    }

    fn slice(&self, (a, b): (u32, u32)) -> &str {
        &self.text[a as usize..b as usize]
    }

    /// The raw JSON value of a field whose key is exactly `name`.
    fn raw(&self, name: &str) -> Option<&str> {
        let t = tag(name);
        self.fields
            .iter()
            .find(|s| s.tag == t && self.slice(s.key) == name)
            .map(|s| self.slice(s.value))
    }

    /// The record as a JSON object (for the dotted-path walk and `to_json`).
    fn tree(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|s| {
                let key = self.slice(s.key).to_string();
                (
                    key,
                    serde_json::from_str(self.slice(s.value)).unwrap_or(Value::Null),
                )
            })
            .collect()
    }
}

fn parse_time(timestamp: &str) -> Result<i64, EventError> {
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .map(|t| t.timestamp())
        .map_err(|_| EventError::Time(timestamp.to_string()))
}

/// A raw JSON value as rsigma sees it: strings without escapes are slices of the line.
fn decode(raw: &str) -> EventValue<'_> {
    let b = raw.as_bytes();
    match b.first() {
        Some(b'"') if !raw[1..raw.len() - 1].contains('\\') => {
            EventValue::Str(Cow::Borrowed(&raw[1..raw.len() - 1]))
        }
        Some(b'"') => EventValue::Str(Cow::Owned(
            serde_json::from_str::<String>(raw).unwrap_or_default(),
        )),
        Some(b'n') => EventValue::Null,
        Some(b't') => EventValue::Bool(true),
        Some(b'f') => EventValue::Bool(false),
        Some(b'{' | b'[') => owned(serde_json::from_str::<Value>(raw).unwrap_or(Value::Null)),
        _ => match raw.parse::<i64>() {
            Ok(n) => EventValue::Int(n),
            Err(_) => EventValue::Float(raw.parse().unwrap_or(f64::NAN)),
        },
    }
}

/// A value that is not a slice of the line.
fn owned(v: Value) -> EventValue<'static> {
    match v {
        Value::String(s) => EventValue::Str(Cow::Owned(s)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => EventValue::Int(i),
            None => EventValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Bool(b) => EventValue::Bool(b),
        Value::Null => EventValue::Null,
        Value::Array(items) => EventValue::Array(items.into_iter().map(owned).collect()),
        Value::Object(map) => EventValue::Map(
            map.into_iter()
                .map(|(k, v)| (Cow::Owned(k), owned(v)))
                .collect(),
        ),
    }
}

impl Event for ArchiveEvent {
    /// rsigma's lookup: a literal flat key wins (`CreatedBy.Username` as archived from a CSV
    /// header), otherwise the dotted path is walked through nested objects (object records
    /// keep relationship fields nested).
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match path {
            "org_id" => return Some(EventValue::Str(Cow::Borrowed(&self.org_id))),
            // The archive's event id (Salesforce's own names are `Id`, `EventIdentifier`):
            // rsigma reads it into a correlation's event references.
            "id" => return Some(EventValue::Str(Cow::Borrowed(&self.id))),
            PRODUCT_FIELD => return Some(EventValue::Str(Cow::Borrowed(PRODUCT))),
            SERVICE_FIELD => return Some(EventValue::Str(Cow::Borrowed(&self.dataset))),
            _ => {}
        }
        if let Some(raw) = self.raw(path) {
            return Some(decode(raw));
        }
        let (head, rest) = path.split_once('.')?;
        let nested: Value = serde_json::from_str(self.raw(head)?).ok()?;
        walk(&nested, rest).map(|v| owned(v.clone()))
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        visit_strings(&Value::Object(self.tree()), &mut |s| {
            found = found || pred(s)
        });
        found
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        visit_strings(&Value::Object(self.tree()), &mut |s| {
            out.push(Cow::Owned(s.to_string()))
        });
        out
    }

    /// The event's references only: the archive's `id` and `org_id`. rsigma calls this for
    /// each event a correlation keeps, to read its id (the `Detector` keeps references, never
    /// whole events, and never asks rsigma to include events in results); building the whole
    /// record there cost more than evaluating the rules.
    fn to_json(&self) -> Value {
        serde_json::json!({ "id": self.id, "org_id": self.org_id })
    }
}

fn walk<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    if let Some(found) = map.get(path) {
        return Some(found);
    }
    let (head, rest) = path.split_once('.')?;
    walk(map.get(head)?, rest)
}

fn visit_strings<'a>(value: &'a Value, visit: &mut dyn FnMut(&'a str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, visit)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> Arc<str> {
        Arc::from("login")
    }

    #[test]
    fn fields_are_read_from_the_line_as_rules_ask_for_them() {
        let line = r#"{"@timestamp":"2026-03-10T01:02:03.456Z","id":"e1","org_id":"00D","source":"EventLogFile","fields":{"USER_NAME":"jane@x","ROWS":"12","N":7,"F":1.5,"B":true,"Z":null,"Q":"a\"b","CreatedBy":{"Username":"adm@x"},"CreatedBy.Username":"flat@x"}}"#;
        let ev = ArchiveEvent::parse(line.to_string(), &ds()).unwrap();
        assert_eq!(
            (ev.time, ev.id.as_str(), ev.org_id.as_str()),
            (1773104523, "e1", "00D")
        );
        assert_eq!(
            ev.get_field("USER_NAME"),
            Some(EventValue::Str(Cow::Borrowed("jane@x")))
        );
        assert_eq!(ev.get_field("ROWS").unwrap().as_f64(), Some(12.0));
        assert_eq!(ev.get_field("N"), Some(EventValue::Int(7)));
        assert_eq!(ev.get_field("F"), Some(EventValue::Float(1.5)));
        assert_eq!(ev.get_field("B"), Some(EventValue::Bool(true)));
        assert_eq!(ev.get_field("Z"), Some(EventValue::Null));
        assert_eq!(ev.text("Q").as_deref(), Some("a\"b"));
        // A flat key wins over the nested path; the nested path is walked otherwise.
        assert_eq!(ev.text("CreatedBy.Username").as_deref(), Some("flat@x"));
        assert_eq!(ev.get_field("MISSING"), None);
        assert_eq!(ev.text("org_id").as_deref(), Some("00D"));
        assert_eq!(ev.text("id").as_deref(), Some("e1"));
        assert!(ev.any_string_value(&|s| s == "adm@x"));
        assert_eq!(
            ev.to_json(),
            serde_json::json!({"id": "e1", "org_id": "00D"})
        );
        let nested =
            r#"{"@timestamp":"2026-03-10T01:02:03Z","fields":{"CreatedBy":{"Username":"adm@x"}}}"#;
        let ev = ArchiveEvent::parse(nested.to_string(), &ds()).unwrap();
        assert_eq!(ev.text("CreatedBy.Username").as_deref(), Some("adm@x"));
    }

    #[test]
    fn an_escaped_field_name_still_reads() {
        let line = r#"{"@timestamp":"2026-03-10T01:02:03Z","fields":{"A\u0042":"x"}}"#;
        let ev = ArchiveEvent::parse(line.to_string(), &ds()).unwrap();
        assert_eq!(ev.text("AB").as_deref(), Some("x"));
    }

    #[test]
    fn lines_that_are_not_events_are_refused() {
        for (line, want) in [
            ("not json", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"fields":{}}"#, "@timestamp"),
            (r#"{"@timestamp":"2026-03-10T01:02:03Z"}"#, "fields"),
            (r#"{"@timestamp":"yesterday","fields":{}}"#, "yesterday"),
        ] {
            let e = ArchiveEvent::parse(line.to_string(), &ds())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
