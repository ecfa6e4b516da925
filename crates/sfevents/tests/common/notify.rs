//! Notifier tests' harness: a sim org with planted attacks and the built-in rule pack on, the
//! vendors' test receivers (PagerDuty, Slack, Teams over HTTPS with their own CA), a signed
//! webhook receiver of our own that records every request, and aiosmtpd (the email output's
//! test server) with a certificate made here; plus what each of them holds, read back as alert
//! ids so every test can compare it with the archive's alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use receivers::{pagerduty, slack, teams};
use serde_json::Value;
use sfsim::{GenOptions, Scenario, SimConfig, SimHandle};

pub const PD_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const HOOK_SECRET: &str = "a-webhook-secret-of-some-length-0123";
const SMTP_USER: &str = "sfevents";
const SMTP_PASSWORD: &str = "s3cret-smtp-pass";
const SLACK_PATH: &str = "/services/T0SFEV/B0SFEV/s3cr3tslackpath";

/// The EventLogFile type and objects the two planted attacks show in: brute force in Login
/// rows and LoginEvent records, the privileged permission set in SetupAuditTrail.
const ELF_TYPES: &[&str] = &["Login"];
const OBJECTS: &[&str] = &["LoginEvent", "SetupAuditTrail"];

/// A quiet org of `days` with `scenarios` planted on its last full day, on a frozen clock.
pub fn sim_config(seed: u64, days: u32, scenarios: Vec<Scenario>) -> SimConfig {
    let mut c = SimConfig::default();
    c.org.anchor =
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 10, 12, 30, 0).unwrap();
    c.org.seed = seed;
    c.org.days = days;
    c.org.hourly = true;
    c.org.late_files = false;
    c.org.rows_per_hour = (1, 3);
    c.org.records_per_hour = (1, 3);
    c.org.event_types = ELF_TYPES.iter().map(|s| s.to_string()).collect();
    c.freeze_clock = true;
    c.org_options = GenOptions {
        scenarios,
        ..Default::default()
    };
    c
}

/// A config collecting the whole org into `dir/archive` with the built-in pack on, and the
/// `[[output]]` tables `outputs`.
pub fn write_config(sim: &SimHandle, dir: &Path, days: u32, outputs: &str) -> PathBuf {
    let c = &sim.credentials;
    let types: Vec<String> = ELF_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
    let mut text = format!(
        "output_dir = \"{}\"\n[[org]]\nname = \"sim\"\ninstance_url = \"{}\"\n[org.auth]\nclient_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n[org.event_log_file]\nevent_types = [{}]\nbackfill_days = {}\n",
        dir.join("archive").display(),
        sim.url,
        c.client_id,
        c.username,
        c.private_key_file.display(),
        types.join(", "),
        days + 1,
    );
    for o in OBJECTS {
        text.push_str(&format!(
            "[[org.object]]\nname = \"{o}\"\nbackfill_days = {}\nwindow_minutes = 1440\n",
            days + 1
        ));
    }
    text.push_str("[detections]\nenabled = true\n");
    text.push_str(outputs);
    let p = dir.join("sfevents.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The archive's alerts (`fields` of each line of `events/alert/`), by id; the line's own id
/// must be the alert's.
pub fn archived_alerts(archive: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (path, line) in super::ndjson_lines(archive) {
        if !path.starts_with(archive.join("events").join("alert")) {
            continue;
        }
        let id = line["id"].as_str().unwrap().to_string();
        assert_eq!(
            line["fields"]["id"],
            id.as_str(),
            "line id against alert id"
        );
        assert!(
            out.insert(id.clone(), line["fields"].clone()).is_none(),
            "alert {id} archived twice"
        );
    }
    out
}

/// Alerts per rule name and level.
pub fn by_rule(alerts: &BTreeMap<String, Value>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for a in alerts.values() {
        let key = format!(
            "{}/{}",
            a["rule"]["name"].as_str().unwrap(),
            a["rule"]["level"].as_str().unwrap()
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

/// Asserts `got` (one alert id per request or message a receiver took) names each of `want`
/// exactly once and nothing else.
pub fn once_each(what: &str, got: &[String], want: &BTreeSet<String>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in got {
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let missing: Vec<_> = want
        .iter()
        .filter(|id| !seen.contains_key(id.as_str()))
        .collect();
    let stray: Vec<_> = seen.keys().filter(|id| !want.contains(**id)).collect();
    assert!(
        twice.is_empty() && missing.is_empty() && stray.is_empty() && got.len() == want.len(),
        "{what}: {} for {} alerts; more than once: {twice:?}; missing: {missing:?}; not an alert: {stray:?}",
        got.len(),
        want.len()
    );
}

/// `… · alert <id>`: the id a chat message's context line names.
fn context_id(text: &str) -> String {
    let (rule, id) = text.rsplit_once(" · alert ").unwrap_or(("", ""));
    assert!(rule.starts_with("rule "), "not a context line: {text:?}");
    id.to_string()
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub delivery: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub refused: bool,
}

/// A signed-webhook receiver that records every request, refuses the first `refuse` with
/// 503, and answers each after `delay` (having recorded it: a sender killed meanwhile has
/// delivered without knowing it).
#[derive(Default)]
pub struct Hook {
    pub url: String,
    pub got: Mutex<Vec<Got>>,
    refuse: Mutex<usize>,
    delay: Duration,
}

async fn receive(State(h): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (delivery, signature) = (
        header("x-sfevents-delivery"),
        header("x-sfevents-signature"),
    );
    let refused = {
        let mut r = h.refuse.lock().unwrap();
        let refuse = *r > 0;
        *r = r.saturating_sub(1);
        refuse
    };
    h.got.lock().unwrap().push(Got {
        delivery,
        signature,
        body: body.to_vec(),
        refused,
    });
    tokio::time::sleep(h.delay).await;
    match refused {
        true => StatusCode::SERVICE_UNAVAILABLE,
        false => StatusCode::NO_CONTENT,
    }
}

impl Hook {
    pub async fn start(refuse: usize, delay: Duration) -> Arc<Hook> {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let h = Arc::new(Hook {
            url: format!("http://{}/hook", l.local_addr().unwrap()),
            refuse: Mutex::new(refuse),
            delay,
            ..Hook::default()
        });
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(h.clone());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        h
    }

    /// The delivery ids of the requests taken (answered 2xx).
    pub fn deliveries(&self) -> Vec<String> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|g| !g.refused)
            .map(|g| g.delivery.clone())
            .collect()
    }

    pub fn requests(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

/// The five notifiers' destinations, those a test starts.
#[derive(Default)]
pub struct Vendors {
    pub pd: Option<pagerduty::Handle>,
    pub slack: Option<slack::Handle>,
    pub teams: Option<teams::Handle>,
    pub hook: Option<Arc<Hook>>,
    pub smtp: Option<Smtp>,
}

/// Teams' workflow; its `sig` is the URL's secret.
fn flow() -> teams::Workflow {
    teams::Workflow::new("/workflows/5f0e/triggers/manual/paths/invoke", "s1gn4tur3")
}

/// Each receiver's rate: generous, so a test can send at `max_per_second = 100` without
/// meeting the real services' limits (Slack 1, Teams 4 a second), which are the receivers'
/// own defaults.
const RATE: receivers::common::Rate = receivers::common::Rate {
    burst: 200,
    refill_every_ms: 5,
};

impl Vendors {
    pub async fn pagerduty(faults: pagerduty::Faults) -> pagerduty::Handle {
        let c = pagerduty::Config {
            tls: true,
            events_per_minute: 6000,
            faults,
            ..pagerduty::Config::with_keys(&[PD_KEY])
        };
        pagerduty::start(c).await.expect("pagerduty receiver")
    }

    pub async fn slack(faults: slack::Faults) -> slack::Handle {
        let c = slack::Config {
            tls: true,
            rate: Some(RATE),
            faults,
            ..slack::Config::with_webhooks(vec![slack::Webhook::new(SLACK_PATH)])
        };
        slack::start(c).await.expect("slack receiver")
    }

    pub async fn teams() -> teams::Handle {
        let c = teams::Config {
            tls: true,
            rate: Some(RATE),
            ..teams::Config::with_workflows(vec![flow()])
        };
        teams::start(c).await.expect("teams receiver")
    }

    /// The `[[output]]` tables of the receivers started, `max_per_second = 100` each.
    pub fn outputs(&self) -> String {
        let ca = |p: Option<&Path>| p.expect("a TLS receiver").display().to_string();
        let mut t = String::new();
        let pace = "max_per_second = 100\nstart = \"beginning\"\n";
        if let Some(pd) = &self.pd {
            t += &format!("[[output]]\nname = \"pd\"\ntype = \"pagerduty\"\nurl = \"{}/v2/enqueue\"\nrouting_key_env = \"SFEVENTS_TEST_PD_KEY\"\nca_file = \"{}\"\n{pace}", pd.url(), ca(pd.ca_file()));
        }
        if let Some(s) = &self.slack {
            t += &format!("[[output]]\nname = \"slack\"\ntype = \"slack\"\nurl = \"{}\"\nurl_env = \"SFEVENTS_TEST_SLACK_URL\"\nca_file = \"{}\"\n{pace}", s.url(), ca(s.ca_file()));
        }
        if let Some(s) = &self.teams {
            t += &format!("[[output]]\nname = \"teams\"\ntype = \"teams\"\nurl = \"{}\"\nurl_env = \"SFEVENTS_TEST_TEAMS_URL\"\nca_file = \"{}\"\n{pace}", s.url(), ca(s.ca_file()));
        }
        if let Some(h) = &self.hook {
            t += &format!("[[output]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\n{pace}", h.url);
        }
        if let Some(m) = &self.smtp {
            t += &format!("[[output]]\nname = \"mail\"\ntype = \"email\"\nurl = \"smtp://127.0.0.1:{}\"\nfrom = \"sfevents@x.example\"\nto = \"soc@x.example\"\nusername = \"{SMTP_USER}\"\npassword_env = \"SFEVENTS_TEST_SMTP_PASSWORD\"\nca_file = \"{}\"\n{pace}", m.port(), m.ca_file().display());
        }
        t
    }

    /// The secrets the outputs read from the environment.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("SFEVENTS_TEST_PD_KEY", PD_KEY.to_string()),
            ("SFEVENTS_TEST_HOOK_SECRET", HOOK_SECRET.to_string()),
            ("SFEVENTS_TEST_SMTP_PASSWORD", SMTP_PASSWORD.to_string()),
        ];
        if let Some(s) = &self.slack {
            env.push(("SFEVENTS_TEST_SLACK_URL", s.webhook_url(SLACK_PATH)));
        }
        if let Some(t) = &self.teams {
            env.push(("SFEVENTS_TEST_TEAMS_URL", t.workflow_url(&flow())));
        }
        env
    }
}

/// The alert ids PagerDuty's accepted triggers carry as `dedup_key`, in arrival order.
pub fn pd_triggers(pd: &pagerduty::Handle) -> Vec<String> {
    pd.events()
        .iter()
        .filter(|e| e.action == pagerduty::Action::Trigger)
        .map(|e| e.dedup_key.clone().unwrap_or_default())
        .collect()
}

/// The dedup keys of PagerDuty's incidents.
pub fn pd_incidents(pd: &pagerduty::Handle) -> Vec<String> {
    pd.incidents().into_iter().map(|i| i.dedup_key).collect()
}

/// The alert id each accepted Slack message names in its context block.
pub fn slack_ids(s: &slack::Handle) -> Vec<String> {
    s.messages()
        .iter()
        .map(|m| {
            let blocks = m.message["blocks"].as_array().expect("blocks");
            let ctx = blocks
                .iter()
                .find(|b| b["type"] == "context")
                .expect("a context block");
            context_id(ctx["elements"][0]["text"].as_str().unwrap())
        })
        .collect()
}

/// The alert id each accepted Teams card names in its last (context) text block.
pub fn teams_ids(t: &teams::Handle) -> Vec<String> {
    t.cards()
        .iter()
        .map(|c| {
            let body = c["body"].as_array().expect("a card body");
            context_id(body.last().unwrap()["text"].as_str().unwrap())
        })
        .collect()
}

/// The SMTP server (`receivers::smtp`), STARTTLS and AUTH required.
pub struct Smtp(receivers::smtp::Smtp);

impl Smtp {
    pub fn start() -> Smtp {
        use receivers::smtp::Mode;
        Smtp(receivers::smtp::Smtp::start(
            Mode::StartTls,
            SMTP_USER,
            SMTP_PASSWORD,
        ))
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    pub fn ca_file(&self) -> &Path {
        self.0.ca_file()
    }

    /// The Message-ID of each mail taken.
    pub fn message_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        for path in self.0.mail_files() {
            let raw = std::fs::read_to_string(path).unwrap();
            let head = raw.split("\r\n\r\n").next().unwrap_or_default();
            let id = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("message-id")
                    .then(|| v.trim().to_string())
            });
            out.push(id.unwrap_or_default());
        }
        out
    }
}

/// `sfevents <args> --config cfg` as of the sim's clock, with the vendors' secrets.
pub fn command(
    sim: &SimHandle,
    args: &[&str],
    cfg: &Path,
    env: &[(&str, String)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(super::BIN);
    cmd.args(args).arg("--config").arg(cfg);
    cmd.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `sfevents <args> --config cfg` to its end.
pub async fn sfevents(
    sim: &SimHandle,
    args: &[&str],
    cfg: &Path,
    env: &[(&str, String)],
) -> std::process::Output {
    command(sim, args, cfg, env)
        .output()
        .await
        .expect("sfevents runs")
}
