//! A read-only door into `state.db`, for the commands that only look: `report`, `verify` and
//! `doctor`, and the lake output's declared column types. It opens the database read-only
//! (it never creates or migrates one, and never holds a write lock a running collector would
//! wait on); its queries live beside it, one file per reader (`reports.rs`, `verify.rs`,
//! `doctor.rs`, `lake.rs`), so every SQL statement of the project stays in this `state` module.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StateError;

mod detect;
mod doctor;
mod lake;
mod reports;
mod verify;

pub use verify::{LedgerFile, LedgerNdjson, LoggedNdjson};

pub struct Reader {
    conn: Connection,
    path: PathBuf,
}

impl Reader {
    /// Opens `db` read-only; a missing file is an error (`StateError::Open`), never created.
    pub fn open(db: &Path) -> Result<Reader, StateError> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StateError::Open {
            path: db.display().to_string(),
            source,
        })?;
        // A collector may be committing: wait for its transaction rather than fail.
        conn.busy_timeout(Duration::from_secs(30))?;
        Ok(Reader {
            conn,
            path: db.to_path_buf(),
        })
    }

    /// The database file this reader has open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `meta` values (schema version, org id) by key.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }
}
