//! The lake's sink: one shipper batch becomes one Parquet file per partition (org, dataset,
//! day) it touches, or several where one would pass `max_file_mb`, all named by the batch's
//! key. Every file is stored before any event of the batch is acknowledged, so the position
//! never passes a row that is not in the lake; a batch sent again (after a crash, a refused
//! part, or a store that was down) writes the same keys and replaces the same objects.
//! With `format = ocsf` the same holds of the OCSF documents, filed by class, org and day.

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use serde_json::Value;

use arrow_array::RecordBatch;
use parquet::errors::ParquetError;

use super::columns::Row;
use super::config::{Format, LakeConfig};
use super::layout::{batch_key, object_key, ocsf_dir, raw_dir, Partition};
use super::store::{Lake, LakeError};
use super::{file, ocsf};
use crate::sink::{Event, Sink, SinkError, Verdict};

pub struct LakeSink {
    /// The output's name, for messages.
    name: String,
    lake: Lake,
    max_file_bytes: u64,
    format: Format,
}

impl LakeSink {
    pub fn new(name: &str, c: &LakeConfig) -> Result<LakeSink, SinkError> {
        let lake = Lake::open(c).map_err(|e| SinkError::Fatal(format!("output {name}: {e}")))?;
        Ok(LakeSink {
            name: name.to_string(),
            lake,
            max_file_bytes: c.max_file_bytes,
            format: c.format.clone(),
        })
    }

    async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let Some(first) = events.iter().find(|e| !e.id.is_empty()) else {
            // The shipper hands over only lines with ids; without one no file can be named.
            let why = "the event has no id: the lake names its files after the batch's first";
            return Ok(vec![Verdict::Dead(why.into()); events.len()]);
        };
        let key = batch_key(&first.id);
        self.write(events, &key).await.map_err(|e| self.refusal(e))
    }

    /// Stores the batch's files (every partition's, before any event is acknowledged) and
    /// says what became of each event.
    async fn write(&self, events: &[Event], key: &str) -> Result<Vec<Verdict>, LakeError> {
        match &self.format {
            Format::Raw => {
                let (parts, verdicts) = partition(events);
                for (p, rows) in parts {
                    let dir = raw_dir(&p);
                    let batch = file::sorted_batch(rows).map_err(|e| encode_error(&dir, e))?;
                    self.store_batch(&dir, key, batch).await?;
                }
                Ok(verdicts)
            }
            Format::Ocsf { region } => {
                let (parts, verdicts) = ocsf_partition(events, region);
                for (dir, docs) in parts {
                    let batch = ocsf::record_batch(docs)
                        .map_err(|e| encode_error(&dir, ParquetError::from(e)))?;
                    self.store_batch(&dir, key, batch).await?;
                }
                Ok(verdicts)
            }
        }
    }

    /// Encodes one partition's columns as Parquet off the runtime's threads (zstd is CPU
    /// work) and stores its files in `dir`.
    async fn store_batch(&self, dir: &str, key: &str, batch: RecordBatch) -> Result<(), LakeError> {
        let max = self.max_file_bytes;
        let files = tokio::task::spawn_blocking(move || file::encode(&batch, max))
            .await?
            .map_err(|e| encode_error(dir, e))?;
        let n = files.len();
        for (i, bytes) in files.into_iter().enumerate() {
            let k = object_key(dir, key, i);
            tracing::debug!(output = %self.name, key = %k, bytes = bytes.len(), "lake put");
            self.lake.put(&k, bytes).await?;
        }
        tracing::debug!(output = %self.name, dir, files = n, "lake partition stored");
        Ok(())
    }

    fn refusal(&self, e: LakeError) -> SinkError {
        let message = format!("output {} ({}): {e}", self.name, self.lake.name);
        if e.is_fatal() {
            SinkError::Fatal(message)
        } else {
            SinkError::Transient(message)
        }
    }
}

fn encode_error(dir: &str, source: ParquetError) -> LakeError {
    LakeError::Encode {
        partition: dir.to_string(),
        source,
    }
}

/// The batch's rows by partition, each with its time, and a verdict per event: delivered
/// once the partitions are stored, or dead when it cannot be placed (no time, no org).
fn partition(events: &[Event]) -> (BTreeMap<Partition, Vec<Row<'_>>>, Vec<Verdict>) {
    let mut parts: BTreeMap<Partition, Vec<Row>> = BTreeMap::new();
    let mut verdicts = Vec::with_capacity(events.len());
    for e in events {
        match place(&e.value()) {
            Ok((p, micros)) => {
                parts.entry(p).or_default().push(Row {
                    micros,
                    line: &e.value(),
                });
                verdicts.push(Verdict::Delivered);
            }
            Err(why) => verdicts.push(Verdict::Dead(why)),
        }
    }
    (parts, verdicts)
}

/// OCSF documents with their times (microseconds), by folder.
type OcsfParts = BTreeMap<String, Vec<(i64, Value)>>;

/// The batch's OCSF documents by folder (class, org, day), with their times. An event of a
/// source with no OCSF class is not part of this profile: it is passed over (delivered,
/// writing nothing), so the position moves past it.
fn ocsf_partition(events: &[Event], region: &str) -> (OcsfParts, Vec<Verdict>) {
    let mut parts = OcsfParts::new();
    let mut verdicts = Vec::with_capacity(events.len());
    for e in events {
        match place(&e.value()) {
            Ok((p, micros)) => {
                if let Some((class, doc)) = ocsf::document(&e.value(), micros.div_euclid(1000)) {
                    let dir = ocsf_dir(class.source_name(), region, &p.org_id, p.day);
                    parts.entry(dir).or_default().push((micros, doc));
                }
                verdicts.push(Verdict::Delivered);
            }
            Err(why) => verdicts.push(Verdict::Dead(why)),
        }
    }
    (parts, verdicts)
}

/// The partition of one archive line and its time in microseconds.
fn place(v: &Value) -> Result<(Partition, i64), String> {
    let t = v["@timestamp"]
        .as_str()
        .and_then(base::time::parse_sf_datetime)
        .ok_or("the event has no @timestamp: the lake files it by its day")?;
    let org_id = v["org_id"]
        .as_str()
        .filter(|o| !o.is_empty())
        .ok_or("the event has no org_id: the lake files it by its org")?;
    let source = v["source"].as_str().unwrap_or("unknown");
    // The archive's own dataset names (its folders): `api_total_usage`, `login_event`.
    let kind = match source {
        "EventLogFile" => v["event_type"].as_str().unwrap_or(source),
        other => other,
    };
    Ok((
        Partition {
            org_id: org_id.to_string(),
            dataset: archive::normalize::dataset(kind),
            day: t.date_naive(),
        },
        t.timestamp_micros(),
    ))
}

impl Sink for LakeSink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_batch(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_placed_by_org_dataset_and_day() {
        let ev = |v: Value| Event::from_value(v);
        let events = [
            ev(
                json!({"@timestamp": "2026-12-01T23:59:59.999Z", "id": "a", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "ApiTotalUsage", "fields": {}}),
            ),
            ev(
                json!({"@timestamp": "2026-12-02T00:00:00.000Z", "id": "b", "org_id": "00D1",
                "source": "LoginEvent", "fields": {}}),
            ),
            ev(json!({"id": "c", "org_id": "00D1", "source": "LoginEvent", "fields": {}})),
        ];
        let (parts, verdicts) = partition(&events);
        let dirs: Vec<String> = parts.keys().map(Partition::dir).collect();
        assert_eq!(
            dirs,
            [
                "org_id=00D1/dataset=api_total_usage/event_date=2026-12-01",
                "org_id=00D1/dataset=login_event/event_date=2026-12-02"
            ]
        );
        assert_eq!(verdicts[..2], [Verdict::Delivered, Verdict::Delivered]);
        assert!(matches!(&verdicts[2], Verdict::Dead(w) if w.contains("@timestamp")));
    }
}
