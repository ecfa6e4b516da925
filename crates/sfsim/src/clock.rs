//! The simulator's clock: the org's anchor plus real time elapsed plus a manual offset.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub struct Clock {
    anchor: DateTime<Utc>,
    started: Instant,
    /// Milliseconds added by `advance`.
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn new(anchor: DateTime<Utc>) -> Self {
        Clock {
            anchor,
            started: Instant::now(),
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        self.anchor
            + elapsed
            + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances() {
        let anchor = Utc::now() - chrono::Duration::days(3);
        let c = Clock::new(anchor);
        assert!(c.now() >= anchor);
        c.advance(Duration::from_secs(3600));
        assert!(c.now() >= anchor + chrono::Duration::hours(1));
        assert!(c.now() < anchor + chrono::Duration::hours(2));
    }
}
