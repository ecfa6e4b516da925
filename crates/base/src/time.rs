//! Salesforce's date-time forms, read and written.

use chrono::{DateTime, Utc};

/// ISO-8601 as Salesforce writes it: `2023-12-18T05:48:31.655Z`, `2023-12-19T21:04:35.000+0000`.
pub fn parse_sf_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `2023-12-18T05:48:31.655Z`.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
