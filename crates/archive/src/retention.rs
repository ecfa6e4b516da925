//! Archive retention (`archive_keep_days`, `csv_keep_days`): removes NDJSON files older than
//! the limit once every output known to the archive has delivered them, and raw CSV files
//! older than theirs. A file some output still needs is never removed; removed files are
//! marked in the delivery log so outputs skip them.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::normalize::iso;
use crate::state::{StateError, Store};

/// What one pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub ndjson_files: u64,
    pub csv_files: u64,
}

/// Why a retention pass stopped (what it removed before stays removed and marked).
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
}

fn remove(path: &Path) -> Result<bool, RetentionError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(RetentionError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub fn prune(
    store: &Store,
    root: &Path,
    org: &str,
    ndjson_days: Option<u32>,
    csv_days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Pruned, RetentionError> {
    let mut out = Pruned::default();
    if let Some(days) = ndjson_days {
        let before = iso(&(now - Duration::days(i64::from(days))));
        for e in store.prunable(org, &before)? {
            if remove(&root.join(&e.file.path))? {
                out.ndjson_files += 1;
            }
            store.mark_pruned(e.seq)?;
        }
    }
    if let Some(days) = csv_days {
        let before = iso(&(now - Duration::days(i64::from(days))));
        for p in store.csv_files_before(org, &before)? {
            if remove(&root.join(&p))? {
                out.csv_files += 1;
            }
        }
    }
    if out != Pruned::default() {
        tracing::info!(
            ndjson_files = out.ndjson_files,
            csv_files = out.csv_files,
            "archive retention removed old files"
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Advance, LogFile, PageCommit, Start};

    #[test]
    fn removes_only_old_files_that_every_output_has_delivered() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::open(&d.path().join("state.db")).unwrap();
        for name in ["a", "b"] {
            let path = format!("events/x/{name}.ndjson");
            std::fs::create_dir_all(d.path().join("events/x")).unwrap();
            std::fs::write(d.path().join(&path), "{}\n").unwrap();
            let f = LogFile {
                source: "LoginEvent".into(),
                dataset: "login_event".into(),
                path,
                rows: 1,
                bytes: 3,
                oldest: None,
                newest: None,
            };
            store
                .commit_page(
                    "o",
                    1,
                    &PageCommit {
                        source: "LoginEvent",
                        seen: &[],
                        files: std::slice::from_ref(&f),
                        cursor: None,
                        newest: None,
                    },
                )
                .unwrap();
        }
        let entries = store.log_from("o", 0, 10).unwrap();
        // One output has delivered the first file only; another has everything.
        for (name, seq) in [("es", entries[1].seq), ("all", entries[1].seq + 1)] {
            store.position("o", name, Start::Beginning).unwrap();
            store
                .advance(
                    "o",
                    name,
                    &Advance {
                        seq,
                        ..Advance::default()
                    },
                )
                .unwrap();
        }
        let later = Utc::now() + Duration::days(3);
        // Not old enough: nothing goes.
        let p = prune(&store, d.path(), "o", Some(5), None, later).unwrap();
        assert_eq!(p, Pruned::default());
        let p = prune(&store, d.path(), "o", Some(1), None, later).unwrap();
        assert_eq!(p.ndjson_files, 1);
        assert!(!d.path().join("events/x/a.ndjson").exists());
        assert!(
            d.path().join("events/x/b.ndjson").exists(),
            "es still needs it"
        );
        // Outputs skip what was pruned.
        assert_eq!(store.log_from("o", 0, 10).unwrap().len(), 1);
        let p = prune(&store, d.path(), "o", Some(1), None, later).unwrap();
        assert_eq!(p, Pruned::default());
    }
}
