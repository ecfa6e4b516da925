//! The accumulator most reports need: rows grouped by a few key fields, counting them and
//! summing the numeric fields that follow, and the table built from it.

use crate::agg::{parts, Merge, Tally, Timing, SEP};
use crate::ledger::Acc;
use crate::model::{Cell, ChartKind, Kind, Table};
use crate::row::Row;
use crate::tables::or_none;

/// Fields `0..keys` form the key; the fields after them are measures.
pub struct Grouped {
    keys: usize,
    measures: usize,
    pub total: u64,
    pub per: Tally<Measures>,
    buf: String,
}

#[derive(Debug, Default, Clone)]
pub struct Measures {
    pub n: u64,
    pub m: Vec<Timing>,
}

impl Merge for Measures {
    fn merge(&mut self, o: Self) {
        self.n += o.n;
        if self.m.len() < o.m.len() {
            self.m.resize(o.m.len(), Timing::default());
        }
        for (a, b) in self.m.iter_mut().zip(o.m) {
            a.merge(b);
        }
    }
}

impl Grouped {
    pub fn new(keys: usize, measures: usize) -> Grouped {
        Grouped {
            keys,
            measures,
            total: 0,
            per: Tally::default(),
            buf: String::new(),
        }
    }
}

impl Acc for Grouped {
    fn add(&mut self, r: &Row) {
        self.total += 1;
        self.buf.clear();
        for i in 0..self.keys {
            if i > 0 {
                self.buf.push(SEP);
            }
            self.buf.push_str(or_none(r.get(i)));
        }
        let m = self.measures;
        let e = self.per.at(&self.buf);
        if e.m.len() < m {
            e.m.resize(m, Timing::default());
        }
        e.n += 1;
        for j in 0..m {
            e.m[j].add(r.num(self.keys + j));
        }
    }

    fn merge(&mut self, o: Self) {
        self.total += o.total;
        self.per.merge(o.per);
    }
}

/// A measure column: which measure, and which statistic of it.
pub enum Stat {
    Avg(usize),
    Max(usize),
    Sum(usize),
}

/// How the rows are ordered before the top N are kept.
pub enum Rank {
    Count,
    Avg(usize),
    Sum(usize),
}

/// A table of a `Grouped`: the key columns, a count column, then the asked statistics.
pub struct Spec<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub keys: &'a [&'a str],
    pub count: &'a str,
    pub stats: &'a [(&'a str, Stat)],
    pub rank: Rank,
    /// Draw bars of this column (an index into the table's columns), labelled by the first key.
    pub bars: Option<usize>,
}

pub fn table(spec: &Spec, g: Grouped, n: usize) -> Table {
    let mut cols: Vec<(&str, Kind)> = spec.keys.iter().map(|k| (*k, Kind::Text)).collect();
    cols.push((spec.count, Kind::Int));
    for (name, stat) in spec.stats {
        let kind = match stat {
            Stat::Avg(_) => Kind::Float,
            _ => Kind::Int,
        };
        cols.push((name, kind));
    }
    let mut t = Table::new(spec.id, spec.title, &cols);
    if let Some(b) = spec.bars {
        t = t.chart(ChartKind::Bars, 0, &[b]);
    }
    let m = |e: &Measures, i: usize| e.m.get(i).copied().unwrap_or_default();
    let (kept, omitted) = match spec.rank {
        Rank::Count => g.per.top(n, |e| e.n as f64),
        Rank::Avg(i) => g.per.top(n, |e| m(e, i).avg()),
        Rank::Sum(i) => g.per.top(n, |e| m(e, i).sum),
    };
    for (k, e) in kept {
        let mut row: Vec<Cell> = parts(&k).into_iter().map(Cell::from).collect();
        row.resize(spec.keys.len(), Cell::Empty);
        row.push(e.n.into());
        for (_, stat) in spec.stats {
            row.push(match stat {
                Stat::Avg(i) => m(&e, *i).avg().into(),
                Stat::Max(i) => (m(&e, *i).max as i64).into(),
                Stat::Sum(i) => (m(&e, *i).sum as i64).into(),
            });
        }
        t.push(row);
    }
    t.omitted = omitted;
    t
}
