//! What the archive's `state.db` says of one org, read through [`archive::state::Reader`]
//! (read-only; its queries live in the `state` module): verify never changes the ledger,
//! cursors or the delivery log (the one row it writes, in `runs`, goes through
//! [`archive::state::Store`] once every check is done). Here the reader's rows are put
//! together the way the checks use them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use archive::state::{Cursor, Reader};
pub use archive::state::{LedgerFile, Quarantined};

use super::error::VerifyError;

/// One NDJSON file the state knows, from the ledgers and the delivery log.
#[derive(Debug, Clone, Default)]
pub struct KnownNdjson {
    /// `EventLogFile` or the object's name.
    pub source: String,
    /// Rows by `files` or `object_files`; `None` when neither ledger lists it.
    pub ledger_rows: Option<u64>,
    /// Rows by the delivery log, if it lists the file.
    pub log_rows: Option<u64>,
    /// Removed by retention (`archive_keep_days`): its absence is expected.
    pub pruned: bool,
}

/// What state.db says one org's archive holds (its ledgers and the delivery log), read-only:
/// the inventory verify holds the disk and Salesforce against.
pub struct Inventory {
    reader: Reader,
    pub org: String,
}

/// Opens `state.db` read-only; `None` when it does not exist (the reader would refuse it too,
/// but a missing archive is a configuration error with its own message).
pub fn open(db: &Path, org: &str) -> Result<Option<Inventory>, VerifyError> {
    if !db.exists() {
        return Ok(None);
    }
    let reader = Reader::open(db).map_err(|source| VerifyError::Open {
        path: db.to_path_buf(),
        source,
    })?;
    Ok(Some(Inventory {
        reader,
        org: org.to_string(),
    }))
}

impl Inventory {
    pub fn meta(&self, key: &str) -> Result<Option<String>, VerifyError> {
        Ok(self.reader.meta(key)?)
    }

    /// Every delivered EventLogFile with a LogDate on or after `since` (all without).
    pub fn files(&self, since: Option<&str>) -> Result<Vec<LedgerFile>, VerifyError> {
        Ok(self.reader.ledger_files(&self.org, since)?)
    }

    /// Every raw CSV path of the ledger (whatever its date), to tell a stray file.
    pub fn csv_paths(&self) -> Result<HashSet<String>, VerifyError> {
        Ok(self.reader.ledger_csv_paths(&self.org)?)
    }

    pub fn quarantined(&self) -> Result<Vec<Quarantined>, VerifyError> {
        Ok(self.reader.quarantined_files(&self.org)?)
    }

    /// The cursors of one source, by key.
    pub fn cursors(&self, source: &str) -> Result<HashMap<String, Cursor>, VerifyError> {
        Ok(self.reader.source_cursors(&self.org, source)?)
    }

    /// Every NDJSON file the state knows, by archive-relative path: the ledgers' rows, then
    /// the delivery log's (which names the source only of a file no ledger lists).
    pub fn ndjson_files(&self) -> Result<HashMap<String, KnownNdjson>, VerifyError> {
        let mut out: HashMap<String, KnownNdjson> = HashMap::new();
        for f in self.reader.ledger_ndjson(&self.org)? {
            let e = out.entry(f.path).or_default();
            // The `files` ledger holds EventLogFiles only, and names no source.
            e.source = f
                .source
                .unwrap_or_else(|| salesforce::sources::event_log_file::SOURCE.to_string());
            e.ledger_rows = Some(f.rows);
        }
        for f in self.reader.logged_ndjson(&self.org)? {
            let e = out.entry(f.path).or_default();
            if e.source.is_empty() {
                e.source = f.source;
            }
            e.log_rows = Some(f.rows);
            e.pruned |= f.pruned;
        }
        Ok(out)
    }

    /// Files being written by a collection in progress (or an interrupted one, removed by the
    /// next run): not strays.
    pub fn pending(&self) -> Result<HashSet<String>, VerifyError> {
        Ok(self.reader.pending_paths()?)
    }

    /// The archive-relative NDJSON paths of one object source that are not pruned, with
    /// their rows by the ledger.
    pub fn object_files(&self, source: &str) -> Result<Vec<(String, u64)>, VerifyError> {
        Ok(self.reader.unpruned_object_files(&self.org, source)?)
    }

    /// The archive-relative NDJSON paths of one object source that are not pruned.
    pub fn object_paths(&self, source: &str) -> Result<Vec<String>, VerifyError> {
        Ok(self
            .object_files(source)?
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    /// Which of `keys` the collector holds as delivered for `source` (its de-duplication
    /// set): a record it holds is never taken again.
    pub fn seen_among<'a>(
        &self,
        source: &str,
        keys: impl Iterator<Item = &'a str>,
    ) -> Result<HashSet<String>, VerifyError> {
        Ok(self.reader.seen_among(&self.org, source, keys)?)
    }
}
