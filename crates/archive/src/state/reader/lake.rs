//! What the lake output reads (see `reader`): the field types Salesforce declared for an
//! EventLogFile or an object, and the output's own position, read without changing anything.
//! A database older than the tables or columns asked for answers "nothing declared".

use rusqlite::{params, OptionalExtension};

use super::Reader;
use crate::state::declared::{parse_types, predates};
use crate::state::{ElfFields, StateError};

impl Reader {
    /// An EventLogFile's `LogFileFieldNames` and `LogFileFieldTypes`, as its ledger row keeps
    /// them; `None` when the file is not in the ledger or Salesforce declared nothing.
    pub fn elf_fields(&self, org: &str, file_id: &str) -> Result<Option<ElfFields>, StateError> {
        let got = self
            .conn
            .query_row(
                "SELECT field_names, field_types FROM files WHERE org = ?1 AND file_id = ?2",
                params![org, file_id],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                    ))
                },
            )
            .optional();
        match got {
            Ok(Some((Some(names), Some(types)))) => Ok(Some(ElfFields { names, types })),
            Ok(_) => Ok(None),
            Err(e) if predates(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// An object's `(field, type)` pairs from its last describe call, if one was kept.
    pub fn object_fields(
        &self,
        org: &str,
        object: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateError> {
        let got = self
            .conn
            .query_row(
                "SELECT types FROM object_fields WHERE org = ?1 AND object = ?2",
                params![org, object],
                |r| r.get::<_, String>(0),
            )
            .optional();
        match got {
            Ok(t) => Ok(t.map(|t| parse_types(&t)).filter(|t| !t.is_empty())),
            Err(e) if predates(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// An output's position `(seq, row)`: every event before it is acknowledged. `None`
    /// before its first pass.
    pub fn output_at(&self, org: &str, output: &str) -> Result<Option<(i64, u64)>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, row FROM output_positions WHERE org = ?1 AND output = ?2",
                params![org, output],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()?)
    }
}
