//! Moves one output along the delivery log: reads the archive from the output's position in
//! bounded batches, sends them (a few in flight), retries what the destination refused for
//! now, dead-letters what it refused for good, and commits the position batch by batch, in
//! log order, only after the destination acknowledged everything before it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesOrdered, StreamExt};

use crate::config::BatchLimits;
use crate::dead_letter::DeadLetters;
use crate::{Event, Sink, SinkError, Verdict};
use archive::redact::Redactor;
use archive::state::{Advance, LogEntry, Start, Store};

/// What one shipping pass did.
#[derive(Debug, Clone, Default)]
pub struct ShipReport {
    pub output: String,
    /// Acknowledged by the destination.
    pub delivered: u64,
    /// Already at the destination (counted in `delivered` too).
    pub duplicates: u64,
    pub dead: u64,
    /// Events sent again after a refusal for now.
    pub retried: u64,
    /// Events left to deliver when the pass ended.
    pub remaining: u64,
    /// Events a previous process had in flight when it stopped: the destination may hold
    /// them twice (unless it deduplicates by id).
    pub repeats: u64,
    /// Why the pass stopped before the end of the log.
    pub error: Option<String>,
}

/// How long to keep trying a batch the destination refuses for now.
#[derive(Debug, Clone, Copy)]
pub struct RetryLimit {
    /// `None`: until it succeeds or the process stops (`run`); `Some(n)`: n attempts (`ship`,
    /// `collect`), after which the pass ends with the error and the position kept.
    pub attempts: Option<u32>,
    pub base: Duration,
    pub max_delay: Duration,
}

impl RetryLimit {
    pub fn bounded(attempts: u32) -> RetryLimit {
        RetryLimit {
            attempts: Some(attempts),
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }

    pub fn forever() -> RetryLimit {
        RetryLimit {
            attempts: None,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }

    /// Exponential with full jitter, so several shippers do not retry in step.
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}

/// A batch read from the archive, and the position just after it.
struct Batch {
    events: Vec<Event>,
    /// Lines that were not events (not JSON, no id): dead-lettered with the batch.
    unreadable: Vec<(Event, String)>,
    seq: i64,
    row: u64,
}

/// What delivering one batch counted.
#[derive(Default)]
struct Counts {
    /// Events counted in flight (sent at least once).
    sent: u64,
    delivered: u64,
    duplicates: u64,
    dead: u64,
    retried: u64,
}

/// Reads events in log order from a position.
struct Reader {
    root: PathBuf,
    store: Arc<Store>,
    org: String,
    limits: BatchLimits,
    /// Entries still to read (the first one is open).
    entries: std::collections::VecDeque<LogEntry>,
    /// The open file of the first entry and the rows already read from it.
    open: Option<(BufReader<File>, u64)>,
    /// Where reading resumes: the first entry's seq and row.
    seq: i64,
    row: u64,
    /// Read entries from the log up to here (exclusive) only: the log as it was when the pass
    /// began, so a busy collector cannot keep one pass going forever.
    end: i64,
    /// Replay: a fixed list of entries, no reading from the log.
    fixed: bool,
    /// `[redaction]`: applied as each line is read, so no sink ever sees a redacted value.
    redact: Option<Arc<Redactor>>,
}

impl Reader {
    fn refill(&mut self) -> Result<(), String> {
        if self.fixed || !self.entries.is_empty() {
            return Ok(());
        }
        let more = self
            .store
            .log_from(&self.org, self.seq, 64)
            .map_err(|e| e.to_string())?;
        self.entries
            .extend(more.into_iter().filter(|e| e.seq < self.end));
        Ok(())
    }

    /// The next batch, or `None` at the end. Blocking.
    fn next_batch(&mut self) -> Result<Option<Batch>, String> {
        let mut batch = Batch {
            events: Vec::new(),
            unreadable: Vec::new(),
            seq: self.seq,
            row: self.row,
        };
        let start = (self.seq, self.row);
        let mut bytes = 0usize;
        let mut line = String::new();
        loop {
            self.refill()?;
            let Some(entry) = self.entries.front() else {
                break;
            };
            if self.open.is_none() {
                self.seq = entry.seq;
                let path = self.root.join(&entry.file.path);
                let f = File::open(&path).map_err(|e| {
                    format!(
                        "cannot read {} (listed in the delivery log, seq {}): {e}",
                        path.display(),
                        entry.seq
                    )
                })?;
                let mut r = BufReader::with_capacity(256 * 1024, f);
                // Rows already delivered from this file.
                let mut skip = 0;
                while skip < self.row {
                    line.clear();
                    if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                        break;
                    }
                    skip += 1;
                }
                self.open = Some((r, skip));
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
            let n = r.read_line(&mut line).map_err(|e| e.to_string())?;
            if n == 0 {
                // This file is done: the position moves to the next entry.
                self.open = None;
                self.entries.pop_front();
                self.seq += 1;
                self.row = 0;
                if let Some(next) = self.entries.front() {
                    self.seq = next.seq;
                }
                batch.seq = self.seq;
                batch.row = 0;
                continue;
            }
            *read += 1;
            self.row = *read;
            batch.seq = self.seq;
            batch.row = self.row;
            bytes += n;
            let text = line.trim_end_matches(['\n', '\r']);
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(mut value) => {
                    if let Some(r) = &self.redact {
                        r.event(&mut value);
                    }
                    match value["id"].as_str().map(str::to_string) {
                        Some(id) => batch.events.push(Event { id, value }),
                        None => batch.unreadable.push((
                            Event {
                                id: String::new(),
                                value,
                            },
                            "the archived event has no id".into(),
                        )),
                    }
                }
                Err(e) => batch.unreadable.push((
                    Event {
                        id: String::new(),
                        value: serde_json::Value::String(text.to_string()),
                    },
                    format!("the archived line is not JSON: {e}"),
                )),
            }
        }
        if batch.events.is_empty() && batch.unreadable.is_empty() {
            // No event, but the position may have moved past empty files: commit that.
            return Ok(((batch.seq, batch.row) != start).then_some(batch));
        }
        Ok(Some(batch))
    }
}

/// One output shipping one org's archive.
pub struct Shipper {
    pub name: String,
    sink: Arc<dyn Sink>,
    store: Arc<Store>,
    root: PathBuf,
    org: String,
    limits: BatchLimits,
    retry: RetryLimit,
    dead: DeadLetters,
    stop: Arc<AtomicBool>,
    redact: Option<Arc<Redactor>>,
}

impl Shipper {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        sink: Arc<dyn Sink>,
        store: Arc<Store>,
        root: PathBuf,
        org: &str,
        limits: BatchLimits,
        retry: RetryLimit,
        stop: Arc<AtomicBool>,
    ) -> Shipper {
        Shipper {
            dead: DeadLetters::new(&root, name),
            name: name.to_string(),
            sink,
            store,
            root,
            org: org.to_string(),
            limits,
            retry,
            stop,
            redact: None,
        }
    }

    /// Redacts every event before the sink sees it (`[redaction]`): one place for every kind
    /// of output, ahead of ECS mapping, agent mode's `message` and dead letters alike.
    pub fn redacting(mut self, redactor: Option<Arc<Redactor>>) -> Shipper {
        self.redact = redactor;
        self
    }

    /// Delivers from the output's position to the end of the log as it is now.
    pub async fn ship(&self, start: Start) -> ShipReport {
        let mut report = ShipReport {
            output: self.name.clone(),
            ..ShipReport::default()
        };
        let (pos, end) = match self
            .store
            .position(&self.org, &self.name, start)
            .and_then(|p| Ok((p, self.store.log_end(&self.org)?)))
        {
            Ok(x) => x,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        match self.store.settle_interrupted(&self.org, &self.name) {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(
                    output = %self.name,
                    events = n,
                    "the last run stopped with {n} events in flight: they are sent again, and a destination that does not deduplicate by id may hold them twice"
                );
                report.repeats = n;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        }
        let reader = Reader {
            root: self.root.clone(),
            store: self.store.clone(),
            org: self.org.clone(),
            limits: self.limits.clone(),
            entries: Default::default(),
            open: None,
            seq: pos.seq,
            row: pos.row,
            end,
            fixed: false,
            redact: self.redact.clone(),
        };
        self.run(reader, true, &mut report).await;
        if let Ok(p) = self.store.position(&self.org, &self.name, start) {
            report.remaining = self
                .store
                .backlog(&self.org, &p)
                .map(|b| b.events)
                .unwrap_or(0);
        }
        report
    }

    /// Sends the events of `entries` again (for a rebuilt index or a new cluster). The
    /// output's position does not move: ids make the repeat harmless where the destination
    /// deduplicates.
    pub async fn replay(&self, entries: Vec<LogEntry>) -> ShipReport {
        let mut report = ShipReport {
            output: self.name.clone(),
            ..ShipReport::default()
        };
        let reader = Reader {
            root: self.root.clone(),
            store: self.store.clone(),
            org: self.org.clone(),
            limits: self.limits.clone(),
            entries: entries.into_iter().collect(),
            open: None,
            seq: 0,
            row: 0,
            end: i64::MAX,
            fixed: true,
            redact: self.redact.clone(),
        };
        self.run(reader, false, &mut report).await;
        report
    }

    /// Reads, sends and (when `commit`) commits, batch after batch, up to `in_flight` at once.
    async fn run(&self, mut reader: Reader, commit: bool, report: &mut ShipReport) {
        let mut in_flight = FuturesOrdered::new();
        let mut exhausted = false;
        loop {
            while !exhausted && in_flight.len() < self.limits.in_flight {
                if self.stop.load(Ordering::SeqCst) {
                    exhausted = true;
                    break;
                }
                let read = tokio::task::spawn_blocking(move || {
                    let b = reader.next_batch();
                    (reader, b)
                })
                .await;
                let b = match read {
                    Ok((r, b)) => {
                        reader = r;
                        b
                    }
                    Err(e) => {
                        report.error = Some(format!("reading the archive failed: {e}"));
                        return;
                    }
                };
                match b {
                    Ok(Some(batch)) => in_flight.push_back(self.deliver(batch, commit)),
                    Ok(None) => exhausted = true,
                    Err(e) => {
                        report.error.get_or_insert(e);
                        exhausted = true;
                    }
                }
            }
            let Some(done) = in_flight.next().await else {
                return;
            };
            match done {
                Ok((counts, seq, row)) => {
                    report.delivered += counts.delivered + counts.duplicates;
                    report.duplicates += counts.duplicates;
                    report.dead += counts.dead;
                    report.retried += counts.retried;
                    if commit {
                        let a = Advance {
                            seq,
                            row,
                            delivered: counts.delivered + counts.duplicates,
                            dead: counts.dead,
                            retried: counts.retried,
                            settled: counts.sent,
                        };
                        if let Err(e) = self.store.advance(&self.org, &self.name, &a) {
                            report.error = Some(e.to_string());
                            return;
                        }
                    }
                }
                Err((e, counts)) => {
                    // Later batches may have arrived too (harmless: ids), but the position
                    // stays before this one. Their in-flight counts settle with this error:
                    // the next pass sends them again knowingly.
                    report.retried += counts.retried;
                    if commit {
                        let mut settled = counts.sent;
                        while let Some(later) = in_flight.next().await {
                            settled += match later {
                                Ok((c, _, _)) | Err((_, c)) => c.sent,
                            };
                        }
                        let _ = self.store.output_error(
                            &self.org,
                            &self.name,
                            &e,
                            counts.retried,
                            settled,
                        );
                    }
                    tracing::warn!(output = %self.name, "delivery stopped: {e}");
                    report.error = Some(e);
                    return;
                }
            }
        }
    }

    /// Sends one batch until every event is delivered or dead-lettered, then writes its dead
    /// letters. Returns the counts and the position after the batch.
    async fn deliver(
        &self,
        batch: Batch,
        commit: bool,
    ) -> Result<(Counts, i64, u64), (String, Counts)> {
        let mut counts = Counts::default();
        if commit && !batch.events.is_empty() {
            if let Err(e) = self
                .store
                .sending(&self.org, &self.name, batch.events.len() as u64)
            {
                return Err((e.to_string(), counts));
            }
            counts.sent = batch.events.len() as u64;
        }
        let mut dead: Vec<(&Event, String)> = batch
            .unreadable
            .iter()
            .map(|(e, why)| (e, why.clone()))
            .collect();
        let mut pending: Vec<usize> = (0..batch.events.len()).collect();
        let mut attempt = 0u32;
        // The destination's Retry-After, when it gave one: the next attempt waits at least that.
        let mut not_before: Option<Duration> = None;
        while !pending.is_empty() {
            let subset: Vec<Event>;
            let events: &[Event] = if pending.len() == batch.events.len() {
                &batch.events
            } else {
                subset = pending.iter().map(|i| batch.events[*i].clone()).collect();
                &subset
            };
            let why = match self.sink.send(events).await {
                Ok(verdicts) if verdicts.len() == events.len() => {
                    let mut next = Vec::new();
                    let mut why = String::new();
                    for (i, v) in pending.iter().zip(verdicts) {
                        match v {
                            Verdict::Delivered => counts.delivered += 1,
                            Verdict::Duplicate => counts.duplicates += 1,
                            Verdict::Dead(r) => dead.push((&batch.events[*i], r)),
                            Verdict::Retry(r) => {
                                next.push(*i);
                                why = r;
                            }
                        }
                    }
                    pending = next;
                    if pending.is_empty() {
                        break;
                    }
                    why
                }
                Ok(v) => {
                    return Err((
                        format!(
                            "the output answered {} verdicts for {} events",
                            v.len(),
                            events.len()
                        ),
                        counts,
                    ))
                }
                Err(SinkError::Fatal(e)) => return Err((e, counts)),
                Err(SinkError::Transient(e)) => e,
                Err(SinkError::Throttled { message, after }) => {
                    not_before = Some(after);
                    message
                }
            };
            counts.retried += pending.len() as u64;
            attempt += 1;
            if self.retry.attempts.is_some_and(|m| attempt >= m) || self.stop.load(Ordering::SeqCst)
            {
                return Err((
                    format!(
                        "{} events not delivered after {attempt} attempts: {why}",
                        pending.len()
                    ),
                    counts,
                ));
            }
            tracing::info!(output = %self.name, attempt, pending = pending.len(), "retrying: {why}");
            let delay = self
                .retry
                .delay(attempt)
                .max(not_before.take().unwrap_or_default());
            tokio::time::sleep(delay).await;
        }
        let refs: Vec<(&Event, &str)> = dead.iter().map(|(e, w)| (*e, w.as_str())).collect();
        if let Err(e) = self.dead.write(&refs) {
            return Err((format!("cannot write dead letters: {e}"), counts));
        }
        counts.dead = refs.len() as u64;
        Ok((counts, batch.seq, batch.row))
    }
}

#[cfg(test)]
#[path = "shipper_tests.rs"]
mod tests;
