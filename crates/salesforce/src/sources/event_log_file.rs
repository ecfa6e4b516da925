//! EventLogFile: list files by `(CreatedDate, Id)` with a look-back, skip those in the ledger,
//! choose daily or hourly per event type (never both), and turn each file into the raw CSV
//! and NDJSON in the archive.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::elf_listing::{listing_soql, query_tolerant, Select};
use crate::client::query::quote;
use crate::client::{ApiError, SfClient};
use crate::config::{ElfConfig, IntervalChoice};
use archive::normalize::{
    self, convert_csv, dataset, parse_sf_datetime, ConvertError, ElfProvenance,
};
use archive::redact::{RedactingWriter, Redactor};
use archive::state::{Cursor, ElfFields, Store};
use archive::{Archive, AtomicFile};

pub const SOURCE: &str = "EventLogFile";

/// One EventLogFile to collect.
#[derive(Debug, Clone)]
pub struct ElfFile {
    pub id: String,
    pub event_type: String,
    pub log_date: DateTime<Utc>,
    pub hourly: bool,
    pub interval: String,
    pub sequence: i64,
    /// As Salesforce wrote it, for the cursor.
    pub created_raw: String,
    pub created: DateTime<Utc>,
    pub length: Option<u64>,
    pub path: String,
    /// Its `LogFileFieldNames` and `LogFileFieldTypes`, when the org gives both.
    pub fields: Option<ElfFields>,
}

fn str_field<'a>(r: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    r.get(k).and_then(Value::as_str)
}

impl ElfFile {
    fn from_record(r: &Map<String, Value>, api_path: &str) -> Result<ElfFile, ApiError> {
        let bad = |what: &str| {
            ApiError::Protocol(format!("EventLogFile record without a valid {what}: {r:?}"))
        };
        let id = str_field(r, "Id").ok_or_else(|| bad("Id"))?.to_string();
        let created_raw = str_field(r, "CreatedDate")
            .ok_or_else(|| bad("CreatedDate"))?
            .to_string();
        let created = parse_sf_datetime(&created_raw).ok_or_else(|| bad("CreatedDate"))?;
        let log_date = str_field(r, "LogDate")
            .and_then(parse_sf_datetime)
            .ok_or_else(|| bad("LogDate"))?;
        let sequence = r.get("Sequence").and_then(Value::as_f64).unwrap_or(0.0) as i64;
        // Orgs without hourly files may not have Interval; Sequence 0 means daily.
        let interval = str_field(r, "Interval")
            .map(str::to_string)
            .unwrap_or_else(|| if sequence == 0 { "Daily" } else { "Hourly" }.to_string());
        let path = str_field(r, "LogFile")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{api_path}/sobjects/EventLogFile/{id}/LogFile"));
        Ok(ElfFile {
            event_type: str_field(r, "EventType")
                .ok_or_else(|| bad("EventType"))?
                .to_string(),
            hourly: interval.eq_ignore_ascii_case("Hourly"),
            interval,
            sequence,
            length: r
                .get("LogFileLength")
                .and_then(Value::as_f64)
                .map(|f| f as u64),
            id,
            created_raw,
            created,
            log_date,
            path,
            fields: declared_fields(r),
        })
    }
}

/// `LogFileFieldNames` and `LogFileFieldTypes`, when both are there and not empty (both are
/// nillable, and an org may refuse them).
fn declared_fields(r: &Map<String, Value>) -> Option<ElfFields> {
    let names = str_field(r, "LogFileFieldNames").filter(|s| !s.trim().is_empty())?;
    let types = str_field(r, "LogFileFieldTypes").filter(|s| !s.trim().is_empty())?;
    Some(ElfFields {
        names: names.to_string(),
        types: types.to_string(),
    })
}

/// What one run will do.
pub struct Plan {
    /// Files to collect, in (CreatedDate, Id) order.
    pub units: Vec<ElfFile>,
    pub tracker: CursorTracker,
    /// Quarantined files Salesforce no longer has.
    pub gone: Vec<String>,
    /// Files listed (all types and intervals), for the log.
    pub listed: usize,
}

fn interval_key(hourly: bool) -> &'static str {
    if hourly {
        "Hourly"
    } else {
        "Daily"
    }
}

/// Where a listing starts: the oldest cursor of the selected types less the look-back, or
/// the backfill window when a selected type has never been collected (`None`: everything
/// Salesforce keeps). Also returns that oldest cursor. `verify` asks the same question to
/// tell files the next collect takes from files it never will.
pub fn lower_bound(
    cfg: &ElfConfig,
    cursors: &HashMap<String, Cursor>,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let positions = |types: &mut dyn Iterator<Item = &String>| -> Option<Vec<DateTime<Utc>>> {
        types
            .map(|t| cursors.get(t).and_then(|c| parse_sf_datetime(&c.position)))
            .collect()
    };
    let known = if cfg.event_types.is_empty() {
        if cursors.is_empty() {
            None
        } else {
            positions(&mut cursors.keys())
        }
    } else {
        positions(&mut cfg.event_types.iter())
    };
    match known.and_then(|v| v.into_iter().min()) {
        Some(oldest) => (
            Some(oldest - Duration::hours(i64::from(cfg.lookback_hours))),
            Some(oldest),
        ),
        None => (
            cfg.backfill_days
                .map(|d| now - Duration::days(i64::from(d))),
            None,
        ),
    }
}

fn state_err(e: archive::state::StateError) -> ApiError {
    ApiError::Protocol(e.to_string())
}

/// Lists what is new and builds the plan.
pub async fn plan(
    client: &SfClient,
    cfg: &ElfConfig,
    store: &Store,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Plan, ApiError> {
    let mut cursors: HashMap<String, Cursor> = store
        .cursors(org)
        .map_err(state_err)?
        .into_iter()
        .filter(|(s, _, _)| s == SOURCE)
        .map(|(_, k, c)| (k, c))
        .collect();
    let (lower, _) = lower_bound(cfg, &cursors, now);
    let (mut files, select) = list(client, cfg, lower).await?;
    let listed = files.len();
    let chosen = choose_intervals(cfg, &files, &mut cursors, store, org)?;
    files.retain(|f| chosen.get(&f.event_type) == Some(&f.hourly));

    let delivered = store.delivered_ids(org).map_err(state_err)?;
    let mut tracker = CursorTracker::default();
    for (t, c) in &cursors {
        tracker.floor(t, c);
    }
    for f in &files {
        tracker.add(f, delivered.contains(&f.id));
    }
    let mut units: Vec<ElfFile> = files
        .into_iter()
        .filter(|f| !delivered.contains(&f.id))
        .collect();
    let select = Select {
        interval: false,
        ..select
    };
    let gone = add_quarantined(client, store, org, select, &delivered, &mut units).await?;
    Ok(Plan {
        units,
        tracker,
        gone,
        listed,
    })
}

/// The files created since `lower` (all intervals), in (CreatedDate, Id) order, and the
/// optional fields the org let the listing select.
async fn list(
    client: &SfClient,
    cfg: &ElfConfig,
    lower: Option<DateTime<Utc>>,
) -> Result<(Vec<ElfFile>, Select), ApiError> {
    let (records, select) =
        query_tolerant(client, Select::ALL, |s| listing_soql(cfg, lower, s)).await?;
    let api_path = client.data_path();
    let files = records
        .iter()
        .map(|r| ElfFile::from_record(r, &api_path))
        .collect::<Result<_, _>>()?;
    Ok((files, select))
}

/// Daily or hourly per type, chosen once and kept in the type's cursor: `auto` takes hourly
/// where the listing has hourly files. Returns, per type, whether it is hourly.
fn choose_intervals(
    cfg: &ElfConfig,
    files: &[ElfFile],
    cursors: &mut HashMap<String, Cursor>,
    store: &Store,
    org: &str,
) -> Result<HashMap<String, bool>, ApiError> {
    let has_hourly: HashSet<&str> = files
        .iter()
        .filter(|f| f.hourly)
        .map(|f| f.event_type.as_str())
        .collect();
    let mut types: Vec<String> = files.iter().map(|f| f.event_type.clone()).collect();
    types.extend(cfg.event_types.iter().cloned());
    types.sort();
    types.dedup();
    let mut chosen: HashMap<String, bool> = HashMap::new();
    for t in types {
        let hourly = match cfg.interval {
            IntervalChoice::Daily => false,
            IntervalChoice::Hourly => true,
            IntervalChoice::Auto => match cursors.get(&t).and_then(|c| c.extra.clone()) {
                Some(x) => x == "Hourly",
                None => has_hourly.contains(t.as_str()),
            },
        };
        let want = interval_key(hourly);
        let entry = cursors.entry(t.clone()).or_insert_with(|| Cursor {
            position: String::new(),
            last_id: String::new(),
            extra: None,
        });
        if entry.extra.as_deref() != Some(want) {
            if entry.extra.is_some() {
                tracing::warn!(event_type = %t, "interval changed to {want}; files of the other interval are no longer collected");
            }
            entry.extra = Some(want.to_string());
            store
                .set_cursor(org, SOURCE, &t, entry)
                .map_err(state_err)?;
        }
        chosen.insert(t, hourly);
    }
    Ok(chosen)
}

/// Quarantined files outside this listing are asked for by id and added to `units`, to be
/// tried again. Returns those Salesforce no longer has.
async fn add_quarantined(
    client: &SfClient,
    store: &Store,
    org: &str,
    select: Select,
    delivered: &HashSet<String>,
    units: &mut Vec<ElfFile>,
) -> Result<Vec<String>, ApiError> {
    let listed_ids: HashSet<&str> = units.iter().map(|u| u.id.as_str()).collect();
    let retry: Vec<String> = store
        .quarantined(org)
        .map_err(state_err)?
        .into_iter()
        .filter(|q| !listed_ids.contains(q.file_id.as_str()) && !delivered.contains(&q.file_id))
        .map(|q| q.file_id)
        .collect();
    let api_path = client.data_path();
    let mut gone = Vec::new();
    for chunk in retry.chunks(200) {
        let ids: Vec<String> = chunk.iter().map(|i| quote(i)).collect();
        let soql = format!(
            "SELECT {} FROM EventLogFile WHERE Id IN ({})",
            select.fields(),
            ids.join(", ")
        );
        let found = client.query_all(&soql).await?;
        let found: Vec<ElfFile> = found
            .iter()
            .map(|r| ElfFile::from_record(r, &api_path))
            .collect::<Result<_, _>>()?;
        let ids_found: HashSet<&str> = found.iter().map(|f| f.id.as_str()).collect();
        gone.extend(
            chunk
                .iter()
                .filter(|i| !ids_found.contains(i.as_str()))
                .cloned(),
        );
        units.extend(found);
    }
    Ok(gone)
}

/// Tracks, per event type, the files of this listing in cursor order, and moves the cursor
/// over each leading stretch of files that are settled (delivered or quarantined). A file that
/// is neither holds the cursor back, so nothing behind it is ever skipped.
#[derive(Default)]
pub struct CursorTracker {
    per_type: BTreeMap<String, TypeTrack>,
}

#[derive(Default)]
struct TypeTrack {
    hourly: bool,
    files: Vec<(String, String, bool)>, // (created_raw, id, settled)
    frontier: usize,
    /// The stored cursor: a cursor at or behind it is never written back.
    floor: Option<(DateTime<Utc>, String)>,
}

impl CursorTracker {
    /// The stored cursor of a type.
    fn floor(&mut self, event_type: &str, c: &Cursor) {
        let t = self.per_type.entry(event_type.to_string()).or_default();
        t.floor = parse_sf_datetime(&c.position).map(|p| (p, c.last_id.clone()));
    }

    fn add(&mut self, f: &ElfFile, settled: bool) {
        let t = self.per_type.entry(f.event_type.clone()).or_default();
        t.hourly = f.hourly;
        t.files.push((f.created_raw.clone(), f.id.clone(), settled));
    }

    /// Marks a file settled; returns the new cursor of its type if it moved.
    pub fn settle(&mut self, event_type: &str, id: &str) -> Option<Cursor> {
        let t = self.per_type.get_mut(event_type)?;
        if let Some(e) = t.files.iter_mut().find(|e| e.1 == id) {
            e.2 = true;
        }
        t.advance()
    }

    /// Cursors that can move already (files delivered by an interrupted run).
    pub fn initial(&mut self) -> Vec<(String, Cursor)> {
        self.per_type
            .iter_mut()
            .filter_map(|(k, t)| t.advance().map(|c| (k.clone(), c)))
            .collect()
    }
}

impl TypeTrack {
    fn advance(&mut self) -> Option<Cursor> {
        let start = self.frontier;
        while self.frontier < self.files.len() && self.files[self.frontier].2 {
            self.frontier += 1;
        }
        if self.frontier == start {
            return None;
        }
        let (created, id, _) = &self.files[self.frontier - 1];
        let here = (parse_sf_datetime(created)?, id.clone());
        if self.floor.as_ref().is_some_and(|f| here <= *f) {
            return None;
        }
        self.floor = Some(here);
        Some(Cursor {
            position: created.clone(),
            last_id: id.clone(),
            extra: Some(interval_key(self.hourly).to_string()),
        })
    }
}

/// What processing a downloaded file produced.
pub struct Processed {
    /// Rows, NDJSON bytes, and the oldest and newest `@timestamp` of the file's rows.
    pub converted: normalize::Converted,
    pub csv_path: PathBuf,
    pub ndjson_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("file {file} is not valid CSV: {message}")]
    Csv { file: String, message: String },
    #[error("cannot write the archive: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a CSV body by header name and writes one NDJSON line per row to `out`. Blocking.
pub fn convert(
    f: &ElfFile,
    org_id: &str,
    input: impl std::io::Read,
    out: &mut impl std::io::Write,
) -> Result<normalize::Converted, ProcessError> {
    let prov = ElfProvenance {
        org_id: org_id.to_string(),
        event_type: f.event_type.clone(),
        file_id: f.id.clone(),
        log_date: f.log_date,
        interval: f.interval.clone(),
        sequence: f.sequence,
    };
    match convert_csv(input, &prov, out) {
        Ok(c) => Ok(c),
        Err(ConvertError::Io(e)) => Err(e.into()),
        Err(ConvertError::Csv(e)) => Err(ProcessError::Csv {
            file: f.id.clone(),
            message: e.to_string(),
        }),
    }
}

/// A file's NDJSON, written under a temporary name: [`install`] puts it in place.
pub struct Converted {
    pub converted: normalize::Converted,
    ndjson: AtomicFile,
}

/// Converts a CSV body (as it downloads, or from a file) into the file's NDJSON, not yet in
/// place; with `redact` (`[redaction] archive = true`), each line is redacted as it is
/// written. Blocking.
pub fn convert_body(
    archive: &Archive,
    f: &ElfFile,
    org_id: &str,
    redact: Option<&Redactor>,
    body: impl std::io::Read,
) -> Result<Converted, ProcessError> {
    let ndjson_path = archive.elf_events_path(&dataset(&f.event_type), &f.log_date, &f.id);
    let mut ndjson = archive.create_file(&ndjson_path)?;
    let converted = if archive::lines::is_compressed(&ndjson_path) {
        let mut framed = archive::lines::FramedWriter::new(ndjson.writer())?;
        let c = convert_redacted(f, org_id, redact, body, &mut framed)?;
        framed.finish()?;
        c
    } else {
        convert_redacted(f, org_id, redact, body, ndjson.writer())?
    };
    Ok(Converted { converted, ndjson })
}

/// [`convert`], through the redaction of `[redaction] archive = true` when it is on.
fn convert_redacted(
    f: &ElfFile,
    org_id: &str,
    redact: Option<&Redactor>,
    body: impl std::io::Read,
    out: &mut impl std::io::Write,
) -> Result<normalize::Converted, ProcessError> {
    Ok(match redact {
        None => convert(f, org_id, body, out)?,
        // Behind the converter rather than inside it: the fast path stays as it is, and only
        // archives that ask for redaction pay for parsing each line again.
        Some(r) => {
            let mut w = RedactingWriter::new(out, r);
            let mut c = convert(f, org_id, body, &mut w)?;
            c.bytes = w.finish()?;
            c
        }
    })
}

/// Puts a converted file's NDJSON and its spooled raw CSV in place. Blocking.
pub fn install(
    archive: &Archive,
    f: &ElfFile,
    converted: Converted,
    spool: &Path,
) -> Result<Processed, ProcessError> {
    let ndjson_path = converted.ndjson.finish()?;
    remove_other_form(&ndjson_path)?;
    let csv_path = archive.csv_path(&f.event_type, &f.log_date, f.hourly, &f.id);
    archive.install(spool, &csv_path)?;
    Ok(Processed {
        converted: converted.converted,
        csv_path,
        ndjson_path,
    })
}

/// Removes the file's NDJSON in the other form (plain beside `.zst`, or the reverse): a unit
/// redone after `archive_compression` changed (or after an upgrade that changed its default)
/// replaces its events rather than leaving a second copy. The unit is not committed yet, so
/// the old file is nobody's until this one is.
fn remove_other_form(written: &Path) -> std::io::Result<()> {
    let name = written.as_os_str().to_string_lossy();
    let other = match name.strip_suffix(archive::lines::ZSTD_SUFFIX) {
        Some(plain) => PathBuf::from(plain),
        None => PathBuf::from(format!("{name}{}", archive::lines::ZSTD_SUFFIX)),
    };
    match std::fs::remove_file(&other) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Converts a spooled CSV into NDJSON, then moves both into the archive, without redaction.
/// Blocking.
///
/// Collection does not call this. It runs [`convert_body`] on the download's
/// [`Body`](crate::client::download::Body) while the file arrives (the body is spooled and
/// hashed as it is read), then [`install`] once the download is whole and of the right
/// length. This is those two steps over a file already spooled; only the normalize bench
/// calls it.
pub fn process(
    archive: &Archive,
    f: &ElfFile,
    org_id: &str,
    spool: &Path,
) -> Result<Processed, ProcessError> {
    let body = std::fs::File::open(spool)?;
    let converted = convert_body(archive, f, org_id, None, body)?;
    install(archive, f, converted, spool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(t: &str, created: &str, id: &str) -> ElfFile {
        ElfFile {
            id: id.into(),
            event_type: t.into(),
            log_date: Utc::now(),
            hourly: false,
            interval: "Daily".into(),
            sequence: 0,
            created_raw: created.into(),
            created: Utc::now(),
            length: None,
            path: String::new(),
            fields: None,
        }
    }

    #[test]
    fn a_redone_file_leaves_no_copy_in_the_other_form() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("f.ndjson");
        let packed = dir.path().join("f.ndjson.zst");
        for (written, other) in [(&packed, &plain), (&plain, &packed)] {
            std::fs::write(written, "new").unwrap();
            std::fs::write(other, "old").unwrap();
            remove_other_form(written).unwrap();
            assert!(written.exists() && !other.exists());
        }
        remove_other_form(&plain).unwrap();
    }

    #[test]
    fn cursor_waits_for_the_oldest_unsettled_file() {
        let mut t = CursorTracker::default();
        t.add(&file("Login", "2024-01-01T00:00:00.000+0000", "A"), true);
        t.add(&file("Login", "2024-01-02T00:00:00.000+0000", "B"), false);
        t.add(&file("Login", "2024-01-02T00:00:00.000+0000", "C"), false);
        t.add(&file("URI", "2024-01-01T00:00:00.000+0000", "D"), false);
        assert_eq!(t.initial().len(), 1);
        assert_eq!(t.settle("Login", "C"), None, "B still holds the cursor");
        let c = t.settle("Login", "B").unwrap();
        assert_eq!(
            (c.position.as_str(), c.last_id.as_str()),
            ("2024-01-02T00:00:00.000+0000", "C")
        );
        assert_eq!(t.settle("URI", "D").unwrap().last_id, "D");
    }

    #[test]
    fn cursor_never_moves_back() {
        let mut t = CursorTracker::default();
        let stored = Cursor {
            position: "2024-01-02T00:00:00.000+0000".into(),
            last_id: "B".into(),
            extra: None,
        };
        t.floor("Login", &stored);
        t.add(&file("Login", "2024-01-01T00:00:00.000+0000", "A"), true);
        t.add(&file("Login", "2024-01-02T00:00:00.000+0000", "B"), true);
        t.add(&file("Login", "2024-01-03T00:00:00.000+0000", "C"), false);
        assert!(
            t.initial().is_empty(),
            "A and B are not ahead of the stored cursor"
        );
        assert_eq!(t.settle("Login", "C").unwrap().last_id, "C");
    }
}
