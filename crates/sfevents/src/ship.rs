//! Shipping archives to outputs: `ship` (deliver what is pending, then exit), the end of
//! `collect`, `run`'s shippers, and `replay`. Each (archive, output) pair ships under its own
//! lock file, so two processes never move one position.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use archive::state::{LogEntry, Store};
use outputs::shipper::RetryLimit;
use outputs::{self, OrgContext, OutputConfig, ShipReport, Shipper};

/// One org's archive, as outputs see it.
pub struct Target {
    pub root: PathBuf,
    pub store: Arc<Store>,
    pub ctx: OrgContext,
}

/// The archives under `dirs` (each `state.db`, or one per org below).
pub fn targets(dirs: &[PathBuf]) -> anyhow::Result<Vec<Target>> {
    let mut roots: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| crate::status::find_archives(d))
        .collect();
    roots.dedup();
    if roots.is_empty() {
        anyhow::bail!(
            "no state.db under {}: run `sfevents collect` first",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut out = Vec::new();
    for root in roots {
        out.extend(targets_in(&root)?);
    }
    Ok(out)
}

/// The orgs of one archive.
pub fn targets_in(root: &Path) -> anyhow::Result<Vec<Target>> {
    let store = Arc::new(Store::open(&root.join("state.db"))?);
    let instance_url = store.meta("instance_url")?.unwrap_or_default();
    Ok(store
        .orgs()?
        .into_iter()
        .map(|org| Target {
            root: root.to_path_buf(),
            store: store.clone(),
            ctx: OrgContext {
                org,
                instance_url: instance_url.clone(),
                state: Some(root.join("state.db")),
            },
        })
        .collect())
}

/// Holds `<archive>/.output-<name>.lock` while an output ships that archive.
fn lock(root: &Path, output: &str) -> anyhow::Result<File> {
    let path = root.join(format!(".output-{output}.lock"));
    let f = base::fsmode::create_file(&path, base::fsmode::PRIVATE_FILE)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.try_lock().map_err(|_| {
        anyhow::anyhow!(
            "another sfevents is shipping {} to output '{output}': wait for it to finish",
            root.display()
        )
    })?;
    Ok(f)
}

fn shipper(
    t: &Target,
    o: &OutputConfig,
    retry: RetryLimit,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Shipper> {
    let sink = outputs::sink(o, &t.ctx)?;
    Ok(Shipper::new(
        &o.name,
        Arc::from(sink),
        t.store.clone(),
        t.root.clone(),
        &t.ctx.org,
        o.batch.clone(),
        retry,
        stop,
    )
    .redacting(o.redaction.clone())
    .notifying(o.routing())
    .lingering(o.linger()))
}

fn failed(o: &OutputConfig, why: impl ToString) -> ShipReport {
    ShipReport::failed(&o.name, outputs::ErrorKind::Start, why.to_string())
}

/// Delivers what is pending in one archive to one output.
pub async fn ship_one(
    t: &Target,
    o: &OutputConfig,
    retry: RetryLimit,
    stop: Arc<AtomicBool>,
) -> ShipReport {
    let _lock = match lock(&t.root, &o.name) {
        Ok(l) => l,
        Err(e) => return failed(o, e),
    };
    match shipper(t, o, retry, stop) {
        Ok(s) => s.ship(o.start).await,
        Err(e) => failed(o, e),
    }
}

/// Sends again the events of one archive that fall in `[since, until)` and `datasets`.
pub async fn replay_one(
    t: &Target,
    o: &OutputConfig,
    since: Option<&str>,
    until: Option<&str>,
    datasets: &[String],
) -> ShipReport {
    let entries: Vec<LogEntry> = match t.store.log_select(&t.ctx.org, since, until, datasets) {
        Ok(e) => e,
        Err(e) => return failed(o, e),
    };
    match shipper(
        t,
        o,
        RetryLimit::bounded(8),
        Arc::new(AtomicBool::new(false)),
    ) {
        Ok(s) => s.replay(entries).await,
        Err(e) => failed(o, e),
    }
}

/// One line for the terminal.
pub fn describe(r: &ShipReport, archive: &Path) -> String {
    let mut s = format!(
        "output '{}' ({}): {} delivered ({} already there), {} dead-lettered, {} retried, {} left",
        r.output,
        archive.display(),
        r.delivered,
        r.duplicates,
        r.dead,
        r.retried,
        r.remaining
    );
    if r.suppressed + r.skipped > 0 {
        s.push_str(&format!(
            "; alerts not notified: {} suppressed, {} skipped",
            r.suppressed, r.skipped
        ));
    }
    if r.repeats > 0 {
        s.push_str(&format!(
            "; {} events were in flight when the last run stopped and were sent again (a destination that does not deduplicate by id may hold them twice)",
            r.repeats
        ));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("; stopped: {e}"));
    }
    s
}

/// `run`'s shippers for one archive: each output has its own loop, woken as units commit
/// (and at least every `SHIP_IDLE`), delivering what the collector committed since and
/// retrying a destination that is down for as long as it takes (the archive is the buffer).
/// An output that is down or slow (a PagerDuty outage, a throttled Slack) never holds back
/// another. Ends when `stop` turns true.
pub async fn keep_shipping(
    root: PathBuf,
    outputs: Vec<OutputConfig>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let halt = halt_on(&stop);
    let mut commits = archive::state::commits();
    let mut loops = Vec::new();
    let mut built_for: HashSet<(String, String)> = HashSet::new();
    // An archive holds one org: once its shippers are all built, the org list is not read again.
    let mut complete = false;
    while !complete && !*stop.borrow() {
        commits.mark_unchanged();
        if root.join("state.db").is_file() {
            // Built once the archive names its org, then kept: each holds its sink (one
            // client, one cluster check) and its output's lock for the life of `run`.
            let mut shippers: Shippers = Vec::new();
            complete = build(&root, &outputs, &halt, &mut shippers, &mut built_for);
            for (s, start, lock) in shippers {
                loops.push(tokio::spawn(keep_one(s, start, lock, stop.clone())));
            }
        }
        if !complete {
            tokio::select! {
                _ = commits.changed() => {}
                _ = tokio::time::sleep(SHIP_IDLE) => {}
                _ = stop.changed() => {}
            }
        }
    }
    for l in loops {
        let _ = l.await;
    }
}

/// One output's loop in `run`: a pass, then a wait for commits, until `stop`.
async fn keep_one(
    s: Shipper,
    start: archive::state::Start,
    _lock: File,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut commits = archive::state::commits();
    loop {
        commits.mark_unchanged();
        if let Some(l) = s.linger() {
            if linger(&s, start, l, &mut stop).await {
                return;
            }
        }
        let r = s.ship(start).await;
        if r.delivered + r.dead > 0 || r.error.is_some() {
            tracing::info!(
                output = %s.name,
                delivered = r.delivered,
                dead = r.dead,
                remaining = r.remaining,
                error = r.error.as_ref().map_or("", |e| e.message.as_str()),
                "shipped"
            );
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = commits.changed() => {
                // Commits come in bursts (a page, a file): let the burst finish, then ship it
                // in full batches.
                tokio::time::sleep(SHIP_GATHER).await;
            }
            _ = tokio::time::sleep(SHIP_IDLE) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Waits until the output's backlog holds `l.min_bytes` of archive lines, or has waited
/// `l.max_wait` since it began. True when a stop was asked meanwhile: what is held stays in
/// the archive, and the next run ships it.
async fn linger(
    s: &Shipper,
    start: archive::state::Start,
    l: outputs::Linger,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let mut commits = archive::state::commits();
    let mut since: Option<tokio::time::Instant> = None;
    loop {
        commits.mark_unchanged();
        let bytes = s.backlog_bytes(start);
        let began = *since.get_or_insert_with(tokio::time::Instant::now);
        if bytes >= l.min_bytes || (bytes > 0 && began.elapsed() >= l.max_wait) {
            return false;
        }
        if bytes == 0 {
            // Nothing held: the wait starts with the first commit.
            since = None;
        }
        let wait = l.max_wait.saturating_sub(began.elapsed()).max(SHIP_GATHER);
        tokio::select! {
            _ = commits.changed() => tokio::time::sleep(SHIP_GATHER).await,
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return true;
        }
    }
}

/// Each org's shippers of one archive, with where each starts and its output's lock.
type Shippers = Vec<(Shipper, archive::state::Start, File)>;

/// A flag that turns true with `stop`: shippers check it between batches.
fn halt_on(stop: &tokio::sync::watch::Receiver<bool>) -> Arc<AtomicBool> {
    let halt = Arc::new(AtomicBool::new(false));
    let flag = halt.clone();
    let mut stop = stop.clone();
    tokio::spawn(async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    halt
}

/// Builds the shippers not built yet for the orgs the archive names; true once every one
/// is built (an output that cannot be built yet is tried again on the next wake).
fn build(
    root: &Path,
    outputs: &[OutputConfig],
    halt: &Arc<AtomicBool>,
    shippers: &mut Shippers,
    built_for: &mut HashSet<(String, String)>,
) -> bool {
    let ts = match targets_in(root) {
        Ok(ts) => ts,
        Err(e) => {
            tracing::warn!("outputs cannot read {}: {e}", root.display());
            return false;
        }
    };
    let mut complete = !ts.is_empty();
    for t in &ts {
        for o in outputs {
            let key = (t.ctx.org.clone(), o.name.clone());
            if built_for.contains(&key) {
                continue;
            }
            let built = lock(&t.root, &o.name).and_then(|l| {
                shipper(t, o, RetryLimit::forever(), halt.clone()).map(|s| (s, o.start, l))
            });
            match built {
                Ok(s) => {
                    built_for.insert(key);
                    shippers.push(s);
                }
                Err(e) => {
                    complete = false;
                    tracing::error!(output = %o.name, "cannot ship: {e}");
                }
            }
        }
    }
    complete
}

/// How long a woken shipper lets a burst of commits finish.
const SHIP_GATHER: std::time::Duration = std::time::Duration::from_millis(500);
/// How often a shipper looks again with no commit (another process may have collected, or a
/// destination come back).
const SHIP_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// An instant for `replay --since/--until`: `YYYY-MM-DD` (midnight UTC) or RFC 3339, in the
/// archive's `@timestamp` form.
pub fn parse_instant(s: &str) -> anyhow::Result<String> {
    let t = if let Ok(d) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
    } else {
        archive::normalize::parse_sf_datetime(s.trim())
    };
    t.map(|t| archive::normalize::iso(&t)).ok_or_else(|| {
        anyhow::anyhow!("'{s}' is not a date: write 2026-03-01 or 2026-03-01T12:00:00Z")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_process_at_a_time_ships_an_output_of_an_archive() {
        let d = tempfile::tempdir().unwrap();
        let held = super::lock(d.path(), "es").unwrap();
        let e = super::lock(d.path(), "es").unwrap_err().to_string();
        assert!(e.contains("another sfevents is shipping"), "{e}");
        assert!(
            super::lock(d.path(), "other").is_ok(),
            "each output has its own lock"
        );
        drop(held);
        assert!(super::lock(d.path(), "es").is_ok());
    }
}
