//! One column's values: the kinds they all fit (`Fits`, for a column nothing declares) and
//! their builder (`Builder`), which writes each as the column's kind, or null where it does
//! not parse as that.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::ArrayRef;

use super::cells::Cell;
use super::kinds::Kind;

/// The kinds a column's values so far all fit.
#[derive(Clone, Copy)]
pub(super) struct Fits {
    int: bool,
    float: bool,
    bool: bool,
    time: bool,
    seen: bool,
}

impl Fits {
    pub(super) fn new() -> Fits {
        Fits {
            int: true,
            float: true,
            bool: true,
            time: true,
            seen: false,
        }
    }

    pub(super) fn add(&mut self, v: &Cell) {
        match v {
            Cell::Null => return,
            Cell::Str(s) if s.is_empty() => return,
            Cell::Str(s) => {
                // A check a value already failed is not run again: most text columns fail
                // every check on their first value.
                self.int = self.int && int_text(s).is_some();
                self.float = self.float && float_text(s).is_some();
                self.bool = self.bool && matches!(s.as_ref(), "true" | "false");
                self.time = self.time && time_text(s).is_some();
            }
            Cell::Num(n) => {
                self.int &= n.is_i64();
                self.bool = false;
                self.time = false;
            }
            Cell::Bool(_) => {
                self.int = false;
                self.float = false;
                self.time = false;
            }
            Cell::Nested(_) => {
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
    pub(super) fn kind(self) -> Kind {
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
fn int_value(v: &Cell) -> Option<i64> {
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
    match v {
        Cell::Str(s) => int_text(s)
            .or_else(|| s.trim().parse().ok())
            .or_else(|| s.trim().parse::<f64>().ok().and_then(whole)),
        Cell::Num(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        _ => None,
    }
}

/// A number in a declared decimal column: any finite decimal Rust reads.
fn float_value(v: &Cell) -> Option<f64> {
    match v {
        Cell::Str(s) => float_text(s)
            .or_else(|| s.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite()),
        Cell::Num(n) => n.as_f64(),
        _ => None,
    }
}

/// A boolean: `true`/`false` (any case) or EventLogFile's `1`/`0`.
fn bool_value(v: &Cell) -> Option<bool> {
    match v {
        Cell::Bool(b) => Some(*b),
        Cell::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Cell::Num(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A time: a date-time in Salesforce's forms, an EventLogFile `TIMESTAMP`, or a date
/// (`2026-12-01`, midnight UTC).
fn time_value(v: &Cell) -> Option<i64> {
    let s = v.as_str()?;
    time_text(s).or_else(|| {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
    })
}

/// One column's values as they are appended, row by row; a row without the column is null.
/// Inference guaranteed each non-empty value of an undeclared column parses as its kind; a
/// value of a declared column may not, and is then null.
pub(super) struct Builder {
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
    pub(super) fn new(kind: Kind, rows: usize) -> Builder {
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
    pub(super) fn push(&mut self, row: usize, v: &Cell) -> bool {
        self.pad(row);
        self.len = row + 1;
        if v.is_empty() {
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
                    Cell::Str(s) => b.append_value(s),
                    other => b.append_value(other.json()),
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

    pub(super) fn finish(mut self, rows: usize) -> ArrayRef {
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
