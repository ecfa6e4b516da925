//! An archive line's values as the lake's columns read them: from the line's text
//! (`ecs::line`, no tree), or from its tree where the text is not read so (a key with an
//! escape, a key given twice, a line the scanner does not walk). Both give the same [`Cell`]s,
//! so a file's columns do not depend on which way its rows were read.

use std::borrow::Cow;

use ecs::line::{Members, Val};
use serde_json::{Number, Value};

use super::kinds::{top_index, TOP};

/// One value of a line, as the columns read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    /// A string, unescaped.
    Str(Cow<'a, str>),
    Num(Number),
    Bool(bool),
    /// An object or a list.
    Nested(Nested<'a>),
}

/// An object or a list: a text column holds it as serde_json writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nested<'a> {
    Tree(&'a Value),
    /// Its JSON text in the line.
    Text(&'a str),
}

impl<'a> Cell<'a> {
    /// A value of a tree.
    pub fn of_value(v: &'a Value) -> Cell<'a> {
        match v {
            Value::Null => Cell::Null,
            Value::String(s) => Cell::Str(Cow::Borrowed(s)),
            Value::Number(n) => Cell::Num(n.clone()),
            Value::Bool(b) => Cell::Bool(*b),
            Value::Array(_) | Value::Object(_) => Cell::Nested(Nested::Tree(v)),
        }
    }

    /// A value of a scanned line (which the shipper checked is JSON).
    pub fn of_val(v: Val<'a>) -> Cell<'a> {
        match v {
            Val::Str(s) => Cell::Str(s.text()),
            Val::Other("null") => Cell::Null,
            Val::Other("true") => Cell::Bool(true),
            Val::Other("false") => Cell::Bool(false),
            Val::Other(t) if t.starts_with(['{', '[']) => Cell::Nested(Nested::Text(t)),
            // Not a number only when the line is not JSON, which the shipper does not send.
            Val::Other(t) => number(t).map_or(Cell::Null, Cell::Num),
        }
    }

    /// Null or the empty string: null in every column.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Null => true,
            Cell::Str(s) => s.is_empty(),
            _ => false,
        }
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A value that is not a string as a text column holds it: its JSON as serde_json writes
    /// it (a number in its shortest form, an object compact, in its keys' order).
    pub fn json(&self) -> String {
        match self {
            Cell::Null => "null".into(),
            Cell::Str(s) => Value::String(s.to_string()).to_string(),
            Cell::Num(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Nested(Nested::Tree(v)) => v.to_string(),
            Cell::Nested(Nested::Text(t)) => {
                serde_json::from_str::<Value>(t).map_or_else(|_| t.to_string(), |v| v.to_string())
            }
        }
    }
}

/// A JSON number's text as serde_json reads it: a whole number of up to 18 digits directly,
/// anything else (decimals, exponents, `-0`, longer runs of digits) by serde_json itself.
fn number(raw: &str) -> Option<Number> {
    let (neg, digits) = match raw.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, raw),
    };
    let plain = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.starts_with('0') && (neg || digits.len() > 1));
    if !plain {
        return serde_json::from_str(raw).ok();
    }
    let n = digits
        .bytes()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    Some(if neg {
        Number::from(-(n as i64))
    } else {
        Number::from(n)
    })
}

/// The top-level members of a line the lake reads: the `TOP` columns, `@timestamp` and
/// `fields`. A key given twice counts with its last value, as in the tree.
#[derive(Debug, Default, Clone, Copy)]
pub struct Top<'a> {
    /// By `TOP`'s order.
    pub slots: [Option<Val<'a>>; TOP.len()],
    pub timestamp: Option<Val<'a>>,
    /// The `fields` object's text (`None` when missing or not an object).
    pub fields: Option<&'a str>,
}

impl<'a> Top<'a> {
    /// The line's members, or `None` when it is to be read from its tree: not an object the
    /// scanner walks to its end, or a top-level key with an escape (which may spell one of
    /// ours).
    pub fn scan(line: &'a str) -> Option<Top<'a>> {
        let mut out = Top::default();
        let mut members = Members::of(line)?;
        for (key, val) in &mut members {
            let key = key.ok()?;
            match key.raw {
                "@timestamp" => out.timestamp = Some(val),
                "fields" => {
                    out.fields = match val {
                        Val::Other(t) if t.starts_with('{') => Some(t),
                        _ => None,
                    }
                }
                k => {
                    if let Some(c) = top_index(k) {
                        out.slots[c] = Some(val);
                    }
                }
            }
        }
        (!members.broken).then_some(out)
    }

    /// The members of a line whose `fields` object (a slice of it, as `scan` gave it) is its
    /// last member, read from the text before that object only: the object is not walked
    /// again to find its end. `None` when something follows it.
    pub fn before_fields(line: &'a str, fields: &'a str) -> Option<Top<'a>> {
        let at = (fields.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
        let tail = line.get(at + fields.len()..)?;
        if tail.trim_start_matches([' ', '\t', '\n', '\r']) != "}" {
            return None;
        }
        let mut out = Top {
            fields: Some(fields),
            ..Top::default()
        };
        // The walk ends at the `fields` key, its value cut off.
        for (key, val) in Members::of(line.get(..at)?)? {
            match key.ok()?.raw {
                "@timestamp" => out.timestamp = Some(val),
                k => {
                    if let Some(c) = top_index(k) {
                        out.slots[c] = Some(val);
                    }
                }
            }
        }
        Some(out)
    }

    /// A top-level member's string, unescaped where it is plain: `Ok(None)` when missing or
    /// not a string, `Err` when it has an escape (the caller reads the tree then).
    pub fn plain(v: Option<Val<'a>>) -> Result<Option<&'a str>, ()> {
        match v {
            Some(Val::Str(s)) => s.plain().map(Some).ok_or(()),
            _ => Ok(None),
        }
    }

    /// The member of `TOP` named `name`.
    pub fn get(&self, name: &str) -> Option<Val<'a>> {
        self.slots[top_index(name)?]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        for t in [
            "0",
            "7",
            "-7",
            "-0",
            "7.0",
            "-0.0",
            "1e5",
            "1E-3",
            "2.5e+2",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "0.1",
            "3.141592653589793238",
        ] {
            let tree: Value = serde_json::from_str(t).unwrap();
            let n = number(t).unwrap();
            assert_eq!(Value::Number(n.clone()), tree, "{t}");
            assert_eq!(
                (n.is_i64(), n.as_u64(), n.to_string()),
                {
                    let m = tree.as_number().unwrap();
                    (m.is_i64(), m.as_u64(), m.to_string())
                },
                "{t}"
            );
        }
    }

    #[test]
    fn cells_of_text_and_of_tree_agree() {
        let line = r#"{"a":"x\"y","b":"","c":null,"d":true,"e":false,"f":-0,"g":{"z":1.0,"a":[1e2,"\u00e9"]},"h":[],"i":12}"#;
        let tree: Value = serde_json::from_str(line).unwrap();
        let text: Vec<Cell> = Members::of(line)
            .unwrap()
            .map(|(_, v)| Cell::of_val(v))
            .collect();
        let from_tree: Vec<Cell> = tree
            .as_object()
            .unwrap()
            .values()
            .map(Cell::of_value)
            .collect();
        assert_eq!(text.len(), from_tree.len());
        for (a, b) in text.iter().zip(&from_tree) {
            assert_eq!(a.json(), b.json());
            assert_eq!(a.as_str(), b.as_str());
            assert_eq!(a.is_empty(), b.is_empty());
        }
        assert_eq!(text[6].json(), r#"{"z":1.0,"a":[100.0,"é"]}"#);
    }

    #[test]
    fn top_members() {
        let t = Top::scan(r#"{"id":"a","row":1,"row":2,"fields":{"X":"1"},"other":[1]}"#).unwrap();
        assert_eq!(
            t.get("row"),
            Some(Val::Other("2")),
            "the last one, as in the tree"
        );
        assert_eq!(t.fields, Some(r#"{"X":"1"}"#));
        assert!(Top::scan(r#"{"i\u0064":"a"}"#).is_none(), "an escaped key");
        assert!(Top::scan(r#"{"id":"a" "x"}"#).is_none(), "broken");
        assert!(Top::scan(r#"{"fields":"x"}"#).unwrap().fields.is_none());
        let line = r#"{"id":"a","fields":{"x":1},"row":3, "fields" : {"y":[2]} }"#;
        let t = Top::scan(line).unwrap();
        let head = Top::before_fields(line, t.fields.unwrap()).unwrap();
        assert_eq!(
            (head.get("id"), head.get("row"), head.fields),
            (t.get("id"), t.get("row"), t.fields)
        );
        let line = r#"{"id":"a","fields":{"x":1},"row":3}"#;
        let t = Top::scan(line).unwrap();
        assert!(
            Top::before_fields(line, t.fields.unwrap()).is_none(),
            "a member after"
        );
        assert!(
            Top::before_fields(line, "{}").is_none(),
            "not a slice of the line"
        );
    }
}
