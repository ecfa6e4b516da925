//! How the HTML page and its charts write values: escaped for HTML, numbers grouped, times
//! readable, and the raw value the JSON format would write (for `data-value`). A leaf both
//! `html` and `svg` use, so neither needs the other for it.

use crate::model::{grouped, Cell, Kind};

/// The value exactly as the JSON format writes it (strings unquoted), `None` for a missing
/// value (JSON `null`, also what JSON makes of a non-finite float).
pub fn raw(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(s) => Some(s.clone()),
        Cell::Int(i) => Some(i.to_string()),
        Cell::Float(f) if f.is_finite() => serde_json::to_string(f).ok(),
        Cell::Float(_) | Cell::Empty => None,
    }
}

/// A value as people read it: thousands separators, two decimals for decimals, one and " %"
/// for percentages.
pub fn display(cell: &Cell, kind: Kind) -> String {
    match (cell, kind) {
        (Cell::Text(s), Kind::Time) => time_text(s),
        (Cell::Text(s), _) => s.clone(),
        (Cell::Empty, _) => "—".to_string(),
        (Cell::Int(i), Kind::Percent) => format!("{}\u{a0}%", grouped(*i)),
        (Cell::Int(i), _) => grouped(*i),
        (Cell::Float(f), _) if !f.is_finite() => "—".to_string(),
        (Cell::Float(f), Kind::Percent) => format!("{}\u{a0}%", number(*f, 1)),
        (Cell::Float(f), _) => number(*f, 2),
    }
}

/// An RFC 3339 instant as people read it: "2026-03-10T09:12:44Z" -> "2026-03-10 09:12:44 UTC".
/// Anything else (a day, an hour label) is left as it is.
pub fn time_text(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 16 && s.is_ascii() && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' {
        let mut t = format!("{} {}", &s[..10], &s[11..]);
        if t.ends_with('Z') {
            t.pop();
            t.push_str(" UTC");
        }
        t
    } else {
        s.to_string()
    }
}

/// `v` with `decimals` decimals and thousands separators: 1234.5 -> "1,234.50".
pub fn number(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits: i64 = int.parse().unwrap_or(0);
    let negative = v < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped(digits));
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Text for HTML content and attribute values. `\r` is written as a reference because the
/// parser would turn a literal one into `\n`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(number(1234.5, 2), "1,234.50");
        assert_eq!(number(-1234567.0, 0), "-1,234,567");
        assert_eq!(number(-0.001, 2), "0.00");
        assert_eq!(display(&Cell::Float(0.1 + 0.2), Kind::Float), "0.30");
        assert_eq!(raw(&Cell::Float(0.1 + 0.2)).unwrap(), "0.30000000000000004");
        assert_eq!(raw(&Cell::Float(2.0)).unwrap(), "2.0");
        assert_eq!(raw(&Cell::Float(f64::NAN)), None);
    }
}
