//! The email output against a real SMTP server: aiosmtpd (`receivers::smtp`) with a generated
//! certificate, STARTTLS required, AUTH required, each message it takes written to a
//! folder as a .eml file. The sink is built as the shipper builds it (`outputs::sink`) and
//! handed archive lines of alerts; the files show what a mailbox would receive.
//!
//! aiosmtpd lives in the venv `scripts/test` installs ($SFEVENTS_SIGMA_VENV, else
//! ~/.cache/sfevents/sigma-venv), beside the Sigma tools; without it these tests fail and say
//! so.

use std::path::Path;

use base64::Engine;
use outputs::probe::{Findings, Level};
use outputs::{Event, OrgContext, OutputConfig, SinkError, Verdict};
use receivers::smtp::{Mode, Smtp};
use serde_json::json;

const USER: &str = "sfevents";
const PASSWORD: &str = "s3cret-smtp-pass";
const PASSWORD_VAR: &str = "SFEVENTS_TEST_SMTP_PASSWORD";
const WRONG: &str = "wrong-smtp-pass";
const WRONG_VAR: &str = "SFEVENTS_TEST_SMTP_WRONG";

/// The SMTP server (`receivers::smtp`: aiosmtpd with STARTTLS or implicit TLS, AUTH required).
struct Server(Smtp);

impl Server {
    fn start(mode: &str) -> Server {
        let mode = if mode == "smtps" {
            Mode::Implicit
        } else {
            Mode::StartTls
        };
        Server(Smtp::start(mode, USER, PASSWORD))
    }

    fn ca(&self) -> &Path {
        self.0.ca_file()
    }

    /// The output's URL for this server, with `extra` settings.
    fn url(&self, scheme: &str, extra: &str) -> String {
        std::env::set_var(PASSWORD_VAR, PASSWORD);
        std::env::set_var(WRONG_VAR, WRONG);
        format!(
            "{scheme}://127.0.0.1:{}?from=Alerts%20%3Calerts@x.example%3E&to=soc@x.example,oncall@y.example&username={USER}&ca_file={}{extra}",
            self.0.port,
            self.ca().display()
        )
    }

    /// The messages received, in order.
    fn mails(&self) -> Vec<Mail> {
        self.0.mail_files().iter().map(|p| Mail::read(p)).collect()
    }
}

/// A received message: its header block (unfolded), its decoded parts by content type, and
/// the envelope the server saw.
#[derive(Debug)]
struct Mail {
    head: String,
    content_type: String,
    parts: Vec<(String, String)>,
    envelope: serde_json::Value,
}

impl Mail {
    fn read(path: &Path) -> Mail {
        let raw = std::fs::read_to_string(path).unwrap();
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("headers and a body");
        let head = head.replace("\n ", " ").replace("\n\t", " ");
        let envelope = std::fs::read_to_string(path.with_extension("json")).unwrap();
        let mut mail = Mail {
            content_type: String::new(),
            parts: Vec::new(),
            envelope: serde_json::from_str(&envelope).unwrap(),
            head,
        };
        mail.content_type = mail.header("Content-Type").unwrap_or_default().to_string();
        let boundary = mail
            .content_type
            .split("boundary=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a multipart mail")
            .to_string();
        for p in body.split(&format!("--{boundary}")).skip(1) {
            // `--boundary--` closes the last part.
            if p.starts_with("--") {
                break;
            }
            let Some((ph, pb)) = p.split_once("\n\n") else {
                continue;
            };
            let ct = ph.lines().find_map(|l| l.strip_prefix("Content-Type: "));
            let b64 = ph.contains("Content-Transfer-Encoding: base64");
            let text = if b64 {
                let clean: String = pb.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .unwrap();
                String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
            } else {
                pb.to_string()
            };
            mail.parts.push((ct.unwrap_or_default().to_string(), text));
        }
        mail
    }

    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| &l[prefix.len()..])
        })
    }

    fn part(&self, content_type: &str) -> &str {
        self.parts
            .iter()
            .find(|(ct, _)| ct.starts_with(content_type))
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in {self:?}"))
    }
}

/// The archive line of an alert, as the detections write it.
fn alert(id: &str, user: &str, level: &str, title: &str) -> Event {
    let fields = json!({
        "@timestamp": "2026-03-01T10:00:00.000Z",
        "id": id,
        "org_id": "00D000000000001",
        "rule": {"name": "salesforce_brute_force", "id": "5e1b-rule",
                 "title": title, "level": level,
                 "tags": ["attack.credential-access", "attack.t1110"]},
        "group": {"USER_NAME": user},
        "count": 3,
        "first_seen": "2026-03-01T09:58:00.000Z",
        "last_seen": "2026-03-01T10:00:00.000Z",
        "events": {"ids": ["e1", "e2", "e3"], "total": 3},
        "summary": format!("3 failed logins for {user} <in 2 minutes> & counting"),
    });
    Event::with_id(
        id.to_string(),
        json!({"id": id, "event_type": "Alert", "fields": fields}),
    )
}

fn org() -> OrgContext {
    OrgContext {
        org: "acme".into(),
        instance_url: "https://acme.my.salesforce.com".into(),
        state: None,
    }
}

fn output(url: &str) -> OutputConfig {
    outputs::config::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

async fn send(url: &str, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
    let sink = outputs::sink(&output(url), &org()).unwrap();
    sink.send(events).await
}

#[tokio::test]
async fn starttls_one_mail_per_alert_with_its_id() {
    let server = Server::start("starttls");
    let events = [
        alert(
            "a1f0",
            "jane@acme.example",
            "high",
            "Brute force against one user",
        ),
        alert(
            "b2e1",
            "joe@acme.example",
            "medium",
            "Brute force against one user",
        ),
    ];
    let url = server.url("smtp", &format!("&password_env={PASSWORD_VAR}"));
    assert_eq!(
        send(&url, &events).await.unwrap(),
        [Verdict::Delivered, Verdict::Delivered]
    );
    let mails = server.mails();
    assert_eq!(mails.len(), 2, "one mail per alert: {mails:?}");
    for (m, (id, user, level)) in mails.iter().zip([
        ("a1f0", "jane@acme.example", "HIGH"),
        ("b2e1", "joe@acme.example", "MEDIUM"),
    ]) {
        assert_eq!(
            m.header("Message-ID"),
            Some(format!("<{id}@sfevents>").as_str())
        );
        assert_eq!(
            m.header("Subject"),
            Some(format!("[sfevents] [{level}] Brute force against one user: {user}").as_str())
        );
        assert_eq!(m.header("From"), Some("Alerts <alerts@x.example>"));
        assert_eq!(m.header("To"), Some("soc@x.example, oncall@y.example"));
        assert_eq!(m.header("X-Sfevents-Alert-Id"), Some(id));
        assert_eq!(m.header("X-Sfevents-Rule"), Some("salesforce_brute_force"));
        assert_eq!(m.envelope["mail_from"], "alerts@x.example");
        assert_eq!(
            m.envelope["rcpt_tos"],
            json!(["soc@x.example", "oncall@y.example"])
        );
        assert!(m.content_type.starts_with("multipart/alternative"), "{m:?}");
        assert_eq!(m.parts.len(), 2, "{m:?}");
        let text = m.part("text/plain");
        assert!(
            text.starts_with(&format!("[{level}] Brute force against one user\n")),
            "{text}"
        );
        assert!(text.contains(&format!("User: {user}\n")), "{text}");
        assert!(text.contains("<in 2 minutes> & counting"), "{text}");
        assert!(text.contains(&format!("alert {id}")), "{text}");
        let html = m.part("text/html");
        assert!(
            html.contains(&format!("<th align=\"left\">User</th><td>{user}</td>")),
            "{html}"
        );
        assert!(
            html.contains("&lt;in 2 minutes&gt; &amp; counting"),
            "{html}"
        );
        assert!(!html.contains("<in 2 minutes>"), "escaped: {html}");
    }
    // A resend after a crash (the batch in flight is sent again) carries the same id.
    send(&url, &events[..1]).await.unwrap();
    let mails = server.mails();
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2].header("Message-ID"), mails[0].header("Message-ID"));
}

#[tokio::test]
async fn a_digest_is_one_mail_for_the_batch() {
    let server = Server::start("starttls");
    let events = [
        alert(
            "d001",
            "jane@acme.example",
            "medium",
            "Brute force against one user",
        ),
        alert(
            "d002",
            "joe@acme.example",
            "critical",
            "Brute force against one user",
        ),
        alert(
            "d003",
            "ann@acme.example",
            "low",
            "Brute force against one user",
        ),
    ];
    let url = server.url(
        "smtp",
        &format!("&password_env={PASSWORD_VAR}&digest_minutes=10&subject_prefix=[acme]"),
    );
    assert_eq!(
        send(&url, &events).await.unwrap(),
        vec![Verdict::Delivered; 3]
    );
    let mails = server.mails();
    assert_eq!(mails.len(), 1, "one digest: {mails:?}");
    let m = &mails[0];
    assert_eq!(m.header("Message-ID"), Some("<digest.d001.d003@sfevents>"));
    assert_eq!(
        m.header("Subject"),
        Some("[acme] [CRITICAL] 3 alerts: Brute force against one user")
    );
    assert_eq!(m.header("X-Sfevents-Alert-Id"), Some("d001 d002 d003"));
    for (id, user) in [("d001", "jane"), ("d002", "joe"), ("d003", "ann")] {
        assert!(
            m.part("text/plain").contains(&format!("alert {id}")),
            "{m:?}"
        );
        assert!(m
            .part("text/plain")
            .contains(&format!("User: {user}@acme.example")));
        assert!(
            m.part("text/html").contains(&format!("alert {id}")),
            "{m:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_stops_the_output() {
    let server = Server::start("starttls");
    let url = server.url("smtp", &format!("&password_env={WRONG_VAR}"));
    let events = [alert("c3d2", "jane@acme.example", "high", "Brute force")];
    match send(&url, &events).await {
        Err(SinkError::Fatal(m)) => {
            assert!(m.contains("535") && m.contains("password_env"), "{m}");
            assert!(!m.contains(WRONG) && !m.contains(PASSWORD), "{m}");
        }
        other => panic!("a refused login is fatal: {other:?}"),
    }
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn a_refused_recipient_dead_letters_the_alert() {
    let server = Server::start("starttls");
    let url = server
        .url("smtp", &format!("&password_env={PASSWORD_VAR}"))
        .replace("to=soc@x.example,oncall@y.example", "to=nobody@x.example");
    let events = [alert("e4f5", "jane@acme.example", "high", "Brute force")];
    let verdicts = send(&url, &events).await.unwrap();
    match &verdicts[..] {
        [Verdict::Dead(why)] => {
            assert!(why.contains("550") && why.contains("no such user"), "{why}")
        }
        other => panic!("a 550 for the recipient dead-letters the alert: {other:?}"),
    }
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn smtps_is_tls_from_the_first_byte() {
    let server = Server::start("smtps");
    let url = server.url("smtps", &format!("&password_env={PASSWORD_VAR}"));
    let events = [alert("f6a7", "jane@acme.example", "critical", "Login as")];
    assert_eq!(send(&url, &events).await.unwrap(), [Verdict::Delivered]);
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].header("Message-ID"), Some("<f6a7@sfevents>"));
    assert_eq!(
        mails[0].header("Subject"),
        Some("[sfevents] [CRITICAL] Login as: jane@acme.example")
    );
}

#[tokio::test]
async fn an_untrusted_certificate_stops_the_output() {
    let server = Server::start("starttls");
    let url = server
        .url("smtp", &format!("&password_env={PASSWORD_VAR}"))
        .replace(&format!("&ca_file={}", server.ca().display()), "");
    let events = [alert("a8b9", "jane@acme.example", "high", "Brute force")];
    match send(&url, &events).await {
        Err(SinkError::Fatal(m)) => assert!(m.contains("TLS") && m.contains("ca_file"), "{m}"),
        other => panic!("an untrusted certificate is fatal: {other:?}"),
    }
    assert!(server.mails().is_empty());
}

#[derive(Default)]
struct Found(Vec<(Level, String, String)>);

impl Findings for Found {
    fn add(&mut self, level: Level, what: &str, detail: &str) {
        self.0.push((level, what.to_string(), detail.to_string()));
    }
}

#[tokio::test]
async fn doctor_logs_in_without_sending() {
    let server = Server::start("starttls");
    let good = output(&server.url("smtp", &format!("&password_env={PASSWORD_VAR}")));
    let mut found = Found::default();
    good.probe(&mut found).await;
    let whats: Vec<&str> = found.0.iter().map(|(_, w, _)| w.as_str()).collect();
    assert_eq!(
        whats,
        ["connects and says EHLO", "TLS", "authenticates"],
        "{:?}",
        found.0
    );
    assert!(
        found.0.iter().all(|(l, _, _)| *l == Level::Ok),
        "{:?}",
        found.0
    );
    let bad = output(&server.url("smtp", &format!("&password_env={WRONG_VAR}")));
    let mut found = Found::default();
    bad.probe(&mut found).await;
    let (level, what, detail) = found.0.last().unwrap();
    assert_eq!((*level, what.as_str()), (Level::Problem, "authenticates"));
    assert!(
        detail.contains("password_env") && !detail.contains(WRONG),
        "{detail}"
    );
    assert!(server.mails().is_empty(), "doctor sends no mail");
}
