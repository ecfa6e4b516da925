//! Fidelity test: PagerDuty's JavaScript client (`@pagerduty/pdjs` 2.2.4 from npm, unchanged)
//! against the PagerDuty receiver over HTTPS (pdjs only speaks HTTPS), trusting the receiver's
//! CA through `NODE_EXTRA_CA_CERTS`. The script is `tests/fidelity/pagerduty_check.mjs`; its
//! dependencies must be installed first with `npm ci --prefix tests/fidelity`.
//!
//! The client sees 202 and its dedup keys echoed, a 400 with PagerDuty's error body for a
//! routing key of the wrong length, and retries a 429 by itself; the receiver must hold one
//! incident per dedup key however often it was triggered, and have counted every request.

use std::path::PathBuf;
use std::time::Duration;

use receivers::pagerduty::{self, Config, Handle, Status};
use serde_json::{json, Value};

const KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";
const ALERTS: u64 = 20;
const REPEAT_EVERY: u64 = 4;

fn fidelity_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fidelity"));
    assert!(
        dir.join("pagerduty_check.mjs").is_file(),
        "missing {}/pagerduty_check.mjs",
        dir.display()
    );
    assert!(
        dir.join("node_modules/@pagerduty/pdjs/package.json")
            .is_file(),
        "@pagerduty/pdjs is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdjs_works_against_the_receiver() {
    let pd = pagerduty::start(Config {
        tls: true,
        ..Config::with_keys(&[KEY])
    })
    .await
    .expect("the receiver starts");
    let summary = run_check(&pd).await;
    eprintln!("client summary: {summary}");

    let repeats = ALERTS.div_ceil(REPEAT_EVERY);
    let sent = ALERTS + repeats;
    // The client's side: every trigger accepted with its key echoed, the refusal as pdjs
    // reports it, the throttled trigger delivered by pdjs' own retry.
    assert_eq!(
        summary["triggers"],
        json!({"sent": sent, "statuses": {"202": sent}, "echoed": sent})
    );
    assert_eq!(
        summary["resolve"],
        json!({"status": 202, "dedupKey": "alert-0"})
    );
    assert_eq!(
        summary["generated"],
        json!({"status": 202, "keyLength": 32})
    );
    assert_eq!(
        summary["badKey"],
        json!({"status": 400, "ok": false, "data": {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
        }})
    );
    assert_eq!(
        summary["throttled"],
        json!({"status": 202, "dedupKey": "throttled-once"})
    );

    // The receiver's side: one incident per dedup key, the repeats counted in it.
    let incidents = pd.incidents();
    assert_eq!(
        incidents.len() as u64,
        ALERTS + 2,
        "alert-*, the generated key, throttled-once"
    );
    for i in 0..ALERTS {
        let key = format!("alert-{i}");
        let inc = incidents
            .iter()
            .find(|x| x.dedup_key == key)
            .expect("an incident");
        let triggers = if i % REPEAT_EVERY == 0 { 2 } else { 1 };
        assert_eq!((inc.triggers, inc.opened), (triggers, 1), "{key}");
        let status = if i == 0 {
            Status::Resolved
        } else {
            Status::Triggered
        };
        assert_eq!(inc.status, status, "{key}");
    }
    assert_eq!(pd.incidents_opened(), ALERTS + 2);
    // Accepted: the triggers, the resolve, the generated one, the throttled one once.
    let accepted = sent + 3;
    assert_eq!(pd.events().len() as u64, accepted);
    // Requests: those, the bad key, and the 429 pdjs retried.
    assert_eq!(pd.requests(), accepted + 2);
    let s = pd.stats();
    assert_eq!((s.invalid, s.faults.requests_429), (1, 1));
    let first = &pd.events()[0];
    assert_eq!(first.routing_key, KEY);
    assert_eq!(
        first.body["payload"],
        json!({"summary": "Login from a new country (0)", "source": "sfevents",
               "severity": "warning", "timestamp": "2026-03-10T14:25:00.000Z",
               "component": "LoginEvent", "group": "org-00D000000000001",
               "class": "new_country", "custom_details": {"n": 0, "user": "005000"}}),
        "the event as pdjs sent it"
    );
    pd.shutdown();
}

/// Runs `node tests/fidelity/pagerduty_check.mjs` against the receiver, trusting its CA; the
/// script's JSON summary.
async fn run_check(pd: &Handle) -> Value {
    let dir = fidelity_dir();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("pagerduty_check.mjs"))
        .current_dir(&dir)
        .env("PD_SERVER", format!("127.0.0.1:{}", pd.addr().port()))
        .env("PD_ROUTING_KEY", KEY)
        .env("PD_ALERTS", ALERTS.to_string())
        .env("PD_REPEAT_EVERY", REPEAT_EVERY.to_string())
        .env("NODE_EXTRA_CA_CERTS", pd.ca_file().expect("a CA file"))
        // Nothing in the environment may make Node skip or redirect certificate checks.
        .env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
        .env_remove("NODE_OPTIONS")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the check finishes within 2 minutes")
        .expect("running `node` (Node.js 20.18+ must be on PATH)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the pdjs check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\nstderr: {stderr}"))
}
