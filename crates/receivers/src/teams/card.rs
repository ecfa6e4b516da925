//! Checking a Workflows webhook body the way the "Post to a channel when a webhook request is
//! received" template fails on it: the flow loops over `attachments` and posts each one's
//! `content` as an Adaptive Card.
//!
//! The real trigger answers 202 before the flow runs and the failure shows only in the run
//! history; this receiver answers 400 with the flow's error text instead, so a sender's test
//! sees the mistake. The two texts the reference quotes (`'foreach' expression … is of type
//! 'Null'`, `Property 'type' must be 'AdaptiveCard'`) are Microsoft's; the `contentType`,
//! `version` and `body` checks and their texts are this receiver's.

use serde_json::Value;

pub const ADAPTIVE_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// Why a body is refused: an error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

fn refused(code: &'static str, message: String) -> Refused {
    Refused { code, message }
}

/// The cards (each attachment's `content`) of a valid body.
pub fn cards(body: &Value) -> Result<Vec<Value>, Refused> {
    let attachments = match body.get("attachments") {
        Some(Value::Array(a)) => a,
        other => {
            let ty = type_name(other.unwrap_or(&Value::Null));
            return Err(refused(
                "ExpressionEvaluationFailed",
                format!(
                    "The execution of template action 'Send_each_adaptive_card' failed: the \
                     result of the evaluation of 'foreach' expression \
                     '@triggerOutputs()?['body']?['attachments']' is of type '{ty}'. The result \
                     must be a valid array."
                ),
            ));
        }
    };
    attachments
        .iter()
        .enumerate()
        .map(|(i, a)| card(i, a))
        .collect()
}

fn card(i: usize, attachment: &Value) -> Result<Value, Refused> {
    let content = attachment.get("content").unwrap_or(&Value::Null);
    if content.get("type").and_then(Value::as_str) != Some("AdaptiveCard") {
        return Err(refused(
            "BadRequest",
            "Property 'type' must be 'AdaptiveCard'".into(),
        ));
    }
    if attachment.get("contentType").and_then(Value::as_str) != Some(ADAPTIVE_CONTENT_TYPE) {
        return Err(refused(
            "BadRequest",
            format!("attachments[{i}]: 'contentType' must be '{ADAPTIVE_CONTENT_TYPE}'"),
        ));
    }
    let version = content.get("version").and_then(Value::as_str);
    if !version.is_some_and(is_version_1) {
        return Err(refused(
            "BadRequest",
            format!("attachments[{i}]: the card's 'version' must be a string '1.<minor>'"),
        ));
    }
    if content.get("body").is_some_and(|b| !b.is_array()) {
        return Err(refused(
            "BadRequest",
            format!("attachments[{i}]: the card's 'body' must be an array"),
        ));
    }
    Ok(content.clone())
}

/// `1.0` to `1.<n>`.
fn is_version_1(v: &str) -> bool {
    v.strip_prefix("1.")
        .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
}

/// A JSON value's type as the workflow language names it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attachment(content: Value) -> Value {
        json!({"contentType": ADAPTIVE_CONTENT_TYPE, "content": content})
    }

    #[test]
    fn cards_are_taken_from_attachments() {
        let card = json!({"type": "AdaptiveCard", "version": "1.4", "body": []});
        let body = json!({"type": "message", "attachments": [attachment(card.clone())]});
        assert_eq!(cards(&body), Ok(vec![card]));
        assert_eq!(cards(&json!({"attachments": []})), Ok(vec![]));
    }

    #[test]
    fn mistakes_are_named() {
        let e = cards(&json!({"text": "hi"})).unwrap_err();
        assert!(e.message.contains("is of type 'Null'"), "{}", e.message);
        let e = cards(&json!({"attachments": {}})).unwrap_err();
        assert!(e.message.contains("is of type 'Object'"), "{}", e.message);
        let e = cards(&json!({"attachments": [attachment(json!({"type": "HeroCard"}))]}));
        assert_eq!(
            e.unwrap_err().message,
            "Property 'type' must be 'AdaptiveCard'"
        );
        let v = |v: Value| {
            cards(
                &json!({"attachments": [attachment(json!({"type": "AdaptiveCard", "version": v}))]}),
            )
        };
        assert!(v(json!("1.5")).is_ok());
        assert!(v(json!("2.0")).is_err());
        assert!(v(json!(1.2)).is_err());
        assert!(v(json!("1.")).is_err());
    }
}
