//! Attack scenarios: each plants one attack's events into the generated org, in EventLogFile
//! rows and in the objects (Real-Time Event Monitoring, Threat Detection stores,
//! SetupAuditTrail, LoginHistory) where Salesforce records that kind of activity. They are the
//! ground truth of the detections' tests: [`crate::Org::planted`] says, from the generator
//! alone, which users, IPs and apps each attack involves and which rows and records are its.
//!
//! Every scenario happens on the org's last full day (the day before the anchor's), in an
//! hour of its own ([`Scenario::hour`]), from an attacker IP no generated user or background
//! row ever has (first octet 45, 91, 102, 146, 176 or 194; third octet 16 + the scenario's
//! index). Everything is drawn from the spec's seed and the scenario's name, so the same spec
//! and scenarios give the same bytes, and a scenario's events do not depend on which other
//! scenarios were asked for.

mod admin;
mod data;
pub(crate) mod elf;
mod logins;
mod people;

use std::fmt;

use chrono::{DateTime, Utc};
use soql::Value;

use crate::ids::digest_u64;
use crate::objects::planted::EventUser;
use crate::objects::ObjectRecord;
use crate::rows::{OrgCtx, Rng};
use crate::{OrgSpec, User};

pub(crate) use self::elf::ElfPlant;
use self::people::Person;

/// An attack the generator can plant (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    BruteForce,
    PasswordSpray,
    CredentialStuffing,
    DisabledAccount,
    ImpossibleTravel,
    NewLoginCountry,
    NewDataLoaderApp,
    PrivilegedPermissionSet,
    LoginAs,
    MassFileDownload,
    SecretHuntingQuery,
    MassDelete,
    ThreatDetection,
    TransactionSecurityBlock,
}

const ALL: [(Scenario, &str); 14] = [
    (Scenario::BruteForce, "brute_force"),
    (Scenario::PasswordSpray, "password_spray"),
    (Scenario::CredentialStuffing, "credential_stuffing"),
    (Scenario::DisabledAccount, "disabled_account"),
    (Scenario::ImpossibleTravel, "impossible_travel"),
    (Scenario::NewLoginCountry, "new_login_country"),
    (Scenario::NewDataLoaderApp, "new_data_loader_app"),
    (
        Scenario::PrivilegedPermissionSet,
        "privileged_permission_set",
    ),
    (Scenario::LoginAs, "login_as"),
    (Scenario::MassFileDownload, "mass_file_download"),
    (Scenario::SecretHuntingQuery, "secret_hunting_query"),
    (Scenario::MassDelete, "mass_delete"),
    (Scenario::ThreatDetection, "threat_detection"),
    (
        Scenario::TransactionSecurityBlock,
        "transaction_security_block",
    ),
];

impl Scenario {
    /// Every scenario, in [`Scenario::hour`] order.
    pub fn all() -> Vec<Scenario> {
        ALL.iter().map(|(s, _)| *s).collect()
    }

    /// The scenario's name (`brute_force`, ...).
    pub fn name(self) -> &'static str {
        ALL[self.index()].1
    }

    /// A scenario by name, in any case, `-` or `_` between words.
    pub fn parse(name: &str) -> Option<Scenario> {
        let n = name.trim().replace('-', "_");
        ALL.iter()
            .find(|(_, m)| m.eq_ignore_ascii_case(&n))
            .map(|(s, _)| *s)
    }

    /// Scenarios by name, `all` meaning every one; sorted, each once.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Scenario>, String> {
        let mut out = Vec::new();
        for n in names {
            let n = n.as_ref();
            if n.trim().eq_ignore_ascii_case("all") {
                out.extend(Scenario::all());
                continue;
            }
            let s = Scenario::parse(n).ok_or_else(|| {
                let known: Vec<&str> = ALL.iter().map(|(_, m)| *m).collect();
                format!(
                    "unknown scenario {n:?}: use all or one of {}",
                    known.join(", ")
                )
            })?;
            out.push(s);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn index(self) -> usize {
        ALL.iter().position(|(s, _)| *s == self).unwrap_or(0)
    }

    /// The UTC hour of the last full day the scenario's events fall in (1 for brute_force,
    /// 2 for password_spray, ... 14 for transaction_security_block), so scenarios never
    /// share an hour and each hour file holds one attack at most.
    pub fn hour(self) -> u32 {
        self.index() as u32 + 1
    }

    /// The attacker's IP: dedicated to this scenario and seed (see the module documentation).
    pub fn attacker_ip(self, seed: u64) -> String {
        let d = digest_u64(&[
            b"sfgen-attacker-ip",
            &seed.to_le_bytes(),
            self.name().as_bytes(),
        ]);
        let first = [45u8, 91, 102, 146, 176, 194][(d % 6) as usize];
        let second = (d >> 8) as u8;
        let fourth = 1 + ((d >> 16) % 254) as u8;
        format!("{first}.{second}.{}.{fourth}", 16 + self.index())
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::parse(s).ok_or_else(|| format!("unknown scenario {s:?}"))
    }
}

/// What one scenario planted: the ground truth of one attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    pub scenario: Scenario,
    /// The account that acted, as 18-character id and username: the attacked account
    /// (brute_force, impossible_travel, ...; the one that ends compromised in
    /// credential_stuffing, the first sprayed in password_spray), the admin (login_as,
    /// privileged_permission_set), or the user whose session did it.
    pub user_id: String,
    pub username: String,
    /// Every account the attack's events name, `user_id` first (18-character id, username):
    /// the sprayed accounts, the login_as target, the permission set's grantee.
    pub users: Vec<(String, String)>,
    /// The attacker's IP ([`Scenario::attacker_ip`]); SetupAuditTrail records carry none.
    pub source_ip: String,
    /// The connected app the attack used (new_data_loader_app).
    pub app: Option<String>,
    /// The first and last attack event (event times, not storage times).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Every EventLogFile row of the attack as (file id, row index): the row's place among
    /// [`crate::Org::rows`] of that file (0 = first data row). A row appears in its hourly
    /// file and in its day's daily file. Files not yet created at the anchor are included
    /// (check [`crate::LogFileMeta::created_date`]).
    pub elf_rows: Vec<(String, u64)>,
    /// Every object record of the attack as (object, key): EventIdentifier where the object
    /// has one, else Id (SetupAuditTrail, LoginHistory).
    pub object_records: Vec<(String, String)>,
    /// Records that are not the attack but give it meaning, keyed the same way:
    /// new_login_country's earlier logins from the user's home country.
    pub context_records: Vec<(String, String)>,
}

/// What all asked scenarios add to an org.
#[derive(Default)]
pub(crate) struct Output {
    pub elf: Vec<ElfPlant>,
    pub objects: Vec<(&'static str, ObjectRecord)>,
    pub planted: Vec<Planted>,
    /// Users only scenarios involve (appended to the org's users).
    pub extra_users: Vec<User>,
}

/// What every scenario draws on.
pub(crate) struct Sc<'a> {
    pub seed: u64,
    pub org: &'a OrgCtx,
    /// The org's users then the extra ones, with what events need of them.
    pub people: Vec<Person>,
    /// The regular users (not the integration user, not the extras), shuffled by the seed:
    /// scenarios take their actors from it by position.
    pub regular: Vec<usize>,
    /// Start of the last full day, ms.
    pub day_ms: i64,
    /// Start of the org's first day, seconds.
    pub first_day: i64,
}

impl Sc<'_> {
    /// Epoch ms of `minute:second.ms` in the scenario's hour of the last full day.
    pub fn at(&self, s: Scenario, minute: i64, second: i64, ms: i64) -> i64 {
        self.day_ms + i64::from(s.hour()) * 3_600_000 + minute * 60_000 + second * 1000 + ms
    }

    /// The user record of a person (for SetupAuditTrail's CreatedBy).
    pub fn user(&self, i: usize) -> User {
        self.people[i].user()
    }
}

/// A scenario's events as they are built.
pub(crate) struct Plant {
    pub planted: Planted,
    pub elf: Vec<ElfPlant>,
    pub objects: Vec<(&'static str, ObjectRecord)>,
    pub rng: Rng,
    span: Option<(i64, i64)>,
}

/// A person acting in a scenario: who, from where, with which session.
pub(crate) struct Actor {
    pub person: usize,
    pub ip: String,
    pub login_key: String,
    pub session_key: String,
}

impl Plant {
    fn new(sc: &Sc<'_>, scenario: Scenario, actor: usize, app: Option<&str>) -> Plant {
        let p = &sc.people[actor];
        Plant {
            planted: Planted {
                scenario,
                user_id: p.id18.clone(),
                username: p.username.clone(),
                users: vec![(p.id18.clone(), p.username.clone())],
                source_ip: scenario.attacker_ip(sc.seed),
                app: app.map(str::to_string),
                start: DateTime::<Utc>::default(),
                end: DateTime::<Utc>::default(),
                elf_rows: Vec::new(),
                object_records: Vec::new(),
                context_records: Vec::new(),
            },
            elf: Vec::new(),
            objects: Vec::new(),
            rng: Rng::from_parts(&[
                b"sfgen-scenario",
                &sc.seed.to_le_bytes(),
                scenario.name().as_bytes(),
            ]),
            span: None,
        }
    }

    /// Names another account the attack involves.
    fn involve(&mut self, sc: &Sc<'_>, person: usize) {
        let p = &sc.people[person];
        let entry = (p.id18.clone(), p.username.clone());
        if !self.planted.users.contains(&entry) {
            self.planted.users.push(entry);
        }
    }

    /// An actor with a fresh session, from `ip`.
    fn actor(&mut self, person: usize, ip: &str) -> Actor {
        let mut token = || {
            (0..16)
                .map(|_| crate::ids::BASE62[self.rng.below(62) as usize] as char)
                .collect::<String>()
        };
        let login_key = token();
        let session_key = token();
        Actor {
            person,
            ip: ip.to_string(),
            login_key,
            session_key,
        }
    }

    fn widen(&mut self, ms: i64) {
        self.span = Some(match self.span {
            Some((a, b)) => (a.min(ms), b.max(ms)),
            None => (ms, ms),
        });
    }

    fn elf(&mut self, row: ElfPlant) {
        self.widen(row.at_ms);
        self.elf.push(row);
    }

    /// An attack record. Its event time widens the attack's span (LoginHistory rows follow
    /// their LoginEvent, so they do not).
    fn object(&mut self, object: &'static str, rec: ObjectRecord) {
        let field = if object == "SetupAuditTrail" {
            "CreatedDate"
        } else {
            "EventDate"
        };
        if let Some(Value::DateTime(t)) = rec.record.get(field) {
            self.widen(t.timestamp_millis());
        }
        self.planted
            .object_records
            .push((object.to_string(), key(&rec)));
        self.objects.push((object, rec));
    }

    /// A record beside the attack ([`Planted::context_records`]).
    fn context(&mut self, object: &'static str, rec: ObjectRecord) {
        self.planted
            .context_records
            .push((object.to_string(), key(&rec)));
        self.objects.push((object, rec));
    }

    fn finish(mut self) -> Plant {
        let (a, b) = self.span.unwrap_or_default();
        self.planted.start = DateTime::from_timestamp_millis(a).unwrap_or_default();
        self.planted.end = DateTime::from_timestamp_millis(b).unwrap_or_default();
        self
    }
}

impl Actor {
    pub fn event_user<'a>(&'a self, sc: &'a Sc<'_>) -> EventUser<'a> {
        let p = &sc.people[self.person];
        EventUser {
            id18: &p.id18,
            username: &p.username,
            login_key: &self.login_key,
            session_key: &self.session_key,
            ip: &self.ip,
        }
    }
}

/// The key a test finds a record by: EventIdentifier, else Id.
fn key(rec: &ObjectRecord) -> String {
    rec.record
        .get("EventIdentifier")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| rec.record.id.clone())
        .unwrap_or_default()
}

/// Plants the asked scenarios. Nothing when none is asked, the org has no full day, or it
/// has too few users.
pub(crate) fn generate(
    spec: &OrgSpec,
    scenarios: &[Scenario],
    ctx: &OrgCtx,
    users: &[User],
    start: i64,
) -> Output {
    let mut out = Output::default();
    let mut list = scenarios.to_vec();
    list.sort();
    list.dedup();
    if list.is_empty() || spec.days == 0 || users.len() < 8 || ctx.users.len() != users.len() {
        return out;
    }
    let (people, extra_users) = people::people(spec.seed, ctx, users);
    let regular = people::shuffled_regular(spec.seed, users.len());
    let day = spec.anchor.timestamp().div_euclid(86_400) * 86_400 - 86_400;
    let sc = Sc {
        seed: spec.seed,
        org: ctx,
        people,
        regular,
        day_ms: day * 1000,
        first_day: start,
    };
    for (tag, s) in list.into_iter().enumerate() {
        let plant = run(&sc, s).finish();
        out.elf.extend(plant.elf.into_iter().map(|mut e| {
            e.tag = tag;
            e
        }));
        out.objects.extend(plant.objects);
        out.planted.push(plant.planted);
    }
    out.extra_users = extra_users;
    out
}

fn run(sc: &Sc<'_>, s: Scenario) -> Plant {
    match s {
        Scenario::BruteForce => logins::brute_force(sc),
        Scenario::PasswordSpray => logins::password_spray(sc),
        Scenario::CredentialStuffing => logins::credential_stuffing(sc),
        Scenario::DisabledAccount => logins::disabled_account(sc),
        Scenario::ImpossibleTravel => logins::impossible_travel(sc),
        Scenario::NewLoginCountry => logins::new_login_country(sc),
        Scenario::NewDataLoaderApp => data::new_data_loader_app(sc),
        Scenario::PrivilegedPermissionSet => admin::privileged_permission_set(sc),
        Scenario::LoginAs => admin::login_as(sc),
        Scenario::MassFileDownload => data::mass_file_download(sc),
        Scenario::SecretHuntingQuery => data::secret_hunting_query(sc),
        Scenario::MassDelete => data::mass_delete(sc),
        Scenario::ThreatDetection => admin::threat_detection(sc),
        Scenario::TransactionSecurityBlock => data::transaction_security_block(sc),
    }
}
