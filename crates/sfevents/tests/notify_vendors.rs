//! Every notifier end to end through `sfevents collect`/`run` with the built-in rule pack on an
//! org with planted attacks, counted at receivers that record every request (refused ones
//! included): PagerDuty, Slack and Teams (the vendors' test receivers, over HTTPS with their
//! own CA), a signed webhook and an SMTP server each get every archived alert exactly once;
//! receivers that refuse or are down for a while lose nothing; a SIGKILL of `run` mid-delivery
//! repeats at most the one batch in flight, and PagerDuty's dedup key (the alert id) folds the
//! repeats into the incidents already open.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::notify::*;
use common::*;
use receivers::pagerduty::Faults;
use serde_json::Value;
use sfsim::Scenario;

/// The notifiers' batch (`outputs::notify::BATCH`: 20 alerts, one batch in flight): what a
/// crash may send twice.
const BATCH: usize = 20;

fn attacks() -> Vec<Scenario> {
    vec![Scenario::BruteForce, Scenario::PrivilegedPermissionSet]
}

/// The alerts the planted attacks must be among: brute force against the planted user, medium
/// and high, on Login rows (15-character USER_ID) and LoginEvent records (18-character
/// UserId); the privileged permission set grant in SetupAuditTrail.
fn assert_attacks_alerted(sim: &sfsim::SimHandle, alerts: &[&Value]) {
    let planted = sim.org.planted();
    let brute = planted
        .iter()
        .find(|p| p.scenario == Scenario::BruteForce)
        .expect("brute force planted");
    let user = brute.user_id.as_str();
    let mut got: BTreeSet<(String, String, String)> = BTreeSet::new();
    for a in alerts {
        let rule = a["rule"]["name"].as_str().unwrap().to_string();
        let level = a["rule"]["level"].as_str().unwrap().to_string();
        let group = a["group"].as_object().cloned().unwrap_or_default();
        for (k, v) in group {
            if v == user || v == user[..15] {
                got.insert((rule.clone(), level.clone(), k));
            }
        }
    }
    let want: BTreeSet<(String, String, String)> = [
        ("medium", "USER_ID"),
        ("high", "USER_ID"),
        ("medium", "UserId"),
        ("high", "UserId"),
    ]
    .iter()
    .map(|(l, k)| {
        (
            "salesforce_brute_force".into(),
            l.to_string(),
            k.to_string(),
        )
    })
    .collect();
    assert!(got.is_superset(&want), "brute force alerts: {got:?}");
    let granted = alerts
        .iter()
        .filter(|a| a["rule"]["name"] == "salesforce_privileged_permission_granted")
        .count();
    assert_eq!(granted, 1, "the privileged permission set grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_notifier_gets_each_alert_of_a_planted_attack_once() {
    let days = 2;
    let sim = start(sim_config(91, days, attacks())).await;
    let v = Vendors {
        pd: Some(Vendors::pagerduty(Faults::default()).await),
        slack: Some(Vendors::slack(Faults::default()).await),
        teams: Some(Vendors::teams().await),
        hook: Some(Hook::start(0, Duration::ZERO).await),
        smtp: Some(Smtp::start()),
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(&sim, tmp.path(), days, &v.outputs());
    let started = Instant::now();
    let o = sfevents(&sim, &["collect", "--quiet"], &cfg, &v.env()).await;
    assert_exit(&o, 0);
    let alerts = archived_alerts(&tmp.path().join("archive"));
    assert_attacks_alerted(&sim, &alerts.values().collect::<Vec<_>>());
    let ids: BTreeSet<String> = alerts.keys().cloned().collect();
    let n = ids.len();

    let pd = v.pd.as_ref().unwrap();
    once_each("PagerDuty triggers' dedup_key", &pd_triggers(pd), &ids);
    let incidents = pd_incidents(pd);
    once_each("PagerDuty incidents", &incidents, &ids);
    assert!(pd.trigger_counts().values().all(|c| *c == 1));
    assert_eq!(pd.requests(), n as u64, "PagerDuty: one request per alert");

    let slack = v.slack.as_ref().unwrap();
    once_each("Slack messages' context line", &slack_ids(slack), &ids);
    assert_eq!(slack.requests(), n as u64, "Slack: one request per alert");

    let teams = v.teams.as_ref().unwrap();
    once_each("Teams cards' context line", &teams_ids(teams), &ids);
    assert_eq!(teams.requests(), n as u64, "Teams: one request per alert");

    let hook = v.hook.as_ref().unwrap();
    once_each("webhook X-Sfevents-Delivery", &hook.deliveries(), &ids);
    assert_eq!(hook.requests(), n, "webhook: one request per alert");

    let mail_ids: BTreeSet<String> = ids.iter().map(|id| format!("<{id}@sfevents>")).collect();
    let mails = v.smtp.as_ref().unwrap().message_ids();
    once_each("mails' Message-ID", &mails, &mail_ids);
    println!("alerts by rule: {:?}", by_rule(&alerts));
    println!(
        "{n} alerts, each once at 5 notifiers: PagerDuty {} requests, Slack {}, Teams {}, webhook {}, mail {}; collect took {:?}",
        pd.requests(),
        slack.requests(),
        teams.requests(),
        hook.requests(),
        mails.len(),
        started.elapsed()
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_that_refuse_or_are_down_for_a_while_lose_nothing() {
    let days = 2;
    let mut c = sim_config(92, days, attacks());
    // Fewer background SetupAuditTrail changes: fewer alerts, a quicker test.
    c.org_options.audit_per_hour = Some((0, 1));
    let sim = start(c).await;
    // PagerDuty answers 503 to its first 3 requests (the shipper backs off and retries), Slack
    // 429 with Retry-After: 1 once (waited out in place), and Teams is down for the whole
    // collect: collect gives up on it for now, and a later ship delivers.
    let v = Vendors {
        pd: Some(
            Vendors::pagerduty(Faults {
                requests_503: 3,
                ..Faults::default()
            })
            .await,
        ),
        slack: Some(
            Vendors::slack(Faults {
                requests_429: 1,
                retry_after_secs: Some(1),
                ..Faults::default()
            })
            .await,
        ),
        teams: Some(Vendors::teams().await),
        ..Vendors::default()
    };
    let (pd, slack, teams) = (
        v.pd.as_ref().unwrap(),
        v.slack.as_ref().unwrap(),
        v.teams.as_ref().unwrap(),
    );
    teams.stop().await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(&sim, tmp.path(), days, &v.outputs());
    let o = sfevents(&sim, &["collect", "--quiet"], &cfg, &v.env()).await;
    assert_exit(&o, 1);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("output 'teams'"),
        "{}",
        describe(&o)
    );
    let alerts = archived_alerts(&tmp.path().join("archive"));
    assert_attacks_alerted(&sim, &alerts.values().collect::<Vec<_>>());
    let ids: BTreeSet<String> = alerts.keys().cloned().collect();
    let n = ids.len() as u64;
    assert_eq!(pd.stats().faults.requests_503, 3);
    assert_eq!(pd.requests(), n + 3, "the 3 refused, then one per alert");
    once_each("PagerDuty triggers", &pd_triggers(pd), &ids);
    assert_eq!(slack.stats().faults.requests_429, 1);
    assert_eq!(
        slack.requests(),
        n + 1,
        "the one refused, then one per alert"
    );
    once_each("Slack messages", &slack_ids(slack), &ids);
    assert_eq!(teams.requests(), 0);

    teams.restart().await.unwrap();
    let o = sfevents(&sim, &["ship", "--quiet"], &cfg, &v.env()).await;
    assert_exit(&o, 0);
    once_each("Teams cards", &teams_ids(teams), &ids);
    assert_eq!(teams.requests(), n, "Teams: one request per alert");
    // What was delivered before stays delivered: ship sends the others nothing again.
    assert_eq!((pd.requests(), slack.requests()), (n + 3, n + 1));
    println!(
        "{n} alerts: PagerDuty {} requests (3 refused), Slack {} (1 refused), Teams {} after being down",
        pd.requests(),
        slack.requests(),
        teams.requests()
    );
    sim.shutdown();
}

/// Starts `run` and SIGKILLs it once `delivered()` reaches `at`.
async fn kill_run_at(
    sim: &sfsim::SimHandle,
    cfg: &std::path::Path,
    env: &[(&str, String)],
    delivered: impl Fn() -> usize,
    at: usize,
) {
    let mut child = command(sim, &["run", "--quiet"], cfg, env)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while delivered() < at {
        assert!(
            Instant::now() < deadline,
            "run delivered {} of {at} in 60 s",
            delivered()
        );
        assert!(child.try_wait().unwrap().is_none(), "run exited by itself");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
}

fn distinct(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

/// How many alerts a receiver may hold twice after the kills: a batch for each kill that
/// found it mid-delivery (`seen`: the distinct alerts it held at each kill, of `n`).
fn allowed_repeats(seen: &[usize], n: usize) -> usize {
    BATCH * seen.iter().filter(|d| **d > 0 && **d < n).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_run_mid_delivery_repeats_at_most_the_batch_in_flight() {
    let days = 2;
    let sim = start(sim_config(93, days, attacks())).await;
    // Each request is recorded, then answered 100 ms later: delivery takes seconds, and a kill
    // finds requests whose alert arrived without the sender knowing.
    let delay = 100;
    let pd_faults = Faults {
        delay_ms: Some(delay),
        ..Faults::default()
    };
    let v = Vendors {
        pd: Some(Vendors::pagerduty(pd_faults).await),
        hook: Some(Hook::start(0, Duration::from_millis(delay)).await),
        ..Vendors::default()
    };
    let (pd, hook) = (v.pd.as_ref().unwrap(), v.hook.as_ref().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(&sim, tmp.path(), days, &v.outputs());
    // Collect and raise the alerts first, so `run` starts with all of them to deliver.
    let o = sfevents(&sim, &["collect", "--quiet", "--no-ship"], &cfg, &v.env()).await;
    assert_exit(&o, 0);
    let ids: BTreeSet<String> = archived_alerts(&tmp.path().join("archive"))
        .into_keys()
        .collect();
    let n = ids.len();
    // Each kill lands in a second batch, some alerts of it through: a position that moved by
    // more than the one batch in flight would repeat more than a batch.
    let at = BATCH + BATCH / 2 - 3;
    assert!(n > at + 5, "{n} alerts: too few to kill mid-delivery");
    // `run` ships its outputs side by side: the first kill lands when PagerDuty holds `at`
    // alerts (the webhook about as many), the second as soon as the webhook holds `at`.
    let (mut pd_seen, mut hook_seen) = (Vec::new(), Vec::new());
    let watch: [&dyn Fn() -> usize; 2] = [&|| pd.events().len(), &|| hook.requests()];
    for (i, at_receiver) in watch.into_iter().enumerate() {
        kill_run_at(&sim, &cfg, &v.env(), at_receiver, at).await;
        pd_seen.push(distinct(&pd_triggers(pd)).len());
        hook_seen.push(distinct(&hook.deliveries()).len());
        println!(
            "kill {i}: PagerDuty held {} alerts, the webhook {}",
            pd_seen[i], hook_seen[i]
        );
    }
    assert!(pd_seen[0] < n && hook_seen[1] < n, "a kill came too late");

    let o = sfevents(&sim, &["ship", "--quiet"], &cfg, &v.env()).await;
    assert_exit(&o, 0);
    let incidents = pd_incidents(pd);
    once_each("PagerDuty incidents", &incidents, &ids);
    assert!(pd.trigger_counts().values().all(|c| *c <= 2));
    let triggers = pd_triggers(pd);
    let pd_twice = triggers.len() - n;
    let allowed = allowed_repeats(&pd_seen, n);
    assert!(
        (1..=allowed).contains(&pd_twice),
        "{pd_twice} alerts triggered twice: only what was in flight ({allowed}) is sent again"
    );
    let deliveries = hook.deliveries();
    let unique = Vec::from_iter(distinct(&deliveries));
    once_each("webhook's distinct deliveries", &unique, &ids);
    let allowed = allowed_repeats(&hook_seen, n);
    assert!(
        (n + 1..=n + allowed).contains(&hook.requests()),
        "{} webhook requests for {n} alerts, {allowed} repeats allowed",
        hook.requests()
    );
    println!(
        "{n} alerts; after ship: {} PagerDuty triggers ({pd_twice} repeated), {} incidents; {} webhook requests",
        triggers.len(),
        incidents.len(),
        hook.requests()
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_run_an_output_that_is_down_holds_back_no_other() {
    let days = 1;
    let sim = start(sim_config(94, days, attacks())).await;
    let v = Vendors {
        pd: Some(Vendors::pagerduty(Faults::default()).await),
        hook: Some(Hook::start(0, Duration::ZERO).await),
        ..Vendors::default()
    };
    let (pd, hook) = (v.pd.as_ref().unwrap(), v.hook.as_ref().unwrap());
    // PagerDuty is listed first and is down for the whole run: `run` retries it for ever.
    pd.stop().await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(&sim, tmp.path(), days, &v.outputs());
    let o = sfevents(&sim, &["collect", "--quiet", "--no-ship"], &cfg, &v.env()).await;
    assert_exit(&o, 0);
    let ids: BTreeSet<String> = archived_alerts(&tmp.path().join("archive"))
        .into_keys()
        .collect();
    assert!(!ids.is_empty());
    let mut child = command(&sim, &["run", "--quiet"], &cfg, &v.env())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while hook.requests() < ids.len() {
        assert!(
            Instant::now() < deadline,
            "the webhook got {} of {} alerts in 30 s while PagerDuty was down",
            hook.requests(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    once_each("webhook's deliveries", &hook.deliveries(), &ids);
    assert_eq!(pd.requests(), 0);
    sim.shutdown();
}
