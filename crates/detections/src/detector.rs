//! Evaluates archive events against a `RuleSet`, one at a time, in the order given: detection
//! rules and filters (rsigma's `Engine`), correlations on each event's own `@timestamp`
//! (rsigma's `CorrelationEngine`), and the extensions. Its whole state exports as one
//! serializable value, so a consumer can commit it with its position and a restart neither
//! loses nor repeats an alert.

use std::collections::HashMap;

use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    CorrelationSnapshot, EvaluationResult, LogSourceExtractor, TimestampFallback,
};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, Firing, MAX_EVENT_IDS};
use crate::error::RuleError;
use crate::event::{ArchiveEvent, PRODUCT_FIELD, SERVICE_FIELD};
use crate::extension::Extension;
use crate::partition;
use crate::rule::{RuleInfo, RuleKind};
use crate::ruleset::RuleSet;

/// The state format; a stored state of another version is dropped (and rebuilt from events).
const STATE_VERSION: u32 = 1;
/// Entries one correlation group keeps in its window.
const MAX_GROUP_ENTRIES: usize = 1_000;
/// How far (event time) the clock of expiry moves between two sweeps of expired windows.
const SWEEP_EVERY: i64 = 60;
/// Disorder within one dataset that a sweep still leaves room for: a window expires only this
/// long after its timespan. Object windows are read newest first (a backfill window can span a
/// day), EventLogFile rows are not sorted within a file and hourly files come late; an event
/// later than this would find its windows gone, and live rules (reordered per chunk) and a
/// backtest (reordered across the archive) would then disagree. Ten minutes did: two days is
/// what the scenario test of live against backtest needs with room to spare.
const SWEEP_MARGIN: i64 = 2 * 86_400;
/// A dataset whose newest event is this far behind the newest of all is idle (a daily
/// EventLogFile type, a quiet object) and does not hold back the expiry of the others.
const IDLE_DATASET: i64 = 3 * 86_400;

pub struct Detector {
    /// One correlation engine per independent part of the rules (see `partition`).
    parts: Vec<EnginePart>,
    /// Dataset -> the parts that read it.
    route: HashMap<String, Vec<usize>>,
    /// The parts that read every dataset.
    every: Vec<usize>,
    rules: HashMap<String, RuleInfo>,
    extensions: HashMap<String, Extension>,
    /// The newest event time seen, for pruning the extensions' history.
    newest: i64,
    /// The earliest event time seen, where a baseline's learning starts.
    first: i64,
    /// Temporal correlations -> the correlations they use as stages (brute force -> success).
    stages: HashMap<String, Vec<String>>,
    /// The last firing of each stage correlation, per group: its first time and event ids.
    /// rsigma gives a temporal correlation the references of its detection stages only, so a
    /// brute force that succeeded would list the user's successes and none of the failures;
    /// its evidence is the stage's events and the event that completed it.
    evidence: HashMap<String, Evidence>,
    /// The newest event time per dataset: windows expire by the slowest active dataset's
    /// clock, so an EventLogFile hours behind the objects still finds its windows.
    newest_by_dataset: HashMap<String, i64>,
}

/// A correlation engine over some datasets' rules.
struct EnginePart {
    engine: CorrelationEngine,
    datasets: Vec<String>,
    every: bool,
    correlation_ids: Vec<String>,
    /// The expiry clock at the last sweep.
    swept: i64,
}

impl EnginePart {
    fn new(part: partition::Part) -> Result<Self, RuleError> {
        let config = CorrelationConfig {
            timestamp_fields: Vec::new(),
            // Times are always given (`process_event_at`); never the wall clock.
            timestamp_fallback: TimestampFallback::Skip,
            emit_detections: false,
            action_on_match: CorrelationAction::Alert,
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: MAX_EVENT_IDS,
            // A group's window keeps at most this many entries (the oldest go): the pack's
            // thresholds are far below it, and a busy user or address cannot grow memory
            // without bound.
            max_group_entries: Some(MAX_GROUP_ENTRIES),
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        engine.set_logsource_extractor(Some(LogSourceExtractor::new().with_field_names(
            PRODUCT_FIELD,
            SERVICE_FIELD,
            "__sfevents_category",
        )));
        engine
            .add_collection(&part.collection)
            .map_err(|e| RuleError::Engine(e.to_string()))?;
        Ok(Self {
            engine,
            datasets: part.datasets.into_iter().collect(),
            every: part.every,
            correlation_ids: part.correlation_ids,
            swept: i64::MIN,
        })
    }

    /// Drops the windows no event can reach any more. rsigma trims a window only when its
    /// group gets a new event, and sweeps the others only at its cap of 100,000 groups, so
    /// without this a busy org would keep every user's and address's window. The clock is
    /// the slowest of the part's active datasets, less a margin for disorder within one.
    fn sweep(&mut self, newest_by_dataset: &HashMap<String, i64>, newest: i64) {
        // Called for every event: the clock is never ahead of the newest event, so most
        // calls end here without walking the datasets.
        if newest < self.swept.saturating_add(SWEEP_EVERY) {
            return;
        }
        let active = newest_by_dataset
            .iter()
            .filter(|(d, _)| self.every || self.datasets.contains(d))
            .map(|(_, &t)| t)
            .filter(|&t| t >= newest.saturating_sub(IDLE_DATASET));
        if let Some(clock) = active.min() {
            if clock >= self.swept.saturating_add(SWEEP_EVERY) {
                self.swept = clock;
                self.engine
                    .evict_expired(clock.saturating_sub(SWEEP_MARGIN));
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Evidence {
    first: i64,
    ids: Vec<String>,
}

/// Stage firings older than this (event time) are forgotten.
const EVIDENCE_HORIZON: i64 = 86_400;

/// Everything a `Detector` remembers between events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorState {
    version: u32,
    correlations: CorrelationSnapshot,
    extensions: HashMap<String, Extension>,
    newest: i64,
    #[serde(default)]
    evidence: HashMap<String, Evidence>,
    #[serde(default = "no_time")]
    first: i64,
    #[serde(default)]
    newest_by_dataset: HashMap<String, i64>,
    /// Each part's last sweep, by its first correlation's id: part of the state, so a
    /// restored detector sweeps exactly when one that never stopped would.
    #[serde(default)]
    swept: HashMap<String, i64>,
}

fn no_time() -> i64 {
    i64::MAX
}

impl Detector {
    pub fn new(set: &RuleSet) -> Result<Self, RuleError> {
        let mut parts = Vec::new();
        let mut route: HashMap<String, Vec<usize>> = HashMap::new();
        let mut every = Vec::new();
        for (i, part) in partition::split(&set.collection).into_iter().enumerate() {
            for d in &part.datasets {
                route.entry(d.clone()).or_default().push(i);
            }
            if part.every {
                every.push(i);
            }
            parts.push(EnginePart::new(part)?);
        }
        Ok(Self {
            parts,
            route,
            every,
            rules: set
                .rules()
                .iter()
                .map(|r| (r.id.clone(), r.clone()))
                .collect(),
            extensions: set.extensions.iter().cloned().collect(),
            newest: i64::MIN,
            first: i64::MAX,
            stages: stages(set),
            evidence: HashMap::new(),
            newest_by_dataset: HashMap::new(),
        })
    }

    /// The alerts this event raises, given every event before it.
    pub fn process(&mut self, event: &ArchiveEvent) -> Vec<Alert> {
        self.newest = self.newest.max(event.time);
        self.first = self.first.min(event.time);
        match self.newest_by_dataset.get_mut(&*event.dataset) {
            Some(newest) => *newest = (*newest).max(event.time),
            None => {
                self.newest_by_dataset
                    .insert(event.dataset.to_string(), event.time);
            }
        }
        let routed = self.route.get(&*event.dataset).into_iter().flatten();
        let mut results = Vec::new();
        for &i in routed.chain(&self.every) {
            let part = &mut self.parts[i];
            part.sweep(&self.newest_by_dataset, self.newest);
            results.extend(part.engine.process_event_at(event, event.time));
        }
        let mut alerts = Vec::new();
        for result in &results {
            if let Some(alert) = self.alert_for(result, event) {
                alerts.push(alert);
            }
        }
        alerts
    }

    fn alert_for(&mut self, result: &EvaluationResult, event: &ArchiveEvent) -> Option<Alert> {
        let key = result
            .header
            .rule_id
            .clone()
            .unwrap_or_else(|| result.header.rule_title.clone());
        if let Some(body) = result.as_correlation() {
            self.remember(&key, body, event);
        }
        let rule = self.rules.get(&key)?;
        if rule.kind == RuleKind::Base {
            return None;
        }
        if let Some(body) = result.as_correlation() {
            let refs = self.evidence_of(&key, body, event);
            let count = if body.correlation_type == rsigma_parser::CorrelationType::EventCount {
                body.aggregated_value as u64
            } else {
                refs.ids.len().max(1) as u64
            };
            let mut detail = Vec::new();
            if body.correlation_type == rsigma_parser::CorrelationType::ValueCount {
                detail.push((
                    "distinct values".to_string(),
                    format!("{}", body.aggregated_value as u64),
                ));
            }
            return Some(
                Firing {
                    rule,
                    event,
                    group: body.group_key.clone(),
                    detail,
                    count,
                    first: refs.first,
                    ids: refs.ids,
                    key: format!("{:?}\u{1e}{}", body.group_key, event.id),
                }
                .into_alert(),
            );
        }
        match rule.kind {
            RuleKind::Base | RuleKind::Correlation => None,
            RuleKind::Detection => Some(single(
                rule,
                event,
                Vec::new(),
                Vec::new(),
                event.id.clone(),
            )),
            RuleKind::NewValue | RuleKind::Baseline => {
                let first = self.first;
                let ext = self.extensions.get_mut(&key)?;
                ext.watched_since(first);
                let finding = ext.observe(event)?;
                Some(single(
                    rule,
                    event,
                    finding.group,
                    finding.detail,
                    finding.key,
                ))
            }
        }
    }

    /// Keeps a stage correlation's firing for the temporal correlations that use it.
    fn remember(&mut self, key: &str, body: &rsigma_eval::CorrelationBody, event: &ArchiveEvent) {
        if !self.stages.values().any(|s| s.iter().any(|k| k == key)) {
            return;
        }
        let ev = refs_evidence(body, event);
        self.evidence.insert(group_key(key, &body.group_key), ev);
    }

    /// A firing's evidence: its own event references, or for a temporal correlation with a
    /// stage, the stage's last firing in the same group and the event that completed it.
    fn evidence_of(
        &self,
        key: &str,
        body: &rsigma_eval::CorrelationBody,
        event: &ArchiveEvent,
    ) -> Evidence {
        let stage = self
            .stages
            .get(key)
            .into_iter()
            .flatten()
            .find_map(|s| self.evidence.get(&group_key(s, &body.group_key)));
        match stage {
            Some(ev) => {
                let mut ids = ev.ids.clone();
                if !ids.contains(&event.id) {
                    ids.push(event.id.clone());
                }
                Evidence {
                    first: ev.first.min(event.time),
                    ids,
                }
            }
            None => refs_evidence(body, event),
        }
    }

    /// The state to commit with the position the last processed event belongs to.
    pub fn state(&mut self) -> DetectorState {
        if self.newest != i64::MIN {
            for ext in self.extensions.values_mut() {
                ext.prune(self.newest);
            }
        }
        let horizon = self.newest.saturating_sub(EVIDENCE_HORIZON);
        self.evidence.retain(|_, e| e.first >= horizon);
        DetectorState {
            version: STATE_VERSION,
            correlations: self.export_correlations(),
            extensions: self.extensions.clone(),
            newest: self.newest,
            evidence: self.evidence.clone(),
            first: self.first,
            newest_by_dataset: self.newest_by_dataset.clone(),
            swept: self
                .parts
                .iter()
                .filter_map(|p| Some((p.correlation_ids.first()?.clone(), p.swept)))
                .collect(),
        }
    }

    /// Takes up a committed state. `false` when it is of another version or the correlation
    /// engine refuses it: the caller starts afresh (and says so).
    pub fn restore(&mut self, state: DetectorState) -> bool {
        if state.version != STATE_VERSION || !self.import_correlations(state.correlations) {
            return false;
        }
        for (id, ext) in state.extensions {
            // Only rules still loaded, and only if their spec did not change.
            if let Some(current) = self.extensions.get_mut(&id) {
                if same_spec(current, &ext) {
                    *current = ext;
                }
            }
        }
        self.newest = state.newest;
        self.evidence = state.evidence;
        self.first = state.first;
        self.newest_by_dataset = state.newest_by_dataset;
        for part in &mut self.parts {
            if let Some(t) = part
                .correlation_ids
                .first()
                .and_then(|id| state.swept.get(id))
            {
                part.swept = *t;
            }
        }
        true
    }
}

impl Detector {
    /// The parts' correlation states as one snapshot: their correlations are disjoint, so the
    /// stored state does not depend on how the rules are split.
    fn export_correlations(&self) -> CorrelationSnapshot {
        let mut all: Option<CorrelationSnapshot> = None;
        for part in &self.parts {
            let s = part.engine.export_state();
            let Some(all) = all.as_mut() else {
                all = Some(s);
                continue;
            };
            all.windows.extend(s.windows);
            all.last_alert.extend(s.last_alert);
            all.event_buffers.extend(s.event_buffers);
            all.event_ref_buffers.extend(s.event_ref_buffers);
        }
        // No part (no rule at all): an empty engine's snapshot, of rsigma's current version.
        all.unwrap_or_else(|| CorrelationEngine::new(CorrelationConfig::default()).export_state())
    }

    /// Gives each part the correlations it holds; `false` when rsigma refuses the snapshot.
    fn import_correlations(&mut self, mut all: CorrelationSnapshot) -> bool {
        for part in &mut self.parts {
            let mut mine = empty_snapshot(all.version);
            for id in &part.correlation_ids {
                if let Some(v) = all.windows.remove(id) {
                    mine.windows.insert(id.clone(), v);
                }
                if let Some(v) = all.last_alert.remove(id) {
                    mine.last_alert.insert(id.clone(), v);
                }
                if let Some(v) = all.event_buffers.remove(id) {
                    mine.event_buffers.insert(id.clone(), v);
                }
                if let Some(v) = all.event_ref_buffers.remove(id) {
                    mine.event_ref_buffers.insert(id.clone(), v);
                }
            }
            if !part.engine.import_state(mine) {
                return false;
            }
        }
        true
    }
}

fn empty_snapshot(version: u32) -> CorrelationSnapshot {
    CorrelationSnapshot {
        version,
        windows: HashMap::new(),
        last_alert: HashMap::new(),
        event_buffers: HashMap::new(),
        event_ref_buffers: HashMap::new(),
    }
}

/// A firing's own event references, as rsigma kept them.
fn refs_evidence(body: &rsigma_eval::CorrelationBody, event: &ArchiveEvent) -> Evidence {
    let refs = body.event_refs.as_deref().unwrap_or_default();
    Evidence {
        first: refs.iter().map(|r| r.timestamp).min().unwrap_or(event.time),
        ids: refs.iter().filter_map(|r| r.id.clone()).collect(),
    }
}

/// `rule key \u{1e} group values joined by \u{1f}`.
fn group_key(rule: &str, group: &[(String, String)]) -> String {
    let values: Vec<&str> = group.iter().map(|(_, v)| v.as_str()).collect();
    format!("{rule}\u{1e}{}", values.join("\u{1f}"))
}

/// Each temporal correlation's stages: the correlations among the rules it names.
fn stages(set: &RuleSet) -> HashMap<String, Vec<String>> {
    use rsigma_parser::CorrelationType as T;
    let key = |id: &Option<String>, title: &str| id.clone().unwrap_or_else(|| title.to_string());
    let correlations = &set.collection.correlations;
    correlations
        .iter()
        .filter(|c| matches!(c.correlation_type, T::Temporal | T::TemporalOrdered))
        .map(|c| {
            let used = correlations
                .iter()
                .filter(|s| {
                    c.rules
                        .iter()
                        .any(|r| Some(r) == s.name.as_ref() || Some(r) == s.id.as_ref())
                })
                .map(|s| key(&s.id, &s.title))
                .collect();
            (key(&c.id, &c.title), used)
        })
        .filter(|(_, used): &(String, Vec<String>)| !used.is_empty())
        .collect()
}

fn same_spec(a: &Extension, b: &Extension) -> bool {
    let spec = |e: &Extension| match e {
        Extension::NewValue { spec, .. } => serde_json::to_string(spec).ok(),
        Extension::Baseline { spec, .. } => serde_json::to_string(spec).ok(),
    };
    spec(a) == spec(b)
}

fn single(
    rule: &RuleInfo,
    event: &ArchiveEvent,
    group: Vec<(String, String)>,
    detail: Vec<(String, String)>,
    key: String,
) -> Alert {
    Firing {
        rule,
        event,
        group,
        detail,
        count: 1,
        first: event.time,
        ids: vec![event.id.clone()],
        key,
    }
    .into_alert()
}
