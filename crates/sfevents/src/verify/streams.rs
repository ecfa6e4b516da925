//! The Pub/Sub streams: per day, how many of an object's archived events came by the stream
//! and how many by REST (from each line's `via`); and, with `--deep`, a streamed object that
//! is not also polled re-read from its storage object over the days the stream covers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::deep::{plan_deep, DeepPlan};
use super::error::VerifyError;
use super::ledger::Inventory;
use super::records::{fold_lines, read_archived};
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::parse_sf_datetime;
use salesforce::config::{object_defaults, OrgConfig, StreamConfig};

/// Adds a row per stream: its object's archived events per day, by the path that brought
/// them.
pub async fn by_path(r: &mut OrgVerdicts, org: &OrgConfig, ledger: &Inventory) {
    for s in &org.streams {
        let check = format!("stream {}", s.topic);
        let days = match ledger.object_paths(&s.source) {
            Ok(paths) => per_day_by_path(org.archive_dir.clone(), paths).await,
            Err(e) => Err(e),
        };
        match days {
            Ok(days) if days.is_empty() => r.add(&check, Verdict::Ok, "nothing archived yet"),
            Ok(days) => {
                let list: Vec<String> = days
                    .iter()
                    .map(|(d, (streamed, rest))| {
                        format!("{d}: {streamed} streamed, {rest} by REST")
                    })
                    .collect();
                r.add(
                    &check,
                    Verdict::Ok,
                    format!("{} archived per day by path: {}", s.source, list.join("; ")),
                );
            }
            Err(e) => r.add(&check, Verdict::Error, e.to_string()),
        }
    }
}

/// Per day of `@timestamp`: events that came by the stream, and by REST.
async fn per_day_by_path(
    root: PathBuf,
    paths: Vec<String>,
) -> Result<BTreeMap<String, (u64, u64)>, VerifyError> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "@timestamp")]
        timestamp: String,
        via: Option<String>,
    }
    let days = BTreeMap::new();
    fold_lines(
        root,
        paths,
        days,
        |days: &mut BTreeMap<String, (u64, u64)>, l: Line| {
            let day = l.timestamp.get(..10).unwrap_or("?").to_string();
            let e = days.entry(day).or_default();
            match l.via.as_deref() {
                Some("pubsub") => e.0 += 1,
                _ => e.1 += 1,
            }
        },
    )
    .await
}

/// The `--deep` plans of streamed objects that are not also polled: from their oldest
/// archived event (the stream's start) to now; events newer than the newest archived one
/// count as pending.
pub async fn deep_plans(
    r: &mut OrgVerdicts,
    org: &OrgConfig,
    ledger: &Inventory,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<DeepPlan> {
    let mut plans = Vec::new();
    for s in org.streams.iter().filter(|s| !s.polled) {
        match stream_plan(s, org, ledger, since, now).await {
            Ok(Some(p)) => plans.push(p),
            Ok(None) => {}
            Err(e) => r.add(
                &format!("{} (deep)", s.source),
                Verdict::Error,
                e.to_string(),
            ),
        }
    }
    plans
}

async fn stream_plan(
    s: &StreamConfig,
    org: &OrgConfig,
    ledger: &Inventory,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DeepPlan>, VerifyError> {
    let recs = read_archived(org.archive_dir.clone(), ledger.object_paths(&s.source)?).await?;
    let times = recs.iter().filter_map(|(t, _)| parse_sf_datetime(t));
    let (Some(oldest), Some(newest)) = (times.clone().min(), times.max()) else {
        return Ok(None);
    };
    let Ok(cfg) = object_defaults(&s.source) else {
        return Ok(None);
    };
    let mut days = BTreeMap::new();
    for (t, _) in &recs {
        *days.entry(t[..10].to_string()).or_default() += 1u64;
    }
    // Just before the oldest: the window is `(start, end]`.
    let start = since
        .unwrap_or(oldest)
        .max(oldest - chrono::Duration::milliseconds(1));
    let mut plan = plan_deep(&cfg, &days, Some(newest), Some(start), now);
    plan.next_lower = newest;
    Ok(Some(plan))
}
