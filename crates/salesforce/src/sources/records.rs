//! What the object sources share: the fields to select (from the describe call), and the
//! page protocol that writes new records as NDJSON and commits them with their ids.
//!
//! A page is written under names recorded first as pending in state.db; the commit that
//! records the page's event ids clears them. A run that dies in between leaves pending files,
//! which the next run deletes before it redoes the page, so a record is never archived twice.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::client::{ApiError, SfClient};
use archive::normalize::{dataset, ids, iso, parse_sf_datetime};
use archive::state::{Cursor, LogFile, PageCommit, Store};
use archive::Archive;

/// Everything an object source needs.
pub struct ObjectCtx {
    pub client: Arc<SfClient>,
    pub store: Arc<Store>,
    pub archive: Arc<Archive>,
    pub org: String,
    pub org_id: String,
    pub run_id: i64,
    /// Numbers the files of this run (shared by copies made with [`ObjectCtx::with_via`]).
    pub seq: Arc<AtomicU64>,
    /// Fields per object from the describe call, kept for the runtime's life.
    pub fields: Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>>,
    /// `[redaction] archive = true`: records are written redacted.
    pub redact: Option<Arc<archive::redact::Redactor>>,
    /// Held from a page's de-duplication to its commit: two paths archiving one object at
    /// once (a stream and the object's poll) must not both find an event new. Shared by
    /// every context of an org.
    pub pages: Arc<std::sync::Mutex<()>>,
    /// How the records came, when not by a REST query: `pubsub` for a stream. Written as the
    /// line's `via`, so `verify` can tell the paths apart; nothing else reads it.
    pub via: Option<&'static str>,
}

/// What one object source did in one run.
#[derive(Debug, Default, Clone)]
pub struct ObjectReport {
    pub events: u64,
    pub pages: u64,
    pub windows: u64,
    /// Nothing is left to read up to now (less the settle delay).
    pub caught_up: bool,
}

fn local(e: impl std::fmt::Display) -> ApiError {
    ApiError::Local(e.to_string())
}

/// Deletes files of pages that were written but never committed.
pub fn recover_pending(store: &Store, archive: &Archive) -> Result<usize, ApiError> {
    let pending = store.pending().map_err(local)?;
    for p in &pending {
        match std::fs::remove_file(archive.root.join(p)) {
            Ok(()) => tracing::info!(file = %p, "removed a file of an interrupted run"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(local(format!("cannot remove {p}: {e}"))),
        }
    }
    store.clear_pending(&pending).map_err(local)?;
    Ok(pending.len())
}

impl ObjectCtx {
    /// Held around [`ObjectCtx::write_page`] and [`ObjectCtx::commit`]: see `pages`.
    pub fn page_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy that writes records marked as delivered `via` another path, with the same
    /// client, archive, state, run and file numbering.
    pub fn with_via(&self, via: &'static str) -> ObjectCtx {
        ObjectCtx {
            client: self.client.clone(),
            store: self.store.clone(),
            archive: self.archive.clone(),
            org: self.org.clone(),
            org_id: self.org_id.clone(),
            run_id: self.run_id,
            seq: self.seq.clone(),
            fields: self.fields.clone(),
            redact: self.redact.clone(),
            pages: self.pages.clone(),
            via: Some(via),
        }
    }

    /// The fields to select, described once per runtime.
    pub async fn fields(
        &self,
        object: &str,
        configured: &Option<Vec<String>>,
    ) -> Result<Vec<String>, ApiError> {
        if let Some(f) = configured {
            return Ok(f.clone());
        }
        if let Some(f) = self.fields.lock().ok().and_then(|m| m.get(object).cloned()) {
            return Ok(f);
        }
        // Kept in state.db for a day, so `collect` from cron does not describe every run. A
        // list kept by a version that did not keep the field types too is described again.
        let meta_key = format!("describe:{object}");
        let cached = self
            .store
            .meta(&meta_key)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_str::<Value>(&v).ok())
            .filter(|v| {
                v["typed"] == Value::Bool(true)
                    && v["at"]
                        .as_str()
                        .and_then(parse_sf_datetime)
                        .is_some_and(|at| Utc::now() - at < chrono::Duration::hours(24))
            })
            .and_then(|v| serde_json::from_value::<Vec<String>>(v["fields"].clone()).ok());
        let f = match cached {
            Some(f) => f,
            None => self.describe(object, &meta_key).await?,
        };
        if let Ok(mut m) = self.fields.lock() {
            m.insert(object.to_string(), f.clone());
        }
        Ok(f)
    }
}

impl ObjectCtx {
    /// Describes `object`: keeps its field list in `meta` (under `meta_key`) and its field
    /// types for the outputs that type columns (`object_fields`), and returns the list.
    async fn describe(&self, object: &str, meta_key: &str) -> Result<Vec<String>, ApiError> {
        let typed = describe_fields(&self.client, object).await?;
        if let Err(e) = self.store.set_object_fields(&self.org, object, &typed) {
            tracing::warn!("cannot keep the field types of {object}: {e}");
        }
        let f: Vec<String> = typed.into_iter().map(|(n, _)| n).collect();
        let v = serde_json::json!({"at": iso(&Utc::now()), "fields": f, "typed": true});
        if let Err(e) = self.store.set_meta(meta_key, &v.to_string()) {
            tracing::warn!("cannot keep the field list of {object}: {e}");
        }
        Ok(f)
    }
}

/// Every field the describe call returns, with its type (compound address/location fields
/// excluded: their parts are selected instead).
async fn describe_fields(
    client: &SfClient,
    object: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let d: Value = client
        .get_json(&format!("{}/sobjects/{object}/describe", client.data_path()), &[])
        .await
        .map_err(|e| match e {
            ApiError::Status { status: 404, .. } => ApiError::Status {
                status: 404,
                code: "NOT_FOUND".into(),
                message: format!(
                    "the org has no object {object}: check the name, and that the user may see it (Event Monitoring licence, View Real-Time Event Monitoring Data)"
                ),
            },
            e => e,
        })?;
    let fields = d["fields"]
        .as_array()
        .ok_or_else(|| ApiError::Protocol(format!("describe {object}: no fields")))?
        .iter()
        .filter(|f| !matches!(f["type"].as_str(), Some("address" | "location" | "base64")))
        .filter_map(|f| {
            let name = f["name"].as_str()?.to_string();
            Some((name, f["type"].as_str().unwrap_or_default().to_string()))
        })
        .collect();
    Ok(fields)
}

/// A datetime literal for SOQL, to the millisecond.
pub fn soql_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One archived object record, written without copying the record.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: &'a str,
    id: &'a str,
    org_id: &'a str,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    fields: &'a Map<String, Value>,
}

/// A new record of a page: its de-duplication key, its `@timestamp`, the record.
type Entry<'a> = (String, String, &'a Map<String, Value>);

/// Keeps the records not yet delivered (nor repeated within the page), and writes them.
/// Returns the commit to make: the caller adds the cursor.
pub struct NewRecords {
    pub seen: Vec<(String, String)>,
    pub files: Vec<LogFile>,
    pub newest: Option<String>,
}

/// The buffers one page's lines are made in, reused from line to line.
struct LineBuf {
    line: Vec<u8>,
    /// The event id: the object's scope, then the record's key.
    id: String,
    scope_len: usize,
    /// The record as written, when the archive is redacted.
    redacted: Map<String, Value>,
}

impl ObjectCtx {
    /// Writes the new records of one page. The values of `key_fields`, joined by `@`, are the
    /// de-duplication key (EventIdentifier; Id; or Id@SystemModstamp for records that change)
    /// and, after the object's scope, the event id (`normalize::ids`); `time_field` gives
    /// `@timestamp`.
    pub fn write_page(
        &self,
        source: &str,
        records: &[Map<String, Value>],
        key_fields: &[&str],
        time_field: &str,
    ) -> Result<NewRecords, ApiError> {
        let by_day = self.new_by_day(source, records, key_fields, time_field)?;
        let mut out = NewRecords {
            seen: Vec::new(),
            files: Vec::new(),
            newest: None,
        };
        if by_day.is_empty() {
            return Ok(out);
        }
        let ds = dataset(source);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let planned: Vec<(String, &Vec<_>)> = by_day
            .iter()
            .map(|(day, recs)| {
                (
                    format!(
                        "events/{ds}/{day}/{source}_r{}_{seq:05}.ndjson",
                        self.run_id
                    ),
                    recs,
                )
            })
            .collect();
        // Pending before anything is written: see the module's documentation.
        let paths: Vec<String> = planned.iter().map(|(p, _)| p.clone()).collect();
        self.store.add_pending(&paths).map_err(local)?;
        let id = ids::object_prefix(&self.org_id, source);
        let mut buf = LineBuf {
            line: Vec::with_capacity(2048),
            scope_len: id.len(),
            id,
            redacted: Map::new(),
        };
        for (path, recs) in planned {
            let mut file = LogFile {
                source: source.to_string(),
                dataset: ds.clone(),
                path,
                rows: recs.len() as u64,
                bytes: 0,
                oldest: None,
                newest: None,
            };
            self.write_file(source, recs, &mut file, &mut buf, &mut out.seen)?;
            if out.newest < file.newest {
                out.newest = file.newest.clone();
            }
            out.files.push(file);
        }
        Ok(out)
    }

    /// The records of a page not yet archived (by the store) nor repeated within the page,
    /// by day of their `@timestamp`.
    fn new_by_day<'r>(
        &self,
        source: &str,
        records: &'r [Map<String, Value>],
        key_fields: &[&str],
        time_field: &str,
    ) -> Result<BTreeMap<String, Vec<Entry<'r>>>, ApiError> {
        let key = |r: &Map<String, Value>| -> Option<String> {
            let parts: Option<Vec<&str>> = key_fields
                .iter()
                .map(|f| r.get(*f).and_then(Value::as_str))
                .collect();
            parts.map(|p| p.join("@"))
        };
        let keys: Vec<Option<String>> = records.iter().map(key).collect();
        let ids: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
        let known = self
            .store
            .seen_among(&self.org, source, &ids)
            .map_err(local)?;
        let mut taken = HashSet::new();
        let mut by_day: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for (r, id) in records.iter().zip(&keys) {
            let Some(id) = id.as_deref() else {
                tracing::warn!(
                    source,
                    "a record without {} was skipped",
                    key_fields.join(", ")
                );
                continue;
            };
            if known.contains(id) || !taken.insert(id.to_string()) {
                continue;
            }
            let t = r
                .get(time_field)
                .and_then(Value::as_str)
                .and_then(parse_sf_datetime)
                .map(|t| iso(&t))
                .unwrap_or_else(|| iso(&Utc::now()));
            by_day
                .entry(t[..10].to_string())
                .or_default()
                .push((id.to_string(), t, r));
        }
        Ok(by_day)
    }

    /// Writes one day's records to `file.path`, adds their bytes and time range to `file`,
    /// and their keys and times to `seen`.
    fn write_file(
        &self,
        source: &str,
        recs: &[Entry],
        file: &mut LogFile,
        buf: &mut LineBuf,
        seen: &mut Vec<(String, String)>,
    ) -> Result<(), ApiError> {
        let mut f = self
            .archive
            .create_file(&self.archive.root.join(&file.path))
            .map_err(local)?;
        for (key, t, r) in recs {
            buf.line.clear();
            buf.id.truncate(buf.scope_len);
            buf.id.push_str(key);
            // The key and time above come from the record as Salesforce gave it; only
            // what is written is redacted.
            let fields = match &self.redact {
                Some(rd) => {
                    buf.redacted.clone_from(r);
                    rd.record(&mut buf.redacted);
                    &buf.redacted
                }
                None => *r,
            };
            let ev = Line {
                timestamp: t,
                id: &buf.id,
                org_id: &self.org_id,
                source,
                via: self.via,
                fields,
            };
            serde_json::to_writer(&mut buf.line, &ev).map_err(local)?;
            buf.line.push(b'\n');
            f.writer().write_all(&buf.line).map_err(local)?;
            file.bytes += buf.line.len() as u64;
            if file.newest.as_deref().is_none_or(|n| t.as_str() > n) {
                file.newest = Some(t.clone());
            }
            if file.oldest.as_deref().is_none_or(|o| t.as_str() < o) {
                file.oldest = Some(t.clone());
            }
            seen.push((key.clone(), t.clone()));
        }
        f.finish().map_err(local)?;
        Ok(())
    }

    /// Commits a written page, with the cursor it moves.
    pub fn commit(
        &self,
        source: &str,
        new: &NewRecords,
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<(), ApiError> {
        self.store
            .commit_page(
                &self.org,
                self.run_id,
                &PageCommit {
                    source,
                    seen: &new.seen,
                    files: &new.files,
                    cursor,
                    newest: new.newest.as_deref(),
                },
            )
            .map_err(local)
    }
}
