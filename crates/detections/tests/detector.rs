//! The built-in pack through the `Detector`, as the live rules and `detect` run it, over
//! hand-made Login rows: what a spray, a brute force and a brute force that succeeds raise,
//! named exactly; ids stable across a restart from exported state; the allowlist.

use std::collections::BTreeMap;

use detections::allowlist::Allowlist;
use detections::detector::DetectorState;
use detections::{Alert, ArchiveEvent, Detector, RuleSet, RuleSources};
use serde_json::json;

const T0: i64 = 1_764_000_000;

fn pack(allowlist: Allowlist) -> RuleSet {
    RuleSet::load(&RuleSources {
        builtin: true,
        allowlist,
        ..Default::default()
    })
    .unwrap()
}

fn login(i: usize, at: i64, user: usize, ip: &str, status: &str) -> ArchiveEvent {
    let fields = json!({
        "USER_ID": format!("0055j00000AT6{user:02}"), "USER_NAME": format!("user{user:02}@acme.example.com"),
        "LOGIN_STATUS": status, "SOURCE_IP": ip, "EVENT_TYPE": "Login"
    });
    ArchiveEvent::new(
        T0 + at,
        &format!("ev-{i}"),
        "00D000000000001AAA",
        "login",
        fields.as_object().unwrap().clone(),
    )
}

fn run(detector: &mut Detector, events: &[ArchiveEvent]) -> Vec<Alert> {
    events.iter().flat_map(|e| detector.process(e)).collect()
}

fn names(alerts: &[Alert]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        *m.entry(format!("{}/{}", a.rule.name, a.rule.level))
            .or_default() += 1;
    }
    m
}

const BAD: &str = "LOGIN_ERROR_INVALID_PASSWORD";
const OK: &str = "LOGIN_NO_ERROR";

#[test]
fn a_spray_without_a_success_is_a_spray_and_nothing_else() {
    let set = pack(Allowlist::default());
    let mut d = Detector::new(&set).unwrap();
    // Twelve users fail from one IP, 40 s apart: one spray alert (one per group and timespan).
    let spray: Vec<_> = (0..12)
        .map(|u| login(u, 40 * u as i64, u, "198.51.100.23", BAD))
        .collect();
    let alerts = run(&mut d, &spray);
    assert_eq!(
        names(&alerts),
        BTreeMap::from([("salesforce_password_spray/medium".to_string(), 1)])
    );
    let a = &alerts[0];
    assert_eq!(
        a.group.get("SOURCE_IP").map(String::as_str),
        Some("198.51.100.23")
    );
    assert_eq!(
        a.timestamp, spray[9].timestamp,
        "the tenth user completes it"
    );
    assert!(a.summary.contains("198.51.100.23"), "{}", a.summary);
    // Then one of them gets in from the same IP: the stuffing succeeded.
    let after = run(&mut d, &[login(99, 600, 3, "198.51.100.23", OK)]);
    assert_eq!(
        names(&after),
        BTreeMap::from([(
            "salesforce_credential_stuffing_success/critical".to_string(),
            1
        )])
    );
}

#[test]
fn ten_failures_of_one_user_then_a_success_is_a_brute_force_that_worked() {
    let set = pack(Allowlist::default());
    let mut d = Detector::new(&set).unwrap();
    // Nine failures in 20 minutes: nothing.
    let nine: Vec<_> = (0..9)
        .map(|i| login(i, 60 * i as i64, 7, "203.0.113.50", BAD))
        .collect();
    assert_eq!(run(&mut d, &nine), vec![]);
    let tenth = run(&mut d, &[login(9, 600, 7, "203.0.113.50", BAD)]);
    assert_eq!(
        names(&tenth),
        BTreeMap::from([("salesforce_brute_force/medium".to_string(), 1)])
    );
    assert_eq!(tenth[0].count, 10);
    assert_eq!(tenth[0].events.ids.len(), 10);
    assert_eq!(tenth[0].first_seen, nine[0].timestamp);
    let success = run(&mut d, &[login(10, 700, 7, "203.0.113.50", OK)]);
    assert_eq!(
        names(&success),
        BTreeMap::from([("salesforce_brute_force/high".to_string(), 1)])
    );
}

#[test]
fn a_restart_from_exported_state_raises_what_an_uninterrupted_run_raises() {
    let set = pack(Allowlist::default());
    let events: Vec<_> = (0..12)
        .map(|i| login(i, 60 * i as i64, 7, "203.0.113.50", BAD))
        .chain([login(12, 800, 7, "203.0.113.50", OK)])
        .collect();
    let whole = run(&mut Detector::new(&set).unwrap(), &events);
    for cut in 1..events.len() {
        let mut first = Detector::new(&set).unwrap();
        let mut alerts = run(&mut first, &events[..cut]);
        let state: DetectorState =
            serde_json::from_str(&serde_json::to_string(&first.state()).unwrap()).unwrap();
        let mut second = Detector::new(&set).unwrap();
        assert!(second.restore(state));
        alerts.extend(run(&mut second, &events[cut..]));
        assert_eq!(alerts, whole, "cut after {cut} events");
    }
    assert_eq!(whole.len(), 2);
}

#[test]
fn allowlisted_addresses_neither_alert_nor_count() {
    let list = Allowlist {
        cidrs: vec!["198.51.100.0/24".into()],
        ..Default::default()
    };
    let set = pack(list);
    let mut d = Detector::new(&set).unwrap();
    let spray: Vec<_> = (0..12)
        .map(|u| login(u, 40 * u as i64, u, "198.51.100.23", BAD))
        .collect();
    assert_eq!(run(&mut d, &spray), vec![]);
    let mut d = Detector::new(&set).unwrap();
    let other: Vec<_> = (0..12)
        .map(|u| login(u, 40 * u as i64, u, "192.0.2.9", BAD))
        .collect();
    assert_eq!(run(&mut d, &other).len(), 1);
}

#[test]
fn a_brute_force_that_worked_lists_the_failures_and_the_success() {
    let set = pack(Allowlist::default());
    let mut d = Detector::new(&set).unwrap();
    // The user's own success earlier in the window is not evidence of the attack.
    let mut events = vec![login(100, 0, 7, "198.51.100.9", OK)];
    events.extend((0..10).map(|i| login(i, 120 + 60 * i as i64, 7, "203.0.113.50", BAD)));
    events.push(login(10, 900, 7, "203.0.113.50", OK));
    let alerts = run(&mut d, &events);
    let high: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule.level == detections::Level::High)
        .collect();
    assert_eq!(high.len(), 1, "{alerts:#?}");
    let mut want: Vec<String> = (0..10).map(|i| format!("ev-{i}")).collect();
    want.push("ev-10".into());
    assert_eq!(high[0].events.ids, want);
    assert_eq!(high[0].first_seen, events[1].timestamp);
}

/// The number of correlation groups the state holds (windows of every rule and group).
fn groups(d: &mut Detector) -> usize {
    let state = serde_json::to_value(d.state()).unwrap();
    state["correlations"]["windows"]
        .as_object()
        .unwrap()
        .values()
        .map(|g| g.as_array().unwrap().len())
        .sum()
}

#[test]
fn windows_no_event_can_reach_are_dropped_as_time_moves_on() {
    let set = pack(Allowlist::default());
    let mut d = Detector::new(&set).unwrap();
    // A failed login from a new address every minute for 6 days: 8,640 addresses, each a
    // group of the spray and stuffing rules, none ever reaching its threshold (each from
    // another user, so no user is brute-forced either). rsigma alone keeps every one until
    // its cap of 100,000 groups; the sweep keeps what the 2 days of allowed lateness and the
    // rules' timespans can still reach.
    let minutes = 6 * 1_440usize;
    let mut held_after_first_day = 0;
    for i in 0..minutes {
        let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
        assert!(d.process(&login(i, 60 * i as i64, i, &ip, BAD)).is_empty());
        if i == 1_440 {
            held_after_first_day = groups(&mut d);
        }
    }
    let held = groups(&mut d);
    // A day of addresses is held in full at the first day's end (nothing is old enough yet);
    // after six days, about two days and a half of them, not six.
    assert!(held_after_first_day > 1_440, "{held_after_first_day}");
    let per_day = held_after_first_day as f64;
    assert!(
        (held as f64) < 3.5 * per_day,
        "{held} correlation groups held after 6 days ({held_after_first_day} after the first)"
    );
    assert!(
        (held as f64) > 1.5 * per_day,
        "{held}: the recent windows must stay"
    );
}

#[test]
fn a_dataset_hours_behind_another_keeps_its_windows() {
    let set = pack(Allowlist::default());
    let mut d = Detector::new(&set).unwrap();
    // Real-time LoginEvent objects run 60 hours ahead of the EventLogFile Login rows that
    // arrive later: the Login rows' windows must expire by the Login rows' own time.
    let ahead = |i: usize| {
        ArchiveEvent::new(
            T0 + 60 * 3_600 + 100 * i as i64,
            &format!("ev-ahead-{i}"),
            "00D000000000001AAA",
            "login_event",
            json!({"UserId": "0055j00000AT699", "Username": "x@acme.example.com",
                   "Status": "Success", "SourceIp": "192.0.2.1"})
            .as_object()
            .unwrap()
            .clone(),
        )
    };
    // Ten failures of one user, 100 s apart, interleaved with object events still ahead.
    let mut alerts = Vec::new();
    for i in 0..10usize {
        alerts.extend(d.process(&ahead(i)));
        alerts.extend(d.process(&login(i, 100 * i as i64, 7, "198.51.100.9", BAD)));
    }
    assert_eq!(
        names(&alerts).get("salesforce_brute_force/medium"),
        Some(&1),
        "{:?}",
        names(&alerts)
    );
}
