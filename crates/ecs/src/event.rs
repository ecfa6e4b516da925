//! The input: one archive event, a line of the archive's NDJSON.
//!
//! ```json
//! {"@timestamp":"2024-01-01T01:02:03.400Z","id":"<event id>","org_id":"00D...",
//!  "source":"EventLogFile","event_type":"Login","file_id":"0AT...","log_date":"...",
//!  "interval":"Daily","sequence":0,"row":7,"fields":{"EVENT_TYPE":"Login", ...}}
//! {"@timestamp":"...","id":"<event id>","org_id":"00D...","source":"LoginEvent","fields":{...}}
//! ```

use serde_json::{Map, Value};

use crate::EcsError;

/// How the record was collected, as Filebeat's `event.provider` names it. Elastic's pipelines
/// route on this value, so it must be exactly `EventLogFile` or `Object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// A row of an EventLogFile CSV: every value is a string.
    EventLogFile,
    /// A record of a SOQL query (Real-Time Event Monitoring objects, SetupAuditTrail, any
    /// SObject): typed JSON values.
    Object,
}

impl Provider {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Provider::EventLogFile => "EventLogFile",
            Provider::Object => "Object",
        }
    }
}

/// A parsed archive event (borrowed from the caller's JSON).
#[derive(Debug)]
pub(crate) struct ArchiveEvent<'a> {
    /// The archive's deterministic event id; it becomes the document's `_id`.
    pub id: &'a str,
    pub org_id: Option<&'a str>,
    pub provider: Provider,
    /// The EventLogFile event type (`Login`, `ApexCallout`...) or the object's name
    /// (`LoginEvent`, `SetupAuditTrail`...).
    pub kind: &'a str,
    /// The archive's `@timestamp` (the event's own time, as sfevents derived it).
    pub timestamp: Option<&'a str>,
    pub record: Record<'a>,
}

impl<'a> ArchiveEvent<'a> {
    pub(crate) fn parse(v: &'a Value) -> Result<ArchiveEvent<'a>, EcsError> {
        let o = v.as_object().ok_or(EcsError::NotAnObject)?;
        let text = |k: &'static str| -> Result<Option<&'a str>, EcsError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(EcsError::InvalidField {
                    field: k,
                    reason: "not a string",
                }),
            }
        };
        let source = text("source")?
            .filter(|s| !s.is_empty())
            .ok_or(EcsError::MissingField("source"))?;
        let id = text("id")?
            .filter(|s| !s.is_empty())
            .ok_or(EcsError::MissingField("id"))?;
        let fields = match o.get("fields") {
            None | Some(Value::Null) => return Err(EcsError::MissingField("fields")),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(EcsError::InvalidField {
                    field: "fields",
                    reason: "not an object",
                })
            }
        };
        let record = Record(fields);
        let (provider, kind) = if source == "EventLogFile" {
            // The archive names the type; a row also carries it in its EVENT_TYPE column.
            let kind = text("event_type")?
                .filter(|s| !s.is_empty())
                .or_else(|| record.str("EVENT_TYPE").filter(|s| !s.is_empty()))
                .ok_or(EcsError::MissingField("event_type"))?;
            (Provider::EventLogFile, kind)
        } else {
            (Provider::Object, source)
        };
        Ok(ArchiveEvent {
            id,
            org_id: text("org_id")?.filter(|s| !s.is_empty()),
            provider,
            kind,
            timestamp: text("@timestamp")?,
            record,
        })
    }
}

/// The record's fields: CSV columns (ELF) or the SOQL record's fields (objects).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a>(pub &'a Map<String, Value>);

impl<'a> Record<'a> {
    /// A field's value; a JSON `null` counts as missing, as `ignore_missing` treats it.
    pub(crate) fn get(&self, k: &str) -> Option<&'a Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    /// A field's value when it is a string.
    pub(crate) fn str(&self, k: &str) -> Option<&'a str> {
        self.0.get(k).and_then(Value::as_str)
    }

    /// A field's value when it is a non-empty string (EventLogFile cells are `""` when empty).
    pub(crate) fn text(&self, k: &str) -> Option<&'a str> {
        self.str(k).filter(|s| !s.is_empty())
    }

    pub(crate) fn map(&self) -> &'a Map<String, Value> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let v = json!({"id": "e1", "org_id": "00D", "source": "EventLogFile",
                       "fields": {"EVENT_TYPE": "Login"}});
        let e = ArchiveEvent::parse(&v).expect("ELF event");
        assert_eq!((e.provider, e.kind), (Provider::EventLogFile, "Login"));
        let v = json!({"id": "e2", "source": "LoginEvent", "fields": {}});
        let e = ArchiveEvent::parse(&v).expect("object event");
        assert_eq!(
            (e.provider, e.kind, e.org_id),
            (Provider::Object, "LoginEvent", None)
        );
        for (bad, want) in [
            (json!([]), "not a JSON object"),
            (json!({"id": "e", "fields": {}}), "source"),
            (json!({"id": "e", "source": "X"}), "fields"),
            (json!({"source": "X", "fields": {}}), "id"),
            (
                json!({"id": "e", "source": "EventLogFile", "fields": {}}),
                "event_type",
            ),
            (
                json!({"id": "e", "source": "X", "fields": []}),
                "not an object",
            ),
        ] {
            let err = ArchiveEvent::parse(&bad)
                .expect_err("bad shape")
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
