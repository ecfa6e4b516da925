//! Aggregation pieces the reports share: counts and timings by key, distinct sets, first and
//! last seen, and top-N ordering. Each merges, so every worker thread keeps its own.

use hashbrown::{HashMap, HashSet};

/// Combining two workers' partial results.
pub trait Merge {
    fn merge(&mut self, other: Self);
}

impl Merge for u64 {
    fn merge(&mut self, other: Self) {
        *self += other;
    }
}

/// Values by a text key (composite keys join their parts with `SEP`).
#[derive(Debug)]
pub struct Tally<V> {
    map: HashMap<Box<str>, V>,
}

/// Joins the parts of a composite key; no Salesforce value holds it.
pub const SEP: char = '\u{1f}';

impl<V> Default for Tally<V> {
    fn default() -> Self {
        Tally {
            map: HashMap::new(),
        }
    }
}

impl<V: Default> Tally<V> {
    /// The value for `key`, created empty on first sight: one hash lookup, and no
    /// allocation when the key exists.
    pub fn at(&mut self, key: &str) -> &mut V {
        self.map.entry_ref(key).or_default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    /// Entries ordered by `rank` descending, then key ascending, so ties print the same way
    /// every time.
    pub fn ranked<R: PartialOrd>(self, rank: impl Fn(&V) -> R) -> Vec<(String, V)> {
        let mut v: Vec<(String, V)> = self.map.into_iter().map(|(k, v)| (k.into(), v)).collect();
        v.sort_by(|a, b| {
            rank(&b.1)
                .partial_cmp(&rank(&a.1))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        v
    }

    /// The `n` first entries by `rank` (as [`Tally::ranked`] orders them) and how many were
    /// left out. Only the kept entries are sorted: a tally of millions of keys costs one
    /// selection pass, not a sort.
    pub fn top<R: PartialOrd>(self, n: usize, rank: impl Fn(&V) -> R) -> (Vec<(String, V)>, u64) {
        let mut v: Vec<(Box<str>, V)> = self.map.into_iter().collect();
        let order = |a: &(Box<str>, V), b: &(Box<str>, V)| {
            rank(&b.1)
                .partial_cmp(&rank(&a.1))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        };
        let omitted = v.len().saturating_sub(n) as u64;
        if n == 0 {
            return (Vec::new(), omitted);
        }
        if v.len() > n {
            v.select_nth_unstable_by(n - 1, order);
            v.truncate(n);
        }
        v.sort_by(order);
        (v.into_iter().map(|(k, v)| (k.into(), v)).collect(), omitted)
    }

    /// Entries ordered by key (days, hours).
    pub fn by_key(self) -> Vec<(String, V)> {
        let mut v: Vec<(String, V)> = self.map.into_iter().map(|(k, v)| (k.into(), v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.map.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<V: Merge + Default> Merge for Tally<V> {
    fn merge(&mut self, other: Self) {
        if self.map.is_empty() {
            self.map = other.map;
            return;
        }
        for (k, v) in other.map {
            match self.map.get_mut(&k) {
                Some(mine) => mine.merge(v),
                None => {
                    self.map.insert(k, v);
                }
            }
        }
    }
}

/// Keeps the first `n` of a ranked list and says how many were left out.
pub fn top<T>(mut v: Vec<T>, n: usize) -> (Vec<T>, u64) {
    let omitted = v.len().saturating_sub(n) as u64;
    v.truncate(n);
    (v, omitted)
}

/// Splits a composite key back into its parts.
pub fn parts(key: &str) -> Vec<&str> {
    key.split(SEP).collect()
}

/// Count, total and maximum of a measure (run time, CPU time, rows).
#[derive(Debug, Default, Clone, Copy)]
pub struct Timing {
    pub n: u64,
    pub sum: f64,
    pub max: f64,
}

impl Timing {
    pub fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.n += 1;
            self.sum += v;
            if v > self.max {
                self.max = v;
            }
        }
    }

    pub fn avg(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }
}

impl Merge for Timing {
    fn merge(&mut self, o: Self) {
        self.n += o.n;
        self.sum += o.sum;
        if o.max > self.max {
            self.max = o.max;
        }
    }
}

/// Distinct values (users of an app, IPs of a user): bounded by how many exist, not by rows.
#[derive(Debug, Default)]
pub struct Distinct(HashSet<Box<str>>);

impl Distinct {
    pub fn add(&mut self, v: &str) {
        if !v.is_empty() {
            self.0.get_or_insert_with(v, |s| s.into());
        }
    }

    pub fn len(&self) -> u64 {
        self.0.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Merge for Distinct {
    fn merge(&mut self, o: Self) {
        if self.0.len() < o.0.len() {
            let mine = std::mem::replace(&mut self.0, o.0);
            self.0.extend(mine);
        } else {
            self.0.extend(o.0);
        }
    }
}

/// The earliest and latest time something was seen.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub first: String,
    pub last: String,
}

impl Seen {
    pub fn add(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        if self.first.is_empty() || t < self.first.as_str() {
            self.first = t.to_string();
        }
        if t > self.last.as_str() {
            self.last = t.to_string();
        }
    }
}

impl Merge for Seen {
    fn merge(&mut self, o: Self) {
        self.add(&o.first.clone());
        self.add(&o.last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_merge_and_rank_with_stable_ties() {
        let mut a: Tally<u64> = Tally::default();
        *a.at("x") += 2;
        *a.at("y") += 1;
        let mut b: Tally<u64> = Tally::default();
        *b.at("y") += 1;
        *b.at("z") += 2;
        a.merge(b);
        let r = a.ranked(|v| *v);
        assert_eq!(r, vec![("x".into(), 2), ("y".into(), 2), ("z".into(), 2)]);
        let (t, omitted) = top(r.clone(), 2);
        assert_eq!((t.len(), omitted), (2, 1));
        let mut again: Tally<u64> = Tally::default();
        for (k, v) in &r {
            *again.at(k) = *v;
        }
        *again.at("w") += 1;
        let (t, omitted) = again.top(2, |v| *v);
        assert_eq!(t, vec![("x".into(), 2), ("y".into(), 2)]);
        assert_eq!(omitted, 2);
    }

    #[test]
    fn seen_and_distinct_merge() {
        let mut s = Seen::default();
        s.add("2026-01-02");
        let mut o = Seen::default();
        o.add("2026-01-01");
        o.add("2026-01-03");
        s.merge(o);
        assert_eq!(
            (s.first.as_str(), s.last.as_str()),
            ("2026-01-01", "2026-01-03")
        );
        let mut d = Distinct::default();
        d.add("a");
        d.add("");
        let mut e = Distinct::default();
        e.add("a");
        e.add("b");
        d.merge(e);
        assert_eq!(d.len(), 2);
    }
}
