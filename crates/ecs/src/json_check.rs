//! A strict check that an archive line is one JSON object (RFC 8259), without building
//! anything. The shipper checks every line before an output sends it: one broken line in a
//! `_bulk` or HEC body would fail the whole request, so it is dead-lettered instead. serde's
//! check (`IgnoredAny`) cost about 1 µs per line, as much as the ECS encoder's whole mapping;
//! this one reads string bodies eight bytes at a time, looking for a quote, a backslash or a
//! control byte in each word at once. It accepts exactly what `serde_json::from_str::<IgnoredAny>` accepts (a
//! test compares the two over generated, truncated and mutated lines): the same grammar, no
//! nesting limit (serde ignores a value without one), any `\u` escape (serde does not pair
//! surrogates when it ignores a string either).

/// Why a line is not one JSON object: what was wrong, at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct NotJson {
    pub what: &'static str,
    pub at: usize,
}

/// Open containers kept without allocating; deeper ones go to a vector.
const INLINE_DEPTH: usize = 64;

fn bad<T>(what: &'static str, at: usize) -> Result<T, NotJson> {
    Err(NotJson { what, at })
}

/// Checks that `line` is a single JSON object (surrounding whitespace allowed).
pub fn check_object(line: &str) -> Result<(), NotJson> {
    let b = line.as_bytes();
    let i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return bad("expected `{`", i);
    }
    let mut walker = Walker {
        b,
        inline: [false; INLINE_DEPTH],
        deeper: Vec::new(),
        depth: 0,
    };
    let end = walker.value(i)?;
    let end = ws(b, end);
    if end != b.len() {
        return bad("trailing characters", end);
    }
    Ok(())
}

/// Walks one value with an explicit stack of open containers (`true` for an object).
struct Walker<'a> {
    b: &'a [u8],
    inline: [bool; INLINE_DEPTH],
    deeper: Vec<bool>,
    depth: usize,
}

impl Walker<'_> {
    fn push(&mut self, object: bool) {
        match self.inline.get_mut(self.depth) {
            Some(slot) => *slot = object,
            None => self.deeper.push(object),
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth -= 1;
        if self.depth >= INLINE_DEPTH {
            self.deeper.pop();
        }
    }

    /// Whether the innermost open container is an object.
    fn in_object(&self) -> bool {
        let top = self.depth - 1;
        match self.inline.get(top) {
            Some(&object) => object,
            None => self.deeper[top - INLINE_DEPTH],
        }
    }

    /// The value at `i` (whitespace before it skipped), whole: the index after it.
    fn value(&mut self, mut i: usize) -> Result<usize, NotJson> {
        let b = self.b;
        loop {
            i = ws(b, i);
            // One scalar, or the opening of a container.
            let mut after = match b.get(i) {
                Some(b'{') | Some(b'[') => {
                    let object = b[i] == b'{';
                    self.push(object);
                    let j = ws(b, i + 1);
                    let close = if object { b'}' } else { b']' };
                    if b.get(j) == Some(&close) {
                        self.pop();
                        j + 1
                    } else if object {
                        i = key(b, j)?;
                        continue;
                    } else {
                        i = j;
                        continue;
                    }
                }
                Some(b'"') => string(b, i)?,
                Some(b't') => literal(b, i, b"true")?,
                Some(b'f') => literal(b, i, b"false")?,
                Some(b'n') => literal(b, i, b"null")?,
                Some(b'-' | b'0'..=b'9') => number(b, i)?,
                Some(_) => return bad("expected a value", i),
                None => return bad("EOF while parsing a value", i),
            };
            // Close every container this value ends, until one goes on with `,`.
            loop {
                if self.depth == 0 {
                    return Ok(after);
                }
                let object = self.in_object();
                let j = ws(b, after);
                match b.get(j) {
                    Some(b',') if object => {
                        i = key(b, ws(b, j + 1))?;
                        break;
                    }
                    Some(b',') => {
                        i = j + 1;
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    Some(_) => return bad("expected `,` or the container's end", j),
                    None => return bad("EOF while parsing a container", j),
                }
                self.pop();
                after = j + 1;
            }
        }
    }
}

/// An object's key and its colon, starting at `i`: the index after the colon.
fn key(b: &[u8], i: usize) -> Result<usize, NotJson> {
    if b.get(i) != Some(&b'"') {
        return bad("expected a key", i);
    }
    let j = ws(b, string(b, i)?);
    if b.get(j) != Some(&b':') {
        return bad("expected `:`", j);
    }
    Ok(j + 1)
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, NotJson> {
    match b.get(i..i + word.len()) {
        Some(w) if w == word => Ok(i + word.len()),
        _ => bad("expected a literal", i),
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`: the index after it.
fn number(b: &[u8], mut i: usize) -> Result<usize, NotJson> {
    let digits = |b: &[u8], i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i),
        _ => return bad("invalid number", i),
    }
    if b.get(i) == Some(&b'.') {
        let j = digits(b, i + 1);
        if j == i + 1 {
            return bad("invalid number", j);
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(b, i);
        if j == i {
            return bad("invalid number", j);
        }
        i = j;
    }
    Ok(i)
}

/// The string whose opening quote is at `i`: the index after its closing quote.
fn string(b: &[u8], i: usize) -> Result<usize, NotJson> {
    let mut j = i + 1;
    loop {
        // Whole words while none holds a byte that ends the run (most of a string's text).
        while let Some(w) = b.get(j..j + 8) {
            let m = special_mask(u64::from_le_bytes(w.try_into().expect("eight bytes")));
            if m != 0 {
                // The lowest flagged byte is a special one (see `special_mask`): go to it.
                j += m.trailing_zeros() as usize / 8;
                break;
            }
            j += 8;
        }
        match b.get(j) {
            None => return bad("EOF while parsing a string", b.len()),
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => j = escape(b, j)?,
            Some(&c) if c < 0x20 => return bad("control character in a string", j),
            Some(_) => j += 1,
        }
    }
}

/// Whether a word of eight bytes holds a quote, a backslash or a byte below 0x20 (JSON
/// strings may not hold one raw). Exact: no word without one answers true.
#[cfg(test)]
fn special(x: u64) -> bool {
    special_mask(x) != 0
}

/// The high bits of a word's bytes that may be special: none when no byte is, and the lowest
/// one set is always a special byte (a borrow only runs upward, past a byte that is one).
fn special_mask(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below n borrows in x - n (per byte) and has its high bit clear (n <= 0x80); a
    // zero byte is one below 1.
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    below(x ^ (ONES * u64::from(b'"')), 1)
        | below(x ^ (ONES * u64::from(b'\\')), 1)
        | below(x, 0x20)
}

/// The escape whose `\` is at `k`: the index after it.
fn escape(b: &[u8], k: usize) -> Result<usize, NotJson> {
    match b.get(k + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(k + 2),
        Some(b'u') => match b.get(k + 2..k + 6) {
            Some(h) if h.iter().all(u8::is_ascii_hexdigit) => Ok(k + 6),
            _ => bad("invalid \\u escape", k),
        },
        Some(_) => bad("invalid escape", k),
        None => bad("EOF while parsing a string", k),
    }
}

#[cfg(test)]
mod tests;
