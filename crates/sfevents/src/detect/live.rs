//! The rules as one more consumer of the delivery log: `collect` runs a pass before it ships,
//! `run` keeps a loop per archive woken by commits. A pass evaluates the log's entries after
//! the rules' position, a chunk at a time; each chunk's alerts become one archive file of the
//! `alert` dataset, committed with the position and the engine's state in one transaction
//! (`Store::commit_rules`), so outputs ship them like any other events, and a crash or SIGKILL
//! at any point neither loses nor repeats an alert: the redo starts from the committed state
//! and writes the same file again.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use archive::state::{LogEntry, LogFile, RuleCommit, Store};
use archive::AtomicFile;
use base::fsmode::Access;
use detections::detector::DetectorState;
use detections::{Alert, Detector, RuleSet};

use super::scan::{feed, ALERT_DATASET};

/// The rules' consumer name in `rule_positions`.
pub use archive::state::RULES_CONSUMER as CONSUMER;
/// Log entries per chunk: one commit (and at most one alerts file) each.
const CHUNK_ENTRIES: usize = 64;

/// What a pass did.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    pub events: u64,
    pub alerts: u64,
    /// Entries whose file could not be read (gone or unreadable): skipped, and logged.
    pub missing: u64,
}

/// Detectors kept between the passes of `run`, per archive and org, with the position their
/// state belongs to: a pass whose position is still that one goes on with it instead of
/// compiling the rules and parsing the committed state again. Another process that moved the
/// position (a `collect` on the same archive) makes the next pass start from the commit.
#[derive(Default)]
pub struct Warm {
    detectors: HashMap<(PathBuf, String), (i64, Detector)>,
}

/// Evaluates everything the log holds past the rules' position, committing chunk by chunk.
pub fn catch_up(
    store: &Store,
    root: &Path,
    org: &str,
    set: &RuleSet,
    warm: &mut Warm,
) -> anyhow::Result<Pass> {
    let _lock = lock(root)?;
    let position = store.rule_position(org, CONSUMER)?.unwrap_or_default();
    let key = (root.to_path_buf(), org.to_string());
    let mut detector = match warm.detectors.remove(&key) {
        Some((seq, detector)) if seq == position.seq => detector,
        _ => restored(set, position.state.as_deref(), org)?,
    };
    let mut pass = Pass::default();
    let mut seq = position.seq;
    let outcome = advance(store, root, org, set, &mut detector, &mut seq, &mut pass);
    // Only a detector whose state was committed may go on; after an error, the next pass
    // starts from the commit.
    if outcome.is_ok() {
        warm.detectors.insert(key, (seq, detector));
    }
    outcome.map(|()| pass)
}

/// A detector for `set` with the committed state, or fresh when it does not fit the rules.
fn restored(set: &RuleSet, state: Option<&str>, org: &str) -> anyhow::Result<Detector> {
    let mut detector = Detector::new(set)?;
    if let Some(state) = state {
        let restored = serde_json::from_str::<DetectorState>(state)
            .ok()
            .is_some_and(|s| detector.restore(s));
        if !restored {
            tracing::warn!(org, "the rules' saved state does not fit these rules; correlations and baselines start afresh from here");
        }
    }
    Ok(detector)
}

/// The chunks past `seq`, each committed with its alerts and the detector's state.
fn advance(
    store: &Store,
    root: &Path,
    org: &str,
    set: &RuleSet,
    detector: &mut Detector,
    seq: &mut i64,
    pass: &mut Pass,
) -> anyhow::Result<()> {
    loop {
        let entries = store.log_from(org, *seq, CHUNK_ENTRIES)?;
        let Some(last) = entries.last() else { break };
        let next_seq = last.seq + 1;
        let (events, alerts) = evaluate(root, &entries, set, detector, pass);
        let file = write_alerts(root, *seq, next_seq, &alerts)?;
        // Tests stop here, between the alert file and its commit, the one place a crash
        // could leave an alert behind twice if the redo did not write the same file.
        if file.is_some() && std::env::var_os("SFEVENTS_TEST_ABORT_BEFORE_RULES_COMMIT").is_some() {
            std::process::abort();
        }
        let state = serde_json::to_string(&detector.state())?;
        store.commit_rules(
            org,
            CONSUMER,
            &RuleCommit {
                next_seq,
                state: &state,
                events,
                alerts: alerts.len() as u64,
                alerts_file: file.as_ref(),
            },
        )?;
        pass.events += events;
        pass.alerts += alerts.len() as u64;
        *seq = next_seq;
    }
    Ok(())
}

/// Runs one chunk's events through the rules, in time order within the reorder bound. Files
/// of datasets no rule reads are passed over unread (the position still moves).
fn evaluate(
    root: &Path,
    entries: &[LogEntry],
    set: &RuleSet,
    detector: &mut Detector,
    pass: &mut Pass,
) -> (u64, Vec<Alert>) {
    let mut alerts = Vec::new();
    let counts = feed(
        root,
        entries,
        |d| set.reads(d),
        |_| true,
        |ev| alerts.extend(detector.process(ev)),
    );
    pass.missing += counts.missing;
    (counts.events, alerts)
}

/// The archive line of an alert: the alert document under `fields`, with its time, id and
/// org beside it as every archive event has them.
pub fn archive_line(a: &Alert) -> serde_json::Result<String> {
    serde_json::to_string(&serde_json::json!({
        "@timestamp": a.timestamp,
        "id": a.id,
        "org_id": a.org_id,
        "source": "sfevents",
        "event_type": "Alert",
        "fields": a,
    }))
}

/// Writes a chunk's alerts to `events/alert/<day>/alerts-<from>-<to>.ndjson`: the name comes
/// from the log entries it covers, so a redo after a crash writes the same file again.
fn write_alerts(
    root: &Path,
    from: i64,
    to: i64,
    alerts: &[Alert],
) -> anyhow::Result<Option<LogFile>> {
    if alerts.is_empty() {
        return Ok(None);
    }
    let day = alerts[0]
        .timestamp
        .get(..10)
        .unwrap_or("unknown")
        .to_string();
    let rel: PathBuf = [
        "events",
        ALERT_DATASET,
        &day,
        &format!("alerts-{from}-{to}.ndjson"),
    ]
    .iter()
    .collect();
    let mut out = AtomicFile::create_with(&root.join(&rel), Access::Owner)?;
    let mut bytes = 0u64;
    for a in alerts {
        let line = archive_line(a)?;
        bytes += line.len() as u64 + 1;
        writeln!(out.writer(), "{line}")?;
    }
    out.finish()?;
    let times = alerts.iter().map(|a| a.timestamp.as_str());
    Ok(Some(LogFile {
        source: "sfevents".into(),
        dataset: ALERT_DATASET.into(),
        path: rel.to_string_lossy().into_owned(),
        rows: alerts.len() as u64,
        bytes,
        oldest: times.clone().min().map(String::from),
        newest: times.max().map(String::from),
    }))
}

/// Holds `<archive>/.rules.lock` while the rules run over that archive.
fn lock(root: &Path) -> anyhow::Result<File> {
    let path = root.join(".rules.lock");
    let f = base::fsmode::create_file(&path, base::fsmode::PRIVATE_FILE)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.lock()
        .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", path.display()))?;
    Ok(f)
}

/// A pass over every org of the archives under `dirs` (what `collect` runs before it ships).
pub fn catch_up_all(dirs: &[PathBuf], set: &RuleSet, warm: &mut Warm) -> anyhow::Result<Pass> {
    let mut total = Pass::default();
    for t in crate::ship::targets(dirs)? {
        let p = catch_up(&t.store, &t.root, &t.ctx.org, set, warm)?;
        total.events += p.events;
        total.alerts += p.alerts;
        total.missing += p.missing;
    }
    Ok(total)
}

/// `run`'s rules for one archive: a pass whenever units commit (and at least every
/// `IDLE`), until `stop`.
pub async fn keep_detecting(
    root: PathBuf,
    set: Arc<RuleSet>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const IDLE: std::time::Duration = std::time::Duration::from_secs(30);
    const GATHER: std::time::Duration = std::time::Duration::from_millis(200);
    let mut commits = archive::state::commits();
    let mut warm = Some(Warm::default());
    loop {
        commits.mark_unchanged();
        if root.join("state.db").is_file() {
            let (r, s) = (root.clone(), set.clone());
            let mut w = warm.take().unwrap_or_default();
            let outcome = tokio::task::spawn_blocking(move || {
                let pass = catch_up_all(&[r], &s, &mut w);
                (pass, w)
            })
            .await
            .map(|(pass, w)| {
                warm = Some(w);
                pass
            });
            match outcome {
                Ok(Ok(p)) if p.alerts > 0 => {
                    tracing::info!(alerts = p.alerts, events = p.events, "rules raised alerts")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("rules: {e:#}"),
                Err(e) => tracing::warn!("rules: {e}"),
            }
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = commits.changed() => tokio::time::sleep(GATHER).await,
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
