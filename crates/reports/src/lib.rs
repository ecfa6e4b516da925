//! `sfevents report`: questions answered from the local archive alone (no Salesforce call).
//!
//! Each report is one file (`api_usage.rs`, `logins.rs`, ...) that scans the datasets it
//! needs through [`ledger`] (never SQL of its own: state.db is read through the archive
//! crate's `state::Reader`) and returns a [`model::Section`]; the renderers in `render/`
//! turn the sections into a terminal table, CSV, JSON or one HTML page.

pub mod agg;
pub mod alerts;
pub mod apex;
pub mod api_usage;
pub mod connected_apps;
pub mod data_access;
pub mod grouped;
pub mod health;
pub mod ledger;
pub mod logins;
pub mod model;
pub mod render;
pub mod row;
pub mod setup_changes;
pub mod tables;
pub mod users;

use std::path::PathBuf;

use ::archive::state::StateError;

use self::ledger::{Acc, FileRef, Ledger, ScanStats, Window};
use self::model::{Document, OrgInfo, Period, Section};
use self::row::Fields;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read the archive's state {0}: {cause}. Fix: point --output-dir or --config at an archive that `sfevents collect` made", cause = sqlite_cause(.1))]
    State(PathBuf, StateError),
    #[error("cannot read {0}: {1}. Fix: the archive file is damaged; `sfevents verify` lists what differs from the ledger")]
    File(PathBuf, FileError),
    #[error("{0}")]
    Usage(String),
}

/// Why an archive file could not be read, shown after its path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error("line {line}: {source}")]
    Json {
        line: u64,
        source: serde_json::Error,
    },
}

/// What SQLite said, without `StateError`'s own "state database" prefix: the message already
/// names the archive's state.
fn sqlite_cause(e: &StateError) -> String {
    match std::error::Error::source(e) {
        Some(cause) => cause.to_string(),
        None => e.to_string(),
    }
}

/// The reports, in the order `all` prints them.
pub const NAMES: &[&str] = &[
    "api-usage",
    "logins",
    "connected-apps",
    "data-access",
    "setup-changes",
    "apex",
    "alerts",
    "health",
];

/// What every report is given.
#[derive(Debug, Clone)]
pub struct Options {
    pub window: Window,
    /// Calls at or below this API version count as legacy (`--api-floor`, default 30.0: the
    /// versions Salesforce retired in Summer '25).
    pub api_floor: f64,
    /// Rows kept in top-N tables.
    pub top: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window: Window::default(),
            api_floor: 30.0,
            top: 15,
        }
    }
}

/// The archives a report reads (one ledger each) and its options; scans merge over all
/// archives.
pub struct Ctx<'a> {
    pub ledgers: &'a [Ledger],
    pub opts: &'a Options,
}

impl Ctx<'_> {
    /// Scans an EventLogFile type over every archive.
    pub fn elf<A: Acc + Default>(
        &self,
        event_type: &str,
        fields: &[&str],
    ) -> Result<(A, ScanStats), ReportError> {
        self.elf_with(event_type, fields, &A::default)
    }

    /// Scans an EventLogFile type, each worker's accumulator made by `make`.
    pub fn elf_with<A: Acc>(
        &self,
        event_type: &str,
        fields: &[&str],
        make: &(dyn Fn() -> A + Sync),
    ) -> Result<(A, ScanStats), ReportError> {
        self.scan(|a, w| a.elf_files(event_type, w), fields, make)
    }

    /// Scans an object source (LoginEvent, SetupAuditTrail, ...) over every archive.
    pub fn object<A: Acc + Default>(
        &self,
        source: &str,
        fields: &[&str],
    ) -> Result<(A, ScanStats), ReportError> {
        self.object_with(source, fields, &A::default)
    }

    /// Scans an object source, each worker's accumulator made by `make`.
    pub fn object_with<A: Acc>(
        &self,
        source: &str,
        fields: &[&str],
        make: &(dyn Fn() -> A + Sync),
    ) -> Result<(A, ScanStats), ReportError> {
        self.scan(|a, w| a.object_files(source, w), fields, make)
    }

    /// Scans an archive dataset by name (`alert`) over every archive.
    pub fn dataset<A: Acc + Default>(
        &self,
        dataset: &str,
        fields: &[&str],
    ) -> Result<(A, ScanStats), ReportError> {
        self.scan(|a, w| a.dataset_files(dataset, w), fields, &A::default)
    }

    /// The files `files_of` lists in every archive, scanned together.
    fn scan<A: Acc>(
        &self,
        files_of: impl Fn(&Ledger, &Window) -> Result<Vec<FileRef>, ReportError>,
        fields: &[&str],
        make: &(dyn Fn() -> A + Sync),
    ) -> Result<(A, ScanStats), ReportError> {
        let mut files = Vec::new();
        for l in self.ledgers {
            files.extend(files_of(l, &self.opts.window)?);
        }
        ledger::scan(&files, &Fields::new(fields), &self.opts.window, make)
    }
}

/// "ApiTotalUsage (EventLogFile): 90 files, 1,950 rows" — what a section drew on.
pub fn drew_on(what: &str, s: &ScanStats) -> String {
    let mut line = format!(
        "{what}: {} files, {} rows",
        model::grouped(s.files as i64),
        model::grouped(s.rows as i64)
    );
    if s.missing > 0 {
        line.push_str(&format!(
            " ({} files no longer on disk: removed by retention)",
            s.missing
        ));
    }
    line
}

/// Builds the named report (or every report with data, for `all`) into a document.
pub fn build(name: &str, ledgers: &[Ledger], opts: &Options) -> Result<Document, ReportError> {
    let ctx = Ctx { ledgers, opts };
    let names: Vec<&str> = if name == "all" {
        NAMES.to_vec()
    } else if NAMES.contains(&name) {
        vec![name]
    } else {
        return Err(ReportError::Usage(format!(
            "there is no report '{name}'. Fix: use one of {}, or all",
            NAMES.join(", ")
        )));
    };
    let mut sections = Vec::new();
    let mut spans = Vec::new();
    for n in &names {
        let (section, span) = match *n {
            "api-usage" => api_usage::build(&ctx)?,
            "logins" => logins::build(&ctx)?,
            "connected-apps" => connected_apps::build(&ctx)?,
            "data-access" => data_access::build(&ctx)?,
            "setup-changes" => setup_changes::build(&ctx)?,
            "apex" => apex::build(&ctx)?,
            "alerts" => alerts::build(&ctx)?,
            _ => health::build(&ctx)?,
        };
        spans.push(span);
        // `all` leaves out what has no data, but says which were left out. `health` is always
        // kept, and `alerts` never sets `empty`: that no alert was raised is news too.
        if name == "all" && section.empty.is_some() && *n != "health" {
            continue;
        }
        sections.push(section);
    }
    let mut span = ScanStats::default();
    for s in &spans {
        span.merge(s);
    }
    let title = if name == "all" {
        "Salesforce event monitoring report".to_string()
    } else {
        sections
            .first()
            .map(|s| s.title.clone())
            .unwrap_or_default()
    };
    Ok(Document {
        title,
        orgs: ledgers
            .iter()
            .map(|l| OrgInfo {
                name: l.org.clone(),
                org_id: l.org_id.clone(),
                archive: l.root.display().to_string(),
            })
            .collect(),
        period: Period {
            since: opts.window.since.clone(),
            until: opts.window.until.clone(),
            first_event: span.first,
            last_event: span.last,
        },
        generated_at: base::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sections,
    })
}

/// A section that found nothing in the period: says so, and what it looked for.
pub fn empty_section(id: &str, title: &str, looked_for: &str, sources: Vec<String>) -> Section {
    Section {
        sources,
        empty: Some(format!(
            "No data for this period: the archive holds no {looked_for} events in it."
        )),
        ..Section::new(id, title)
    }
}
