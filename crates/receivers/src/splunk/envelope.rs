//! The `/services/collector/event` body: JSON envelopes written back to back (not an array),
//! each `{"time", "host", "source", "sourcetype", "index", "event", "fields"}`.
//!
//! Events are read in order; the first bad one stops the reading, and the events before it are
//! kept (Splunk indexes them) while the answer names the bad one's position.

use serde_json::{Map, Value};

use super::config::Token;
use super::hec::{Answer, Code};
use crate::common::attempts::event_id;

/// One accepted envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `time` in epoch seconds (fractional allowed), as a number.
    pub time: Option<f64>,
    /// `time` as sent (a number or a numeric string).
    pub time_raw: Option<Value>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub sourcetype: Option<String>,
    /// The index the event goes to: as named, or the token's default, or `main`.
    pub index: String,
    /// `event`: a non-empty string or object.
    pub event: Value,
    /// `fields`: index-time fields (strings, numbers, or arrays of them).
    pub fields: Map<String, Value>,
}

/// The events read before the body ended or went wrong, and what went wrong.
#[derive(Debug)]
pub struct Parsed {
    pub events: Vec<Envelope>,
    pub error: Option<Answer>,
}

/// Reads a decoded body for `token`.
pub fn parse(body: &[u8], token: &Token) -> Parsed {
    let mut events = Vec::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Parsed {
            events,
            error: Some(Answer::new(Code::NoData)),
        };
    }
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    for item in stream {
        let i = events.len();
        let result = match item {
            Ok(v) => envelope(v, token).map_err(|code| Answer::at(code, i)),
            Err(_) => Err(Answer::at(Code::InvalidDataFormat, i)),
        };
        match result {
            Ok(e) => events.push(e),
            Err(a) => {
                return Parsed {
                    events,
                    error: Some(a),
                }
            }
        }
    }
    Parsed {
        events,
        error: None,
    }
}

/// The event id of each envelope of a decoded body, in body order, up to the first that is not
/// JSON (whether or not [`parse`] accepts it): `fields.event_id` (sfevents' index-time field),
/// else the event's own `id` or `salesforce.event_id`, else its `message.id` (splunk-logging
/// wraps a payload in `message`).
pub fn ids(body: &[u8]) -> Vec<Option<String>> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .map(|v| {
            let field = v["fields"]["event_id"].as_str().filter(|s| !s.is_empty());
            field
                .map(str::to_string)
                .or_else(|| event_id(&v["event"]))
                .or_else(|| event_id(&v["event"]["message"]))
        })
        .collect()
}

fn envelope(v: Value, token: &Token) -> Result<Envelope, Code> {
    let Value::Object(mut m) = v else {
        return Err(Code::InvalidDataFormat);
    };
    let event = match m.remove("event") {
        None | Some(Value::Null) => return Err(Code::EventRequired),
        Some(Value::String(s)) if s.is_empty() => return Err(Code::EventBlank),
        Some(Value::Object(o)) if o.is_empty() => return Err(Code::EventBlank),
        Some(e @ (Value::String(_) | Value::Object(_))) => e,
        Some(_) => return Err(Code::InvalidDataFormat),
    };
    let time_raw = m.remove("time").filter(|t| !t.is_null());
    let time = match &time_raw {
        None => None,
        Some(t) => Some(epoch_seconds(t).ok_or(Code::InvalidDataFormat)?),
    };
    let host = string_key(&mut m, "host")?;
    let source = string_key(&mut m, "source")?;
    let sourcetype = string_key(&mut m, "sourcetype")?;
    let asked = string_key(&mut m, "index")?;
    if let Some(i) = &asked {
        if !token.indexes.is_empty() && !token.indexes.contains(i) {
            return Err(Code::IncorrectIndex);
        }
    }
    let fields = match m.remove("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(f)) => {
            if !f.values().all(flat_field) {
                return Err(Code::IndexedFields);
            }
            f
        }
        Some(_) => return Err(Code::InvalidDataFormat),
    };
    Ok(Envelope {
        time,
        time_raw,
        host,
        source,
        sourcetype,
        index: token.index_for(asked.as_deref()),
        event,
        fields,
    })
}

/// A metadata key: absent, or a string.
fn string_key(m: &mut Map<String, Value>, key: &str) -> Result<Option<String>, Code> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Code::InvalidDataFormat),
    }
}

/// `time`: a non-negative number, or a string of digits with an optional fraction
/// (`"1700000000.123"`, what Splunk's own logging libraries send).
fn epoch_seconds(t: &Value) -> Option<f64> {
    let secs = match t {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), "0"));
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if !digits(int) || !digits(frac) {
                return None;
            }
            s.parse().ok()?
        }
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// An index-time field value: a string or number, or a flat array of them. Splunk refuses
/// anything nested with code 15 (seen answering `{"keyMap": {...}}` and `["A", [1]]`).
fn flat_field(v: &Value) -> bool {
    match v {
        Value::String(_) | Value::Number(_) => true,
        Value::Array(items) => items
            .iter()
            .all(|x| matches!(x, Value::String(_) | Value::Number(_))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any() -> Token {
        Token::new("t")
    }

    fn error_of(body: &str, token: &Token) -> (usize, Option<(u16, Option<usize>)>) {
        let p = parse(body.as_bytes(), token);
        (p.events.len(), p.error.map(|a| (a.code.number(), a.event)))
    }

    #[test]
    fn concatenated_envelopes_are_read_in_order() {
        let body = r#"{"event":"a","time":1700000000.5,"host":"h"} {"event":{"x":1},"time":"1700000001.250","index":"sf","fields":{"id":"e1","n":[1,"2"]}}
{"event":"c"}"#;
        let p = parse(body.as_bytes(), &any().with_default_index("dflt"));
        assert!(p.error.is_none());
        assert_eq!(p.events.len(), 3);
        assert_eq!(p.events[0].time, Some(1_700_000_000.5));
        assert_eq!(p.events[0].host.as_deref(), Some("h"));
        assert_eq!(p.events[0].index, "dflt");
        assert_eq!(p.events[1].time, Some(1_700_000_001.25));
        assert_eq!(p.events[1].index, "sf");
        assert_eq!(p.events[1].fields["id"], "e1");
        assert_eq!(p.events[2].index, "dflt");
        assert_eq!(parse(b"{\"event\":\"x\"}", &any()).events[0].index, "main");
    }

    #[test]
    fn ids_come_from_the_fields_or_the_event() {
        let body = br#"{"event":{"a":1},"fields":{"event_id":"f-1"}}
{"event":{"id":"e-2"}} {"event":{"salesforce":{"event_id":"s-3"}}}
{"event":{"message":{"id":"m-4"}}} {"event":"text"} {"event":""} {"bad json"#;
        let got = ids(body);
        let want = ["f-1", "e-2", "s-3", "m-4"].map(|s| Some(s.to_string()));
        assert_eq!(got[..4], want);
        assert_eq!(
            got[4..],
            [None, None],
            "read up to the first that is not JSON"
        );
    }

    #[test]
    fn the_first_bad_event_stops_the_batch() {
        let t = any();
        assert_eq!(error_of("  \n", &t), (0, Some((5, None))));
        assert_eq!(
            error_of(r#"{"event":"a"}{"time":1}"#, &t),
            (1, Some((12, Some(1))))
        );
        assert_eq!(
            error_of(r#"{"event":"a"}{"event":null}"#, &t),
            (1, Some((12, Some(1))))
        );
        assert_eq!(error_of(r#"{"event":""}"#, &t), (0, Some((13, Some(0)))));
        assert_eq!(
            error_of(r#"{"event":"a"}{"event":{}}"#, &t),
            (1, Some((13, Some(1))))
        );
        assert_eq!(
            error_of(r#"{"event":"a"}{"event":"b""#, &t),
            (1, Some((6, Some(1))))
        );
        assert_eq!(error_of(r#"[{"event":"a"}]"#, &t), (0, Some((6, Some(0)))));
        assert_eq!(error_of(r#"{"event":5}"#, &t), (0, Some((6, Some(0)))));
        assert_eq!(
            error_of(r#"{"event":"a","time":"soon"}"#, &t),
            (0, Some((6, Some(0))))
        );
        assert_eq!(
            error_of(r#"{"event":"a","time":"1e9"}"#, &t),
            (0, Some((6, Some(0))))
        );
        assert_eq!(
            error_of(r#"{"event":"a","time":-1}"#, &t),
            (0, Some((6, Some(0))))
        );
        assert_eq!(
            error_of(r#"{"event":"a","host":7}"#, &t),
            (0, Some((6, Some(0))))
        );
        assert_eq!(
            error_of(r#"{"event":"a","fields":[1]}"#, &t),
            (0, Some((6, Some(0))))
        );
        assert_eq!(
            error_of(r#"{"event":"a"}{"event":"b","fields":{"m":{"k":"v"}}}"#, &t),
            (1, Some((15, Some(1))))
        );
        assert_eq!(
            error_of(r#"{"event":"a","fields":{"m":["A",[1]]}}"#, &t),
            (0, Some((15, Some(0))))
        );
        let only = any().with_indexes(&["sf"]);
        assert_eq!(
            error_of(
                r#"{"event":"a","index":"sf"}{"event":"b","index":"main"}"#,
                &only
            ),
            (1, Some((7, Some(1))))
        );
    }
}
