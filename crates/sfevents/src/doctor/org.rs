//! Checks that ask the org: the login, the user's permissions (from what the org answers,
//! not from describing profiles), what the org publishes (EventLogFile types, hourly files,
//! retention, Real-Time Event Monitoring storage), API headroom and the clock. Each costs one
//! or two API calls; the total is returned.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use super::Report;
use salesforce::auth::{AuthError, TokenManager};
use salesforce::client::{ApiError, ApiStats, RetryPolicy, SfClient};
use salesforce::config::{IntervalChoice, ObjectKind, OrgConfig};

/// Clock skew past which a JWT login is at risk (Salesforce allows about 3 minutes).
const SKEW_WARN_SECS: i64 = 60;

/// Runs the org's checks and returns the API calls they spent.
pub async fn check(r: &mut Report, org: &OrgConfig) -> u64 {
    let scope = format!("org '{}'", org.name);
    let http = match salesforce::client::build_http_client(org.ca_file.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            r.problem(&scope, "https", e.to_string());
            return 0;
        }
    };
    let stats = Arc::new(ApiStats::default());
    let client = SfClient {
        http: http.clone(),
        tokens: Arc::new(TokenManager::new(org.clone(), http)),
        api_version: org.api_version.clone(),
        // Doctor reports a fault; it does not wait one out.
        retry: RetryPolicy::new(2),
        stats: stats.clone(),
        budget: None,
    };
    let login = format!("login ({})", org.auth.method());
    match client.tokens.session().await {
        Ok(s) => r.ok(
            &scope,
            &login,
            format!(
                "logged in to org {} at {}",
                s.org_id().as_deref().unwrap_or("?"),
                s.instance_url
            ),
        ),
        Err(e) => {
            let fix = match &e {
                // The auth module's message already names the setting to change.
                AuthError::Rejected(m) => m.clone(),
                AuthError::Network(m) | AuthError::Protocol(m) => m.clone(),
            };
            r.problem(&scope, &login, fix);
            r.warn(&scope, "org checks", "skipped: they need a login");
            return stats.calls();
        }
    }
    let limits = api_enabled_and_clock(r, &scope, &client).await;
    let files = if org.elf.enabled {
        event_log_files(r, &scope, org, &client).await
    } else {
        r.ok(
            &scope,
            "EventLogFile",
            "not collected (no event type configured): not checked",
        );
        None
    };
    objects(r, &scope, org, &client).await;
    super::streams::check(r, &scope, org, &client).await;
    if let Some((max, remaining)) = limits {
        headroom(r, &scope, org, max, remaining, files);
    }
    stats.calls()
}

/// `/limits`: proves API Enabled, gives DailyApiRequests, and its `Date` header the clock.
async fn api_enabled_and_clock(r: &mut Report, scope: &str, c: &SfClient) -> Option<(u64, u64)> {
    let resp = match c
        .send(Method::GET, &format!("{}/limits", c.data_path()), &[])
        .await
    {
        Ok(resp) => resp,
        Err(e) => {
            r.problem(scope, "API Enabled", api_fix(&e, "the REST API"));
            return None;
        }
    };
    r.ok(scope, "API Enabled", "the REST API answers");
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    match date {
        Some(d) => {
            let skew = (Utc::now() - d.with_timezone(&Utc)).num_seconds();
            if skew.abs() > SKEW_WARN_SECS {
                r.warn(
                    scope,
                    "clock",
                    format!(
                        "this machine's clock is {} s {} Salesforce's: JWT logins fail past about 3 minutes. Fix: enable NTP (timedatectl set-ntp true)",
                        skew.abs(),
                        if skew > 0 { "ahead of" } else { "behind" }
                    ),
                );
            } else {
                r.ok(
                    scope,
                    "clock",
                    format!("within {} s of Salesforce's", skew.abs().max(1)),
                );
            }
        }
        None => r.warn(
            scope,
            "clock",
            "Salesforce sent no Date header: cannot compare clocks",
        ),
    }
    let v: Value = resp.json().await.ok()?;
    let d = &v["DailyApiRequests"];
    let num = |x: &Value| x.as_u64().or_else(|| x.as_str()?.parse().ok());
    Some((num(&d["Max"])?, num(&d["Remaining"])?))
}

/// Turns a refused request into what to change in Setup.
fn api_fix(e: &ApiError, what: &str) -> String {
    match e {
        ApiError::Status { code, message, .. } if code == "API_DISABLED_FOR_ORG" => format!(
            "{what} is refused ({code}: {message}). Fix: the org's edition has no API access (Enterprise, Unlimited, Performance or Developer Edition needed)"
        ),
        ApiError::Status { code, message, .. }
            if code == "INSUFFICIENT_ACCESS" || code == "API_CURRENTLY_DISABLED" =>
        {
            format!(
                "{what} is refused ({code}: {message}). Fix: give the user 'API Enabled' in its profile or a permission set"
            )
        }
        other => format!("{what} failed: {other}"),
    }
}

/// Whether an error says the user may not see the object (no permission or no licence).
fn denied(e: &ApiError) -> bool {
    matches!(e, ApiError::Status { code, .. } if code == "INVALID_TYPE" || code == "INSUFFICIENT_ACCESS")
}

/// What the org's files say, for the API estimate: files per day of the types collected.
struct Files {
    per_day: u64,
}

/// View Event Log Files, the types present, hourly files and retention: one listing query.
async fn event_log_files(
    r: &mut Report,
    scope: &str,
    org: &OrgConfig,
    c: &SfClient,
) -> Option<Files> {
    let rows = list_event_log_files(r, scope, c).await?;
    // The collector's now (SFEVENTS_NOW in tests and replays), as the files are judged by it.
    let now = base::clock::now();
    let listed = Listed::of(&rows, org, now);
    event_types(r, scope, org, &listed);
    if let Some(o) = listed.oldest {
        let days = (now - o).num_days();
        // A young org or a quiet one also shows few days: say what each span usually means.
        let meaning = if days <= 1 {
            "about 1 day, what an org without Event Monitoring keeps: collect at least daily"
        } else if days >= 28 {
            "about 30 days, Event Monitoring's retention"
        } else {
            "Event Monitoring keeps 30 days, an org without it 1 day"
        };
        r.ok(
            scope,
            "retention",
            format!("the oldest file is {days} day(s) old — {meaning}"),
        );
    }
    Some(Files {
        per_day: listed.last_day / 2,
    })
}

/// The listing of every EventLogFile (type, interval, day), or `None` when it is refused.
async fn list_event_log_files(
    r: &mut Report,
    scope: &str,
    c: &SfClient,
) -> Option<Vec<serde_json::Map<String, Value>>> {
    let what = "View Event Log Files";
    let soql = "SELECT EventType, Interval, LogDate FROM EventLogFile";
    match c.query_all(soql).await {
        Ok(rows) => {
            r.ok(
                scope,
                what,
                format!("EventLogFile answers ({} files listed)", rows.len()),
            );
            Some(rows)
        }
        Err(e) if denied(&e) => {
            r.problem(
                scope,
                what,
                format!(
                    "EventLogFile is refused ({e}). Fix: give the user the 'View Event Log Files' permission (a permission set), and check the org has EventLogFile (every org has the free daily types; Event Monitoring adds the rest)"
                ),
            );
            None
        }
        Err(ApiError::Status { code, .. }) if code == "INVALID_FIELD" => {
            r.warn(
                scope,
                what,
                "EventLogFile answers but hides its Interval field. Fix: in Setup > Object Manager > Event Log File > Fields, make Interval visible to the user's profile",
            );
            None
        }
        Err(e) => {
            r.problem(scope, what, format!("listing EventLogFile failed: {e}"));
            None
        }
    }
}

/// What the listing says.
struct Listed {
    /// Files per type: (daily, hourly).
    types: BTreeMap<String, (u64, u64)>,
    oldest: Option<DateTime<Utc>>,
    /// Files of the configured types and interval from the last two days.
    last_day: u64,
}

impl Listed {
    fn of(rows: &[serde_json::Map<String, Value>], org: &OrgConfig, now: DateTime<Utc>) -> Listed {
        let mut l = Listed {
            types: BTreeMap::new(),
            oldest: None,
            last_day: 0,
        };
        for row in rows {
            let t = row.get("EventType").and_then(Value::as_str).unwrap_or("?");
            let hourly = row.get("Interval").and_then(Value::as_str) == Some("Hourly");
            let e = l.types.entry(t.to_string()).or_default();
            if hourly {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
            let day = row
                .get("LogDate")
                .and_then(Value::as_str)
                .and_then(archive::normalize::parse_sf_datetime);
            if let Some(d) = day {
                l.oldest = Some(l.oldest.map_or(d, |o| o.min(d)));
                let wanted =
                    org.elf.event_types.is_empty() || org.elf.event_types.iter().any(|w| w == t);
                let chosen = match org.elf.interval {
                    IntervalChoice::Daily => !hourly,
                    _ => true,
                };
                if wanted && chosen && now - d <= chrono::Duration::days(2) {
                    l.last_day += 1;
                }
            }
        }
        l
    }
}

/// The types the org publishes, the configured ones it lacks, and hourly files.
fn event_types(r: &mut Report, scope: &str, org: &OrgConfig, listed: &Listed) {
    let types = &listed.types;
    let hourly_types: BTreeSet<&String> = types
        .iter()
        .filter(|(_, (_, h))| *h > 0)
        .map(|(t, _)| t)
        .collect();
    if types.is_empty() {
        r.warn(
            scope,
            "event types",
            "the org has no EventLogFile at all. Fix: files appear a day after activity; without an Event Monitoring licence only Login, Logout, API Total Usage, CORS and a few others are published",
        );
    } else {
        r.ok(
            scope,
            "event types",
            format!(
                "{} types: {}",
                types.len(),
                types.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    for want in &org.elf.event_types {
        if !types.contains_key(want) {
            r.warn(
                scope,
                "event types",
                format!(
                    "configured type {want} has no file: it needs the Event Monitoring licence (Salesforce Shield or the add-on) unless it is a free type, or nothing of that kind happened. Fix: check Setup > Company Information > Permission Set Licenses for Event Monitoring, or drop the type"
                ),
            );
        }
    }
    let wants_hourly = org.elf.interval != IntervalChoice::Daily;
    if wants_hourly && hourly_types.is_empty() && !types.is_empty() {
        r.warn(
            scope,
            "hourly files",
            "the org publishes no hourly files (Interval='Hourly'), so events arrive a day late. Fix: hourly files need Event Monitoring; with it, turn on Setup > Event Monitoring Settings > 'Enable Hourly Event Log Files'",
        );
    } else if wants_hourly {
        r.ok(
            scope,
            "hourly files",
            format!("{} types published hourly", hourly_types.len()),
        );
    }
}

/// View Real-Time Event Monitoring Data and storage, per configured object: one query each.
async fn objects(r: &mut Report, scope: &str, org: &OrgConfig, c: &SfClient) {
    for o in &org.objects {
        let (soql, permission) = match o.kind {
            // Big objects: no COUNT(); ORDER BY only on the index, descending.
            ObjectKind::Event => (
                format!(
                    "SELECT EventDate FROM {} ORDER BY EventDate DESC LIMIT 1",
                    o.name
                ),
                "View Real-Time Event Monitoring Data",
            ),
            ObjectKind::SObject => (format!("SELECT Id FROM {} LIMIT 1", o.name), "read access"),
        };
        let what = format!("object {}", o.name);
        match c.query_all(&soql).await {
            Err(e) if denied(&e) => r.problem(
                scope,
                &what,
                match o.kind {
                    ObjectKind::Event => format!(
                        "{} is refused ({e}). Fix: give the user '{permission}' (a permission set); the org needs Real-Time Event Monitoring (Salesforce Shield or the Event Monitoring add-on)",
                        o.name
                    ),
                    ObjectKind::SObject => format!(
                        "{} is refused ({e}). Fix: give the user access to it ('View Setup and Configuration' for SetupAuditTrail, 'Manage Users' for LoginHistory)",
                        o.name
                    ),
                },
            ),
            Err(e) => r.problem(scope, &what, format!("querying {} failed: {e}", o.name)),
            Ok(rows) if rows.is_empty() && o.kind == ObjectKind::Event => r.warn(
                scope,
                &what,
                format!(
                    "{} has no records: its storage is probably not enabled. Fix: in Setup > Event Manager, choose {} > Enable Storage",
                    o.name, o.name
                ),
            ),
            Ok(rows) if rows.is_empty() => {
                r.ok(scope, &what, format!("{} answers but holds no records yet", o.name))
            }
            Ok(rows) => {
                let newest = rows[0].get("EventDate").and_then(Value::as_str).unwrap_or("");
                let note = if newest.is_empty() { String::new() } else { format!(", newest {newest}") };
                r.ok(scope, &what, format!("{} answers with records{note}", o.name))
            }
        }
    }
}

/// DailyApiRequests left against what the configured schedule spends per day.
fn headroom(
    r: &mut Report,
    scope: &str,
    org: &OrgConfig,
    max: u64,
    remaining: u64,
    files: Option<Files>,
) {
    let day = 86_400u64;
    let mut spend = 0u64;
    for o in &org.objects {
        let every = o.every_seconds.max(1);
        let per_cycle = every.div_ceil(o.window_secs.max(1) as u64).max(1);
        // A describe a day, and at least one query per cycle.
        spend += 1 + day.div_ceil(every) * per_cycle;
    }
    if org.elf.enabled {
        spend += day.div_ceil(org.elf.every_seconds.max(1)) + files.map_or(0, |f| f.per_day);
    }
    let used = max.saturating_sub(remaining);
    let line = format!(
        "{used} of {max} DailyApiRequests used, {remaining} left; `sfevents run` as configured spends about {spend} a day"
    );
    let budget = max * u64::from(org.api_budget_percent.min(100)) / 100;
    if spend > budget {
        r.warn(
            scope,
            "API headroom",
            format!(
                "{line}, over the budget of {budget} (api_budget_percent {}). Fix: raise object_every / elf_every, collect fewer objects, or buy more API calls",
                org.api_budget_percent
            ),
        );
    } else if remaining < spend / 24 + 10 {
        r.warn(scope, "API headroom", format!("{line}: little is left today. Fix: find what else spends the org's calls (Setup > System Overview)"));
    } else {
        r.ok(scope, "API headroom", line);
    }
}
