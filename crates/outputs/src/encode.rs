//! What the outputs other than Elasticsearch send of an event, and what they need to know
//! about it: `format = raw` sends the archive's own line (the Salesforce record under `fields`,
//! with the event id, org id, source and type beside it), `format = ecs` the document
//! Elastic's integration would index (`ecs` crate). Both are one line of JSON: newlines inside
//! values are escaped, so line-based destinations (syslog, log drains, NDJSON) never split an
//! event.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ecs::line::{ArchiveLine, Val};

use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, SinkError};

/// Why an event cannot be sent (it is dead-lettered with this reason).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot make an ECS document of the event: {0}")]
    Ecs(ecs::EcsError),
    #[error("cannot make a document of the event: {0}")]
    Document(ecs::EcsError),
    #[error("cannot write the event as JSON: {0}")]
    Json(serde_json::Error),
    #[error("cannot write the document as JSON: {0}")]
    DocumentJson(serde_json::Error),
    /// A syslog message over `max_message_bytes` with `oversize = dead_letter`.
    #[error("the syslog message would be {bytes} bytes, over max_message_bytes = {max}: raise max_message_bytes if the receiver takes more, or set oversize = truncate to send it cut")]
    TooLong { bytes: usize, max: usize },
    /// A syslog header and structured data longer than `max_message_bytes` alone.
    #[error("the syslog header and structured data alone are {bytes} bytes, over max_message_bytes = {max}")]
    HeaderTooLong { bytes: usize, max: usize },
}

/// The shape of what an output sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The archive's line as it is.
    Raw,
    /// The ECS document of Elastic's Salesforce integration.
    Ecs,
}

impl Format {
    /// The `format` setting (default `raw`).
    pub fn from_settings(s: &Settings) -> Result<Format, ConfigError> {
        Ok(match s.choice("format", &["raw", "ecs"])? {
            "ecs" => Format::Ecs,
            _ => Format::Raw,
        })
    }
}

/// What an output may route on, taken from the archive event.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta<'a> {
    /// The dataset without `salesforce.` (`login`, `api_total_usage`, `setupaudittrail`): the
    /// same names as the Elasticsearch output's data streams.
    pub dataset: String,
    /// `EventLogFile`, or the object's name (`LoginEvent`, `SetupAuditTrail`...).
    pub source: &'a str,
    /// The EventLogFile event type (`Login`, `ApiTotalUsage`...), or the object's name.
    pub kind: &'a str,
    pub org_id: Option<&'a str>,
    /// The event's own time (`@timestamp`), when the archive has one.
    pub time: Option<DateTime<Utc>>,
}

impl<'a> Meta<'a> {
    pub fn of(event: &'a Event) -> Meta<'a> {
        Meta::of_line(event).unwrap_or_else(|| Meta::of_tree(event))
    }

    /// Read from the line without a tree; `None` for a line with escapes in these members.
    fn of_line(event: &'a Event) -> Option<Meta<'a>> {
        let l = ArchiveLine::scan(event.line())?;
        let text = |v: Option<Val<'a>>| match v {
            Some(Val::Str(s)) => s.plain().map(Some),
            _ => Some(None),
        };
        let source = text(l.source)?.unwrap_or("unknown");
        let event_type = text(l.event_type)?;
        Some(Meta {
            dataset: ecs::dataset_for(source, event_type),
            source,
            kind: event_type.unwrap_or(source),
            org_id: text(l.org_id)?,
            time: text(l.timestamp)?.and_then(parse_time),
        })
    }

    fn of_tree(event: &'a Event) -> Meta<'a> {
        let v = event.value();
        let source = v["source"].as_str().unwrap_or("unknown");
        let event_type = v["event_type"].as_str();
        Meta {
            dataset: ecs::dataset_for(source, event_type),
            source,
            kind: event_type.unwrap_or(source),
            org_id: v["org_id"].as_str(),
            time: v["@timestamp"].as_str().and_then(parse_time),
        }
    }

    /// An alert's level (`critical`, `high`, ...), when the event is an alert sfevents raised.
    pub fn alert_level(&self, event: &'a Event) -> Option<&'a str> {
        if self.source != ecs::alert::SOURCE {
            return None;
        }
        event.value()["fields"]["rule"]["level"].as_str()
    }

    /// A failed login (EventLogFile Login rows, LoginEvent, LoginHistory) or a setup change:
    /// what security teams alert on, so syslog gives them a higher severity.
    pub fn is_notable(&self, event: &Event) -> bool {
        // The line is scanned again only for the kinds that can be notable (one field each).
        let text = |k: &str| -> std::borrow::Cow<'_, str> {
            match ArchiveLine::scan(event.line()).map(|l| l.field(k)) {
                Some(Some(Val::Str(s))) => s.text(),
                Some(_) => "".into(),
                None => event.value()["fields"][k]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
                    .into(),
            }
        };
        match (self.source, self.kind) {
            (_, "SetupAuditTrail") => true,
            ("EventLogFile", "Login") => {
                let s = text("LOGIN_STATUS");
                !s.is_empty() && s != "LOGIN_NO_ERROR"
            }
            (_, "LoginEvent") | (_, "LoginHistory") => {
                let s = text("Status");
                !s.is_empty() && s != "Success"
            }
            _ => false,
        }
    }
}

fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Turns events into lines of JSON. `raw` is the archive line itself; `ecs` is written from
/// the line without a tree where [`ecs::LineEncoder`] can, else through the tree.
pub struct Encoder {
    format: Format,
    normalizer: ecs::Normalizer,
    lines: Mutex<ecs::LineEncoder>,
}

impl Encoder {
    pub fn new(name: &str, format: Format, org: &OrgContext) -> Result<Encoder, SinkError> {
        let normalizer = ecs::Normalizer::new(ecs::Options {
            instance_url: org.instance_url.clone(),
            ..ecs::Options::default()
        })
        .map_err(|e| SinkError::Fatal(format!("output {name}: {e}")))?;
        Ok(Encoder {
            format,
            lines: Mutex::new(ecs::LineEncoder::new(normalizer.clone())),
            normalizer,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Appends the event as one line of JSON (no newline) to `out`.
    pub fn write(&self, event: &Event, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self.format {
            Format::Raw => {
                out.extend_from_slice(event.line().as_bytes());
                return Ok(());
            }
            Format::Ecs => {
                let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
                if lines.ecs(event.line(), out).is_some() {
                    return Ok(());
                }
                drop(lines);
                let doc = self
                    .normalizer
                    .ecs(event.value())
                    .map_err(EncodeError::Ecs)?;
                serde_json::to_writer(&mut *out, &doc.body)
            }
        }
        .map_err(EncodeError::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn event(v: Value) -> Event {
        Event::from_value(v)
    }

    #[test]
    fn meta_and_lines() {
        let e = event(serde_json::json!({
            "@timestamp": "2024-03-01T10:00:00.123Z", "id": "abc-1", "org_id": "00Dxx",
            "source": "EventLogFile", "event_type": "Login",
            "fields": {"EVENT_TYPE": "Login", "LOGIN_STATUS": "LOGIN_ERROR_INVALID_PASSWORD",
                       "USER_NAME": "a\nb\"c]"}
        }));
        let m = Meta::of(&e);
        assert_eq!(
            (m.dataset.as_str(), m.kind, m.org_id),
            ("login", "Login", Some("00Dxx"))
        );
        assert_eq!(m.time.unwrap().timestamp_millis(), 1709287200123);
        assert!(m.is_notable(&e));
        let org = OrgContext {
            org: "o".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            state: None,
        };
        let mut out = Vec::new();
        Encoder::new("t", Format::Raw, &org)
            .unwrap()
            .write(&e, &mut out)
            .unwrap();
        assert!(!out.contains(&b'\n'));
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), *e.value());
        out.clear();
        Encoder::new("t", Format::Ecs, &org)
            .unwrap()
            .write(&e, &mut out)
            .unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["event"]["outcome"], "failure", "{doc}");

        let ok = event(serde_json::json!({"id": "x-1", "source": "LoginEvent",
            "fields": {"Status": "Success"}}));
        let m = Meta::of(&ok);
        assert_eq!((m.dataset.as_str(), m.time), ("login", None));
        assert!(!m.is_notable(&ok));
        let sat =
            event(serde_json::json!({"id": "x-2", "source": "SetupAuditTrail", "fields": {}}));
        assert!(Meta::of(&sat).is_notable(&sat));
    }
}
