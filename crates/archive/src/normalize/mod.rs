//! Turns Salesforce rows into archive events: one JSON object per row with `@timestamp` from
//! the event's own time, a deterministic id (`ids`), provenance, and every column under
//! `fields`. `elf` converts EventLogFile CSV; object records are written by
//! `sources::records`.

pub mod elf;
pub mod ids;
mod scan;

use chrono::{DateTime, Utc};

// Salesforce's time forms live in `base::time`; the archive's code names them from here too.
pub use base::time::{iso, parse_sf_datetime};

pub use elf::{convert_csv, ConvertError, Converted, CsvError, ElfProvenance};

/// `ApiTotalUsage` -> `api_total_usage`, `URI` -> `uri`, `LoginEvent` -> `login_event`: the
/// archive's folder names, and the datasets of the outputs (one rule, kept in the `ecs` crate).
pub fn dataset(name: &str) -> String {
    ecs::snake_case(name)
}

/// EventLogFile `TIMESTAMP`: `yyyyMMddHHmmss` with 0 to 3 fraction digits, GMT (the `ecs`
/// crate's rule, so `@timestamp` in the archive and in Elasticsearch agree).
pub fn parse_elf_timestamp(s: &str) -> Option<DateTime<Utc>> {
    ecs::elf_timestamp(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets() {
        assert_eq!(dataset("ApiTotalUsage"), "api_total_usage");
        assert_eq!(dataset("URI"), "uri");
        assert_eq!(dataset("API"), "api");
        assert_eq!(dataset("RestApi"), "rest_api");
        assert_eq!(dataset("LoginEvent"), "login_event");
        assert_eq!(dataset("LightningPageView"), "lightning_page_view");
        assert_eq!(dataset("CSPViolation"), "csp_violation");
    }

    #[test]
    fn elf_timestamps_with_0_to_3_fraction_digits() {
        let t = |s| parse_elf_timestamp(s).map(|t| iso(&t));
        assert_eq!(
            t("20231218054831.655").as_deref(),
            Some("2023-12-18T05:48:31.655Z")
        );
        assert_eq!(
            t("20211019050707.13").as_deref(),
            Some("2021-10-19T05:07:07.130Z")
        );
        assert_eq!(
            t("20211019050707.1").as_deref(),
            Some("2021-10-19T05:07:07.100Z")
        );
        assert_eq!(
            t("20220803011210").as_deref(),
            Some("2022-08-03T01:12:10.000Z")
        );
        assert_eq!(t("2022080301121"), None);
        assert_eq!(
            parse_sf_datetime("2023-12-19T21:04:35.000+0000")
                .map(|t| iso(&t))
                .as_deref(),
            Some("2023-12-19T21:04:35.000Z")
        );
    }
}
