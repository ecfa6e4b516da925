//! The EventLogFile listing query, and what it does when the org refuses one of its fields.
//!
//! It selects `Interval` (API 37+) and the CSV's declared columns, `LogFileFieldNames` and
//! `LogFileFieldTypes`, besides what every org has. An org whose field-level security hides
//! one of them answers INVALID_FIELD naming it: the query is sent again without it (a
//! warning, once per listing). Files listed without the declared columns are archived all
//! the same; outputs that type columns fall back to the values (see `outputs::lake`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::client::query::quote;
use crate::client::{ApiError, SfClient};
use crate::config::{ElfConfig, IntervalChoice};

/// What every org's EventLogFile has.
const BASE: &str = "Id, EventType, LogDate, Sequence, CreatedDate, LogFileLength, LogFile";
/// The CSV's declared columns (both nillable).
const SCHEMA: &str = "LogFileFieldNames, LogFileFieldTypes";

/// Which optional fields a query selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select {
    pub interval: bool,
    pub schema: bool,
}

impl Select {
    /// Everything; fields the org refuses are dropped as it names them.
    pub const ALL: Select = Select {
        interval: true,
        schema: true,
    };

    /// The field list.
    pub fn fields(self) -> String {
        let mut f = BASE.to_string();
        if self.interval {
            f.push_str(", Interval");
        }
        if self.schema {
            f.push_str(", ");
            f.push_str(SCHEMA);
        }
        f
    }

    /// This selection without the field an INVALID_FIELD answer names, if it selected it.
    /// Salesforce's message may echo the query before `No such column '<field>'`: the field
    /// is read from that phrase, else from a quoted name anywhere.
    fn without(self, message: &str) -> Option<Select> {
        let message = message
            .split_once("No such column ")
            .map_or(message, |(_, named)| named);
        if self.interval && message.contains("'Interval'") {
            tracing::warn!("this org's EventLogFile has no Interval field; telling daily from hourly files by Sequence");
            return Some(Select {
                interval: false,
                ..self
            });
        }
        if self.schema && message.contains("'LogFileField") {
            tracing::warn!("this org refuses EventLogFile.LogFileFieldNames/LogFileFieldTypes; files are listed without their declared column types (the lake then types columns from their values)");
            return Some(Select {
                schema: false,
                ..self
            });
        }
        None
    }
}

fn soql_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The listing query, from `lower` on. Without `Interval` (orgs whose EventLogFile has no
/// such field), Sequence 0 is a daily file, 1 and up hourly.
pub fn listing_soql(cfg: &ElfConfig, lower: Option<DateTime<Utc>>, select: Select) -> String {
    let mut filters = Vec::new();
    if let Some(l) = lower {
        filters.push(format!("CreatedDate >= {}", soql_datetime(&l)));
    }
    if !cfg.event_types.is_empty() {
        let list: Vec<String> = cfg.event_types.iter().map(|t| quote(t)).collect();
        filters.push(format!("EventType IN ({})", list.join(", ")));
    }
    match (cfg.interval, select.interval) {
        (IntervalChoice::Daily, true) => filters.push("Interval = 'Daily'".into()),
        (IntervalChoice::Hourly, true) => filters.push("Interval = 'Hourly'".into()),
        (IntervalChoice::Daily, false) => filters.push("Sequence = 0".into()),
        (IntervalChoice::Hourly, false) => filters.push("Sequence > 0".into()),
        (IntervalChoice::Auto, _) => {}
    }
    let where_ = if filters.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filters.join(" AND "))
    };
    let fields = select.fields();
    format!("SELECT {fields} FROM EventLogFile{where_} ORDER BY CreatedDate ASC, Id ASC")
}

/// Runs the query `soql(select)`, dropping each optional field the org refuses, until one
/// is accepted. Returns the records and the selection that worked.
pub async fn query_tolerant(
    client: &SfClient,
    mut select: Select,
    soql: impl Fn(Select) -> String,
) -> Result<(Vec<Map<String, Value>>, Select), ApiError> {
    loop {
        let e = match client.query_all(&soql(select)).await {
            Ok(r) => return Ok((r, select)),
            Err(e) => e,
        };
        let next = match &e {
            ApiError::Status { code, message, .. } if code == "INVALID_FIELD" => {
                select.without(message)
            }
            _ => None,
        };
        select = next.ok_or(e)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_is_dropped_from_the_selection() {
        let msg = |f: &str| format!("No such column '{f}' on entity 'EventLogFile'.");
        let s = Select::ALL.without(&msg("LogFileFieldTypes")).unwrap();
        assert_eq!((s.interval, s.schema), (true, false));
        assert!(!s.fields().contains("LogFileField"), "{}", s.fields());
        let s = s.without(&msg("Interval")).unwrap();
        assert_eq!((s.interval, s.schema), (false, false));
        assert_eq!(s.without(&msg("Interval")), None, "nothing left to drop");
        assert_eq!(Select::ALL.without(&msg("Bogus")), None);
        // The query echoed before the refusal names Interval too: the refused field counts.
        let echoed = format!(
            "\nSELECT Id, Interval, LogFileFieldNames FROM EventLogFile WHERE Interval = 'Daily'\n ^\nERROR at Row:1:Column:13\n{}",
            msg("LogFileFieldNames")
        );
        assert_eq!(Select::ALL.without(&echoed).map(|s| s.interval), Some(true));
    }
}
