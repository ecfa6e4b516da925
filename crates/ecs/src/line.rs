//! An archive line read without building a tree: its top-level members and its `fields` as
//! slices of the line. The tree-free encoders ([`crate::LineEncoder`], the outputs' raw and
//! routing paths) read events this way; anything this reader does not expect makes it answer
//! `None`, and the caller takes the tree path, which gives the same result more slowly.
//!
//! It relies on the line being JSON already checked (the shipper checks every line it reads),
//! and on the archive's string form: strings as serde_json writes them. A string's slice is its
//! escaped text, so copying it between quotes writes the same JSON string again.

/// A JSON string's text between its quotes, as written (escapes included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    pub raw: &'a str,
    /// The text has a `\` escape: `raw` is not the string's value.
    pub escaped: bool,
}

impl<'a> Str<'a> {
    /// The string's value, when it has no escape (then it is `raw` itself).
    pub fn plain(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// The string's value (unescaped when it must be).
    pub fn text(&self) -> std::borrow::Cow<'a, str> {
        match self.plain() {
            Some(s) => s.into(),
            None => serde_json::from_str::<String>(&format!("\"{}\"", self.raw))
                .unwrap_or_default()
                .into(),
        }
    }
}

/// A member's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    Str(Str<'a>),
    /// Anything else, as its JSON text: a number, `true`, `false`, `null`, an object, a list.
    Other(&'a str),
}

impl<'a> Val<'a> {
    pub fn as_str(&self) -> Option<Str<'a>> {
        match self {
            Val::Str(s) => Some(*s),
            Val::Other(_) => None,
        }
    }
}

/// The top-level members an encoder routes on.
#[derive(Debug, Default, Clone, Copy)]
pub struct ArchiveLine<'a> {
    pub id: Option<Val<'a>>,
    pub timestamp: Option<Val<'a>>,
    pub org_id: Option<Val<'a>>,
    pub source: Option<Val<'a>>,
    pub event_type: Option<Val<'a>>,
    /// The `fields` object's text, braces included.
    pub fields: Option<&'a str>,
}

impl<'a> ArchiveLine<'a> {
    /// The line's members, or `None` when it is not an object this reader can walk.
    pub fn scan(line: &'a str) -> Option<ArchiveLine<'a>> {
        let mut out = ArchiveLine::default();
        for (key, val) in Members::of(line)? {
            let key = key.ok()?;
            let slot = match key.raw {
                "id" => &mut out.id,
                "@timestamp" => &mut out.timestamp,
                "org_id" => &mut out.org_id,
                "source" => &mut out.source,
                "event_type" => &mut out.event_type,
                "fields" => {
                    out.fields = match val {
                        Val::Other(t) if t.starts_with('{') => Some(t),
                        _ => None,
                    };
                    continue;
                }
                _ => continue,
            };
            *slot = Some(val);
        }
        Some(out)
    }

    /// What an output routes on: `source` and `event_type` (`""` when there is none), plain
    /// strings, read from the members before `fields` without walking the record. The archive
    /// writes `fields` last, so this is every member it has; `None` for a line that is not
    /// written that way (the caller reads it whole).
    pub fn routing(line: &'a str) -> Option<(&'a str, &'a str)> {
        let mut members = Members::of(line)?;
        let (mut source, mut kind) = (None, "");
        loop {
            // The key is known before its value is read: `fields` is not walked.
            let (key, at) = members.next_key()?;
            if key.raw == "fields" {
                return Some((source?, kind));
            }
            let (val, end) = value_at(line, at)?;
            members.at = end;
            match key.plain()? {
                "source" => source = Some(val.as_str()?.plain()?),
                "event_type" => kind = val.as_str()?.plain()?,
                _ => {}
            }
        }
    }

    /// A top-level string member's value (`None` when missing or not a string).
    pub fn text(v: Option<Val<'a>>) -> Option<Str<'a>> {
        v.and_then(|v| v.as_str())
    }

    /// The members of `fields`.
    pub fn field_members(&self) -> Option<Members<'a>> {
        Members::of(self.fields?)
    }

    /// One field's value (a linear walk: for the few fields routing needs).
    pub fn field(&self, name: &str) -> Option<Val<'a>> {
        self.field_members()?
            .find_map(|(k, v)| (k.ok()?.raw == name).then_some(v))
    }
}

/// The members of one JSON object, in order. A key with an escape comes as `Err` (callers that
/// match keys by name take the tree path then). A malformed object ends the walk early and
/// marks it `broken`.
pub struct Members<'a> {
    text: &'a str,
    at: usize,
    pub broken: bool,
}

impl<'a> Members<'a> {
    pub fn of(object: &'a str) -> Option<Members<'a>> {
        let b = object.as_bytes();
        let at = skip_ws(b, 0);
        (b.get(at) == Some(&b'{')).then_some(Members {
            text: object,
            at: at + 1,
            broken: false,
        })
    }

    /// The next member's key and where its value starts, the value not read yet.
    fn next_key(&self) -> Option<(Str<'a>, usize)> {
        let b = self.text.as_bytes();
        let mut i = skip_ws(b, self.at);
        match b.get(i)? {
            b'}' => return None,
            b',' => i = skip_ws(b, i + 1),
            _ => {}
        }
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (key, end) = string_at(self.text, i)?;
        i = skip_ws(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        Some((key, skip_ws(b, i + 1)))
    }

    fn next_member(&mut self) -> Option<(Result<Str<'a>, Str<'a>>, Val<'a>)> {
        let (key, i) = self.next_key()?;
        let (val, end) = value_at(self.text, i)?;
        self.at = end;
        let key = if key.escaped { Err(key) } else { Ok(key) };
        Some((key, val))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (Result<Str<'a>, Str<'a>>, Val<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.text.as_bytes();
        let end = skip_ws(b, self.at);
        let item = self.next_member();
        if item.is_none() && b.get(end) != Some(&b'}') {
            self.broken = true;
        }
        item
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The string starting at the quote at `i`, and the index after its closing quote.
fn string_at(text: &str, i: usize) -> Option<(Str<'_>, usize)> {
    let b = text.as_bytes();
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        // memchr's vector search: most strings are long runs without either byte.
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            let raw = text.get(i + 1..k)?;
            return Some((Str { raw, escaped }, k + 1));
        }
        escaped = true;
        j = k + 2;
    }
}

/// The value starting at `i`, and the index after it.
fn value_at(text: &str, i: usize) -> Option<(Val<'_>, usize)> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'"' => string_at(text, i).map(|(s, end)| (Val::Str(s), end)),
        b'{' | b'[' => {
            let end = container_end(text, i)?;
            Some((Val::Other(text.get(i..end)?), end))
        }
        _ => {
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(b.len() - i);
            (len > 0).then(|| (Val::Other(&text[i..i + len]), i + len))
        }
    }
}

/// The index after the object or list opening at `i` (strings inside skipped whole).
fn container_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'"' => {
                j = string_at(text, j)?.1;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_fields() {
        let line = r#"{"@timestamp":"2024-01-01T00:00:00.000Z","id":"e-1","org_id":"00D","source":"EventLogFile","event_type":"URI","row":7,"fields":{"A":"x\"y","B":"","C":{"k":[1,"}"]},"D":null}}"#;
        let l = ArchiveLine::scan(line).expect("scan");
        assert_eq!(ArchiveLine::text(l.id).and_then(|s| s.plain()), Some("e-1"));
        assert_eq!(
            ArchiveLine::text(l.event_type).and_then(|s| s.plain()),
            Some("URI")
        );
        let f: Vec<_> = l.field_members().expect("fields").collect();
        assert_eq!(f.len(), 4);
        assert_eq!(
            f[0].1.as_str().map(|s| s.text().into_owned()),
            Some("x\"y".into())
        );
        assert_eq!(f[2].1, Val::Other(r#"{"k":[1,"}"]}"#));
        assert_eq!(f[3].1, Val::Other("null"));
        assert_eq!(
            l.field("B"),
            Some(Val::Str(Str {
                raw: "",
                escaped: false
            }))
        );
        assert!(ArchiveLine::scan("[1]").is_none());
        assert_eq!(ArchiveLine::routing(line), Some(("EventLogFile", "URI")));
        let object = r#"{"@timestamp":"t","id":"o","source":"ApiEvent","fields":{"A":1}}"#;
        assert_eq!(ArchiveLine::routing(object), Some(("ApiEvent", "")));
        for odd in [
            r#"{"id":"x","fields":{}}"#,
            r#"{"source":"X"}"#,
            "[]",
            r#"{"source":1,"fields":{}}"#,
        ] {
            assert_eq!(ArchiveLine::routing(odd), None, "{odd}");
        }
    }
}
