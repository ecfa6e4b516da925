//! A CSV record scanner for EventLogFile bodies that finds the CSV syntax and the bytes JSON
//! must escape in one pass.
//!
//! It follows what the `csv` crate accepts with its defaults (RFC 4180 with `""` for a quote,
//! `\n`, `\r\n` or `\r` ending a record, blank lines skipped, an unclosed quote running to the
//! end of the input, bytes after a closing quote kept), so the NDJSON is what the csv-based
//! converter wrote before; `normalize::elf`'s tests compare the two on generated and
//! hostile inputs. Runs of ordinary bytes are found sixteen (or eight) at a time and copied
//! whole: in Salesforce's files nearly every byte is ordinary.

/// Where the bytes of a record go. `plain` gets runs of ordinary bytes; `special` gets one
/// byte that is a quote (from `""`), a backslash or a control byte.
pub trait Sink {
    fn start_field(&mut self, index: usize);
    fn plain(&mut self, bytes: &[u8]);
    fn special(&mut self, byte: u8);
    fn end_field(&mut self, index: usize);
}

/// What scanning from the start of a record found.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A record of `fields` fields ended after `consumed` bytes (its terminator included).
    Record { consumed: usize, fields: usize },
    /// A blank line of `consumed` bytes.
    Blank { consumed: usize },
    /// The input ends inside the record: read more and scan it again.
    Incomplete,
    /// Nothing left.
    End,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bytes of `x` that are zero. Only the lowest flag is exact (borrows may flag bytes above
/// it), which is all the callers use.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Bytes of `x` below 0x20 (control bytes, among them `\r` and `\n`); lowest flag exact.
#[inline(always)]
fn control_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES * 0x20) & !x & HIGHS
}

#[inline(always)]
fn word(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The first byte at or after `i` that ends a run inside quotes: `"`, `\` or a control byte.
#[inline(always)]
fn find_in_quotes(s: &[u8], i: usize) -> usize {
    find::<false>(s, i)
}

/// The same outside quotes, where a comma also ends the run.
#[inline(always)]
fn find_unquoted(s: &[u8], i: usize) -> usize {
    find::<true>(s, i)
}

#[inline(always)]
fn special<const COMMA: bool>(b: u8) -> bool {
    matches!(b, b'"' | b'\\' | 0..=0x1f) || (COMMA && b == b',')
}

/// The first special byte at or after `i`, sixteen bytes at a time (SSE2, which every x86-64
/// processor has), then eight (SWAR), then one.
#[inline(always)]
fn find<const COMMA: bool>(s: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes inside `s`
        // (checked by the loop condition), unaligned loads being allowed.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let comma = _mm_set1_epi8(b',' as i8);
            let ctl_max = _mm_set1_epi8(0x1f);
            while i + 16 <= s.len() {
                let x = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
                // Unsigned x <= 0x1f: the minimum of x and 0x1f is x.
                let ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, ctl_max), x);
                let mut m = _mm_or_si128(
                    ctl,
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                );
                if COMMA {
                    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, comma));
                }
                let mask = _mm_movemask_epi8(m) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i + 8 <= s.len() {
        let x = word(s, i);
        let mut m = control_bytes(x)
            | zero_bytes(x ^ (ONES * b'"' as u64))
            | zero_bytes(x ^ (ONES * b'\\' as u64));
        if COMMA {
            m |= zero_bytes(x ^ (ONES * b',' as u64));
        }
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() && !special::<COMMA>(s[i]) {
        i += 1;
    }
    i
}

/// Scans one record from the start of `s`. `eof` says no more input follows `s`. On
/// `Incomplete`, whatever was given to `sink` must be discarded.
pub fn record<S: Sink>(s: &[u8], eof: bool, sink: &mut S) -> Step {
    if let Some(step) = blank(s, eof) {
        return step;
    }
    let mut i = 0;
    let mut field = 0;
    loop {
        sink.start_field(field);
        if s.get(i) == Some(&b'"') {
            match quoted(s, i + 1, eof, sink, field) {
                Ok(after) => i = after,
                Err(step) => return step,
            }
        }
        match unquoted(s, i, eof, sink, field) {
            Ok(next) => {
                field += 1;
                i = next;
            }
            Err(step) => return step,
        }
    }
}

/// An empty line (or no input), which is not a record.
#[inline(always)]
fn blank(s: &[u8], eof: bool) -> Option<Step> {
    match s.first() {
        None => Some(if eof { Step::End } else { Step::Incomplete }),
        Some(b'\n') => Some(Step::Blank { consumed: 1 }),
        Some(b'\r') => Some(match s.get(1) {
            Some(b'\n') => Step::Blank { consumed: 2 },
            Some(_) => Step::Blank { consumed: 1 },
            None if eof => Step::Blank { consumed: 1 },
            None => Step::Incomplete,
        }),
        Some(_) => None,
    }
}

/// The quoted part of a field, from just after its opening quote: `Ok` with where the scan
/// goes on after the closing quote, or `Err` with the record's end (an unclosed quote runs
/// to the end of the input) or `Incomplete`.
#[inline(always)]
fn quoted<S: Sink>(
    s: &[u8],
    mut i: usize,
    eof: bool,
    sink: &mut S,
    field: usize,
) -> Result<usize, Step> {
    loop {
        let j = find_in_quotes(s, i);
        if j == s.len() {
            if !eof {
                return Err(Step::Incomplete);
            }
            sink.plain(&s[i..j]);
            sink.end_field(field);
            return Err(Step::Record {
                consumed: j,
                fields: field + 1,
            });
        }
        sink.plain(&s[i..j]);
        if s[j] != b'"' {
            sink.special(s[j]);
            i = j + 1;
            continue;
        }
        match s.get(j + 1) {
            Some(b'"') => {
                sink.special(b'"');
                i = j + 2;
            }
            Some(_) => return Ok(j + 1),
            None if eof => return Ok(j + 1),
            None => return Err(Step::Incomplete),
        }
    }
}

/// Outside quotes (an unquoted field, or what follows a closing quote): `Ok` with the next
/// field's start after a comma, or `Err` with the record's end or `Incomplete`.
#[inline(always)]
fn unquoted<S: Sink>(
    s: &[u8],
    mut i: usize,
    eof: bool,
    sink: &mut S,
    field: usize,
) -> Result<usize, Step> {
    let done = |consumed| Step::Record {
        consumed,
        fields: field + 1,
    };
    loop {
        let j = find_unquoted(s, i);
        sink.plain(&s[i..j]);
        if j == s.len() {
            if !eof {
                return Err(Step::Incomplete);
            }
            sink.end_field(field);
            return Err(done(j));
        }
        match s[j] {
            b',' => {
                sink.end_field(field);
                return Ok(j + 1);
            }
            b'\n' => {
                sink.end_field(field);
                return Err(done(j + 1));
            }
            b'\r' => {
                let consumed = match s.get(j + 1) {
                    Some(b'\n') => j + 2,
                    Some(_) => j + 1,
                    None if eof => j + 1,
                    None => return Err(Step::Incomplete),
                };
                sink.end_field(field);
                return Err(done(consumed));
            }
            b => {
                sink.special(b);
                i = j + 1;
            }
        }
    }
}

/// Collects a record's fields as raw values (for the header).
#[derive(Default)]
pub struct Fields {
    pub values: Vec<Vec<u8>>,
}

impl Sink for Fields {
    fn start_field(&mut self, _: usize) {
        self.values.push(Vec::new());
    }
    fn plain(&mut self, bytes: &[u8]) {
        if let Some(v) = self.values.last_mut() {
            v.extend_from_slice(bytes);
        }
    }
    fn special(&mut self, byte: u8) {
        if let Some(v) = self.values.last_mut() {
            v.push(byte);
        }
    }
    fn end_field(&mut self, _: usize) {}
}

/// Appends the JSON escape of a byte that `Sink::special` received, exactly as serde_json
/// writes it (short escapes where JSON has them, lowercase `\u00xx` otherwise).
#[inline]
pub fn escape_special(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &[u8], eof: bool) -> (Step, Vec<String>) {
        let mut f = Fields::default();
        let step = record(s, eof, &mut f);
        let v = f
            .values
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect();
        (step, v)
    }

    #[test]
    fn quoted_unquoted_doubled_quotes_and_terminators() {
        let (st, v) = fields(b"\"a\",\"b\"\"c\",d\n", false);
        assert_eq!(
            st,
            Step::Record {
                consumed: 13,
                fields: 3
            }
        );
        assert_eq!(v, ["a", "b\"c", "d"]);
        let (st, v) = fields(b"\"x\ny\",,\"\"\r\nnext", false);
        assert_eq!(
            st,
            Step::Record {
                consumed: 11,
                fields: 3
            }
        );
        assert_eq!(v, ["x\ny", "", ""]);
        let (st, _) = fields(b"\"unfinished", false);
        assert_eq!(st, Step::Incomplete);
        let (st, v) = fields(b"\"unfinished", true);
        assert_eq!(
            st,
            Step::Record {
                consumed: 11,
                fields: 1
            }
        );
        assert_eq!(v, ["unfinished"]);
        let (st, _) = fields(b"a,b\r", false);
        assert_eq!(st, Step::Incomplete);
        let (st, v) = fields(b"\"a\"tail,b", true);
        assert_eq!(
            st,
            Step::Record {
                consumed: 9,
                fields: 2
            }
        );
        assert_eq!(v, ["atail", "b"]);
        assert_eq!(fields(b"\r\n", false).0, Step::Blank { consumed: 2 });
        assert_eq!(fields(b"", true).0, Step::End);
    }

    #[test]
    fn runs_stop_at_every_special_byte_in_every_lane() {
        // Each special byte at each of the 8 positions of a word, inside and outside quotes.
        for special in [b'"', b'\\', b',', b'\n', b'\t', 0x01, 0x1f] {
            for pos in 0..40 {
                let mut s = vec![b'a'; 45];
                s[pos] = special;
                let inq = find_in_quotes(&s, 0);
                let unq = find_unquoted(&s, 0);
                assert_eq!(unq, pos, "unquoted {special:#x} at {pos}");
                if special == b',' {
                    assert_eq!(inq, s.len());
                } else {
                    assert_eq!(inq, pos, "quoted {special:#x} at {pos}");
                }
            }
        }
        // Bytes above 0x7f are ordinary.
        let s = "ééééééééé,".as_bytes();
        assert_eq!(find_unquoted(s, 0), s.len() - 1);
    }
}
