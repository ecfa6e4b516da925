//! `sfevents alerts test --output NAME`: one clearly marked test alert, sent straight to one
//! output (a notifier above all) through the output's own sink, so an admin sees what arrives
//! and that the webhook, key or mailbox is right. It is not archived and moves no position;
//! notifiers send it whatever their `min_level`, `rules` and suppression.

use outputs::{Event, OrgContext, Verdict};
use serde_json::json;

use super::*;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AlertsCommand {
    /// Send one test alert to an output (by name) and say what it answered.
    Test {
        #[command(flatten)]
        args: ShipArgs,
        /// The output to send to (by name).
        #[arg(long)]
        output: String,
    },
}

pub async fn run(cmd: &AlertsCommand) -> u8 {
    let AlertsCommand::Test { args, output } = cmd;
    let outputs = match crate::config::resolve_outputs(&Overrides {
        config: args.config.clone(),
        to: args.to.clone(),
        ..Overrides::default()
    }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let Some(o) = outputs.iter().find(|o| &o.name == output) else {
        let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
        eprintln!(
            "error: no output named '{output}': the outputs are {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        return exit::CONFIG;
    };
    let ctx = org_context(args);
    let sink = match outputs::sink(o, &ctx) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: output '{}': {e}", o.name);
            return exit::CONFIG;
        }
    };
    let event = test_alert(&ctx);
    match sink.send(std::slice::from_ref(&event)).await {
        Ok(v)
            if v.first() == Some(&Verdict::Delivered) || v.first() == Some(&Verdict::Duplicate) =>
        {
            println!("output '{}' took the test alert {}", o.name, event.id);
            exit::OK
        }
        Ok(v) => {
            eprintln!(
                "error: output '{}' did not take the test alert: {:?}",
                o.name,
                v.first()
            );
            exit::PARTIAL
        }
        Err(e) => {
            eprintln!("error: output '{}': {e}", o.name);
            exit::PARTIAL
        }
    }
}

/// The org of the first archive found (its instance is the alert's source), else a stand-in.
fn org_context(args: &ShipArgs) -> OrgContext {
    let dirs = config::archive_roots(args.output_dir.as_deref(), args.config.as_deref());
    dirs.ok()
        .and_then(|d| crate::ship::targets(&d).ok())
        .and_then(|t| t.into_iter().next())
        .map(|t| t.ctx)
        .unwrap_or(OrgContext {
            org: "test".into(),
            instance_url: String::new(),
            state: None,
        })
}

/// A test alert, as the archive holds alerts, marked as a test in its rule, summary and `test`.
fn test_alert(ctx: &OrgContext) -> Event {
    let now = base::time::iso(&chrono::Utc::now());
    let id = format!("test-{}", uuid::Uuid::new_v4().simple());
    let fields = json!({
        "@timestamp": now, "id": id, "org_id": ctx.org, "test": true,
        "rule": {"name": "sfevents_test_alert", "id": "00000000-0000-0000-0000-000000000000",
                 "title": "sfevents test alert", "level": "informational", "tags": []},
        "group": {"USER_NAME": "test.user@example.com", "SOURCE_IP": "192.0.2.1"},
        "count": 1, "first_seen": now, "last_seen": now,
        "events": {"ids": [], "total": 0},
        "summary": "This is a test alert sent by `sfevents alerts test`: no action is needed."
    });
    let value = json!({
        "@timestamp": now, "id": id, "org_id": ctx.org, "source": "sfevents",
        "event_type": "Alert", "fields": fields
    });
    Event::with_id(id, value)
}
