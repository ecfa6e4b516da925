//! The column types Salesforce declares, as the lake reads them from the archive's state.db:
//! an EventLogFile's `LogFileFieldTypes` (kept in its ledger row) and an object's field types
//! from the describe call (kept in `object_fields`). A declared column has the same type in
//! every file, whatever one file's values are; a column nothing declares (archives written
//! before these were kept, an org that refuses the fields, alerts) is typed from its values
//! (`columns`).
//!
//! EventLogFile `Number` is `DOUBLE`: its values include decimals (`API_VERSION` `9998.0`)
//! and integers up to nanosecond totals, which a double holds (exactly up to 2^53).
//! `DateTime` and `Date` are timestamps (µs, UTC), `Boolean` booleans (`true`/`false`,
//! `1`/`0`), every other type (`String`, `Id`, `Set`, `Reference`, `IP`, ...) text. Objects:
//! describe's `int` and `long` are `BIGINT`, `double`, `currency` and `percent` `DOUBLE`,
//! `datetime` and `date` timestamps, `boolean` booleans, the rest text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use archive::state::{ElfFields, Reader};

use super::kinds::Kind;

/// The type an EventLogFile's `LogFileFieldTypes` names.
pub fn elf_kind(type_name: &str) -> Kind {
    match type_name.trim().to_ascii_lowercase().as_str() {
        "number" => Kind::Float,
        "datetime" | "date" => Kind::Time,
        "boolean" => Kind::Bool,
        _ => Kind::Text,
    }
}

/// The type an object field's describe `type` names.
pub fn object_kind(type_name: &str) -> Kind {
    match type_name.trim().to_ascii_lowercase().as_str() {
        "int" | "long" => Kind::Int,
        "double" | "currency" | "percent" => Kind::Float,
        "datetime" | "date" => Kind::Time,
        "boolean" => Kind::Bool,
        _ => Kind::Text,
    }
}

/// What a row's fields were declared by: its EventLogFile, or its object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    File(String),
    Object(String),
}

/// An origin as an archive line names it, borrowed: (whether it is a file, its id or name).
pub type OriginRef<'a> = (bool, &'a str);

impl Origin {
    /// The origin of an archive line, borrowed: `file_id` for EventLogFile rows, else
    /// `source`.
    pub fn of(line: &serde_json::Value) -> Option<OriginRef<'_>> {
        Origin::of_parts(line["source"].as_str(), line["file_id"].as_str())
    }

    /// The origin of a line with this `source` and `file_id` (each if a string).
    pub fn of_parts<'a>(
        source: Option<&'a str>,
        file_id: Option<&'a str>,
    ) -> Option<OriginRef<'a>> {
        match source? {
            "EventLogFile" => file_id.map(|f| (true, f)),
            source => Some((false, source)),
        }
    }

    pub fn owned((file, name): OriginRef) -> Origin {
        if file {
            Origin::File(name.to_string())
        } else {
            Origin::Object(name.to_string())
        }
    }
}

/// Declared column types by field name.
pub type Declared = HashMap<String, Kind>;

/// An EventLogFile's declared types: `None` when the two lists do not pair up (the
/// separator is not documented: a list that does not split into as many types as names is
/// not trusted).
pub fn parse_elf(f: &ElfFields) -> Option<Declared> {
    let names: Vec<&str> = f.names.split(',').map(str::trim).collect();
    let types: Vec<&str> = f.types.split(',').map(str::trim).collect();
    if names.len() != types.len() || names.iter().any(|n| n.is_empty()) {
        return None;
    }
    Some(
        names
            .into_iter()
            .zip(types)
            .map(|(n, t)| (n.to_string(), elf_kind(t)))
            .collect(),
    )
}

/// The types of one file's columns: those of every origin of its rows. A field two origins
/// declare differently (a release that changed it) is text, which holds both.
pub fn merge<'a>(origins: impl Iterator<Item = &'a Arc<Declared>>) -> Declared {
    let mut out = Declared::new();
    for d in origins {
        for (name, kind) in d.iter() {
            out.entry(name.clone())
                .and_modify(|k| {
                    if k != kind {
                        *k = Kind::Text
                    }
                })
                .or_insert(*kind);
        }
    }
    out
}

/// The archive's state.db, read-only, for the declared types and the output's position.
/// Without one (an output built with no archive, or a state.db it cannot open), nothing is
/// declared and no position is known.
pub struct Declarations {
    reader: Option<Arc<Mutex<Reader>>>,
    org: String,
}

impl Declarations {
    pub fn open(state: Option<&Path>, org: &str) -> Declarations {
        let reader = state.and_then(|p| match Reader::open(p) {
            Ok(r) => Some(Arc::new(Mutex::new(r))),
            Err(e) => {
                tracing::warn!("the lake cannot read declared column types: {e}");
                None
            }
        });
        Declarations {
            reader,
            org: org.to_string(),
        }
    }

    /// A lookup to run on a blocking thread: the types declared for each of `origins`.
    pub fn lookup(
        &self,
        origins: BTreeSet<Origin>,
    ) -> impl FnOnce() -> BTreeMap<Origin, Arc<Declared>> + Send + 'static {
        let (reader, org) = (self.reader.clone(), self.org.clone());
        move || {
            let Some(reader) = reader else {
                return BTreeMap::new();
            };
            let r = reader.lock().unwrap_or_else(|e| e.into_inner());
            origins
                .into_iter()
                .filter_map(|o| declared(&r, &org, &o).map(|d| (o, Arc::new(d))))
                .collect()
        }
    }

    /// A read to run on a blocking thread: the output's position, if known.
    pub fn position(&self, output: &str) -> impl FnOnce() -> Option<(i64, u64)> + Send + 'static {
        let (reader, org, output) = (self.reader.clone(), self.org.clone(), output.to_string());
        move || {
            let r = reader?;
            let r = r.lock().unwrap_or_else(|e| e.into_inner());
            r.output_at(&org, &output)
                .map_err(|e| tracing::warn!("the lake cannot read its position: {e}"))
                .ok()
                .flatten()
        }
    }
}

/// What `origin` declares, from the state; a read that fails declares nothing (and says so).
fn declared(r: &Reader, org: &str, origin: &Origin) -> Option<Declared> {
    let got = match origin {
        Origin::File(id) => r.elf_fields(org, id).map(|f| f.and_then(|f| parse_elf(&f))),
        Origin::Object(o) => r.object_fields(org, o).map(|t| {
            t.map(|t| {
                t.iter()
                    .map(|(n, ty)| (n.clone(), object_kind(ty)))
                    .collect()
            })
        }),
    };
    got.map_err(|e| tracing::warn!("the lake cannot read the declared types of {origin:?}: {e}"))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_columns() {
        let f = ElfFields {
            names: "EVENT_TYPE,RUN_TIME,TIMESTAMP_DERIVED,IS_API,USER_ID".into(),
            types: "String,Number,DateTime,Boolean,Id".into(),
        };
        let d = parse_elf(&f).unwrap();
        assert_eq!(d["RUN_TIME"], Kind::Float);
        assert_eq!(d["TIMESTAMP_DERIVED"], Kind::Time);
        assert_eq!(d["IS_API"], Kind::Bool);
        assert_eq!(d["USER_ID"], Kind::Text);
        let short = ElfFields {
            names: "A,B".into(),
            types: "Number".into(),
        };
        assert_eq!(parse_elf(&short), None, "lists that do not pair up");
        assert_eq!(object_kind("int"), Kind::Int);
        assert_eq!(object_kind("currency"), Kind::Float);
        assert_eq!(object_kind("date"), Kind::Time);
        assert_eq!(object_kind("picklist"), Kind::Text);

        let a = Arc::new(Declared::from([
            ("X".into(), Kind::Float),
            ("Y".into(), Kind::Time),
        ]));
        let b = Arc::new(Declared::from([
            ("X".into(), Kind::Text),
            ("Z".into(), Kind::Bool),
        ]));
        let m = merge([&a, &b].into_iter());
        assert_eq!(m["X"], Kind::Text, "declared differently: text holds both");
        assert_eq!((m["Y"], m["Z"]), (Kind::Time, Kind::Bool));
    }
}
