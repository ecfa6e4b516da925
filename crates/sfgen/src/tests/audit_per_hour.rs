//! `GenOptions::audit_per_hour`.

use super::*;

/// A digest of every object record (fields and `visible_at`), in order.
fn fingerprint(org: &Org) -> (usize, u64) {
    let mut n = 0;
    let mut acc: u64 = 0;
    for o in OBJECTS {
        for r in org.object_records(o) {
            n += 1;
            let line = format!("{o} {:?} {}", r.record, r.visible_at.timestamp_millis());
            acc = crate::ids::digest_u64(&[&acc.to_le_bytes(), line.as_bytes()]);
        }
    }
    (n, acc)
}

fn per_hour(org: &Org) -> BTreeMap<i64, Vec<DateTime<Utc>>> {
    let mut by_hour: BTreeMap<i64, Vec<DateTime<Utc>>> = BTreeMap::new();
    for r in org.object_records("SetupAuditTrail") {
        let t = r.visible_at;
        by_hour
            .entry(t.timestamp().div_euclid(HOUR))
            .or_default()
            .push(t);
    }
    by_hour
}

#[test]
fn none_leaves_every_record_as_before() {
    // Taken from the generator before `GenOptions` existed.
    let want = (3996, 0x44b3_94f7_aa14_eb8f);
    assert_eq!(fingerprint(&Org::generate(spec())), want);
    assert_eq!(
        fingerprint(&Org::generate_with(spec(), &GenOptions::default())),
        want
    );
    assert_eq!(
        Org::generate(spec())
            .object_records("SetupAuditTrail")
            .len(),
        151
    );
}

#[test]
fn gives_the_asked_count_every_hour_spread_over_it() {
    let spec = spec();
    let plain = Org::generate(spec.clone());
    let org = Org::generate_with(
        spec.clone(),
        &GenOptions {
            audit_per_hour: Some((120, 120)),
            ..Default::default()
        },
    );
    // Every hour from the first day to FUTURE_HOURS past the anchor.
    let first = (spec.anchor.timestamp().div_euclid(DAY) - i64::from(spec.days)) * 24;
    let last = (spec.anchor.timestamp() + objects::FUTURE_HOURS * HOUR - 1).div_euclid(HOUR);
    let by_hour = per_hour(&org);
    assert_eq!(
        by_hour.keys().copied().collect::<Vec<_>>(),
        (first..=last).collect::<Vec<_>>()
    );
    for (h, times) in &by_hour {
        assert_eq!(times.len(), 120, "hour {h}");
        // One in each 30-second slice of the hour.
        let mut slices: Vec<i64> = times
            .iter()
            .map(|t| (t.timestamp() - h * HOUR) / 30)
            .collect();
        slices.sort_unstable();
        assert_eq!(slices, (0..120).collect::<Vec<_>>(), "hour {h}");
    }
    let recs = org.object_records("SetupAuditTrail");
    let ids: HashSet<&str> = recs.iter().filter_map(|r| r.record.id.as_deref()).collect();
    assert_eq!(ids.len(), recs.len(), "ids are unique");
    for r in recs {
        assert_eq!(r.visible_at.timestamp_subsec_nanos(), 0);
        assert_eq!(
            r.record.get("CreatedDate"),
            Some(&Value::DateTime(r.visible_at))
        );
    }
    for w in recs.windows(2) {
        assert!((w[0].visible_at, &w[0].record.id) < (w[1].visible_at, &w[1].record.id));
    }
    // The other objects are untouched.
    for o in OBJECTS.iter().filter(|o| **o != "SetupAuditTrail") {
        assert_eq!(org.object_records(o), plain.object_records(o), "{o}");
    }

    let ranged = Org::generate_with(
        spec.clone(),
        &GenOptions {
            audit_per_hour: Some((3, 7)),
            ..Default::default()
        },
    );
    let counts: HashSet<usize> = per_hour(&ranged).values().map(Vec::len).collect();
    assert!(counts.iter().all(|n| (3..=7).contains(n)), "{counts:?}");
    assert!(counts.len() >= 3, "{counts:?}");

    // Without event-object records, the audit trail alone.
    let alone = Org::generate_with(
        OrgSpec {
            records_per_hour: (0, 0),
            ..spec
        },
        &GenOptions {
            audit_per_hour: Some((2, 2)),
            ..Default::default()
        },
    );
    assert!(per_hour(&alone).values().all(|v| v.len() == 2));
    for o in OBJECTS.iter().filter(|o| **o != "SetupAuditTrail") {
        assert!(alone.object_records(o).is_empty(), "{o}");
    }
}
