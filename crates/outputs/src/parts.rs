//! Sending one batch in requests that fit: the HTTP outputs encode each event on its own,
//! pack the encodings into request bodies of at most `max_bytes`, and split a body the
//! destination refuses (413 too large, 400 bad content) in two halves until the event refused
//! alone is dead-lettered. The Elasticsearch output sends its whole batch as one body and
//! splits only on a 413, through the same loop.
//!
//! A failure after some requests went through does not resend those: the events not yet sent
//! come back as `Retry`, so the shipper repeats only them (unless [`Packing::whole_batch`]).

use std::ops::Range;

use futures_util::future::BoxFuture;

use crate::encode::EncodeError;
use crate::sink::{Event, SinkError, Verdict};

/// What the destination did with one request of items `range`.
#[derive(Debug)]
pub enum Part {
    /// One verdict per item of the range.
    Done(Vec<Verdict>),
    /// The destination refused the body as a whole (413 too large, 400 a bad event in it):
    /// send each half on its own; an item refused alone is dead, for this reason.
    Split(String),
}

/// How a batch goes into requests.
pub struct Packing<'a> {
    /// The most bytes of one request body.
    pub max_bytes: usize,
    /// The setting that limits it, named in the reason of an item larger than that.
    pub what: &'a str,
    /// An error after some requests went through is returned whole, so the shipper sends the
    /// whole batch again (for a destination that answers repeats as duplicates), instead of
    /// turning the items not yet sent into `Retry`.
    pub whole_batch: bool,
    /// Says that a request of `n` items is being sent in two halves, and why.
    pub on_split: &'a (dyn Fn(usize, &str) + Send + Sync),
}

impl<'a> Packing<'a> {
    /// Bodies of at most `max_bytes`, limited by the setting `what`.
    pub fn new(max_bytes: usize, what: &'a str) -> Packing<'a> {
        Packing {
            max_bytes,
            what,
            whole_batch: false,
            on_split: &log_split,
        }
    }
}

fn log_split(n: usize, reason: &str) {
    tracing::info!(events = n, "sending the request in two halves: {reason}");
}

/// Sends items `0..lens.len()` (`lens[i]`: the encoded size of item `i`) in requests of at
/// most `packing.max_bytes`, in order, through `send`. Returns one verdict per item. An item
/// larger than that is `Dead` with a reason naming `packing.what`; one refused alone
/// ([`Part::Split`]) is `Dead` with the destination's reason. The first error before anything
/// was delivered is returned whole, so the shipper backs off and resends the batch; a later
/// one turns the rest into `Retry` (or is returned whole too, with `whole_batch`). A
/// [`SinkError::Fatal`] is always returned.
pub async fn send_in_parts<'a, F>(
    lens: &[usize],
    packing: &Packing<'_>,
    mut send: F,
) -> Result<Vec<Verdict>, SinkError>
where
    F: FnMut(Range<usize>) -> BoxFuture<'a, Result<Part, SinkError>>,
{
    let mut verdicts: Vec<Option<Verdict>> = vec![None; lens.len()];
    // The stack holds ranges still to send, next on top.
    let mut ranges = pack(lens, packing, &mut verdicts);
    ranges.reverse();
    let mut delivered_any = false;
    while let Some(range) = ranges.pop() {
        // Items already settled (oversized ones) are not inside any range.
        match send(range.clone()).await {
            Ok(Part::Done(vs)) => {
                if vs.len() != range.len() {
                    return Err(SinkError::Transient(format!(
                        "{} verdicts for {} events",
                        vs.len(),
                        range.len()
                    )));
                }
                delivered_any |= vs
                    .iter()
                    .any(|v| matches!(v, Verdict::Delivered | Verdict::Duplicate));
                for (i, v) in range.zip(vs) {
                    verdicts[i] = Some(v);
                }
            }
            Ok(Part::Split(reason)) if range.len() == 1 => {
                verdicts[range.start] = Some(Verdict::Dead(reason));
            }
            Ok(Part::Split(reason)) => {
                (packing.on_split)(range.len(), &reason);
                let mid = range.start + range.len() / 2;
                ranges.push(mid..range.end);
                ranges.push(range.start..mid);
            }
            Err(e @ SinkError::Fatal(_)) => return Err(e),
            Err(e) if !delivered_any || packing.whole_batch => return Err(e),
            Err(e) => {
                let why = e.to_string();
                for v in verdicts.iter_mut().filter(|v| v.is_none()) {
                    *v = Some(Verdict::Retry(why.clone()));
                }
                break;
            }
        }
    }
    Ok(verdicts
        .into_iter()
        .map(|v| v.unwrap_or_else(|| Verdict::Retry("not sent".into())))
        .collect())
}

/// Greedy packing, in order: the ranges of items that go in one request each. An item larger
/// than a request gets its `Dead` verdict and goes in none.
fn pack(lens: &[usize], packing: &Packing, verdicts: &mut [Option<Verdict>]) -> Vec<Range<usize>> {
    let (max_bytes, what) = (packing.max_bytes, packing.what);
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, len) in lens.iter().enumerate() {
        if *len > max_bytes {
            verdicts[i] = Some(Verdict::Dead(format!(
                "the event is {len} bytes once encoded, more than {what} ({max_bytes} bytes) allows"
            )));
            if start < i {
                ranges.push(start..i);
            }
            start = i + 1;
            size = 0;
            continue;
        }
        if size + len > max_bytes && start < i {
            ranges.push(start..i);
            start = i;
            size = 0;
        }
        size += len;
    }
    if start < lens.len() {
        ranges.push(start..lens.len());
    }
    ranges
}

/// Events encoded one after another in one buffer; `ends[i]` is where event `events[i]`'s
/// line (newline included) ends.
pub struct Lines {
    pub buf: Vec<u8>,
    pub ends: Vec<usize>,
    /// The index in the batch of each encoded event.
    pub events: Vec<usize>,
}

impl Lines {
    /// Encodes each event with `encode`, which appends one event to the buffer; an event it
    /// refuses gets its `Dead` verdict.
    pub fn encode(
        events: &[Event],
        verdicts: &mut [Option<Verdict>],
        mut encode: impl FnMut(&Event, &mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Lines {
        let mut l = Lines {
            buf: Vec::with_capacity(events.len() * 1024),
            ends: Vec::with_capacity(events.len()),
            events: Vec::with_capacity(events.len()),
        };
        for (i, e) in events.iter().enumerate() {
            let start = l.buf.len();
            match encode(e, &mut l.buf) {
                Ok(()) => {
                    l.ends.push(l.buf.len());
                    l.events.push(i);
                }
                Err(why) => {
                    l.buf.truncate(start);
                    verdicts[i] = Some(Verdict::Dead(why.to_string()));
                }
            }
        }
        l
    }

    pub fn lens(&self) -> Vec<usize> {
        let mut prev = 0;
        self.ends
            .iter()
            .map(|e| {
                let n = e - prev;
                prev = *e;
                n
            })
            .collect()
    }

    /// The bytes of encoded events `r`.
    pub fn slice(&self, r: &std::ops::Range<usize>) -> &[u8] {
        let start = if r.start == 0 {
            0
        } else {
            self.ends[r.start - 1]
        };
        &self.buf[start..self.ends[r.end - 1]]
    }

    /// Puts the verdicts of the encoded events back in batch order.
    pub fn settle(&self, verdicts: &mut [Option<Verdict>], sent: Vec<Verdict>) -> Vec<Verdict> {
        for (i, v) in self.events.iter().zip(sent) {
            verdicts[*i] = Some(v);
        }
        verdicts
            .iter_mut()
            .map(|v| {
                v.take()
                    .unwrap_or_else(|| Verdict::Retry("not sent".into()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn run(
        lens: &[usize],
        max: usize,
        answer: impl Fn(&Range<usize>) -> Result<Part, SinkError> + Send + Sync,
    ) -> (Result<Vec<Verdict>, SinkError>, Vec<Range<usize>>) {
        let sent = Mutex::new(Vec::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let packing = Packing::new(max, "max_body_bytes");
        let r = rt.block_on(send_in_parts(lens, &packing, |r| {
            sent.lock().unwrap().push(r.clone());
            let a = answer(&r);
            Box::pin(async move { a })
        }));
        (r, sent.into_inner().unwrap())
    }

    fn ok(r: &Range<usize>) -> Result<Part, SinkError> {
        Ok(Part::Done(vec![Verdict::Delivered; r.len()]))
    }

    #[test]
    fn packs_in_order_and_settles_oversized_items() {
        let (v, sent) = run(&[4, 4, 4, 20, 4], 10, ok);
        assert_eq!(sent, vec![0..2, 2..3, 4..5]);
        let v = v.unwrap();
        assert!(matches!(&v[3], Verdict::Dead(r) if r.contains("20 bytes")));
        assert_eq!(v.iter().filter(|v| **v == Verdict::Delivered).count(), 4);
    }

    #[test]
    fn a_413_splits_and_a_single_413_is_dead() {
        let (v, sent) = run(&[1, 1, 1, 1], 100, |r| {
            if r.len() > 1 || r.start == 2 {
                Ok(Part::Split("too large (413)".into()))
            } else {
                ok(r)
            }
        });
        assert_eq!(sent, vec![0..4, 0..2, 0..1, 1..2, 2..4, 2..3, 3..4]);
        let v = v.unwrap();
        assert!(matches!(&v[2], Verdict::Dead(r) if r == "too large (413)"));
        assert_eq!(v.iter().filter(|v| **v == Verdict::Delivered).count(), 3);
    }

    #[test]
    fn errors_before_and_after_a_delivery() {
        let (v, _) = run(&[6, 6], 10, |_| Err(SinkError::Transient("down".into())));
        assert!(matches!(v, Err(SinkError::Transient(_))));
        let (v, _) = run(&[6, 6, 6], 10, |r| {
            if r.start == 0 {
                ok(r)
            } else {
                Err(SinkError::Transient("down".into()))
            }
        });
        let v = v.unwrap();
        assert_eq!(v[0], Verdict::Delivered);
        assert!(matches!(&v[1], Verdict::Retry(r) if r == "down"));
        assert!(matches!(&v[2], Verdict::Retry(_)));
        let (v, _) = run(&[6, 6], 10, |r| {
            if r.start == 0 {
                ok(r)
            } else {
                Err(SinkError::Fatal("bad token".into()))
            }
        });
        assert!(matches!(v, Err(SinkError::Fatal(_))));
    }

    #[test]
    fn a_whole_batch_packing_returns_a_later_error_whole() {
        let sent = Mutex::new(Vec::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let packing = Packing {
            whole_batch: true,
            ..Packing::new(usize::MAX, "-")
        };
        let r = rt.block_on(send_in_parts(&[5, 5, 5], &packing, |r| {
            sent.lock().unwrap().push(r.clone());
            let a = match r.len() {
                3 => Ok(Part::Split("413".into())),
                _ if r.start == 0 => ok(&r),
                _ => Err(SinkError::Transient("down".into())),
            };
            Box::pin(async move { a })
        }));
        assert!(matches!(r, Err(SinkError::Transient(_))), "{r:?}");
        assert_eq!(sent.into_inner().unwrap(), vec![0..3, 0..1, 1..3]);
    }
}
