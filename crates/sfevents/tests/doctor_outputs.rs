//! `sfevents doctor`'s checks of the outputs, end to end: each destination checked for
//! accepting a write without being written to (Elasticsearch templates, the syslog TLS
//! handshake, an empty HEC request, an empty batch), backlogs and dead letters.

mod common;
#[path = "doctor_common/mod.rs"]
mod doctor_common;

use common::*;
use doctor_common::*;

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
