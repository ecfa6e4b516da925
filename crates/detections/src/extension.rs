//! The two things Sigma cannot say, as custom attributes of a detection rule (whose
//! `detection` selects the events they consider):
//!
//! - `sfevents.new_value`: the first time `fields` take a value for a key (`group-by`, empty
//!   for org-wide) within `history`. Nothing is new while the rule has watched less than
//!   `learn` (default 7 days) of event time, so a first backfill does not flag every user's
//!   first country.
//! - `sfevents.baseline`: per key and UTC day, the sum of `field`; one alert per key and day
//!   when it passes `floor` and `factor` times the key's `percentile` of its trailing `history`
//!   of active days (with fewer than 7 such days only the floor applies).
//!
//! Their state is plain data (serde), exported with the correlations' so a consumer commits it
//! with its position.

use std::collections::{BTreeMap, HashMap};

use rsigma_eval::Event;
use serde::{Deserialize, Serialize};

use crate::event::ArchiveEvent;

const DAY: i64 = 86_400;
const MIN_BASELINE_DAYS: usize = 7;

pub const NEW_VALUE_KEY: &str = "sfevents.new_value";
pub const BASELINE_KEY: &str = "sfevents.baseline";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewValueSpec {
    pub fields: Vec<String>,
    #[serde(rename = "group-by", default)]
    pub group_by: Vec<String>,
    #[serde(default = "thirty_days")]
    pub history: String,
    #[serde(default = "seven_days")]
    pub learn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    pub field: String,
    #[serde(rename = "group-by", default)]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub floor: f64,
    #[serde(default = "three")]
    pub factor: f64,
    #[serde(default = "ninety_five")]
    pub percentile: f64,
    #[serde(default = "thirty_days")]
    pub history: String,
    /// Nothing alerts while the rule has watched less than this of event time (default: none,
    /// the floor applies from the first day). For rules whose floor routine jobs pass before
    /// any history exists.
    #[serde(default)]
    pub learn: Option<String>,
}

fn thirty_days() -> String {
    "30d".into()
}
fn seven_days() -> String {
    "7d".into()
}
fn three() -> f64 {
    3.0
}
fn ninety_five() -> f64 {
    95.0
}

/// `30d`, `12h`, `90m`, `45s` in seconds.
pub fn seconds(span: &str) -> Option<i64> {
    rsigma_parser::Timespan::parse(span)
        .ok()
        .map(|t| t.seconds as i64)
}

/// What an extension found: the group, the new value or the day's sum, and the alert's key.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub group: Vec<(String, String)>,
    /// `new_value`: the new value(s); `baseline`: the day's sum and the threshold it passed.
    pub detail: Vec<(String, String)>,
    /// What makes the alert unique for this rule.
    pub key: String,
}

/// An extension with its state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Extension {
    NewValue {
        spec: NewValueSpec,
        state: NewValueState,
    },
    Baseline {
        spec: BaselineSpec,
        state: BaselineState,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewValueState {
    /// The earliest event time the rule has seen.
    started: Option<i64>,
    /// `key \u{1f} value` -> the latest time it was seen.
    seen: HashMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BaselineState {
    /// The earliest event time the rule has seen.
    #[serde(default)]
    started: Option<i64>,
    /// key -> day -> sum.
    days: HashMap<String, BTreeMap<i64, f64>>,
    /// key -> the last day alerted.
    alerted: HashMap<String, i64>,
}

impl Extension {
    pub fn new_value(spec: NewValueSpec) -> Self {
        Extension::NewValue {
            spec,
            state: NewValueState::default(),
        }
    }

    pub fn baseline(spec: BaselineSpec) -> Self {
        Extension::Baseline {
            spec,
            state: BaselineState::default(),
        }
    }

    /// Checks the spec's spans and numbers; the message names the key to fix.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Extension::NewValue { spec, .. } => {
                if spec.fields.is_empty() {
                    return Err(format!(
                        "{NEW_VALUE_KEY}.fields is empty: name the field(s) whose new value alerts"
                    ));
                }
                span_ok(NEW_VALUE_KEY, "history", &spec.history)?;
                span_ok(NEW_VALUE_KEY, "learn", &spec.learn)
            }
            Extension::Baseline { spec, .. } => {
                if !(0.0..=100.0).contains(&spec.percentile) {
                    return Err(format!(
                        "{BASELINE_KEY}.percentile {} is not between 0 and 100",
                        spec.percentile
                    ));
                }
                span_ok(BASELINE_KEY, "history", &spec.history)?;
                match &spec.learn {
                    Some(l) => span_ok(BASELINE_KEY, "learn", l),
                    None => Ok(()),
                }
            }
        }
    }

    /// The earliest event time the rules have seen of any dataset: a baseline's `learn` counts
    /// from there (an attack can be the first event its detection ever matches).
    pub fn watched_since(&mut self, first: i64) {
        if let Extension::Baseline { state, .. } = self {
            state.started = Some(state.started.map_or(first, |s| s.min(first)));
        }
    }

    /// Feeds one event the rule's detection matched.
    pub fn observe(&mut self, event: &ArchiveEvent) -> Option<Finding> {
        match self {
            Extension::NewValue { spec, state } => state.observe(spec, event),
            Extension::Baseline { spec, state } => state.observe(spec, event),
        }
    }

    /// Drops what is older than the history before `now` (event time).
    pub fn prune(&mut self, now: i64) {
        match self {
            Extension::NewValue { spec, state } => {
                let horizon = now - seconds(&spec.history).unwrap_or(30 * DAY);
                state.seen.retain(|_, last| *last >= horizon);
            }
            Extension::Baseline { spec, state } => {
                let first_day =
                    now.div_euclid(DAY) - seconds(&spec.history).unwrap_or(30 * DAY) / DAY - 1;
                for days in state.days.values_mut() {
                    days.retain(|day, _| *day >= first_day);
                }
                state.days.retain(|_, days| !days.is_empty());
            }
        }
    }
}

fn span_ok(key: &str, name: &str, span: &str) -> Result<(), String> {
    match seconds(span) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{key}.{name} {span:?} is not a timespan like 30d, 12h or 90m"
        )),
    }
}

/// The group's values; `None` when one is missing (the event cannot be keyed).
fn group_values(event: &ArchiveEvent, fields: &[String]) -> Option<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| event.text(f).map(|v| (f.clone(), v)))
        .collect()
}

fn joined(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

impl NewValueState {
    fn observe(&mut self, spec: &NewValueSpec, event: &ArchiveEvent) -> Option<Finding> {
        let group = group_values(event, &spec.group_by)?;
        let values = group_values(event, &spec.fields)?;
        let key = format!("{}\u{1e}{}", joined(&group), joined(&values));
        let started = *self.started.get_or_insert(event.time);
        self.started = Some(started.min(event.time));
        let history = seconds(&spec.history).unwrap_or(30 * DAY);
        let learning = event.time - started < seconds(&spec.learn).unwrap_or(7 * DAY);
        let last = self.seen.get(&key).copied();
        // Seen later already (events arrive out of order) or within the history: not new.
        let new = match last {
            Some(t) => event.time - t > history,
            None => true,
        };
        self.seen
            .insert(key.clone(), last.map_or(event.time, |t| t.max(event.time)));
        (new && !learning).then_some(Finding {
            group,
            detail: values,
            key,
        })
    }
}

impl BaselineState {
    fn observe(&mut self, spec: &BaselineSpec, event: &ArchiveEvent) -> Option<Finding> {
        let group = group_values(event, &spec.group_by)?;
        let amount = event.get_field(&spec.field)?.as_f64()?;
        let key = joined(&group);
        let day = event.time.div_euclid(DAY);
        let days = self.days.entry(key.clone()).or_default();
        *days.entry(day).or_default() += amount;
        let sum = days[&day];
        let history_days = seconds(&spec.history).unwrap_or(30 * DAY) / DAY;
        let mut past: Vec<f64> = days
            .range(day - history_days..day)
            .map(|(_, s)| *s)
            .collect();
        let threshold = if past.len() < MIN_BASELINE_DAYS {
            spec.floor
        } else {
            spec.floor
                .max(spec.factor * percentile(&mut past, spec.percentile))
        };
        let started = *self.started.get_or_insert(event.time);
        self.started = Some(started.min(event.time));
        let learn = spec.learn.as_deref().and_then(seconds).unwrap_or(0);
        let learning = event.time - started.min(event.time) < learn;
        if learning || sum <= threshold || self.alerted.get(&key) == Some(&day) {
            return None;
        }
        self.alerted.insert(key.clone(), day);
        Some(Finding {
            group,
            detail: vec![
                (format!("{} per day", spec.field), format_number(sum)),
                ("threshold".into(), format_number(threshold)),
            ],
            key: format!("{key}\u{1e}{day}"),
        })
    }
}

/// Linear interpolation between closest ranks (the C=1 method).
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (p / 100.0) * (values.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    values[low] + (values[high] - values[low]) * (rank - low as f64)
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(time: i64, fields: serde_json::Value) -> ArchiveEvent {
        ArchiveEvent::new(
            time,
            "e",
            "00D",
            "login_event",
            fields.as_object().unwrap().clone(),
        )
    }

    #[test]
    fn new_value_learns_then_flags_a_new_country_once() {
        let spec: NewValueSpec =
            serde_json::from_value(json!({"fields": ["Country"], "group-by": ["UserId"]})).unwrap();
        let mut ext = Extension::new_value(spec);
        let at = |d: i64| d * DAY;
        assert_eq!(
            ext.observe(&event(at(0), json!({"UserId": "u", "Country": "FR"}))),
            None
        );
        // Day 3: still learning.
        assert_eq!(
            ext.observe(&event(at(3), json!({"UserId": "u", "Country": "DE"}))),
            None
        );
        let found = ext
            .observe(&event(at(8), json!({"UserId": "u", "Country": "US"})))
            .unwrap();
        assert_eq!(found.group, vec![("UserId".to_string(), "u".to_string())]);
        assert_eq!(
            found.detail,
            vec![("Country".to_string(), "US".to_string())]
        );
        assert_eq!(
            ext.observe(&event(at(9), json!({"UserId": "u", "Country": "US"}))),
            None
        );
        // FR last seen on day 0: 40 days later it is new again.
        assert!(ext
            .observe(&event(at(40), json!({"UserId": "u", "Country": "FR"})))
            .is_some());
        // Another user's first login counts as new for that user.
        assert!(ext
            .observe(&event(at(41), json!({"UserId": "v", "Country": "FR"})))
            .is_some());
    }

    #[test]
    fn baseline_uses_the_floor_then_the_percentile() {
        let spec: BaselineSpec = serde_json::from_value(
            json!({"field": "ROWS", "group-by": ["USER_ID"], "floor": 100, "factor": 3}),
        )
        .unwrap();
        let mut ext = Extension::baseline(spec);
        let rows =
            |d: i64, n: u64| event(d * DAY + 60, json!({"USER_ID": "u", "ROWS": n.to_string()}));
        assert_eq!(ext.observe(&rows(0, 90)), None);
        let found = ext.observe(&rows(0, 20)).unwrap();
        assert_eq!(found.detail[0].1, "110");
        assert_eq!(
            ext.observe(&rows(0, 500)),
            None,
            "one alert per key and day"
        );
        for d in 1..=10 {
            assert_eq!(ext.observe(&rows(d, 80)), None);
        }
        // Day 11's trailing days: 610 and ten 80s, p95 = 345, threshold 3 x 345 = 1035.
        assert_eq!(ext.observe(&rows(11, 1035)), None);
        assert!(ext.observe(&rows(11, 1)).is_some());
    }

    #[test]
    fn a_baseline_that_learns_is_silent_until_it_has_watched_long_enough() {
        let spec: BaselineSpec = serde_json::from_value(
            json!({"field": "ROWS", "group-by": ["USER_ID"], "floor": 100, "learn": "7d"}),
        )
        .unwrap();
        let mut ext = Extension::baseline(spec);
        let rows =
            |d: i64, n: u64| event(d * DAY + 60, json!({"USER_ID": "u", "ROWS": n.to_string()}));
        assert_eq!(
            ext.observe(&rows(0, 500)),
            None,
            "past the floor on day 0, but learning"
        );
        assert_eq!(ext.observe(&rows(6, 500)), None, "day 6: still learning");
        assert!(
            ext.observe(&rows(7, 5000)).is_some(),
            "day 7: watched a week"
        );
    }

    #[test]
    fn percentile_interpolates() {
        assert_eq!(percentile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 50.0), 3.0);
        assert_eq!(percentile(&mut [10.0, 20.0], 95.0), 19.5);
    }
}
