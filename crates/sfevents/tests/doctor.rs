//! `sfevents doctor` end to end: the real binary against sfsim, healthy and then refusing one
//! thing at a time; each refusal must come out as a line naming the problem and its fix.

mod common;
#[path = "doctor_common/mod.rs"]
mod doctor_common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use doctor_common::*;
use sfsim::Faults;

#[tokio::test]
async fn a_healthy_org_is_all_ok() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, &dir.path().join("archive"), &[]).await;
    assert_exit(&out, 0);
    for what in [
        "private key file",
        "login (jwt)",
        "API Enabled",
        "clock",
        "View Event Log Files",
        "event types",
        "hourly files",
        "retention",
        "object LoginEvent",
        "API headroom",
        "disk space",
    ] {
        line_with(&out, "ok", &[what]);
    }
    assert!(!stdout(&out).contains("warning "), "{}", describe(&out));
    let summary = stdout(&out).lines().last().unwrap_or("").to_string();
    assert!(summary.contains("API call(s) spent"), "{summary}");
    // Doctor writes nothing: no archive appears.
    assert!(!dir.path().join("archive").exists());
    // The calls it says it spent are the ones the org counted, and few.
    let said: u64 = summary
        .split("; ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a call count");
    assert_eq!(said, sim.api_calls());
    assert!(said <= 6, "{said} calls");
}

#[tokio::test]
async fn an_unapproved_consumer_names_the_policy_to_change() {
    let mut c = org();
    c.faults = Faults {
        oauth_error: Some("invalid_grant: user hasn't approved this consumer".into()),
        ..Faults::default()
    };
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "problem",
        &[
            "login (jwt)",
            "hasn't approved",
            "Admin approved users are pre-authorized",
        ],
    );
    line_with(&out, "warning", &["org checks", "skipped"]);
}

#[tokio::test]
async fn no_event_log_file_permission_is_a_problem() {
    let mut c = org();
    c.faults.deny_objects = vec!["EventLogFile".into()];
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "problem",
        &["View Event Log Files", "INVALID_TYPE", "permission set"],
    );
    // The rest still runs.
    line_with(&out, "ok", &["object LoginEvent"]);
}

#[tokio::test]
async fn no_rtem_permission_is_a_problem() {
    let mut c = org();
    c.faults.deny_objects = vec!["LoginEvent".into()];
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "problem",
        &["object LoginEvent", "View Real-Time Event Monitoring Data"],
    );
}

#[tokio::test]
async fn storage_not_enabled_is_a_warning() {
    let mut c = org();
    c.faults.empty_objects = vec!["LoginEvent".into()];
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "warning",
        &[
            "object LoginEvent",
            "no records",
            "Event Manager",
            "Enable Storage",
        ],
    );
}

#[tokio::test]
async fn no_hourly_files_is_a_warning() {
    let mut c = org();
    c.org.hourly = false;
    c.org.late_files = false;
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "warning",
        &["hourly files", "Interval='Hourly'", "Event Monitoring"],
    );
}

#[tokio::test]
async fn a_group_readable_key_is_a_warning() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.key");
    std::fs::copy(&sim.credentials.private_key_file, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = doctor_with_key(&sim, &dir.path().join("archive"), Some(&key), &[]).await;
    assert_exit(&out, 1);
    let line = line_with(&out, "warning", &["private key file", "group", "chmod 600"]);
    assert!(line.contains("0640"), "{line}");
    // The secret itself is never printed.
    let pem = std::fs::read_to_string(&key).unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!stdout(&out).contains(body));
    // The login still works.
    line_with(&out, "ok", &["login (jwt)"]);
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let out = run(&["doctor".into(), "--no-such-flag".into()]).await;
    assert_exit(&out, 2);
}

#[tokio::test]
async fn a_blocked_password_flow_names_the_fix() {
    let mut c = org();
    c.faults.oauth_error = Some("invalid_grant: authentication failure".into());
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "problem",
        &["login (jwt)", "username-password flow", "JWT"],
    );
}

#[tokio::test]
async fn an_archive_open_to_others_is_a_warning() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let c = collect(&sim, &archive, &["--event-type", "Login"]).await;
    assert_exit(&c, 0);
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = doctor(&sim, &archive, &[]).await;
    assert_exit(&out, 1);
    line_with(&out, "warning", &["archive folder", "0755", "chmod 700"]);
    line_with(&out, "ok", &["state.db", "0600"]);
    // With an archive, the free space is weighed against the recent volume.
    line_with(&out, "ok", &["disk space", "days of the recent volume"]);
    // Doctor changed nothing.
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
}

#[tokio::test]
async fn a_skewed_clock_is_a_warning() {
    let mut c = org();
    c.faults.date_skew_secs = Some(300);
    let out = doctor_refused(c).await;
    let line = line_with(&out, "warning", &["clock", "NTP"]);
    assert!(line.contains("behind Salesforce"), "{line}");
}

#[tokio::test]
async fn a_schedule_over_the_api_budget_is_a_warning() {
    let mut c = org();
    // LoginEvent every minute spends over 1,440 calls a day: past 80% of 1,000.
    c.daily_api_limit = 1000;
    let out = doctor_refused(c).await;
    line_with(
        &out,
        "warning",
        &[
            "API headroom",
            "of 1000 DailyApiRequests used",
            "api_budget_percent",
            "object_every",
        ],
    );
}

#[tokio::test]
async fn a_client_secret_file_in_the_config_is_mode_checked() {
    const SECRET_LINE: &str = "client_secret_file = \"client.secret\"";
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let c = &sim.credentials;
    let secret = secret_file(dir.path(), "client.secret", &c.client_secret, 0o644);
    let config = dir.path().join("sfevents.toml");
    std::fs::write(
        &config,
        format!(
            "output_dir = \"archive\"\n[[org]]\nname = \"sim\"\ninstance_url = \"{}\"\n[org.auth]\nmethod = \"client-credentials\"\nclient_id = \"{}\"\n{SECRET_LINE}\n[org.event_log_file]\nevent_types = [\"Login\"]\n",
            sim.url, c.client_id
        ),
    )
    .unwrap();
    let args: Vec<String> = ["doctor", "--config", &config.display().to_string()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = doctor_args(&sim, &args).await;
    assert_exit(&out, 1);
    let line = line_with(
        &out,
        "warning",
        &["client secret file", "0644", "chmod 600"],
    );
    assert!(line.contains(&secret), "{line}");
    assert!(!printed(&out).contains(&c.client_secret));
    // Owner-only: the same file is fine.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = doctor_args(&sim, &args).await;
    line_with(&out, "ok", &["client secret file", "owner-only"]);
}
