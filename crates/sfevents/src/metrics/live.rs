//! What `run` records as it goes (`Live`, a process-wide registry), and the state databases a
//! scrape reads (`StoresRef`): the data the `/metrics` and `/health` pages are made from.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use crate::collect::OrgReport;
use archive::state::Store;
use salesforce::client::ApiStats;
use salesforce::sources::streaming::StreamStatus;

/// Where an org stands, for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Not yet through its first cycle.
    Starting,
    /// The last cycle ran to its end (failed units, counted in `sfevents_errors_total`, and a
    /// pause for the API budget do not make an org unhealthy: it carries on by itself).
    Ok,
    /// The org cannot start (login, archive) or its last cycle stopped early (auth, the
    /// org's API limit, state.db, network): nothing is being collected until that changes.
    Failing(String),
}

#[derive(Debug)]
pub(crate) struct OrgLive {
    pub archive: PathBuf,
    pub api: Option<Arc<ApiStats>>,
    pub health: Health,
    /// Failed units per source (`EventLogFile` or the object's name).
    pub errors: BTreeMap<String, u64>,
    /// Cycles per outcome: ok, partial (some units failed), stopped.
    pub cycles: BTreeMap<&'static str, u64>,
    /// The org's Pub/Sub streams, read at each scrape.
    pub streams: Vec<Arc<StreamStatus>>,
}

/// What `run` records as it goes.
#[derive(Default)]
pub struct Live {
    pub(crate) orgs: Mutex<BTreeMap<String, OrgLive>>,
    /// The outputs `run` ships to: only their positions are reported.
    pub(crate) outputs: Mutex<Vec<String>>,
}

static LIVE: LazyLock<Live> = LazyLock::new(Live::default);

/// The process's registry.
pub fn live() -> &'static Live {
    &LIVE
}

impl Live {
    fn with_org(&self, name: &str, archive: Option<&Path>, f: impl FnOnce(&mut OrgLive)) {
        if let Ok(mut orgs) = self.orgs.lock() {
            let o = orgs.entry(name.to_string()).or_insert_with(|| OrgLive {
                archive: archive.map(Path::to_path_buf).unwrap_or_default(),
                api: None,
                health: Health::Starting,
                errors: BTreeMap::new(),
                cycles: BTreeMap::new(),
                streams: Vec::new(),
            });
            f(o);
        }
    }

    /// An org `run` is about to open.
    pub fn org_starting(&self, name: &str, archive: &Path) {
        self.with_org(name, Some(archive), |_| {});
    }

    /// The org could not be opened; `run` tries again later.
    pub fn org_cannot_start(&self, name: &str, why: &str) {
        self.with_org(name, None, |o| {
            o.health = Health::Failing(format!("cannot start: {why}"));
        });
    }

    /// The org is open: its calls and usage are read from `api` at each scrape.
    pub fn org_opened(&self, name: &str, api: Arc<ApiStats>) {
        self.with_org(name, None, |o| {
            o.api = Some(api);
            if let Health::Failing(_) = o.health {
                o.health = Health::Starting;
            }
        });
    }

    /// A cycle ended. `objects` names the org's object sources, so that a failed unit is
    /// counted under its object; any other unit is an EventLogFile file. A cycle stopped by
    /// the API budget is a pause the org chose, not a failure.
    pub fn cycle_done(&self, name: &str, r: &OrgReport, objects: &[String], budget_pause: bool) {
        self.with_org(name, None, |o| {
            for (what, _) in &r.failed {
                let source = if objects.iter().any(|n| n == what) {
                    what.as_str()
                } else {
                    "EventLogFile"
                };
                *o.errors.entry(source.to_string()).or_default() += 1;
            }
            let outcome = if r.stopped.is_some() {
                "stopped"
            } else if r.failed.is_empty() {
                "ok"
            } else {
                "partial"
            };
            *o.cycles.entry(outcome).or_default() += 1;
            o.health = match &r.stopped {
                Some(why) if !budget_pause => Health::Failing(format!("last cycle stopped: {why}")),
                _ => Health::Ok,
            };
        });
    }

    /// A stream of the org started: its counters are read at each scrape.
    pub fn stream_started(&self, name: &str, status: Arc<StreamStatus>) {
        self.with_org(name, None, |o| {
            o.streams.retain(|s| s.topic != status.topic);
            o.streams.push(status);
        });
    }

    pub fn set_outputs(&self, names: Vec<String>) {
        if let Ok(mut o) = self.outputs.lock() {
            *o = names;
        }
    }

    /// `/health`: 200 when no org is failing, else 503; the body says each org's state.
    pub fn health(&self) -> (bool, serde_json::Value) {
        let mut ok = true;
        let mut orgs = serde_json::Map::new();
        if let Ok(all) = self.orgs.lock() {
            for (name, o) in all.iter() {
                let v = match &o.health {
                    Health::Starting => serde_json::json!({"status": "starting"}),
                    Health::Ok => serde_json::json!({"status": "ok"}),
                    Health::Failing(why) => {
                        ok = false;
                        serde_json::json!({"status": "failing", "reason": why})
                    }
                };
                orgs.insert(name.clone(), v);
            }
        }
        let status = if ok { "ok" } else { "failing" };
        (ok, serde_json::json!({"status": status, "orgs": orgs}))
    }
}

/// State databases opened for scrapes, one connection per archive, kept between scrapes.
/// Their own connections: a scrape never waits on the collector's.
pub(super) type StoresRef = Arc<Mutex<HashMap<PathBuf, Arc<Store>>>>;

/// The org's store for a scrape, opened the first time its `state.db` exists.
pub(super) fn store_for(stores: &StoresRef, archive: &Path) -> Option<Arc<Store>> {
    let db = archive.join("state.db");
    let mut m = stores.lock().ok()?;
    if let Some(s) = m.get(archive) {
        return Some(s.clone());
    }
    if !db.is_file() {
        return None;
    }
    match Store::open(&db) {
        Ok(s) => {
            let s = Arc::new(s);
            m.insert(archive.to_path_buf(), s.clone());
            Some(s)
        }
        Err(e) => {
            tracing::warn!("metrics: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_fails_on_a_stopped_cycle_but_not_on_a_budget_pause() {
        let l = Live::default();
        l.org_starting("a", Path::new("/x"));
        assert!(l.health().0, "starting is healthy");
        let stopped = OrgReport {
            stopped: Some("auth failed".into()),
            ..Default::default()
        };
        l.cycle_done("a", &stopped, &[], true);
        assert!(l.health().0, "a budget pause is not a failure");
        l.cycle_done("a", &stopped, &[], false);
        let (ok, body) = l.health();
        assert!(!ok);
        assert_eq!(
            body["orgs"]["a"]["reason"],
            "last cycle stopped: auth failed"
        );
        let partial = OrgReport {
            failed: vec![
                ("LoginEvent".into(), "x".into()),
                ("0AT1".into(), "y".into()),
            ],
            ..Default::default()
        };
        l.cycle_done("a", &partial, &["LoginEvent".into()], false);
        assert!(l.health().0);
        let orgs = l.orgs.lock().unwrap();
        let o = &orgs["a"];
        assert_eq!(o.errors["LoginEvent"], 1);
        assert_eq!(o.errors["EventLogFile"], 1);
        assert_eq!(o.cycles["stopped"], 2);
        assert_eq!(o.cycles["partial"], 1);
    }
}
