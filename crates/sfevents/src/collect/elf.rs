//! The EventLogFile part of a cycle: the planner's units run in parallel, each downloaded
//! and converted as it arrives, installed, then committed (ledger row, cursor and delivery
//! log in one transaction); a file that keeps failing is quarantined and the cursor moves
//! past it. The API limit, the budget or a failed login stop every unit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use crate::progress::Progress;
use archive::normalize::iso;
use archive::state::{FileEntry, Store};
use archive::Archive;
use salesforce::client::download::{Body, DownloadError, Downloaded};
use salesforce::client::{ApiError, SfClient};
use salesforce::sources::event_log_file::{
    self as elf, Converted, CursorTracker, ElfFile, ProcessError, Processed, SOURCE,
};

use super::{rel, Options, OrgReport, OrgRuntime, UnitEnd};

impl OrgRuntime {
    pub(super) async fn elf_cycle(
        &self,
        client: &Arc<SfClient>,
        opts: &Options,
        report: &mut OrgReport,
        run_id: i64,
        stop: &AtomicBool,
    ) -> Result<(), ApiError> {
        let cfg = &self.cfg;
        let mut plan = self.plan(client).await?;
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
                    store: self.store.clone(),
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
        tally(report, results);
        if let Ok(mut r) = stop_reason.lock() {
            if let Some(reason) = r.take() {
                report.stopped = Some(reason);
            }
        }
        Ok(())
    }

    /// The planner's units, after the cursors of new types are recorded and files Salesforce
    /// no longer has are quarantined (so `verify` and `status` can name them).
    async fn plan(&self, client: &SfClient) -> Result<elf::Plan, ApiError> {
        let (cfg, store) = (&self.cfg, &self.store);
        let state_err = |e: archive::state::StateError| ApiError::Local(e.to_string());
        let mut plan = elf::plan(client, &cfg.elf, store, &cfg.name, base::clock::now()).await?;
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
        Ok(plan)
    }
}

/// Adds each unit's outcome to the cycle's report.
fn tally(report: &mut OrgReport, results: Vec<(ElfFile, UnitEnd)>) {
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
}

/// What one unit needs, shared with every other unit of the cycle.
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

/// How one try at a file ended, when it did not produce the archived files.
enum Attempt {
    /// The whole cycle stops (API limit, budget, login, local fault).
    Halt(UnitEnd),
    /// The file did not parse: fetched once more, then quarantined.
    Again(String),
    /// A transport fault the client already retried: quarantined now.
    GiveUp(String),
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
            match self.attempt(f, &spool).await {
                Ok((d, p)) => return self.commit(f, &d, &p),
                Err(Attempt::Halt(end)) => return end,
                Err(Attempt::Again(e)) => {
                    tracing::warn!(file = %f.id, "{e}");
                    last_err = e;
                }
                Err(Attempt::GiveUp(e)) => {
                    last_err = e;
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(&spool);
        self.quarantine(f, last_err)
    }

    /// Downloads, converts and installs the file once.
    async fn attempt(
        &self,
        f: &ElfFile,
        spool: &std::path::Path,
    ) -> Result<(Downloaded, Processed), Attempt> {
        let converted = self.download(f, spool).await?;
        let (d, converted) = converted;
        if self.stop.load(Ordering::SeqCst) {
            drop(converted);
            let _ = std::fs::remove_file(spool);
            return Err(Attempt::Halt(UnitEnd::Stopped));
        }
        let (archive, file, sp) = (self.archive.clone(), f.clone(), spool.to_path_buf());
        let installed =
            tokio::task::spawn_blocking(move || elf::install(&archive, &file, converted, &sp))
                .await;
        match installed {
            Ok(Ok(p)) => Ok((d, p)),
            Ok(Err(e @ ProcessError::Csv { .. })) => Err(Attempt::Again(e.to_string())),
            Ok(Err(e)) => Err(Attempt::Halt(self.halt(e.to_string()))),
            Err(e) => Err(Attempt::Halt(
                self.halt(format!("processing task failed: {e}")),
            )),
        }
    }

    /// The download, converted as the body arrives on a blocking thread.
    async fn download(
        &self,
        f: &ElfFile,
        spool: &std::path::Path,
    ) -> Result<(Downloaded, Converted), Attempt> {
        let progress = self.progress.clone();
        let (archive, file, org_id) = (self.archive.clone(), f.clone(), self.org_id.clone());
        let redact = self.redact.clone();
        let dl = self
            .client
            .download_with(
                &f.path,
                spool,
                f.length,
                &move |n| progress.bytes(n),
                move |body: &mut Body| {
                    elf::convert_body(&archive, &file, &org_id, redact.as_deref(), body)
                },
            )
            .await;
        dl.map_err(|e| match e {
            DownloadError::Api(ApiError::LimitExceeded(m)) => Attempt::Halt(self.halt(format!(
                "Salesforce's daily API request limit is reached ({m}); the cursor is kept and the next run resumes"
            ))),
            DownloadError::Api(ApiError::Budget(why)) => Attempt::Halt(self.halt(why)),
            DownloadError::Api(ApiError::Auth(e)) => {
                Attempt::Halt(self.halt(format!("login failed: {e}")))
            }
            DownloadError::Api(e) => Attempt::GiveUp(e.to_string()),
            DownloadError::Consume(e @ ProcessError::Csv { .. }) => Attempt::Again(e.to_string()),
            DownloadError::Consume(e) => Attempt::Halt(self.halt(e.to_string())),
        })
    }

    /// The ledger row, the cursor (as far as every earlier file of the type has settled)
    /// and the delivery log, in one transaction.
    fn commit(&self, f: &ElfFile, d: &Downloaded, p: &Processed) -> UnitEnd {
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
            fields: f.fields.clone(),
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
        if let Err(e) = committed {
            return self.halt(format!("cannot commit to state.db: {e}"));
        }
        self.progress.file_done();
        let rows = p.converted.rows;
        let total = self.rows_total.fetch_add(rows, Ordering::Relaxed) + rows;
        tracing::info!(file = %f.id, event_type = %f.event_type, rows, bytes = d.bytes, total_rows = total, "archived");
        UnitEnd::Done {
            rows,
            bytes: d.bytes,
        }
    }

    /// Records the file as quarantined (retried on every later run) and lets the cursor
    /// move past it, so one bad file does not hold back its type.
    fn quarantine(&self, f: &ElfFile, last_err: String) -> UnitEnd {
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
