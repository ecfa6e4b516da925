//! The line being written: its envelope members and its fields' values, as slices of it.
//! What the ECS and the agent writers both read.

use crate::line::Str;

/// The line being written.
pub(super) struct Event<'a> {
    pub line: &'a str,
    pub id: Str<'a>,
    pub org_id: Option<Str<'a>>,
    pub archive_ts: Option<Str<'a>>,
    /// The fields' values by column: their span in `line` and whether they have escapes.
    pub cells: &'a [Option<(usize, usize, bool)>],
}

impl<'a> Event<'a> {
    pub(super) fn cell(&self, col: usize) -> Option<Str<'a>> {
        let (start, end, escaped) = (*self.cells.get(col)?)?;
        Some(Str {
            raw: self.line.get(start..end)?,
            escaped,
        })
    }

    /// A column with text (not empty).
    pub(super) fn text(&self, col: usize) -> Option<Str<'a>> {
        self.cell(col).filter(|s| !s.raw.is_empty())
    }

    /// A column with text and no escape: what a number, an address or a method must be.
    pub(super) fn plain(&self, col: usize) -> Option<&'a str> {
        self.text(col).and_then(|s| s.plain())
    }
}
