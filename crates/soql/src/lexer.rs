//! Tokenizer for SOQL: identifiers, quoted strings, numbers, unquoted date and dateTime
//! literals, punctuation and comparison operators.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::error::SoqlError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    Comma,
    LParen,
    RParen,
    Dot,
    Colon,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the token's first character in the query.
    pub start: usize,
    /// The token as written (`<EOF>` at the end).
    pub text: String,
}

/// Builds Salesforce's multi-line syntax error: the query line, a caret under the offending
/// column, `ERROR at Row:r:Column:c` and the message.
pub(crate) fn syntax_error(src: &str, offset: usize, msg: &str) -> SoqlError {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[line_start..]
        .find('\n')
        .map_or(src.len(), |i| line_start + i);
    let line: Vec<char> = src[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .collect();
    let col0 = src[line_start..offset].chars().count();
    // A window of the line around the error, as Salesforce shows for long queries.
    let from = col0.saturating_sub(60);
    let to = (col0 + 40).min(line.len());
    let excerpt: String = line[from.min(to)..to].iter().collect();
    let caret = " ".repeat(col0 - from);
    SoqlError::new(
        "MALFORMED_QUERY",
        format!(
            "\n{excerpt}\n{caret}^\nERROR at Row:{row}:Column:{}\n{msg}",
            col0 + 1
        ),
    )
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, SoqlError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Tok::Dot
            }
            b':' => {
                i += 1;
                Tok::Colon
            }
            b'=' => {
                i += 1;
                Tok::Eq
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Ne
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    Tok::Le
                }
                Some(b'>') => {
                    i += 2;
                    Tok::Ne
                }
                _ => {
                    i += 1;
                    Tok::Lt
                }
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Ge
                } else {
                    i += 1;
                    Tok::Gt
                }
            }
            b'\'' => {
                let (s, end) = lex_string(src, i)?;
                i = end;
                Tok::Str(s)
            }
            b'0'..=b'9' | b'-' | b'.' => {
                let (t, end) = lex_number_or_date(src, i)?;
                i = end;
                t
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(src[start..i].to_string())
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(syntax_error(
                    src,
                    i,
                    &format!("no viable alternative at character '{ch}'"),
                ));
            }
        };
        out.push(Token {
            tok,
            start,
            text: src[start..i].to_string(),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        text: "<EOF>".to_string(),
    });
    Ok(out)
}

/// A single-quoted string with SOQL's backslash escapes. `\%` and `\_` are kept escaped so
/// that LIKE can tell them from wildcards.
fn lex_string(src: &str, start: usize) -> Result<(String, usize), SoqlError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((j, ch)) = chars.next() {
        match ch {
            '\'' => return Ok((out, start + 1 + j + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    break;
                };
                match e {
                    'n' | 'N' => out.push('\n'),
                    'r' | 'R' => out.push('\r'),
                    't' | 'T' => out.push('\t'),
                    'b' | 'B' => out.push('\u{8}'),
                    'f' | 'F' => out.push('\u{c}'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    '\\' => out.push('\\'),
                    '%' | '_' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'u' | 'U' => {
                        let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                            .and_then(char::from_u32);
                        match code {
                            Some(c) => out.push(c),
                            None => {
                                return Err(syntax_error(
                                    src,
                                    start,
                                    &format!(
                                        "Invalid string literal: illegal unicode escape '\\u{hex}'"
                                    ),
                                ))
                            }
                        }
                    }
                    other => {
                        let lit_end = src[start + 1..]
                            .find('\'')
                            .map_or(src.len(), |k| start + 1 + k + 1);
                        let lit = &src[start..lit_end];
                        return Err(syntax_error(
                            src,
                            start,
                            &format!(
                                "Invalid string literal '{lit}'. Illegal character sequence '\\{other}' in string literal."
                            ),
                        ));
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(syntax_error(
        src,
        src.len(),
        "mismatched character '<EOF>' expecting '''",
    ))
}

fn digits(bytes: &[u8], from: usize, n: usize) -> Option<u32> {
    let s = bytes.get(from..from + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn lex_number_or_date(src: &str, start: usize) -> Result<(Tok, usize), SoqlError> {
    let b = src.as_bytes();
    // YYYY-MM-DD, possibly followed by a time.
    if let (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) = (
        digits(b, start, 4),
        b.get(start + 4),
        digits(b, start + 5, 2),
        b.get(start + 7),
        digits(b, start + 8, 2),
    ) {
        let mut i = start + 10;
        let bad = |i: usize, what: &str| {
            let end = src[start..]
                .find(|c: char| c.is_whitespace() || c == ')' || c == ',')
                .map_or(src.len(), |k| start + k);
            syntax_error(
                src,
                i.min(end),
                &format!("Invalid {what}: {}", &src[start..end]),
            )
        };
        let date = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .ok_or_else(|| bad(start, "date"))?;
        if !matches!(b.get(i), Some(b'T' | b't')) {
            if b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(i, "date"));
            }
            return Ok((Tok::Date(date), i));
        }
        i += 1;
        let (Some(hh), Some(b':'), Some(mm), Some(b':'), Some(ss)) = (
            digits(b, i, 2),
            b.get(i + 2),
            digits(b, i + 3, 2),
            b.get(i + 5),
            digits(b, i + 6, 2),
        ) else {
            return Err(bad(i, "dateTime"));
        };
        i += 8;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fstart = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &src[fstart..i];
            if frac.is_empty() || frac.len() > 9 {
                return Err(bad(i, "dateTime"));
            }
            let padded = format!("{frac:0<9}");
            nanos = padded.parse().map_err(|_| bad(fstart, "dateTime"))?;
        }
        let time = NaiveTime::from_hms_nano_opt(hh, mm, ss, nanos)
            .ok_or_else(|| bad(start, "dateTime"))?;
        let naive = NaiveDateTime::new(date, time);
        let offset_secs: i32 = match b.get(i) {
            Some(b'Z' | b'z') => {
                i += 1;
                0
            }
            Some(&sign @ (b'+' | b'-')) => {
                let oh = digits(b, i + 1, 2).ok_or_else(|| bad(i, "dateTime"))?;
                let (om, len) = if b.get(i + 3) == Some(&b':') {
                    (digits(b, i + 4, 2).ok_or_else(|| bad(i, "dateTime"))?, 6)
                } else {
                    (digits(b, i + 3, 2).ok_or_else(|| bad(i, "dateTime"))?, 5)
                };
                if oh > 23 || om > 59 {
                    return Err(bad(i, "dateTime"));
                }
                i += len;
                let secs = i32::try_from(oh * 3600 + om * 60).map_err(|_| bad(i, "dateTime"))?;
                if sign == b'-' {
                    -secs
                } else {
                    secs
                }
            }
            _ => return Err(bad(i, "dateTime")),
        };
        if b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(i, "dateTime"));
        }
        let tz = FixedOffset::east_opt(offset_secs).ok_or_else(|| bad(start, "dateTime"))?;
        let t = tz
            .from_local_datetime(&naive)
            .single()
            .ok_or_else(|| bad(start, "dateTime"))?;
        return Ok((Tok::DateTime(t.with_timezone(&Utc)), i));
    }
    // A number: -?digits[.digits]
    let mut i = start;
    if b[i] == b'-' {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut has_digits = i > int_start;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        has_digits = true;
    }
    if !has_digits {
        let ch = src[start..].chars().next().unwrap_or('?');
        return Err(syntax_error(
            src,
            start,
            &format!("no viable alternative at character '{ch}'"),
        ));
    }
    let n: f64 = src[start..i].parse().map_err(|_| {
        syntax_error(
            src,
            start,
            &format!("unexpected token: '{}'", &src[start..i]),
        )
    })?;
    Ok((Tok::Num(n), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn punctuation_and_operators() {
        assert_eq!(
            toks("a.b,(=!=<><<=>>=):"),
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Ident("b".into()),
                Tok::Comma,
                Tok::LParen,
                Tok::Eq,
                Tok::Ne,
                Tok::Ne,
                Tok::Lt,
                Tok::Le,
                Tok::Gt,
                Tok::Ge,
                Tok::RParen,
                Tok::Colon,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_with_escapes() {
        assert_eq!(
            toks(r#"'it\'s \\ \n \t \u0041 a\%b\_c \"'"#),
            vec![Tok::Str("it's \\ \n \t A a\\%b\\_c \"".into()), Tok::Eof]
        );
        let e = tokenize("x = 'abc").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        let e = tokenize(r"x = 'a\qb'").unwrap_err();
        assert!(
            e.message.contains("Illegal character sequence '\\q'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("0 42 -7 3.25 -0.5 .5"),
            vec![
                Tok::Num(0.0),
                Tok::Num(42.0),
                Tok::Num(-7.0),
                Tok::Num(3.25),
                Tok::Num(-0.5),
                Tok::Num(0.5),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn bad_characters() {
        let e = tokenize("SELECT Id FROM X WHERE a # 1").unwrap_err();
        assert!(
            e.message.contains("ERROR at Row:1:Column:26"),
            "{}",
            e.message
        );
        assert!(tokenize("a ! b").is_err());
        let e = tokenize("SELECT Name FROM X WHERE Name = 'é' é").unwrap_err();
        assert!(
            e.message.contains("ERROR at Row:1:Column:37"),
            "{}",
            e.message
        );
        assert!(tokenize("a = -").is_err());
    }
}
