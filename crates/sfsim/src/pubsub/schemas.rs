//! Avro schemas of the streaming events and the encoding of a storage record as an event
//! payload.
//!
//! The schema follows the shape Salesforce serves from `GetSchema`: a record in namespace
//! `com.sforce.eventbus` named after the event, fields named by API name, dateTimes as
//! `long` epoch milliseconds with `doc: "<Field>:DateTime"`, and every optional field as
//! `["null", T]` with `default: null`. Only `CreatedDate` is required, as on a platform event.

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use base64::Engine;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use soql::{FieldType, ObjectSchema, Record, Value};

/// The storage object's field the bus carries as required (a platform event's publish time).
const REQUIRED: &str = "CreatedDate";
/// Added by the bus: each streamed event's own UUID (the storage object has no such field).
pub const EVENT_UUID: &str = "EventUuid";

/// One field of an event schema.
#[derive(Debug, Clone)]
pub struct StreamField {
    pub name: String,
    pub ftype: FieldType,
    pub required: bool,
}

/// The fields a stream event carries: the storage object's fields but `Id` (the synthetic
/// big-object id exists only in storage), then `EventUuid`.
pub fn stream_fields(object: &ObjectSchema) -> Vec<StreamField> {
    let mut v: Vec<StreamField> = object
        .fields
        .iter()
        .filter(|f| f.name != "Id")
        .map(|f| StreamField {
            name: f.name.clone(),
            ftype: f.ftype,
            required: f.name == REQUIRED,
        })
        .collect();
    v.push(StreamField {
        name: EVENT_UUID.to_string(),
        ftype: FieldType::String,
        required: false,
    });
    v
}

/// The Avro type of a field type. Int as `long` and Date as an ISO string are guesses
/// (unverified: no RTEM event field seen in Salesforce's schemas has either type).
fn avro_type(t: FieldType) -> &'static str {
    match t {
        FieldType::Int | FieldType::DateTime => "long",
        FieldType::Double => "double",
        FieldType::Boolean => "boolean",
        FieldType::Base64 => "bytes",
        FieldType::Id
        | FieldType::String
        | FieldType::Picklist
        | FieldType::Reference
        | FieldType::Date => "string",
    }
}

/// The schema JSON of an event, as `GetSchema` returns it.
pub fn schema_json(event: &str, fields: &[StreamField]) -> String {
    let fields: Vec<Json> = fields
        .iter()
        .map(|f| {
            let t = avro_type(f.ftype);
            let mut m = serde_json::Map::new();
            m.insert("name".into(), json!(f.name));
            if f.required {
                m.insert("type".into(), json!(t));
            } else {
                m.insert("type".into(), json!(["null", t]));
            }
            match f.ftype {
                FieldType::DateTime => {
                    m.insert("doc".into(), json!(format!("{}:DateTime", f.name)));
                }
                FieldType::Date => {
                    m.insert("doc".into(), json!(format!("{}:Date", f.name)));
                }
                _ => {}
            }
            if !f.required {
                m.insert("default".into(), Json::Null);
            }
            Json::Object(m)
        })
        .collect();
    json!({
        "type": "record",
        "name": event,
        "namespace": "com.sforce.eventbus",
        "fields": fields,
    })
    .to_string()
}

/// A stable schema id: a digest of the schema JSON, so it changes only when the schema does.
pub fn schema_id(json: &str) -> String {
    let d = Sha256::digest(json.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d[..16])
}

/// A version-4-shaped UUID derived from the event's identity, so it is the same every run.
pub fn event_uuid(topic: &str, event_identifier: &str) -> String {
    let mut b: [u8; 16] = Sha256::digest(format!("{topic}\n{event_identifier}").as_bytes())[..16]
        .try_into()
        .unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

/// A record value as the Avro value of a field of type `t`; `None` when it cannot be (a
/// generator value of another kind), which the caller writes as null.
fn avro_value(t: FieldType, v: &Value) -> Option<Avro> {
    Some(match (t, v) {
        (FieldType::DateTime, Value::DateTime(d)) => Avro::Long(d.timestamp_millis()),
        (FieldType::Int, Value::Int(i)) => Avro::Long(*i),
        (FieldType::Double, Value::Double(d)) => Avro::Double(*d),
        (FieldType::Double, Value::Int(i)) => Avro::Double(*i as f64),
        (FieldType::Boolean, Value::Bool(b)) => Avro::Boolean(*b),
        (FieldType::Base64, Value::String(s)) => Avro::Bytes(s.as_bytes().to_vec()),
        (FieldType::Date, Value::Date(d)) => Avro::String(d.format("%Y-%m-%d").to_string()),
        (_, Value::String(s)) if avro_type(t) == "string" => Avro::String(s.clone()),
        // A string field holding a number (e.g. ApiVersion) keeps its REST rendering.
        (_, Value::Int(_) | Value::Double(_) | Value::Bool(_)) if avro_type(t) == "string" => {
            Avro::String(v.to_json("64.0").to_string())
        }
        _ => return None,
    })
}

/// The event of a storage record: the raw Avro binary datum (no container header) written
/// with `schema`.
pub fn encode(
    schema: &Schema,
    fields: &[StreamField],
    record: &Record,
    uuid: &str,
) -> anyhow::Result<Vec<u8>> {
    let values: Vec<(String, Avro)> = fields
        .iter()
        .map(|f| {
            let v = if f.name == EVENT_UUID {
                Some(Avro::String(uuid.to_string()))
            } else {
                record.get(&f.name).and_then(|v| avro_value(f.ftype, v))
            };
            let v = match (f.required, v) {
                (true, Some(v)) => v,
                // A required field the record lacks: the epoch, never seen with generated data.
                (true, None) => Avro::Long(0),
                (false, Some(v)) => Avro::Union(1, Box::new(v)),
                (false, None) => Avro::Union(0, Box::new(Avro::Null)),
            };
            (f.name.clone(), v)
        })
        .collect();
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(schema).build()?;
    Ok(writer.write_value_to_vec(Avro::Record(values))?)
}
