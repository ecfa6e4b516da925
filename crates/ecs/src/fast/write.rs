//! Writing one document from a plan: each field's value looked up in the line, objects opened
//! and closed as the sorted paths go, so only objects with something in them appear (what the
//! tree path's closing clean-up leaves).

use std::io::Write;

use super::cells::Event;
use super::plan::{Plan, Src};
use crate::line::Str;
use crate::{convert, generic};

/// Writes the document into `out`; `false` when it has no `@timestamp` (the tree path then
/// gives the error), or when an object record has a number where a computed field reads text
/// (the tree path writes it out as text).
pub(super) fn document(plan: &Plan, ev: &Event, out: &mut Vec<u8>, val: &mut Vec<u8>) -> bool {
    if plan.object && plan.cols.texts.iter().any(|&c| number(ev, c).is_some()) {
        return false;
    }
    let mut nest = Nest {
        open: Vec::new(),
        comma: false,
    };
    out.push(b'{');
    for slot in &plan.slots {
        val.clear();
        if !value(&slot.src, plan, ev, val) {
            if matches!(slot.src, Src::Timestamp) {
                return false;
            }
            continue;
        }
        nest.field(out, &slot.path, val);
    }
    for _ in 0..nest.open.len() {
        out.push(b'}');
    }
    out.push(b'}');
    true
}

/// The objects open along the current path.
struct Nest<'p> {
    open: Vec<&'p str>,
    comma: bool,
}

impl<'p> Nest<'p> {
    fn field(&mut self, out: &mut Vec<u8>, path: &'p [String], val: &[u8]) {
        let (leaf, parent) = path.split_last().expect("a path has a leaf");
        let common = self
            .open
            .iter()
            .zip(parent)
            .take_while(|(a, b)| **a == b.as_str())
            .count();
        while self.open.len() > common {
            out.push(b'}');
            self.open.pop();
            self.comma = true;
        }
        for seg in &parent[common..] {
            self.key(out, seg);
            out.push(b'{');
            self.open.push(seg);
            self.comma = false;
        }
        self.key(out, leaf);
        out.extend_from_slice(val);
        self.comma = true;
    }

    fn key(&self, out: &mut Vec<u8>, k: &str) {
        if self.comma {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"\":");
    }
}

fn string(out: &mut Vec<u8>, s: Str) {
    out.push(b'"');
    out.extend_from_slice(s.raw.as_bytes());
    out.push(b'"');
}

/// Writes the slot's value into `out`; `false` when the document has no such field.
fn value(src: &Src, plan: &Plan, ev: &Event, out: &mut Vec<u8>) -> bool {
    let cols = &plan.cols;
    match src {
        Src::Const(json) => out.extend_from_slice(json.as_bytes()),
        Src::Timestamp => return timestamp(plan, ev, out),
        Src::Outcome => {
            let outcome = match cols.request_status.and_then(|c| ev.cell(c)).map(|s| s.raw) {
                Some("S" | "R") => "\"success\"",
                Some("F" | "A" | "N") => "\"failure\"",
                _ => return false,
            };
            out.extend_from_slice(outcome.as_bytes());
        }
        Src::Created => match cols.created.and_then(|c| ev.cell(c)).and_then(iso) {
            Some(t) => quoted(out, &t),
            None => return false,
        },
        Src::ObjectEventId => match object_event_id(plan, ev) {
            Some(id) => string(out, id),
            None => return false,
        },
        Src::EventId => string(out, ev.id),
        Src::OrgId => match ev.org_id {
            Some(s) => string(out, s),
            None => return false,
        },
        Src::First(list) => match list.iter().find_map(|&c| ev.text(c)) {
            Some(s) => string(out, s),
            None => return false,
        },
        Src::SourceIp => match ips(plan, ev).next() {
            Some(ip) => string(out, ip),
            None => return false,
        },
        Src::Method => {
            let method = cols.method.iter().filter_map(|&c| ev.text(c)).find(|m| {
                m.plain()
                    .is_some_and(|m| m.len() <= 16 && m.bytes().all(|c| c.is_ascii_uppercase()))
            });
            match method {
                Some(m) => string(out, m),
                None => return false,
            }
        }
        Src::Integer(list) => {
            let n = list.iter().find_map(|&c| match ev.cell(c) {
                Some(s) => convert::es_long_str(s.plain()?),
                None => convert::es_long(&serde_json::Value::Number(number(ev, c)?)),
            });
            match n {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => return false,
            }
        }
        Src::UserAgent => match cols.user_agent.iter().find_map(|&c| ev.text(c)) {
            Some(ua) if !ua.raw.bytes().all(|c| c.is_ascii_digit()) => string(out, ua),
            _ => return false,
        },
        Src::RelatedIp => return list(out, ips(plan, ev)),
        Src::RelatedUser => return list(out, cols.users.iter().filter_map(|&c| ev.text(c))),
        Src::Column(c, numeric) => return column(ev, *c, *numeric, out),
    }
    true
}

/// `event.id` of an object: its EventIdentifier, else its Id (but the storage objects' empty
/// one).
fn object_event_id<'a>(plan: &Plan, ev: &Event<'a>) -> Option<Str<'a>> {
    let cols = &plan.cols;
    cols.event_identifier.and_then(|c| ev.text(c)).or_else(|| {
        let id = ev.text(cols.record_id?)?;
        (id.text() != generic::EMPTY_KEY).then_some(id)
    })
}

/// A column under `salesforce.<dataset>`: its text (an EventLogFile cell that reads as a
/// number, as a number), or an object's number or boolean as serde_json writes the parsed
/// value; `false` when it has none.
fn column(ev: &Event, c: usize, numeric: bool, out: &mut Vec<u8>) -> bool {
    let Some(s) = ev.text(c) else {
        match ev.other(c) {
            Some(b @ ("true" | "false")) => out.extend_from_slice(b.as_bytes()),
            Some(_) => match number(ev, c) {
                Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
                None => return false,
            },
            None => return false,
        }
        return true;
    };
    match s
        .plain()
        .filter(|_| numeric)
        .and_then(convert::decimal_number)
    {
        Some(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        None => string(out, s),
    }
    true
}

/// An object's number (as serde_json reads it, so it writes it back the same).
fn number(ev: &Event, col: usize) -> Option<serde_json::Number> {
    serde_json::from_str(ev.other(col)?).ok()
}

fn quoted(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// The SOURCE_IP columns that hold an address, in order.
fn ips<'a>(plan: &'a Plan, ev: &'a Event<'a>) -> impl Iterator<Item = Str<'a>> + 'a {
    plan.cols
        .source_ip
        .iter()
        .filter_map(|&c| ev.plain(c))
        .filter(|s| convert::is_ip(s))
        .map(|raw| Str {
            raw,
            escaped: false,
        })
}

/// A list of the distinct values, in order (the `append` processor without duplicates).
fn list<'a>(out: &mut Vec<u8>, values: impl Iterator<Item = Str<'a>>) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        // The archive writes strings one way, so equal text is equal values.
        if !seen.contains(&v.raw) {
            seen.push(v.raw);
        }
    }
    if seen.is_empty() {
        return false;
    }
    out.push(b'[');
    for (i, v) in seen.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(
            out,
            Str {
                raw: v,
                escaped: false,
            },
        );
    }
    out.push(b']');
    true
}

/// `@timestamp`: TIMESTAMP_DERIVED when it is a date, else TIMESTAMP, else the archive's.
fn timestamp(plan: &Plan, ev: &Event, out: &mut Vec<u8>) -> bool {
    let cols = &plan.cols;
    let derived = cols
        .timestamp_derived
        .and_then(|c| ev.cell(c))
        .and_then(iso);
    let t = derived
        .or_else(|| {
            let s = cols.timestamp.and_then(|c| ev.plain(c))?;
            convert::elf_timestamp(s).map(|t| convert::format_utc(&t).into())
        })
        .or_else(|| iso(ev.archive_ts?));
    match t {
        Some(t) => {
            quoted(out, &t);
            true
        }
        None => false,
    }
}

/// An ISO 8601 text in Elasticsearch's date output (unescaped first when it must be).
fn iso(s: Str<'_>) -> Option<std::borrow::Cow<'_, str>> {
    match s.plain() {
        Some(raw) => convert::iso8601_utc(raw),
        None => convert::iso8601_utc(&s.text()).map(|t| t.into_owned().into()),
    }
}
