//! Where a file goes: `<prefix>/sfevents/v1/org_id=<id>/dataset=<dataset>/event_date=<day>/
//! part-<first>-<last>-<n>.parquet`. Hive partitions, so Athena, Trino, Spark, DuckDB and
//! ClickHouse prune by org, dataset and day from the path alone. `v1` names this layout and
//! the columns' rules: a change that readers must know of gets `v2` beside it, never a
//! rewrite in place.

use chrono::NaiveDate;

/// The layout's version directory under the prefix.
pub const ROOT: &str = "sfevents/v1";

/// One partition: the rows of one org, dataset and UTC day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub org_id: String,
    pub dataset: String,
    pub day: NaiveDate,
}

impl Partition {
    /// `org_id=<id>/dataset=<dataset>/event_date=<YYYY-MM-DD>`.
    pub fn dir(&self) -> String {
        format!(
            "org_id={}/dataset={}/event_date={}",
            part_value(&self.org_id),
            part_value(&self.dataset),
            self.day.format("%Y-%m-%d")
        )
    }
}

/// A partition value as a path segment: org ids and datasets are letters, digits and `_`, but
/// an archive line is data, so anything else becomes `_` rather than a new directory level.
fn part_value(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the events of one object are in the delivery log: the first and the last, each as
/// (entry seq, row from 0). An object's name is made of it, so the same events make the
/// same name however the batch that held them was cut, and a listing tells which part of
/// the log each object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub first: (i64, u64),
    pub last: (i64, u64),
}

impl Span {
    pub fn at(pos: (i64, u64)) -> Span {
        Span {
            first: pos,
            last: pos,
        }
    }

    /// Widens the span to hold `pos`.
    pub fn add(&mut self, pos: (i64, u64)) {
        self.first = self.first.min(pos);
        self.last = self.last.max(pos);
    }

    /// Whether the two spans share a part of the log.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    /// `<seq>_<row>-<seq>_<row>`, zero-padded so names sort in log order.
    fn text(&self) -> String {
        let p = |(seq, row): (i64, u64)| format!("{seq:012}_{row:010}");
        format!("{}-{}", p(self.first), p(self.last))
    }
}

/// The folder (relative to the lake's prefix) of a partition's files in the layout.
pub fn raw_dir(p: &Partition) -> String {
    format!("{ROOT}/{}", p.dir())
}

/// The folder of one OCSF class's files of one org and day, in Amazon Security Lake's layout
/// for custom sources: `ext/<source>/region=<region>/accountId=<org id>/eventDay=<YYYYMMDD>`
/// (the org plays the AWS account's part).
pub fn ocsf_dir(source: &str, region: &str, org_id: &str, day: NaiveDate) -> String {
    format!(
        "ext/{source}/region={}/accountId={}/eventDay={}",
        part_value(region),
        part_value(org_id),
        day.format("%Y%m%d")
    )
}

/// The object key (relative to the lake's prefix) of the `n`th file in `dir` of the events
/// of `span`.
pub fn object_key(dir: &str, span: &Span, n: usize) -> String {
    format!("{dir}/part-{}-{n:03}.parquet", span.text())
}

/// The span an object's file name (`part-<first>-<last>-<n>.parquet`) says it holds; `None`
/// for any other name (files of earlier versions, named by their batch, included).
pub fn parse_span(file_name: &str) -> Option<Span> {
    let stem = file_name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let mut parts = stem.split('-');
    let pos = |t: &str| -> Option<(i64, u64)> {
        let (seq, row) = t.split_once('_')?;
        Some((seq.parse().ok()?, row.parse().ok()?))
    };
    let (first, last) = (pos(parts.next()?)?, pos(parts.next()?)?);
    parts.next()?.parse::<u32>().ok()?;
    (parts.next().is_none() && first <= last).then_some(Span { first, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_paths() {
        let p = Partition {
            org_id: "00D000000000001AAA".into(),
            dataset: "api_total_usage".into(),
            day: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        };
        let mut span = Span::at((42, 17));
        span.add((43, 999));
        span.add((42, 20));
        let k = object_key(&raw_dir(&p), &span, 2);
        assert_eq!(
            k,
            "sfevents/v1/org_id=00D000000000001AAA/dataset=api_total_usage/event_date=2026-12-01/part-000000000042_0000000017-000000000043_0000000999-002.parquet"
        );
        assert_eq!(parse_span(k.rsplit('/').next().unwrap()), Some(span));
        assert_eq!(
            parse_span("part-3f1a9c0e2b7d4e5f6a7b-000.parquet"),
            None,
            "a v1 batch key"
        );
        assert_eq!(
            parse_span("part-000000000043_0-000000000042_0-000.parquet"),
            None
        );
        assert!(span.overlaps(&Span::at((43, 5))));
        assert!(!span.overlaps(&Span::at((43, 1000))));
        assert!(!span.overlaps(&Span::at((42, 16))));
        assert_eq!(
            ocsf_dir("salesforce-authentication", "eu-west-1", "00D1", p.day),
            "ext/salesforce-authentication/region=eu-west-1/accountId=00D1/eventDay=20261201"
        );
        let odd = Partition {
            org_id: "../x/y".into(),
            ..p
        };
        assert!(odd.dir().starts_with("org_id=.._x_y/"), "{}", odd.dir());
    }
}
