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
                self.int &= int_text(s).is_some();
                self.float &= float_text(s).is_some();
                self.bool &= matches!(s.as_str(), "true" | "false");
                self.time &= time_text(s).is_some();
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

/// Provenance columns of EventLogFile rows, with their kinds.
const PROVENANCE: &[(&str, Kind)] = &[
    ("event_type", Kind::Text),
    ("file_id", Kind::Text),
    ("log_date", Kind::Time),
    ("interval", Kind::Text),
    ("sequence", Kind::Int),
    ("row", Kind::Int),
];

/// A column to write: its name, kind, and where its values are in a line.
struct Column<'a> {
    name: String,
    kind: Kind,
    source: Source<'a>,
}

enum Source<'a> {
    /// A top-level key of the line.
    Top(&'static str),
    /// A key under `fields`.
    Field(&'a str),
}

impl Source<'_> {
    fn get<'v>(&self, line: &'v Value) -> &'v Value {
        match self {
            Source::Top(k) => &line[*k],
            Source::Field(k) => &line["fields"][*k],
        }
    }
}

/// The record batch of `rows` (already in the order to write), with the columns they need.
pub fn record_batch(rows: &[Row]) -> Result<RecordBatch, ArrowError> {
    let mut columns = vec![
        top("id", Kind::Text),
        top("org_id", Kind::Text),
        top("source", Kind::Text),
    ];
    if rows.iter().any(|r| r.line.get("file_id").is_some()) {
        columns.extend(PROVENANCE.iter().map(|(k, kind)| top(k, *kind)));
    }
    columns.extend(field_columns(rows));
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("timestamp", time_type(), false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![build(&columns[0], rows), times(rows)];
    for c in &columns[1..] {
        fields.push(Field::new(&c.name, c.kind.data_type(), true));
        arrays.push(build(c, rows));
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

fn top(k: &'static str, kind: Kind) -> Column<'static> {
    Column {
        name: k.to_string(),
        kind,
        source: Source::Top(k),
    }
}

/// One column per key under `fields`, in the order first seen (the CSV header's or the
/// record's), each with the kind all its values fit.
fn field_columns<'a>(rows: &[Row<'a>]) -> Vec<Column<'a>> {
    let mut order: Vec<&'a str> = Vec::new();
    let mut fits: HashMap<&'a str, Fits> = HashMap::new();
    for r in rows {
        let Some(map) = r.line.get("fields").and_then(Value::as_object) else {
            continue;
        };
        for (k, v) in map {
            let f = fits.entry(k.as_str()).or_insert_with(|| {
                order.push(k.as_str());
                Fits::new()
            });
            f.add(v);
        }
    }
    order
        .into_iter()
        .map(|k| Column {
            name: column_name(k),
            kind: fits[k].kind(),
            source: Source::Field(k),
        })
        .collect()
}

/// The Arrow array of one column. Inference guaranteed each non-empty value parses as the
/// column's kind; the `None` arms are there for empty values.
fn build(c: &Column, rows: &[Row]) -> ArrayRef {
    let values = rows.iter().map(|r| c.source.get(r.line));
    match c.kind {
        Kind::Text => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for v in values {
                match v {
                    Value::Null => b.append_null(),
                    Value::String(s) if s.is_empty() => b.append_null(),
                    Value::String(s) => b.append_value(s),
                    other => b.append_value(other.to_string()),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Int => {
            let mut b = Int64Builder::with_capacity(rows.len());
            b.extend(values.map(|v| match v {
                Value::String(s) => int_text(s),
                v => v.as_i64(),
            }));
            Arc::new(b.finish())
        }
        Kind::Float => {
            let mut b = Float64Builder::with_capacity(rows.len());
            b.extend(values.map(|v| match v {
                Value::String(s) => float_text(s),
                v => v.as_f64(),
            }));
            Arc::new(b.finish())
        }
        Kind::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            b.extend(values.map(|v| match v {
                Value::String(s) => Some(s == "true"),
                v => v.as_bool(),
            }));
            Arc::new(b.finish())
        }
        Kind::Time => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
            b.extend(values.map(|v| v.as_str().and_then(time_text)));
            Arc::new(b.finish())
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
