//! Reuses a session from an existing `sf` CLI login.
//!
//! Current CLIs hide the token in `sf org display --json` (`[REDACTED]`); it comes from
//! `sf org auth show-access-token`. Older CLIs lack that command and show it in `org display`.

use serde_json::Value;
use tokio::process::Command;

use super::{AuthError, Session};
use base::secret::Secret;

fn sf_bin() -> String {
    std::env::var("SFEVENTS_SF_BIN").unwrap_or_else(|_| "sf".into())
}

async fn run_json(args: &[&str]) -> Result<Value, AuthError> {
    let bin = sf_bin();
    let out = Command::new(&bin)
        .args(args)
        .env("SF_DISABLE_AUTOUPDATE", "true")
        .output()
        .await
        .map_err(|e| {
            AuthError::Rejected(format!(
                "cannot run the sf CLI ('{bin}'): {e}. Install it (npm install -g @salesforce/cli) or use another auth method"
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).map_err(|_| {
        AuthError::Rejected(format!(
            "the sf CLI gave no JSON for '{} {}' (exit {}): is it installed and logged in?",
            bin,
            args.join(" "),
            out.status
        ))
    })?;
    if v.get("status").and_then(Value::as_i64).unwrap_or(0) != 0 {
        let msg = v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        return Err(AuthError::Rejected(format!(
            "sf CLI: {msg}. Log in with `sf org login jwt` or `sf org login web --alias ALIAS` first"
        )));
    }
    Ok(v)
}

fn usable_token(v: Option<&Value>) -> Option<String> {
    let t = v?.as_str()?;
    (!t.is_empty() && !t.contains("REDACTED")).then(|| t.to_string())
}

pub async fn session(alias: &str) -> Result<Session, AuthError> {
    let display = run_json(&["org", "display", "--target-org", alias, "--json"]).await?;
    let result = display.get("result").cloned().unwrap_or(Value::Null);
    let instance = result
        .get("instanceUrl")
        .and_then(Value::as_str)
        .ok_or_else(|| AuthError::Rejected(format!("sf CLI: org '{alias}' has no instanceUrl")))?
        .to_string();
    let token = match run_json(&["org", "auth", "show-access-token", "--target-org", alias, "--json"]).await {
        Ok(v) => usable_token(v.get("result").and_then(|r| r.get("accessToken"))),
        Err(_) => None,
    }
    .or_else(|| usable_token(result.get("accessToken")))
    .ok_or_else(|| {
        AuthError::Rejected(format!(
            "the sf CLI would not show the access token of '{alias}': update the CLI (sf update) so that `sf org auth show-access-token` exists"
        ))
    })?;
    let instance_url = url::Url::parse(&instance)
        .map_err(|e| AuthError::Protocol(format!("sf CLI instanceUrl '{instance}': {e}")))?;
    Ok(Session {
        access_token: Secret::new(token),
        instance_url,
        identity: result.get("id").and_then(Value::as_str).map(str::to_string),
    })
}
