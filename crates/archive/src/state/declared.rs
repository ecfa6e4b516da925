//! What Salesforce declares about the fields of what is archived, kept for the outputs that
//! type columns (the lake): each EventLogFile's `LogFileFieldNames` and `LogFileFieldTypes`,
//! in two columns of its ledger row (`files`), and each object's field types from the
//! describe call, in `object_fields` (a JSON array of `[field, type]` pairs). Both are as Salesforce wrote
//! them: readers interpret.

use rusqlite::{params, Connection};

use super::{now, StateError, Store};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS object_fields (
    org TEXT NOT NULL, object TEXT NOT NULL, types TEXT NOT NULL, described_at TEXT NOT NULL,
    PRIMARY KEY (org, object));
";

/// Columns added to `files` after its first release: the file's `LogFileFieldNames` and
/// `LogFileFieldTypes`, null where Salesforce gave none (or the file predates them).
const FILES_ADDED: &[(&str, &str)] = &[("field_names", "TEXT"), ("field_types", "TEXT")];

/// Adds the columns of [`FILES_ADDED`] that an older state.db's `files` lacks.
pub(super) fn migrate(c: &Connection) -> rusqlite::Result<()> {
    let mut st = c.prepare("SELECT name FROM pragma_table_info('files')")?;
    let have: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    for (name, ty) in FILES_ADDED {
        if !have.iter().any(|h| h == name) {
            c.execute_batch(&format!("ALTER TABLE files ADD COLUMN {name} {ty}"))?;
        }
    }
    Ok(())
}

/// One EventLogFile's declared columns: `LogFileFieldNames` and `LogFileFieldTypes` as
/// Salesforce gave them (comma-separated, in the CSV's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFields {
    pub names: String,
    pub types: String,
}

impl Store {
    /// Keeps an object's field types from its describe call: `(field, type)` pairs, the type
    /// as describe names it (`int`, `double`, `datetime`, ...). Replaces what was kept.
    pub fn set_object_fields(
        &self,
        org: &str,
        object: &str,
        types: &[(String, String)],
    ) -> Result<(), StateError> {
        let json = serde_json::to_string(types).unwrap_or_else(|_| "[]".into());
        self.with(|c| {
            c.execute(
                "INSERT INTO object_fields (org, object, types, described_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(org, object) DO UPDATE SET types = excluded.types, described_at = excluded.described_at",
                params![org, object, json, now()],
            )
            .map(|_| ())
        })
    }
}

/// `(field, type)` pairs from `object_fields.types` (a JSON array of pairs, in the
/// describe's order).
pub(super) fn parse_types(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Whether a read failed because the database predates a table or column (a `Reader` never
/// migrates): the answer is then "nothing declared".
pub(super) fn predates(e: &rusqlite::Error) -> bool {
    let m = e.to_string();
    m.contains("no such column") || m.contains("no such table")
}
