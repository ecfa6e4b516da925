//! `sfevents verify`: a completeness audit of each org's archive against Salesforce.
//!
//! - `archive_files.rs`: the archive against its own ledger (raw CSV sha256, NDJSON rows,
//!   files on disk that no ledger lists). No call to Salesforce.
//! - `elf.rs`: EventLogFile as Salesforce lists it against the ledger, with what the next
//!   `collect` would take (the planner's rule).
//! - `sobjects.rs`: SObjects' records per day; `deep.rs`: with `--deep`, the Real-Time Event
//!   Monitoring objects' EventIdentifiers per day; `records.rs`: the per-day comparison
//!   they share.
//! - `ledger.rs`: state.db, read through archive's read-only `state::Reader` (every query
//!   verify makes is in `archive::state::reader::verify`).
//! - `error.rs`: why a check could not run.
//! - `report.rs`: verdicts, the table and the JSON object.
//!
//! Read-only on the archive: no archive file, cursor or ledger row changes. The one write is
//! the run's row in `runs` (status `verify`, its API calls), so `status` and the API
//! accounting see what verify spent.

mod archive_files;
mod deep;
mod elf;
mod error;
mod ledger;
mod records;
mod report;
mod sobjects;
mod streams;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use archive::normalize::parse_sf_datetime;
use base::exit;
use error::VerifyError;
pub use report::{OrgVerdicts, Row, Verdict};
use salesforce::auth::{AuthError, TokenManager};
use salesforce::client::{ApiError, ApiStats, RetryPolicy, SfClient};
use salesforce::config::{self, ObjectKind, OrgConfig, Overrides};

/// `sfevents verify`'s own flags (the org flags are `collect`'s).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VerifyArgs {
    /// Only what happened on or after this day or instant (2026-03-01, 2026-03-01T12:00:00Z);
    /// default: as far back as Salesforce keeps.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Also re-read the EventIdentifiers of the Real-Time Event Monitoring objects (LoginEvent,
    /// ApiEvent, ...) day by day. Costs API calls: the estimate is printed first, and verify
    /// stops if it would pass api_budget_percent.
    #[arg(long)]
    pub deep: bool,
    /// table (one per org) or json (one object).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// The run's status in `runs`: apart from collections' `ok`/`partial`/`stopped`.
pub const RUN_STATUS: &str = "verify";

/// Verifies every configured org and returns the exit code: 0 nothing missing or corrupt, 1
/// something is (or a check could not run), 2 a usage or configuration error.
pub async fn run(ov: &Overrides, args: &VerifyArgs) -> u8 {
    let since = match args.since.as_deref().map(crate::ship::parse_instant) {
        None => None,
        Some(Ok(s)) => parse_sf_datetime(&s),
        Some(Err(e)) => {
            eprintln!("error: --since {e}");
            return exit::CONFIG;
        }
    };
    let orgs = match config::resolve(ov) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let mut reports = Vec::new();
    for org in &orgs {
        let rep = verify_org(org, args, since).await;
        if args.format == Format::Table {
            print!("{}", rep.table());
        }
        reports.push(rep);
    }
    if args.format == Format::Json {
        println!("{}", report::json(&reports));
    } else if reports.len() > 1 {
        let calls: u64 = reports.iter().map(|r| r.api_calls).sum();
        let bad = reports.iter().filter(|r| !r.ok()).count();
        println!(
            "{} org(s) verified, {bad} with something missing or corrupt; {calls} Salesforce API call(s) spent",
            reports.len()
        );
    }
    if reports.iter().any(|r| r.config_error) {
        exit::CONFIG
    } else if reports.iter().all(OrgVerdicts::ok) {
        exit::OK
    } else {
        exit::PARTIAL
    }
}

fn config_error(mut r: OrgVerdicts, check: &str, why: String) -> OrgVerdicts {
    eprintln!("error: org '{}': {why}", r.org);
    r.add(check, Verdict::Error, why);
    r.config_error = true;
    r
}

async fn verify_org(
    org: &OrgConfig,
    args: &VerifyArgs,
    since: Option<DateTime<Utc>>,
) -> OrgVerdicts {
    let now = base::clock::now();
    let mut r = OrgVerdicts {
        org: org.name.clone(),
        archive: org.archive_dir.display().to_string(),
        ..Default::default()
    };
    let ledger = match ledger::open(&org.archive_dir.join("state.db"), &org.name) {
        Ok(Some(l)) => l,
        Ok(None) => {
            let why = format!(
                "no archive at {} (no state.db): run `sfevents collect` first, or give the archive's --output-dir",
                org.archive_dir.display()
            );
            return config_error(r, "archive", why);
        }
        Err(e) => return config_error(r, "archive", e.to_string()),
    };
    let http = match salesforce::client::build_http_client(org.ca_file.as_deref()) {
        Ok(h) => h,
        Err(e) => return config_error(r, "login", e.to_string()),
    };
    let stats = Arc::new(ApiStats::default());
    let client = SfClient {
        http: http.clone(),
        tokens: Arc::new(TokenManager::new(org.clone(), http)),
        api_version: org.api_version.clone(),
        retry: RetryPolicy::new(org.max_attempts),
        stats: stats.clone(),
        // Verify spends what the collector may spend, no more.
        budget: Some(org.api_budget_percent),
    };
    match client.org_id().await {
        Ok(id) => r.org_id = Some(id),
        Err(ApiError::Auth(AuthError::Rejected(m))) => return config_error(r, "login", m),
        Err(e) => {
            r.add("login", Verdict::Error, format!("cannot log in: {e}"));
        }
    }
    if let Some(why) = foreign_archive(org, &ledger, r.org_id.as_deref()) {
        return config_error(r, "archive", why);
    }
    against_archive(&mut r, org, &ledger, since, now).await;
    if r.org_id.is_some() {
        against_salesforce(&mut r, org, args, &ledger, &client, since, now).await;
    }
    r.api_calls = stats.calls();
    record_run(org, &r, stats.usage());
    r
}

/// Why the archive belongs to another org than the one the credentials log in to (`id`), if
/// it does: the org id it recorded differs (a 15-character id matches its 18-character form).
fn foreign_archive(
    org: &OrgConfig,
    ledger: &ledger::Inventory,
    id: Option<&str>,
) -> Option<String> {
    let id = id?;
    let known = ledger.meta("org_id").ok().flatten()?;
    if known == id || known.get(..15) == id.get(..15) {
        return None;
    }
    Some(format!(
        "the archive in {} belongs to org {known}, but these credentials log in to {id}: give the archive of this org with --output-dir",
        org.archive_dir.display()
    ))
}

/// The archive against its ledger: read the ledger first, then the disk on a blocking thread
/// (a file a running collection commits meanwhile is then in the ledger already).
async fn against_archive(
    r: &mut OrgVerdicts,
    org: &OrgConfig,
    ledger: &ledger::Inventory,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let since_iso = since.map(|s| archive::normalize::iso(&s));
    let inputs = (|| -> Result<archive_files::Inputs, VerifyError> {
        Ok(archive_files::Inputs {
            root: org.archive_dir.clone(),
            files: ledger.files(since_iso.as_deref())?,
            ndjson: ledger.ndjson_files()?,
            csv_paths: ledger.csv_paths()?,
            pending: ledger.pending()?,
            csv_keep_days: org.csv_keep_days,
            since_day: since_iso.as_ref().map(|s| s[..10].to_string()),
            now,
        })
    })();
    let i = match inputs {
        Ok(i) => i,
        Err(e) => return r.add("archive", Verdict::Error, e.to_string()),
    };
    let rows = tokio::task::spawn_blocking(move || {
        let mut part = OrgVerdicts::default();
        archive_files::check(&mut part, &i);
        part.rows
    })
    .await;
    match rows {
        Ok(rows) => r.rows.extend(rows),
        Err(e) => r.add("archive", Verdict::Error, e.to_string()),
    }
}

async fn against_salesforce(
    r: &mut OrgVerdicts,
    org: &OrgConfig,
    args: &VerifyArgs,
    ledger: &ledger::Inventory,
    client: &SfClient,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    if org.elf.enabled {
        elf::check(r, org, ledger, client, since, now).await;
    }
    let mut deep = Vec::new();
    for o in &org.objects {
        match o.kind {
            ObjectKind::SObject => {
                sobjects::sobject(r, o, ledger, client, org.archive_dir.clone(), since, now).await
            }
            ObjectKind::Event => deep.extend(event_object(r, o, args.deep, ledger, since, now)),
        }
    }
    streams::by_path(r, org, ledger).await;
    if args.deep {
        deep.extend(streams::deep_plans(r, org, ledger, since, now).await);
    }
    if deep.is_empty() || !deep_within_budget(r, org, client, &deep).await {
        return;
    }
    for plan in &deep {
        deep::deep(r, plan, ledger, client, org.archive_dir.clone()).await;
    }
}

/// A Real-Time Event Monitoring object: its `--deep` plan when `--deep` is given; without
/// it, a `skipped` row with what `--deep` would cost.
fn event_object(
    r: &mut OrgVerdicts,
    o: &config::ObjectConfig,
    deep: bool,
    ledger: &ledger::Inventory,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<deep::DeepPlan> {
    let plan = match deep_plan(o, ledger, since, now) {
        Ok(p) => p,
        Err(e) => {
            r.add(&format!("{} (deep)", o.name), Verdict::Error, e.to_string());
            return None;
        }
    };
    if deep {
        return Some(plan);
    }
    r.add(
        &o.name,
        Verdict::Skipped,
        format!(
            "not checked: --deep re-reads its EventIdentifiers, about {} API call(s)",
            plan.cost()
        ),
    );
    None
}

/// Whether the `--deep` re-reads fit in what api_budget_percent leaves today (one call to
/// /limits, which also sets the budget's last usage); prints the estimate first, and adds
/// the `error` row when they do not fit or the usage cannot be read.
async fn deep_within_budget(
    r: &mut OrgVerdicts,
    org: &OrgConfig,
    client: &SfClient,
    deep: &[deep::DeepPlan],
) -> bool {
    let cost: u64 = deep.iter().map(deep::DeepPlan::cost).sum();
    let names: Vec<&str> = deep.iter().map(|p| p.cfg.name.as_str()).collect();
    let (max, remaining) = match client.daily_api_requests().await {
        Ok(usage) => usage,
        Err(e) => {
            r.add(
                "deep",
                Verdict::Error,
                format!("cannot read the org's API usage (/limits) before --deep: {e}"),
            );
            return false;
        }
    };
    let budget = max * u64::from(org.api_budget_percent.min(100)) / 100;
    let left = budget.saturating_sub(max.saturating_sub(remaining));
    eprintln!(
        "verify: org '{}': --deep re-reads {} in about {cost} API call(s); {left} left within api_budget_percent ({}% of {max}, {remaining} remaining today)",
        org.name,
        names.join(", "),
        org.api_budget_percent
    );
    if cost > left {
        r.add(
            "deep",
            Verdict::Error,
            format!(
                "--deep would spend about {cost} API call(s) re-reading {}, but api_budget_percent ({}% of {max} DailyApiRequests) leaves {left} today: not started. Fix: narrow it with --since, or raise api_budget_percent",
                names.join(", "),
                org.api_budget_percent
            ),
        );
        return false;
    }
    true
}

/// The `--deep` plan of an RTEM object, from the ledger's rows per day (no file read).
fn deep_plan(
    o: &config::ObjectConfig,
    ledger: &ledger::Inventory,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<deep::DeepPlan, VerifyError> {
    let cursor = ledger
        .cursors(&o.name)?
        .get("EventDate")
        .and_then(|c| parse_sf_datetime(&c.position));
    let mut days = std::collections::BTreeMap::new();
    for (path, rows) in ledger.object_files(&o.name)? {
        if let Some(day) = archive_files::day_of(&path) {
            *days.entry(day.to_string()).or_default() += rows;
        }
    }
    Ok(deep::plan_deep(o, &days, cursor, since, now))
}

/// The run's row in `runs`: status `verify`, the API calls spent, the verdict as message.
fn record_run(org: &OrgConfig, r: &OrgVerdicts, usage: Option<(u64, u64)>) {
    let store = match archive::state::Store::open(&org.archive_dir.join("state.db")) {
        Ok(s) => s,
        Err(e) => return tracing::warn!("cannot record the verify run: {e}"),
    };
    let totals = archive::state::RunTotals {
        api_calls: r.api_calls,
        api_usage: usage.map(|(u, m)| format!("{u}/{m}")),
        ..Default::default()
    };
    let message = format!("verify: {}", r.summary());
    let res = store
        .begin_run(&org.name)
        .and_then(|id| store.finish_run(id, RUN_STATUS, &totals, Some(&message)));
    if let Err(e) = res {
        tracing::warn!("cannot record the verify run: {e}");
    }
}
