//! Fidelity test: Slack's incoming webhook client (`@slack/webhook` 8.0.2 from npm, unchanged)
//! against the Slack receiver. The script is `tests/fidelity/slack_check.mjs`; its dependencies
//! must be installed first with `npm ci --prefix tests/fidelity`.
//!
//! The client gets `ok` for text and Block Kit messages, an `IncomingWebhookHTTPError` with
//! statusCode 429 and body `rate_limited` beyond the burst (not retried), 400 `invalid_blocks`
//! for a header over 150 characters, 404 `no_service` for an unknown webhook, and retries a
//! 500 `rollup_error` when told to; the receiver must hold exactly the messages answered `ok`
//! and have counted every request.

use std::path::PathBuf;
use std::time::Duration;

use receivers::slack::{self, Config, Handle, Rate, Webhook};
use serde_json::{json, Value};

const HOOK: &str = "/services/T0FIDELITY/B0FIDELITY/0123456789abcdefABCDEFGH";
const OTHER: &str = "/services/T0FIDELITY/B0OTHER00/HGFEDCBA9876543210fedcba";
const UNKNOWN: &str = "/services/T0FIDELITY/B0UNKNOWN/000000000000000000000000";

fn fidelity_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fidelity"));
    assert!(
        dir.join("slack_check.mjs").is_file(),
        "missing {}/slack_check.mjs",
        dir.display()
    );
    assert!(
        dir.join("node_modules/@slack/webhook/package.json")
            .is_file(),
        "@slack/webhook is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_webhook_works_against_the_receiver() {
    let hook = slack::start(Config {
        // Slack's burst of 3, with no refill during the run: the fourth message is refused
        // however slow the machine.
        rate: Some(Rate {
            burst: 3,
            refill_every_ms: 600_000,
        }),
        ..Config::with_webhooks(vec![Webhook::new(HOOK), Webhook::new(OTHER)])
    })
    .await
    .expect("the receiver starts");
    let summary = run_check(&hook).await;
    eprintln!("client summary: {summary}");

    let ok = json!({"text": "ok"});
    assert_eq!(
        (&summary["text"], &summary["blocks"], &summary["defaults"]),
        (&ok, &ok, &ok)
    );
    let http_error = |status: u16, body: &str| {
        json!({"isHTTPError": true, "code": "slack_webhook_http_error", "codeIsHTTPError": true,
               "statusCode": status, "body": body})
    };
    assert_eq!(summary["rateLimited"], http_error(429, "rate_limited"));
    assert_eq!(summary["invalidBlocks"], http_error(400, "invalid_blocks"));
    assert_eq!(summary["retried"], ok);
    assert_eq!(summary["unknown"], http_error(404, "no_service"));

    // The receiver's side: exactly the messages answered ok, as the client sent them.
    let msgs = hook.messages_for(HOOK);
    let texts: Vec<&Value> = msgs.iter().map(|m| &m.message["text"]).collect();
    assert_eq!(
        texts,
        vec![
            &json!("Login from a new country"),
            &json!("sfevents alert: new country"),
            &json!("third message")
        ]
    );
    assert_eq!(msgs[1].message["blocks"].as_array().map(Vec::len), Some(6));
    assert_eq!(msgs[2].message["username"], "sfevents");
    assert_eq!(msgs[2].message["icon_emoji"], ":rotating_light:");
    assert!(msgs
        .iter()
        .all(|m| m.content_type.as_deref() == Some("application/json")));
    let other = hook.messages_for(OTHER);
    assert_eq!(other.len(), 1);
    assert_eq!(
        other[0].message,
        json!({"text": "sent again after rollup_error"})
    );
    // Requests: 4 to the first webhook (the 429 not retried), 3 to the other (the refused
    // blocks, the rollup_error and its retry), 1 to the unknown one.
    assert_eq!(
        (
            hook.requests_to(HOOK),
            hook.requests_to(OTHER),
            hook.requests_to(UNKNOWN)
        ),
        (4, 3, 1)
    );
    assert_eq!(hook.requests(), 8);
    let s = hook.stats();
    assert_eq!((s.rate_limited, s.faults.requests_503), (1, 1));
    hook.shutdown();
}

/// Runs `node tests/fidelity/slack_check.mjs` against the receiver; its JSON summary.
async fn run_check(hook: &Handle) -> Value {
    let dir = fidelity_dir();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("slack_check.mjs"))
        .current_dir(&dir)
        .env("SLACK_URL", hook.webhook_url(HOOK))
        .env("SLACK_OTHER_URL", hook.webhook_url(OTHER))
        .env("SLACK_UNKNOWN_URL", hook.webhook_url(UNKNOWN))
        .env_remove("NODE_OPTIONS")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the check finishes within 2 minutes")
        .expect("running `node` (Node.js 20.18+ must be on PATH)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the @slack/webhook check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\nstderr: {stderr}"))
}
