//! Rows as reports see them: an event time and the few fields a report asked for, read from
//! a raw EventLogFile CSV or from an archive NDJSON line without building the whole record.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::{FileError, ReportError};

/// The fields a report reads, by name: an EventLogFile column (`USER_NAME`) or an object
/// field, with dots into related records (`CreatedBy.Username`).
#[derive(Debug, Clone)]
pub struct Fields {
    names: Vec<String>,
    paths: Vec<Vec<String>>,
}

impl Fields {
    pub fn new(names: &[&str]) -> Fields {
        Fields {
            names: names.iter().map(|s| s.to_string()).collect(),
            paths: names
                .iter()
                .map(|s| s.split('.').map(str::to_string).collect())
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One event: its time (RFC 3339, UTC) and the asked fields, in the order asked.
pub struct Row<'a> {
    pub time: &'a str,
    vals: Vals<'a>,
}

enum Vals<'a> {
    Csv(&'a csv::StringRecord, &'a [Option<usize>]),
    Json(&'a [Option<Cow<'a, str>>]),
}

impl<'a> Row<'a> {
    /// Field `i` (the index in `Fields`), "" when absent, null or not text.
    pub fn get(&self, i: usize) -> &str {
        match &self.vals {
            Vals::Csv(rec, idx) => idx
                .get(i)
                .copied()
                .flatten()
                .and_then(|j| rec.get(j))
                .unwrap_or(""),
            Vals::Json(v) => v.get(i).and_then(|c| c.as_deref()).unwrap_or(""),
        }
    }

    /// Field `i` as a number, when it is one.
    pub fn num(&self, i: usize) -> Option<f64> {
        let s = self.get(i);
        if s.is_empty() {
            return None;
        }
        s.parse().ok()
    }

    /// The day of the event (YYYY-MM-DD).
    pub fn day(&self) -> &str {
        self.time.get(..10).unwrap_or(self.time)
    }
}

fn io_err(path: &Path, e: impl Into<FileError>) -> ReportError {
    ReportError::File(path.to_path_buf(), e.into())
}

/// Reads a raw EventLogFile CSV by header name. The time is TIMESTAMP_DERIVED, or TIMESTAMP
/// (`20261128030122.264`) turned into RFC 3339 when a type lacks the derived column.
pub fn read_csv(
    path: &Path,
    fields: &Fields,
    each: &mut dyn FnMut(&Row),
) -> Result<(), ReportError> {
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(256 * 1024)
        .from_reader(file);
    let headers = rdr.byte_headers().map_err(|e| io_err(path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    let idx: Vec<Option<usize>> = fields.names.iter().map(|n| col(n)).collect();
    let derived = col("TIMESTAMP_DERIVED");
    let raw_ts = col("TIMESTAMP");
    // UTF-8 is checked once per record (StringRecord), not on every field read; a record
    // that is not UTF-8 is read with replacement characters rather than stopping the report.
    let mut bytes = csv::ByteRecord::new();
    let mut time = String::with_capacity(32);
    loop {
        match rdr.read_byte_record(&mut bytes) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(io_err(path, e)),
        }
        let rec = match csv::StringRecord::from_byte_record(std::mem::take(&mut bytes)) {
            Ok(r) => r,
            Err(e) => {
                let raw = e.into_byte_record();
                csv::StringRecord::from_byte_record_lossy(raw)
            }
        };
        time.clear();
        let t = derived.and_then(|j| rec.get(j)).filter(|t| !t.is_empty());
        match t {
            Some(t) => time.push_str(t),
            None => {
                if let Some(b) = raw_ts.and_then(|j| rec.get(j)) {
                    elf_timestamp(b.as_bytes(), &mut time);
                }
            }
        }
        each(&Row {
            time: &time,
            vals: Vals::Csv(&rec, &idx),
        });
        bytes = rec.into_byte_record();
    }
    Ok(())
}

/// `20261128030122.264` -> `2026-11-28T03:01:22.264Z`.
fn elf_timestamp(b: &[u8], out: &mut String) {
    let Ok(s) = std::str::from_utf8(b) else {
        return;
    };
    if s.len() < 14 || !s.as_bytes()[..14].iter().all(u8::is_ascii_digit) {
        return;
    }
    let frac = s.get(15..).unwrap_or("000");
    out.push_str(&format!(
        "{}-{}-{}T{}:{}:{}.{:0<3}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12],
        &s[12..14],
        frac
    ));
}

/// Reads an archive NDJSON file: `@timestamp`, and the asked fields under `fields`.
pub fn read_ndjson(
    path: &Path,
    fields: &Fields,
    each: &mut dyn FnMut(&Row),
) -> Result<(), ReportError> {
    let mut rdr = archive::lines::open(path).map_err(|e| io_err(path, e))?;
    let mut line = Vec::with_capacity(4096);
    let mut n = 0u64;
    loop {
        line.clear();
        let read = rdr
            .read_until(b'\n', &mut line)
            .map_err(|e| io_err(path, e))?;
        if read == 0 {
            break;
        }
        n += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut time: Option<Cow<str>> = None;
        let mut vals: Vec<Option<Cow<str>>> = vec![None; fields.len()];
        let mut de = serde_json::Deserializer::from_slice(text);
        LineSeed {
            fields,
            time: &mut time,
            vals: &mut vals,
        }
        .deserialize(&mut de)
        .map_err(|source| io_err(path, FileError::Json { line: n, source }))?;
        each(&Row {
            time: time.as_deref().unwrap_or(""),
            vals: Vals::Json(&vals),
        });
    }
    Ok(())
}

/// The whole line: keeps `@timestamp`, descends into `fields`, skips the rest.
struct LineSeed<'s, 'de> {
    fields: &'s Fields,
    time: &'s mut Option<Cow<'de, str>>,
    vals: &'s mut Vec<Option<Cow<'de, str>>>,
}

impl<'s, 'de> DeserializeSeed<'de> for LineSeed<'s, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'s, 'de> Visitor<'de> for LineSeed<'s, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an archive event object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let wanted: Vec<(usize, &[String])> = self
            .fields
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.as_slice()))
            .collect();
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_ref() {
                "@timestamp" => *self.time = map.next_value::<Text>()?.0,
                "fields" => map.next_value_seed(MapSeed {
                    wanted: &wanted,
                    vals: self.vals,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A map where some keys are wanted: `(index, remaining path)` each.
struct MapSeed<'s, 'w, 'de> {
    wanted: &'w [(usize, &'w [String])],
    vals: &'s mut Vec<Option<Cow<'de, str>>>,
}

impl<'de> DeserializeSeed<'de> for MapSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or null")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            let here: Vec<(usize, &[String])> = self
                .wanted
                .iter()
                .filter(|(_, p)| p.first().map(String::as_str) == Some(key.0.as_ref()))
                .map(|(i, p)| (*i, &p[1..]))
                .collect();
            if here.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else if let [(i, [])] = here.as_slice() {
                self.vals[*i] = map.next_value::<Text>()?.0;
            } else {
                let deeper: Vec<(usize, &[String])> = here
                    .iter()
                    .filter(|(_, p)| !p.is_empty())
                    .copied()
                    .collect();
                map.next_value_seed(MapSeed {
                    wanted: &deeper,
                    vals: self.vals,
                })?;
            }
        }
        Ok(())
    }
}

/// A map key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
            .map(|t| Key(t.unwrap_or(Cow::Borrowed(""))))
    }
}

/// A value as text: strings as they are, numbers and booleans written out, null and
/// structures as nothing.
struct Text<'de>(Option<Cow<'de, str>>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(if v { "true" } else { "false" })))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(ndjson: &str, names: &[&str]) -> Vec<(String, Vec<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.ndjson");
        std::fs::write(&p, ndjson).unwrap();
        let f = Fields::new(names);
        let mut out = Vec::new();
        read_ndjson(&p, &f, &mut |r| {
            out.push((
                r.time.to_string(),
                (0..names.len()).map(|i| r.get(i).to_string()).collect(),
            ))
        })
        .unwrap();
        out
    }

    #[test]
    fn ndjson_fields_nested_escaped_and_typed() {
        let line = r#"{"@timestamp":"2026-11-28T00:49:51.000Z","id":"x","fields":{"CreatedBy":{"Username":"a\"b@x.com","Name":null},"Action":"deactivateduser","N":42,"B":true,"Nil":null,"Arr":[1,{"a":2}],"Display":"caf\u00e9 <x>"}}"#;
        let rows = rows_of(
            &format!("{line}\n\n"),
            &[
                "CreatedBy.Username",
                "Action",
                "N",
                "B",
                "Nil",
                "Arr",
                "Display",
                "Missing",
            ],
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "2026-11-28T00:49:51.000Z");
        assert_eq!(
            rows[0].1,
            [
                "a\"b@x.com",
                "deactivateduser",
                "42",
                "true",
                "",
                "",
                "café <x>",
                ""
            ]
        );
    }

    #[test]
    fn a_broken_line_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.ndjson");
        std::fs::write(
            &p,
            "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"fields\":{}}\n{\"fields\":\n",
        )
        .unwrap();
        let e = read_ndjson(&p, &Fields::new(&["A"]), &mut |_| {}).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("bad.ndjson") && msg.contains("line 2"),
            "{msg}"
        );
    }

    #[test]
    fn csv_by_header_with_raw_timestamp_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(
            &p,
            "\"EVENT_TYPE\",\"TIMESTAMP\",\"USER_NAME\"\n\"Login\",\"20261128030122.264\",\"a,b\"\n",
        )
        .unwrap();
        let mut got = Vec::new();
        read_csv(&p, &Fields::new(&["USER_NAME", "NOPE"]), &mut |r| {
            got.push((
                r.time.to_string(),
                r.get(0).to_string(),
                r.get(1).to_string(),
            ))
        })
        .unwrap();
        assert_eq!(
            got,
            [(
                "2026-11-28T03:01:22.264Z".to_string(),
                "a,b".to_string(),
                String::new()
            )]
        );
    }
}
