//! The queryable objects' records.

use super::*;
use std::collections::HashMap;

fn time_of(r: &ObjectRecord, field: &str) -> DateTime<Utc> {
    match r.record.get(field) {
        Some(Value::DateTime(t)) => *t,
        other => panic!("{field}: {other:?}"),
    }
}

fn ident(r: &ObjectRecord) -> &str {
    r.record
        .get("EventIdentifier")
        .and_then(Value::as_str)
        .expect("EventIdentifier")
}

#[test]
fn deterministic_and_seeded() {
    let a = Org::generate(spec());
    let b = Org::generate(spec());
    let c = Org::generate(OrgSpec { seed: 43, ..spec() });
    for o in OBJECTS {
        assert!(!a.object_records(o).is_empty(), "{o}");
        assert_eq!(a.object_records(o), b.object_records(o), "{o}");
        assert_ne!(a.object_records(o), c.object_records(o), "{o}");
    }
    assert_eq!(
        a.object_records("loginevent").len(),
        a.object_records("LoginEvent").len()
    );
    assert!(a.object_records("EventLogFile").is_empty());
    assert!(a.object_records("Nope").is_empty());
}

#[test]
fn records_follow_their_schema() {
    let org = Org::generate(spec());
    for o in OBJECTS {
        let schema = schema(&o.to_ascii_uppercase()).expect("schema");
        assert_eq!(schema.name, *o);
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        for r in org.object_records(o) {
            assert_eq!(r.record.sobject, *o);
            let got: Vec<&str> = r.record.fields.iter().map(|(n, _)| n.as_str()).collect();
            if *o == "SetupAuditTrail" {
                assert_eq!(got[..got.len() - 1], names[..]);
                assert_eq!(got.last(), Some(&"CreatedBy"));
            } else {
                assert_eq!(got, names, "{o}");
            }
        }
        let big = RTEM_OBJECTS.contains(o);
        assert_eq!(schema.big_object.is_some(), big, "{o}");
        if let Some(rules) = &schema.big_object {
            assert_eq!(rules.index, ["EventDate", "EventIdentifier"]);
        }
    }
    let lh = schema("LoginHistory").unwrap();
    let filterable: Vec<&str> = lh
        .fields
        .iter()
        .filter(|f| f.filterable)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(filterable.len(), 10, "{filterable:?}");
    assert!(!lh.field("Browser").unwrap().filterable);
    assert!(lh.field("LoginTime").unwrap().filterable);
    assert_eq!(lh.key_prefix, "0Ya");
    let sat = schema("SetupAuditTrail").unwrap();
    assert_eq!(sat.key_prefix, "0Ym");
    assert!(sat.relationship("CreatedBy").is_some());
}

#[test]
fn rtem_records_are_ordered_with_storage_delays_and_some_late() {
    let org = Org::generate(spec());
    for o in RTEM_OBJECTS {
        let recs = org.object_records(o);
        let mut late = 0;
        let mut seen = HashSet::new();
        for w in recs.windows(2) {
            assert!(time_of(&w[0], "EventDate") <= time_of(&w[1], "EventDate"));
        }
        for r in recs {
            assert_eq!(r.record.id.as_deref(), Some(BIG_OBJECT_ID));
            let ev = time_of(r, "EventDate");
            let cr = time_of(r, "CreatedDate");
            assert_eq!(r.visible_at, cr);
            let d = (cr - ev).num_milliseconds();
            assert!(
                (1000..=5000).contains(&d) || (90_000..=600_000).contains(&d),
                "{d}"
            );
            if d >= 90_000 {
                late += 1;
            }
            let id = ident(r);
            assert_eq!(id.len(), 36);
            assert_eq!(id.matches('-').count(), 4);
            assert!(seen.insert(id.to_string()), "duplicate {id} in {o}");
        }
        assert!(late >= 1, "{o}: no late records");
        assert!(late * 5 < recs.len(), "{o}: too many late records");
    }
}

#[test]
fn history_spans_the_days_and_six_hours_beyond_the_anchor() {
    let spec = spec();
    let org = Org::generate(spec.clone());
    let start = utc(spec.anchor.timestamp().div_euclid(DAY) * DAY - 2 * DAY);
    let end = spec.anchor + chrono::Duration::hours(6);
    for o in OBJECTS {
        let field = match *o {
            "SetupAuditTrail" => "CreatedDate",
            "LoginHistory" => "LoginTime",
            _ => "EventDate",
        };
        let recs = org.object_records(o);
        let first = time_of(&recs[0], field);
        let last = time_of(&recs[recs.len() - 1], field);
        assert!(
            first >= start && first < start + chrono::Duration::hours(3),
            "{o}"
        );
        assert!(last < end + chrono::Duration::hours(1), "{o}");
        let future = recs.iter().filter(|r| r.visible_at > spec.anchor).count();
        assert!(future >= 1, "{o}: nothing beyond the anchor");
        if *o != "SetupAuditTrail" {
            assert!(last > spec.anchor + chrono::Duration::hours(4), "{o}");
        }
    }
}

#[test]
fn setup_audit_trail_has_whole_second_ties_ordered_by_id() {
    let org = Org::generate(spec());
    let recs = org.object_records("SetupAuditTrail");
    let mut per_second: HashMap<DateTime<Utc>, usize> = HashMap::new();
    for r in recs {
        let t = time_of(r, "CreatedDate");
        assert_eq!(t.timestamp_subsec_nanos(), 0);
        assert_eq!(r.visible_at, t);
        *per_second.entry(t).or_default() += 1;
        let id = r.record.id.as_deref().unwrap();
        assert!(id.starts_with("0Ym") && id.len() == 18, "{id}");
        let Some(Value::Record(by)) = r.record.get("CreatedBy") else {
            panic!("CreatedBy")
        };
        assert_eq!(by.get("Id"), r.record.get("CreatedById"));
        assert!(org
            .users
            .iter()
            .any(|u| Some(u.username.as_str()) == by.get("Username").and_then(Value::as_str)));
    }
    let ties = per_second.values().filter(|&&n| n >= 2).count();
    let hours = 2 * 24 + 13 + 6;
    assert!(ties * 4 >= hours, "only {ties} tied seconds");
    for w in recs.windows(2) {
        let a = (time_of(&w[0], "CreatedDate"), w[0].record.id.clone());
        let b = (time_of(&w[1], "CreatedDate"), w[1].record.id.clone());
        assert!(a < b, "{a:?} {b:?}");
    }
}

#[test]
fn login_history_matches_login_events() {
    let org = Org::generate(spec());
    let events = org.object_records("LoginEvent");
    let history = org.object_records("LoginHistory");
    assert_eq!(events.len(), history.len());
    for (e, h) in events.iter().zip(history) {
        assert_eq!(e.record.get("LoginHistoryId"), h.record.get("Id"));
        assert_eq!(e.record.get("UserId"), h.record.get("UserId"));
        let lt = time_of(h, "LoginTime");
        assert_eq!(h.visible_at, lt);
        assert_eq!(lt.timestamp(), time_of(e, "EventDate").timestamp());
        assert_eq!(lt.timestamp_subsec_nanos(), 0);
    }
}

#[test]
fn duplicates_only_when_asked() {
    let plain = Org::generate(spec());
    let dup = Org::generate(OrgSpec {
        duplicate_event_identifiers: true,
        ..spec()
    });
    for o in RTEM_OBJECTS {
        let recs = dup.object_records(o);
        let mut by_id: HashMap<&str, Vec<&ObjectRecord>> = HashMap::new();
        for r in recs {
            by_id.entry(ident(r)).or_default().push(r);
        }
        let twice: Vec<&Vec<&ObjectRecord>> = by_id.values().filter(|v| v.len() > 1).collect();
        assert!(twice.len() >= 3, "{o}: {} duplicated", twice.len());
        for v in &twice {
            assert_eq!(v.len(), 2);
            assert_eq!(v[0], v[1]);
            assert!(v[0].visible_at <= spec().anchor);
        }
        assert_eq!(recs.len(), plain.object_records(o).len() + twice.len());
    }
    for o in ["SetupAuditTrail", "LoginHistory"] {
        assert_eq!(dup.object_records(o), plain.object_records(o));
    }
}

#[test]
fn no_records_when_the_rate_is_zero() {
    let org = Org::generate(OrgSpec {
        records_per_hour: (0, 0),
        ..spec()
    });
    for o in OBJECTS {
        assert!(org.object_records(o).is_empty(), "{o}");
    }
}

#[test]
fn soql_over_the_objects() {
    let org = Org::generate(spec());
    let now = spec().anchor;
    let sat = schema("SetupAuditTrail").unwrap();
    let q = soql::parse(
        "SELECT FIELDS(STANDARD), CreatedBy.Username FROM SetupAuditTrail ORDER BY CreatedDate ASC, Id ASC",
    )
    .unwrap();
    let recs: Vec<&Record> = org
        .object_records("SetupAuditTrail")
        .iter()
        .map(|r| &r.record)
        .collect();
    let soql::Output::Records(out) = soql::execute(&q, &sat, recs.iter().copied(), now).unwrap()
    else {
        panic!("records")
    };
    assert_eq!(out.len(), recs.len());
    let first = &out[0];
    let names: Vec<&str> = first.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), sat.fields.len() + 1);
    assert_eq!(names.last(), Some(&"CreatedBy"));
    let Some(Value::Record(by)) = first.get("CreatedBy") else {
        panic!("CreatedBy")
    };
    assert_eq!(by.fields.len(), 1);
    assert!(by.get("Username").is_some());
    // FIELDS(STANDARD) alone leaves the relationship out.
    let q = soql::parse("SELECT FIELDS(STANDARD) FROM SetupAuditTrail").unwrap();
    let soql::Output::Records(out) = soql::execute(&q, &sat, recs.iter().copied(), now).unwrap()
    else {
        panic!("records")
    };
    assert!(out[0].get("CreatedBy").is_none());
    assert!(out[0].get("CreatedById").is_some());

    let le = schema("LoginEvent").unwrap();
    let recs: Vec<&Record> = org
        .object_records("LoginEvent")
        .iter()
        .map(|r| &r.record)
        .collect();
    let q = soql::parse(
        "SELECT FIELDS(STANDARD) FROM LoginEvent WHERE EventDate > 2024-03-10T00:00:00Z AND EventDate <= 2024-03-11T00:00:00Z ORDER BY EventDate DESC",
    )
    .unwrap();
    let soql::Output::Records(out) = soql::execute(&q, &le, recs.iter().copied(), now).unwrap()
    else {
        panic!("records")
    };
    assert!(!out.is_empty());
    for bad in [
        "SELECT Id FROM LoginEvent ORDER BY EventDate ASC",
        "SELECT Id FROM LoginEvent WHERE Username = 'x'",
        "SELECT Id FROM LoginEvent OFFSET 10",
        "SELECT Id FROM LoginEvent WHERE EventIdentifier != 'x'",
    ] {
        let q = soql::parse(bad).unwrap();
        assert!(
            soql::execute(&q, &le, recs.iter().copied(), now).is_err(),
            "{bad}"
        );
    }
}
