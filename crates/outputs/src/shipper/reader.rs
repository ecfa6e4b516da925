//! Reading the archive in log order, in bounded batches, from an output's position.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use super::report::ShipError;
use crate::output::BatchLimits;
use crate::sink::Event;
use archive::redact::Redactor;
use archive::state::{LogEntry, Store};

/// A batch read from the archive, and the position just after it.
pub(super) struct Batch {
    pub events: Vec<Event>,
    /// Lines that were not events (not JSON, no id): dead-lettered with the batch.
    pub unreadable: Vec<(Event, String)>,
    pub seq: i64,
    pub row: u64,
    /// A notifier's: what its gate took out of the batch.
    pub held: Held,
}

/// What a batch did not send, and the suppression marks of what it sends.
#[derive(Debug, Default)]
pub(super) struct Held {
    pub suppressed: u64,
    pub skipped: u64,
    pub marks: Vec<(String, i64)>,
}

/// Reads events in log order from a position.
pub(super) struct Reader {
    pub root: PathBuf,
    pub store: Arc<Store>,
    pub org: String,
    pub limits: BatchLimits,
    /// Entries still to read (the first one is open).
    pub entries: VecDeque<LogEntry>,
    /// The open file of the first entry and the rows already read from it.
    pub open: Option<(Box<dyn BufRead + Send>, u64)>,
    /// Where reading resumes: the first entry's seq and row.
    pub seq: i64,
    pub row: u64,
    /// Read entries from the log up to here (exclusive) only: the log as it was when the pass
    /// began, so a busy collector cannot keep one pass going forever.
    pub end: i64,
    /// Replay: a fixed list of entries, no reading from the log.
    pub fixed: bool,
    /// `[redaction]`: applied as each line is read, so no sink ever sees a redacted value.
    pub redact: Option<Arc<Redactor>>,
    /// Only the files of this dataset are read (a notifier's `alert`); the position passes
    /// over the others without opening them.
    pub only: Option<&'static str>,
}

impl Reader {
    fn refill(&mut self) -> Result<(), ShipError> {
        if self.fixed || !self.entries.is_empty() {
            return Ok(());
        }
        let more = self.store.log_from(&self.org, self.seq, 64)?;
        self.entries
            .extend(more.into_iter().filter(|e| e.seq < self.end));
        Ok(())
    }

    /// Opens the first entry's file and skips the rows already delivered from it.
    fn open_first(&mut self) -> Result<(), ShipError> {
        let Some(entry) = self.entries.front() else {
            return Ok(());
        };
        let (seq, path) = (entry.seq, self.root.join(&entry.file.path));
        self.seq = seq;
        // A compressed file starts at the frame that holds the row; a plain one at its start.
        let (mut r, mut skip) = archive::lines::open_at(&path, self.row)
            .map_err(|error| ShipError::Open { path, seq, error })?;
        let mut line = String::new();
        while skip < self.row {
            line.clear();
            if r.read_line(&mut line).map_err(ShipError::Read)? == 0 {
                break;
            }
            skip += 1;
        }
        self.open = Some((r, skip));
        Ok(())
    }

    /// The first entry is read to its end: the position moves to the next entry.
    fn next_entry(&mut self, batch: &mut Batch) {
        self.open = None;
        self.entries.pop_front();
        self.seq += 1;
        self.row = 0;
        if let Some(next) = self.entries.front() {
            self.seq = next.seq;
        }
        batch.seq = self.seq;
        batch.row = 0;
    }

    /// The next batch, or `None` at the end. Blocking.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, ShipError> {
        let mut batch = Batch {
            events: Vec::new(),
            unreadable: Vec::new(),
            seq: self.seq,
            row: self.row,
            held: Default::default(),
        };
        let start = (self.seq, self.row);
        let mut bytes = 0usize;
        let mut line = String::new();
        loop {
            self.refill()?;
            if self.entries.is_empty() {
                break;
            }
            if self.open.is_none() {
                let wanted = |e: &LogEntry| self.only.is_none_or(|d| e.file.dataset == d);
                if self.entries.front().is_some_and(|e| !wanted(e)) {
                    self.next_entry(&mut batch);
                    continue;
                }
                self.open_first()?;
            }
            let Some((r, read)) = self.open.as_mut() else {
                break;
            };
            let full = batch.events.len() + batch.unreadable.len() >= self.limits.max_events
                || bytes >= self.limits.max_bytes;
            if full {
                break;
            }
            line.clear();
            let n = r.read_line(&mut line).map_err(ShipError::Read)?;
            if n == 0 {
                self.next_entry(&mut batch);
                continue;
            }
            *read += 1;
            self.row = *read;
            batch.seq = self.seq;
            batch.row = self.row;
            bytes += n;
            let kept = line.trim_end_matches(['\n', '\r']).len();
            line.truncate(kept);
            // The line moves into the event; the next read gets a fresh buffer.
            self.take(std::mem::take(&mut line), &mut batch);
        }
        if batch.events.is_empty() && batch.unreadable.is_empty() {
            // No event, but the position may have moved past empty files: commit that.
            return Ok(((batch.seq, batch.row) != start).then_some(batch));
        }
        Ok(Some(batch))
    }

    /// Adds one archive line to the batch: an event, or a line that is not one. Without
    /// redaction the line is kept as it is, unparsed: encoders read it directly.
    fn take(&self, text: String, batch: &mut Batch) {
        let (seq, row) = (self.seq, self.row.saturating_sub(1));
        let event = match &self.redact {
            None => Event::from_line(text),
            Some(r) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(mut value) => {
                    r.event(&mut value);
                    // The tree is already built: the event keeps it. A line without an id is
                    // dead-lettered redacted too.
                    match value["id"].as_str() {
                        Some(id) => Ok(Event::with_id(id.to_string(), value)),
                        None => Err((
                            serde_json::to_string(&value).unwrap_or_default(),
                            "the archived event has no id".into(),
                        )),
                    }
                }
                Err(e) => Err((text, format!("the archived line is not JSON: {e}"))),
            },
        };
        match event {
            Ok(e) => batch.events.push(e.at(seq, row)),
            Err((line, why)) => batch
                .unreadable
                .push((Event::unreadable(line).at(seq, row), why)),
        }
    }
}
