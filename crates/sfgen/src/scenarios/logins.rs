//! Login attacks: each attempt is a Login event-log row and a LoginEvent with its
//! LoginHistory record, as Salesforce records every login in all three.

use super::elf::row;
use super::people::{inactive, targets};
use super::{Actor, Plant, Sc, Scenario};
use crate::objects::planted::{attack_geo, home_geo, login, LoginFacts};
use crate::objects::Geo;

/// How an attempt ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    BadPassword,
    Inactive,
}

impl Outcome {
    /// Login `LOGIN_STATUS`.
    fn code(self) -> &'static str {
        match self {
            Outcome::Success => "LOGIN_NO_ERROR",
            Outcome::BadPassword => "LOGIN_ERROR_INVALID_PASSWORD",
            Outcome::Inactive => "LOGIN_ERROR_USER_INACTIVE",
        }
    }
    /// LoginEvent and LoginHistory `Status`.
    fn status(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::BadPassword => "Invalid Password",
            Outcome::Inactive => "User is Inactive",
        }
    }
}

/// How the attempt was made.
#[derive(Clone, Copy)]
enum Via {
    /// The login page, by a script (python-requests).
    Script,
    /// The login page, in a browser.
    Browser,
}

/// Plants one attempt of `a` at `at_ms` from `geo`.
fn attempt(
    sc: &Sc<'_>,
    p: &mut Plant,
    a: &Actor,
    at_ms: i64,
    outcome: Outcome,
    via: Via,
    geo: &'static Geo,
) {
    let ok = outcome == Outcome::Success;
    let (agent, browser, platform) = match via {
        Via::Script => ("python-requests/2.31.0", "Unknown", "Unknown"),
        Via::Browser => (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
            "Chrome 125",
            "Windows 10",
        ),
    };
    let set = [
        ("URI", "/index.jsp".to_string()),
        ("LOGIN_TYPE", "A".to_string()),
        ("BROWSER_TYPE", agent.to_string()),
        ("API_TYPE", String::new()),
        ("API_VERSION", "9998.0".to_string()),
        ("LOGIN_SUB_TYPE", String::new()),
        ("AUTHENTICATION_METHOD_REFERENCE", String::new()),
        (
            "REQUEST_STATUS",
            if ok { "Success" } else { "Failed" }.to_string(),
        ),
        (
            "SESSION_KEY",
            if ok {
                a.session_key.clone()
            } else {
                String::new()
            },
        ),
        ("LOGIN_STATUS", outcome.code().to_string()),
    ];
    let r = row(sc, &mut p.rng, "Login", at_ms, a, &set);
    p.elf(r);
    let login_url = format!("{}.my.salesforce.com", sc.org.slug);
    let facts = LoginFacts {
        status: outcome.status(),
        login_type: "Application",
        sub_type: None,
        application: "Browser",
        browser,
        platform,
        geo,
        login_url: &login_url,
    };
    let [event, history] = login(&mut p.rng, at_ms, &a.event_user(sc), &facts);
    p.object("LoginEvent", event);
    p.object("LoginHistory", history);
}

/// Fourteen wrong passwords for one account in thirteen minutes, then the right one, all
/// from the attacker's IP by a script.
pub(crate) fn brute_force(sc: &Sc<'_>) -> Plant {
    let s = Scenario::BruteForce;
    let victim = sc.regular[0];
    let mut p = Plant::new(sc, s, victim, None);
    let ip = p.planted.source_ip.clone();
    let geo = attack_geo(0);
    for i in 0..14 {
        let a = p.actor(victim, &ip);
        let jitter = p.rng.below(900) as i64;
        attempt(
            sc,
            &mut p,
            &a,
            sc.at(s, 10 + i, 0, jitter),
            Outcome::BadPassword,
            Via::Script,
            geo,
        );
    }
    let a = p.actor(victim, &ip);
    attempt(
        sc,
        &mut p,
        &a,
        sc.at(s, 23, 45, 120),
        Outcome::Success,
        Via::Script,
        geo,
    );
    p
}

/// One wrong password for each of twelve accounts, 35 seconds apart (6.5 minutes), from
/// one IP; no success.
pub(crate) fn password_spray(sc: &Sc<'_>) -> Plant {
    let s = Scenario::PasswordSpray;
    let victims = targets(&sc.people, sc.seed, s.name(), 12);
    let mut p = Plant::new(sc, s, victims[0], None);
    let ip = p.planted.source_ip.clone();
    for (i, &v) in victims.iter().enumerate() {
        p.involve(sc, v);
        let a = p.actor(v, &ip);
        let jitter = p.rng.below(900) as i64;
        let at = sc.at(s, 10, 35 * i as i64, jitter);
        attempt(
            sc,
            &mut p,
            &a,
            at,
            Outcome::BadPassword,
            Via::Script,
            attack_geo(1),
        );
    }
    p
}

/// Wrong passwords for twelve accounts, 40 seconds apart (7.5 minutes), from one IP, then a
/// success for one of them (the stuffed credentials that worked) a minute later.
pub(crate) fn credential_stuffing(sc: &Sc<'_>) -> Plant {
    let s = Scenario::CredentialStuffing;
    let victims = targets(&sc.people, sc.seed, s.name(), 12);
    // The account that falls is one only scenarios use, so no other scenario's user gains a
    // login from the stuffing's country.
    let extra = |v: &&usize| sc.people.len() - **v <= 8;
    let hit = *victims.iter().find(extra).unwrap_or(&victims[0]);
    let mut p = Plant::new(sc, s, hit, None);
    let ip = p.planted.source_ip.clone();
    for (i, &v) in victims.iter().enumerate() {
        p.involve(sc, v);
        let a = p.actor(v, &ip);
        let jitter = p.rng.below(900) as i64;
        let at = sc.at(s, 10, 40 * i as i64, jitter);
        attempt(
            sc,
            &mut p,
            &a,
            at,
            Outcome::BadPassword,
            Via::Script,
            attack_geo(2),
        );
    }
    let a = p.actor(hit, &ip);
    attempt(
        sc,
        &mut p,
        &a,
        sc.at(s, 18, 30, 0),
        Outcome::Success,
        Via::Script,
        attack_geo(2),
    );
    p
}

/// Three attempts, 90 seconds apart, to log in as the deactivated account (a former
/// employee's saved password, or someone who bought it).
pub(crate) fn disabled_account(sc: &Sc<'_>) -> Plant {
    let s = Scenario::DisabledAccount;
    let user = inactive(&sc.people);
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    for i in 0..3 {
        let a = p.actor(user, &ip);
        let at = sc.at(s, 10, 90 * i, 250);
        attempt(
            sc,
            &mut p,
            &a,
            at,
            Outcome::Inactive,
            Via::Browser,
            attack_geo(3),
        );
    }
    p
}

/// A successful login from the user's home, then 30 minutes later one from another
/// continent (the attacker's IP). Only LoginEvent and LoginHistory carry the country; the
/// Login event-log rows are planted too, as Salesforce writes them.
pub(crate) fn impossible_travel(sc: &Sc<'_>) -> Plant {
    let s = Scenario::ImpossibleTravel;
    let user = sc.regular[1];
    let mut p = Plant::new(sc, s, user, None);
    let home = sc.people[user].ip_string();
    let a = p.actor(user, &home);
    let geo = home_geo(sc.people[user].ip);
    attempt(
        sc,
        &mut p,
        &a,
        sc.at(s, 10, 0, 310),
        Outcome::Success,
        Via::Browser,
        geo,
    );
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    attempt(
        sc,
        &mut p,
        &a,
        sc.at(s, 40, 0, 310),
        Outcome::Success,
        Via::Browser,
        attack_geo(0),
    );
    p
}

/// A user who logged in from home every day logs in from a country they never used. The
/// earlier daily logins (one each earlier day, same hour, home IP) are context records, so
/// the scenario holds even in an org without background records.
pub(crate) fn new_login_country(sc: &Sc<'_>) -> Plant {
    let s = Scenario::NewLoginCountry;
    let user = sc.regular[2];
    let mut p = Plant::new(sc, s, user, None);
    let home = sc.people[user].ip_string();
    let geo = home_geo(sc.people[user].ip);
    let login_url = format!("{}.my.salesforce.com", sc.org.slug);
    let mut day = sc.first_day * 1000;
    while day < sc.day_ms {
        let a = p.actor(user, &home);
        let facts = LoginFacts {
            status: "Success",
            login_type: "Application",
            sub_type: None,
            application: "Browser",
            browser: "Chrome 125",
            platform: "Windows 10",
            geo,
            login_url: &login_url,
        };
        let at = day + i64::from(s.hour()) * 3_600_000 + 600_000;
        let [event, history] = login(&mut p.rng, at, &a.event_user(sc), &facts);
        p.context("LoginEvent", event);
        p.context("LoginHistory", history);
        day += 86_400_000;
    }
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    attempt(
        sc,
        &mut p,
        &a,
        sc.at(s, 10, 0, 520),
        Outcome::Success,
        Via::Browser,
        attack_geo(3),
    );
    p
}
