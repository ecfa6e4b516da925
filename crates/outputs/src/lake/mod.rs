//! The lake output: archived events as Parquet in Hive partitions on S3-compatible object
//! storage (`--to s3://bucket/prefix?region=...`) or in a local folder (`--to file:///path`),
//! for the engines that read such lakes (Athena, Trino, Spark, DuckDB, ClickHouse, Snowflake).
//!
//! - `layout`: `<prefix>/sfevents/v1/org_id=<id>/dataset=<dataset>/event_date=<day>/part-<first>-<last>-<n>.parquet`.
//! - `columns`: `id`, `timestamp`, `org_id`, `source`, provenance, then the Salesforce fields,
//!   typed as Salesforce declares them (`schema`: `LogFileFieldTypes`, describe), else from
//!   their values; `file`: zstd Parquet sorted by time, cut at `max_file_mb`. Rows are read
//!   from their archive lines' text (`cells`, `ecs::line`), not parsed into trees, except
//!   lines the scanner does not read (an escaped key, a key given twice), which give the same
//!   columns from their trees; `builders` holds a column's values as they are appended.
//! - `sink`: one shipper batch is one upload, acknowledged only once every file is stored,
//!   each file named from the span of the delivery log its events hold, so a redo of the same
//!   events overwrites it; `redo`: what an interrupted upload left under other names goes.
//! - `store`: `object_store`'s S3 client (rustls, no OpenSSL) or local file system.
//! - `probe`: `doctor` lists the prefix and stores and removes one object.
//! - `ocsf`: `format = ocsf`, OCSF 1.1 documents in Security Lake's custom-source layout
//!   (`ext/<source>/region=<region>/accountId=<org id>/eventDay=<YYYYMMDD>/`).

mod builders;
mod cells;
pub mod columns;
pub mod config;
mod file;
pub mod kinds;
pub mod layout;
pub mod ocsf;
mod probe;
mod profile;
mod redo;
pub mod schema;
mod sink;
mod store;
#[cfg(test)]
mod test_lines;

use futures_util::future::BoxFuture;
use url::Url;

use self::config::LakeConfig;
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{OrgContext, Sink, SinkError};

pub use self::sink::LakeSink;
pub use self::store::LakeError;

/// The lake output: `type = "lake"`, `--to s3://...`, `--to file:///...`.
pub struct LakeOutput;

impl Output for LakeOutput {
    type Config = LakeConfig;

    fn names(&self) -> &'static [&'static str] {
        &["lake"]
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["s3", "file"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        config::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<LakeConfig, ConfigError> {
        config::parse(url, s)
    }
    /// A full batch's worth of archive lines, or `flush_minutes` of waiting.
    fn linger(&self, c: &LakeConfig) -> Option<std::time::Duration> {
        Some(c.flush)
    }
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &LakeConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(LakeSink::new(&cfg.name, c, org)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a LakeConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(probe::probe(c, out))
    }
}
