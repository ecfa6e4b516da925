//! Value formats Elasticsearch's field mappers read, and how its errors print a value.

use serde_json::Value;

/// A value as Elasticsearch's "Preview of field's value" prints it: the parser reads it into
/// Java objects (`HashMap`, `ArrayList`, `String`, `Integer`/`Long`/`Double`) and calls
/// `toString()`, so objects print as `{k=v, k2=v2}` in `HashMap` order, strings unquoted.
pub fn java_preview(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => java_double(f),
            _ => n.to_string(),
        },
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(java_preview).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let keys: Vec<&String> = m.keys().collect();
            let items: Vec<String> = hash_map_order(&keys)
                .into_iter()
                .map(|i| format!("{}={}", keys[i], java_preview(&m[keys[i].as_str()])))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Java's `Double.toString`: at least one decimal, scientific outside [10^-3, 10^7).
fn java_double(f: f64) -> String {
    let a = f.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        return format!("{f:?}");
    }
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

/// The order a `java.util.HashMap` built by inserting `keys` in order iterates them: by bucket
/// (`(n - 1) & (h ^ (h >>> 16))` of `String.hashCode()`, the table grown by doubling from 16
/// while more than 3/4 full), and in insertion order within a bucket.
fn hash_map_order(keys: &[&String]) -> Vec<usize> {
    let mut capacity = 16usize;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |k: &str| {
        let h = k
            .encode_utf16()
            .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
        let h = h as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (bucket(keys[i]), i));
    order
}

/// Java's `Double.parseDouble`: spaces trimmed, `NaN` and `Infinity` read, no other words.
pub fn java_parse_double(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t if t
            .bytes()
            .any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E')) =>
        {
            None
        }
        t => t.parse().ok(),
    }
}

/// `strict_date_optional_time`: "the date must include the year at a minimum, and the time
/// (separated by T), is optional" — `yyyy[-MM[-dd]][T[HH[:mm[:ss[.S{1,9}]]]][zone]]`, every
/// field with its exact number of digits.
pub fn strict_date_optional_time(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*i..*i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *i += n;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let Some(year) = digits(&mut i, 4) else {
        return false;
    };
    let (mut month, mut day) = (1, 1);
    if b.get(i) == Some(&b'-') {
        i += 1;
        let Some(m) = digits(&mut i, 2) else {
            return false;
        };
        month = m;
        if b.get(i) == Some(&b'-') {
            i += 1;
            let Some(d) = digits(&mut i, 2) else {
                return false;
            };
            day = d;
        }
    }
    if chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_none() {
        return false;
    }
    if i == b.len() {
        return true;
    }
    if b[i] != b'T' {
        return false;
    }
    i += 1;
    time_and_zone(&b[i..])
}

/// `HH[:mm[:ss[.fraction]]]` then an optional zone, or nothing at all.
fn time_and_zone(b: &[u8]) -> bool {
    let mut i = 0;
    let two = |i: &mut usize, max: u32| -> Option<()> {
        let part = b.get(*i..*i + 2)?;
        let n: u32 = std::str::from_utf8(part).ok()?.parse().ok()?;
        (part.iter().all(u8::is_ascii_digit) && n <= max).then(|| *i += 2)
    };
    if two(&mut i, 23).is_some() {
        for _ in 0..2 {
            if b.get(i) != Some(&b':') {
                break;
            }
            i += 1;
            if two(&mut i, 59).is_none() {
                return false;
            }
        }
        if matches!(b.get(i), Some(b'.' | b',')) {
            let from = i + 1;
            i = from;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if !(1..=9).contains(&(i - from)) {
                return false;
            }
        }
    }
    zone(&b[i..])
}

/// Nothing, `Z`, or `+HH`, `+HHmm`, `+HH:mm` (either sign).
fn zone(b: &[u8]) -> bool {
    match b {
        [] | [b'Z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let digits = |p: &[u8]| p.iter().all(u8::is_ascii_digit);
            match rest {
                [h1, h2] => digits(&[*h1, *h2]),
                [h1, h2, m1, m2] => digits(&[*h1, *h2, *m1, *m2]),
                [h1, h2, b':', m1, m2] => digits(&[*h1, *h2, *m1, *m2]),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `epoch_millis`: an optional `-`, digits, an optional fraction.
pub fn epoch_millis(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    !int.is_empty()
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// Whether `format` (`a||b`) is made only of formats this receiver can check.
pub fn checkable_format(format: &str) -> bool {
    format.split("||").all(|f| {
        matches!(
            f.trim(),
            "strict_date_optional_time" | "date_optional_time" | "epoch_millis"
        )
    })
}

/// A date as `format` reads it (a JSON number is epoch milliseconds).
pub fn is_date(v: &Value, format: &str) -> bool {
    let formats: Vec<&str> = format.split("||").map(str::trim).collect();
    match v {
        Value::Number(_) => formats.contains(&"epoch_millis"),
        Value::String(s) => formats.iter().any(|f| match *f {
            "epoch_millis" => epoch_millis(s),
            _ => strict_date_optional_time(s),
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previews_print_as_java_does() {
        assert_eq!(
            java_preview(&json!({"data": {"received": "here"}})),
            "{data={received=here}}"
        );
        assert_eq!(java_preview(&json!({})), "{}");
        assert_eq!(
            java_preview(&json!([1, "a", 1.5, null])),
            "[1, a, 1.5, null]"
        );
        assert_eq!(java_preview(&json!(1e21)), "1.0E21");
        // Buckets of a 16-slot table: "a" 1, "b" 2; "x" 8, "id" (hash 3355) 11.
        assert_eq!(java_preview(&json!({"b": 1, "a": 2})), "{a=2, b=1}");
        assert_eq!(java_preview(&json!({"id": 1, "x": 2})), "{x=2, id=1}");
    }

    #[test]
    fn strict_dates() {
        for ok in [
            "2026",
            "2026-03",
            "2026-03-10",
            "2026-03-10T14",
            "2026-03-10T14:25:05.112Z",
            "2026-03-10T15:02:11.000+0000",
            "2026-01-01T10:00:00+01:00",
            "2026-01-01T00:00:00Z",
        ] {
            assert!(strict_date_optional_time(ok), "{ok}");
        }
        for bad in [
            "26-03-10",
            "2026-3-10",
            "2026-02-30",
            "2026-03-10 14:25",
            "abc",
            "",
            "2026-03-10T25",
        ] {
            assert!(!strict_date_optional_time(bad), "{bad}");
        }
        let f = "strict_date_optional_time||epoch_millis";
        assert!(is_date(&json!(1767225600000u64), f) && is_date(&json!("1767225600000"), f));
        assert!(!is_date(&json!("yesterday"), f) && !is_date(&json!(true), f));
        assert!(checkable_format(f) && !checkable_format("yyyy/MM/dd"));
    }
}
