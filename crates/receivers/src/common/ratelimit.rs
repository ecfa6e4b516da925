//! Rate limits as token buckets, one per key (a routing key, a webhook path), for the alert
//! receivers (PagerDuty, Slack, Teams).
//!
//! A bucket holds at most `burst` tokens and gains one every `refill_every_ms`; a request takes
//! one or is refused with the wait until the next. "N per minute" is a bucket of N refilled
//! every 60/N seconds, so a sender may spend the whole minute's allowance at once, as the
//! vendors' "short bursts allowed" wording permits, and then gets one more per 60/N seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A bucket's size and refill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Requests that may come at once, from a full bucket.
    pub burst: u32,
    /// One token comes back every this many milliseconds.
    pub refill_every_ms: u64,
}

impl Rate {
    /// `n` requests per minute (at least 1), all of them allowed at once.
    pub fn per_minute(n: u32) -> Rate {
        let n = n.max(1);
        Rate {
            burst: n,
            refill_every_ms: (60_000 / u64::from(n)).max(1),
        }
    }

    /// `n` requests per second (at least 1), all of them allowed at once.
    pub fn per_second(n: u32) -> Rate {
        let n = n.max(1);
        Rate {
            burst: n,
            refill_every_ms: (1_000 / u64::from(n)).max(1),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every key seen.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    /// Takes one token from `key`'s bucket (full the first time a key is seen), or answers how
    /// long until one is back.
    pub fn take(&mut self, key: &str, rate: Rate, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(rate.burst.max(1));
        let every = Duration::from_millis(rate.refill_every_ms.max(1));
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let gained = now.saturating_duration_since(bucket.at).as_secs_f64() / every.as_secs_f64();
        bucket.tokens = (bucket.tokens + gained).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(every.mul_f64(1.0 - bucket.tokens))
        }
    }
}

/// A wait as `Retry-After` seconds: rounded up, at least 1 (0 would invite an immediate retry
/// that is refused again).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let ms = wait.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_one_per_refill() {
        let mut l = Limiter::default();
        let rate = Rate {
            burst: 3,
            refill_every_ms: 1000,
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take("a", rate, t0), Ok(()));
        }
        assert_eq!(l.take("a", rate, t0), Err(Duration::from_secs(1)));
        assert_eq!(l.take("b", rate, t0), Ok(()), "keys have their own bucket");
        let later = t0 + Duration::from_millis(400);
        let wait = l.take("a", rate, later).unwrap_err();
        assert!(wait > Duration::from_millis(599) && wait <= Duration::from_millis(600));
        assert_eq!(retry_after_secs(wait), 1);
        assert_eq!(l.take("a", rate, t0 + Duration::from_millis(1000)), Ok(()));
        assert!(l.take("a", rate, t0 + Duration::from_millis(1000)).is_err());
        assert_eq!(l.take("a", rate, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn rates_per_minute_and_second() {
        assert_eq!(
            Rate::per_minute(120),
            Rate {
                burst: 120,
                refill_every_ms: 500
            }
        );
        assert_eq!(Rate::per_second(4).refill_every_ms, 250);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
