//! What a stream is doing, for `/metrics` (read live) and `status` (read from state.db, where
//! the runner saves it every few seconds and at every connect and disconnect).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use archive::state::Store;

/// How often the counters are saved to state.db at most (connects and disconnects always are).
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// A stream's live counters, shared by its runner and `/metrics`.
#[derive(Debug)]
pub struct StreamStatus {
    pub topic: String,
    connected: AtomicBool,
    received: AtomicU64,
    committed: AtomicU64,
    reconnects: AtomicU64,
    times: Mutex<Times>,
}

#[derive(Debug, Default)]
struct Times {
    last_event: Option<DateTime<Utc>>,
    last_keepalive: Option<DateTime<Utc>>,
    position_saved: Option<DateTime<Utc>>,
    last_error: Option<String>,
    saved: Option<Instant>,
}

/// One look at a stream: what `status` prints and `/metrics` exports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamSnapshot {
    pub topic: String,
    pub connected: bool,
    /// Events received from the Pub/Sub API since the process started.
    pub received: u64,
    /// Events archived from it (received less those another path had archived first).
    pub committed: u64,
    pub reconnects: u64,
    pub last_event: Option<DateTime<Utc>>,
    pub last_keepalive: Option<DateTime<Utc>>,
    /// When the replay position was last saved (with events or from a keepalive).
    pub position_saved: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When this snapshot was taken.
    pub at: Option<DateTime<Utc>>,
}

impl StreamSnapshot {
    /// The state.db key a stream's snapshot is saved under.
    pub fn meta_key(topic: &str) -> String {
        format!("stream:{topic}")
    }

    /// The snapshot `sfevents run` last saved for `topic`.
    pub fn load(store: &Store, topic: &str) -> Option<StreamSnapshot> {
        let v = store.meta(&Self::meta_key(topic)).ok()??;
        serde_json::from_str(&v).ok()
    }
}

impl StreamStatus {
    pub fn new(topic: &str) -> StreamStatus {
        StreamStatus {
            topic: topic.to_string(),
            connected: AtomicBool::new(false),
            received: AtomicU64::new(0),
            committed: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            times: Mutex::default(),
        }
    }

    fn times(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        let t = self.times();
        StreamSnapshot {
            topic: self.topic.clone(),
            connected: self.connected.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            committed: self.committed.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_event: t.last_event,
            last_keepalive: t.last_keepalive,
            position_saved: t.position_saved,
            last_error: t.last_error.clone(),
            at: Some(Utc::now()),
        }
    }

    pub(super) fn connected(&self, store: &Store, yes: bool) {
        self.connected.store(yes, Ordering::Relaxed);
        self.save(store, true);
    }

    pub(super) fn reconnecting(&self, store: &Store, why: &str) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        self.connected.store(false, Ordering::Relaxed);
        self.times().last_error = Some(why.to_string());
        self.save(store, true);
    }

    pub(super) fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Ordering::Relaxed);
        self.times().last_event = Some(Utc::now());
    }

    pub(super) fn keepalive(&self) {
        self.times().last_keepalive = Some(Utc::now());
    }

    pub(super) fn committed(&self, store: &Store, events: u64) {
        self.committed.fetch_add(events, Ordering::Relaxed);
        self.times().position_saved = Some(Utc::now());
        self.save(store, false);
    }

    /// Saves the snapshot to state.db, at most every [`SAVE_EVERY`] unless `now`.
    fn save(&self, store: &Store, now: bool) {
        {
            let mut t = self.times();
            if !now && t.saved.is_some_and(|s| s.elapsed() < SAVE_EVERY) {
                return;
            }
            t.saved = Some(Instant::now());
        }
        let snap = self.snapshot();
        let Ok(json) = serde_json::to_string(&snap) else {
            return;
        };
        if let Err(e) = store.set_meta(&StreamSnapshot::meta_key(&self.topic), &json) {
            tracing::warn!(topic = %self.topic, "cannot save the stream's status: {e}");
        }
    }
}
