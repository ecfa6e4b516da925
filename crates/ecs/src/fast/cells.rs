//! The line being written: its envelope members and its fields' values, as slices of it.
//! What the ECS and the agent writers both read.

use crate::line::Str;

/// One field's value: its span in the line and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cell {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A string's text between its quotes; `true` when it has an escape.
    Str(bool),
    /// A number, `true` or `false` (object records only: EventLogFile cells are strings).
    Other,
}

/// The line being written.
pub(super) struct Event<'a> {
    pub line: &'a str,
    pub id: Str<'a>,
    pub org_id: Option<Str<'a>>,
    pub archive_ts: Option<Str<'a>>,
    /// The fields' values by column (`None`: `null`, or a value no slot reads).
    pub cells: &'a [Option<Cell>],
}

impl<'a> Event<'a> {
    /// A column's string value.
    pub(super) fn cell(&self, col: usize) -> Option<Str<'a>> {
        let c = (*self.cells.get(col)?)?;
        let Kind::Str(escaped) = c.kind else {
            return None;
        };
        Some(Str {
            raw: self.line.get(c.start..c.end)?,
            escaped,
        })
    }

    /// A column's number or boolean, as its JSON text.
    pub(super) fn other(&self, col: usize) -> Option<&'a str> {
        let c = (*self.cells.get(col)?)?;
        (c.kind == Kind::Other).then(|| self.line.get(c.start..c.end))?
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
