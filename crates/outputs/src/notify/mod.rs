//! What every notifier shares: an alert as the archive holds it ([`AlertView`]), which alerts
//! an output takes and which it holds back ([`Routing`], applied by the shipper through a
//! [`Gate`]), and the text every message is made of (`text`).
//!
//! Notifiers are outputs that take only the `alert` dataset: the shipper passes over the log's
//! other files without reading them. An alert below `min_level` or outside `rules` is skipped;
//! one whose rule and group values were notified less than `suppress_minutes` before (by the
//! alerts' own times) is suppressed. Both move the position like a delivered alert, are
//! counted in `status`, and still reach every other output. The suppression marks are
//! committed with the position, so a restart holds back exactly what it would have without one.

pub mod chat;
pub mod endpoint;
mod gate;
pub mod probe;
pub mod routing;
pub mod sink;
pub mod text;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};

pub use gate::{Decision, Gate};
pub use routing::{level_rank, Routing, KEYS, LEVELS};

/// The dataset notifiers take.
pub const ALERT_DATASET: &str = "alert";

/// A notifier's batches: alerts are few, and each is one request.
pub const BATCH: BatchLimits = BatchLimits {
    max_events: 20,
    max_bytes: 1024 * 1024,
    in_flight: 1,
};

/// The least time between two requests: `max_per_second` (default `per_second`).
pub fn interval(s: &Settings, per_second: usize) -> Result<std::time::Duration, ConfigError> {
    let n = s.number("max_per_second", per_second, 1)?;
    Ok(std::time::Duration::from_secs(1) / n as u32)
}

/// An alert, as `fields` of its archive line holds it (see docs/detections.md).
#[derive(Debug, Clone, Deserialize)]
pub struct AlertView {
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub id: String,
    #[serde(default)]
    pub org_id: String,
    pub rule: AlertRule,
    #[serde(default)]
    pub group: BTreeMap<String, String>,
    #[serde(default)]
    pub detail: BTreeMap<String, String>,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub first_seen: String,
    #[serde(default)]
    pub last_seen: String,
    #[serde(default)]
    pub events: AlertEvents,
    #[serde(default)]
    pub summary: String,
    /// A test alert (`sfevents alerts test`).
    #[serde(default)]
    pub test: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AlertRule {
    pub name: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub level: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlertEvents {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub total: u64,
}

/// Fields that name the user, the address and the app, in the order a message prefers them
/// (the same the alert's summary uses).
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

impl AlertView {
    /// The alert of an archive line (`fields` of an `Alert` event); `None` for another event.
    pub fn of(line: &serde_json::Value) -> Option<AlertView> {
        serde_json::from_value(line.get("fields")?.clone()).ok()
    }

    fn first_of(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.group.get(*n).map(String::as_str))
            .filter(|v| !v.is_empty())
    }

    pub fn user(&self) -> Option<&str> {
        self.first_of(USER_FIELDS)
    }
    pub fn ip(&self) -> Option<&str> {
        self.first_of(IP_FIELDS)
    }
    pub fn app(&self) -> Option<&str> {
        self.first_of(APP_FIELDS)
    }

    /// What suppression counts as "the same alert again": the rule and its group values.
    pub fn suppression_key(&self) -> String {
        let mut key = self.rule.name.clone();
        for (k, v) in &self.group {
            key.push('\u{1e}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        key
    }

    /// The alert's time in epoch seconds (0 when it cannot be read).
    pub fn epoch(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.timestamp)
            .map(|t| t.timestamp())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::from_url;
    use crate::pagerduty::config::PagerDutyConfig;

    fn err(to: &str) -> String {
        from_url(to).unwrap_err().to_string()
    }

    #[test]
    fn notifier_settings_and_their_errors() {
        std::env::set_var("SFEVENTS_TEST_PD_KEY", "0123456789abcdef0123456789abcdef");
        std::env::set_var("SFEVENTS_TEST_PD_SHORT", "R0123");
        std::env::set_var(
            "SFEVENTS_TEST_SLACK_URL",
            "https://hooks.slack.com/services/T0/B0/s3cr3tpath",
        );
        std::env::set_var(
            "SFEVENTS_TEST_OTHER_URL",
            "https://evil.example/services/T0/B0/x",
        );
        let o = from_url("pagerduty+https://events.pagerduty.com?routing_key_env=SFEVENTS_TEST_PD_KEY&min_level=high&rules=salesforce_brute_*,salesforce_login_as&suppress_minutes=30").unwrap();
        let pd = o.kind.settings::<PagerDutyConfig>().unwrap();
        assert_eq!(pd.endpoint.target.url.path(), "/v2/enqueue");
        let r = o.routing().unwrap();
        assert_eq!((r.min_level, r.suppress_secs), (3, 1800));
        assert_eq!(r.rules, ["salesforce_brute_*", "salesforce_login_as"]);
        assert!(
            !format!("{o:?}").contains("0123456789abcdef"),
            "the key is secret"
        );
        let e =
            err("pagerduty+https://events.pagerduty.com?routing_key_env=SFEVENTS_TEST_PD_SHORT");
        assert!(e.contains("not 32") && !e.contains("R0123"), "{e}");
        let e = err("pagerduty+https://events.pagerduty.com");
        assert!(e.contains("routing_key_env"), "{e}");
        let e = err("pagerduty+https://events.pagerduty.com?routing_key_env=SFEVENTS_TEST_PD_KEY&min_level=severe");
        assert!(
            e.contains("min_level 'severe'") && e.contains("critical"),
            "{e}"
        );
        let e = err("webhook+https://hooks.example/in");
        assert!(e.contains("secret_env"), "{e}");
        let slack =
            from_url("slack+https://hooks.slack.com?url_env=SFEVENTS_TEST_SLACK_URL").unwrap();
        assert!(slack.routing().is_some() && !slack.name.contains("s3cr3t"));
        assert!(!format!("{:?}", slack.name).contains("s3cr3t"));
        let e = err("slack+https://hooks.slack.com?url_env=SFEVENTS_TEST_OTHER_URL");
        assert!(
            e.contains("evil.example") && !e.contains("/services/T0"),
            "{e}"
        );
        let e = err("teams+http://flows.example?suppress_minutes=5");
        assert!(e.contains("plain http://"), "{e}");
        let http = from_url("https://intake.example/x").unwrap();
        assert!(http.routing().is_none());
        // Notifiers start with the alerts that come after them; other outputs at the start.
        use archive::state::Start;
        assert_eq!((o.start, http.start), (Start::Now, Start::Beginning));
        let o = from_url("pagerduty+https://events.pagerduty.com?routing_key_env=SFEVENTS_TEST_PD_KEY&start=beginning").unwrap();
        assert_eq!(o.start, Start::Beginning);
    }
}
