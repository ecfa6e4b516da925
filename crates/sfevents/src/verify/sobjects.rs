//! SetupAuditTrail, LoginHistory and other SObjects: records per day of the source's date
//! field against the archive's (its `@timestamp`).
//!
//! The cheaper of two readings is chosen from the archive's own counts (no call spent
//! deciding): one query of Id and the date field, counted here (a call per 2,000 records),
//! or one `SELECT COUNT()` per day. The first is chosen whenever it costs no more, and it also
//! names the missing records; for a dense object over few days the counts win, and only the
//! days whose counts differ are then listed.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::error::VerifyError;
use super::ledger::Inventory;
use super::records::{compare, day_start, per_day, read_archived, Compare, Rec, PAGE};
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::{iso, parse_sf_datetime};
use salesforce::client::SfClient;
use salesforce::config::ObjectConfig;
use salesforce::sources::records::soql_time;

/// An SObject (SetupAuditTrail, LoginHistory, ...): Salesforce's records per day against the
/// archive's.
pub async fn sobject(
    r: &mut OrgVerdicts,
    cfg: &ObjectConfig,
    ledger: &Inventory,
    client: &SfClient,
    root: PathBuf,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let check = cfg.name.as_str();
    let (cf, cursor) = match followed(cfg, ledger, client).await {
        Ok(f) => f,
        Err(e) => return r.add(check, Verdict::Error, e.to_string()),
    };
    let versioned = ["SystemModstamp", "LastModifiedDate"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(&cf));
    let backfill = now - Duration::days(i64::from(cfg.backfill_days));
    let next_lower = cursor
        .map(|p| (p - Duration::seconds(cfg.lookback_secs)).max(backfill))
        .unwrap_or(backfill);
    let paths = match ledger.object_paths(check) {
        Ok(p) => p,
        Err(e) => return r.add(check, Verdict::Error, e.to_string()),
    };
    let archived = match read_archived(root, paths).await {
        Ok(a) => a,
        Err(e) => return r.add(check, Verdict::Error, e.to_string()),
    };
    let (from, to) = (since.map(|s| iso(&s)).unwrap_or_default(), iso(&now));
    let mine: Vec<Rec> = archived
        .into_iter()
        .filter(|(t, _)| t.as_str() >= from.as_str() && t.as_str() < to.as_str())
        .collect();
    let estimate = mine.len() as u64;
    // COUNT() per day needs a first day: --since, or as far back as Salesforce keeps.
    let first = since.unwrap_or(backfill);
    let ndays = (now - day_start(first)).num_days().max(0) as u64 + 1;
    let by_ids = estimate.div_ceil(PAGE).max(1);
    let c = Compare {
        check,
        source: check,
        next_lower,
        cursor,
    };
    let read = Reader {
        client,
        object: check,
        cf: &cf,
        versioned,
    };
    if by_ids > ndays {
        return counts(r, &c, &read, ledger, first, now, &mine, ndays, by_ids).await;
    }
    let sf = match read.records(since, now).await {
        Ok(sf) => sf,
        Err(e) => return r.add(check, Verdict::Error, format!("cannot query {check}: {e}")),
    };
    let before = r.rows.len();
    let t = compare(r, &c, ledger, &sf, &mine);
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            check,
            Verdict::Ok,
            format!(
                "{} day(s), {} record(s) in both: every record Salesforce returns is archived (by {cf}; one query of Id and {cf} counted here, {by_ids} call(s), where a COUNT() per day would cost {ndays})",
                t.days, t.matched
            ),
        );
    }
}

/// Reads an SObject's keys and times.
struct Reader<'a> {
    client: &'a SfClient,
    object: &'a str,
    cf: &'a str,
    versioned: bool,
}

impl Reader<'_> {
    /// Records with the date field in `[from, to)`: one query, a call per 2,000 records.
    async fn records(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Rec>, salesforce::client::ApiError> {
        let (object, cf) = (self.object, self.cf);
        let mut filter = format!("{cf} < {}", soql_time(&to));
        if let Some(s) = from {
            filter = format!("{cf} >= {} AND {filter}", soql_time(&s));
        }
        let soql =
            format!("SELECT Id, {cf} FROM {object} WHERE {filter} ORDER BY {cf} ASC, Id ASC");
        let rows = self.client.query_all(&soql).await?;
        let mut sf: Vec<Rec> = Vec::with_capacity(rows.len());
        for row in &rows {
            let raw = row.get(cf).and_then(Value::as_str);
            let (Some(id), Some(raw), Some(t)) = (
                row.get("Id").and_then(Value::as_str),
                raw,
                raw.and_then(parse_sf_datetime),
            ) else {
                continue;
            };
            // The collector's de-duplication key (`sources::sobjects`).
            let key = if self.versioned {
                format!("{id}@{raw}")
            } else {
                id.to_string()
            };
            sf.push((iso(&t), key));
        }
        Ok(sf)
    }

    /// `SELECT COUNT()` of `[from, to)`: one call.
    async fn count(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, salesforce::client::ApiError> {
        let (object, cf) = (self.object, self.cf);
        let soql = format!(
            "SELECT COUNT() FROM {object} WHERE {cf} >= {} AND {cf} < {}",
            soql_time(&from),
            soql_time(&to)
        );
        self.client.query_pages(&soql, |_, _| Ok(())).await
    }
}

/// One `SELECT COUNT()` per day from `first` to `now`; the records of the days where
/// Salesforce has more are then listed, to name them and tell pending from missing.
#[allow(clippy::too_many_arguments)]
async fn counts(
    r: &mut OrgVerdicts,
    c: &Compare<'_>,
    read: &Reader<'_>,
    ledger: &Inventory,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
    archived: &[Rec],
    ndays: u64,
    by_ids: u64,
) {
    let check = c.check;
    let local = per_day(archived, &iso(&first), &iso(&now));
    let (mut total, mut dropped) = (0u64, 0u64);
    let mut short: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut start = first;
    while start < now {
        let end = (day_start(start) + Duration::days(1)).min(now);
        let n = match read.count(start, end).await {
            Ok(n) => n,
            Err(e) => return r.add(check, Verdict::Error, format!("cannot count {check}: {e}")),
        };
        let a = local
            .get(&start.format("%Y-%m-%d").to_string())
            .copied()
            .unwrap_or(0);
        total += n.min(a);
        if n < a {
            dropped += a - n;
        } else if n > a {
            short.push((start, end));
        }
        start = end;
    }
    if dropped > 0 {
        r.add(
            check,
            Verdict::Dropped,
            format!("{dropped} archived record(s) that Salesforce no longer counts: the archive keeps them"),
        );
    }
    let before = r.rows.len();
    for (a, b) in short {
        let sf = match read.records(Some(a), b).await {
            Ok(sf) => sf,
            Err(e) => return r.add(check, Verdict::Error, format!("cannot query {check}: {e}")),
        };
        let (from, to) = (iso(&a), iso(&b));
        let mine: Vec<Rec> = archived
            .iter()
            .filter(|(t, _)| t.as_str() >= from.as_str() && t.as_str() < to.as_str())
            .cloned()
            .collect();
        compare(r, c, ledger, &sf, &mine);
    }
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            check,
            Verdict::Ok,
            format!(
                "{ndays} day(s), {total} record(s): Salesforce's COUNT() per day by {} is what the archive holds ({ndays} COUNT() queries, where listing the records would cost {by_ids} calls)",
                read.cf
            ),
        );
    }
}

/// The date field the collector follows (its cursor's key), and where its cursor stands.
async fn followed(
    cfg: &ObjectConfig,
    ledger: &Inventory,
    client: &SfClient,
) -> Result<(String, Option<DateTime<Utc>>), VerifyError> {
    let cursors = ledger.cursors(&cfg.name)?;
    let cf = match cursors.keys().next() {
        Some(k) => k.clone(),
        None => date_field(cfg, ledger, client).await?,
    };
    let cursor = cursors
        .get(&cf)
        .and_then(|c| parse_sf_datetime(&c.position));
    Ok((cf, cursor))
}

/// The date field the collector follows when it has no cursor yet: as `sources::sobjects`.
async fn date_field(
    cfg: &ObjectConfig,
    ledger: &Inventory,
    client: &SfClient,
) -> Result<String, VerifyError> {
    if cfg.cursor_field.is_some()
        || cfg.name.eq_ignore_ascii_case("LoginHistory")
        || cfg.name.eq_ignore_ascii_case("SetupAuditTrail")
    {
        return Ok(salesforce::sources::sobjects::cursor_field(cfg, &[]));
    }
    // The collector's cached describe, else one describe call.
    let cached = ledger
        .meta(&format!("describe:{}", cfg.name))?
        .and_then(|v| serde_json::from_str::<Value>(&v).ok())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v["fields"].clone()).ok());
    let fields = match cached {
        Some(f) => f,
        None => {
            let d: Value = client
                .get_json(
                    &format!("{}/sobjects/{}/describe", client.data_path(), cfg.name),
                    &[],
                )
                .await
                .map_err(|source| VerifyError::Describe {
                    object: cfg.name.clone(),
                    source,
                })?;
            d["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["name"].as_str().map(str::to_string))
                .collect()
        }
    };
    Ok(salesforce::sources::sobjects::cursor_field(cfg, &fields))
}
