//! `sfevents doctor` end to end: the real binary against sfsim, healthy and then refusing one
//! thing at a time; each refusal must come out as a line naming the problem and its fix.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use common::*;
use sfsim::{Faults, SimConfig};

/// An org with LoginEvent records and hourly files, its clock frozen.
fn org() -> SimConfig {
    let mut c = small_config(7);
    c.freeze_clock = true;
    c
}

async fn doctor(sim: &sfsim::SimHandle, dir: &std::path::Path, extra: &[&str]) -> Output {
    doctor_with_key(sim, dir, None, extra).await
}

/// [`doctor`] with the JWT key read from `key` instead of sfsim's.
async fn doctor_with_key(
    sim: &sfsim::SimHandle,
    dir: &std::path::Path,
    key: Option<&std::path::Path>,
    extra: &[&str],
) -> Output {
    let mut args = vec!["doctor".to_string()];
    let mut auth = auth_args(sim, dir);
    if let Some(key) = key {
        let i = auth.iter().position(|a| a == "--jwt-key-file").unwrap();
        auth[i + 1] = key.display().to_string();
    }
    args.extend(auth);
    args.extend(
        ["--object", "LoginEvent", "--event-type", "Login"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    doctor_args(sim, &args).await
}

/// `sfevents <args>` with a clean environment, judged against the simulator's frozen now.
async fn doctor_args(sim: &sfsim::SimHandle, args: &[String]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") || k == "SSL_CERT_FILE" {
            cmd.env_remove(k);
        }
    }
    // Files are judged against the simulator's frozen now.
    cmd.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    cmd.output().await.expect("sfevents runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The first line starting with `level` that holds every one of `words`.
fn line_with(o: &Output, level: &str, words: &[&str]) -> String {
    stdout(o)
        .lines()
        .find(|l| l.starts_with(level) && words.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| panic!("no {level} line with {words:?}\n{}", describe(o)))
        .to_string()
}

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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
    line_with(
        &out,
        "warning",
        &["hourly files", "Interval='Hourly'", "Event Monitoring"],
    );
}

#[tokio::test]
async fn an_output_that_is_down_is_a_problem() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let to = format!("elasticsearch+http://127.0.0.1:{port}?name=es");
    let out = doctor(&sim, dir.path(), &["--to", &to]).await;
    assert_exit(&out, 1);
    line_with(&out, "problem", &["output 'es'", "reachable", "Fix:"]);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
    let line = line_with(&out, "warning", &["clock", "NTP"]);
    assert!(line.contains("behind Salesforce"), "{line}");
}

#[tokio::test]
async fn a_schedule_over_the_api_budget_is_a_warning() {
    let mut c = org();
    // LoginEvent every minute spends over 1,440 calls a day: past 80% of 1,000.
    c.daily_api_limit = 1000;
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
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
async fn dead_letters_and_a_reachable_output_are_reported() {
    use receivers::elasticsearch::{self as es, RejectRule};
    let mut c = org();
    c.org.records_per_hour = (4, 12);
    let sim = start(c).await;
    // Refuses every SetupAuditTrail change for good: they become dead letters.
    let h = es::start(es::Config {
        faults: es::Faults {
            reject_documents: vec![RejectRule {
                field: "event.dataset".into(),
                value: Some(serde_json::json!("salesforce.setupaudittrail")),
                mapped_as: None,
            }],
            ..es::Faults::default()
        },
        ..es::Config::default()
    })
    .await
    .expect("the receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let to = format!("elasticsearch+{}?name=es", h.url().trim_end_matches('/'));
    let now = sim.now().to_rfc3339();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("collect")
        .arg("--quiet")
        .args(auth_args(&sim, &archive));
    cmd.args([
        "--object",
        "SetupAuditTrail",
        "--backfill-days",
        "1",
        "--to",
        &to,
    ]);
    cmd.env("SFEVENTS_NOW", &now);
    let c = cmd.output().await.unwrap();
    assert_exit(&c, 1);
    let out = doctor(
        &sim,
        &archive,
        &["--object", "SetupAuditTrail", "--to", &to],
    )
    .await;
    assert_exit(&out, 1);
    line_with(&out, "ok", &["output 'es'", "reachable", "answers"]);
    line_with(
        &out,
        "warning",
        &["output 'es'", "dead letters", "dead-letter", "replay"],
    );
    line_with(
        &out,
        "ok",
        &["output 'es'", "backlog of org", "nothing waiting"],
    );
}

#[tokio::test]
async fn a_syslog_output_is_checked_with_the_tls_handshake() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let rsyslog = common::rsyslog::Rsyslog::start();
    // Trusted: the handshake completes, nothing is sent.
    let to = format!(
        "syslog+tls://127.0.0.1:{}?name=drain&ca_file={}",
        rsyslog.tls_port,
        rsyslog.ca_file().display()
    );
    let out = doctor(&sim, dir.path(), &["--to", &to]).await;
    line_with(&out, "ok", &["output 'drain'", "TLS handshake"]);
    // The receiver's CA not given: the certificate is not trusted, and the fix says ca_file.
    let to = format!("syslog+tls://127.0.0.1:{}?name=drain", rsyslog.tls_port);
    let out = doctor(&sim, dir.path(), &["--to", &to]).await;
    assert_exit(&out, 1);
    line_with(&out, "problem", &["output 'drain'", "ca_file"]);
}

/// Writes `text` to `dir/name` with `mode` and returns the path as text.
fn secret_file(dir: &std::path::Path, name: &str, text: &str, mode: u32) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.display().to_string()
}

/// Everything doctor printed, stdout and stderr.
fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr).into_owned()
    )
}

#[tokio::test]
async fn a_splunk_token_is_checked_with_an_empty_request() {
    use receivers::splunk::{self, Config, Token};
    const RIGHT: &str = "0e1f2a3b-right-hec-token";
    const NO_ACK: &str = "5d6c7b8a-token-without-ack";
    const WRONG: &str = "9f8e7d6c-wrong-hec-token";
    let sim = start(org()).await;
    let hec = splunk::start(Config::with_tokens(vec![
        Token::new(RIGHT).with_ack(),
        Token::new(NO_ACK),
    ]))
    .await
    .expect("the receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let to = |file: &str, ack: bool| {
        format!(
            "splunk+{}?name=hec&token_file={file}&ack={ack}",
            hec.url().trim_end_matches('/')
        )
    };
    // A wrong token: a problem naming where the token goes, the token itself never printed.
    let wrong = secret_file(dir.path(), "wrong.token", WRONG, 0o600);
    let out = doctor(
        &sim,
        &dir.path().join("archive"),
        &["--to", &to(&wrong, false)],
    )
    .await;
    assert_exit(&out, 1);
    line_with(
        &out,
        "problem",
        &[
            "output 'hec'",
            "accepts a write",
            "refused the HEC token",
            "token_file",
        ],
    );
    assert!(!printed(&out).contains(WRONG), "{}", describe(&out));
    // The right one: accepted, and the empty request stored nothing.
    let right = secret_file(dir.path(), "right.token", RIGHT, 0o600);
    let out = doctor(
        &sim,
        &dir.path().join("archive"),
        &["--to", &to(&right, true)],
    )
    .await;
    assert_exit(&out, 0);
    line_with(
        &out,
        "ok",
        &["output 'hec'", "token accepted", "no event written"],
    );
    line_with(
        &out,
        "ok",
        &["output 'hec'", "indexer acknowledgement", "enabled"],
    );
    assert!(!printed(&out).contains(RIGHT));
    // ack = true with a token that has acknowledgement off: the fix names both ways out.
    let no_ack = secret_file(dir.path(), "no-ack.token", NO_ACK, 0o600);
    let out = doctor(
        &sim,
        &dir.path().join("archive"),
        &["--to", &to(&no_ack, true)],
    )
    .await;
    assert_exit(&out, 1);
    line_with(&out, "ok", &["output 'hec'", "token accepted"]);
    line_with(
        &out,
        "problem",
        &[
            "indexer acknowledgement",
            "Enable indexer acknowledgement",
            "ack = false",
        ],
    );
    let stats = hec.stats();
    assert_eq!(stats.events, 0, "{stats:?}");
    assert!(hec.events().is_empty());
    assert!(
        stats.requests >= 3,
        "the probes reached the receiver: {stats:?}"
    );
}

#[tokio::test]
async fn http_and_logplex_outputs_are_checked_with_an_empty_batch() {
    use receivers::http as web;
    use receivers::logplex;
    const KEY: &str = "k-3c1d-http-intake-key";
    const DRAIN_PW: &str = "drain-password-77ab";
    let sim = start(org()).await;
    let w = web::start(web::Config {
        required_header: Some(("X-Api-Key".into(), KEY.into())),
        ..web::Config::default()
    })
    .await
    .expect("the receiver starts");
    let drain = logplex::start(logplex::Config {
        basic: Some(("sfevents".into(), DRAIN_PW.into())),
        ..logplex::Config::default()
    })
    .await
    .expect("the receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let web_url = format!("{}/in?name=web", w.url().trim_end_matches('/'));
    let drain_url = |pw: &str| {
        format!(
            "logplex+{}/drain?name=drain&username=sfevents&password_file={pw}",
            drain.url().trim_end_matches('/')
        )
    };
    // Without the key, and with a wrong drain password: both refused, each fix names the
    // settings that carry the credential.
    let bad_pw = secret_file(dir.path(), "bad.pw", "not-the-password", 0o600);
    let out = doctor(
        &sim,
        &dir.path().join("archive"),
        &["--to", &web_url, "--to", &drain_url(&bad_pw)],
    )
    .await;
    assert_exit(&out, 1);
    line_with(
        &out,
        "problem",
        &[
            "output 'web'",
            "refused the credential",
            "401",
            "header_file",
        ],
    );
    line_with(
        &out,
        "problem",
        &["output 'drain'", "refused the credential", "password_file"],
    );
    // With them: both accept an empty batch, and store nothing.
    let key = secret_file(dir.path(), "api.key", KEY, 0o600);
    let pw = secret_file(dir.path(), "drain.pw", DRAIN_PW, 0o600);
    let with_key = format!("{web_url}&header_file.X-Api-Key={key}");
    let out = doctor(
        &sim,
        &dir.path().join("archive"),
        &["--to", &with_key, "--to", &drain_url(&pw)],
    )
    .await;
    assert_exit(&out, 0);
    line_with(
        &out,
        "ok",
        &["output 'web'", "accepts a write (an empty batch"],
    );
    line_with(
        &out,
        "ok",
        &["output 'drain'", "accepts a write (an empty batch"],
    );
    line_with(
        &out,
        "ok",
        &["output 'web'", "header X-Api-Key file", "owner-only"],
    );
    assert!(!printed(&out).contains(KEY) && !printed(&out).contains(DRAIN_PW));
    assert!(w.lines().is_empty());
    assert!(drain.messages().is_empty());
    assert_eq!(w.stats().requests, 2);
}

#[tokio::test]
async fn missing_elasticsearch_templates_are_a_warning_until_setup() {
    use receivers::elasticsearch as es;
    let sim = start(org()).await;
    let h = es::start(es::Config::default())
        .await
        .expect("the receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let to = format!("elasticsearch+{}?name=es", h.url().trim_end_matches('/'));
    let out = doctor(&sim, &dir.path().join("archive"), &["--to", &to]).await;
    assert_exit(&out, 1);
    line_with(&out, "ok", &["output 'es'", "reachable", "answers"]);
    line_with(
        &out,
        "warning",
        &[
            "output 'es'",
            "index template",
            "sfevents-salesforce is not installed",
            "sfevents setup elasticsearch",
        ],
    );
    assert!(
        h.index_template("sfevents-salesforce").is_none(),
        "doctor installs nothing"
    );
    let setup = run(&[
        "setup".into(),
        "elasticsearch".into(),
        "--to".into(),
        to.clone(),
    ])
    .await;
    assert_exit(&setup, 0);
    let out = doctor(&sim, &dir.path().join("archive"), &["--to", &to]).await;
    assert_exit(&out, 0);
    line_with(
        &out,
        "ok",
        &["output 'es'", "index template", "is installed"],
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

#[tokio::test]
async fn an_old_backlog_is_a_warning() {
    use receivers::http as web;
    let sim = start(org()).await;
    let w = web::start(web::Config::default())
        .await
        .expect("the receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let c = collect(&sim, &archive, &["--event-type", "Login"]).await;
    assert_exit(&c, 0);
    let to = format!("{}/in?name=web", w.url().trim_end_matches('/'));
    // Committed just now: waiting, but not late.
    let out = doctor(&sim, &archive, &["--to", &to]).await;
    line_with(
        &out,
        "ok",
        &["output 'web'", "backlog of org", "waiting since"],
    );
    // Committed two days ago and never shipped.
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let db = rusqlite::Connection::open(archive.join("state.db")).unwrap();
    let n = db
        .execute("UPDATE delivery_log SET committed_at = ?1", [&two_days_ago])
        .unwrap();
    assert!(n > 0, "the collect committed files");
    drop(db);
    let out = doctor(&sim, &archive, &["--to", &to]).await;
    assert_exit(&out, 1);
    line_with(
        &out,
        "warning",
        &[
            "output 'web'",
            "backlog of org",
            "not delivered yet",
            "sfevents ship",
        ],
    );
    assert!(w.lines().is_empty());
}
