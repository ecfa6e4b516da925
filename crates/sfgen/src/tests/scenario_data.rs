//! Attack scenarios beyond logins, determinism, and planting only adding to the org.

use super::scenarios::{key_of, ms, num, text, time, with_all, Truth};
use super::*;
use std::collections::{BTreeSet, HashSet};

#[test]
fn new_data_loader_app_is_new_authorised_and_exports_in_bulk() {
    let t = with_all(spec());
    let s = Scenario::NewDataLoaderApp;
    let p = t.get(s);
    let app = p.app.as_deref().expect("app");
    assert!(app.to_ascii_lowercase().contains("data loader"));
    let sat = t.recs(s, "SetupAuditTrail");
    assert_eq!(text(sat[0], "Section"), "Connected Apps");
    assert!(text(sat[0], "Display").contains(app));
    let login = t.recs(s, "LoginEvent");
    assert_eq!(text(login[0], "Application"), app);
    assert_eq!(text(login[0], "LoginType"), "Remote Access 2.0");
    assert_eq!(text(login[0], "Status"), "Success");
    let usage = t.elf(s, "ApiTotalUsage");
    assert!(usage.len() >= 2);
    assert!(usage
        .iter()
        .all(|r| r["CONNECTED_APP_NAME"] == app && !r["CONNECTED_APP_ID"].is_empty()));
    let bulk = t.elf(s, "BulkApi");
    assert!(bulk
        .iter()
        .all(|r| r["OPERATION_TYPE"] == "queryAll" && r["ENTITY_TYPE"] == "Account"));
    let rows: u64 = bulk
        .iter()
        .map(|r| r["ROWS_PROCESSED"].parse::<u64>().unwrap())
        .sum();
    assert!(rows >= 1_000_000, "{rows}");
    let api = t.recs(s, "ApiEvent");
    assert!(api
        .iter()
        .all(|r| text(r, "Application") == app && text(r, "Operation") == "QueryAll"));
    assert_eq!(
        api.iter().map(|r| num(r, "RowsProcessed")).sum::<f64>() as u64,
        rows
    );
    // Never seen before the attack, in any object or file.
    let before = |r: &Record| time(r, "EventDate") < ms(&p.start);
    for o in ["LoginEvent", "ApiEvent"] {
        assert!(!t
            .org
            .object_records(o)
            .iter()
            .any(|r| before(&r.record) && text(&r.record, "Application") == app));
    }
    let planted: HashSet<&(String, u64)> = p.elf_rows.iter().collect();
    for f in t
        .org
        .files
        .iter()
        .filter(|f| f.event_type == "ApiTotalUsage")
    {
        for (i, r) in t.org.rows(&f.id).enumerate() {
            if r.iter().any(|v| v == app) {
                assert!(planted.contains(&(f.id.clone(), i as u64)));
            }
        }
    }
}

#[test]
fn admin_scenarios() {
    let t = with_all(spec());
    let p = t.get(Scenario::PrivilegedPermissionSet);
    let sat = t.recs(Scenario::PrivilegedPermissionSet, "SetupAuditTrail");
    let displays: Vec<&str> = sat.iter().map(|r| text(r, "Display")).collect();
    assert!(displays
        .iter()
        .any(|d| d.contains("Modify All Data") && d.contains("was enabled")));
    let assign = sat
        .iter()
        .find(|r| text(r, "Action") == "PermSetAssign")
        .unwrap();
    assert!(text(assign, "Display").ends_with(&p.users[1].1));
    assert!(sat.iter().all(|r| text(r, "CreatedById") == p.user_id));

    let s = Scenario::LoginAs;
    let p = t.get(s);
    let (admin, target) = (&p.users[0], &p.users[1]);
    let rows = t.elf(s, "LoginAs");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["DELEGATED_USER_NAME"], admin.1);
    assert_eq!(rows[0]["USER_ID_DERIVED"], target.0);
    let ev = t.recs(s, "LoginAsEvent");
    assert_eq!(text(ev[0], "DelegatedUsername"), admin.1);
    assert_eq!(text(ev[0], "Username"), target.1);
    let sat = t.recs(s, "SetupAuditTrail");
    let actions: Vec<&str> = sat.iter().map(|r| text(r, "Action")).collect();
    assert_eq!(actions.first(), Some(&"suOrgAdminLogin"));
    assert_eq!(actions.last(), Some(&"suOrgAdminLogout"));
    assert!(sat.iter().any(|r| text(r, "DelegateUser") == admin.1));

    let s = Scenario::ThreatDetection;
    for o in SCENARIO_OBJECTS
        .iter()
        .filter(|o| o.ends_with("EventStore") && **o != "FileEventStore")
    {
        let recs = t.recs(s, o);
        assert_eq!(recs.len(), 1, "{o}");
        assert!(num(recs[0], "Score") >= 60.0);
        assert!(recs[0]
            .id
            .as_deref()
            .is_some_and(|id| id.len() == 18 && id != BIG_OBJECT_ID));
        assert!(time(recs[0], "CreatedDate") > time(recs[0], "EventDate"));
        assert!(!text(recs[0], "Summary").is_empty());
    }
}

#[test]
fn downloads_secrets_deletes_and_blocks() {
    let t = with_all(spec());
    let s = Scenario::MassFileDownload;
    let rows = t.elf(s, "ContentTransfer");
    let docs: BTreeSet<&String> = rows.iter().map(|r| &r["DOCUMENT_ID"]).collect();
    assert!(docs.len() >= 8);
    assert_eq!(
        rows.iter()
            .map(|r| &r["USER_ID"])
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
    assert!(rows
        .iter()
        .all(|r| r["TRANSACTION_TYPE"] == "VersionDownloadApi"));
    let files = t.recs(s, "FileEventStore");
    assert_eq!(
        files
            .iter()
            .map(|r| text(r, "DocumentId"))
            .collect::<BTreeSet<_>>()
            .len(),
        docs.len()
    );
    let span = time(files.last().unwrap(), "EventDate") - time(files[0], "EventDate");
    assert!(span <= 4 * 60_000);
    assert!(files
        .iter()
        .all(|r| text(r, "FileAction").contains("DOWNLOAD")));

    let secret = |q: &str| {
        ["Password__c", "AKIA", "password", "Token"]
            .iter()
            .any(|k| q.contains(k))
    };
    let rows = t.elf(Scenario::SecretHuntingQuery, "API");
    assert!(!rows.is_empty() && rows.iter().all(|r| secret(&r["QUERY"])));
    let api = t.recs(Scenario::SecretHuntingQuery, "ApiEvent");
    assert_eq!(api.len(), rows.len());
    assert!(api.iter().all(|r| secret(text(r, "Query"))));

    let bulk = t.elf(Scenario::MassDelete, "BulkApi");
    let deleted: u64 = bulk
        .iter()
        .map(|r| r["ROWS_PROCESSED"].parse::<u64>().unwrap())
        .sum();
    assert!(bulk.iter().all(|r| r["OPERATION_TYPE"] == "hardDelete") && deleted >= 10_000);
    let api = t.elf(Scenario::MassDelete, "API");
    assert!(!api.is_empty() && api.iter().all(|r| r["METHOD_NAME"] == "delete"));

    let s = Scenario::TransactionSecurityBlock;
    for o in ["ApiEvent", "ReportEvent"] {
        let recs = t.recs(s, o);
        assert_eq!(recs.len(), 1, "{o}");
        assert_eq!(text(recs[0], "PolicyOutcome"), "Block");
        assert!(text(recs[0], "PolicyId").starts_with("0NI"));
    }
}

fn bodies(org: &Org) -> Vec<(String, Vec<u8>)> {
    org.files
        .iter()
        .map(|f| (f.id.clone(), org.body(&f.id, 1 << 16).flatten().collect()))
        .collect()
}

#[test]
fn deterministic_and_independent_of_other_scenarios() {
    let a = with_all(spec());
    let b = with_all(spec());
    assert_eq!(a.planted, b.planted);
    assert_eq!(bodies(&a.org), bodies(&b.org));
    for o in a.org.objects() {
        assert_eq!(a.org.object_records(o), b.org.object_records(o), "{o}");
    }
    // One scenario alone plants the same events as among all the others.
    let one = Org::generate_with(
        spec(),
        &GenOptions {
            scenarios: vec![Scenario::LoginAs],
            ..Default::default()
        },
    );
    let alone = &one.planted()[0];
    let among = a.get(Scenario::LoginAs);
    assert_eq!(alone.object_records, among.object_records);
    assert_eq!((alone.start, alone.end), (among.start, among.end));
    let c = with_all(OrgSpec { seed: 43, ..spec() });
    assert_ne!(c.planted, a.planted);
}

/// With scenarios, every background row and record is still there, unchanged and in order:
/// planting only adds. Without them nothing changes at all.
#[test]
fn planting_only_adds() {
    let plain = Org::generate(spec());
    let off = Org::generate_with(spec(), &GenOptions::default());
    assert!(off.planted().is_empty() && !off.has_scenarios());
    assert_eq!(bodies(&plain), bodies(&off));
    assert_eq!(off.objects(), OBJECTS);
    assert!(off.schema("LoginAsEvent").is_none());
    assert!(off
        .schema("ApiEvent")
        .unwrap()
        .field("PolicyOutcome")
        .is_none());

    let t = with_all(spec());
    let planted: HashSet<(String, u64)> =
        t.planted.iter().flat_map(|p| p.elf_rows.clone()).collect();
    for f in &plain.files {
        let with = t.org.file(&f.id).expect("same file ids");
        assert_eq!(
            (&with.event_type, with.log_date, with.created_date),
            (&f.event_type, f.log_date, f.created_date)
        );
        let kept: Vec<Vec<String>> = t
            .org
            .rows(&f.id)
            .enumerate()
            .filter(|(i, _)| !planted.contains(&(f.id.clone(), *i as u64)))
            .map(|(_, r)| r)
            .collect();
        assert_eq!(kept, plain.rows(&f.id).collect::<Vec<_>>(), "{}", f.id);
        let added = planted.iter().filter(|(id, _)| *id == f.id).count() as u64;
        assert_eq!(with.row_count, f.row_count + added);
    }
    let keys: HashSet<&String> = t
        .planted
        .iter()
        .flat_map(|p| p.object_records.iter().chain(&p.context_records))
        .map(|(_, k)| k)
        .collect();
    for o in OBJECTS {
        let kept: Vec<String> = t
            .org
            .object_records(o)
            .iter()
            .map(|r| key_of(&r.record))
            .filter(|k| !keys.contains(k))
            .collect();
        let before: Vec<String> = plain
            .object_records(o)
            .iter()
            .map(|r| key_of(&r.record))
            .collect();
        assert_eq!(kept, before, "{o}");
    }
    assert_eq!(
        t.org.users[..8].iter().map(|u| &u.id).collect::<Vec<_>>(),
        plain.users.iter().map(|u| &u.id).collect::<Vec<_>>()
    );
    assert_eq!(t.org.users.len(), 16);
}

/// An org with scenarios serves the new objects, and every record follows that org's schema.
#[test]
fn scenario_objects_follow_the_orgs_schema() {
    let Truth { org, .. } = with_all(spec());
    assert_eq!(org.objects().len(), OBJECTS.len() + SCENARIO_OBJECTS.len());
    for o in org.objects() {
        let schema = org.schema(o).expect("schema");
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert!(!org.object_records(o).is_empty(), "{o}");
        for r in org.object_records(o) {
            let mut got: Vec<&str> = r.record.fields.iter().map(|(n, _)| n.as_str()).collect();
            if o == "SetupAuditTrail" {
                assert_eq!(got.pop(), Some("CreatedBy"));
            }
            assert_eq!(got, names, "{o}");
        }
        let big = schema.big_object.is_some();
        assert_eq!(
            big,
            RTEM_OBJECTS.contains(&o) || o == "LoginAsEvent" || o == "FileEventStore",
            "{o}"
        );
    }
    let api = org.schema("apievent").unwrap();
    assert!(api.field("PolicyOutcome").is_some() && api.field("EvaluationTime").is_some());
    assert!(org
        .schema("ReportEvent")
        .unwrap()
        .field("PolicyId")
        .is_some());
    let ids: Vec<&str> = org
        .object_records("SetupAuditTrail")
        .iter()
        .filter_map(|r| r.record.id.as_deref())
        .collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}
