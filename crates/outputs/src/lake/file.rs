//! Encodes one partition's rows as Parquet: zstd, sorted by time, cut into several files when
//! one would pass `max_file_mb`.

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::columns::{record_batch, Row, Typed};
use super::schema::Declared;

/// Rows per row group, and per write: the size check between writes cuts files at most one
/// row group past `max_file_mb`. Small enough for engines to split a file across threads.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The columns of `rows`, typed as `declared` says (else from their values), sorted by time
/// (stably, so rows of one instant keep log order).
pub fn sorted_batch(mut rows: Vec<Row>, declared: &Declared) -> Result<Typed, ParquetError> {
    rows.sort_by_key(|r| r.micros);
    record_batch(&rows, declared).map_err(ParquetError::from)
}

/// Encodes `batch` as Parquet files of at most about `max_bytes` each, in its order.
pub fn encode(batch: &RecordBatch, max_bytes: u64) -> Result<Vec<Vec<u8>>, ParquetError> {
    let mut files = Vec::new();
    let mut writer: Option<ArrowWriter<Vec<u8>>> = None;
    let mut at = 0;
    while at < batch.num_rows() {
        let n = ROW_GROUP_ROWS.min(batch.num_rows() - at);
        let w = match writer.as_mut() {
            Some(w) => w,
            None => writer.insert(new_writer(batch)?),
        };
        w.write(&batch.slice(at, n))?;
        at += n;
        if (w.bytes_written() + w.in_progress_size()) as u64 >= max_bytes {
            if let Some(w) = writer.take() {
                files.push(w.into_inner()?);
            }
        }
    }
    if let Some(w) = writer.take() {
        files.push(w.into_inner()?);
    }
    Ok(files)
}

fn new_writer(batch: &RecordBatch) -> Result<ArrowWriter<Vec<u8>>, ParquetError> {
    // zstd level 3: about the size of gzip -9 at several times its speed, and the level
    // pyarrow and DuckDB write by default, so files are comparable.
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "sfevents.layout".to_string(),
            super::layout::ROOT.to_string(),
        )]));
    // Counters and times in time order change by small steps: delta encoding stores those
    // steps in a few bits each where a dictionary of (mostly distinct) values would not pay.
    // `log_date` is one value per file, which the dictionary stores best.
    let schema = batch.schema();
    let delta = schema.fields().iter().filter(|f| {
        matches!(f.name().as_str(), "row" | "sequence")
            || (matches!(f.data_type(), DataType::Timestamp(..)) && f.name() != "log_date")
    });
    let props = delta
        .fold(props, |p, f| {
            let col = ColumnPath::from(f.name().as_str());
            p.set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED)
        })
        .build();
    ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::columns::Line;
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::Compression;
    use serde_json::json;

    fn lines(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                json!({"@timestamp": "x", "id": format!("e-{i}"), "org_id": "00D1",
                    "source": "LoginEvent",
                    "fields": {"Id": format!("0Lg{i:015}"), "Score": format!("{}", i % 97)}})
                .to_string()
            })
            .collect()
    }

    fn row(micros: i64, line: &str) -> Row<'_> {
        let fields = crate::lake::cells::Top::scan(line).unwrap().fields;
        Row {
            micros,
            line: Line::Text { line, fields },
        }
    }

    #[test]
    fn sorted_zstd_and_cut_by_size() {
        let ls = lines(200_000);
        // Times in reverse: the file must come out sorted.
        let rows: Vec<Row> = ls
            .iter()
            .enumerate()
            .map(|(i, l)| row(1_000_000 - i as i64, l))
            .collect();
        let one = encode(
            &sorted_batch(rows, &Declared::new()).unwrap().batch,
            1 << 40,
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        let r = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(one[0].clone())).unwrap();
        let meta = r.metadata().clone();
        assert_eq!(meta.file_metadata().num_rows(), 200_000);
        assert!(matches!(
            meta.row_group(0).column(0).compression(),
            Compression::ZSTD(_)
        ));
        assert!(
            meta.row_group(0)
                .column(1)
                .encodings()
                .any(|e| e == parquet::basic::Encoding::DELTA_BINARY_PACKED),
            "the timestamp column is delta-encoded"
        );
        let mut last = i64::MIN;
        for b in r.build().unwrap() {
            let b = b.unwrap();
            let t = b
                .column(1)
                .as_any()
                .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
                .unwrap();
            for v in t.values() {
                assert!(*v >= last, "rows are sorted by time");
                last = *v;
            }
        }
        let rows: Vec<Row> = ls
            .iter()
            .enumerate()
            .map(|(i, l)| row(i as i64, l))
            .collect();
        let cut = encode(
            &sorted_batch(rows, &Declared::new()).unwrap().batch,
            256 * 1024,
        )
        .unwrap();
        assert!(cut.len() >= 2, "{} files", cut.len());
        let total: i64 = cut
            .iter()
            .map(|f| {
                ParquetRecordBatchReaderBuilder::try_new(Bytes::from(f.clone()))
                    .unwrap()
                    .metadata()
                    .file_metadata()
                    .num_rows()
            })
            .sum();
        assert_eq!(total, 200_000);
    }
}
