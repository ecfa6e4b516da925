//! Turns Salesforce rows into archive events: one JSON object per row with `@timestamp` from
//! the event's own time, a deterministic id, provenance, and every column under `fields`.

use std::io::Write;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

/// `ApiTotalUsage` -> `api_total_usage`, `URI` -> `uri`, `LoginEvent` -> `login_event`.
pub fn dataset(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if prev_lower || (prev_upper && next_lower) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(*c);
        } else {
            out.push('_');
        }
    }
    out
}

/// EventLogFile `TIMESTAMP`: `yyyyMMddHHmmss` with 0 to 3 fraction digits, GMT.
pub fn parse_elf_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let (main, frac) = s.split_once('.').unwrap_or((s, ""));
    if main.len() != 14 || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(main, "%Y%m%d%H%M%S").ok()?;
    let ms: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32)
    };
    Some(Utc.from_utc_datetime(&t) + chrono::Duration::milliseconds(ms))
}

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

/// A deterministic event id: the same row of the same unit always gets the same id, so a
/// redone unit overwrites rather than duplicates at every sink.
pub fn event_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Provenance of the rows of one EventLogFile.
pub struct ElfProvenance {
    pub org_id: String,
    pub event_type: String,
    pub file_id: String,
    pub log_date: DateTime<Utc>,
    pub interval: String,
    pub sequence: i64,
}

/// Writes NDJSON lines for the rows of one EventLogFile. Keys are escaped once; values are
/// escaped as they are written, with no intermediate JSON tree (this is the hot path).
pub struct ElfEncoder {
    head: Vec<u8>,
    keys: Vec<Vec<u8>>,
    ts_derived: Option<usize>,
    ts: Option<usize>,
    fallback_ts: String,
    org_id: String,
    file_id: String,
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is correct for every Unicode input; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

impl ElfEncoder {
    pub fn new(header: &[String], p: &ElfProvenance) -> ElfEncoder {
        let mut head = Vec::new();
        head.extend_from_slice(b",\"org_id\":");
        json_str(&mut head, &p.org_id);
        head.extend_from_slice(b",\"source\":\"EventLogFile\",\"event_type\":");
        json_str(&mut head, &p.event_type);
        head.extend_from_slice(b",\"file_id\":");
        json_str(&mut head, &p.file_id);
        head.extend_from_slice(b",\"log_date\":");
        json_str(&mut head, &iso(&p.log_date));
        head.extend_from_slice(b",\"interval\":");
        json_str(&mut head, &p.interval);
        let _ = write!(head, ",\"sequence\":{}", p.sequence);
        let keys = header
            .iter()
            .map(|h| {
                let mut k = Vec::new();
                json_str(&mut k, h);
                k.push(b':');
                k
            })
            .collect();
        let pos = |n: &str| header.iter().position(|h| h == n);
        ElfEncoder {
            head,
            keys,
            ts_derived: pos("TIMESTAMP_DERIVED"),
            ts: pos("TIMESTAMP"),
            fallback_ts: iso(&p.log_date),
            org_id: p.org_id.clone(),
            file_id: p.file_id.clone(),
        }
    }

    /// The event's own time: TIMESTAMP_DERIVED, else TIMESTAMP, else the file's LogDate.
    fn timestamp(&self, rec: &csv::StringRecord) -> String {
        if let Some(t) = self
            .ts_derived
            .and_then(|i| rec.get(i))
            .and_then(parse_sf_datetime)
        {
            return iso(&t);
        }
        if let Some(t) = self
            .ts
            .and_then(|i| rec.get(i))
            .and_then(parse_elf_timestamp)
        {
            return iso(&t);
        }
        self.fallback_ts.clone()
    }

    /// Appends one line for data row `row` (1-based) to `out`; returns the row's `@timestamp`.
    pub fn encode(&self, rec: &csv::StringRecord, row: u64, out: &mut Vec<u8>) -> String {
        let ts = self.timestamp(rec);
        out.extend_from_slice(b"{\"@timestamp\":");
        json_str(out, &ts);
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(
            event_id(&[&self.org_id, &self.file_id, &row.to_string()]).as_bytes(),
        );
        out.push(b'"');
        out.extend_from_slice(&self.head);
        let _ = write!(out, ",\"row\":{row},\"fields\":{{");
        for (i, (k, v)) in self.keys.iter().zip(rec.iter()).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(k);
            json_str(out, v);
        }
        out.extend_from_slice(b"}}\n");
        ts
    }
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

    #[test]
    fn encodes_every_column_with_provenance() {
        let header: Vec<String> = ["EVENT_TYPE", "TIMESTAMP", "QUERY", "TIMESTAMP_DERIVED"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = ElfProvenance {
            org_id: "00D000000000001AAA".into(),
            event_type: "API".into(),
            file_id: "0AT000000000001AAA".into(),
            log_date: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            interval: "Daily".into(),
            sequence: 0,
        };
        let enc = ElfEncoder::new(&header, &p);
        let rec = csv::StringRecord::from(vec!["API", "20240101010203.4", "a,\"b\"\nc", ""]);
        let mut out = Vec::new();
        enc.encode(&rec, 7, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@timestamp"], "2024-01-01T01:02:03.400Z");
        assert_eq!(v["fields"]["QUERY"], "a,\"b\"\nc");
        assert_eq!(v["row"], 7);
        assert_eq!(v["sequence"], 0);
        assert_eq!(
            v["id"],
            event_id(&["00D000000000001AAA", "0AT000000000001AAA", "7"])
        );
        assert_eq!(out.last(), Some(&b'\n'));
    }
}
