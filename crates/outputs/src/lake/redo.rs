//! What a redo replaces. Each object is named by the span of the log its events hold
//! (`layout::Span`), so a batch sent again with the same events overwrites its objects.
//! A redo after a crash may be cut otherwise than the upload it redoes (the log grew, the
//! batch limits changed): its objects then hold other spans, under other names, and what
//! the interrupted upload stored would stay beside them, its rows twice.
//!
//! So, after storing a batch whose first event is past the output's position (a batch of
//! `ship`, `collect` or `run`, not a replay of delivered events), the sink lists each folder
//! it wrote to and removes the other objects whose span overlaps the batch's. Such an
//! object holds events the position has not passed: no batch that was acknowledged wrote it
//! (an acknowledged batch's objects end before the position), so an interrupted upload
//! did, and every event in it is sent again, by this batch or a later one (which removes it
//! in turn if this one did not). Objects of the other batches in flight hold other spans,
//! and objects of earlier versions (named by their batch's first event) are left alone.

use super::layout::{parse_span, Span};
use super::schema::Declarations;
use super::store::{Lake, LakeError};
use crate::sink::Event;

/// What one partition of a batch stored: its folder and the names of its files.
pub(super) struct Stored {
    pub dir: String,
    pub files: Vec<String>,
}

/// The span of the whole batch.
fn batch_span(events: &[Event]) -> Option<Span> {
    let mut it = events.iter().map(|e| e.pos);
    let mut span = Span::at(it.next()?);
    it.for_each(|p| span.add(p));
    Some(span)
}

/// Removes, from the folders this batch stored into, what an interrupted upload of some of
/// its events left under other names (see the module's comment).
pub(super) async fn tidy(
    lake: &Lake,
    state: &Declarations,
    output: &str,
    events: &[Event],
    stored: &[Stored],
) -> Result<(), LakeError> {
    let Some(span) = batch_span(events) else {
        return Ok(());
    };
    if stored.is_empty() {
        return Ok(());
    }
    let at = tokio::task::spawn_blocking(state.position(output)).await?;
    // A replay of delivered events (or an output with no position) removes nothing: objects
    // it overlaps may hold acknowledged rows this replay does not send.
    if at.is_none_or(|p| span.first < p) {
        return Ok(());
    }
    for s in stored {
        for name in lake.list(&s.dir).await? {
            let stale =
                !s.files.contains(&name) && parse_span(&name).is_some_and(|o| o.overlaps(&span));
            if stale {
                lake.remove(&format!("{}/{name}", s.dir)).await?;
                tracing::info!(output = %output, dir = %s.dir, object = %name, "removed what an interrupted upload left: its events are stored again");
            }
        }
    }
    Ok(())
}
