//! Slack incoming webhooks: one Block Kit message per alert (a header with the level and
//! title, the facts as fields, the summary, a context line with the rule and the alert id),
//! within Block Kit's limits, at most about one message a second (Slack's limit per webhook;
//! a 429's `Retry-After` is waited out). The webhook URL is a secret: give it with `url_env`
//! or `url_file`, and `slack+https://hooks.slack.com` as the output's url.

use serde_json::{json, Value};

use crate::http_client::{self, Answer};
use crate::notify::chat::Chat;
use crate::notify::text::{clip, context, facts, title};
use crate::notify::AlertView;
use crate::sink::{SinkError, Verdict};

/// `type = "slack"` (registered as `ChatOutput<Slack>`), `--to slack+https://hooks.slack.com?url_env=SLACK_WEBHOOK_URL`.
pub struct Slack;

impl Chat for Slack {
    const NAME: &'static str = "Slack";
    const NAMES: &'static [&'static str] = &["slack"];
    const PER_SECOND: usize = 1;

    fn message(a: &AlertView) -> Value {
        // Block Kit: a header's text at most 150 characters, at most 10 fields of 2000, a
        // section's text at most 3000.
        let fields: Vec<Value> = facts(a)
            .into_iter()
            .take(10)
            .map(|(k, v)| json!({"type": "mrkdwn", "text": clip(&format!("*{k}*\n{}", escape(&v)), 2000)}))
            .collect();
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": clip(&title(a), 150), "emoji": false}}),
            json!({"type": "section", "fields": fields}),
        ];
        if !a.summary.is_empty() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&escape(&a.summary), 3000)}}));
        }
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": clip(&escape(&context(a)), 2000)}
        ]}));
        json!({
            // The notification's text, where blocks cannot be shown.
            "text": clip(&format!("{}: {}", title(a), a.summary), 3000),
            "blocks": blocks,
        })
    }

    /// 200 `ok` delivered; a refused payload dead-lettered; a channel or webhook that is gone
    /// for the user to fix; 429 and 5xx again.
    fn verdict(dest: &str, a: &Answer) -> Result<Verdict, SinkError> {
        let text = http_client::excerpt(&a.body);
        if a.status.is_success() {
            return Ok(Verdict::Delivered);
        }
        let message = format!("{dest} answered {}: {text}", a.status);
        if let Some(e) = http_client::retryable(a.status, &a.headers, &message) {
            return Err(e);
        }
        match (a.status.as_u16(), text.as_str()) {
            (400, "invalid_payload" | "invalid_blocks" | "no_text" | "too_many_attachments") => {
                Ok(Verdict::Dead(message))
            }
            _ => Err(SinkError::Fatal(format!(
                "{message}. Fix: the webhook or its channel is gone or not allowed to post (channel_not_found, channel_is_archived, action_prohibited, no_service): create a new incoming webhook and give its URL with url_env or url_file"
            ))),
        }
    }
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` (a value must not become a link or a mention).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
