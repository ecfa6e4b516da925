//! The simulator's clock: the org's anchor plus real time elapsed (unless frozen) plus a
//! manual offset.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub struct Clock {
    anchor: DateTime<Utc>,
    started: Instant,
    /// Milliseconds added by `advance`.
    offset_ms: AtomicI64,
    /// Time stands still but for `advance`: tests get exact, repeatable visibility.
    frozen: bool,
}

impl Clock {
    pub fn new(anchor: DateTime<Utc>) -> Self {
        Self::with_frozen(anchor, false)
    }

    pub fn with_frozen(anchor: DateTime<Utc>, frozen: bool) -> Self {
        Clock {
            anchor,
            started: Instant::now(),
            offset_ms: AtomicI64::new(0),
            frozen,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = if self.frozen {
            chrono::Duration::zero()
        } else {
            chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
        };
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

    #[test]
    fn frozen_moves_only_when_advanced() {
        let anchor = Utc::now() - chrono::Duration::days(3);
        let c = Clock::with_frozen(anchor, true);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.now(), anchor);
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now(), anchor + chrono::Duration::seconds(60));
    }
}
