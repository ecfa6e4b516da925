//! `sfevents status`: what each archive holds and how the last runs went, from state.db.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use archive::state::{StateError, Store};
use base::time::parse_sf_datetime;

/// Archives under `dir`: `dir/state.db`, or `dir/<org>/state.db` for several orgs.
pub fn find_archives(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if dir.join("state.db").is_file() {
        out.push(dir.to_path_buf());
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("state.db").is_file())
            .collect();
        subs.sort();
        out.extend(subs);
    }
    out
}

fn human_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        0..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs / 60),
        7200..=172_799 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

fn human_bytes(b: i64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} KB", b / 1e3)
    } else {
        format!("{b} B")
    }
}

/// The report for one archive.
pub fn report(archive: &Path) -> Result<String, StateError> {
    let store = Store::open(&archive.join("state.db"))?;
    let mut s = String::new();
    let org_id = store.meta("org_id")?.unwrap_or_else(|| "?".into());
    for org in store.orgs()? {
        let _ = writeln!(s, "org {org} ({org_id}) — archive {}", archive.display());
        event_types(&mut s, &store, &org)?;
        archive_size(&mut s, &store, &org, archive)?;
        sources(&mut s, &store, &org)?;
        streams(&mut s, &store, &org)?;
        outputs(&mut s, &store, &org, archive)?;
        quarantine(&mut s, &store, &org)?;
        alerts(&mut s, &store, &org, archive)?;
        runs(&mut s, &store, &org)?;
    }
    Ok(s)
}

/// EventLogFile: files, rows and bytes per type, with its cursor and interval.
fn event_types(s: &mut String, store: &Store, org: &str) -> Result<(), StateError> {
    let totals = store.totals_by_type(org)?;
    let cursors = store.cursors(org)?;
    if totals.is_empty() && cursors.is_empty() {
        let _ = writeln!(s, "  nothing collected yet");
    } else {
        let _ = writeln!(
            s,
            "  {:<24} {:>7} {:>10} {:>10}  {:<8} {:<30} newest log date",
            "event type", "files", "rows", "bytes", "interval", "cursor (CreatedDate, Id)"
        );
    }
    let mut types: Vec<String> = totals.iter().map(|t| t.event_type.clone()).collect();
    types.extend(
        cursors
            .iter()
            .filter(|c| c.0 == "EventLogFile")
            .map(|c| c.1.clone()),
    );
    types.sort();
    types.dedup();
    for t in types {
        let tot = totals.iter().find(|x| x.event_type == t);
        let cur = cursors.iter().find(|c| c.0 == "EventLogFile" && c.1 == t);
        let cursor = cur
            .filter(|c| !c.2.position.is_empty())
            .map(|c| format!("{} {}", c.2.position, c.2.last_id))
            .unwrap_or_else(|| "-".into());
        let interval = cur
            .and_then(|c| c.2.extra.clone())
            .unwrap_or_else(|| "-".into());
        let (files, rows, bytes, newest) = tot
            .map(|x| (x.files, x.rows, x.bytes, x.newest_log_date.clone()))
            .unwrap_or((0, 0, 0, "-".into()));
        let _ = writeln!(
            s,
            "  {t:<24} {files:>7} {rows:>10} {:>10}  {interval:<8} {cursor:<30} {newest}",
            human_bytes(bytes)
        );
    }
    Ok(())
}

/// What the archive keeps of the EventLogFiles against the CSV Salesforce served: the raw
/// CSV and the NDJSON still on disk, and their sum per byte served.
fn archive_size(s: &mut String, store: &Store, org: &str, root: &Path) -> Result<(), StateError> {
    let files = store.ledger_sizes(org)?;
    let served: u64 = files.iter().map(|f| f.0).sum();
    if served == 0 {
        return Ok(());
    }
    let size = |p: &str| std::fs::metadata(root.join(p)).map_or(0, |m| m.len());
    let csv: u64 = files.iter().map(|f| size(&f.1)).sum();
    let ndjson: u64 = files.iter().map(|f| size(&f.2)).sum();
    let _ = writeln!(
        s,
        "  archive of EventLogFiles: {} raw CSV + {} NDJSON for {} of CSV served: {:.2} bytes kept per byte served",
        human_bytes(csv as i64),
        human_bytes(ndjson as i64),
        human_bytes(served as i64),
        (csv + ndjson) as f64 / served as f64,
    );
    Ok(())
}

/// Pub/Sub streams: where each stands, as the last `run` saved it (its counters are since
/// that process started).
fn streams(s: &mut String, store: &Store, org: &str) -> Result<(), StateError> {
    use salesforce::sources::streaming::StreamSnapshot;
    let now = chrono::Utc::now();
    let ago = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("never".to_string(), |t| {
            format!("{} ago", human_duration(now - t))
        })
    };
    for (source, key, cur) in store.cursors(org)? {
        let Some(topic) = key.strip_prefix("replay ") else {
            continue;
        };
        let snap = StreamSnapshot::load(store, topic).unwrap_or_default();
        let state = if snap.connected {
            "connected"
        } else {
            "not connected"
        };
        let saved = cur.extra.as_deref().and_then(parse_sf_datetime);
        let _ = writeln!(
            s,
            "  stream {topic} (archived as {source}): {state} as of {}; replay position saved {}, newest event {}",
            ago(snap.at),
            ago(saved),
            if cur.last_id.is_empty() { "-" } else { cur.last_id.as_str() },
        );
        let _ = writeln!(
            s,
            "    {} events received, {} archived, {} reconnects; last event {}, last keepalive {}{}",
            snap.received,
            snap.committed,
            snap.reconnects,
            ago(snap.last_event),
            ago(snap.last_keepalive),
            snap.last_error
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Objects: events archived per source, the newest and how far behind it is.
fn sources(s: &mut String, store: &Store, org: &str) -> Result<(), StateError> {
    let sources = store.source_stats(org)?;
    if sources.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let _ = writeln!(
        s,
        "  {:<24} {:>10}  {:<26} lag",
        "source", "events", "newest event"
    );
    for src in sources {
        let newest = src.newest_event.clone().unwrap_or_else(|| "-".into());
        let lag = src
            .newest_event
            .as_deref()
            .and_then(parse_sf_datetime)
            .map(|t| human_duration(now - t))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "  {:<24} {:>10}  {newest:<26} {lag}",
            src.source, src.events
        );
    }
    Ok(())
}

/// Each output's position, counters, backlog and last error.
fn outputs(s: &mut String, store: &Store, org: &str, archive: &Path) -> Result<(), StateError> {
    let outputs = store.outputs(org)?;
    if outputs.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    // Default names carry the host and port: make room for them.
    let w = outputs
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0)
        .max(24);
    let _ = writeln!(
        s,
        "  {:<w$} {:>12} {:>10} {:>8} {:>8} {:>10} {:>10}  {:<12} last error",
        "output", "position", "delivered", "dead", "repeats", "backlog", "bytes", "oldest wait"
    );
    for (name, p) in outputs {
        let b = store.backlog(org, &p)?;
        let age = b
            .oldest
            .as_deref()
            .filter(|_| b.events > 0)
            .and_then(parse_sf_datetime)
            .map(|t| human_duration(now - t))
            .unwrap_or_else(|| "-".into());
        let err = match (&p.last_error, &p.last_error_at, &p.last_success) {
            // An error older than the last success is history, not the state.
            (Some(e), Some(at), Some(ok)) if at > ok => format!("{e} ({at})"),
            (Some(e), Some(at), None) => format!("{e} ({at})"),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "  {name:<w$} {:>12} {:>10} {:>8} {:>8} {:>10} {:>10}  {age:<12} {err}",
            format!("{}:{}", p.seq, p.row),
            p.delivered,
            p.dead,
            p.repeats,
            b.events,
            human_bytes(b.bytes as i64)
        );
        if p.suppressed + p.skipped > 0 {
            let _ = writeln!(
                s,
                "    alerts not notified: {} suppressed (suppress_minutes), {} skipped (min_level, rules)",
                p.suppressed, p.skipped
            );
        }
        if p.dead > 0 {
            let _ = writeln!(
                s,
                "    dead letters: {}",
                archive.join("dead-letter").join(&name).display()
            );
        }
    }
    Ok(())
}

/// Files that keep failing, retried on every run.
fn quarantine(s: &mut String, store: &Store, org: &str) -> Result<(), StateError> {
    let q = store.quarantined(org)?;
    if q.is_empty() {
        return Ok(());
    }
    let _ = writeln!(
        s,
        "  quarantined files ({}), retried on every run:",
        q.len()
    );
    for f in q {
        let _ = writeln!(
            s,
            "    {} {} ({} attempts): {}",
            f.file_id, f.event_type, f.attempts, f.last_error
        );
    }
    Ok(())
}

/// The live rules: where they stand, and the alerts raised in the last 24 hours per rule.
fn alerts(s: &mut String, store: &Store, org: &str, archive: &Path) -> Result<(), StateError> {
    let Some(p) = store.rule_position(org, archive::state::RULES_CONSUMER)? else {
        return Ok(());
    };
    let behind = store.log_end(org)?.saturating_sub(p.seq);
    let _ = writeln!(
        s,
        "  rules: {} events evaluated, {} alerts raised; {}",
        p.events,
        p.alerts,
        if behind == 0 {
            "caught up".to_string()
        } else {
            format!("{behind} log entries to evaluate")
        }
    );
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(24))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut per_rule: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for e in store.alert_entries_since(org, &day_ago)? {
        let text = std::fs::read_to_string(archive.join(&e.file.path)).unwrap_or_default();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let rule = &v["fields"]["rule"];
            let key = (
                rule["level"].as_str().unwrap_or("?").to_string(),
                rule["name"].as_str().unwrap_or("?").to_string(),
            );
            *per_rule.entry(key).or_default() += 1;
        }
    }
    if !per_rule.is_empty() {
        let _ = writeln!(s, "  alerts raised in the last 24 h:");
    }
    for ((level, name), n) in per_rule {
        let _ = writeln!(s, "    {name:<44} {level:<13} {n:>6}");
    }
    Ok(())
}

/// API calls in the last day, and the last five runs.
fn runs(s: &mut String, store: &Store, org: &str) -> Result<(), StateError> {
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(24))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let _ = writeln!(
        s,
        "  API calls in the last 24 h: {}",
        store.api_calls_since(org, &day_ago)?
    );
    let _ = writeln!(s, "  last runs:");
    for r in store.runs(org, 5)? {
        let _ = writeln!(
            s,
            "    #{} {} {:<8} files {} rows {} {} api calls {}{}{}",
            r.id,
            r.started_at,
            r.status,
            r.files,
            r.rows,
            human_bytes(r.bytes),
            r.api_calls,
            r.api_usage
                .map(|u| format!(" (org usage {u})"))
                .unwrap_or_default(),
            r.message.map(|m| format!(" — {m}")).unwrap_or_default()
        );
    }
    Ok(())
}
