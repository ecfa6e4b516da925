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
//!
//! A row is read from its line's text (`cells`: `ecs::line`'s members, no tree), or from its
//! tree where the text is not read so: a line the sink could not scan, and here a row whose
//! `fields` has a key with an escape, a key given twice, or a shape the scanner does not walk.
//! Either way the columns, their types and values are the same.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::TimestampMicrosecondBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use ecs::line::{Members, Val};
use serde_json::Value;

use super::builders::{Builder, Fits};
use super::cells::{Cell, Top};
use super::kinds::{time_type, top_index, Kind, FILE_ID, TOP, TOP_ALWAYS};
use super::schema::Declared;

/// One row: its time in microseconds since the epoch (UTC), and its line.
pub struct Row<'a> {
    pub micros: i64,
    pub line: Line<'a>,
}

/// An archive line, and how its values are read.
#[derive(Debug, Clone, Copy)]
pub enum Line<'a> {
    /// From its text: the line, and its `fields` object's text (`None` when the line has no
    /// object there).
    Text {
        line: &'a str,
        fields: Option<&'a str>,
    },
    /// From its tree.
    Tree(&'a Value),
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

/// Maps the keys of `fields` maps to column numbers. Rows of one file list their fields in
/// the same order (the CSV header's), so the key at a position is first checked against the
/// column the previous row's key at that position went to, and only looked up on a miss.
struct KeyIndex {
    index: HashMap<String, usize>,
    names: Vec<String>,
    prev: Vec<usize>,
}

impl KeyIndex {
    fn new() -> KeyIndex {
        KeyIndex {
            index: HashMap::new(),
            names: Vec::new(),
            prev: Vec::new(),
        }
    }

    /// The column of the `pos`th key of a row, `k`; a key never seen before gets a new one
    /// when `grow`, else `None`.
    fn get(&mut self, pos: usize, k: &str, grow: bool) -> Option<usize> {
        if let Some(&c) = self.prev.get(pos) {
            if self.names[c] == k {
                return Some(c);
            }
        }
        let c = match self.index.get(k) {
            Some(&c) => c,
            None if grow => {
                self.names.push(k.to_string());
                self.index.insert(k.to_string(), self.names.len() - 1);
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

/// The `fields` columns of a file's rows as the first walk finds them: per column, its
/// declared kind if any, else the kinds all its values fit.
struct Inference<'d, 'a> {
    declared: &'d Declared,
    keys: KeyIndex,
    fits: Vec<Fits>,
    decl: Vec<Option<Kind>>,
    /// Per column, the last row (from 1) that gave it a value: a key given twice in a row.
    seen: Vec<usize>,
    /// One row's members, kept until the whole row is read.
    row: Vec<(usize, Val<'a>)>,
}

impl<'d, 'a> Inference<'d, 'a> {
    fn new(declared: &'d Declared) -> Inference<'d, 'a> {
        Inference {
            declared,
            keys: KeyIndex::new(),
            fits: Vec::new(),
            decl: Vec::new(),
            seen: Vec::new(),
            row: Vec::new(),
        }
    }

    /// The column of the `pos`th key of a row, new if never seen.
    fn column(&mut self, pos: usize, k: &str) -> usize {
        let c = self.keys.get(pos, k, true).expect("grows");
        if c == self.fits.len() {
            self.fits.push(Fits::new());
            self.decl.push(self.declared.get(k).copied());
            self.seen.push(0);
        }
        c
    }

    /// Declared columns need no inference (nor their values read here).
    fn add<'v>(&mut self, c: usize, v: impl FnOnce() -> Cell<'v>) {
        if self.decl[c].is_none() {
            self.fits[c].add(&v());
        }
    }

    /// A row from its tree.
    fn tree(&mut self, line: &Value) {
        let Some(map) = line.get("fields").and_then(Value::as_object) else {
            return;
        };
        for (pos, (k, v)) in map.iter().enumerate() {
            let c = self.column(pos, k);
            self.add(c, || Cell::of_value(v));
        }
    }

    /// Row `i` from its `fields` text; `false` (and nothing counted) when it is to be read
    /// from its tree: a key with an escape, a key given twice, a shape the scanner stops at.
    fn text(&mut self, i: usize, fields: &'a str) -> bool {
        let Some(mut members) = Members::of(fields) else {
            return false;
        };
        self.row.clear();
        for (pos, (k, v)) in (&mut members).enumerate() {
            let Ok(k) = k else {
                return false;
            };
            let c = self.column(pos, k.raw);
            if self.seen[c] == i + 1 {
                return false;
            }
            self.seen[c] = i + 1;
            self.row.push((c, v));
        }
        if members.broken {
            return false;
        }
        for j in 0..self.row.len() {
            let (c, v) = self.row[j];
            self.add(c, || Cell::of_val(v));
        }
        true
    }
}

/// The first walk: the `fields` columns of `rows`, in the order first seen (the CSV header's
/// or the record's), their kinds (declared, else what all their values fit), and the trees of
/// the rows read from their text that are to be read from their tree (by row).
fn field_kinds(rows: &[Row], declared: &Declared) -> (KeyIndex, Vec<Kind>, HashMap<usize, Value>) {
    let mut walk = Inference::new(declared);
    let mut trees = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        match r.line {
            Line::Tree(v) => walk.tree(v),
            Line::Text { fields: None, .. } => {}
            Line::Text {
                line,
                fields: Some(f),
            } => {
                if !walk.text(i, f) {
                    let v = serde_json::from_str(line).unwrap_or(Value::Null);
                    walk.tree(&v);
                    trees.insert(i, v);
                }
            }
        }
    }
    let kinds = walk
        .decl
        .iter()
        .zip(&walk.fits)
        .map(|(d, f)| d.unwrap_or(f.kind()))
        .collect();
    (walk.keys, kinds, trees)
}

/// The second walk: each row's values appended to their columns' builders.
struct Builders {
    keys: KeyIndex,
    /// Every `TOP` column is built; the provenance ones are kept only when a row has `file_id`.
    top: Vec<Builder>,
    provenance: bool,
    field: Vec<Builder>,
    /// Per `fields` column, the values that do not parse as its kind.
    bad: Vec<u64>,
}

impl Builders {
    fn new(keys: KeyIndex, kinds: &[Kind], rows: usize) -> Builders {
        Builders {
            keys,
            top: TOP.iter().map(|(_, k)| Builder::new(*k, rows)).collect(),
            provenance: false,
            field: kinds.iter().map(|k| Builder::new(*k, rows)).collect(),
            bad: vec![0; kinds.len()],
        }
    }

    fn top(&mut self, i: usize, c: usize, v: &Cell) {
        self.provenance |= c == FILE_ID;
        self.top[c].push(i, v);
    }

    fn field(&mut self, i: usize, pos: usize, k: &str, v: &Cell) {
        if let Some(c) = self.keys.get(pos, k, false) {
            self.bad[c] += u64::from(!self.field[c].push(i, v));
        }
    }

    /// Row `i` from its tree.
    fn tree_row(&mut self, i: usize, line: &Value) {
        let Some(line) = line.as_object() else {
            return;
        };
        for (k, v) in line {
            if k == "fields" {
                let Some(map) = v.as_object() else {
                    continue;
                };
                for (pos, (k, v)) in map.iter().enumerate() {
                    self.field(i, pos, k, &Cell::of_value(v));
                }
            } else if let Some(c) = top_index(k) {
                self.top(i, c, &Cell::of_value(v));
            }
        }
    }

    /// Row `i` from its text (which the first walk read whole).
    fn text_row(&mut self, i: usize, line: &str, fields: Option<&str>) {
        let top = fields.and_then(|f| Top::before_fields(line, f));
        let Some(top) = top.or_else(|| Top::scan(line)) else {
            // The sink scanned it already; a line that does not scan is read from its tree.
            let v = serde_json::from_str(line).unwrap_or(Value::Null);
            return self.tree_row(i, &v);
        };
        for (c, v) in top.slots.iter().enumerate() {
            if let Some(v) = v {
                self.top(i, c, &Cell::of_val(*v));
            }
        }
        for (pos, (k, v)) in fields
            .and_then(Members::of)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Ok(k) = k {
                self.field(i, pos, k.raw, &Cell::of_val(v));
            }
        }
    }

    /// The batch: `id`, `timestamp`, the other `TOP` columns (the provenance ones when a row
    /// has `file_id`), then the `fields` columns.
    fn finish(self, rows: &[Row], kinds: &[Kind]) -> Result<Typed, ArrowError> {
        let mut fields = vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("timestamp", time_type(), false),
        ];
        let tops = if self.provenance {
            TOP.len()
        } else {
            TOP_ALWAYS
        };
        let mut top = self.top.into_iter().take(tops);
        let mut arrays: Vec<ArrayRef> =
            vec![top.next().expect("id").finish(rows.len()), times(rows)];
        for ((name, kind), b) in TOP[1..tops].iter().zip(top) {
            fields.push(Field::new(*name, kind.data_type(), true));
            arrays.push(b.finish(rows.len()));
        }
        for ((name, kind), b) in self.keys.names.iter().zip(kinds).zip(self.field) {
            fields.push(Field::new(column_name(name), kind.data_type(), true));
            arrays.push(b.finish(rows.len()));
        }
        let nulled = self
            .keys
            .names
            .iter()
            .zip(self.bad)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| (column_name(name), n))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
        Ok(Typed { batch, nulled })
    }
}

/// The record batch of `rows` (already in the order to write), with the columns they need,
/// typed as `declared` says where it says, else from their values.
///
/// Two walks over each row's keys, with no lookup per cell: the first finds the `fields`
/// columns and their kinds; the second appends each value to its column's builder.
pub fn record_batch(rows: &[Row], declared: &Declared) -> Result<Typed, ArrowError> {
    let (keys, kinds, trees) = field_kinds(rows, declared);
    let mut b = Builders::new(keys, &kinds, rows.len());
    for (i, r) in rows.iter().enumerate() {
        let tree = if trees.is_empty() {
            None
        } else {
            trees.get(&i)
        };
        match (r.line, tree) {
            (_, Some(v)) | (Line::Tree(v), None) => b.tree_row(i, v),
            (Line::Text { line, fields }, None) => b.text_row(i, line, fields),
        }
    }
    b.finish(rows, &kinds)
}

/// The `timestamp` column: each row's `@timestamp`, never null.
fn times(rows: &[Row]) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
    for r in rows {
        b.append_value(r.micros);
    }
    Arc::new(b.finish())
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
