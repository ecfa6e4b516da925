//! The people scenarios involve: the org's users, plus accounts only scenarios touch. A spray
//! needs more accounts than the org's seven regular users, and a login to a deactivated
//! account needs one, so an org with scenarios has eight more users (the last inactive).
//! They never act in background rows, which keeps background data the same with or without
//! scenarios.

use std::collections::HashSet;

use crate::ids::{self, digest_u64, make_id15};
use crate::rows::{OrgCtx, Rng};
use crate::User;

/// 62^7.
const REC_SPACE: u64 = 3_521_614_606_208;

/// Accounts only scenarios involve; the last is deactivated.
const EXTRA: &[(&str, &str)] = &[
    ("Isabella", "Lopez"),
    ("Mateo", "Silva"),
    ("Chloe", "Dubois"),
    ("Omar", "Haddad"),
    ("Anna", "Kowalski"),
    ("Lars", "Nilsson"),
    ("Grace", "Okafor"),
    ("Diego", "Ramos"),
];

/// A user as events need them.
pub(crate) struct Person {
    pub id15: String,
    pub id18: String,
    pub username: String,
    pub name: String,
    /// Where their own logins come from.
    pub ip: [u8; 4],
    pub active: bool,
}

impl Person {
    pub fn user(&self) -> User {
        User {
            id: self.id18.clone(),
            username: self.username.clone(),
            name: self.name.clone(),
            is_active: self.active,
        }
    }

    pub fn ip_string(&self) -> String {
        let [a, b, c, d] = self.ip;
        format!("{a}.{b}.{c}.{d}")
    }
}

/// The org's users then the extra accounts, and the extras as users.
pub(crate) fn people(seed: u64, ctx: &OrgCtx, users: &[User]) -> (Vec<Person>, Vec<User>) {
    let mut people: Vec<Person> = users
        .iter()
        .zip(&ctx.users)
        .map(|(u, c)| Person {
            id15: c.id15.clone(),
            id18: u.id.clone(),
            username: u.username.clone(),
            name: u.name.clone(),
            ip: c.ip,
            active: u.is_active,
        })
        .collect();
    let domain = users
        .first()
        .and_then(|u| u.username.split_once('@'))
        .map_or("example.com", |(_, d)| d)
        .to_string();
    let mut taken: HashSet<String> = people.iter().map(|p| p.id15.clone()).collect();
    let mut rng = Rng::from_parts(&[b"sfgen-scenario-users", &seed.to_le_bytes()]);
    let mut extra = Vec::new();
    for (i, (first, last)) in EXTRA.iter().enumerate() {
        let mut n = digest_u64(&[
            b"sfgen-scenario-user",
            &seed.to_le_bytes(),
            first.as_bytes(),
        ]);
        let id15 = loop {
            let id = make_id15("005", n % REC_SPACE);
            if taken.insert(id.clone()) {
                break id;
            }
            n = n.wrapping_add(1);
        };
        let b = rng.u64().to_le_bytes();
        let p = Person {
            id18: ids::id18(&id15),
            id15,
            username: format!(
                "{}.{}@{domain}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            ),
            name: format!("{first} {last}"),
            ip: [
                [73, 88, 96, 121, 142][(b[0] % 5) as usize],
                b[1],
                b[2],
                b[3].max(1),
            ],
            active: i + 1 < EXTRA.len(),
        };
        extra.push(p.user());
        people.push(p);
    }
    (people, extra)
}

/// The regular users' indices (1 to `n - 1`), shuffled by the seed.
pub(crate) fn shuffled_regular(seed: u64, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (1..n).collect();
    let mut rng = Rng::from_parts(&[b"sfgen-scenario-actors", &seed.to_le_bytes()]);
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// `k` distinct active accounts other than the integration user, chosen by `salt`: the
/// targets of a spray.
pub(crate) fn targets(people: &[Person], seed: u64, salt: &str, k: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (1..people.len()).filter(|&i| people[i].active).collect();
    let mut rng = Rng::from_parts(&[
        b"sfgen-scenario-targets",
        &seed.to_le_bytes(),
        salt.as_bytes(),
    ]);
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v.truncate(k);
    v
}

/// The deactivated extra account.
pub(crate) fn inactive(people: &[Person]) -> usize {
    people
        .iter()
        .rposition(|p| !p.active)
        .unwrap_or(people.len() - 1)
}
