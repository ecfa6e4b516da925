//! Checking a message body against what an incoming webhook takes: something to show (`text`,
//! `blocks`, or legacy `attachments`), and blocks within Block Kit's documented limits.
//!
//! Only the block types a notifier sends are known: `header`, `section`, `context`, `divider`
//! and `actions`; any other type is refused, so a test notices a sender that strays from them.

use serde_json::{Map, Value};

/// Slack's error bodies for a bad message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// Not a JSON object, or nothing to show.
    Payload,
    /// A block breaks Block Kit's rules or limits.
    Blocks,
}

impl Bad {
    pub fn body(self) -> &'static str {
        match self {
            Bad::Payload => "invalid_payload",
            Bad::Blocks => "invalid_blocks",
        }
    }
}

pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_SECTION_FIELDS: usize = 10;
pub const MAX_FIELD_TEXT: usize = 2000;
pub const MAX_HEADER_TEXT: usize = 150;
pub const MAX_BLOCK_ID: usize = 255;
/// Elements of a `context` block.
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
/// Elements of an `actions` block.
pub const MAX_ACTIONS_ELEMENTS: usize = 25;

/// Whether a parsed body is a message Slack would post.
pub fn check(body: &Value) -> Result<(), Bad> {
    let Value::Object(m) = body else {
        return Err(Bad::Payload);
    };
    let text = match m.get("text") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => return Err(Bad::Payload),
    };
    let blocks = match m.get("blocks") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(b)) => b.as_slice(),
        Some(_) => return Err(Bad::Blocks),
    };
    let attachments = m
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !text && blocks.is_empty() && !attachments {
        return Err(Bad::Payload);
    }
    if blocks.len() > MAX_BLOCKS || !blocks.iter().all(block_ok) {
        return Err(Bad::Blocks);
    }
    Ok(())
}

fn block_ok(block: &Value) -> bool {
    let Value::Object(b) = block else {
        return false;
    };
    let id_ok = match b.get("block_id") {
        None => true,
        Some(Value::String(id)) => !id.is_empty() && chars(id) <= MAX_BLOCK_ID,
        Some(_) => false,
    };
    id_ok
        && match b.get("type").and_then(Value::as_str) {
            Some("header") => header_ok(b),
            Some("section") => section_ok(b),
            Some("context") => elements_ok(b, MAX_CONTEXT_ELEMENTS, context_element_ok),
            Some("divider") => true,
            Some("actions") => elements_ok(b, MAX_ACTIONS_ELEMENTS, |e| {
                e.get("type").is_some_and(Value::is_string)
            }),
            _ => false,
        }
}

/// A header's text is plain_text of at most 150 characters.
fn header_ok(b: &Map<String, Value>) -> bool {
    b.get("text")
        .is_some_and(|t| text_ok(t, &["plain_text"], MAX_HEADER_TEXT))
}

/// A section has a text, fields, or both, each within its limit.
fn section_ok(b: &Map<String, Value>) -> bool {
    let any = &["plain_text", "mrkdwn"];
    let text = b.get("text");
    let fields = b.get("fields");
    let text_fine = text.is_none_or(|t| text_ok(t, any, MAX_SECTION_TEXT));
    let fields_fine = fields.is_none_or(|f| {
        f.as_array().is_some_and(|f| {
            !f.is_empty()
                && f.len() <= MAX_SECTION_FIELDS
                && f.iter().all(|x| text_ok(x, any, MAX_FIELD_TEXT))
        })
    });
    (text.is_some() || fields.is_some()) && text_fine && fields_fine
}

fn elements_ok(b: &Map<String, Value>, max: usize, each: impl Fn(&Value) -> bool) -> bool {
    b.get("elements")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty() && e.len() <= max && e.iter().all(each))
}

fn context_element_ok(e: &Value) -> bool {
    match e.get("type").and_then(Value::as_str) {
        Some("image") => e.get("image_url").is_some_and(Value::is_string),
        Some(_) => text_ok(e, &["plain_text", "mrkdwn"], MAX_SECTION_TEXT),
        None => false,
    }
}

/// A text object of one of `types`, non-empty, at most `max` characters.
fn text_ok(t: &Value, types: &[&str], max: usize) -> bool {
    let ty = t.get("type").and_then(Value::as_str);
    let text = t.get("text").and_then(Value::as_str);
    matches!((ty, text), (Some(ty), Some(s)) if types.contains(&ty) && !s.is_empty() && chars(s) <= max)
}

/// Slack counts characters, not bytes.
fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(n: usize) -> Value {
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "é".repeat(n)}})
    }

    #[test]
    fn limits_are_counted_in_characters() {
        assert_eq!(check(&json!({"blocks": [section(3000)]})), Ok(()));
        assert_eq!(check(&json!({"blocks": [section(3001)]})), Err(Bad::Blocks));
        let header = |t: &str, n| json!({"blocks": [{"type": "header", "text": {"type": t, "text": "h".repeat(n)}}]});
        assert_eq!(check(&header("plain_text", 150)), Ok(()));
        assert_eq!(check(&header("plain_text", 151)), Err(Bad::Blocks));
        assert_eq!(check(&header("mrkdwn", 5)), Err(Bad::Blocks));
    }

    #[test]
    fn something_to_show() {
        assert_eq!(check(&json!({"text": "hi"})), Ok(()));
        assert_eq!(check(&json!({"attachments": [{"text": "x"}]})), Ok(()));
        assert_eq!(check(&json!({"text": ""})), Err(Bad::Payload));
        assert_eq!(check(&json!({"blocks": []})), Err(Bad::Payload));
        assert_eq!(check(&json!([1])), Err(Bad::Payload));
        assert_eq!(check(&json!({"text": "x", "blocks": {}})), Err(Bad::Blocks));
        let many: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
        assert_eq!(
            check(&json!({"text": "x", "blocks": many})),
            Err(Bad::Blocks)
        );
        assert_eq!(
            check(&json!({"blocks": [{"type": "section"}]})),
            Err(Bad::Blocks),
            "a section needs text or fields"
        );
        assert_eq!(
            check(&json!({"blocks": [{"type": "video"}]})),
            Err(Bad::Blocks)
        );
    }
}
