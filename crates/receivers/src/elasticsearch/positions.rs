//! Where the values of a source line sit, as Elasticsearch's parser reports them in document
//! errors: `[line:column]`, both 1-based, the column counted in bytes (Jackson reads the
//! request's bytes, so its `JsonLocation` columns are byte offsets).
//!
//! Every value that is not an array is recorded under its dotted path (array elements under
//! the array's path), in document order: the `n`th value met at a path is `get(path, n)`. An
//! error names the start of a scalar; for an object, Elasticsearch names the start in
//! "Expected text at" and the closing brace in the outer reason (its parser has read the object
//! by then), so both ends are kept.

use std::collections::HashMap;

/// A `[line:column]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Where one value starts and where its last byte is (the closing brace of an object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Loc,
    pub end: Loc,
}

#[derive(Debug, Default)]
pub struct Positions {
    spans: HashMap<String, Vec<Span>>,
    root: Span,
}

impl Positions {
    /// Scans a source line that is valid JSON (it was parsed before).
    pub fn scan(raw: &[u8]) -> Positions {
        let mut s = Scanner {
            raw,
            i: 0,
            line: 1,
            line_start: 0,
            out: Positions::default(),
        };
        s.skip_ws();
        let root = s.value("");
        s.out.root = root;
        s.out
    }

    /// The `n`th value (0-based) at `path`.
    pub fn get(&self, path: &str, n: usize) -> Span {
        self.spans
            .get(path)
            .and_then(|v| v.get(n).or(v.last()))
            .copied()
            .unwrap_or(self.root)
    }

    /// The whole document.
    pub fn root(&self) -> Span {
        self.root
    }
}

struct Scanner<'a> {
    raw: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
    out: Positions,
}

impl Scanner<'_> {
    fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            col: self.i - self.line_start + 1,
        }
    }

    fn peek(&self) -> u8 {
        self.raw.get(self.i).copied().unwrap_or(0)
    }

    fn bump(&mut self) {
        if self.peek() == b'\n' {
            self.line += 1;
            self.line_start = self.i + 1;
        }
        self.i += 1;
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\r' | b'\n') {
            self.bump();
        }
    }

    /// A value at `path`, the cursor on its first byte; records it unless it is an array.
    fn value(&mut self, path: &str) -> Span {
        let start = self.loc();
        let end = match self.peek() {
            b'{' => self.object(path),
            b'[' => return self.array(path, start),
            b'"' => {
                self.string();
                Loc {
                    col: self.loc().col - 1,
                    ..self.loc()
                }
            }
            _ => {
                while !matches!(self.peek(), b',' | b'}' | b']' | 0)
                    && !self.peek().is_ascii_whitespace()
                {
                    self.bump();
                }
                start
            }
        };
        let span = Span { start, end };
        self.out
            .spans
            .entry(path.to_string())
            .or_default()
            .push(span);
        span
    }

    /// Skips a string, the cursor on its opening quote; returns its raw content.
    fn string(&mut self) -> String {
        self.bump();
        let from = self.i;
        while self.i < self.raw.len() && self.peek() != b'"' {
            if self.peek() == b'\\' {
                self.bump();
            }
            self.bump();
        }
        let text = String::from_utf8_lossy(&self.raw[from..self.i.min(self.raw.len())]);
        self.bump();
        serde_json::from_str::<String>(&format!("\"{text}\"")).unwrap_or_else(|_| text.into())
    }

    fn object(&mut self, path: &str) -> Loc {
        self.bump();
        loop {
            self.skip_ws();
            match self.peek() {
                b'}' => break,
                b',' => self.bump(),
                b'"' => {
                    let key = self.string();
                    self.skip_ws();
                    if self.peek() == b':' {
                        self.bump();
                    }
                    self.skip_ws();
                    let child = if path.is_empty() {
                        key
                    } else {
                        format!("{path}.{key}")
                    };
                    self.value(&child);
                }
                0 => return self.loc(),
                _ => self.bump(),
            }
        }
        let end = self.loc();
        self.bump();
        end
    }

    fn array(&mut self, path: &str, start: Loc) -> Span {
        self.bump();
        loop {
            self.skip_ws();
            match self.peek() {
                b']' => break,
                b',' => self.bump(),
                0 => break,
                _ => {
                    self.value(path);
                }
            }
        }
        let end = self.loc();
        self.bump();
        Span { start, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_path_and_occurrence() {
        let raw = br#"{"a":{"b":"x","c":[1, {"d":{}}]},"e.f":"\"q\"","a.b":2}"#;
        let p = Positions::scan(raw);
        assert_eq!(p.get("a.b", 0).start, Loc { line: 1, col: 11 });
        assert_eq!(p.get("a.b", 1).start, Loc { line: 1, col: 54 });
        assert_eq!(p.get("a.c", 0).start.col, 20);
        assert_eq!(p.get("a.c.d", 0).start.col, 28);
        assert_eq!(p.get("a.c.d", 0).end.col, 29);
        assert_eq!(p.get("e.f", 0).start.col, 40);
        assert_eq!(p.root().end.col, raw.len());
        let multi = Positions::scan(b"{\n  \"a\": {\n    \"b\": 1\n  }\n}");
        assert_eq!(multi.get("a.b", 0).start, Loc { line: 3, col: 10 });
        assert_eq!(multi.get("a", 0).end, Loc { line: 4, col: 3 });
    }
}
