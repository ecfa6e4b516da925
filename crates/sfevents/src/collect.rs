//! One collection run for one org: log in, plan the units, run them in parallel (download,
//! parse, archive), and commit each unit's ledger row and cursor in one transaction once all
//! its outputs are in place.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use crate::archive::Archive;
use crate::auth::{AuthError, TokenManager};
use crate::client::{http_client, ApiError, ApiStats, RetryPolicy, SfClient};
use crate::config::OrgConfig;
use crate::normalize::iso;
use crate::progress::Progress;
use crate::sources::event_log_file::{self as elf, CursorTracker, ElfFile, ProcessError, SOURCE};
use crate::state::{FileEntry, RunTotals, Store};

/// How a run of one org ended.
#[derive(Debug, Default)]
pub struct OrgReport {
    pub name: String,
    pub org_id: Option<String>,
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
    /// Files that failed this run and were quarantined.
    pub failed: Vec<(String, String)>,
    /// Why the run stopped early, if it did (API limit, auth, network).
    pub stopped: Option<String>,
    /// A configuration or credentials problem: exit code 2.
    pub config_error: bool,
    pub api_calls: u64,
    pub api_usage: Option<(u64, u64)>,
    pub per_type: std::collections::BTreeMap<String, (u64, u64)>,
}

impl OrgReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.stopped.is_none()
    }
}

pub struct Options {
    pub progress: bool,
}

enum UnitEnd {
    Done {
        rows: u64,
        bytes: u64,
    },
    Failed(String),
    /// Not run or abandoned: the run is stopping.
    Stopped,
}

pub async fn collect_org(cfg: &OrgConfig, opts: &Options) -> OrgReport {
    let mut report = OrgReport {
        name: cfg.name.clone(),
        ..Default::default()
    };
    if let Err(e) = run(cfg, opts, &mut report).await {
        report.stopped = Some(e.to_string());
    }
    report
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

async fn run(cfg: &OrgConfig, opts: &Options, report: &mut OrgReport) -> Result<(), RunError> {
    let setup = |what: &str, e: &dyn std::fmt::Display| {
        RunError::Setup(format!("{what} {}: {e}", cfg.archive_dir.display()))
    };
    let archive =
        Archive::open(&cfg.archive_dir).map_err(|e| setup("cannot create the archive in", &e))?;
    archive
        .clean_spool()
        .map_err(|e| setup("cannot clean the spool of", &e))?;
    let store = Arc::new(Store::open(&archive.state_path())?);
    let run_id = store.begin_run(&cfg.name)?;
    let http = match http_client(cfg.ca_file.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            report.config_error = true;
            return Err(RunError::Setup(e));
        }
    };
    let stats = Arc::new(ApiStats::default());
    let client = Arc::new(SfClient {
        http: http.clone(),
        tokens: Arc::new(TokenManager::new(cfg.clone(), http)),
        api_version: cfg.api_version.clone(),
        retry: RetryPolicy::new(cfg.max_attempts),
        stats: stats.clone(),
    });

    let result = run_units(cfg, opts, report, &archive, &store, &client, run_id).await;
    report.api_calls = stats.calls();
    report.api_usage = stats.usage();
    let (status, message) = match &result {
        Ok(()) if report.ok() => ("ok", None),
        Ok(()) => (
            if report.stopped.is_some() {
                "stopped"
            } else {
                "partial"
            },
            report
                .stopped
                .clone()
                .or_else(|| Some(format!("{} files failed", report.failed.len()))),
        ),
        Err(e) => ("failed", Some(e.to_string())),
    };
    let totals = RunTotals {
        files: report.files,
        rows: report.rows,
        bytes: report.bytes,
        api_calls: report.api_calls,
        api_usage: report.api_usage.map(|(u, m)| format!("{u}/{m}")),
    };
    store.finish_run(run_id, status, &totals, message.as_deref())?;
    result
}

async fn run_units(
    cfg: &OrgConfig,
    opts: &Options,
    report: &mut OrgReport,
    archive: &Archive,
    store: &Arc<Store>,
    client: &Arc<SfClient>,
    run_id: i64,
) -> Result<(), RunError> {
    let session = match client.tokens.session().await {
        Ok(s) => s,
        Err(e) => {
            report.config_error = matches!(e, AuthError::Rejected(_));
            return Err(ApiError::Auth(e).into());
        }
    };
    let org_id = match session.org_id() {
        Some(id) => id,
        None => {
            let r = client.query_all("SELECT Id FROM Organization").await?;
            r.first()
                .and_then(|r| r.get("Id"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| ApiError::Protocol("no Organization record".into()))?
        }
    };
    match store.meta("org_id")? {
        Some(known) if known != org_id && known.get(..15) != org_id.get(..15) => {
            report.config_error = true;
            return Err(RunError::Setup(format!(
                "the archive in {} belongs to org {known}, but these credentials log in to {org_id}: give each org its own --output-dir",
                cfg.archive_dir.display()
            )));
        }
        Some(_) => {}
        None => store.set_meta("org_id", &org_id)?,
    }
    report.org_id = Some(org_id.clone());

    if !cfg.elf.enabled {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let mut plan = elf::plan(client, &cfg.elf, store, &cfg.name, now).await?;
    for (t, c) in plan.tracker.initial() {
        store.set_cursor(&cfg.name, SOURCE, &t, &c)?;
    }
    for id in &plan.gone {
        store.quarantine(
            &cfg.name,
            id,
            "?",
            "Salesforce no longer has this file (deleted or past retention); it cannot be collected",
        )?;
    }
    tracing::info!(
        org = %cfg.name,
        listed = plan.listed,
        to_collect = plan.units.len(),
        "EventLogFile plan"
    );
    let total_bytes: u64 = plan.units.iter().filter_map(|u| u.length).sum();
    let progress = Progress::new(opts.progress, plan.units.len() as u64, total_bytes);
    let tracker = Arc::new(Mutex::new(std::mem::take(&mut plan.tracker)));
    let stop = Arc::new(AtomicBool::new(false));
    let stop_reason: Arc<Mutex<Option<String>>> = Arc::default();
    let org_name = cfg.name.clone();
    let archive = Arc::new(Archive {
        root: archive.root.clone(),
    });
    let rows_total = Arc::new(AtomicU64::new(0));

    let results: Vec<(ElfFile, UnitEnd)> = futures_util::stream::iter(plan.units)
        .map(|f| {
            let ctx = UnitCtx {
                client: client.clone(),
                store: store.clone(),
                archive: archive.clone(),
                tracker: tracker.clone(),
                stop: stop.clone(),
                stop_reason: stop_reason.clone(),
                org_name: org_name.clone(),
                org_id: org_id.clone(),
                run_id,
                progress: progress.clone(),
                rows_total: rows_total.clone(),
            };
            async move {
                let end = ctx.run_unit(&f).await;
                (f, end)
            }
        })
        .buffer_unordered(cfg.elf.concurrency)
        .collect()
        .await;
    progress.finish();

    for (f, end) in results {
        match end {
            UnitEnd::Done { rows, bytes } => {
                report.files += 1;
                report.rows += rows;
                report.bytes += bytes;
                let e = report.per_type.entry(f.event_type.clone()).or_default();
                e.0 += 1;
                e.1 += rows;
            }
            UnitEnd::Failed(msg) => report.failed.push((f.id.clone(), msg)),
            UnitEnd::Stopped => {}
        }
    }
    if let Ok(mut r) = stop_reason.lock() {
        if let Some(reason) = r.take() {
            report.stopped = Some(reason);
        }
    }
    Ok(())
}

struct UnitCtx {
    client: Arc<SfClient>,
    store: Arc<Store>,
    archive: Arc<Archive>,
    tracker: Arc<Mutex<CursorTracker>>,
    stop: Arc<AtomicBool>,
    stop_reason: Arc<Mutex<Option<String>>>,
    org_name: String,
    org_id: String,
    run_id: i64,
    progress: Progress,
    rows_total: Arc<AtomicU64>,
}

impl UnitCtx {
    fn halt(&self, why: String) -> UnitEnd {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut r) = self.stop_reason.lock() {
            r.get_or_insert(why);
        }
        UnitEnd::Stopped
    }

    async fn run_unit(&self, f: &ElfFile) -> UnitEnd {
        if self.stop.load(Ordering::SeqCst) {
            return UnitEnd::Stopped;
        }
        let spool = self.archive.spool_path(&f.id);
        let mut last_err = String::new();
        // A file that downloads whole but does not parse is fetched once more before it is
        // quarantined; transport faults are already retried inside the client.
        for _ in 0..2 {
            let progress = self.progress.clone();
            let dl = self
                .client
                .download(&f.path, &spool, f.length, &move |n| progress.bytes(n))
                .await;
            let d = match dl {
                Ok(d) => d,
                Err(ApiError::LimitExceeded(m)) => {
                    return self.halt(format!(
                        "Salesforce's daily API request limit is reached ({m}); the cursor is kept and the next run resumes"
                    ))
                }
                Err(ApiError::Auth(e)) => return self.halt(format!("login failed: {e}")),
                Err(e) => {
                    last_err = e.to_string();
                    break;
                }
            };
            if self.stop.load(Ordering::SeqCst) {
                let _ = std::fs::remove_file(&spool);
                return UnitEnd::Stopped;
            }
            let (archive, file, org_id, sp) = (
                self.archive.clone(),
                f.clone(),
                self.org_id.clone(),
                spool.clone(),
            );
            let processed =
                tokio::task::spawn_blocking(move || elf::process(&archive, &file, &org_id, &sp))
                    .await;
            match processed {
                Ok(Ok(p)) => {
                    let entry = FileEntry {
                        file_id: f.id.clone(),
                        event_type: f.event_type.clone(),
                        log_date: iso(&f.log_date),
                        interval: f.interval.clone(),
                        sequence: f.sequence,
                        created_date: f.created_raw.clone(),
                        rows: p.rows,
                        bytes: d.bytes,
                        sha256: d.sha256.clone(),
                        csv_path: rel(&self.archive.root, &p.csv_path),
                        ndjson_path: rel(&self.archive.root, &p.ndjson_path),
                    };
                    let committed = self
                        .tracker
                        .lock()
                        .map_err(|_| "tracker lock poisoned".to_string())
                        .and_then(|mut tr| {
                            let cur = tr.settle(&f.event_type, &f.id);
                            self.store
                                .commit_file(
                                    &self.org_name,
                                    self.run_id,
                                    &entry,
                                    cur.as_ref().map(|c| (SOURCE, f.event_type.as_str(), c)),
                                )
                                .map_err(|e| e.to_string())
                        });
                    return match committed {
                        Ok(()) => {
                            self.progress.file_done();
                            let total =
                                self.rows_total.fetch_add(p.rows, Ordering::Relaxed) + p.rows;
                            tracing::info!(file = %f.id, event_type = %f.event_type, rows = p.rows, bytes = d.bytes, total_rows = total, "archived");
                            UnitEnd::Done {
                                rows: p.rows,
                                bytes: d.bytes,
                            }
                        }
                        Err(e) => self.halt(format!("cannot commit to state.db: {e}")),
                    };
                }
                Ok(Err(e @ ProcessError::Csv { .. })) => {
                    last_err = e.to_string();
                    tracing::warn!(file = %f.id, "{last_err}");
                }
                Ok(Err(e)) => return self.halt(e.to_string()),
                Err(e) => return self.halt(format!("processing task failed: {e}")),
            }
        }
        let _ = std::fs::remove_file(&spool);
        tracing::error!(file = %f.id, event_type = %f.event_type, "quarantined: {last_err}");
        let settled = self
            .tracker
            .lock()
            .map_err(|_| "tracker lock poisoned".to_string())
            .and_then(|mut tr| {
                self.store
                    .quarantine(&self.org_name, &f.id, &f.event_type, &last_err)
                    .map_err(|e| e.to_string())?;
                if let Some(c) = tr.settle(&f.event_type, &f.id) {
                    self.store
                        .set_cursor(&self.org_name, SOURCE, &f.event_type, &c)
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            });
        if let Err(e) = settled {
            return self.halt(format!("cannot record the failure in state.db: {e}"));
        }
        self.progress.file_done();
        UnitEnd::Failed(last_err)
    }
}

fn rel(root: &std::path::Path, p: &std::path::Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
