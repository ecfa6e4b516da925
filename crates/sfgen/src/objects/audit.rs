//! SetupAuditTrail's records: what admins change in Setup, hour by hour.

use super::*;

/// (Action, Section, Display template; `{user}`, `{ps}` and `{app}` are filled in).
const SETUP_ACTIONS: &[(&str, &str, &str)] = &[
    (
        "PermSetCreate",
        "Manage Users",
        "Created permission set {ps}: with user license Salesforce",
    ),
    (
        "PermSetAssign",
        "Manage Users",
        "Permission set {ps}: assigned to user {user}",
    ),
    (
        "PermSetEnableUserPerm",
        "Manage Users",
        "Permission set {ps}: system permission View Real-Time Event Monitoring Data was enabled",
    ),
    (
        "insertConnectedApplication",
        "Connected Apps",
        "Created Connected App {app}",
    ),
    (
        "updateConnectedApplication",
        "Connected Apps",
        "Updated Connected App {app}: changed \"Permitted Users\" to \"Admin approved users are pre-authorized\"",
    ),
    (
        "changedUserEmailVerifiedStatusVerified",
        "Manage Users",
        "For user {user}, the User Verified Email status changed to verified",
    ),
    ("createduser", "Manage Users", "Created new user {user}"),
    ("deactivateduser", "Manage Users", "Deactivated user {user}"),
    (
        "changedprofileforuser",
        "Manage Users",
        "Changed profile for user {user} from Standard User to System Administrator",
    ),
    (
        "changedsessiontimeout",
        "Session Settings",
        "Changed session timeout from 2 hours to 12 hours",
    ),
    (
        "changedApexClassCode",
        "Apex Class",
        "Changed Apex Class code: EventMonitoringHandler",
    ),
];

/// SetupAuditTrail records of one hour: 0 to 4, about half the hours with 2 or 3 sharing
/// one CreatedDate second; or, with `per_hour`, MIN to MAX of them spread over the hour (one
/// at a random second of each equal slice of it).
pub(super) fn audit_block(
    g: &mut Gen<'_>,
    used: &mut HashSet<u64>,
    per_hour: Option<(u32, u32)>,
) -> Vec<ObjectRecord> {
    let mut seconds: Vec<i64> = Vec::new();
    if let Some((lo, hi)) = per_hour {
        let (lo, hi) = (u64::from(lo.min(hi)), u64::from(lo.max(hi)));
        let n = lo + g.rng.below(hi - lo + 1);
        for i in 0..n {
            let from = i * HOUR as u64 / n;
            let to = (i + 1) * HOUR as u64 / n;
            seconds.push((from + g.rng.below((to - from).max(1))) as i64);
        }
    } else if g.rng.permille(500) {
        let tied = 2 + g.rng.below(2);
        let sec = g.rng.below(3600) as i64;
        seconds.extend(std::iter::repeat_n(sec, tied as usize));
        for _ in 0..g.rng.below(2) {
            seconds.push(g.rng.below(3600) as i64);
        }
    } else {
        for _ in 0..g.rng.below(3) {
            seconds.push(g.rng.below(3600) as i64);
        }
    }
    let mut out = Vec::new();
    for sec in seconds {
        let created = DateTime::<Utc>::from_timestamp(g.hour + sec, 0).unwrap_or_default();
        let mut n = g.rng.below(REC_SPACE);
        while !used.insert(n) {
            n = (n + 1) % REC_SPACE;
        }
        let id = ids::id18(&make_id15("0Ym", n));
        let (action, section, display) = g.pick(SETUP_ACTIONS);
        let by = g.user(150);
        let subject = 1 + g.rng.below(g.users.len().saturating_sub(1).max(1) as u64) as usize;
        let subject = &g.users[subject.min(g.users.len().saturating_sub(1))];
        let ps = g.pick(&["Event Monitoring Viewers", "API Integration", "Sales Ops"]);
        let app = g.pick(&["sfevents", "Elastic Agent", "Salesforce CLI"]);
        let display = display
            .replace("{user}", &subject.username)
            .replace("{ps}", ps)
            .replace("{app}", app);
        let delegate = if g.rng.permille(80) {
            s(g.users[by].username.clone())
        } else {
            Value::Null
        };
        let context = if g.rng.permille(60) {
            s("Einstein")
        } else {
            Value::Null
        };
        let ns = if action == "changedApexClassCode" && g.rng.permille(300) {
            s("evtmon")
        } else {
            Value::Null
        };
        let u = &g.users[by];
        let created_by = Record::new("User", Some(u.id.clone()))
            .with("Id", s(u.id.clone()))
            .with("Username", s(u.username.clone()))
            .with("Name", s(u.name.clone()));
        let vals = vec![
            ("Id", s(id.clone())),
            ("Action", s(action)),
            ("Section", s(section)),
            ("CreatedDate", Value::DateTime(created)),
            ("CreatedById", s(u.id.clone())),
            ("Display", s(display)),
            ("DelegateUser", delegate),
            ("ResponsibleNamespacePrefix", ns),
            ("CreatedByContext", context),
            ("CreatedByIssuer", Value::Null),
        ];
        out.push(ObjectRecord {
            record: build(
                "SetupAuditTrail",
                &id,
                vals,
                vec![("CreatedBy", Value::Record(Box::new(created_by)))],
            ),
            visible_at: created,
        });
    }
    out
}
