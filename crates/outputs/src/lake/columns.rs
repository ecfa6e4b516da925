//! The columns of one Parquet file, built from archive lines: `id`, `timestamp`, `org_id`,
//! `source`, the EventLogFile provenance (`event_type`, `file_id`, `log_date`, `interval`,
//! `sequence`, `row`) when the rows have it, then one column per Salesforce field, typed.
//!
//! A field Salesforce declared a type for (`schema`: `LogFileFieldTypes`, an object's
//! describe) has that type in every file, even where the file's values are all empty. A
//! value that does not parse as that type is written as null (the row is kept) and counted.
//! A field nothing declares (an archive written before the declared types were kept, an org
//! that refuses them) is typed from the file's own values, conservatively: a number or a
//! timestamp only when every non-empty value in the file is one, else text; such a column
//! whose values change kind between files reads as text where readers widen types (DuckDB's
//! `union_by_name`). Empty values are null. A new field in a later release is a new column
//! in new files (readers union by name).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use serde_json::Value;

use super::schema::Declared;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// A whole number in a declared integer column: what inference takes, and also leading
/// zeros, `+`, and whole decimals (`12.0`).
fn int_value(v: &Value) -> Option<i64> {
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
    match v {
        Value::String(s) => int_text(s)
            .or_else(|| s.trim().parse().ok())
            .or_else(|| s.trim().parse::<f64>().ok().and_then(whole)),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        _ => None,
    }
}

/// A number in a declared decimal column: any finite decimal Rust reads.
fn float_value(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => float_text(s)
            .or_else(|| s.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite()),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// A boolean: `true`/`false` (any case) or EventLogFile's `1`/`0`.
fn bool_value(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A time: a date-time in Salesforce's forms, an EventLogFile `TIMESTAMP`, or a date
/// (`2026-12-01`, midnight UTC).
fn time_value(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    time_text(s).or_else(|| {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
    })
}

/// Whether a value is empty (null in every column).
fn empty(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::String(s) if s.is_empty())
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

/// A file's columns, and the values written as null because they do not parse as their
/// column's declared type: `(column, cells)`.
pub struct Typed {
    pub batch: RecordBatch,
    pub nulled: Vec<(String, u64)>,
}

/// The `fields` columns of `rows`, in the order first seen (the CSV header's or the
/// record's): per column, its declared kind if any, else the kind all its values fit.
fn field_kinds<'a>(rows: &'a [Row], declared: &Declared) -> (KeyIndex<'a>, Vec<Kind>) {
    let mut keys = KeyIndex::new();
    let mut fits: Vec<Fits> = Vec::new();
    let mut decl: Vec<Option<Kind>> = Vec::new();
    for r in rows {
        let Some(map) = r.line.get("fields").and_then(Value::as_object) else {
            continue;
        };
        for (pos, (k, v)) in map.iter().enumerate() {
            let c = keys.get(pos, k.as_str(), true).expect("grows");
            if c == fits.len() {
                fits.push(Fits::new());
                decl.push(declared.get(k.as_str()).copied());
            }
            // Declared columns need no inference.
            if decl[c].is_none() {
                fits[c].add(v);
            }
        }
    }
    let kinds = decl
        .iter()
        .zip(&fits)
        .map(|(d, f)| d.unwrap_or(f.kind()))
        .collect();
    (keys, kinds)
}

/// The record batch of `rows` (already in the order to write), with the columns they need,
/// typed as `declared` says where it says, else from their values.
///
/// Two walks over each row's keys, with no lookup per cell: the first finds the `fields`
/// columns and their kinds; the second appends each value to its column's builder.
pub fn record_batch(rows: &[Row], declared: &Declared) -> Result<Typed, ArrowError> {
    let (mut keys, kinds) = field_kinds(rows, declared);
    // Every `TOP` column is built; the provenance ones are kept only when a row has `file_id`.
    let mut provenance = false;
    let mut top: Vec<Builder> = TOP
        .iter()
        .map(|(_, kind)| Builder::new(*kind, rows.len()))
        .collect();
    let mut field: Vec<Builder> = kinds.iter().map(|k| Builder::new(*k, rows.len())).collect();
    let mut bad = vec![0u64; kinds.len()];
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
                        bad[c] += u64::from(!field[c].push(i, v));
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
    for ((name, kind), b) in keys.names.iter().zip(&kinds).zip(field) {
        fields.push(Field::new(column_name(name), kind.data_type(), true));
        arrays.push(b.finish(rows.len()));
    }
    let nulled = keys
        .names
        .iter()
        .zip(bad)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| (column_name(name), n))
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    Ok(Typed { batch, nulled })
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
/// Inference guaranteed each non-empty value of an undeclared column parses as its kind; a
/// value of a declared column may not, and is then null.
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

    /// Row `row`'s value. `false`: it is not empty, yet does not parse as the column's kind
    /// (null is written).
    fn push(&mut self, row: usize, v: &Value) -> bool {
        self.pad(row);
        self.len = row + 1;
        if empty(v) {
            match &mut self.values {
                Values::Text(b) => b.append_null(),
                Values::Int(b) => b.append_null(),
                Values::Float(b) => b.append_null(),
                Values::Bool(b) => b.append_null(),
                Values::Time(b) => b.append_null(),
            }
            return true;
        }
        match &mut self.values {
            Values::Text(b) => {
                match v {
                    Value::String(s) => b.append_value(s),
                    other => b.append_value(other.to_string()),
                }
                true
            }
            Values::Int(b) => appended(b, int_value(v)),
            Values::Float(b) => appended(b, float_value(v)),
            Values::Bool(b) => {
                let x = bool_value(v);
                b.append_option(x);
                x.is_some()
            }
            Values::Time(b) => appended(b, time_value(v)),
        }
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

/// Appends a parsed value (or null); whether it parsed.
fn appended<T: arrow_array::types::ArrowPrimitiveType>(
    b: &mut arrow_array::builder::PrimitiveBuilder<T>,
    x: Option<T::Native>,
) -> bool {
    let ok = x.is_some();
    b.append_option(x);
    ok
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
        let b = record_batch(&rows, &Declared::new()).unwrap().batch;
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

    #[test]
    fn declared_types_hold_for_empty_and_unreadable_values() {
        let line = |run: &str, when: &str, ok: &str, extra: Value| {
            json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "x", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
                "fields": {"RUN_TIME": run, "TIMESTAMP_DERIVED": when, "OK": ok,
                    "EMPTY_NUMBER": "", "EMPTY_TIME": "", "CODE": "007", "X": extra}})
        };
        let lines = [
            line("12", "2026-12-01T10:00:00.000Z", "1", json!("a")),
            line("9998.0", "", "false", json!(null)),
            line("abc", "not a time", "maybe", json!(3)),
        ];
        let rows: Vec<Row> = lines.iter().map(|l| Row { micros: 0, line: l }).collect();
        let declared: Declared = [
            ("RUN_TIME", Kind::Float),
            ("TIMESTAMP_DERIVED", Kind::Time),
            ("OK", Kind::Bool),
            ("EMPTY_NUMBER", Kind::Float),
            ("EMPTY_TIME", Kind::Time),
            ("CODE", Kind::Float),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let t = record_batch(&rows, &declared).unwrap();
        let ty = |c: &str| {
            t.batch
                .schema()
                .field_with_name(c)
                .unwrap()
                .data_type()
                .clone()
        };
        assert_eq!(
            ty("EMPTY_NUMBER"),
            DataType::Float64,
            "empty, still a number"
        );
        assert_eq!(ty("EMPTY_TIME"), time_type(), "empty, still a timestamp");
        assert_eq!(
            ty("CODE"),
            DataType::Float64,
            "declared: not text for its zero"
        );
        assert_eq!(ty("X"), DataType::Utf8, "undeclared: inferred");
        assert_eq!(t.batch.num_rows(), 3, "no row lost");
        let run = t
            .batch
            .column_by_name("RUN_TIME")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(
            (run.value(0), run.value(1), run.is_null(2)),
            (12.0, 9998.0, true)
        );
        let ok = t.batch.column_by_name("OK").unwrap().as_boolean();
        assert_eq!(
            (ok.value(0), ok.value(1), ok.is_null(2)),
            (true, false, true)
        );
        let mut nulled = t.nulled.clone();
        nulled.sort();
        assert_eq!(
            nulled,
            [
                ("OK".into(), 1),
                ("RUN_TIME".into(), 1),
                ("TIMESTAMP_DERIVED".into(), 1)
            ]
        );
        // Undeclared, the same file infers text for the empty columns.
        let t = record_batch(&rows, &Declared::new()).unwrap();
        assert_eq!(
            t.batch
                .schema()
                .field_with_name("EMPTY_NUMBER")
                .unwrap()
                .data_type(),
            &DataType::Utf8
        );
        assert!(t.nulled.is_empty());
        // Objects' integers and dates.
        let obj = json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "y", "org_id": "00D1",
            "source": "LoginEvent", "fields": {"N": 7.0, "D": "2026-12-01"}});
        let rows = [Row {
            micros: 0,
            line: &obj,
        }];
        let declared: Declared =
            [("N".to_string(), Kind::Int), ("D".to_string(), Kind::Time)].into();
        let t = record_batch(&rows, &declared).unwrap();
        let n = t
            .batch
            .column_by_name("N")
            .unwrap()
            .as_primitive::<Int64Type>();
        let d = t
            .batch
            .column_by_name("D")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!((n.value(0), d.value(0)), (7, 1_796_083_200_000_000));
    }
}
