//! The collector's "now". `SFEVENTS_NOW` (RFC 3339) fixes it, for tests against a simulator
//! whose clock is not this machine's, and for replaying a run as of a given time.

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    let Ok(s) = std::env::var("SFEVENTS_NOW") else {
        return Utc::now();
    };
    match crate::normalize::parse_sf_datetime(s.trim()) {
        Some(t) => t,
        None => {
            tracing::warn!(
                "SFEVENTS_NOW '{s}' is not a date and time like 2026-03-10T12:30:00Z; using this machine's clock"
            );
            Utc::now()
        }
    }
}
