//! Shared conversions: names, numbers and timestamps.
//!
//! The Elastic data streams must reproduce what Elasticsearch's ingest processors do (Java
//! parsing rules, `float` precision, date output format), so those rules live here once, named
//! after the processor they imitate.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Number, Value};

/// `ApiTotalUsage` -> `api_total_usage`, `URI` -> `uri`, `LoginEvent` -> `login_event`,
/// `USER_ID_DERIVED` -> `user_id_derived`, `Foo__c` -> `foo__c`.
///
/// The same rule as the archive's directory names (sfevents' `normalize::dataset`), so a dataset
/// in Elasticsearch and a folder of the archive have the same name. An upper-case letter starts
/// a new word after a lower-case letter or a digit, and before a lower-case letter when it ends
/// a run of capitals (`URLPath` -> `url_path`); anything not alphanumeric becomes `_`.
pub fn snake_case(name: &str) -> String {
    // Runs once per column of every event shipped: one pass, one allocation.
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_uppercase() {
            let prev_lower = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            let prev_upper = prev.is_some_and(|p| p.is_ascii_uppercase());
            let next_lower = chars.peek().is_some_and(|n| n.is_ascii_lowercase());
            if prev_lower || (prev_upper && next_lower) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
        prev = Some(c);
    }
    out
}

/// The generic mapping's number rule for EventLogFile cells (every cell is a CSV string).
///
/// A cell becomes a JSON number only when it is a plain decimal: an optional `-`, then `0` or
/// digits without a leading zero, then optionally `.` and digits. Integers that fit in 64 bits
/// become integers, decimals become floating point. Everything else stays a string: leading
/// zeros (`007`, zip codes, 15-char ids such as `005...`), exponents, `+1`, `1.`, `.5`, hex.
/// Columns that hold identifiers or times (see [`is_text_column`]) always stay strings, whatever
/// they look like: an all-digit id must not change type from one row to the next, and
/// `TIMESTAMP` (`20240101010203.400`) is a time, not a quantity.
pub(crate) fn elf_number(column: &str, cell: &str) -> Option<Value> {
    if is_text_column(column) {
        return None;
    }
    decimal_number(cell).map(Value::Number)
}

/// [`elf_number`] for a column already known not to be a text column.
pub(crate) fn decimal_number(cell: &str) -> Option<Number> {
    if !is_plain_decimal(cell) {
        return None;
    }
    if cell.contains('.') {
        let f: f64 = cell.parse().ok()?;
        return Number::from_f64(f);
    }
    cell.parse::<i64>().ok().map(Number::from)
}

/// Identifiers: `id`, `*_id`, `*_ids`, `*_id_derived`, `*_key`, `*identifier*`; times:
/// `timestamp`, `*_timestamp` (snake_case names).
pub(crate) fn is_text_column(snake: &str) -> bool {
    snake == "id"
        || snake == "timestamp"
        || snake.ends_with("_timestamp")
        || snake.ends_with("_id")
        || snake.ends_with("_ids")
        || snake.ends_with("_id_derived")
        || snake.ends_with("_key")
        || snake.contains("identifier")
}

fn is_plain_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

/// Elasticsearch's date output (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, in UTC): `2021-10-19T11:47:22.000Z`.
pub(crate) fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `date` processor with the `ISO8601` format, as Salesforce writes dates:
/// `2021-10-19T11:47:22Z`, `2022-08-16T09:26:38.000+0000`, `2023-12-18T05:48:31.655+05:30`,
/// without a zone (taken as UTC, the processor's default), or a bare date.
pub(crate) fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
}

/// EventLogFile `TIMESTAMP`: `yyyyMMddHHmmss` with 0 to 3 fraction digits, in GMT. A short
/// fraction is a fraction (`.13` is 130 ms), as Salesforce drops trailing digits.
pub fn elf_timestamp(s: &str) -> Option<DateTime<Utc>> {
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

/// The `convert` processor with `type: long`. Strings are parsed like Java's
/// `Long.parseLong` (decimal, optional sign), or `Long.decode` when they start with `0x`/`-0x`.
/// A JSON number is taken when it is integral: Filebeat re-encodes every number as a Go
/// float64, which prints `638.0` as `638`, so Elasticsearch sees an integer. Anything else is
/// not convertible (the processor would fail), and the caller leaves the field out.
pub(crate) fn es_long(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => es_long_str(s),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Some(i);
            }
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
        }
        _ => None,
    }
}

/// [`es_long`] of a string.
pub(crate) fn es_long_str(s: &str) -> Option<i64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        if !s.starts_with("0x") && !s.starts_with("-0x") {
            return None;
        }
        let n = i64::from_str_radix(hex, 16).ok()?;
        return Some(if neg { -n } else { n });
    }
    java_parse_long(s)
}

/// Elasticsearch's date output of an ISO 8601 text ([`iso8601`] then [`format_utc`]), without
/// parsing when the text is already in that form (the archive's `@timestamp` always is).
pub(crate) fn iso8601_utc(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if is_canonical_utc(s.as_bytes()) {
        return Some(s.into());
    }
    iso8601(s).map(|t| format_utc(&t).into())
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ` with a real date and time: what [`format_utc`] writes for it.
fn is_canonical_utc(b: &[u8]) -> bool {
    let shape = b"dddd-dd-ddTdd:dd:dd.dddZ";
    if b.len() != shape.len()
        || !b.iter().zip(shape).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            s => c == s,
        })
    {
        return false;
    }
    let n = |i: usize, len: usize| {
        b[i..i + len]
            .iter()
            .fold(0u32, |a, c| a * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (n(0, 4) as i32, n(5, 2), n(8, 2));
    let days = NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|next| next.pred_opt())
        .map(|last| chrono::Datelike::day(&last));
    day >= 1
        && days.is_some_and(|d| day <= d)
        && year >= 1
        && n(11, 2) < 24
        && n(14, 2) < 60
        && n(17, 2) < 60
}

/// Java's `Long.parseLong`: an optional sign and ASCII digits, nothing else.
pub(crate) fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `convert` processor with `type: double` (Java's `Double.parseDouble`, which trims).
pub(crate) fn es_double(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

/// Painless' `Float.parseFloat`: the value is a 32-bit float. Elasticsearch serialises it with
/// its shortest decimal form (`39254335` -> `3.9254336E7`), and that decimal is what the
/// document holds, so the f32 goes through its shortest decimal to an f64 (`264.2487` stays
/// `264.2487`, not `264.24869384765625`).
pub(crate) fn java_float(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let t = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    let f: f32 = t.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    format!("{f}").parse::<f64>().ok()
}

/// An f64 as a JSON number (`None` for NaN and infinities, which JSON cannot hold).
pub(crate) fn float(f: f64) -> Option<Value> {
    Number::from_f64(f).map(Value::Number)
}

/// True when `s` is an IPv4 or IPv6 address (what an `ip` field accepts).
pub(crate) fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// A value as a mustache template (`{{{json.X}}}`) renders it: strings as they are, other
/// scalars as text, null or missing as the empty string.
pub(crate) fn template_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snake_case_matches_archive_names() {
        for (i, o) in [
            ("ApiTotalUsage", "api_total_usage"),
            ("LoginEvent", "login_event"),
            ("URI", "uri"),
            ("USER_ID_DERIVED", "user_id_derived"),
            ("SourceIp", "source_ip"),
            ("URLPath", "url_path"),
            ("Foo__c", "foo__c"),
            ("ApexCallout", "apex_callout"),
            ("Report2Export", "report2_export"),
        ] {
            assert_eq!(snake_case(i), o, "{i}");
        }
    }

    #[test]
    fn elf_numbers_are_plain_decimals_only() {
        assert_eq!(elf_number("run_time", "156"), Some(json!(156)));
        assert_eq!(elf_number("run_time", "-3"), Some(json!(-3)));
        assert_eq!(elf_number("throughput", "264.2487"), Some(json!(264.2487)));
        assert_eq!(elf_number("ratio", "0.5"), Some(json!(0.5)));
        for s in [
            "", "007", "1e5", "+1", "1.", ".5", "0x1F", "N/A", " 1", "1,000",
        ] {
            assert_eq!(elf_number("x", s), None, "{s:?}");
        }
        // Larger than i64: kept as text rather than rounded.
        assert_eq!(elf_number("x", "99999999999999999999"), None);
        // Identifier columns stay strings.
        assert_eq!(elf_number("request_id", "123"), None);
        assert_eq!(elf_number("session_key", "42"), None);
        assert_eq!(elf_number("user_id_derived", "1"), None);
        assert_eq!(elf_number("timestamp", "20240101010203.400"), None);
    }

    #[test]
    fn dates_come_out_as_elasticsearch_writes_them() {
        let f = |s: &str| iso8601(s).map(|t| format_utc(&t));
        assert_eq!(
            f("2021-10-19T11:47:22Z").as_deref(),
            Some("2021-10-19T11:47:22.000Z")
        );
        assert_eq!(
            f("2022-08-16T09:26:38.000+0000").as_deref(),
            Some("2022-08-16T09:26:38.000Z")
        );
        assert_eq!(
            f("2022-08-16T11:26:38.1234+02:00").as_deref(),
            Some("2022-08-16T09:26:38.123Z")
        );
        assert_eq!(f("2024-01-01").as_deref(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(f("yesterday"), None);
        let t = elf_timestamp("20211019050707.13").map(|t| format_utc(&t));
        assert_eq!(t.as_deref(), Some("2021-10-19T05:07:07.130Z"));
        assert_eq!(elf_timestamp("2021101905070"), None);
    }

    #[test]
    fn java_number_rules() {
        assert_eq!(es_long(&json!("93531912")), Some(93531912));
        assert_eq!(es_long(&json!("0x1F")), Some(31));
        assert_eq!(es_long(&json!("")), None);
        assert_eq!(es_long(&json!("1.5")), None);
        assert_eq!(es_long(&json!(638.0)), Some(638));
        assert_eq!(es_long(&json!(638.5)), None);
        assert_eq!(java_float("39254335"), Some(39254336.0));
        assert_eq!(java_float("81604961"), Some(81604960.0));
        assert_eq!(java_float("264.2487"), Some(264.2487));
        assert_eq!(java_float(""), None);
        assert_eq!(es_double(&json!(0)), Some(0.0));
    }
}
