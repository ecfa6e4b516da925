//! Small pieces every report uses to turn its tallies into tables and figures.

use crate::agg::Tally;
use crate::model::{Cell, ChartKind, Figure, Kind, Table};

pub fn fig(label: &str, value: impl Into<Cell>) -> Figure {
    let value = value.into();
    let kind = match value {
        Cell::Int(_) => Kind::Int,
        Cell::Float(_) => Kind::Float,
        _ => Kind::Text,
    };
    Figure {
        label: label.to_string(),
        value,
        kind,
    }
}

/// A headline share or rate, from 0 to 100: shown with `%`.
pub fn fig_pct(label: &str, value: f64) -> Figure {
    Figure {
        label: label.to_string(),
        value: Cell::Float(value),
        kind: Kind::Percent,
    }
}

/// An empty value shown as `(none)`, so it groups visibly instead of as a blank row.
pub fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

/// `part` as a percentage of `whole` (0 when there is no whole).
pub fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// A top-N table of one count per key, drawn as bars.
pub fn counts(id: &str, title: &str, key: &str, what: &str, per: Tally<u64>, n: usize) -> Table {
    let mut t = Table::new(id, title, &[(key, Kind::Text), (what, Kind::Int)]).chart(
        ChartKind::Bars,
        0,
        &[1],
    );
    let (kept, omitted) = per.top(n, |c| *c);
    for (k, c) in kept {
        t.push(vec![k.into(), c.into()]);
    }
    t.omitted = omitted;
    t
}
