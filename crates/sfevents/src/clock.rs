//! The collector's "now". `SFEVENTS_NOW` (RFC 3339) fixes it, for tests against a simulator
//! whose clock is not this machine's, and for replaying a run as of a given time.

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    std::env::var("SFEVENTS_NOW")
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}
