//! Where the catalogue's numbers come from: the rows drawn for each hour block, when each
//! file is created, and how a big file's blocks are grown to its size. Pure functions of the
//! spec and the seed.

use chrono::{DateTime, Utc};

use crate::ids::digest_u64;
use crate::rows::{Block, BlockKey, OrgCtx, RowBuf, RowGen, TypeInfo};
use crate::{OrgSpec, DAY, HOUR};

pub(crate) fn seed_bytes(spec: &OrgSpec) -> [u8; 8] {
    spec.seed.to_le_bytes()
}

/// Rows drawn for an hour block.
pub(crate) fn block_rows(spec: &OrgSpec, type_name: &str, hour: i64, seq: u32) -> u64 {
    let (a, b) = spec.rows_per_hour;
    let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
    let x = digest_u64(&[
        b"sfgen-rows",
        &seed_bytes(spec),
        type_name.as_bytes(),
        &hour.to_le_bytes(),
        &seq.to_le_bytes(),
    ]);
    if seq >= 2 {
        // Late data: a few rows, never none.
        1 + x % (hi / 4).max(1)
    } else {
        lo + x % (hi - lo + 1)
    }
}

/// CreatedDate of the hourly files of hour `h` (shared by all event types).
pub(crate) fn hourly_created(spec: &OrgSpec, h: i64) -> i64 {
    let x = digest_u64(&[b"sfgen-hourly-created", &seed_bytes(spec), &h.to_le_bytes()]);
    h + HOUR + (2 + (x % 38) as i64) * 60 + ((x >> 16) % 60) as i64
}

/// CreatedDate of the daily files of day `d` (shared by all event types).
pub(crate) fn daily_created(spec: &OrgSpec, d: i64) -> i64 {
    let x = digest_u64(&[b"sfgen-daily-created", &seed_bytes(spec), &d.to_le_bytes()]);
    d + DAY + 2 * HOUR + ((x % 30) as i64) * 60 + ((x >> 16) % 60) as i64
}

pub(crate) fn utc(secs: i64) -> DateTime<Utc> {
    // Generated times are within chrono's range for any sane anchor.
    DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default()
}

/// Encoded length (header excluded) of a block's rows.
pub(crate) fn count_block(ctx: &OrgCtx, ti: &TypeInfo, seed: u64, block: &Block) -> u64 {
    let mut gen = RowGen::new(ctx, ti, seed, block);
    let mut row = RowBuf::default();
    let mut buf = Vec::with_capacity(4096);
    let mut total = 0u64;
    while gen.next_into(&mut row) {
        buf.clear();
        row.encode(&ti.may_quote, &mut buf);
        total += buf.len() as u64;
    }
    total
}

/// Grows the blocks of one daily file until it is at least `target` bytes.
pub(crate) fn enlarge(ctx: &OrgCtx, ti: &TypeInfo, seed: u64, blocks: &mut [Block], target: u64) {
    if blocks.is_empty() {
        return;
    }
    // Estimate bytes per row from a sample block of the same type.
    let sample = Block {
        key: BlockKey {
            ti: blocks[0].key.ti,
            hour: blocks[0].key.hour,
            seq: u32::MAX,
        },
        rows: 2000,
    };
    let per_row = (count_block(ctx, ti, seed, &sample) as f64 / 2000.0).max(1.0);
    let body = target.saturating_sub(ti.header.len() as u64);
    let needed = (body as f64 * 1.1 / per_row).ceil() as u64 + blocks.len() as u64;
    let have: u64 = blocks.iter().map(|b| b.rows).sum();
    if needed > have {
        let extra = needed - have;
        let nb = blocks.len() as u64;
        for (i, b) in blocks.iter_mut().enumerate() {
            b.rows += extra / nb + u64::from((i as u64) < extra % nb);
        }
    }
    // Small targets are checked exactly (cheap); large ones rely on the 10% margin.
    if target <= 64 << 20 {
        loop {
            let len: u64 = ti.header.len() as u64
                + blocks
                    .iter()
                    .map(|b| count_block(ctx, ti, seed, b))
                    .sum::<u64>();
            if len >= target {
                break;
            }
            for b in blocks.iter_mut() {
                b.rows += b.rows / 10 + 1;
            }
        }
    }
}
