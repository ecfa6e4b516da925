//! Moves one output along the delivery log: reads the archive from the output's position in
//! bounded batches, sends them (a few in flight), retries what the destination refused for
//! now, dead-letters what it refused for good, and commits the position batch by batch, in
//! log order, only after the destination acknowledged everything before it.

mod gating;
mod reader;
mod report;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, StreamExt};

use self::reader::{Batch, Reader};
use self::report::ShipError;
use crate::dead_letter::DeadLetters;
use crate::notify::{Gate, Routing, ALERT_DATASET};
use crate::output::BatchLimits;
use crate::sink::{Event, Sink, SinkError, Verdict};
use archive::redact::Redactor;
use archive::state::{Advance, LogEntry, Start, Store};

pub use self::report::{ErrorKind, LastError, ShipReport};

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

/// A batch settled: every event delivered or dead-lettered, and the position after it.
struct Delivered {
    counts: Counts,
    seq: i64,
    row: u64,
    held: reader::Held,
}

/// A batch that could not be settled: why, and what was counted before.
struct Stopped {
    error: ShipError,
    counts: Counts,
}

type Delivery<'a> = BoxFuture<'a, Result<Delivered, Stopped>>;

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
    /// A notifier's routing: only alerts are read, and its gate chooses what is sent.
    routing: Option<Routing>,
    /// How long `run` may hold back a small backlog (a lake's).
    linger: Option<crate::Linger>,
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
            routing: None,
            linger: None,
        }
    }

    /// Lets `run` hold back a backlog smaller than `linger.min_bytes` for up to
    /// `linger.max_wait` (see [`crate::Output::linger`]).
    pub fn lingering(mut self, linger: Option<crate::Linger>) -> Shipper {
        self.linger = linger;
        self
    }

    pub fn linger(&self) -> Option<crate::Linger> {
        self.linger
    }

    /// Archive bytes committed and not yet shipped, counted from where the output would
    /// start (`start` when it has no position yet).
    pub fn backlog_bytes(&self, start: Start) -> u64 {
        self.store
            .position(&self.org, &self.name, start)
            .and_then(|p| self.store.backlog(&self.org, &p))
            .map_or(0, |b| b.bytes)
    }

    /// Makes this a notifier's shipper: it reads only alerts, and sends those its routing
    /// takes and its suppression does not hold back.
    pub fn notifying(mut self, routing: Option<Routing>) -> Shipper {
        self.routing = routing;
        self
    }

    /// Where this pass stops reading: the log's end, or for a digest notifier the first entry
    /// committed within its span (those wait for the next digest).
    fn end(&self) -> Result<i64, archive::state::StateError> {
        match self.routing.as_ref().filter(|r| r.gather_secs > 0) {
            Some(r) => {
                let cutoff = chrono::Utc::now() - chrono::Duration::seconds(r.gather_secs);
                let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                self.store.log_end_before(&self.org, &cutoff)
            }
            None => self.store.log_end(&self.org),
        }
    }

    /// The gate of a notifier, with the marks it committed; `None` for other outputs.
    fn gate(&self) -> Result<Option<Gate>, ShipError> {
        let Some(routing) = &self.routing else {
            return Ok(None);
        };
        let marks = self.store.notify_marks(&self.org, &self.name)?;
        Ok(Some(Gate::new(routing.clone(), marks)))
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
            .and_then(|p| Ok((p, self.end()?)))
        {
            Ok(x) => x,
            Err(e) => {
                report.error = Some(ShipError::State(e).into());
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
                report.error = Some(ShipError::State(e).into());
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
            only: self.routing.as_ref().map(|_| ALERT_DATASET),
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
            only: self.routing.as_ref().map(|_| ALERT_DATASET),
        };
        self.run(reader, false, &mut report).await;
        report
    }

    /// Reads, sends and (when `commit`) commits, batch after batch, up to `in_flight` at once.
    async fn run(&self, mut reader: Reader, commit: bool, report: &mut ShipReport) {
        let mut in_flight: FuturesOrdered<Delivery> = FuturesOrdered::new();
        let mut exhausted = false;
        let mut gate = match self.gate() {
            Ok(g) => g,
            Err(e) => {
                report.error = Some(e.into());
                return;
            }
        };
        loop {
            while !exhausted && in_flight.len() < self.limits.in_flight {
                if self.stop.load(Ordering::SeqCst) {
                    exhausted = true;
                    break;
                }
                let (r, b) = match read(reader).await {
                    Ok(x) => x,
                    Err(e) => {
                        report.error = Some(e.into());
                        return;
                    }
                };
                reader = r;
                match b {
                    Ok(Some(mut batch)) => {
                        if let Some(g) = gate.as_mut() {
                            gating::apply(g, &mut batch);
                        }
                        in_flight.push_back(Box::pin(self.deliver(batch, commit)))
                    }
                    Ok(None) => exhausted = true,
                    Err(e) => {
                        report.error.get_or_insert(e.into());
                        exhausted = true;
                    }
                }
            }
            let Some(done) = in_flight.next().await else {
                return;
            };
            match done {
                Ok(d) => {
                    if let Err(e) = self.settled(d, commit, report) {
                        report.error = Some(e.into());
                        return;
                    }
                }
                Err(stopped) => return self.stopped(stopped, in_flight, commit, report).await,
            }
        }
    }

    /// Counts a settled batch and, when `commit`, moves the position past it.
    fn settled(
        &self,
        d: Delivered,
        commit: bool,
        report: &mut ShipReport,
    ) -> Result<(), ShipError> {
        let c = d.counts;
        report.delivered += c.delivered + c.duplicates;
        report.duplicates += c.duplicates;
        report.dead += c.dead;
        report.retried += c.retried;
        report.suppressed += d.held.suppressed;
        report.skipped += d.held.skipped;
        if commit {
            let a = Advance {
                seq: d.seq,
                row: d.row,
                delivered: c.delivered + c.duplicates,
                dead: c.dead,
                retried: c.retried,
                settled: c.sent,
                suppressed: d.held.suppressed,
                skipped: d.held.skipped,
                marks: d.held.marks,
            };
            self.store.advance(&self.org, &self.name, &a)?;
        }
        Ok(())
    }

    /// Ends the pass at a batch that could not be settled. Later batches may have arrived too
    /// (harmless: ids), but the position stays before this one. Their in-flight counts settle
    /// with this error: the next pass sends them again knowingly.
    async fn stopped(
        &self,
        stopped: Stopped,
        mut in_flight: FuturesOrdered<Delivery<'_>>,
        commit: bool,
        report: &mut ShipReport,
    ) {
        let Stopped { error, counts } = stopped;
        let e = LastError::from(error);
        report.retried += counts.retried;
        if commit {
            let mut settled = counts.sent;
            while let Some(later) = in_flight.next().await {
                settled += match later {
                    Ok(Delivered { counts: c, .. }) | Err(Stopped { counts: c, .. }) => c.sent,
                };
            }
            let _ =
                self.store
                    .output_error(&self.org, &self.name, &e.message, counts.retried, settled);
        }
        tracing::warn!(output = %self.name, "delivery stopped: {e}");
        report.error = Some(e);
    }

    /// Sends one batch until every event is delivered or dead-lettered, then writes its dead
    /// letters. Returns the counts and the position after the batch.
    async fn deliver(&self, batch: Batch, commit: bool) -> Result<Delivered, Stopped> {
        let mut counts = Counts::default();
        if commit && !batch.events.is_empty() {
            let n = batch.events.len() as u64;
            if let Err(e) = self.store.sending(&self.org, &self.name, n) {
                return Err(Stopped {
                    error: e.into(),
                    counts,
                });
            }
            counts.sent = n;
        }
        let mut dead: Vec<(&Event, String)> = batch
            .unreadable
            .iter()
            .map(|(e, why)| (e, why.clone()))
            .collect();
        if let Err(error) = self.send_all(&batch, &mut counts, &mut dead).await {
            return Err(Stopped { error, counts });
        }
        let refs: Vec<(&Event, &str)> = dead.iter().map(|(e, w)| (*e, w.as_str())).collect();
        if let Err(e) = self.dead.write(&refs) {
            return Err(Stopped {
                error: ShipError::DeadLetters(e),
                counts,
            });
        }
        counts.dead = refs.len() as u64;
        Ok(Delivered {
            counts,
            seq: batch.seq,
            row: batch.row,
            held: batch.held,
        })
    }

    /// Sends the batch's events, and again those refused for now, with backoff, until each is
    /// delivered or dead (into `dead`), or the retry limit is reached.
    async fn send_all<'b>(
        &self,
        batch: &'b Batch,
        counts: &mut Counts,
        dead: &mut Vec<(&'b Event, String)>,
    ) -> Result<(), ShipError> {
        let mut pending: Vec<usize> = (0..batch.events.len()).collect();
        let mut attempt = 0u32;
        // The destination's Retry-After, when it gave one: the next attempt waits at least that.
        let mut not_before: Option<Duration> = None;
        while !pending.is_empty() {
            let why = match self.send_pending(batch, &mut pending, counts, dead).await? {
                Refusal::None => break,
                Refusal::Now(why) => why,
                Refusal::Until(why, after) => {
                    not_before = Some(after);
                    why
                }
            };
            counts.retried += pending.len() as u64;
            attempt += 1;
            if self.retry.attempts.is_some_and(|m| attempt >= m) || self.stop.load(Ordering::SeqCst)
            {
                return Err(ShipError::Exhausted {
                    pending: pending.len(),
                    attempts: attempt,
                    why,
                });
            }
            tracing::info!(output = %self.name, attempt, pending = pending.len(), "retrying: {why}");
            let delay = self
                .retry
                .delay(attempt)
                .max(not_before.take().unwrap_or_default());
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    /// One send of the events still `pending`: counts what the destination settled, keeps in
    /// `pending` what it refused for now, and says why.
    async fn send_pending<'b>(
        &self,
        batch: &'b Batch,
        pending: &mut Vec<usize>,
        counts: &mut Counts,
        dead: &mut Vec<(&'b Event, String)>,
    ) -> Result<Refusal, ShipError> {
        let subset: Vec<Event>;
        let events: &[Event] = if pending.len() == batch.events.len() {
            &batch.events
        } else {
            subset = pending.iter().map(|i| batch.events[*i].clone()).collect();
            &subset
        };
        let verdicts = match self.sink.send(events).await {
            Ok(v) if v.len() == events.len() => v,
            Ok(v) => {
                return Err(ShipError::Verdicts {
                    got: v.len(),
                    sent: events.len(),
                })
            }
            Err(SinkError::Fatal(e)) => return Err(ShipError::Refused(e)),
            Err(SinkError::Transient(e)) => return Ok(Refusal::Now(e)),
            Err(SinkError::Throttled { message, after }) => {
                return Ok(Refusal::Until(message, after))
            }
        };
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
        *pending = next;
        Ok(if pending.is_empty() {
            Refusal::None
        } else {
            Refusal::Now(why)
        })
    }
}

/// Why the destination refused events for now, after one send.
enum Refusal {
    /// It refused none.
    None,
    Now(String),
    /// With a `Retry-After`: not before then.
    Until(String, Duration),
}

/// Reads the next batch off the runtime's threads; an error here loses the reader.
async fn read(mut reader: Reader) -> Result<(Reader, Result<Option<Batch>, ShipError>), ShipError> {
    tokio::task::spawn_blocking(move || {
        let b = reader.next_batch();
        (reader, b)
    })
    .await
    .map_err(ShipError::Join)
}

#[cfg(test)]
#[path = "shipper_tests.rs"]
mod tests;
