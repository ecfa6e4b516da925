//! A notifier's gate in the shipper: before a batch is sent, the alerts its routing skips or
//! its suppression holds back are taken out of it and counted; the marks of those it sends go
//! with the batch, to be committed with the position after it.

use super::reader::Batch;
use crate::notify::{AlertView, Decision, Gate};

/// Applies the gate to a batch, in log order (batches are gated in the order they are read,
/// so a later batch sees the marks of the earlier ones even while both are in flight).
pub(super) fn apply(gate: &mut Gate, batch: &mut Batch) {
    let events = std::mem::take(&mut batch.events);
    for event in events {
        let Some(alert) = AlertView::of(event.value()) else {
            // Not an alert (the reader passes over other datasets; this is a stray line).
            batch.held.skipped += 1;
            continue;
        };
        match gate.decide(&alert) {
            Decision::Send => {
                batch.held.marks.extend(gate.marks_for(&alert));
                batch.events.push(event);
            }
            Decision::Skip => batch.held.skipped += 1,
            Decision::Suppress => batch.held.suppressed += 1,
        }
    }
}
