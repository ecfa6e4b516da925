//! One collection cycle for one org: the sources that are due run (EventLogFile files in
//! parallel, then each object source), and every unit is committed (ledger or event ids, and
//! the cursor, in one transaction) once all its outputs are in place.
//!
//! [`OrgRuntime`] is opened once per org: it holds the archive (locked against a second
//! sfevents), state.db, the API client and the session. `collect` runs one cycle of every
//! source; `run` runs cycles on each source's interval.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use archive::state::{RunTotals, Store};
use archive::Archive;
use salesforce::client::{ApiError, ApiStats, SfClient};
use salesforce::config::{ObjectKind, OrgConfig};
use salesforce::sources::records::{ObjectCtx, ObjectReport};
use salesforce::sources::{event_objects, sobjects};

mod elf;
mod open;
pub mod stream;

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
    /// The Pub/Sub streams, when they ran (`collect --stream-for`).
    pub streams: Vec<salesforce::sources::streaming::StreamSnapshot>,
}

impl OrgReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.stopped.is_none()
    }
}

pub struct Options {
    pub progress: bool,
    /// `collect --stream-for`: also run the org's streams, for this long.
    pub stream_for: Option<std::time::Duration>,
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

pub(crate) enum UnitEnd {
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
    let rt = match OrgRuntime::open(cfg).await {
        Ok(rt) => rt,
        Err(report) => return report,
    };
    let (due, no_stop) = (Due::everything(cfg), AtomicBool::new(false));
    let cycle = rt.cycle(&due, opts, &no_stop);
    let Some(d) = opts.stream_for.filter(|_| !cfg.streams.is_empty()) else {
        if !cfg.streams.is_empty() {
            tracing::warn!(org = %cfg.name, "the org's streams are read by `sfevents run`, or by `collect --stream-for SECONDS`");
        }
        return cycle.await;
    };
    let (mut report, streams) = tokio::join!(cycle, rt.stream(stop_after(d)));
    for (topic, why) in streams.failed {
        // Every fault that stops a stream is one of configuration: its URL, its CA file,
        // the topic, the credentials.
        report.config_error = true;
        report.failed.push((format!("stream {topic}"), why));
    }
    report.streams = streams.streams;
    report
}

/// A stop that turns true after `d`.
fn stop_after(d: Duration) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(d).await;
        let _ = tx.send(true);
        // Held until every receiver is gone, so they never see the sender dropped as a stop
        // of their own making.
        tx.closed().await;
    });
    rx
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
    /// Shared by every source writing object pages: see `ObjectCtx::pages`.
    pages: Arc<Mutex<()>>,
    _lock: std::fs::File,
}

impl OrgRuntime {
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
            pages: self.pages.clone(),
            via: None,
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
}

fn rel(root: &std::path::Path, p: &std::path::Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
