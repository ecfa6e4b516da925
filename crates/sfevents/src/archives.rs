//! What the commands that only read archives (`report`, `detect`) share: finding the archives
//! under `--output-dir`/`--config`, and reading a `--since`/`--until` day.

use std::path::{Path, PathBuf};

/// The archives (folders holding `state.db`) under `--output-dir` and the config's output
/// folders; none is a usage error naming where it looked.
pub fn roots(output_dir: Option<&Path>, config: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let dirs = salesforce::config::archive_roots(output_dir, config).map_err(|e| e.to_string())?;
    let mut roots: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| crate::status::find_archives(d))
        .collect();
    roots.dedup();
    if roots.is_empty() {
        return Err(format!(
            "no archive (state.db) under {}. Fix: run `sfevents collect` first, or point --output-dir at the archive",
            dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(roots)
}

/// `2026-11-01` or an RFC 3339 instant, as the day it names.
pub fn day(flag: &str, v: &Option<String>) -> Result<Option<String>, String> {
    let Some(v) = v else { return Ok(None) };
    let d = v.get(..10).unwrap_or(v);
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(|d| Some(d.format("%Y-%m-%d").to_string()))
        .map_err(|_| format!("{flag} '{v}' is not a date. Fix: give a day such as 2026-11-01"))
}
