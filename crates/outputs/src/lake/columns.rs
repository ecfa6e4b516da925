//! The columns of one Parquet file, built from archive lines: `id`, `timestamp`, `org_id`,
//! `source`, the EventLogFile provenance (`event_type`, `file_id`, `log_date`, `interval`,
//! `sequence`, `row`) when the rows have it, then one column per Salesforce field, typed.
//!
//! The archive keeps EventLogFile values as the CSV's strings and not `LogFileFieldTypes`, so
//! a field's type is inferred from the file's own values, conservatively: a column is a
//! number or a timestamp only when every non-empty value in the file is one, else text; empty
//! values are null. A new field in a later release is a new column in new files (readers
//! union by name); a column whose values change kind between files reads as text where
//! readers widen types (DuckDB's `union_by_name`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use serde_json::Value;

/// One row: the event's line and its time in microseconds since the epoch (UTC).
pub struct Row<'a> {
    pub micros: i64,
    pub line: &'a Value,
}

/// Names the lake's own columns and partitions take. A Salesforce field spelled like one of
/// them (ELF's `TIMESTAMP`, an object's `Id`) gets `sf_` before its name, because engines
/// match column names without regard to case and two `id` columns would clash.
const RESERVED: &[&str] = &[
    "id",
    "timestamp",
    "org_id",
    "source",
    "event_type",
    "file_id",
    "log_date",
    "interval",
    "sequence",
    "row",
    "dataset",
    "event_date",
];

/// The Parquet column a Salesforce field is written as.
pub fn column_name(field: &str) -> String {
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(field)) {
        format!("sf_{field}")
    } else {
        field.to_string()
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    Time,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Time => time_type(),
        }
    }
}

/// Microseconds in UTC: nanosecond Parquet timestamps are unreadable by Spark, Athena and
/// DuckDB, and Salesforce's times are to the millisecond.
fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The kinds a column's values so far all fit.
#[derive(Clone, Copy)]
struct Fits {
    int: bool,
    float: bool,
    bool: bool,
    time: bool,
    seen: bool,
}

impl Fits {
    fn new() -> Fits {
        Fits {
            int: true,
            float: true,
            bool: true,
            time: true,
            seen: false,
        }
    }

    fn add(&mut self, v: &Value) {
        match v {
            Value::Null => return,
            Value::String(s) if s.is_empty() => return,
            Value::String(s) => {
                // A check a value already failed is not run again: most text columns fail
                // every check on their first value.
                self.int = self.int && int_text(s).is_some();
                self.float = self.float && float_text(s).is_some();
                self.bool = self.bool && matches!(s.as_str(), "true" | "false");
                self.time = self.time && time_text(s).is_some();
            }
            Value::Number(n) => {
                self.int &= n.is_i64();
                self.bool = false;
                self.time = false;
            }
            Value::Bool(_) => {
                self.int = false;
                self.float = false;
                self.time = false;
            }
            Value::Array(_) | Value::Object(_) => {
                *self = Fits {
                    seen: true,
                    ..Fits::none()
                };
                return;
            }
        }
        self.seen = true;
    }

    fn none() -> Fits {
        Fits {
            int: false,
            float: false,
            bool: false,
            time: false,
            seen: false,
        }
    }

    /// Timestamps first: an ELF `TIMESTAMP` (`20231218054831.655`) is also a decimal number.
    fn kind(self) -> Kind {
        match self {
            Fits { seen: false, .. } => Kind::Text,
            Fits { time: true, .. } => Kind::Time,
            Fits { bool: true, .. } => Kind::Bool,
            Fits { int: true, .. } => Kind::Int,
            Fits { float: true, .. } => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// A whole number as Salesforce writes one. A leading zero (`007`, a code) or `+` stays text,
/// and so does anything past 18 digits (an id made of digits).
fn int_text(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let ok = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// A plain decimal (`12`, `-0.25`, `1534.5`): no exponent, no `NaN` or `inf`, no leading zero
/// before other digits, and at most 15 whole digits (what a double holds exactly: longer
/// runs of digits are ids).
fn float_text(s: &str) -> Option<f64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let ok = !whole.is_empty()
        && whole.len() <= 15
        && !frac.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || !whole.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// A Salesforce date-time (`2023-12-18T05:48:31.655Z`, `...+0000`) or an EventLogFile
/// `TIMESTAMP` (`20231218054831.655`), in microseconds.
fn time_text(s: &str) -> Option<i64> {
    let t = if s.as_bytes().get(4) == Some(&b'-') {
        base::time::parse_sf_datetime(s)
    } else {
        ecs::elf_timestamp(s)
    };
    t.map(|t| t.timestamp_micros())
}

/// The lake's own columns after `id` and `timestamp`: top-level keys of the line, with their
/// kinds. The provenance ones (from `event_type` on) are written only when a row has `file_id`.
const TOP: &[(&str, Kind)] = &[
    ("id", Kind::Text),
    ("org_id", Kind::Text),
    ("source", Kind::Text),
    ("event_type", Kind::Text),
    ("file_id", Kind::Text),
    ("log_date", Kind::Time),
    ("interval", Kind::Text),
    ("sequence", Kind::Int),
    ("row", Kind::Int),
];

/// How many of `TOP` are always written (`id`, `org_id`, `source`).
const TOP_ALWAYS: usize = 3;

/// Where a top-level key of a line goes in `TOP`, if anywhere.
fn top_index(k: &str) -> Option<usize> {
    let i = match k {
        "id" => 0,
        "org_id" => 1,
        "source" => 2,
        "event_type" => 3,
        "file_id" => 4,
        "log_date" => 5,
        "interval" => 6,
        "sequence" => 7,
        "row" => 8,
        _ => return None,
    };
    debug_assert_eq!(TOP[i].0, k);
    Some(i)
}

/// Where `file_id` is in `TOP`.
const FILE_ID: usize = 4;

/// Maps the keys of `fields` maps to column numbers. Rows of one file list their fields in
/// the same order (the CSV header's), so the key at a position is first checked against the
/// column the previous row's key at that position went to, and only looked up on a miss.
struct KeyIndex<'a> {
    index: HashMap<&'a str, usize>,
    names: Vec<&'a str>,
    prev: Vec<usize>,
}

impl<'a> KeyIndex<'a> {
    fn new() -> KeyIndex<'a> {
        KeyIndex {
            index: HashMap::new(),
            names: Vec::new(),
            prev: Vec::new(),
        }
    }

    /// The column of the `pos`th key of a row, `k`; a key never seen before gets a new one
    /// when `grow`, else `None`.
    fn get(&mut self, pos: usize, k: &'a str, grow: bool) -> Option<usize> {
        if let Some(&c) = self.prev.get(pos) {
            if self.names[c] == k {
                return Some(c);
            }
        }
        let c = match self.index.get(k) {
            Some(&c) => c,
            None if grow => {
                self.names.push(k);
                self.index.insert(k, self.names.len() - 1);
                self.names.len() - 1
            }
            None => return None,
        };
        if pos < self.prev.len() {
            self.prev[pos] = c;
        } else if pos == self.prev.len() {
            self.prev.push(c);
        }
        Some(c)
    }
}

/// The record batch of `rows` (already in the order to write), with the columns they need.
///
/// Two walks over each row's keys, with no lookup per cell: the first finds the `fields`
/// columns (in the order first seen: the CSV header's or the record's) and the kind all each
/// one's values fit; the second appends each value to its column's builder.
pub fn record_batch(rows: &[Row]) -> Result<RecordBatch, ArrowError> {
    let mut keys = KeyIndex::new();
    let mut fits: Vec<Fits> = Vec::new();
    for r in rows {
        let Some(map) = r.line.get("fields").and_then(Value::as_object) else {
            continue;
        };
        for (pos, (k, v)) in map.iter().enumerate() {
            let c = keys.get(pos, k.as_str(), true).expect("grows");
            if c == fits.len() {
                fits.push(Fits::new());
            }
            fits[c].add(v);
        }
    }
    // Every `TOP` column is built; the provenance ones are kept only when a row has `file_id`.
    let mut provenance = false;
    let mut top: Vec<Builder> = TOP
        .iter()
        .map(|(_, kind)| Builder::new(*kind, rows.len()))
        .collect();
    let mut field: Vec<Builder> = fits
        .iter()
        .map(|f| Builder::new(f.kind(), rows.len()))
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let Some(line) = r.line.as_object() else {
            continue;
        };
        for (k, v) in line {
            if k == "fields" {
                let Some(map) = v.as_object() else {
                    continue;
                };
                for (pos, (k, v)) in map.iter().enumerate() {
                    if let Some(c) = keys.get(pos, k.as_str(), false) {
                        field[c].push(i, v);
                    }
                }
            } else if let Some(c) = top_index(k) {
                provenance |= c == FILE_ID;
                top[c].push(i, v);
            }
        }
    }
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("timestamp", time_type(), false),
    ];
    let tops = if provenance { TOP.len() } else { TOP_ALWAYS };
    let mut top = top.into_iter().take(tops);
    let mut arrays: Vec<ArrayRef> = vec![top.next().expect("id").finish(rows.len()), times(rows)];
    for ((name, kind), b) in TOP[1..tops].iter().zip(top) {
        fields.push(Field::new(*name, kind.data_type(), true));
        arrays.push(b.finish(rows.len()));
    }
    for ((name, f), b) in keys.names.iter().zip(&fits).zip(field) {
        fields.push(Field::new(column_name(name), f.kind().data_type(), true));
        arrays.push(b.finish(rows.len()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// The `timestamp` column: each row's `@timestamp`, never null.
fn times(rows: &[Row]) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
    for r in rows {
        b.append_value(r.micros);
    }
    Arc::new(b.finish())
}

/// One column's values as they are appended, row by row; a row without the column is null.
/// Inference guaranteed each non-empty value parses as the column's kind; the `None` arms
/// are there for empty values.
struct Builder {
    /// Rows appended so far, nulls included.
    len: usize,
    values: Values,
}

enum Values {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind, rows: usize) -> Builder {
        let values = match kind {
            Kind::Text => Values::Text(StringBuilder::with_capacity(rows, rows * 16)),
            Kind::Int => Values::Int(Int64Builder::with_capacity(rows)),
            Kind::Float => Values::Float(Float64Builder::with_capacity(rows)),
            Kind::Bool => Values::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::Time => {
                Values::Time(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
        };
        Builder { len: 0, values }
    }

    /// Nulls up to row `to` (exclusive).
    fn pad(&mut self, to: usize) {
        let n = to.saturating_sub(self.len);
        if n == 0 {
            return;
        }
        match &mut self.values {
            Values::Text(b) => (0..n).for_each(|_| b.append_null()),
            Values::Int(b) => b.append_nulls(n),
            Values::Float(b) => b.append_nulls(n),
            Values::Bool(b) => b.append_nulls(n),
            Values::Time(b) => b.append_nulls(n),
        }
        self.len = to;
    }

    /// Row `row`'s value.
    fn push(&mut self, row: usize, v: &Value) {
        self.pad(row);
        match &mut self.values {
            Values::Text(b) => match v {
                Value::Null => b.append_null(),
                Value::String(s) if s.is_empty() => b.append_null(),
                Value::String(s) => b.append_value(s),
                other => b.append_value(other.to_string()),
            },
            Values::Int(b) => b.append_option(match v {
                Value::String(s) => int_text(s),
                v => v.as_i64(),
            }),
            Values::Float(b) => b.append_option(match v {
                Value::String(s) => float_text(s),
                v => v.as_f64(),
            }),
            Values::Bool(b) => b.append_option(match v {
                Value::String(s) => Some(s == "true"),
                v => v.as_bool(),
            }),
            Values::Time(b) => b.append_option(v.as_str().and_then(time_text)),
        }
        self.len = row + 1;
    }

    fn finish(mut self, rows: usize) -> ArrayRef {
        self.pad(rows);
        match self.values {
            Values::Text(mut b) => Arc::new(b.finish()),
            Values::Int(mut b) => Arc::new(b.finish()),
            Values::Float(mut b) => Arc::new(b.finish()),
            Values::Bool(mut b) => Arc::new(b.finish()),
            Values::Time(mut b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
    use arrow_array::Array;
    use serde_json::json;

    fn kind(values: &[Value]) -> Kind {
        let mut f = Fits::new();
        values.iter().for_each(|v| f.add(v));
        f.kind()
    }

    #[test]
    fn inference_is_conservative() {
        assert_eq!(kind(&[json!("12"), json!(""), json!("-3")]), Kind::Int);
        assert_eq!(kind(&[json!("12"), json!("0.5")]), Kind::Float);
        assert_eq!(kind(&[json!("12"), json!("007")]), Kind::Text, "a code");
        assert_eq!(kind(&[json!("1e5")]), Kind::Text);
        assert_eq!(kind(&[json!("NaN")]), Kind::Text);
        assert_eq!(kind(&[json!("1234567890123456789")]), Kind::Text);
        assert_eq!(kind(&[json!("20231218054831.655")]), Kind::Time);
        assert_eq!(kind(&[json!("2023-12-19T21:04:35.000+0000")]), Kind::Time);
        assert_eq!(
            kind(&[json!("2023-12-19T21:04:35.000Z"), json!("x")]),
            Kind::Text
        );
        assert_eq!(kind(&[json!(3), json!(4.5)]), Kind::Float);
        assert_eq!(kind(&[json!(3), json!(null)]), Kind::Int);
        assert_eq!(kind(&[json!(true), json!("false")]), Kind::Bool);
        assert_eq!(kind(&[json!({"a": 1})]), Kind::Text);
        assert_eq!(kind(&[json!(""), json!(null)]), Kind::Text);
    }

    #[test]
    fn a_batch_of_elf_rows() {
        let lines = [
            json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "s-1", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
                "log_date": "2026-12-01T00:00:00.000Z", "interval": "Daily", "sequence": 1, "row": 1,
                "fields": {"TIMESTAMP": "20261201100000.000", "RUN_TIME": "12", "CPU": "0.5", "URI": "/x"}}),
            json!({"@timestamp": "2026-12-01T11:00:00.000Z", "id": "s-2", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
                "log_date": "2026-12-01T00:00:00.000Z", "interval": "Daily", "sequence": 1, "row": 2,
                "fields": {"TIMESTAMP": "20261201110000.000", "RUN_TIME": "", "CPU": "2", "URI": "/y"}}),
        ];
        let rows: Vec<Row> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| Row {
                micros: i as i64,
                line: l,
            })
            .collect();
        let b = record_batch(&rows).unwrap();
        let names: Vec<&str> = b
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "id",
                "timestamp",
                "org_id",
                "source",
                "event_type",
                "file_id",
                "log_date",
                "interval",
                "sequence",
                "row",
                "sf_TIMESTAMP",
                "RUN_TIME",
                "CPU",
                "URI"
            ]
        );
        let run = b
            .column_by_name("RUN_TIME")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!((run.value(0), run.is_null(1)), (12, true));
        let cpu = b
            .column_by_name("CPU")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(cpu.value(1), 2.0);
        let ts = b
            .column_by_name("sf_TIMESTAMP")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_796_119_200_000_000);
        assert_eq!(
            b.schema_ref()
                .field_with_name("log_date")
                .unwrap()
                .data_type(),
            &time_type()
        );
    }
}
