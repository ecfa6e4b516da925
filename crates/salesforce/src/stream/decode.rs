//! Event payloads (raw Avro binary datums, no container header) into records shaped as the
//! storage object's records read over REST, so a streamed event and the same event polled
//! from its storage object archive the same.
//!
//! - Field names are the schema's: Salesforce names them by API name, as the object's.
//! - A dateTime (Avro `long` epoch milliseconds with `doc: "<Field>:DateTime"`) becomes the
//!   string REST gives: `2026-03-10T12:30:00.000+0000`.
//! - Null stays JSON null, as REST gives a field without a value; optional fields'
//!   `["null", T]` unions are unwrapped.
//! - `EventUuid`, which the bus adds and no storage object has, is kept beside the record.

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::StreamError;

/// The field the bus adds to every event: the event's own UUID.
pub const EVENT_UUID: &str = "EventUuid";

/// How Salesforce marks a `long` holding a dateTime: the field's `doc` ends with this.
const DATETIME_DOC: &str = ":DateTime";

/// One writer schema, as `GetSchema` gave it.
#[derive(Debug)]
pub struct EventSchema {
    pub id: String,
    /// The schema JSON, kept for whoever wants to record it.
    pub json: String,
    schema: Schema,
    /// The top-level fields holding dateTimes.
    datetimes: Vec<String>,
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The fields as the storage object's REST record has them (no `attributes`, no `Id`:
    /// the big-object id exists only in storage).
    pub record: Map<String, Value>,
    /// The `EventUuid` field, when the schema has it.
    pub event_uuid: Option<String>,
}

impl EventSchema {
    /// Parses a schema JSON.
    pub fn parse(id: &str, json: &str) -> Result<EventSchema, StreamError> {
        let err = |reason: String| StreamError::Decode {
            schema_id: id.to_string(),
            reason,
        };
        let schema = Schema::parse_str(json).map_err(|e| err(e.to_string()))?;
        let Schema::Record(r) = &schema else {
            return Err(err("the schema is not a record".into()));
        };
        let datetimes = r
            .fields
            .iter()
            .filter(|f| f.doc.as_deref().is_some_and(|d| d.ends_with(DATETIME_DOC)))
            .map(|f| f.name.clone())
            .collect();
        Ok(EventSchema {
            id: id.to_string(),
            json: json.to_string(),
            schema,
            datetimes,
        })
    }

    /// Decodes one payload written with this schema.
    pub fn decode(&self, payload: &[u8]) -> Result<Decoded, StreamError> {
        let err = |reason: String| StreamError::Decode {
            schema_id: self.id.clone(),
            reason,
        };
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(&self.schema)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let value = reader
            .read_value(&mut &payload[..])
            .map_err(|e| err(e.to_string()))?;
        let Avro::Record(fields) = value else {
            return Err(err("the payload is not a record".into()));
        };
        let mut record = Map::with_capacity(fields.len());
        let mut event_uuid = None;
        for (name, v) in fields {
            let datetime = self.datetimes.contains(&name);
            let v = to_json(v, datetime);
            if name == EVENT_UUID {
                event_uuid = v.as_str().map(str::to_string);
                continue;
            }
            record.insert(name, v);
        }
        Ok(Decoded { record, event_uuid })
    }
}

/// Salesforce's REST rendering of a dateTime (what the object path archives).
fn rest_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn millis(ms: i64) -> Value {
    DateTime::from_timestamp_millis(ms).map_or(Value::from(ms), |t| rest_datetime(t).into())
}

/// An Avro value as the JSON REST would give; `datetime` for a field marked as one.
fn to_json(v: Avro, datetime: bool) -> Value {
    match v {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => b.into(),
        Avro::Int(i) => i.into(),
        Avro::Long(ms) if datetime => millis(ms),
        Avro::Long(l) => l.into(),
        Avro::Float(f) => Value::from(f as f64),
        // Non-finite doubles become null, as JSON has no NaN.
        Avro::Double(d) => Value::from(d),
        Avro::String(s) | Avro::Enum(_, s) => s.into(),
        // REST gives base64 fields' content as a link; the stream has the bytes themselves.
        Avro::Bytes(b) | Avro::Fixed(_, b) => {
            base64::engine::general_purpose::STANDARD.encode(b).into()
        }
        Avro::Union(_, inner) => to_json(*inner, datetime),
        Avro::Array(a) => a.into_iter().map(|v| to_json(v, false)).collect(),
        Avro::Map(m) => m.into_iter().map(|(k, v)| (k, to_json(v, false))).collect(),
        Avro::Record(fs) => fs
            .into_iter()
            .map(|(k, v)| (k, to_json(v, false)))
            .collect(),
        Avro::Date(days) => DateTime::from_timestamp(i64::from(days) * 86_400, 0)
            .map_or(Value::from(days), |t| {
                t.format("%Y-%m-%d").to_string().into()
            }),
        Avro::TimestampMillis(ms) => millis(ms),
        Avro::TimestampMicros(us) => millis(us.div_euclid(1000)),
        // Logical types no Salesforce event schema uses.
        other => format!("{other:?}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"LoginEventStream","namespace":"com.sforce.eventbus","fields":[
        {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
        {"name":"EventDate","type":["null","long"],"doc":"EventDate:DateTime","default":null},
        {"name":"LoginKey","type":["null","string"],"default":null},
        {"name":"Score","type":["null","double"],"default":null},
        {"name":"EventUuid","type":["null","string"],"default":null}]}"#;

    #[test]
    fn dates_as_rest_writes_them_nulls_as_null_uuid_aside() {
        let s = EventSchema::parse("abc", SCHEMA).expect("schema");
        let rec = Avro::Record(vec![
            ("CreatedDate".into(), Avro::Long(1_773_145_800_000)),
            (
                "EventDate".into(),
                Avro::Union(1, Box::new(Avro::Long(1_773_145_800_123))),
            ),
            ("LoginKey".into(), Avro::Union(0, Box::new(Avro::Null))),
            ("Score".into(), Avro::Union(1, Box::new(Avro::Double(0.5)))),
            (
                "EventUuid".into(),
                Avro::Union(1, Box::new(Avro::String("u-1".into()))),
            ),
        ]);
        let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&s.schema)
            .build()
            .expect("writer");
        let bytes = writer.write_value_to_vec(rec).expect("encode");
        let d = s.decode(&bytes).expect("decode");
        assert_eq!(
            Value::Object(d.record),
            serde_json::json!({
                "CreatedDate": "2026-03-10T12:30:00.000+0000",
                "EventDate": "2026-03-10T12:30:00.123+0000",
                "LoginKey": null,
                "Score": 0.5,
            })
        );
        assert_eq!(d.event_uuid.as_deref(), Some("u-1"));
    }

    #[test]
    fn a_truncated_payload_is_an_error() {
        let s = EventSchema::parse("abc", SCHEMA).expect("schema");
        assert!(matches!(s.decode(&[0x80]), Err(StreamError::Decode { .. })));
    }
}
