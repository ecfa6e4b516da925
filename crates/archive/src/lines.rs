//! The archive's event files as lines, plain or compressed.
//!
//! With `archive_compression = "zstd"`, an EventLogFile's NDJSON is written as
//! `<name>.ndjson.zst`: zstd frames of [`ROWS_PER_FRAME`] lines each, every frame decodable on
//! its own, then a skippable frame holding the index (each frame's first row and byte offset).
//! Any zstd tool reads the file as one stream (`zstd -dc`, DuckDB, `zcat`-like readers skip the
//! index), and a reader that must start at row N ([`open_at`]) seeks to the frame holding it
//! instead of decoding from the start.
//!
//! Every reader of event files (the shipper, the rules, reports, verify) opens them here, so a
//! plain `.ndjson` and a compressed one read the same, and an archive can hold both.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Lines per frame: a resumed read decodes at most this many lines it skips (a few MB).
pub const ROWS_PER_FRAME: u64 = 4096;
/// zstd's level: 1, the fastest, chosen by measurement (BENCHMARKS.md): the higher levels
/// save a few percent of a file that is already a tenth of its NDJSON, at twice the CPU.
pub const LEVEL: i32 = 1;
/// The file name suffix of compressed event files.
pub const ZSTD_SUFFIX: &str = ".zst";

const SKIPPABLE_MAGIC: u32 = 0x184D_2A5E;
const INDEX_TAG: &[u8; 8] = b"SFEVIDX1";
const READ_BUFFER: usize = 256 * 1024;

/// True for a compressed event file.
pub fn is_compressed(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// A line reader of an event file from its start.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(open_at(path, 0)?.0)
}

/// A line reader of an event file at or before `row` (from 0), and the row it is at: the
/// caller reads (and drops) the lines between. A plain file starts at row 0; a compressed one
/// at the first row of the frame holding `row`.
pub fn open_at(path: &Path, row: u64) -> io::Result<(Box<dyn BufRead + Send>, u64)> {
    let mut file = File::open(path)?;
    if !is_compressed(path) {
        return Ok((Box::new(BufReader::with_capacity(READ_BUFFER, file)), 0));
    }
    let (start_row, offset) = match read_index(&mut file)? {
        Some(index) => index
            .iter()
            .rev()
            .find(|(first, _)| *first <= row)
            .copied()
            .unwrap_or((0, 0)),
        None => (0, 0),
    };
    file.seek(SeekFrom::Start(offset))?;
    let decoder = zstd::stream::read::Decoder::new(file)?;
    Ok((
        Box::new(BufReader::with_capacity(READ_BUFFER, decoder)),
        start_row,
    ))
}

/// The index at the end of a compressed file: `(first row, byte offset)` per frame. `None`
/// when the file has none (cut short, or written by another tool): then read from the start.
fn read_index(file: &mut File) -> io::Result<Option<Vec<(u64, u64)>>> {
    let len = file.metadata()?.len();
    if len < 16 {
        return Ok(None);
    }
    let mut tail = [0u8; 16];
    file.seek(SeekFrom::Start(len - 16))?;
    file.read_exact(&mut tail)?;
    if &tail[8..] != INDEX_TAG {
        return Ok(None);
    }
    let n = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
    let bytes = n.checked_mul(16).filter(|b| b + 16 <= len);
    let Some(bytes) = bytes else { return Ok(None) };
    let mut raw = vec![0u8; bytes as usize];
    file.seek(SeekFrom::Start(len - 16 - bytes))?;
    file.read_exact(&mut raw)?;
    Ok(Some(
        raw.chunks_exact(16)
            .map(|c| {
                let first = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
                let offset = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
                (first, offset)
            })
            .collect(),
    ))
}

/// Counts the bytes that reach the file.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes lines as zstd frames of [`ROWS_PER_FRAME`] lines and, at [`FramedWriter::finish`],
/// the index. The lines may arrive in any pieces; a frame always ends at a line's end.
pub struct FramedWriter<W: Write> {
    enc: Option<zstd::stream::write::Encoder<'static, Counting<W>>>,
    level: i32,
    /// Lines in the current frame, and rows before it.
    rows_in_frame: u64,
    rows: u64,
    index: Vec<(u64, u64)>,
}

impl<W: Write> FramedWriter<W> {
    pub fn new(inner: W) -> io::Result<FramedWriter<W>> {
        FramedWriter::with_level(inner, LEVEL)
    }

    /// At another zstd level (the benchmark weighs them).
    pub fn with_level(inner: W, level: i32) -> io::Result<FramedWriter<W>> {
        let counting = Counting { inner, written: 0 };
        Ok(FramedWriter {
            enc: Some(zstd::stream::write::Encoder::new(counting, level)?),
            level,
            rows_in_frame: 0,
            rows: 0,
            index: vec![(0, 0)],
        })
    }

    fn encoder(&mut self) -> &mut zstd::stream::write::Encoder<'static, Counting<W>> {
        // Invariant: `enc` is Some until `finish` consumes self.
        self.enc.as_mut().expect("FramedWriter used after finish")
    }

    /// Ends the current frame and starts the next at row `self.rows`.
    fn next_frame(&mut self) -> io::Result<()> {
        let enc = self.enc.take().expect("FramedWriter used after finish");
        let counting = enc.finish()?;
        self.index.push((self.rows, counting.written));
        self.enc = Some(zstd::stream::write::Encoder::new(counting, self.level)?);
        self.rows_in_frame = 0;
        Ok(())
    }

    /// Ends the last frame, writes the index, and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        let enc = self.enc.take().expect("FramedWriter used after finish");
        let mut counting = enc.finish()?;
        if self.rows_in_frame == 0 && self.index.len() > 1 {
            self.index.pop(); // the frame just started holds nothing
        }
        let mut payload = Vec::with_capacity(self.index.len() * 16 + 16);
        for (first, offset) in &self.index {
            payload.extend_from_slice(&first.to_le_bytes());
            payload.extend_from_slice(&offset.to_le_bytes());
        }
        payload.extend_from_slice(&(self.index.len() as u64).to_le_bytes());
        payload.extend_from_slice(INDEX_TAG);
        counting.write_all(&SKIPPABLE_MAGIC.to_le_bytes())?;
        counting.write_all(&(payload.len() as u32).to_le_bytes())?;
        counting.write_all(&payload)?;
        counting.flush()?;
        Ok(counting.inner)
    }
}

impl<W: Write> Write for FramedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let left = ROWS_PER_FRAME - self.rows_in_frame;
            // The end of the line that completes this frame, if it is in `rest`.
            let end = memchr::memchr_iter(b'\n', rest)
                .nth(left as usize - 1)
                .map(|i| i + 1);
            match end {
                Some(end) => {
                    self.encoder().write_all(&rest[..end])?;
                    self.rows += left;
                    self.rows_in_frame = ROWS_PER_FRAME;
                    rest = &rest[end..];
                    self.next_frame()?;
                }
                None => {
                    let lines = memchr::memchr_iter(b'\n', rest).count() as u64;
                    self.encoder().write_all(rest)?;
                    self.rows += lines;
                    self.rows_in_frame += lines;
                    rest = &[];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: u64) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                format!(
                    "{{\"row\":{i},\"pad\":\"{}\"}}\n",
                    "x".repeat((i % 50) as usize)
                )
                .into_bytes()
            })
            .collect()
    }

    fn write(path: &Path, data: &[u8], piece: usize) {
        let mut w = FramedWriter::new(File::create(path).unwrap()).unwrap();
        for chunk in data.chunks(piece) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap().sync_all().unwrap();
    }

    #[test]
    fn frames_read_whole_and_from_any_row() {
        let d = tempfile::tempdir().unwrap();
        let n = ROWS_PER_FRAME * 2 + 123;
        let data = lines(n);
        for piece in [7, 4096, 1 << 20] {
            let p = d.path().join(format!("a{piece}.ndjson.zst"));
            write(&p, &data, piece);
            let mut all = Vec::new();
            open(&p).unwrap().read_to_end(&mut all).unwrap();
            assert!(all == data, "the whole file reads back, pieces of {piece}");
            // The same bytes through a plain zstd decoder: the index frame is skipped.
            let plain = zstd::stream::decode_all(File::open(&p).unwrap()).unwrap();
            assert!(plain == data);
            for row in [
                0,
                1,
                ROWS_PER_FRAME - 1,
                ROWS_PER_FRAME,
                ROWS_PER_FRAME * 2 + 5,
                n - 1,
            ] {
                let (mut r, at) = open_at(&p, row).unwrap();
                assert_eq!(at, row - row % ROWS_PER_FRAME, "row {row} starts its frame");
                let mut line = String::new();
                for _ in at..=row {
                    line.clear();
                    r.read_line(&mut line).unwrap();
                }
                assert_eq!(
                    line,
                    format!(
                        "{{\"row\":{row},\"pad\":\"{}\"}}\n",
                        "x".repeat((row % 50) as usize)
                    )
                );
            }
        }
    }

    #[test]
    fn an_exact_multiple_and_an_empty_file_and_a_plain_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("b.ndjson.zst");
        let data = lines(ROWS_PER_FRAME * 2);
        write(&p, &data, 1000);
        let mut all = Vec::new();
        open(&p).unwrap().read_to_end(&mut all).unwrap();
        assert!(all == data);
        let (_, at) = open_at(&p, ROWS_PER_FRAME * 2 + 10).unwrap();
        assert_eq!(at, ROWS_PER_FRAME, "past the end: the last frame");
        let e = d.path().join("e.ndjson.zst");
        write(&e, b"", 10);
        let mut all = Vec::new();
        open(&e).unwrap().read_to_end(&mut all).unwrap();
        assert!(all.is_empty());
        let plain = d.path().join("c.ndjson");
        std::fs::write(&plain, &data).unwrap();
        let (_, at) = open_at(&plain, 5000).unwrap();
        assert_eq!(at, 0);
    }

    #[test]
    fn a_file_without_its_index_reads_from_the_start() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.ndjson.zst");
        let data = lines(ROWS_PER_FRAME + 10);
        std::fs::write(&p, zstd::stream::encode_all(&data[..], 3).unwrap()).unwrap();
        let (mut r, at) = open_at(&p, ROWS_PER_FRAME + 2).unwrap();
        assert_eq!(at, 0);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert!(all == data);
    }
}
