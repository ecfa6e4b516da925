//! Where a file goes: `<prefix>/sfevents/v1/org_id=<id>/dataset=<dataset>/event_date=<day>/
//! part-<key>-<n>.parquet`. Hive partitions, so Athena, Trino, Spark, DuckDB and ClickHouse
//! prune by org, dataset and day from the path alone. `v1` names this layout and the columns'
//! rules: a change that readers must know of gets `v2` beside it, never a rewrite in place.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

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

/// The key of the files of one upload, from the delivery-log position the batch starts at,
/// named by the id of the first event there (ids are unique and fixed, `archive::normalize::ids`).
/// A batch redone after a crash starts at the same position, so its files get the same
/// names and overwrite what the interrupted upload may have left: no row lands twice.
pub fn batch_key(first_event_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sfevents-lake-v1\x1f");
    h.update(first_event_id.as_bytes());
    hex::encode(&h.finalize()[..10])
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

/// The object key (relative to the lake's prefix) of the `n`th file in `dir` of the batch
/// `key`.
pub fn object_key(dir: &str, key: &str, n: usize) -> String {
    format!("{dir}/part-{key}-{n:03}.parquet")
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
        let k = batch_key("a63229e81850af731eae-7");
        assert_eq!(k.len(), 20);
        assert_eq!(k, batch_key("a63229e81850af731eae-7"), "fixed for a redo");
        assert_ne!(k, batch_key("a63229e81850af731eae-8"));
        assert_eq!(
            object_key(&raw_dir(&p), &k, 2),
            format!("sfevents/v1/org_id=00D000000000001AAA/dataset=api_total_usage/event_date=2026-12-01/part-{k}-002.parquet")
        );
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
