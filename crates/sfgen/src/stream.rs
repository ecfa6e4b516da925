//! The rows of a file: its hour blocks one after another, each block's generated rows merged
//! by time with the rows attack scenarios planted in that hour. Planted rows live beside the
//! blocks (not in them) so a block's generated rows stay a pure function of its key, whether
//! or not scenarios were asked for.

use std::collections::HashMap;

use crate::rows::{Block, BlockKey, OrgCtx, RowBuf, RowGen, TypeInfo};

/// One row a scenario put into an hour block.
pub(crate) struct PlantedRow {
    /// Milliseconds into the hour.
    pub ms: u64,
    pub row: RowBuf,
    /// The scenario's index in the org's planted list.
    pub tag: usize,
}

/// Planted rows per block (sequence-1 blocks only), each list in time order.
pub(crate) type PlantedRows = HashMap<BlockKey, Vec<PlantedRow>>;

/// Bytes the planted rows of a block add to a file.
pub(crate) fn planted_len(rows: &[PlantedRow]) -> u64 {
    let mut buf = Vec::new();
    rows.iter()
        .map(|p| {
            buf.clear();
            // Planted values may hold quotes in any column: no column is promised quote-free.
            p.row.encode(&[], &mut buf);
            buf.len() as u64
        })
        .sum()
}

pub(crate) struct RowStream<'a> {
    ctx: &'a OrgCtx,
    ti: &'a TypeInfo,
    seed: u64,
    blocks: &'a [Block],
    planted: &'a PlantedRows,
    next_block: usize,
    current: Option<(RowGen<'a>, &'a [PlantedRow])>,
    /// The tag of the last row when it was planted.
    pub last_planted: Option<usize>,
}

impl<'a> RowStream<'a> {
    pub(crate) fn new(
        ctx: &'a OrgCtx,
        ti: &'a TypeInfo,
        seed: u64,
        blocks: &'a [Block],
        planted: &'a PlantedRows,
    ) -> Self {
        RowStream {
            ctx,
            ti,
            seed,
            blocks,
            planted,
            next_block: 0,
            current: None,
            last_planted: None,
        }
    }

    /// The quote hints to encode the last row with: none for a planted row.
    pub(crate) fn may_quote(&self) -> &'a [bool] {
        match self.last_planted {
            Some(_) => &[],
            None => &self.ti.may_quote,
        }
    }

    /// Writes the next row into `row`; false at the end. A planted row goes before a
    /// generated one of the same millisecond.
    pub(crate) fn next_into(&mut self, row: &mut RowBuf) -> bool {
        loop {
            if let Some((gen, rest)) = &mut self.current {
                let planted: &'a [PlantedRow] = rest;
                let take = match (planted.first(), gen.peek_ms()) {
                    (Some(p), Some(ms)) => p.ms <= ms,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if let (true, Some((p, tail))) = (take, planted.split_first()) {
                    row.clone_from(&p.row);
                    self.last_planted = Some(p.tag);
                    *rest = tail;
                    return true;
                }
                if gen.next_into(row) {
                    self.last_planted = None;
                    return true;
                }
                self.current = None;
            }
            let Some(b) = self.blocks.get(self.next_block) else {
                return false;
            };
            self.next_block += 1;
            let planted = self.planted.get(&b.key).map_or(&[][..], Vec::as_slice);
            self.current = Some((RowGen::new(self.ctx, self.ti, self.seed, b), planted));
        }
    }
}
