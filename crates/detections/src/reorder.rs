//! Puts events back in time order before the rules see them, within a bound.
//!
//! The delivery log is in commit order, not event order: an object window is read newest
//! first, and a correlation (10 failures in 20 minutes) must count on the events' own time.
//! `Reorder` holds up to `capacity` events and hands out the oldest once it is full, so
//! disorder within that many events is undone exactly and memory stays bounded whatever the
//! archive holds. Events later than that (an EventLogFile hours behind the objects of the same
//! rule) still count, in the order they come. `drain` empties it at the end of a pass.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::event::ArchiveEvent;

/// The default bound: a few object pages of 2,000 records.
pub const DEFAULT_CAPACITY: usize = 20_000;

pub struct Reorder {
    heap: BinaryHeap<Reverse<Entry>>,
    capacity: usize,
    /// Arrival number, so equal times keep their arrival order (the result is deterministic).
    next: u64,
}

struct Entry {
    time: i64,
    arrival: u64,
    event: ArchiveEvent,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.arrival) == (other.time, other.arrival)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.arrival).cmp(&(other.time, other.arrival))
    }
}

impl Reorder {
    pub fn new(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    /// Adds an event; returns the oldest one held when the buffer is over its bound.
    pub fn push(&mut self, event: ArchiveEvent) -> Option<ArchiveEvent> {
        let entry = Entry {
            time: event.time,
            arrival: self.next,
            event,
        };
        self.next += 1;
        self.heap.push(Reverse(entry));
        (self.heap.len() > self.capacity)
            .then(|| self.pop())
            .flatten()
    }

    fn pop(&mut self) -> Option<ArchiveEvent> {
        self.heap.pop().map(|Reverse(e)| e.event)
    }

    /// Every event held, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = ArchiveEvent> + '_ {
        std::iter::from_fn(move || self.pop())
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: i64, id: &str) -> ArchiveEvent {
        ArchiveEvent::new(time, id, "00D", "login_event", Default::default())
    }

    #[test]
    fn sorts_within_the_bound_and_keeps_arrival_order_for_ties() {
        let mut r = Reorder::new(3);
        let mut out = Vec::new();
        for (t, id) in [(5, "a"), (3, "b"), (4, "c"), (3, "d"), (9, "e"), (1, "f")] {
            out.extend(r.push(ev(t, id)));
        }
        out.extend(r.drain());
        let ids: Vec<&str> = out.iter().map(|e| e.id.as_str()).collect();
        // "f" (time 1) is older than what has left already: it is late and leaves at once.
        assert_eq!(ids, ["b", "d", "f", "c", "a", "e"]);
        assert!(r.is_empty());
    }
}
