use super::*;
use chrono::{NaiveDateTime, TimeZone};
use std::collections::BTreeMap;

fn anchor() -> DateTime<Utc> {
    // 13:37:12.5, so the anchor day has 13 complete hours.
    Utc.with_ymd_and_hms(2024, 3, 11, 13, 37, 12).unwrap() + chrono::Duration::milliseconds(500)
}

fn spec() -> OrgSpec {
    OrgSpec {
        seed: 42,
        days: 2,
        anchor: anchor(),
        event_types: vec![],
        hourly: true,
        rows_per_hour: (0, 12),
        late_files: true,
        big_file_bytes: None,
        records_per_hour: (2, 12),
        duplicate_event_identifiers: false,
    }
}

/// A strict RFC 4180 parser that also requires every field to be quoted.
fn parse_csv(body: &[u8]) -> Vec<Vec<String>> {
    let s = std::str::from_utf8(body).expect("utf8");
    let b = s.as_bytes();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut i = 0;
    while i < b.len() {
        assert_eq!(b[i], b'"', "unquoted field at byte {i}");
        i += 1;
        let mut field = Vec::new();
        loop {
            assert!(i < b.len(), "unterminated quote");
            if b[i] == b'"' {
                if i + 1 < b.len() && b[i + 1] == b'"' {
                    field.push(b'"');
                    i += 2;
                } else {
                    i += 1;
                    break;
                }
            } else {
                field.push(b[i]);
                i += 1;
            }
        }
        row.push(String::from_utf8(field).expect("utf8"));
        assert!(i < b.len(), "missing final newline");
        match b[i] {
            b',' => i += 1,
            b'\n' => {
                i += 1;
                rows.push(std::mem::take(&mut row));
            }
            c => panic!("unexpected byte {c} after field"),
        }
    }
    assert!(row.is_empty());
    rows
}

fn body_bytes(org: &Org, id: &str, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let chunks: Vec<Vec<u8>> = org.body(id, chunk).collect();
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        assert!(!c.is_empty());
        if i + 1 < n {
            assert_eq!(c.len(), chunk, "only the last chunk may be short");
        } else {
            assert!(c.len() <= chunk);
        }
        out.extend_from_slice(&c);
    }
    out
}

fn ts_of(row: &[String], cols: &[&str]) -> NaiveDateTime {
    let i = cols.iter().position(|c| *c == "TIMESTAMP").unwrap();
    let t = &row[i];
    let (main, frac) = t.split_once('.').unwrap_or((t, ""));
    assert!(frac.len() <= 3);
    let base = NaiveDateTime::parse_from_str(main, "%Y%m%d%H%M%S").unwrap();
    let ms: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().unwrap()
    };
    base + chrono::Duration::milliseconds(ms)
}

#[test]
fn deterministic() {
    let a = Org::generate(spec());
    let b = Org::generate(spec());
    assert_eq!(a.org_id, b.org_id);
    assert_eq!(a.files.len(), b.files.len());
    assert!(!a.files.is_empty());
    for (x, y) in a.files.iter().zip(&b.files) {
        assert_eq!(x.id, y.id);
        assert_eq!(x.created_date, y.created_date);
        assert_eq!(x.log_date, y.log_date);
        assert_eq!(x.row_count, y.row_count);
    }
    for f in a.files.iter().step_by(7) {
        assert_eq!(body_bytes(&a, &f.id, 1000), body_bytes(&b, &f.id, 333));
    }
    let other = Org::generate(OrgSpec { seed: 43, ..spec() });
    assert_ne!(other.org_id, a.org_id);
}

#[test]
fn bodies_parse_to_rows_and_match_length() {
    let org = Org::generate(spec());
    for f in &org.files {
        let body = body_bytes(&org, &f.id, 4096);
        assert_eq!(body.len() as u64, org.length(&f.id), "{}", f.id);
        assert_eq!(org.length(&f.id), org.length(&f.id));
        let parsed = parse_csv(&body);
        let cols = Org::columns(&f.event_type);
        assert_eq!(parsed[0], cols);
        let rows: Vec<Vec<String>> = org.rows(&f.id).collect();
        assert_eq!(rows.len() as u64, f.row_count);
        assert!(f.row_count >= 1);
        assert_eq!(&parsed[1..], &rows[..]);
        for r in &rows {
            assert_eq!(r.len(), cols.len());
        }
    }
}

#[test]
fn small_chunks() {
    let org = Org::generate(spec());
    let f = &org.files[0];
    let whole = body_bytes(&org, &f.id, 1 << 20);
    assert_eq!(body_bytes(&org, &f.id, 1), whole);
    assert_eq!(body_bytes(&org, &f.id, 77), whole);
    assert_eq!(org.body("0AT000000000000AAA", 10).count(), 0);
    assert_eq!(org.rows("nope").count(), 0);
    assert_eq!(org.length("nope"), 0);
}

#[test]
fn catalogue_shape() {
    let s = spec();
    let org = Org::generate(s.clone());
    let mut seen = std::collections::HashSet::new();
    for w in org.files.windows(2) {
        assert!((w[0].created_date, &w[0].id) < (w[1].created_date, &w[1].id));
    }
    for f in &org.files {
        assert!(seen.insert(f.id.clone()));
        assert_eq!(f.id.len(), 18);
        assert!(f.id.starts_with("0AT"));
        assert_eq!(id18(&f.id[..15]), f.id);
        assert_eq!(f.created_date.timestamp_subsec_nanos(), 0);
        assert_eq!(org.file(&f.id).map(|x| &x.id), Some(&f.id));
        match f.interval {
            Interval::Daily => {
                assert_eq!(f.sequence, 0);
                assert_eq!(f.log_date.timestamp() % 86_400, 0);
                assert!(f.log_date + chrono::Duration::days(1) <= s.anchor);
                assert!(f.created_date <= s.anchor);
            }
            Interval::Hourly => {
                assert!(f.sequence >= 1);
                assert_eq!(f.log_date.timestamp() % 3600, 0);
                assert!(f.log_date + chrono::Duration::hours(1) <= s.anchor);
                if f.sequence == 1 {
                    assert!(f.created_date <= s.anchor);
                    assert!(f.created_date > f.log_date + chrono::Duration::hours(1));
                }
            }
        }
        assert!(f.log_date >= s.anchor - chrono::Duration::days(3));
    }
    for t in DEFAULT_EVENT_TYPES {
        assert!(
            org.files
                .iter()
                .any(|f| f.event_type == *t && f.interval == Interval::Daily),
            "{t} daily"
        );
        assert!(
            org.files
                .iter()
                .any(|f| f.event_type == *t && f.interval == Interval::Hourly),
            "{t} hourly"
        );
    }
    // Several files share a CreatedDate (all types' hourly files of an hour, daily files).
    let mut by_created: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for f in &org.files {
        *by_created.entry(f.created_date).or_default() += 1;
    }
    assert!(by_created.values().any(|&n| n >= 5));
    // Both days have their daily files.
    let days: std::collections::BTreeSet<_> = org
        .files
        .iter()
        .filter(|f| f.interval == Interval::Daily)
        .map(|f| f.log_date)
        .collect();
    assert_eq!(days.len(), 2);
}

#[test]
fn daily_is_concatenation_of_hourly() {
    let org = Org::generate(spec());
    let mut checked = 0;
    for d in org.files.iter().filter(|f| f.interval == Interval::Daily) {
        let mut hourly: Vec<&LogFileMeta> = org
            .files
            .iter()
            .filter(|f| {
                f.interval == Interval::Hourly
                    && f.event_type == d.event_type
                    && f.log_date >= d.log_date
                    && f.log_date < d.log_date + chrono::Duration::days(1)
            })
            .collect();
        hourly.sort_by_key(|f| (f.log_date, f.sequence));
        let concat: Vec<Vec<String>> = hourly.iter().flat_map(|f| org.rows(&f.id)).collect();
        let daily: Vec<Vec<String>> = org.rows(&d.id).collect();
        // The last hour of the previous day may not be published yet relative to the anchor
        // only for the anchor day; whole days here are fully published.
        assert_eq!(daily, concat, "{} {}", d.event_type, d.log_date);
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn rows_sorted_within_hour_and_timestamps_consistent() {
    let org = Org::generate(OrgSpec {
        rows_per_hour: (200, 400),
        late_files: false,
        days: 1,
        ..spec()
    });
    let mut frac_lens = [0usize; 4];
    for f in org.files.iter().filter(|f| f.interval == Interval::Hourly) {
        let cols = Org::columns(&f.event_type);
        let di = cols.iter().position(|c| *c == "TIMESTAMP_DERIVED").unwrap();
        let ti = cols.iter().position(|c| *c == "TIMESTAMP").unwrap();
        let mut prev = None;
        for r in org.rows(&f.id) {
            let t = ts_of(&r, &cols);
            assert!(t >= f.log_date.naive_utc());
            assert!(t < f.log_date.naive_utc() + chrono::Duration::hours(1));
            if let Some(p) = prev {
                assert!(t >= p);
            }
            prev = Some(t);
            let d = NaiveDateTime::parse_from_str(&r[di], "%Y-%m-%dT%H:%M:%S%.3fZ").unwrap();
            assert_eq!(d, t);
            assert_eq!(r[di].len(), 24);
            frac_lens[r[ti].split_once('.').map(|(_, f)| f.len()).unwrap_or(0)] += 1;
        }
    }
    assert!(
        frac_lens[3] > frac_lens[2] && frac_lens[2] > 0 && frac_lens[1] > 0 && frac_lens[0] > 0
    );
}

#[test]
fn late_files() {
    let s = spec();
    let org = Org::generate(s.clone());
    let late: Vec<&LogFileMeta> = org.files.iter().filter(|f| f.sequence == 2).collect();
    assert!((2..=4).contains(&late.len()), "{}", late.len());
    for l in late {
        assert!(l.created_date > s.anchor);
        assert!(l.created_date <= s.anchor + chrono::Duration::minutes(91));
        assert!(l.log_date >= s.anchor - chrono::Duration::hours(7));
        let first = org
            .files
            .iter()
            .find(|f| f.event_type == l.event_type && f.log_date == l.log_date && f.sequence == 1)
            .expect("sequence 1 file");
        let first_rows: Vec<Vec<String>> = org.rows(&first.id).collect();
        for r in org.rows(&l.id) {
            assert!(!first_rows.contains(&r));
        }
    }
    let none = Org::generate(OrgSpec {
        late_files: false,
        ..spec()
    });
    assert!(none
        .files
        .iter()
        .all(|f| f.created_date <= s.anchor && f.sequence < 2));
    // Without late files the sequence-1 catalogue is the same.
    let ones = |o: &Org| -> Vec<String> {
        o.files
            .iter()
            .filter(|f| f.sequence == 1)
            .map(|f| f.id.clone())
            .collect()
    };
    assert_eq!(ones(&org), ones(&none));
}

#[test]
fn daily_only() {
    let org = Org::generate(OrgSpec {
        hourly: false,
        event_types: vec!["Login".into(), "URI".into()],
        ..spec()
    });
    assert_eq!(org.files.len(), 4);
    assert!(org.files.iter().all(|f| f.interval == Interval::Daily));
    // Daily files of one day share a CreatedDate at 02:xx the next day.
    assert_eq!(org.files[0].created_date, org.files[1].created_date);
    assert_eq!(
        org.files[0].created_date.format("%H").to_string(),
        "02".to_string()
    );
}

#[test]
fn empty_blocks_make_no_files() {
    let org = Org::generate(OrgSpec {
        rows_per_hour: (0, 0),
        late_files: false,
        ..spec()
    });
    assert!(org.files.is_empty());
    let org = Org::generate(OrgSpec {
        rows_per_hour: (0, 1),
        ..spec()
    });
    assert!(org.files.iter().all(|f| f.row_count >= 1));
    let hourly = org.files.iter().filter(|f| f.sequence == 1).count();
    assert!(hourly > 0 && hourly < 10 * 37);
}

#[test]
fn big_file() {
    let target = 5_000_000;
    let org = Org::generate(OrgSpec {
        big_file_bytes: Some(target),
        rows_per_hour: (1, 5),
        ..spec()
    });
    let first = DEFAULT_EVENT_TYPES[0];
    let oldest = org
        .files
        .iter()
        .filter(|f| f.event_type == first && f.interval == Interval::Daily)
        .min_by_key(|f| f.log_date)
        .unwrap();
    let len = org.length(&oldest.id);
    assert!(len >= target, "{len}");
    assert!(len < target * 13 / 10, "{len}");
    let total: u64 = org.body(&oldest.id, 1 << 16).map(|c| c.len() as u64).sum();
    assert_eq!(total, len);
    // Other files stay small.
    assert!(org
        .files
        .iter()
        .filter(|f| f.event_type != first)
        .all(|f| org.length(&f.id) < 100_000));
}

#[test]
fn every_known_type_generates() {
    let types: Vec<String> = columns::known_types()
        .into_iter()
        .map(String::from)
        .chain(["SomethingNew".to_string()])
        .collect();
    let org = Org::generate(OrgSpec {
        event_types: types.clone(),
        days: 1,
        rows_per_hour: (5, 20),
        late_files: false,
        ..spec()
    });
    for t in &types {
        let f = org
            .files
            .iter()
            .find(|f| &f.event_type == t && f.interval == Interval::Daily)
            .unwrap();
        let cols = Org::columns(t);
        let parsed = parse_csv(&body_bytes(&org, &f.id, 8192));
        assert_eq!(parsed[0], cols);
        for r in &parsed[1..] {
            assert_eq!(r[0], *t);
            assert_eq!(r.len(), cols.len());
        }
        let rec = org.event_log_file_record(f, "64.0");
        let names = rec
            .get("LogFileFieldNames")
            .and_then(|v| v.as_str())
            .unwrap();
        let types = rec
            .get("LogFileFieldTypes")
            .and_then(|v| v.as_str())
            .unwrap();
        assert_eq!(names.split(',').count(), types.split(',').count());
        assert_eq!(names.split(',').collect::<Vec<_>>(), cols);
    }
}

#[test]
fn realistic_values() {
    let org = Org::generate(OrgSpec {
        rows_per_hour: (50, 100),
        days: 1,
        late_files: false,
        ..spec()
    });
    let mut seen_sfdc_ip = false;
    let mut seen_quote = false;
    let mut seen_newline = false;
    let mut seen_comma = false;
    for f in org.files.iter().filter(|f| f.interval == Interval::Daily) {
        let cols = Org::columns(&f.event_type);
        let col = |n: &str| cols.iter().position(|c| *c == n);
        for r in org.rows(&f.id) {
            assert_eq!(r[0], f.event_type);
            if let Some(i) = col("REQUEST_ID") {
                assert_eq!(r[i].len(), 22);
            }
            if let Some(i) = col("ORGANIZATION_ID") {
                assert_eq!(r[i], org.org_id[..15]);
            }
            if let (Some(i), Some(j)) = (col("USER_ID"), col("USER_ID_DERIVED")) {
                assert!(r[i].is_empty() || r[i].starts_with("005") && r[i].len() == 15);
                assert_eq!(
                    if r[i].is_empty() {
                        String::new()
                    } else {
                        id18(&r[i])
                    },
                    r[j]
                );
            }
            if let Some(i) = col("CLIENT_IP") {
                seen_sfdc_ip |= r[i] == "Salesforce.com IP";
                assert!(r[i] == "Salesforce.com IP" || r[i].split('.').count() == 4);
            }
            if let Some(i) = col("LOGIN_KEY") {
                assert_eq!(r[i].len(), 16);
            }
            if let (Some(i), Some(j)) = (col("URI"), col("URI_ID_DERIVED")) {
                if !r[j].is_empty() {
                    assert!(r[i].contains(&r[j][..15]), "{} {}", r[i], r[j]);
                }
            }
            for v in &r {
                seen_quote |= v.contains('"');
                seen_newline |= v.contains('\n');
                seen_comma |= v.contains(',');
            }
        }
    }
    assert!(seen_sfdc_ip && seen_quote && seen_newline && seen_comma);
}

#[test]
fn org_users_records_and_schemas() {
    let org = Org::generate(spec());
    assert!(org.org_id.starts_with("00D") && org.org_id.len() == 18);
    assert_eq!(org.users.len(), 8);
    let domain = org.users[0].username.strip_prefix("integration@").unwrap();
    for u in &org.users {
        assert!(u.id.starts_with("005") && u.id.len() == 18);
        assert_eq!(id18(&u.id[..15]), u.id);
        assert!(u.username.ends_with(domain));
    }
    assert!(org.users[1].username.contains('.'));

    let f = &org.files[0];
    let rec = org.event_log_file_record(f, "62.0");
    assert_eq!(rec.sobject, "EventLogFile");
    assert_eq!(rec.id.as_deref(), Some(f.id.as_str()));
    let names: Vec<&str> = rec.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Id",
            "EventType",
            "LogDate",
            "Interval",
            "Sequence",
            "CreatedDate",
            "LogFile",
            "LogFileLength",
            "LogFileContentType",
            "LogFileFieldNames",
            "LogFileFieldTypes",
            "ApiVersion",
            "CreatedById",
            "LastModifiedDate",
            "SystemModstamp",
            "IsDeleted"
        ]
    );
    assert_eq!(
        rec.get("LogFile").and_then(|v| v.as_str()),
        Some(
            format!(
                "/services/data/v62.0/sobjects/EventLogFile/{}/LogFile",
                f.id
            )
            .as_str()
        )
    );
    assert_eq!(
        rec.get("LogFileLength"),
        Some(&Value::Double(org.length(&f.id) as f64))
    );
    assert_eq!(
        rec.get("CreatedById"),
        Some(&Value::String(org.users[0].id.clone()))
    );
    assert_eq!(
        rec.get("SystemModstamp"),
        Some(&Value::DateTime(f.created_date))
    );

    let s = schema("eventlogfile").unwrap();
    assert_eq!(s.key_prefix, "0AT");
    for (n, _) in &rec.fields {
        assert!(s.field(n).is_some(), "{n}");
    }
    assert!(!s.field("LogFile").unwrap().filterable);
    assert_eq!(
        s.relationship("createdby").unwrap().relationship,
        Some(("CreatedBy".to_string(), "User".to_string()))
    );
    let o = org.organization_record();
    let os = schema("Organization").unwrap();
    assert_eq!(os.key_prefix, "00D");
    for (n, _) in &o.fields {
        assert!(os.field(n).is_some(), "{n}");
    }
    assert_eq!(o.get("InstanceName"), Some(&Value::str("SIM1")));
    assert_eq!(schema("USER").unwrap().key_prefix, "005");
    assert!(schema("Account").is_none());
}

#[test]
fn id18_examples() {
    assert_eq!(id18("0055j00000AT6I1"), "0055j00000AT6I1AAL");
    assert_eq!(id18("00D5j00000DgAYG"), "00D5j00000DgAYGEA3");
    assert_eq!(id18("001000000000000"), "001000000000000AAA");
    assert_eq!(id18("AAAAAAAAAAAAAAA"), "AAAAAAAAAAAAAAA555");
}

/// Throughput check: `cargo test --release -p sfgen -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let t0 = std::time::Instant::now();
    let org = Org::generate(OrgSpec {
        big_file_bytes: Some(200_000_000),
        days: 1,
        event_types: vec!["API".into()],
        ..spec()
    });
    eprintln!("generated in {:.2}s", t0.elapsed().as_secs_f64());
    let f = org
        .files
        .iter()
        .find(|f| f.interval == Interval::Daily)
        .unwrap();
    let t = std::time::Instant::now();
    let bytes: u64 = org.body(&f.id, 1 << 20).map(|c| c.len() as u64).sum();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{} rows, {bytes} bytes in {secs:.2}s: {:.0} rows/s, {:.0} MB/s",
        f.row_count,
        f.row_count as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    let t = std::time::Instant::now();
    assert_eq!(org.length(&f.id), bytes);
    eprintln!("length in {:.2}s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let n = org.rows(&f.id).count();
    eprintln!("{n} rows() in {:.2}s", t.elapsed().as_secs_f64());
}

#[test]
fn org_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Org>();
}

mod event_objects;

mod audit_per_hour;

mod scenarios;

mod scenario_data;

mod scenario_quiet;
