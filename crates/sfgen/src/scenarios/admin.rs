//! Admin-side attacks and Salesforce's own detections: a permission set with Modify All
//! Data granted, an admin logging in as a user, and one record of each Threat Detection
//! store.

use soql::Value;

use super::elf::{id15, row};
use super::{Plant, Sc, Scenario};
use crate::ids;
use crate::objects::planted::{audit, rtem_event, threat_event};
use crate::User;

fn v(x: impl ToString) -> String {
    x.to_string()
}

/// A Manage Users record of SetupAuditTrail at `at` (seconds) by `by`.
fn manage_users(
    p: &mut Plant,
    at: i64,
    by: &User,
    action: &str,
    display: &str,
    delegate: Option<&str>,
) {
    let n = p.rng.u64();
    let rec = audit(n, at, by, action, "Manage Users", display, delegate);
    p.object("SetupAuditTrail", rec);
}

/// An admin creates a permission set, enables Modify All Data in it, and assigns it to a
/// user, 40 seconds apart: three SetupAuditTrail records (PermSetCreate,
/// PermSetEnableUserPerm, PermSetAssign). SetupAuditTrail has no IP.
pub(crate) fn privileged_permission_set(sc: &Sc<'_>) -> Plant {
    let s = Scenario::PrivilegedPermissionSet;
    let (admin, grantee) = (sc.regular[4], sc.regular[5]);
    let mut p = Plant::new(sc, s, admin, None);
    p.involve(sc, grantee);
    let by = sc.user(admin);
    let ps = "Support Tools";
    let grantee_name = &sc.people[grantee].username;
    let steps = [
        (
            "PermSetCreate",
            format!("Created permission set {ps}: with user license Salesforce"),
        ),
        (
            "PermSetEnableUserPerm",
            format!("Permission set {ps}: system permission Modify All Data was enabled"),
        ),
        (
            "PermSetAssign",
            format!("Permission set {ps}: assigned to user {grantee_name}"),
        ),
    ];
    for (i, (action, display)) in steps.iter().enumerate() {
        let at = sc.at(s, 10, 40 * i as i64, 0) / 1000;
        manage_users(&mut p, at, &by, action, display, None);
    }
    p
}

/// An admin (from the attacker's IP) logs in as another user, changes a setting as them, and
/// logs out: a LoginAs row and a LoginAsEvent (USER_ID / UserId the target,
/// DELEGATED_USER_* / DelegatedUsername the admin), and SetupAuditTrail's suOrgAdminLogin,
/// the change (made by the target, DelegateUser the admin) and suOrgAdminLogout.
pub(crate) fn login_as(sc: &Sc<'_>) -> Plant {
    let s = Scenario::LoginAs;
    let (admin, target) = (sc.regular[6 % sc.regular.len()], sc.regular[2]);
    let mut p = Plant::new(sc, s, admin, None);
    p.involve(sc, target);
    let ip = p.planted.source_ip.clone();
    let (adm, tgt) = (&sc.people[admin], &sc.people[target]);
    let by = sc.user(admin);
    let at = sc.at(s, 10, 0, 0);
    let display = format!("Logged in using Login-As access for {}", tgt.name);
    manage_users(&mut p, at / 1000, &by, "suOrgAdminLogin", &display, None);

    let a = p.actor(target, &ip);
    let set = [
        ("URI", v("/servlet/servlet.su")),
        ("REQUEST_STATUS", v("S")),
        ("DELEGATED_USER_ID", adm.id15.clone()),
        ("DELEGATED_USER_NAME", adm.username.clone()),
        ("DELEGATED_USER_ID_DERIVED", adm.id18.clone()),
    ];
    let r = row(sc, &mut p.rng, "LoginAs", at + 600, &a, &set);
    p.elf(r);
    let fields = vec![
        ("Application", Value::str("Browser")),
        ("Browser", Value::str("Chrome 125")),
        (
            "DelegatedOrganizationId",
            Value::String(ids::id18(&sc.org.org_id15)),
        ),
        ("DelegatedUsername", Value::String(adm.username.clone())),
        ("EvaluationTime", Value::Double(0.0)),
        ("LoginAsCategory", Value::str("OrgAdmin")),
        ("LoginType", Value::str("Application")),
        ("Platform", Value::str("Windows 10")),
        ("TargetUrl", Value::str("/lightning/page/home")),
        ("UserType", Value::str("Standard")),
    ];
    let rec = rtem_event(
        &mut p.rng,
        "LoginAsEvent",
        at + 600,
        &a.event_user(sc),
        fields,
    );
    p.object("LoginAsEvent", rec);

    let display = format!(
        "For user {}, the User Verified Email status changed to verified",
        tgt.username
    );
    let t = sc.at(s, 14, 0, 0) / 1000;
    let action = "changedUserEmailVerifiedStatusVerified";
    manage_users(
        &mut p,
        t,
        &sc.user(target),
        action,
        &display,
        Some(&adm.username),
    );
    let display = format!("Logged out using Login-As access for {}", tgt.name);
    let t = sc.at(s, 20, 0, 0) / 1000;
    manage_users(&mut p, t, &by, "suOrgAdminLogout", &display, None);
    p
}

/// One Threat Detection record before its common fields.
struct Threat {
    object: &'static str,
    score: f64,
    summary: &'static str,
    data: String,
    fields: Vec<(&'static str, Value)>,
}

const SCRIPT_AGENT: &str = "python-requests/2.31.0";
const BROWSER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";

/// The store's autonumber field (`ApiAnomalyEventNumber`, ...).
fn number(p: &mut Plant) -> Value {
    Value::String(format!("{:08}", 1 + p.rng.below(99_999_999)))
}

fn api_anomaly(p: &mut Plant) -> Threat {
    Threat {
        object: "ApiAnomalyEventStore",
        score: 85.0,
        summary: "API request retrieved far more Contact records than this user usually does",
        data: v(
            r#"{"operation":"Query","entity":"Contact","rowsProcessed":250000,"usualRowsProcessed":1200}"#,
        ),
        fields: vec![
            ("ApiAnomalyEventNumber", number(p)),
            ("Operation", Value::str("Query")),
            ("QueriedEntities", Value::str("Contact")),
            ("RequestIdentifier", Value::String(id15(&mut p.rng, "4Qv"))),
            ("RowsProcessed", Value::Double(250_000.0)),
            ("Uri", Value::str("/services/data/v64.0/query")),
            ("UserAgent", Value::str(SCRIPT_AGENT)),
        ],
    }
}

fn report_anomaly(p: &mut Plant) -> Threat {
    let report = ids::id18(&id15(&mut p.rng, "00O"));
    Threat {
        object: "ReportAnomalyEventStore",
        score: 72.0,
        summary: "Report export far larger than this user's usual reports",
        data: format!(r#"{{"reportId":"{report}","rowsExported":48000,"usualRowsExported":300}}"#),
        fields: vec![
            ("ReportAnomalyEventNumber", number(p)),
            ("Report", Value::String(report)),
        ],
    }
}

fn credential_stuffing(sc: &Sc<'_>, p: &mut Plant) -> Threat {
    Threat {
        object: "CredentialStuffingEventStore",
        score: 91.0,
        summary: "Successful login during a credential stuffing attack",
        data: v(r#"{"failedLogins":240,"distinctUsernames":180,"successfulLogins":1}"#),
        fields: vec![
            ("CredentialStuffingEventNumber", number(p)),
            ("AcceptLanguage", Value::str("en-US,en;q=0.9")),
            ("LoginType", Value::str("Application")),
            (
                "LoginUrl",
                Value::String(format!("{}.my.salesforce.com", sc.org.slug)),
            ),
            ("UserAgent", Value::str(SCRIPT_AGENT)),
        ],
    }
}

fn session_hijacking(p: &mut Plant, current_ip: &str, previous_ip: String) -> Threat {
    Threat {
        object: "SessionHijackingEventStore",
        score: 66.0,
        summary: "Browser fingerprint changed within the session",
        data: v(r#"{"changedAttributes":["ip","userAgent","platform","screen","window"]}"#),
        fields: vec![
            ("SessionHijackingEventNumber", number(p)),
            ("CurrentIp", Value::str(current_ip)),
            ("CurrentPlatform", Value::str("Linux x86_64")),
            ("CurrentScreen", Value::str("(1920.0,1080.0)")),
            ("CurrentUserAgent", Value::str(SCRIPT_AGENT)),
            ("CurrentWindow", Value::str("(1280.0,720.0)")),
            ("PreviousIp", Value::String(previous_ip)),
            ("PreviousPlatform", Value::str("Win32")),
            ("PreviousScreen", Value::str("(2560.0,1440.0)")),
            ("PreviousUserAgent", Value::str(BROWSER_AGENT)),
            ("PreviousWindow", Value::str("(1600.0,900.0)")),
        ],
    }
}

/// One record of each Threat Detection store about one user, ten minutes apart, scored on
/// Salesforce's 0-100 scale: ApiAnomalyEventStore 85, ReportAnomalyEventStore 72,
/// CredentialStuffingEventStore 91, SessionHijackingEventStore 66. Each is created 5 to 20
/// minutes after its event, as Salesforce's models take a while.
pub(crate) fn threat_detection(sc: &Sc<'_>) -> Plant {
    let s = Scenario::ThreatDetection;
    let user = sc.regular[0];
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    let home = sc.people[user].ip_string();
    let threats = [
        api_anomaly(&mut p),
        report_anomaly(&mut p),
        credential_stuffing(sc, &mut p),
        session_hijacking(&mut p, &ip, home),
    ];
    let u = a.event_user(sc);
    for (i, t) in threats.into_iter().enumerate() {
        let at = sc.at(s, 10 + 10 * i as i64, 0, 0);
        let rec = threat_event(
            &mut p.rng, t.object, at, &u, t.score, t.summary, t.data, t.fields,
        );
        p.object(t.object, rec);
    }
    p
}
