//! The org's users: names, usernames and what rows need of them.

use super::*;

pub(crate) const PEOPLE: &[(&str, &str)] = &[
    ("Jane", "Doe"),
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("Wei", "Chen"),
    ("Priya", "Patel"),
    ("Ahmed", "Khan"),
    ("Olivia", "Brown"),
    ("Lucas", "Martin"),
    ("Sofia", "Rossi"),
    ("Kenji", "Tanaka"),
    ("Emma", "Wilson"),
    ("Noah", "Johnson"),
];

pub(crate) fn make_users(rng: &mut Rng, domain: &str) -> (Vec<User>, Vec<UserCtx>) {
    let mut people: Vec<(&str, &str)> = PEOPLE.to_vec();
    // Fisher-Yates with the org's generator.
    for i in (1..people.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        people.swap(i, j);
    }
    let mut seen = HashSet::new();
    let mut users = Vec::new();
    let mut ctxs = Vec::new();
    for i in 0..USER_COUNT {
        let (username, name) = if i == 0 {
            (
                format!("integration@{domain}"),
                "Integration User".to_string(),
            )
        } else {
            let (first, last) = people[(i - 1) % people.len()];
            (
                format!(
                    "{}.{}@{domain}",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase()
                ),
                format!("{first} {last}"),
            )
        };
        let mut n = rng.below(REC_SPACE);
        while !seen.insert(n) {
            n = (n + 1) % REC_SPACE;
        }
        let id15 = make_id15("005", n);
        let id18 = ids::id18(&id15);
        let b = rng.u64().to_le_bytes();
        let ip = [
            [73, 88, 96, 121, 142, 185, 203][(b[0] % 7) as usize],
            b[1],
            b[2],
            b[3].max(1),
        ];
        users.push(User {
            id: id18.clone(),
            username: username.clone(),
            name,
            is_active: true,
        });
        ctxs.push(UserCtx {
            id15,
            id18,
            username,
            ip,
        });
    }
    (users, ctxs)
}
