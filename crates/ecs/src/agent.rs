//! `agent` mode: the event exactly as Filebeat's `salesforce` input (with Elastic Agent) sends
//! it, so that the ingest pipeline of the integration installed in Elasticsearch maps it.
//!
//! Filebeat publishes `{message, event.provider}`; the record is `json.Marshal`-ed by Go:
//! - EventLogFile rows are a `map[string]string` of CSV header to cell, every column kept
//!   (empty cells as `""`);
//! - object records are go-sfdc's `Record.Fields()`: the `attributes` envelope, `null` values
//!   and nested objects (relationship fields) are left out, and numbers went through a Go
//!   `float64`;
//! - Go writes map keys sorted by bytes, no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped as
//!   `\u003c`..., and floats in their shortest form (`638` for 638.0, `1e+21` from 1e21 on).
//!
//! Elastic Agent then adds `data_stream.*` and `event.dataset`, the integration's `add_fields`
//! processor adds `salesforce.instance_url`, and its configuration adds the tags.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::event::{ArchiveEvent, Provider};

/// The Go encoding of the record, as Filebeat puts it in `message`.
pub(crate) fn message(ev: &ArchiveEvent) -> String {
    let mut out = String::with_capacity(1024);
    let mut keys: Vec<&String> = ev.record.map().keys().collect();
    keys.sort();
    out.push('{');
    let mut first = true;
    for k in keys {
        let v = &ev.record.map()[k.as_str()];
        let keep = match ev.provider {
            // map[string]string: every column, as a string.
            Provider::EventLogFile => true,
            Provider::Object => k != "attributes" && !v.is_null() && !v.is_object(),
        };
        if !keep {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        go_string(&mut out, k);
        out.push(':');
        match (ev.provider, v) {
            (Provider::EventLogFile, Value::String(s)) => go_string(&mut out, s),
            (Provider::EventLogFile, other) => {
                go_string(&mut out, &crate::convert::template_text(Some(other)))
            }
            (Provider::Object, v) => go_value(&mut out, v),
        }
    }
    out.push('}');
    out
}

/// Any JSON value as Go's `encoding/json` writes an `interface{}`.
pub(crate) fn go_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go_float(out, n.as_f64().unwrap_or(0.0)),
        Value::String(s) => go_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_value(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => go_map(out, m),
    }
}

fn go_map(out: &mut String, m: &Map<String, Value>) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        go_string(out, k);
        out.push(':');
        go_value(out, &m[k.as_str()]);
    }
    out.push('}');
}

/// Go's float64 encoding: `strconv` shortest digits, fixed notation between 1e-6 and 1e21,
/// otherwise exponent notation with at least one exponent digit and an explicit sign.
pub(crate) fn go_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        // Go refuses to encode these; a record can't hold them anyway.
        out.push_str("null");
        return;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Go's string encoding with HTML escaping, as `json.Marshal` does by default.
pub(crate) fn go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(x: f64) -> String {
        let mut s = String::new();
        go_float(&mut s, x);
        s
    }

    #[test]
    fn go_number_and_string_forms() {
        assert_eq!(f(638.0), "638");
        assert_eq!(f(21.1888), "21.1888");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(123456789.0), "123456789");
        let mut s = String::new();
        go_string(&mut s, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn objects_lose_what_go_sfdc_drops() {
        let v = json!({"id": "e", "source": "LoginEvent", "fields": {
            "b": 2.0, "a": null, "attributes": {"type": "LoginEvent"},
            "CreatedBy": {"Username": "x"}, "Tags": ["<t>", 1], "Z": true}});
        let ev = ArchiveEvent::parse(&v).expect("event");
        assert_eq!(
            message(&ev),
            r#"{"Tags":["\u003ct\u003e",1],"Z":true,"b":2}"#
        );
    }
}
