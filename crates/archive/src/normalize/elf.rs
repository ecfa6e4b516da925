//! EventLogFile CSV to NDJSON: one line per row,
//! `{"@timestamp","id","org_id","source","event_type","file_id","log_date","interval",
//! "sequence","row","fields":{COLUMN: value, ...}}`.
//!
//! This is the hot path of a collection, so it is one pass per row with no allocation: the
//! scanner finds the CSV syntax and the bytes JSON must escape together, ordinary runs are
//! copied whole, keys are escaped once per file, the id is the file's scope and the row
//! number, and `@timestamp` is copied from TIMESTAMP_DERIVED when it is already in the
//! archive's form (the usual case) and parsed only otherwise.

use std::io::{Read, Write};

use chrono::{DateTime, NaiveDate, Utc};

use super::scan::{self, Sink, Step};
use super::{ids, iso, parse_elf_timestamp, parse_sf_datetime};

/// Provenance of the rows of one EventLogFile.
pub struct ElfProvenance {
    pub org_id: String,
    pub event_type: String,
    pub file_id: String,
    pub log_date: DateTime<Utc>,
    pub interval: String,
    pub sequence: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A CSV that does not hold what an EventLogFile holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the header is not valid UTF-8")]
    Header,
    #[error("row {row} has {fields} fields, but the header has {header}")]
    Fields {
        row: u64,
        fields: usize,
        header: usize,
    },
    #[error("row {row} is not valid UTF-8")]
    Utf8 { row: u64 },
}

/// What a conversion wrote.
#[derive(Debug, Default)]
pub struct Converted {
    pub rows: u64,
    /// NDJSON bytes written.
    pub bytes: u64,
    /// The oldest and newest `@timestamp`.
    pub oldest: Option<String>,
    pub newest: Option<String>,
}

/// Length of `2023-12-18T05:48:31.655Z`, the form of every `@timestamp`.
const TS_LEN: usize = 24;
/// Output buffered before it is handed to the writer.
const FLUSH_AT: usize = 512 * 1024;

fn json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is correct for every Unicode input; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes one row's `"KEY":"value"` pairs into the line, escaping as the scanner goes.
struct RowSink<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a [Vec<u8>],
    /// The two timestamp columns, and where their escaped values sit in `out`.
    ts_cols: [Option<usize>; 2],
    ts_spans: [(usize, usize); 2],
}

impl Sink for RowSink<'_> {
    #[inline]
    fn start_field(&mut self, i: usize) {
        if i > 0 {
            self.out.push(b',');
        }
        // A row wider than the header is refused after the scan; its extra fields go
        // nowhere meanwhile.
        if let Some(k) = self.keys.get(i) {
            self.out.extend_from_slice(k);
        }
        self.out.push(b'"');
        for (n, c) in self.ts_cols.iter().enumerate() {
            if *c == Some(i) {
                self.ts_spans[n].0 = self.out.len();
            }
        }
    }
    #[inline]
    fn plain(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
    #[inline]
    fn special(&mut self, byte: u8) {
        scan::escape_special(self.out, byte);
    }
    #[inline]
    fn end_field(&mut self, i: usize) {
        for (n, c) in self.ts_cols.iter().enumerate() {
            if *c == Some(i) {
                self.ts_spans[n].1 = self.out.len();
            }
        }
        self.out.push(b'"');
    }
}

/// Converts the rows of one EventLogFile.
pub struct ElfConverter {
    /// `"id":"<scope>-` up to the row number.
    id_head: Vec<u8>,
    /// From `,"org_id"` to `"sequence":N`.
    head: Vec<u8>,
    /// `"COLUMN":` per column, escaped.
    keys: Vec<Vec<u8>>,
    ts_derived: Option<usize>,
    ts: Option<usize>,
    fallback_ts: String,
}

impl ElfConverter {
    pub fn new(header: &[String], p: &ElfProvenance) -> ElfConverter {
        let mut head = Vec::new();
        head.extend_from_slice(b",\"org_id\":");
        json_str(&mut head, &p.org_id);
        head.extend_from_slice(b",\"source\":\"EventLogFile\",\"event_type\":");
        json_str(&mut head, &p.event_type);
        head.extend_from_slice(b",\"file_id\":");
        json_str(&mut head, &p.file_id);
        head.extend_from_slice(b",\"log_date\":");
        json_str(&mut head, &iso(&p.log_date));
        head.extend_from_slice(b",\"interval\":");
        json_str(&mut head, &p.interval);
        let _ = write!(head, ",\"sequence\":{}", p.sequence);
        let mut id_head = b"\"id\":".to_vec();
        json_str(&mut id_head, &ids::elf_prefix(&p.org_id, &p.file_id));
        id_head.pop(); // the closing quote: the row number follows
        let keys = header
            .iter()
            .map(|h| {
                let mut k = Vec::new();
                json_str(&mut k, h);
                k.push(b':');
                k
            })
            .collect();
        let pos = |n: &str| header.iter().position(|h| h == n);
        ElfConverter {
            id_head,
            head,
            keys,
            ts_derived: pos("TIMESTAMP_DERIVED"),
            ts: pos("TIMESTAMP"),
            fallback_ts: iso(&p.log_date),
        }
    }

    /// Scans one record from the start of `input` and appends its line to `out`, keeping the
    /// oldest and newest `@timestamp` in `span`. On `Incomplete` or an error, `out` is as it
    /// was.
    fn row(
        &self,
        input: &[u8],
        eof: bool,
        row: u64,
        out: &mut Vec<u8>,
        span: &mut TimeSpan,
    ) -> Result<Step, CsvError> {
        let mark = out.len();
        let mut num = itoa::Buffer::new();
        let row_str = num.format(row).as_bytes();
        out.extend_from_slice(b"{\"@timestamp\":\"");
        let ts_at = out.len();
        out.extend_from_slice(&[b'0'; TS_LEN]);
        out.extend_from_slice(b"\",");
        out.extend_from_slice(&self.id_head);
        out.extend_from_slice(row_str);
        out.push(b'"');
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b",\"row\":");
        out.extend_from_slice(row_str);
        out.extend_from_slice(b",\"fields\":{");
        let mut sink = RowSink {
            out,
            keys: &self.keys,
            ts_cols: [self.ts_derived, self.ts],
            ts_spans: [(0, 0); 2],
        };
        let step = scan::record(input, eof, &mut sink);
        let spans = sink.ts_spans;
        let Step::Record { consumed, fields } = step else {
            out.truncate(mark);
            return Ok(step);
        };
        if fields != self.keys.len() {
            out.truncate(mark);
            return Err(CsvError::Fields {
                row,
                fields,
                header: self.keys.len(),
            });
        }
        if std::str::from_utf8(&input[..consumed]).is_err() {
            out.truncate(mark);
            return Err(CsvError::Utf8 { row });
        }
        out.extend_from_slice(b"}}\n");
        let ts_len = match self.timestamp(out, spans) {
            Ts::At(from) => {
                out.copy_within(from..from + TS_LEN, ts_at);
                TS_LEN
            }
            Ts::Text(t) if t.len() == TS_LEN => {
                out[ts_at..ts_at + TS_LEN].copy_from_slice(t.as_bytes());
                TS_LEN
            }
            Ts::Text(t) => {
                // A year past 9999: the line is rebuilt around a longer timestamp.
                let rest = out.split_off(ts_at + TS_LEN);
                out.truncate(ts_at);
                out.extend_from_slice(t.as_bytes());
                out.extend_from_slice(&rest);
                t.len()
            }
        };
        span.add(&out[ts_at..ts_at + ts_len]);
        Ok(step)
    }

    /// The event's own time: TIMESTAMP_DERIVED, else TIMESTAMP, else the file's LogDate.
    fn timestamp(&self, out: &[u8], spans: [(usize, usize); 2]) -> Ts {
        let value = |n: usize, col: Option<usize>| -> Option<&[u8]> {
            col.map(|_| &out[spans[n].0..spans[n].1])
        };
        if let Some(v) = value(0, self.ts_derived) {
            if canonical_iso(v) {
                return Ts::At(spans[0].0);
            }
            if let Some(t) = unescape(v).as_deref().and_then(parse_sf_datetime) {
                return Ts::Text(iso(&t));
            }
        }
        if let Some(v) = value(1, self.ts) {
            if let Some(t) = unescape(v).as_deref().and_then(parse_elf_timestamp) {
                return Ts::Text(iso(&t));
            }
        }
        Ts::Text(self.fallback_ts.clone())
    }
}

/// The oldest and newest `@timestamp` seen, without allocating per row.
#[derive(Default)]
struct TimeSpan {
    oldest: Vec<u8>,
    newest: Vec<u8>,
}

impl TimeSpan {
    fn add(&mut self, ts: &[u8]) {
        if self.newest.is_empty() || ts > &self.newest[..] {
            self.newest.clear();
            self.newest.extend_from_slice(ts);
        }
        if self.oldest.is_empty() || ts < &self.oldest[..] {
            self.oldest.clear();
            self.oldest.extend_from_slice(ts);
        }
    }

    fn text(v: &[u8]) -> Option<String> {
        (!v.is_empty()).then(|| String::from_utf8_lossy(v).into_owned())
    }
}

/// A row's `@timestamp`: already in the line in the archive's form, or made.
enum Ts {
    At(usize),
    Text(String),
}

/// A JSON-escaped value back to its text.
fn unescape(escaped: &[u8]) -> Option<String> {
    let mut quoted = Vec::with_capacity(escaped.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(escaped);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).ok()
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real instant: exactly what `iso()` would print for it.
fn canonical_iso(v: &[u8]) -> bool {
    if v.len() != TS_LEN
        || v[4] != b'-'
        || v[7] != b'-'
        || v[10] != b'T'
        || v[13] != b':'
        || v[16] != b':'
        || v[19] != b'.'
        || v[23] != b'Z'
    {
        return false;
    }
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(_)) = (
        digits(&v[0..4]),
        digits(&v[5..7]),
        digits(&v[8..10]),
        digits(&v[11..13]),
        digits(&v[14..16]),
        digits(&v[17..19]),
        digits(&v[20..23]),
    ) else {
        return false;
    };
    h < 24 && mi < 60 && s < 60 && NaiveDate::from_ymd_opt(y as i32, mo, d).is_some()
}

/// The input, read in large blocks; a record is always whole in `window()` when scanned.
struct Input<R> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Input<R> {
    fn window(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// Reads more after a scan found the window ends inside a record. False at the end.
    fn more(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start == 0 && self.end == self.buf.len() {
            // A record longer than the buffer.
            self.buf.resize(self.buf.len() * 2, 0);
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self.r.read(&mut self.buf[self.end..])?;
        self.eof = n == 0;
        self.end += n;
        Ok(true)
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a whole CSV body and writes its NDJSON to `out`. The header names the columns; a
/// row with a different number of fields, or bytes that are not UTF-8, fail the file.
pub fn convert_csv(
    input: impl Read,
    p: &ElfProvenance,
    out: &mut impl Write,
) -> Result<Converted, ConvertError> {
    let mut inp = Input {
        r: input,
        buf: vec![0u8; 1024 * 1024],
        start: 0,
        end: 0,
        eof: false,
    };
    // A UTF-8 byte-order mark before the header is not part of it.
    while inp.end < BOM.len() && inp.more()? {}
    if inp.window().starts_with(BOM) {
        inp.consume(BOM.len());
    }
    let names = loop {
        let mut names = scan::Fields::default();
        match scan::record(inp.window(), inp.eof, &mut names) {
            Step::Record { consumed, .. } => {
                inp.consume(consumed);
                break names.values;
            }
            Step::Blank { consumed } => inp.consume(consumed),
            Step::Incomplete => {
                inp.more()?;
            }
            Step::End => return Ok(Converted::default()),
        }
    };
    let header = names
        .into_iter()
        .map(String::from_utf8)
        .collect::<Result<Vec<String>, _>>()
        .map_err(|_| CsvError::Header)?;
    let conv = ElfConverter::new(&header, p);
    let mut lines: Vec<u8> = Vec::with_capacity(FLUSH_AT + 64 * 1024);
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut span = TimeSpan::default();
    loop {
        let step = conv.row(inp.window(), inp.eof, rows + 1, &mut lines, &mut span)?;
        match step {
            Step::Record { consumed, .. } => {
                inp.consume(consumed);
                rows += 1;
                if lines.len() >= FLUSH_AT {
                    out.write_all(&lines)?;
                    bytes += lines.len() as u64;
                    lines.clear();
                }
            }
            Step::Blank { consumed } => inp.consume(consumed),
            Step::Incomplete => {
                inp.more()?;
            }
            Step::End => break,
        }
    }
    out.write_all(&lines)?;
    bytes += lines.len() as u64;
    Ok(Converted {
        rows,
        bytes,
        oldest: TimeSpan::text(&span.oldest),
        newest: TimeSpan::text(&span.newest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn prov() -> ElfProvenance {
        ElfProvenance {
            org_id: "00D000000000001AAA".into(),
            event_type: "API".into(),
            file_id: "0AT000000000001AAA".into(),
            log_date: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            interval: "Daily".into(),
            sequence: 0,
        }
    }

    /// The converter this one replaced: the csv crate, serde_json's escaping and chrono, one
    /// row at a time. The fast path must write the same bytes.
    fn reference(
        input: &[u8],
        p: &ElfProvenance,
    ) -> Result<(Vec<u8>, u64, Option<String>), String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_string)
            .collect();
        let pos = |n: &str| header.iter().position(|h| h == n);
        let (tsd, ts) = (pos("TIMESTAMP_DERIVED"), pos("TIMESTAMP"));
        let prefix = ids::elf_prefix(&p.org_id, &p.file_id);
        let mut out = Vec::new();
        let mut rows = 0;
        let mut newest: Option<String> = None;
        for rec in rdr.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            rows += 1;
            let t = tsd
                .and_then(|i| rec.get(i))
                .and_then(parse_sf_datetime)
                .or_else(|| ts.and_then(|i| rec.get(i)).and_then(parse_elf_timestamp))
                .map(|t| iso(&t))
                .unwrap_or_else(|| iso(&p.log_date));
            let mut fields = serde_json::Map::new();
            for (k, v) in header.iter().zip(rec.iter()) {
                fields.insert(k.clone(), v.into());
            }
            let line = serde_json::json!({
                "@timestamp": t,
                "id": format!("{prefix}{rows}"),
                "org_id": p.org_id,
                "source": "EventLogFile",
                "event_type": p.event_type,
                "file_id": p.file_id,
                "log_date": iso(&p.log_date),
                "interval": p.interval,
                "sequence": p.sequence,
                "row": rows,
                "fields": fields,
            });
            serde_json::to_writer(&mut out, &line).unwrap();
            out.push(b'\n');
            if newest.as_ref().is_none_or(|n| t > *n) {
                newest = Some(t);
            }
        }
        Ok((out, rows, newest))
    }

    /// Hands out at most `n` bytes per read, so records straddle every boundary.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn same_as_reference(input: &[u8], chunks: &[usize]) {
        let p = prov();
        let want = reference(input, &p).expect("reference parses");
        for &chunk in chunks {
            let mut got = Vec::new();
            let c = convert_csv(Trickle(input, chunk), &p, &mut got).expect("converts");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want.0),
                "chunk {chunk}, input {:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!((c.rows, c.newest.clone()), (want.1, want.2.clone()));
            assert_eq!(c.bytes, got.len() as u64);
        }
    }

    #[test]
    fn writes_what_the_csv_crate_based_converter_wrote_on_hostile_input() {
        let cases: &[&[u8]] = &[
            b"\"EVENT_TYPE\",\"TIMESTAMP\",\"QUERY\",\"TIMESTAMP_DERIVED\"\n\"API\",\"20240101010203.4\",\"a,\"\"b\"\"\nc\",\"\"\n",
            b"EVENT_TYPE,TIMESTAMP_DERIVED,X\nAPI,2024-02-03T04:05:06.789Z,\"back\\slash\ttab\x01\x1f\x7f\"\r\nAPI,2024-02-03T04:05:07.000Z,\"\"\r\n",
            b"\xEF\xBB\xBF\"A\",\"TIMESTAMP_DERIVED\"\n\n\"\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\",\"2024-02-30T00:00:00.000Z\"\n\r\n\"x\",\"2024-02-03T04:05:06Z\"",
            b"\"A\",\"TIMESTAMP_DERIVED\",\"TIMESTAMP\"\n\"1\",\"not a time\",\"20240101010203\"\n\"2\",\"\",\"\"\n\"3\",\"2024-02-03T04:05:06.789+0000\",\"\"\n\"4\",\"9999-12-31T23:59:59.999Z\",\"\"\n",
            b"\"A\",\"B\"\n\"quoted\"tail,\"unclosed\n,still",
            b"\"A\"\r\"1\"\r\"2\"",
            b"\"A\",\"B\"\n",
            b"",
        ];
        for c in cases {
            same_as_reference(c, &[1, 3, 7, 64, usize::MAX]);
        }
    }

    #[test]
    fn writes_what_the_csv_crate_based_converter_wrote_on_generated_files() {
        let org = sfgen::Org::generate(sfgen::OrgSpec {
            seed: 5,
            days: 1,
            anchor: Utc.with_ymd_and_hms(2024, 3, 8, 12, 0, 0).unwrap(),
            event_types: Vec::new(),
            hourly: false,
            rows_per_hour: (20, 40),
            late_files: false,
            big_file_bytes: None,
            records_per_hour: (0, 0),
            duplicate_event_identifiers: false,
        });
        let mut types = std::collections::HashSet::new();
        for f in &org.files {
            if !types.insert(f.event_type.clone()) {
                continue;
            }
            let body: Vec<u8> = org.body(&f.id, 1 << 16).flatten().collect();
            same_as_reference(&body, &[13, 4096, usize::MAX]);
        }
        assert!(types.len() >= 5, "{types:?}");
    }

    #[test]
    fn bad_rows_fail_the_file() {
        let p = prov();
        let mut out = Vec::new();
        let e = convert_csv(&b"\"A\",\"B\"\n\"1\",\"2\"\n\"3\"\n"[..], &p, &mut out).unwrap_err();
        assert_eq!(e.to_string(), "row 2 has 1 fields, but the header has 2");
        let e = convert_csv(&b"\"A\"\n\"\xff\"\n"[..], &p, &mut out).unwrap_err();
        assert_eq!(e.to_string(), "row 1 is not valid UTF-8");
    }

    #[test]
    fn timestamps_in_the_archive_form_are_recognised() {
        assert!(canonical_iso(b"2024-02-03T04:05:06.789Z"));
        assert!(!canonical_iso(b"2024-02-30T04:05:06.789Z"));
        assert!(!canonical_iso(b"2024-02-03T24:05:06.789Z"));
        assert!(!canonical_iso(b"2024-02-03T04:05:06.789+0000"));
        assert!(!canonical_iso(b"2024-02-03 04:05:06.789Z"));
    }
}
