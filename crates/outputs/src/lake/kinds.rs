//! What the lake's columns hold: the kinds a column can have, and the lake's own columns
//! (the line's top-level members). A leaf the column builders, the cell reader, the declared
//! types and the column walk all read.

use arrow_schema::{DataType, TimeUnit};

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
    pub(super) fn data_type(self) -> DataType {
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
pub(super) fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The lake's own columns after `id` and `timestamp`: top-level keys of the line, with their
/// kinds. The provenance ones (from `event_type` on) are written only when a row has `file_id`.
pub(super) const TOP: &[(&str, Kind)] = &[
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
pub(super) const TOP_ALWAYS: usize = 3;

/// Where a top-level key of a line goes in `TOP`, if anywhere.
pub(super) fn top_index(k: &str) -> Option<usize> {
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
pub(super) const FILE_ID: usize = 4;
