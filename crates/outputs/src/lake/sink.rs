//! The lake's sink: one shipper batch becomes one Parquet file per partition (org, dataset,
//! day) it touches, or several where one would pass `max_file_mb`, each named by where its
//! events are in the delivery log (`layout::Span`). Every file is stored before any event of
//! the batch is acknowledged, so the position never passes a row that is not in the lake.
//! A batch sent again with the same events (after a refused part, a store that was down, a
//! crash, or a replay with the same batching) writes the same names and replaces the same
//! objects; what an interrupted upload left under other names (its batch was cut otherwise)
//! is removed by `redo`. With `format = ocsf` the same holds of the OCSF documents, filed by
//! class, org and day.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::BoxFuture;
use serde_json::Value;

use arrow_array::RecordBatch;
use parquet::errors::ParquetError;

use super::cells::Top;
use super::columns::{Line, Row};
use super::config::{Format, LakeConfig};
use super::layout::{object_key, ocsf_dir, raw_dir, Partition, Span};
use super::redo::Stored;
use super::schema::{merge, Declarations, Origin, OriginRef};
use super::store::{Lake, LakeError};
use super::{file, ocsf, redo};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

pub struct LakeSink {
    /// The output's name, for messages and its position.
    pub(super) name: String,
    pub(super) lake: Lake,
    max_file_bytes: u64,
    format: Format,
    /// The archive's declared column types and the output's position.
    pub(super) state: Declarations,
}

/// One partition's rows, what declared their fields, and where they are in the log.
struct Part<'a> {
    rows: Vec<Row<'a>>,
    origins: BTreeSet<Origin>,
    /// The last row's origin: rows of one file come together, so most rows add none.
    last: Option<OriginRef<'a>>,
    span: Span,
}

/// One folder's OCSF documents (with their times in microseconds), and where they are in
/// the log.
struct OcsfPart {
    docs: Vec<(i64, Value)>,
    span: Span,
}

impl LakeSink {
    pub fn new(name: &str, c: &LakeConfig, org: &OrgContext) -> Result<LakeSink, SinkError> {
        let lake = Lake::open(c).map_err(|e| SinkError::Fatal(format!("output {name}: {e}")))?;
        Ok(LakeSink {
            name: name.to_string(),
            lake,
            max_file_bytes: c.max_file_bytes,
            format: c.format.clone(),
            state: Declarations::open(org.state.as_deref(), &org.org),
        })
    }

    async fn send_batch(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let (stored, verdicts) = match &self.format {
            Format::Raw => self.write_raw(events).await,
            Format::Ocsf { region } => self.write_ocsf(events, region).await,
        }
        .map_err(|e| self.refusal(e))?;
        redo::tidy(&self.lake, &self.state, &self.name, events, &stored)
            .await
            .map_err(|e| self.refusal(e))?;
        Ok(verdicts)
    }

    /// Stores the batch's raw files (every partition's, before any event is acknowledged),
    /// typed as the archive declares, and says what became of each event.
    async fn write_raw(&self, events: &[Event]) -> Result<(Vec<Stored>, Vec<Verdict>), LakeError> {
        let (parts, verdicts) = partition(events);
        let origins = parts
            .values()
            .flat_map(|p| p.origins.iter().cloned())
            .collect();
        let declared = tokio::task::spawn_blocking(self.state.lookup(origins)).await?;
        let mut stored = Vec::with_capacity(parts.len());
        for (p, part) in parts {
            let dir = raw_dir(&p);
            let types = merge(part.origins.iter().filter_map(|o| declared.get(o)));
            let typed = file::sorted_batch(part.rows, &types).map_err(|e| encode_error(&dir, e))?;
            for (column, values) in &typed.nulled {
                tracing::warn!(output = %self.name, partition = %dir, column, values, "values that do not parse as the column's declared type are written as null; their rows are kept");
            }
            stored.push(self.store_batch(dir, &part.span, typed.batch).await?);
        }
        Ok((stored, verdicts))
    }

    /// Stores the batch's OCSF files, by class, org and day.
    async fn write_ocsf(
        &self,
        events: &[Event],
        region: &str,
    ) -> Result<(Vec<Stored>, Vec<Verdict>), LakeError> {
        let (parts, verdicts) = ocsf_partition(events, region);
        let mut stored = Vec::with_capacity(parts.len());
        for (dir, part) in parts {
            let batch = ocsf::record_batch(part.docs)
                .map_err(|e| encode_error(&dir, ParquetError::from(e)))?;
            stored.push(self.store_batch(dir, &part.span, batch).await?);
        }
        Ok((stored, verdicts))
    }

    /// Encodes one partition's columns as Parquet off the runtime's threads (zstd is CPU
    /// work) and stores its files in `dir`, named by `span`.
    async fn store_batch(
        &self,
        dir: String,
        span: &Span,
        batch: RecordBatch,
    ) -> Result<Stored, LakeError> {
        let max = self.max_file_bytes;
        let files = tokio::task::spawn_blocking(move || file::encode(&batch, max))
            .await?
            .map_err(|e| encode_error(&dir, e))?;
        let mut names = Vec::with_capacity(files.len());
        for (i, bytes) in files.into_iter().enumerate() {
            let k = object_key(&dir, span, i);
            tracing::debug!(output = %self.name, key = %k, bytes = bytes.len(), "lake put");
            self.lake.put(&k, bytes).await?;
            names.push(k.rsplit('/').next().unwrap_or_default().to_string());
        }
        tracing::debug!(output = %self.name, dir, files = names.len(), "lake partition stored");
        Ok(Stored { dir, files: names })
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
fn partition(events: &[Event]) -> (BTreeMap<Partition, Part<'_>>, Vec<Verdict>) {
    let mut parts: BTreeMap<Partition, Part> = BTreeMap::new();
    let mut verdicts = Vec::with_capacity(events.len());
    // The last event's partition: the events of one file come together.
    let mut last: Option<(Site, Partition)> = None;
    for e in events {
        let read = read(e);
        let (site, micros) = match read.at {
            Ok(at) => at,
            Err(why) => {
                verdicts.push(Verdict::Dead(why));
                continue;
            }
        };
        if !matches!(&last, Some((s, _)) if *s == site) {
            last = Some((site, site.partition()));
        }
        let p = &last.as_ref().expect("set").1;
        if !parts.contains_key(p) {
            let part = Part {
                rows: Vec::new(),
                origins: BTreeSet::new(),
                last: None,
                span: Span::at(e.pos),
            };
            parts.insert(p.clone(), part);
        }
        let part = parts.get_mut(p).expect("inserted");
        part.span.add(e.pos);
        if read.origin != part.last {
            part.origins.extend(read.origin.map(Origin::owned));
            part.last = read.origin;
        }
        part.rows.push(Row {
            micros,
            line: read.line,
        });
        verdicts.push(Verdict::Delivered);
    }
    (parts, verdicts)
}

/// An event as the lake reads it: where it goes and when, what declared its fields, and how
/// its values are read.
struct Read<'a> {
    at: Result<(Site<'a>, i64), String>,
    origin: Option<OriginRef<'a>>,
    line: Line<'a>,
}

/// Where an event goes, borrowed from its line: its org, the name its dataset is made from,
/// and its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Site<'a> {
    org_id: &'a str,
    kind: &'a str,
    day: chrono::NaiveDate,
}

impl Site<'_> {
    fn partition(&self) -> Partition {
        Partition {
            org_id: self.org_id.to_string(),
            // The archive's own dataset names (its folders): `api_total_usage`, `login_event`.
            dataset: archive::normalize::dataset(self.kind),
            day: self.day,
        }
    }
}

/// An event read from its line's text where the members the lake routes on scan with no
/// escape; else from its tree, which gives the same.
fn read(e: &Event) -> Read<'_> {
    let line = e.line();
    if let Some(read) = Top::scan(line).and_then(|top| read_text(line, &top)) {
        return read;
    }
    let v = e.value();
    Read {
        at: tree_site(v),
        origin: Origin::of(v),
        line: Line::Tree(v),
    }
}

fn tree_site(v: &Value) -> Result<(Site<'_>, i64), String> {
    site(
        v["@timestamp"].as_str(),
        v["org_id"].as_str(),
        v["source"].as_str(),
        v["event_type"].as_str(),
    )
}

/// `None` when a member the lake routes on has an escape.
fn read_text<'a>(line: &'a str, top: &Top<'a>) -> Option<Read<'a>> {
    let text = |v| Top::plain(v).ok();
    let source = text(top.get("source"))?;
    Some(Read {
        at: site(
            text(top.timestamp)?,
            text(top.get("org_id"))?,
            source,
            text(top.get("event_type"))?,
        ),
        origin: Origin::of_parts(source, text(top.get("file_id"))?),
        line: Line::Text {
            line,
            fields: top.fields,
        },
    })
}

/// The site of an event with these top-level strings, and its time in microseconds.
fn site<'a>(
    timestamp: Option<&str>,
    org_id: Option<&'a str>,
    source: Option<&'a str>,
    event_type: Option<&'a str>,
) -> Result<(Site<'a>, i64), String> {
    let t = timestamp
        .and_then(base::time::parse_sf_datetime)
        .ok_or("the event has no @timestamp: the lake files it by its day")?;
    let org_id = org_id
        .filter(|o| !o.is_empty())
        .ok_or("the event has no org_id: the lake files it by its org")?;
    let source = source.unwrap_or("unknown");
    let kind = match source {
        "EventLogFile" => event_type.unwrap_or(source),
        other => other,
    };
    let day = t.date_naive();
    Ok((Site { org_id, kind, day }, t.timestamp_micros()))
}

/// The batch's OCSF documents by folder (class, org, day), with their times. An event of a
/// source with no OCSF class is not part of this profile: it is passed over (delivered,
/// writing nothing), so the position moves past it.
fn ocsf_partition(events: &[Event], region: &str) -> (BTreeMap<String, OcsfPart>, Vec<Verdict>) {
    let mut parts: BTreeMap<String, OcsfPart> = BTreeMap::new();
    let mut verdicts = Vec::with_capacity(events.len());
    for e in events {
        match place(e.value()) {
            Ok((p, micros)) => {
                if let Some((class, doc)) = ocsf::document(e.value(), micros.div_euclid(1000)) {
                    let dir = ocsf_dir(class.source_name(), region, &p.org_id, p.day);
                    let part = parts.entry(dir).or_insert_with(|| OcsfPart {
                        docs: Vec::new(),
                        span: Span::at(e.pos),
                    });
                    part.span.add(e.pos);
                    part.docs.push((micros, doc));
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
    let (site, micros) = tree_site(v)?;
    Ok((site.partition(), micros))
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
        let ev = |v: Value, row: u64| Event::from_value(v).at(7, row);
        let events = [
            ev(
                json!({"@timestamp": "2026-12-01T23:59:59.999Z", "id": "a", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "ApiTotalUsage", "file_id": "0AT1", "fields": {}}),
                0,
            ),
            ev(
                json!({"@timestamp": "2026-12-02T00:00:00.000Z", "id": "b", "org_id": "00D1",
                "source": "LoginEvent", "fields": {}}),
                1,
            ),
            ev(
                json!({"id": "c", "org_id": "00D1", "source": "LoginEvent", "fields": {}}),
                2,
            ),
            ev(
                json!({"@timestamp": "2026-12-01T03:00:00.000Z", "id": "d", "org_id": "00D1",
                "source": "EventLogFile", "event_type": "ApiTotalUsage", "file_id": "0AT2", "fields": {}}),
                3,
            ),
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
        let elf = parts.values().next().unwrap();
        assert_eq!((elf.span.first, elf.span.last), ((7, 0), (7, 3)));
        assert_eq!(
            elf.origins.iter().collect::<Vec<_>>(),
            [&Origin::File("0AT1".into()), &Origin::File("0AT2".into())]
        );
        assert_eq!(verdicts[..2], [Verdict::Delivered, Verdict::Delivered]);
        assert!(matches!(&verdicts[2], Verdict::Dead(w) if w.contains("@timestamp")));
    }

    /// An event placed from its text goes where its tree would place it.
    #[test]
    fn events_are_placed_from_their_text_as_from_their_tree() {
        let mut lines: Vec<String> = crate::lake::test_lines::generated().concat();
        lines.extend(crate::lake::test_lines::hostile());
        lines.extend(crate::lake::test_lines::objects());
        let odd = [
            json!({"id": "a", "org_id": "00D1", "source": "LoginEvent"}),
            json!({"@timestamp": 5, "id": "b", "org_id": "00D1", "source": "LoginEvent"}),
            json!({"@timestamp": "2026-12-01T10:00:00Z", "id": "c", "org_id": "", "source": "X"}),
            json!({"@timestamp": "2026-12-01T10:00:00+0100", "id": "d", "org_id": "00D1"}),
            json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "e", "org_id": "00D1",
                "source": "EventLogFile", "event_type": 7}),
            json!({"@timestamp": "not a time", "id": "f", "org_id": "00D1", "source": "X"}),
        ];
        lines.extend(odd.iter().map(Value::to_string));
        lines.push(r#"{"@timestamp":"2026-12-01T10:00:00.000Z","id":"g","org_id":"00D\u0031","source":"X"}"#.into());
        lines.push(r#"{"@timestamp":"2026-12-01T10:00:00.000Z","id":"h","org_id":"00D1","s\u006furce":"EventLogFile"}"#.into());
        let mut from_text = 0;
        for l in &lines {
            let e = Event::from_line(l.clone()).expect("an event");
            let read = read(&e);
            from_text += usize::from(matches!(read.line, Line::Text { .. }));
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(read.at.map(|(s, m)| (s.partition(), m)), place(&v), "{l}");
            assert_eq!(read.origin, Origin::of(&v), "{l}");
        }
        assert_eq!(
            from_text,
            lines.len() - 3,
            "all but the lines with an escaped key or routing value"
        );
    }
}
