//! One collection cycle for one org: the sources that are due run (EventLogFile files in
//! parallel, then each object source), and every unit is committed (ledger or event ids, and
//! the cursor, in one transaction) once all its outputs are in place.
//!
//! [`OrgRuntime`] is opened once per org: it holds the archive (locked against a second
//! sfevents), state.db, the API client and the session. `collect` runs one cycle of every
//! source; `run` runs cycles on each source's interval.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use crate::progress::Progress;
use archive::normalize::iso;
use archive::state::{FileEntry, RunTotals, Store};
use archive::Archive;
use salesforce::auth::{AuthError, TokenManager};
use salesforce::client::download::{Body, DownloadError};
use salesforce::client::{http_client, ApiError, ApiStats, RetryPolicy, SfClient};
use salesforce::config::{ObjectKind, OrgConfig};
use salesforce::sources::event_log_file::{
    self as elf, CursorTracker, ElfFile, ProcessError, SOURCE,
};
use salesforce::sources::records::{recover_pending, ObjectCtx, ObjectReport};
use salesforce::sources::{event_objects, sobjects};

/// How a cycle of one org ended.
#[derive(Debug, Default)]
pub struct OrgReport {
    pub name: String,
    pub org_id: Option<String>,
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
    /// Files that failed this run and were quarantined.
    pub failed: Vec<(String, String)>,
    /// Why the cycle stopped early, if it did (API limit or budget, auth, network).
    pub stopped: Option<String>,
    /// A configuration or credentials problem: exit code 2.
    pub config_error: bool,
    pub api_calls: u64,
    pub api_usage: Option<(u64, u64)>,
    pub per_type: BTreeMap<String, (u64, u64)>,
    pub objects: BTreeMap<String, ObjectReport>,
}

impl OrgReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.stopped.is_none()
    }
}

pub struct Options {
    pub progress: bool,
}

/// Which sources a cycle runs, and how far.
#[derive(Debug, Clone)]
pub struct Due {
    pub elf: bool,
    /// Indexes into `OrgConfig::objects`.
    pub objects: Vec<usize>,
    /// Cap object windows per source (`run`), or read until caught up (`collect`).
    pub capped: bool,
}

impl Due {
    pub fn everything(cfg: &OrgConfig) -> Due {
        Due {
            elf: cfg.elf.enabled,
            objects: (0..cfg.objects.len()).collect(),
            capped: false,
        }
    }
}

enum UnitEnd {
    Done {
        rows: u64,
        bytes: u64,
    },
    Failed(String),
    /// Not run or abandoned: the cycle is stopping.
    Stopped,
}

/// Runs one cycle of every source of `cfg`.
pub async fn collect_org(cfg: &OrgConfig, opts: &Options) -> OrgReport {
    match OrgRuntime::open(cfg).await {
        Ok(rt) => {
            rt.cycle(&Due::everything(cfg), opts, &AtomicBool::new(false))
                .await
        }
        Err(report) => report,
    }
}

/// An org, ready to collect.
pub struct OrgRuntime {
    pub cfg: OrgConfig,
    archive: Arc<Archive>,
    store: Arc<Store>,
    client: Arc<SfClient>,
    stats: Arc<ApiStats>,
    org_id: String,
    fields: Arc<Mutex<std::collections::HashMap<String, Vec<String>>>>,
    _lock: std::fs::File,
}

impl OrgRuntime {
    /// Opens the archive and state, logs in and checks the archive belongs to this org. On
    /// failure the report says why (and whether it is a configuration problem).
    pub async fn open(cfg: &OrgConfig) -> Result<OrgRuntime, OrgReport> {
        let mut report = OrgReport {
            name: cfg.name.clone(),
            ..Default::default()
        };
        let fail = |mut r: OrgReport, msg: String, config: bool| {
            r.stopped = Some(msg);
            r.config_error = config;
            r
        };
        let access = base::fsmode::Access::new(cfg.archive_group_read);
        let archive = match Archive::open_with(&cfg.archive_dir, access) {
            Ok(a) => a,
            Err(e) => {
                let msg = format!(
                    "cannot create the archive in {}: {e}",
                    cfg.archive_dir.display()
                );
                return Err(fail(report, msg, true));
            }
        };
        let lock = match archive.lock() {
            Ok(l) => l,
            Err(msg) => return Err(fail(report, msg, false)),
        };
        if let Err(e) = archive.clean_spool() {
            let msg = format!(
                "cannot clean the spool of {}: {e}",
                cfg.archive_dir.display()
            );
            return Err(fail(report, msg, false));
        }
        let store = match Store::open(&archive.state_path()) {
            Ok(s) => Arc::new(s),
            Err(e) => return Err(fail(report, e.to_string(), false)),
        };
        if let Err(e) = recover_pending(&store, &archive) {
            return Err(fail(report, e.to_string(), false));
        }
        let http = match http_client(cfg.ca_file.as_deref()) {
            Ok(h) => h,
            Err(e) => return Err(fail(report, e, true)),
        };
        let stats = Arc::new(ApiStats::default());
        let client = Arc::new(SfClient {
            http: http.clone(),
            tokens: Arc::new(TokenManager::new(cfg.clone(), http)),
            api_version: cfg.api_version.clone(),
            retry: RetryPolicy::new(cfg.max_attempts),
            stats: stats.clone(),
            budget: None,
        });
        let org_id = match login(&client).await {
            Ok(id) => id,
            Err(e) => {
                let config = matches!(e, ApiError::Auth(AuthError::Rejected(_)));
                if let Ok(run) = store.begin_run(&cfg.name) {
                    let _ = store.finish_run(
                        run,
                        "failed",
                        &RunTotals::default(),
                        Some(&e.to_string()),
                    );
                }
                return Err(fail(report, e.to_string(), config));
            }
        };
        let known = match store.meta("org_id") {
            Ok(k) => k,
            Err(e) => return Err(fail(report, e.to_string(), false)),
        };
        match known {
            Some(known) if known != org_id && known.get(..15) != org_id.get(..15) => {
                let msg = format!(
                    "the archive in {} belongs to org {known}, but these credentials log in to {org_id}: give each org its own --output-dir",
                    cfg.archive_dir.display()
                );
                return Err(fail(report, msg, true));
            }
            Some(_) => {}
            None => {
                if let Err(e) = store.set_meta("org_id", &org_id) {
                    return Err(fail(report, e.to_string(), false));
                }
            }
        }
        // Outputs label every event with the instance it came from, also in `ship` and
        // `replay`, which do not log in.
        if let Ok(session) = client.tokens.session().await {
            let url = session.instance_url.as_str().trim_end_matches('/');
            if let Err(e) = store.set_meta("instance_url", url) {
                return Err(fail(report, e.to_string(), false));
            }
        }
        report.org_id = Some(org_id.clone());
        Ok(OrgRuntime {
            cfg: cfg.clone(),
            archive: Arc::new(archive),
            store,
            client,
            stats,
            org_id,
            fields: Arc::default(),
            _lock: lock,
        })
    }

    pub fn client(&self) -> &SfClient {
        &self.client
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Why no more should be spent today, if the org's usage is past the budget.
    pub fn over_budget(&self) -> Option<String> {
        self.stats.over_budget(self.cfg.api_budget_percent)
    }

    /// Runs the due sources once.
    pub async fn cycle(&self, due: &Due, opts: &Options, stop: &AtomicBool) -> OrgReport {
        let cfg = &self.cfg;
        let mut report = OrgReport {
            name: cfg.name.clone(),
            org_id: Some(self.org_id.clone()),
            ..Default::default()
        };
        // This cycle's own client: its calls are counted apart from concurrent cycles'.
        let stats = Arc::new(ApiStats::child_of(self.stats.clone()));
        let client = Arc::new(SfClient {
            http: self.client.http.clone(),
            tokens: self.client.tokens.clone(),
            api_version: self.client.api_version.clone(),
            retry: self.client.retry.clone(),
            stats: stats.clone(),
            budget: Some(cfg.api_budget_percent),
        });
        let run_id = match self.store.begin_run(&cfg.name) {
            Ok(r) => r,
            Err(e) => {
                report.stopped = Some(e.to_string());
                return report;
            }
        };
        // The cycle's client refuses requests past the API budget; that ends the cycle.
        if due.elf {
            if let Err(e) = self
                .elf_cycle(&client, opts, &mut report, run_id, stop)
                .await
            {
                report.stopped.get_or_insert(e.to_string());
            }
        }
        if report.stopped.is_none() {
            self.objects_cycle(&client, due, &mut report, run_id, stop)
                .await;
        }
        report.api_calls = stats.calls();
        report.api_usage = self.stats.usage();
        let events: u64 = report.objects.values().map(|o| o.events).sum();
        let status = if report.ok() {
            "ok"
        } else if report.stopped.is_some() {
            "stopped"
        } else {
            "partial"
        };
        let message = report.stopped.clone().or_else(|| {
            (!report.failed.is_empty()).then(|| format!("{} files failed", report.failed.len()))
        });
        let totals = RunTotals {
            files: report.files,
            rows: report.rows + events,
            bytes: report.bytes,
            api_calls: report.api_calls,
            api_usage: report.api_usage.map(|(u, m)| format!("{u}/{m}")),
        };
        if let Err(e) = self
            .store
            .finish_run(run_id, status, &totals, message.as_deref())
        {
            tracing::error!("cannot record the run in state.db: {e}");
        }
        if let Err(e) = archive::retention::prune(
            &self.store,
            &self.archive.root,
            &self.cfg.name,
            self.cfg.archive_keep_days,
            self.cfg.csv_keep_days,
            base::clock::now(),
        ) {
            tracing::warn!("archive retention: {e}");
        }
        report
    }

    async fn objects_cycle(
        &self,
        client: &Arc<SfClient>,
        due: &Due,
        report: &mut OrgReport,
        run_id: i64,
        stop: &AtomicBool,
    ) {
        let ctx = ObjectCtx {
            client: client.clone(),
            store: self.store.clone(),
            archive: self.archive.clone(),
            org: self.cfg.name.clone(),
            org_id: self.org_id.clone(),
            run_id,
            seq: Default::default(),
            fields: self.fields.clone(),
            redact: self.cfg.archive_redaction.clone(),
        };
        for &i in &due.objects {
            let Some(o) = self.cfg.objects.get(i) else {
                continue;
            };
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let now = base::clock::now();
            let result = match o.kind {
                ObjectKind::Event => {
                    let cap = if due.capped {
                        Some(o.run_max_windows)
                    } else {
                        o.max_windows_per_run
                    };
                    event_objects::collect(&ctx, o, cap, now, stop).await
                }
                ObjectKind::SObject => sobjects::collect(&ctx, o, now, stop).await,
            };
            match result {
                Ok(r) => {
                    tracing::info!(source = %o.name, events = r.events, windows = r.windows, pages = r.pages, caught_up = r.caught_up, "object collected");
                    report.objects.insert(o.name.clone(), r);
                }
                Err(e @ (ApiError::LimitExceeded(_) | ApiError::Budget(_) | ApiError::Auth(_))) => {
                    report.stopped = Some(e.to_string());
                    break;
                }
                Err(e) => {
                    tracing::error!(source = %o.name, "{e}");
                    report.failed.push((o.name.clone(), e.to_string()));
                }
            }
        }
    }

    async fn elf_cycle(
        &self,
        client: &Arc<SfClient>,
        opts: &Options,
        report: &mut OrgReport,
        run_id: i64,
        stop: &AtomicBool,
    ) -> Result<(), ApiError> {
        let cfg = &self.cfg;
        let store = &self.store;
        let now = base::clock::now();
        let state_err = |e: archive::state::StateError| ApiError::Local(e.to_string());
        let mut plan = elf::plan(client, &cfg.elf, store, &cfg.name, now).await?;
        for (t, c) in plan.tracker.initial() {
            store
                .set_cursor(&cfg.name, SOURCE, &t, &c)
                .map_err(state_err)?;
        }
        for id in &plan.gone {
            store
                .quarantine(
                    &cfg.name,
                    id,
                    "?",
                    "Salesforce no longer has this file (deleted or past retention); it cannot be collected",
                )
                .map_err(state_err)?;
        }
        tracing::info!(org = %cfg.name, listed = plan.listed, to_collect = plan.units.len(), "EventLogFile plan");
        let total_bytes: u64 = plan.units.iter().filter_map(|u| u.length).sum();
        let progress = Progress::new(opts.progress, plan.units.len() as u64, total_bytes);
        let tracker = Arc::new(Mutex::new(std::mem::take(&mut plan.tracker)));
        let halt = Arc::new(AtomicBool::new(stop.load(Ordering::SeqCst)));
        let stop_reason: Arc<Mutex<Option<String>>> = Arc::default();
        let rows_total = Arc::new(AtomicU64::new(0));

        let results: Vec<(ElfFile, UnitEnd)> = futures_util::stream::iter(plan.units)
            .map(|f| {
                let ctx = UnitCtx {
                    client: client.clone(),
                    store: store.clone(),
                    archive: self.archive.clone(),
                    tracker: tracker.clone(),
                    stop: halt.clone(),
                    stop_reason: stop_reason.clone(),
                    org_name: cfg.name.clone(),
                    org_id: self.org_id.clone(),
                    run_id,
                    progress: progress.clone(),
                    rows_total: rows_total.clone(),
                    redact: cfg.archive_redaction.clone(),
                };
                async move {
                    let end = if stop.load(Ordering::SeqCst) {
                        UnitEnd::Stopped
                    } else {
                        ctx.run_unit(&f).await
                    };
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
}

/// Logs in and finds the org id (from the identity URL, else the Organization record).
async fn login(client: &SfClient) -> Result<String, ApiError> {
    let session = client.tokens.session().await?;
    if let Some(id) = session.org_id() {
        return Ok(id);
    }
    let r = client.query_all("SELECT Id FROM Organization").await?;
    r.first()
        .and_then(|r| r.get("Id"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| ApiError::Protocol("no Organization record".into()))
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
    /// `[redaction] archive = true`: the NDJSON is written redacted.
    redact: Option<Arc<archive::redact::Redactor>>,
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
            let (archive, file, org_id) = (self.archive.clone(), f.clone(), self.org_id.clone());
            let redact = self.redact.clone();
            // The conversion reads the body as it arrives, on a blocking thread.
            let dl = self
                .client
                .download_with(
                    &f.path,
                    &spool,
                    f.length,
                    &move |n| progress.bytes(n),
                    move |body: &mut Body| {
                        elf::convert_body(&archive, &file, &org_id, redact.as_deref(), body)
                    },
                )
                .await;
            let (d, converted) = match dl {
                Ok(ok) => ok,
                Err(DownloadError::Api(ApiError::LimitExceeded(m))) => {
                    return self.halt(format!(
                        "Salesforce's daily API request limit is reached ({m}); the cursor is kept and the next run resumes"
                    ))
                }
                Err(DownloadError::Api(ApiError::Budget(why))) => return self.halt(why),
                Err(DownloadError::Api(ApiError::Auth(e))) => {
                    return self.halt(format!("login failed: {e}"))
                }
                Err(DownloadError::Api(e)) => {
                    last_err = e.to_string();
                    break;
                }
                Err(DownloadError::Consume(e @ ProcessError::Csv { .. })) => {
                    last_err = e.to_string();
                    tracing::warn!(file = %f.id, "{last_err}");
                    continue;
                }
                Err(DownloadError::Consume(e)) => return self.halt(e.to_string()),
            };
            if self.stop.load(Ordering::SeqCst) {
                drop(converted);
                let _ = std::fs::remove_file(&spool);
                return UnitEnd::Stopped;
            }
            let (archive, file, sp) = (self.archive.clone(), f.clone(), spool.clone());
            let processed =
                tokio::task::spawn_blocking(move || elf::install(&archive, &file, converted, &sp))
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
                        rows: p.converted.rows,
                        bytes: d.bytes,
                        sha256: d.sha256.clone(),
                        csv_path: rel(&self.archive.root, &p.csv_path),
                        ndjson_path: rel(&self.archive.root, &p.ndjson_path),
                        ndjson_bytes: p.converted.bytes,
                        oldest: p.converted.oldest.clone(),
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
                                    p.converted.newest.as_deref(),
                                    cur.as_ref().map(|c| (SOURCE, f.event_type.as_str(), c)),
                                )
                                .map_err(|e| e.to_string())
                        });
                    return match committed {
                        Ok(()) => {
                            self.progress.file_done();
                            let total = self
                                .rows_total
                                .fetch_add(p.converted.rows, Ordering::Relaxed)
                                + p.converted.rows;
                            tracing::info!(file = %f.id, event_type = %f.event_type, rows = p.converted.rows, bytes = d.bytes, total_rows = total, "archived");
                            UnitEnd::Done {
                                rows: p.converted.rows,
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
