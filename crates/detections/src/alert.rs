//! An alert: one JSON document per rule firing, with an id that is the same however often the
//! same events are evaluated again (so a redo is harmless where the destination deduplicates).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::ArchiveEvent;
use crate::rule::{Level, RuleInfo};

/// At most this many event ids are listed; `events.total` counts them all.
pub const MAX_EVENT_IDS: usize = 100;

/// Fields that name the acting user, the client address and the app, in the order a summary
/// prefers them.
const USER_FIELDS: &[&str] = &[
    "USER_NAME",
    "Username",
    "CreatedBy.Username",
    "USER_ID",
    "UserId",
    "CreatedById",
];
const IP_FIELDS: &[&str] = &["SOURCE_IP", "SourceIp", "CLIENT_IP"];
const APP_FIELDS: &[&str] = &[
    "CONNECTED_APP_NAME",
    "Application",
    "CLIENT_NAME",
    "CONNECTED_APP_ID",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The last matching event's `@timestamp`.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub id: String,
    pub org_id: String,
    pub rule: AlertRule,
    /// The group-by fields and their values (empty for a one-event rule).
    pub group: BTreeMap<String, String>,
    /// What an extension found (the new value; the day's sum and its threshold).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub detail: BTreeMap<String, String>,
    /// Matching events (for `value_count`, the distinct values are in `detail`).
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub events: AlertEvents,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub name: String,
    pub id: String,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvents {
    /// The matching events' archive ids, oldest first, at most `MAX_EVENT_IDS`.
    pub ids: Vec<String>,
    pub total: u64,
}

/// What a firing knows, before it is an alert.
pub(crate) struct Firing<'a> {
    pub rule: &'a RuleInfo,
    /// The event that made the rule fire (the last of its events).
    pub event: &'a ArchiveEvent,
    pub group: Vec<(String, String)>,
    pub detail: Vec<(String, String)>,
    pub count: u64,
    /// Earliest matching event time, seconds.
    pub first: i64,
    pub ids: Vec<String>,
    /// What, with the rule, makes this firing unique.
    pub key: String,
}

impl Firing<'_> {
    pub fn into_alert(self) -> Alert {
        let rule = self.rule;
        let event = self.event;
        let id = alert_id(&rule.id, &event.org_id, &self.key);
        let mut ids = self.ids;
        ids.truncate(MAX_EVENT_IDS);
        let group: BTreeMap<String, String> = self.group.into_iter().collect();
        let detail: BTreeMap<String, String> = self.detail.into_iter().collect();
        // rsigma keeps whole seconds; a firing within the event's own second is the event's
        // own time, as written in the archive.
        let first_seen = if self.first >= event.time {
            event.timestamp.clone()
        } else {
            iso(self.first)
        };
        let summary = summary(rule, event, &group, &detail, self.count, &first_seen);
        Alert {
            timestamp: event.timestamp.clone(),
            id,
            org_id: event.org_id.clone(),
            rule: AlertRule {
                name: rule.name.clone(),
                id: rule.id.clone(),
                title: rule.title.clone(),
                level: rule.level,
                tags: rule.tags.clone(),
            },
            group,
            detail,
            count: self.count,
            first_seen,
            last_seen: event.timestamp.clone(),
            events: AlertEvents {
                ids,
                total: self.count,
            },
            summary,
        }
    }
}

/// sha256 over the rule, the org and the firing's key, as 32 hex digits.
fn alert_id(rule_id: &str, org_id: &str, key: &str) -> String {
    let mut h = Sha256::new();
    for part in [rule_id, org_id, key] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One sentence naming the rule, the user, the address and the app where the data has them.
fn summary(
    rule: &RuleInfo,
    event: &ArchiveEvent,
    group: &BTreeMap<String, String>,
    detail: &BTreeMap<String, String>,
    count: u64,
    first_seen: &str,
) -> String {
    let pick = |fields: &[&str]| {
        fields.iter().find_map(|f| {
            group
                .get(*f)
                .filter(|v| !v.is_empty())
                .cloned()
                .or_else(|| event.text(f))
        })
    };
    let mut parts = Vec::new();
    if let Some(user) = pick(USER_FIELDS) {
        parts.push(format!("user {user}"));
    }
    if let Some(ip) = pick(IP_FIELDS) {
        parts.push(format!("from {ip}"));
    }
    if let Some(app) = pick(APP_FIELDS) {
        parts.push(format!("via {app}"));
    }
    for (k, v) in detail {
        parts.push(format!("{k} {v}"));
    }
    let who = if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    };
    let when = if count > 1 {
        format!(" ({count} events, {first_seen} to {})", event.timestamp)
    } else {
        format!(" (at {})", event.timestamp)
    };
    format!("{}{who}{when}", rule.title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::RuleKind;

    #[test]
    fn an_empty_group_value_does_not_hide_the_events_own_app() {
        let rule = RuleInfo {
            sigma_name: "r.elf".into(),
            name: "r".into(),
            id: "id".into(),
            title: "T".into(),
            level: Level::Medium,
            tags: vec![],
            kind: RuleKind::Correlation,
            datasets: vec!["api_total_usage".into()],
            falsepositives: vec![],
            description: String::new(),
            file: String::new(),
        };
        let fields = serde_json::json!({"USER_NAME": "u@x", "CLIENT_NAME": "Data Loader"});
        let event = ArchiveEvent::new(
            1_764_000_000,
            "e1",
            "00D",
            "api_total_usage",
            fields.as_object().unwrap().clone(),
        );
        let alert = Firing {
            rule: &rule,
            event: &event,
            group: vec![
                ("CONNECTED_APP_NAME".into(), String::new()),
                ("USER_NAME".into(), "u@x".into()),
            ],
            detail: vec![],
            count: 1,
            first: event.time,
            ids: vec!["e1".into()],
            key: "k".into(),
        }
        .into_alert();
        assert!(
            alert
                .summary
                .starts_with("T: user u@x, via Data Loader (at "),
            "{}",
            alert.summary
        );
    }
}
