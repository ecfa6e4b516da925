//! Microsoft Teams Workflows webhooks ("When a Teams webhook request is received"): one
//! Adaptive Card per alert in a `message` attachment, the same content as Slack's (title,
//! facts, summary, context), at most 4 requests a second, under the 28 KB a message may
//! take. The workflow URL is a secret (it carries a signature): give it with `url_env` or
//! `url_file`. Office 365 connector URLs were retired in 2026; Workflows replaced them.

use serde_json::{json, Value};

use crate::http_client::Answer;
use crate::notify::chat::Chat;
use crate::notify::text::{clip, context, facts, title};
use crate::notify::AlertView;
use crate::sink::{SinkError, Verdict};

/// `type = "teams"` (registered as `ChatOutput<Teams>`), `--to teams+https://<workflow host>?url_env=TEAMS_WORKFLOW_URL`.
pub struct Teams;

impl Chat for Teams {
    const NAME: &'static str = "Teams";
    const NAMES: &'static [&'static str] = &["teams"];
    const PER_SECOND: usize = 4;

    fn message(a: &AlertView) -> Value {
        let urgent = matches!(a.rule.level.as_str(), "high" | "critical");
        let facts: Vec<Value> = facts(a)
            .into_iter()
            .map(|(k, v)| json!({"title": k, "value": clip(&v, 1000)}))
            .collect();
        let card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.2",
            "body": [
                {"type": "TextBlock", "text": clip(&title(a), 300), "weight": "Bolder", "size": "Medium",
                 "wrap": true, "color": if urgent { "Attention" } else { "Warning" }},
                {"type": "FactSet", "facts": facts},
                {"type": "TextBlock", "text": clip(&a.summary, 8000), "wrap": true},
                {"type": "TextBlock", "text": context(a), "isSubtle": true, "size": "Small", "wrap": true}
            ]
        });
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card
            }]
        })
    }

    /// Any 2xx taken (the workflow answers 202 before it posts); a refused card
    /// dead-lettered; 401/403/404 for the user to fix; 429 and 5xx again.
    fn verdict(dest: &str, a: &Answer) -> Result<Verdict, SinkError> {
        crate::webhook::verdict(dest, a).map_err(|e| match e {
            SinkError::Fatal(m) => SinkError::Fatal(format!(
                "{m}. Fix: give the URL of the workflow's \"When a Teams webhook request is received\" trigger (with its sig) in url_env or url_file"
            )),
            other => other,
        })
    }
}
