//! The collector's "now". `SFEVENTS_NOW` (RFC 3339) fixes it, for tests against a simulator
//! whose clock is not this machine's, and for replaying a run as of a given time.

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    let Ok(s) = std::env::var("SFEVENTS_NOW") else {
        return Utc::now();
    };
    match crate::time::parse_sf_datetime(s.trim()) {
        Some(t) => t,
        None => {
            tracing::warn!(
                "SFEVENTS_NOW '{s}' is not a date and time like 2026-03-10T12:30:00Z; using this machine's clock"
            );
            Utc::now()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sfevents_now_takes_rfc3339_and_salesforce_forms() {
        // The only test that sets SFEVENTS_NOW; nothing else in this crate's unit tests reads it.
        std::env::set_var("SFEVENTS_NOW", "2026-03-10T12:30:00Z");
        assert_eq!(crate::time::iso(&now()), "2026-03-10T12:30:00.000Z");
        std::env::set_var("SFEVENTS_NOW", "2026-03-10T12:30:00.250+0000");
        assert_eq!(crate::time::iso(&now()), "2026-03-10T12:30:00.250Z");
        std::env::set_var("SFEVENTS_NOW", "yesterday");
        assert!(
            (Utc::now() - now()).num_seconds().abs() < 5,
            "unreadable: this machine's clock"
        );
        std::env::remove_var("SFEVENTS_NOW");
    }
}
