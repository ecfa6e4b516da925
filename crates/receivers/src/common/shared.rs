//! The state a simple receiver (Logplex, HTTP) shares between its handlers and its handle:
//! its configuration, what it stored behind one lock, and the connections a fault may close.
//! The admin endpoints (`/__receiver/faults`, `stats`, `attempts`, `reset`) work on it
//! unchanged.

use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use super::admin::AdminState;
use super::attempts::Attempts;
use super::conn::Kills;
use super::faults::Faults;

/// What a receiver keeps: its faults in force, and counters and attempts the admin API shows.
pub(crate) trait ReceiverState: Default + Send + 'static {
    fn faults_mut(&mut self) -> &mut Faults;
    fn stats_json(&self) -> Value;
    fn attempts(&self) -> &Attempts;
}

pub(crate) struct Shared<C, S> {
    pub config: C,
    pub state: Mutex<S>,
    pub kills: Kills,
}

impl<C, S: ReceiverState> Shared<C, S> {
    /// A fresh state with `faults` in force.
    pub fn new(config: C, faults: Faults) -> Self {
        let mut state = S::default();
        *state.faults_mut() = faults;
        Shared {
            config,
            state: Mutex::new(state),
            kills: Kills::default(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, S> {
        super::lock(&self.state)
    }
}

impl<C: Send + Sync + 'static, S: ReceiverState> AdminState for Shared<C, S> {
    fn faults(&self) -> Faults {
        self.lock().faults_mut().clone()
    }
    fn set_faults(&self, faults: Faults) {
        *self.lock().faults_mut() = faults;
    }
    fn stats_json(&self) -> Value {
        self.lock().stats_json()
    }
    fn attempts(&self) -> Attempts {
        self.lock().attempts().clone()
    }
    fn reset(&self) {
        *self.lock() = S::default();
    }
}
