//! Attack scenarios: each planted attack is where `Org::planted` says, with the thresholds
//! its documentation promises; planting is deterministic and only adds.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub(super) type Row = BTreeMap<String, String>;

/// An org with every scenario, and what they planted.
pub(super) struct Truth {
    pub org: Org,
    pub planted: Vec<Planted>,
}

pub(super) fn with_all(spec: OrgSpec) -> Truth {
    let org = Org::generate_with(
        spec,
        &GenOptions {
            scenarios: Scenario::all(),
            ..Default::default()
        },
    );
    let planted = org.planted();
    Truth { org, planted }
}

pub(super) fn ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn elf_ms(v: &str) -> i64 {
    let t = NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M%S%.3f").expect("TIMESTAMP");
    t.and_utc().timestamp_millis()
}

impl Truth {
    pub fn get(&self, s: Scenario) -> &Planted {
        self.planted
            .iter()
            .find(|p| p.scenario == s)
            .expect("planted")
    }

    /// The scenario's rows of one type, from the daily files (each row once), by column name.
    pub fn elf(&self, s: Scenario, event_type: &str) -> Vec<Row> {
        let mut out: Vec<Row> = Vec::new();
        for (file, i) in &self.get(s).elf_rows {
            let f = self.org.file(file).expect("file");
            if f.event_type != event_type || f.interval != Interval::Daily {
                continue;
            }
            let cols = Org::columns(event_type);
            let row = self.org.rows(file).nth(*i as usize).expect("row");
            out.push(cols.iter().map(|c| c.to_string()).zip(row).collect());
        }
        out.sort_by_key(|r| elf_ms(&r["TIMESTAMP"]));
        out
    }

    /// The scenario's records of one object, in event order.
    pub fn recs(&self, s: Scenario, object: &str) -> Vec<&Record> {
        let keys: HashSet<&str> = self
            .get(s)
            .object_records
            .iter()
            .filter(|(o, _)| o == object)
            .map(|(_, k)| k.as_str())
            .collect();
        self.org
            .object_records(object)
            .iter()
            .map(|r| &r.record)
            .filter(|r| keys.contains(key_of(r).as_str()))
            .collect()
    }
}

pub(super) fn key_of(r: &Record) -> String {
    r.get("EventIdentifier")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| r.id.clone())
        .unwrap_or_default()
}

pub(super) fn text<'a>(r: &'a Record, f: &str) -> &'a str {
    r.get(f).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn time(r: &Record, f: &str) -> i64 {
    match r.get(f) {
        Some(Value::DateTime(t)) => t.timestamp_millis(),
        other => panic!("{f}: {other:?}"),
    }
}

pub(super) fn num(r: &Record, f: &str) -> f64 {
    match r.get(f) {
        Some(Value::Double(d)) => *d,
        Some(Value::Int(i)) => *i as f64,
        other => panic!("{f}: {other:?}"),
    }
}

#[test]
fn names_parse_and_hours_differ() {
    let all = Scenario::all();
    assert_eq!(all.len(), 14);
    let hours: BTreeSet<u32> = all.iter().map(|s| s.hour()).collect();
    assert_eq!(hours.len(), all.len());
    for s in &all {
        assert_eq!(Scenario::parse(s.name()), Some(*s));
        assert_eq!(s.name().parse::<Scenario>(), Ok(*s));
    }
    assert_eq!(Scenario::parse("Brute-Force"), Some(Scenario::BruteForce));
    assert_eq!(Scenario::parse("nope"), None);
    assert_eq!(Scenario::parse_list(&["all", "login_as"]).unwrap(), all);
    assert_eq!(
        Scenario::parse_list(&["mass_delete", "brute_force", "mass_delete"]).unwrap(),
        vec![Scenario::BruteForce, Scenario::MassDelete]
    );
    assert!(Scenario::parse_list(&["bogus"])
        .unwrap_err()
        .contains("brute_force"));
    let ips: BTreeSet<String> = all.iter().map(|s| s.attacker_ip(42)).collect();
    assert_eq!(ips.len(), all.len());
}

/// Every planted row and record exists where `planted` says, inside the scenario's hour of
/// the last full day, from the attacker's IP, naming only the scenario's users.
#[test]
fn planted_rows_and_records_are_where_planted_says() {
    let t = with_all(spec());
    assert_eq!(t.planted.len(), 14);
    let day = (spec().anchor.timestamp().div_euclid(86_400) - 1) * 86_400_000;
    for p in &t.planted {
        let hour = day + i64::from(p.scenario.hour()) * 3_600_000;
        let (a, b) = (ms(&p.start), ms(&p.end));
        assert!(
            hour <= a && a <= b && b < hour + 3_600_000,
            "{}",
            p.scenario
        );
        assert_eq!(p.source_ip, p.scenario.attacker_ip(42));
        assert_eq!(p.users[0], (p.user_id.clone(), p.username.clone()));
        let ids: HashSet<String> = p.users.iter().map(|(id, _)| id[..15].to_string()).collect();
        for (file, i) in &p.elf_rows {
            let f = t.org.file(file).expect("file");
            let cols = Org::columns(&f.event_type);
            let row = t.org.rows(file).nth(*i as usize).expect("row");
            let col = |n: &str| cols.iter().position(|c| *c == n).map(|j| row[j].as_str());
            let at = elf_ms(col("TIMESTAMP").unwrap());
            assert!(a <= at && at <= b, "{} {file} {i}", p.scenario);
            for ip in [col("CLIENT_IP"), col("SOURCE_IP")].into_iter().flatten() {
                assert!(ip == p.source_ip || p.scenario == Scenario::ImpossibleTravel);
            }
            if let Some(u) = col("USER_ID") {
                assert!(ids.contains(u), "{} {u}", p.scenario);
            }
        }
        for (object, key) in &p.object_records {
            let found = t
                .org
                .object_records(object)
                .iter()
                .any(|r| key_of(&r.record) == *key);
            assert!(found, "{} {object} {key}", p.scenario);
        }
    }
    // A row is in its hourly file and its daily file.
    let p = t.get(Scenario::BruteForce);
    let kinds: Vec<Interval> = p
        .elf_rows
        .iter()
        .map(|(f, _)| t.org.file(f).unwrap().interval)
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == Interval::Daily).count(), 15);
    assert_eq!(kinds.len(), 30);
}

fn fail(r: &Row) -> bool {
    r["LOGIN_STATUS"] == "LOGIN_ERROR_INVALID_PASSWORD"
}

#[test]
fn brute_force_crosses_its_threshold() {
    let t = with_all(spec());
    // brute_force: >= 12 failures of one user within 15 minutes, then a success.
    let rows = t.elf(Scenario::BruteForce, "Login");
    let fails: Vec<&Row> = rows.iter().filter(|r| fail(r)).collect();
    assert!(fails.len() >= 12);
    assert_eq!(
        fails
            .iter()
            .map(|r| &r["USER_ID"])
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
    let span = elf_ms(&fails.last().unwrap()["TIMESTAMP"]) - elf_ms(&fails[0]["TIMESTAMP"]);
    assert!(span <= 15 * 60_000);
    assert_eq!(rows.last().unwrap()["LOGIN_STATUS"], "LOGIN_NO_ERROR");
    let events = t.recs(Scenario::BruteForce, "LoginEvent");
    assert_eq!(
        events
            .iter()
            .filter(|r| text(r, "Status") == "Invalid Password")
            .count(),
        fails.len()
    );
    assert_eq!(text(events.last().unwrap(), "Status"), "Success");
    assert_eq!(
        t.recs(Scenario::BruteForce, "LoginHistory").len(),
        rows.len()
    );
}

#[test]
fn spray_and_stuffing_cross_their_thresholds() {
    let t = with_all(spec());
    // password_spray: one IP, failures for 12 distinct users within 8 minutes, no success.
    let rows = t.elf(Scenario::PasswordSpray, "Login");
    assert!(rows.iter().all(fail));
    assert_eq!(
        rows.iter()
            .map(|r| &r["USER_NAME"])
            .collect::<BTreeSet<_>>()
            .len(),
        12
    );
    assert_eq!(
        rows.iter()
            .map(|r| &r["SOURCE_IP"])
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
    let span = elf_ms(&rows.last().unwrap()["TIMESTAMP"]) - elf_ms(&rows[0]["TIMESTAMP"]);
    assert!(span <= 8 * 60_000);
    let events = t.recs(Scenario::PasswordSpray, "LoginEvent");
    assert_eq!(
        events
            .iter()
            .map(|r| text(r, "Username"))
            .collect::<BTreeSet<_>>()
            .len(),
        12
    );
    assert!(events
        .iter()
        .all(|r| text(r, "Status") == "Invalid Password"));
    assert_eq!(t.get(Scenario::PasswordSpray).users.len(), 12);

    // credential_stuffing: failures across 12 users, then a success for one of them.
    let p = t.get(Scenario::CredentialStuffing);
    let rows = t.elf(Scenario::CredentialStuffing, "Login");
    let (ok, bad): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| !fail(r));
    assert_eq!(
        bad.iter()
            .map(|r| &r["USER_NAME"])
            .collect::<BTreeSet<_>>()
            .len(),
        12
    );
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["USER_NAME"], p.username);
    assert!(bad.iter().any(|r| r["USER_NAME"] == p.username));
    let span = elf_ms(&bad.last().unwrap()["TIMESTAMP"]) - elf_ms(&bad[0]["TIMESTAMP"]);
    assert!(span <= 10 * 60_000);
    assert!(elf_ms(&ok[0]["TIMESTAMP"]) > elf_ms(&bad.last().unwrap()["TIMESTAMP"]));
    let events = t.recs(Scenario::CredentialStuffing, "LoginEvent");
    assert_eq!(
        events
            .iter()
            .filter(|r| text(r, "Status") == "Success")
            .count(),
        1
    );
    assert_eq!(
        events
            .iter()
            .map(|r| text(r, "SourceIp"))
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
}

#[test]
fn disabled_account_and_travel() {
    let t = with_all(spec());
    let p = t.get(Scenario::DisabledAccount);
    let user = t.org.users.iter().find(|u| u.id == p.user_id).unwrap();
    assert!(!user.is_active);
    assert_eq!(t.org.users.iter().filter(|u| !u.is_active).count(), 1);
    let rows = t.elf(Scenario::DisabledAccount, "Login");
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["LOGIN_STATUS"] == "LOGIN_ERROR_USER_INACTIVE"));
    let events = t.recs(Scenario::DisabledAccount, "LoginEvent");
    assert_eq!(events.len(), rows.len());
    assert!(events
        .iter()
        .all(|r| text(r, "Status") == "User is Inactive"));

    // impossible_travel: two successes of one user, two countries, 30 minutes apart.
    let events = t.recs(Scenario::ImpossibleTravel, "LoginEvent");
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|r| text(r, "Status") == "Success"));
    assert_eq!(text(events[0], "UserId"), text(events[1], "UserId"));
    assert_ne!(text(events[0], "CountryIso"), text(events[1], "CountryIso"));
    assert_eq!(
        time(events[1], "EventDate") - time(events[0], "EventDate"),
        30 * 60_000
    );
    let history = t.recs(Scenario::ImpossibleTravel, "LoginHistory");
    assert_ne!(
        text(history[0], "CountryIso"),
        text(history[1], "CountryIso")
    );

    // new_login_country: the country is new for a user with earlier logins from home.
    let p = t.get(Scenario::NewLoginCountry);
    let attack = t.recs(Scenario::NewLoginCountry, "LoginEvent");
    assert_eq!(attack.len(), 1);
    let earlier: BTreeSet<&str> = t
        .org
        .object_records("LoginEvent")
        .iter()
        .map(|r| &r.record)
        .filter(|r| text(r, "UserId") == p.user_id && text(r, "Status") == "Success")
        .filter(|r| time(r, "EventDate") < ms(&p.start))
        .map(|r| text(r, "CountryIso"))
        .collect();
    assert_eq!(earlier.len(), 1, "{earlier:?}");
    assert!(!earlier.contains(text(attack[0], "CountryIso")));
    assert_eq!(p.context_records.len(), 2 * (spec().days as usize - 1));
}
