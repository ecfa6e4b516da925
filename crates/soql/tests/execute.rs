//! Evaluation tests over small hand-built schemas and records.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use soql::{
    execute, parse, selected_fields, BigObjectRules, FieldDef, FieldType, ObjectSchema, Output,
    Record, SoqlError, Value,
};

fn dt(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 10, 12, 30, 0).unwrap()
}

fn elf_schema() -> ObjectSchema {
    ObjectSchema {
        name: "EventLogFile".into(),
        key_prefix: "0AT".into(),
        fields: vec![
            FieldDef::new("Id", FieldType::Id),
            FieldDef::new("EventType", FieldType::Picklist),
            FieldDef::new("LogDate", FieldType::DateTime),
            FieldDef::new("CreatedDate", FieldType::DateTime),
            FieldDef::new("Sequence", FieldType::Int),
            FieldDef::new("Interval", FieldType::Picklist),
            FieldDef::new("LogFileLength", FieldType::Double),
            FieldDef::new("LogFile", FieldType::Base64),
        ],
        big_object: None,
    }
}

fn elf(n: u32, event: &str, interval: &str, seq: i64, created: &str, log_date: &str) -> Record {
    let id = format!("0AT{n:012}AAA");
    Record::new("EventLogFile", Some(id.clone()))
        .with("Id", Value::str(id.clone()))
        .with("EventType", Value::str(event))
        .with("LogDate", Value::DateTime(dt(log_date)))
        .with("CreatedDate", Value::DateTime(dt(created)))
        .with("Sequence", Value::Int(seq))
        .with("Interval", Value::str(interval))
        .with("LogFileLength", Value::Double(1000.0 + f64::from(n)))
        .with(
            "LogFile",
            Value::str(format!(
                "/services/data/v60.0/sobjects/EventLogFile/{id}/LogFile"
            )),
        )
}

fn elf_records() -> Vec<Record> {
    vec![
        elf(
            1,
            "Login",
            "Hourly",
            0,
            "2023-12-19T21:04:35Z",
            "2023-12-19T20:00:00Z",
        ),
        elf(
            2,
            "Login",
            "Hourly",
            0,
            "2023-12-19T21:04:35Z",
            "2023-12-19T20:00:00Z",
        ),
        elf(
            3,
            "Login",
            "Hourly",
            0,
            "2023-12-19T22:04:35Z",
            "2023-12-19T21:00:00Z",
        ),
        elf(
            4,
            "API",
            "Daily",
            0,
            "2024-06-10T03:00:00Z",
            "2024-06-09T00:00:00Z",
        ),
        elf(
            5,
            "API",
            "Daily",
            0,
            "2024-06-09T03:00:00Z",
            "2024-06-08T00:00:00Z",
        ),
        elf(
            6,
            "Login",
            "Daily",
            1,
            "2023-12-19T20:00:00Z",
            "2023-12-18T00:00:00Z",
        ),
        elf(
            7,
            "API",
            "Hourly",
            0,
            "2024-06-10T11:00:00Z",
            "2024-06-10T10:00:00Z",
        ),
        elf(
            8,
            "Login",
            "Hourly",
            0,
            "2023-12-19T21:04:34Z",
            "2023-12-19T19:00:00Z",
        ),
    ]
}

fn sat_schema() -> ObjectSchema {
    let mut created_by = FieldDef::new("CreatedById", FieldType::Reference);
    created_by.relationship = Some(("CreatedBy".into(), "User".into()));
    ObjectSchema {
        name: "SetupAuditTrail".into(),
        key_prefix: "0Ym".into(),
        fields: vec![
            FieldDef::new("Id", FieldType::Id),
            FieldDef::new("Action", FieldType::String),
            FieldDef::new("Section", FieldType::String),
            FieldDef::new("CreatedDate", FieldType::DateTime),
            created_by,
            FieldDef::new("Display", FieldType::String),
        ],
        big_object: None,
    }
}

fn user(id: &str, username: &str, name: &str) -> Value {
    Value::Record(Box::new(
        Record::new("User", Some(id.into()))
            .with("Id", Value::str(id))
            .with("Username", Value::str(username))
            .with("Name", Value::str(name)),
    ))
}

fn sat_records() -> Vec<Record> {
    let mk = |n: u32,
              action: &str,
              section: Option<&str>,
              created: &str,
              by: Option<(&str, &str, &str)>| {
        let id = format!("0Ym{n:012}CAA");
        Record::new("SetupAuditTrail", Some(id.clone()))
            .with("Id", Value::str(id))
            .with("Action", Value::str(action))
            .with("Section", section.map_or(Value::Null, Value::str))
            .with("CreatedDate", Value::DateTime(dt(created)))
            .with("CreatedById", by.map_or(Value::Null, |b| Value::str(b.0)))
            .with("CreatedBy", by.map_or(Value::Null, |b| user(b.0, b.1, b.2)))
            .with("Display", Value::str(format!("Did {action}")))
    };
    vec![
        mk(
            1,
            "PermSetCreate",
            Some("Manage Users"),
            "2024-06-01T10:00:00Z",
            Some(("005000000000001AAA", "admin@example.com", "Admin User")),
        ),
        mk(
            2,
            "insertConnectedApplication",
            Some("Connected Apps"),
            "2024-06-02T10:00:00Z",
            Some(("005000000000002AAA", "ops@example.com", "Ops")),
        ),
        mk(3, "changedPassword", None, "2024-06-03T10:00:00Z", None),
        mk(
            4,
            "PermSetAssign",
            Some("manage users"),
            "2024-06-01T10:00:00Z",
            Some(("005000000000001AAA", "admin@example.com", "Admin User")),
        ),
    ]
}

fn login_schema() -> ObjectSchema {
    let mut extra = FieldDef::new("AdditionalInfo", FieldType::String);
    extra.standard = false;
    ObjectSchema {
        name: "LoginEvent".into(),
        key_prefix: "0Lg".into(),
        fields: vec![
            FieldDef::new("Id", FieldType::Id),
            FieldDef::new("EventDate", FieldType::DateTime),
            FieldDef::new("EventIdentifier", FieldType::String),
            FieldDef::new("Username", FieldType::String),
            FieldDef::new("SourceIp", FieldType::String),
            FieldDef::new("CreatedDate", FieldType::DateTime),
            extra,
        ],
        big_object: Some(BigObjectRules {
            index: vec!["EventDate".into(), "EventIdentifier".into()],
        }),
    }
}

fn login_records() -> Vec<Record> {
    let mk = |n: u32, date: &str, ident: &str| {
        let id = format!("0Lg{n:012}AAA");
        Record::new("LoginEvent", Some(id.clone()))
            .with("Id", Value::str(id))
            .with("EventDate", Value::DateTime(dt(date)))
            .with("EventIdentifier", Value::str(ident))
            .with("Username", Value::str(format!("user{n}@example.com")))
            .with("SourceIp", Value::str("10.0.0.1"))
            .with(
                "CreatedDate",
                Value::DateTime(dt(date) + Duration::seconds(3)),
            )
            .with("AdditionalInfo", Value::str("{}"))
    };
    vec![
        mk(1, "2024-06-05T05:41:17.937Z", "aaa"),
        mk(2, "2024-06-05T05:50:00Z", "bbb"),
        mk(3, "2024-06-05T06:41:17.937Z", "ccc"),
        mk(4, "2024-06-05T06:41:17.938Z", "ddd"),
        mk(5, "2024-06-05T05:50:00Z", "eee"),
        mk(6, "2024-06-04T05:50:00Z", "fff"),
    ]
}

fn org_schema() -> ObjectSchema {
    ObjectSchema {
        name: "Organization".into(),
        key_prefix: "00D".into(),
        fields: vec![
            FieldDef::new("Id", FieldType::Id),
            FieldDef::new("Name", FieldType::String),
            FieldDef::new("InstanceName", FieldType::String),
            FieldDef::new("IsSandbox", FieldType::Boolean),
            FieldDef::new("TrialExpirationDate", FieldType::DateTime),
            FieldDef::new("NamespacePrefix", FieldType::String),
            FieldDef::new("OrganizationType", FieldType::String),
        ],
        big_object: None,
    }
}

fn run(q: &str, schema: &ObjectSchema, records: &[Record]) -> Result<Output, SoqlError> {
    let query = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    execute(&query, schema, records.iter(), now())
}

fn rows(q: &str, schema: &ObjectSchema, records: &[Record]) -> Vec<Record> {
    match run(q, schema, records).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Output::Records(r) => r,
        Output::Count(n) => panic!("count {n}"),
    }
}

fn ids(q: &str, schema: &ObjectSchema, records: &[Record]) -> Vec<String> {
    rows(q, schema, records)
        .into_iter()
        .map(|r| r.id.unwrap_or_default())
        .collect()
}

/// Short numbers of the ids (`0AT000000000003AAA` → 3).
fn nums(q: &str, schema: &ObjectSchema, records: &[Record]) -> Vec<u32> {
    ids(q, schema, records)
        .iter()
        .map(|id| id[3..15].parse().unwrap())
        .collect()
}

fn fail(q: &str, schema: &ObjectSchema, records: &[Record]) -> SoqlError {
    run(q, schema, records).expect_err(q)
}

fn field_names(r: &Record) -> Vec<&str> {
    r.fields.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn real_elf_hourly_query() {
    let s = elf_schema();
    let recs = elf_records();
    let q = "SELECT Id,CreatedDate,LogDate,LogFile FROM EventLogFile WHERE Interval = 'Hourly' AND EventType = 'Login' ORDER BY CreatedDate ASC NULLS FIRST, Id ASC";
    assert_eq!(nums(q, &s, &recs), vec![8, 1, 2, 3]);
    let out = rows(q, &s, &recs);
    assert_eq!(
        field_names(&out[0]),
        vec!["Id", "CreatedDate", "LogDate", "LogFile"]
    );
    assert_eq!(out[0].sobject, "EventLogFile");
    assert_eq!(
        out[0].get("CreatedDate"),
        Some(&Value::DateTime(dt("2023-12-19T21:04:34Z")))
    );
}

#[test]
fn real_elf_checkpoint_query() {
    let s = elf_schema();
    let recs = elf_records();
    let q = "SELECT Id,CreatedDate,LogDate,LogFile FROM EventLogFile WHERE Sequence = 0 AND EventType = 'Login' AND (CreatedDate > 2023-12-19T21:04:35.000+0000 OR (CreatedDate = 2023-12-19T21:04:35.000+0000 AND Id > '0AT000000000001AAA')) ORDER BY CreatedDate ASC NULLS FIRST, Id ASC";
    assert_eq!(nums(q, &s, &recs), vec![2, 3]);
}

#[test]
fn real_elf_yesterday_query() {
    let s = elf_schema();
    let recs = elf_records();
    // now = 2024-06-10T12:30Z: YESTERDAY is 2024-06-09; `>` means from 2024-06-10T00:00Z on.
    let q = "SELECT Id, EventType, LogFile, LogDate, LogFileLength FROM EventLogFile WHERE LogDate > Yesterday AND EventType = 'API'";
    let out = rows(q, &s, &recs);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id.as_deref(), Some("0AT000000000007AAA"));
    assert_eq!(
        field_names(&out[0]),
        vec!["Id", "EventType", "LogFile", "LogDate", "LogFileLength"]
    );
    assert_eq!(out[0].get("LogFileLength"), Some(&Value::Double(1007.0)));
}

#[test]
fn date_literal_ranges() {
    let s = elf_schema();
    let recs = elf_records();
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM EventLogFile WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q("LogDate = YESTERDAY"), vec![4]);
    assert_eq!(q("LogDate >= YESTERDAY"), vec![4, 7]);
    assert_eq!(q("LogDate <= YESTERDAY"), vec![1, 2, 3, 4, 5, 6, 8]);
    assert_eq!(q("LogDate < YESTERDAY"), vec![1, 2, 3, 5, 6, 8]);
    assert_eq!(q("LogDate != YESTERDAY"), vec![1, 2, 3, 5, 6, 7, 8]);
    assert_eq!(q("LogDate = TODAY"), vec![7]);
    assert_eq!(q("CreatedDate = TODAY"), vec![4, 7]);
    assert_eq!(q("LogDate < TOMORROW"), vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(q("LogDate = TOMORROW"), Vec::<u32>::new());
    assert_eq!(q("LogDate = LAST_N_DAYS:2"), vec![4, 5, 7]);
    assert_eq!(q("LogDate = LAST_N_DAYS:1"), vec![4, 7]);
    assert_eq!(q("LogDate > LAST_N_DAYS:2"), Vec::<u32>::new());
    assert_eq!(q("LogDate = NEXT_N_DAYS:3"), Vec::<u32>::new());
    assert_eq!(q("CreatedDate = LAST_N_HOURS:2"), vec![7]);
    assert_eq!(q("CreatedDate > LAST_N_HOURS:10"), Vec::<u32>::new());
    // A date literal against a dateTime field covers the whole UTC day.
    assert_eq!(q("CreatedDate = 2023-12-19"), vec![1, 2, 3, 6, 8]);
    assert_eq!(q("CreatedDate > 2023-12-19"), vec![4, 5, 7]);
    assert_eq!(q("CreatedDate >= 2024-06-10"), vec![4, 7]);
    assert_eq!(q("CreatedDate < 2024-06-10"), vec![1, 2, 3, 5, 6, 8]);
    // dateTime literals with offsets.
    assert_eq!(q("CreatedDate = 2023-12-19T13:04:35-0800"), vec![1, 2]);
    assert_eq!(q("CreatedDate = 2023-12-20T02:34:35+05:30"), vec![1, 2]);
    assert_eq!(q("CreatedDate < 2023-12-19T21:04:35Z"), vec![6, 8]);
    assert_eq!(q("CreatedDate <= 2023-12-19T21:04:35Z"), vec![1, 2, 6, 8]);
}

#[test]
fn date_fields() {
    let s = ObjectSchema {
        name: "Thing".into(),
        key_prefix: "a00".into(),
        fields: vec![
            FieldDef::new("Id", FieldType::Id),
            FieldDef::new("Day", FieldType::Date),
        ],
        big_object: None,
    };
    let d = |n: u32, y: i32, m: u32, dd: u32| {
        Record::new("Thing", Some(format!("a00{n:012}AAA")))
            .with("Id", Value::str(format!("a00{n:012}AAA")))
            .with(
                "Day",
                Value::Date(NaiveDate::from_ymd_opt(y, m, dd).unwrap()),
            )
    };
    let recs = vec![
        d(1, 2024, 6, 10),
        d(2, 2024, 6, 9),
        d(3, 2024, 1, 31),
        d(4, 2024, 6, 11),
    ];
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM Thing WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q("Day = 2024-01-31"), vec![3]);
    assert_eq!(q("Day > 2024-01-31"), vec![1, 2, 4]);
    assert_eq!(q("Day = TODAY"), vec![1]);
    assert_eq!(q("Day = YESTERDAY"), vec![2]);
    assert_eq!(q("Day = TOMORROW"), vec![4]);
    assert_eq!(q("Day = LAST_N_DAYS:1"), vec![1, 2]);
    assert_eq!(q("Day = NEXT_N_DAYS:1"), vec![4]);
    assert_eq!(q("Day IN (2024-01-31, TODAY)"), vec![1, 3]);
    let e = fail(
        "SELECT Id FROM Thing WHERE Day = 2024-01-31T00:00:00Z",
        &s,
        &recs,
    );
    assert_eq!(e.code, "INVALID_FIELD");
    assert!(e
        .message
        .contains("must be of type date and should not be enclosed in quotes"));
    assert_eq!(
        fail("SELECT Id FROM Thing WHERE Day = '2024-01-31'", &s, &recs).code,
        "INVALID_FIELD"
    );
}

#[test]
fn string_comparisons_like_and_in() {
    let s = elf_schema();
    let recs = elf_records();
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM EventLogFile WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q("EventType = 'api'"), vec![4, 5, 7]);
    assert_eq!(q("EventType != 'LOGIN'"), vec![4, 5, 7]);
    assert_eq!(q("EventType <> 'login'"), vec![4, 5, 7]);
    assert_eq!(q("EventType LIKE 'lo%'"), vec![1, 2, 3, 6, 8]);
    assert_eq!(q("EventType LIKE '_P_'"), vec![4, 5, 7]);
    assert_eq!(q("EventType LIKE '%GI%'"), vec![1, 2, 3, 6, 8]);
    assert_eq!(q("EventType LIKE 'Log'"), Vec::<u32>::new());
    assert_eq!(q("EventType LIKE '%'"), vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(q("EventType IN ('api', 'Nope')"), vec![4, 5, 7]);
    assert_eq!(q("EventType NOT IN ('api', 'Nope')"), vec![1, 2, 3, 6, 8]);
    assert_eq!(q("NOT EventType = 'API'"), vec![1, 2, 3, 6, 8]);
    assert_eq!(
        q("EventType = 'API' OR Interval = 'daily'"),
        vec![4, 5, 6, 7]
    );
    assert_eq!(
        q("Id IN ('0AT000000000003AAA', '0AT000000000005')"),
        vec![3, 5]
    );
    assert_eq!(q("Id = '0AT000000000003'"), vec![3]);
    assert_eq!(q("Id > '0AT000000000006AAA'"), vec![7, 8]);
}

#[test]
fn like_escapes_and_wildcards() {
    let s = sat_schema();
    let mut recs = sat_records();
    recs.push(
        Record::new("SetupAuditTrail", Some("0Ym000000000009CAA".into()))
            .with("Id", Value::str("0Ym000000000009CAA"))
            .with("Action", Value::str("100%_done"))
            .with("Display", Value::str("x")),
    );
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM SetupAuditTrail WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q(r"Action LIKE '%\%\_%'"), vec![9]);
    assert_eq!(q(r"Action LIKE '100\%%'"), vec![9]);
    assert_eq!(q(r"Action LIKE 'PermSet%'"), vec![1, 4]);
    assert_eq!(q(r"Action LIKE '%set%ss%'"), vec![4]);
}

#[test]
fn numbers_and_booleans() {
    let s = elf_schema();
    let recs = elf_records();
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM EventLogFile WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q("Sequence = 1"), vec![6]);
    assert_eq!(q("Sequence >= 1"), vec![6]);
    assert_eq!(
        q("Sequence < 1.5 AND Sequence > -1"),
        vec![1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(q("LogFileLength > 1005.5"), vec![6, 7, 8]);
    assert_eq!(q("LogFileLength = 1003"), vec![3]);
    assert_eq!(q("Sequence IN (1, 2)"), vec![6]);

    let os = org_schema();
    let org = vec![
        Record::new("Organization", Some("00D000000000001EAA".into()))
            .with("Id", Value::str("00D000000000001EAA"))
            .with("Name", Value::str("Acme"))
            .with("InstanceName", Value::str("SIM1"))
            .with("IsSandbox", Value::Bool(false))
            .with("TrialExpirationDate", Value::Null)
            .with("NamespacePrefix", Value::Null)
            .with("OrganizationType", Value::str("Developer Edition")),
    ];
    assert_eq!(
        ids(
            "SELECT Id FROM Organization WHERE IsSandbox = false",
            &os,
            &org
        )
        .len(),
        1
    );
    assert_eq!(
        ids(
            "SELECT Id FROM Organization WHERE IsSandbox = TRUE",
            &os,
            &org
        )
        .len(),
        0
    );
    assert_eq!(
        ids(
            "SELECT Id FROM Organization WHERE NamespacePrefix = null",
            &os,
            &org
        )
        .len(),
        1
    );
    assert_eq!(
        ids(
            "SELECT Id FROM Organization WHERE NamespacePrefix != null",
            &os,
            &org
        )
        .len(),
        0
    );
    assert_eq!(
        fail(
            "SELECT Id FROM Organization WHERE IsSandbox = 'false'",
            &os,
            &org
        )
        .code,
        "INVALID_FIELD"
    );
    assert_eq!(
        fail("SELECT Id FROM Organization WHERE IsSandbox = 0", &os, &org).code,
        "INVALID_FIELD"
    );
}

#[test]
fn organization_query_projection() {
    let os = org_schema();
    let org = vec![
        Record::new("Organization", Some("00D000000000001EAA".into()))
            .with("Id", Value::str("00D000000000001EAA"))
            .with("Name", Value::str("Acme"))
            .with("InstanceName", Value::str("SIM1"))
            .with("IsSandbox", Value::Bool(false))
            .with("TrialExpirationDate", Value::Null)
            .with("OrganizationType", Value::str("Developer Edition")),
    ];
    let q = "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization";
    let out = rows(q, &os, &org);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id.as_deref(), Some("00D000000000001EAA"));
    assert_eq!(
        out[0].fields,
        vec![
            ("Name".to_string(), Value::str("Acme")),
            ("InstanceName".to_string(), Value::str("SIM1")),
            ("IsSandbox".to_string(), Value::Bool(false)),
            ("TrialExpirationDate".to_string(), Value::Null),
            // Missing from the record data: rendered null.
            ("NamespacePrefix".to_string(), Value::Null),
            (
                "OrganizationType".to_string(),
                Value::str("Developer Edition")
            ),
        ]
    );
}

#[test]
fn null_semantics() {
    let s = sat_schema();
    let recs = sat_records();
    let q = |w: &str| {
        nums(
            &format!("SELECT Id FROM SetupAuditTrail WHERE {w} ORDER BY Id"),
            &s,
            &recs,
        )
    };
    assert_eq!(q("Section = null"), vec![3]);
    assert_eq!(q("Section != NULL"), vec![1, 2, 4]);
    assert_eq!(q("Section IN ('Connected Apps', null)"), vec![2, 3]);
    // As in SOQL, `!=` a value and NOT IN include records whose field is null.
    assert_eq!(q("Section != 'Connected Apps'"), vec![1, 3, 4]);
    assert_eq!(q("Section NOT IN ('Connected Apps')"), vec![1, 3, 4]);
    assert_eq!(q("Section > 'a'"), vec![1, 2, 4]);
    assert_eq!(q("Section < null"), Vec::<u32>::new());
    assert_eq!(q("Section LIKE '%'"), vec![1, 2, 4]);
    assert_eq!(q("CreatedById = null"), vec![3]);
    assert_eq!(q("CreatedBy.Username = null"), vec![3]);
}

#[test]
fn ordering() {
    let s = sat_schema();
    let recs = sat_records();
    let q = |o: &str| {
        nums(
            &format!("SELECT Id FROM SetupAuditTrail ORDER BY {o}"),
            &s,
            &recs,
        )
    };
    // ASC: nulls first by default; DESC: nulls last by default.
    assert_eq!(q("Section"), vec![3, 2, 1, 4]);
    assert_eq!(q("Section ASC NULLS LAST"), vec![2, 1, 4, 3]);
    assert_eq!(q("Section DESC"), vec![4, 1, 2, 3]);
    assert_eq!(q("Section DESC NULLS FIRST"), vec![3, 4, 1, 2]);
    // Multi-key and stability.
    assert_eq!(q("CreatedDate, Id DESC"), vec![4, 1, 2, 3]);
    assert_eq!(q("CreatedDate"), vec![1, 4, 2, 3]);
    assert_eq!(q("CreatedDate DESC"), vec![3, 2, 1, 4]);
    assert_eq!(q("CreatedBy.Username DESC, Id"), vec![2, 1, 4, 3]);
    let e = fail(
        "SELECT Id FROM EventLogFile ORDER BY LogFile",
        &elf_schema(),
        &[],
    );
    assert_eq!(e.code, "INVALID_FIELD");
    assert_eq!(
        fail(
            "SELECT Id FROM EventLogFile ORDER BY Nope",
            &elf_schema(),
            &[]
        )
        .code,
        "INVALID_FIELD"
    );
}

#[test]
fn limit_offset_and_count() {
    let s = elf_schema();
    let recs = elf_records();
    assert_eq!(
        nums("SELECT Id FROM EventLogFile ORDER BY Id LIMIT 3", &s, &recs),
        vec![1, 2, 3]
    );
    assert_eq!(
        nums(
            "SELECT Id FROM EventLogFile ORDER BY Id LIMIT 3 OFFSET 2",
            &s,
            &recs
        ),
        vec![3, 4, 5]
    );
    assert_eq!(
        nums(
            "SELECT Id FROM EventLogFile ORDER BY Id OFFSET 6",
            &s,
            &recs
        ),
        vec![7, 8]
    );
    assert_eq!(
        nums("SELECT Id FROM EventLogFile ORDER BY Id LIMIT 0", &s, &recs),
        Vec::<u32>::new()
    );
    assert_eq!(
        run("SELECT count() FROM EventLogFile", &s, &recs).unwrap(),
        Output::Count(8)
    );
    assert_eq!(
        run(
            "SELECT COUNT() FROM EventLogFile WHERE EventType = 'API'",
            &s,
            &recs
        )
        .unwrap(),
        Output::Count(3)
    );
    assert_eq!(
        run("SELECT count() FROM EventLogFile LIMIT 5", &s, &recs).unwrap(),
        Output::Count(5)
    );
    let e = fail("SELECT Id FROM EventLogFile OFFSET 2001", &s, &recs);
    assert_eq!(e.code, "NUMBER_OUTSIDE_VALID_RANGE");
    // Without ORDER BY, source order is kept.
    assert_eq!(
        nums(
            "SELECT Id FROM EventLogFile WHERE EventType = 'API'",
            &s,
            &recs
        ),
        vec![4, 5, 7]
    );
}

#[test]
fn real_count_query_on_setup_audit_trail() {
    assert_eq!(
        run(
            "SELECT count() FROM SetupAuditTrail",
            &sat_schema(),
            &sat_records()
        )
        .unwrap(),
        Output::Count(4)
    );
}

#[test]
fn canonical_casing_and_fields_expansion() {
    let s = elf_schema();
    let recs = elf_records();
    let out = rows(
        "select id, eventtype, LOGFILELENGTH from eventlogfile where id = '0AT000000000004AAA'",
        &s,
        &recs,
    );
    assert_eq!(
        field_names(&out[0]),
        vec!["Id", "EventType", "LogFileLength"]
    );
    assert_eq!(
        selected_fields(
            &parse("select id, eventtype from EVENTLOGFILE").unwrap(),
            &s
        )
        .unwrap(),
        vec![vec!["Id".to_string()], vec!["EventType".to_string()]]
    );

    let ls = login_schema();
    let all: Vec<&str> = vec![
        "Id",
        "EventDate",
        "EventIdentifier",
        "Username",
        "SourceIp",
        "CreatedDate",
        "AdditionalInfo",
    ];
    let std_names = selected_fields(
        &parse("SELECT FIELDS(STANDARD) FROM LoginEvent").unwrap(),
        &ls,
    )
    .unwrap();
    assert_eq!(
        std_names.iter().map(|p| p[0].as_str()).collect::<Vec<_>>(),
        all[..6].to_vec()
    );
    let all_names = selected_fields(
        &parse("SELECT FIELDS(ALL) FROM LoginEvent LIMIT 200").unwrap(),
        &ls,
    )
    .unwrap();
    assert_eq!(
        all_names.iter().map(|p| p[0].as_str()).collect::<Vec<_>>(),
        all
    );
    let custom = selected_fields(
        &parse("SELECT FIELDS(CUSTOM) FROM LoginEvent").unwrap(),
        &ls,
    )
    .unwrap();
    assert!(custom.is_empty());
    // Explicit fields alongside FIELDS() are not duplicated.
    let mixed = selected_fields(
        &parse("SELECT Username, FIELDS(STANDARD) FROM LoginEvent").unwrap(),
        &ls,
    )
    .unwrap();
    assert_eq!(mixed.len(), 6);
    assert_eq!(mixed[0], vec!["Username".to_string()]);
    assert!(
        selected_fields(&parse("SELECT count() FROM LoginEvent").unwrap(), &ls)
            .unwrap()
            .is_empty()
    );
    let e = selected_fields(&parse("SELECT Foo FROM LoginEvent").unwrap(), &ls).unwrap_err();
    assert_eq!(e.code, "INVALID_FIELD");
    let e = fail("SELECT Id, id FROM EventLogFile", &s, &recs);
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert!(e.message.contains("duplicate field selected"));
}

#[test]
fn relationship_projection() {
    let s = sat_schema();
    let recs = sat_records();
    let out = rows(
        "SELECT Id, createdby.username, Action, CreatedBy.NAME, CreatedBy.Missing FROM SetupAuditTrail ORDER BY Id",
        &s,
        &recs,
    );
    assert_eq!(field_names(&out[0]), vec!["Id", "CreatedBy", "Action"]);
    let Some(Value::Record(u)) = out[0].get("CreatedBy") else {
        panic!("{:?}", out[0]);
    };
    assert_eq!(u.sobject, "User");
    assert_eq!(u.id.as_deref(), Some("005000000000001AAA"));
    assert_eq!(
        u.fields,
        vec![
            ("Username".to_string(), Value::str("admin@example.com")),
            ("Name".to_string(), Value::str("Admin User")),
            ("Missing".to_string(), Value::Null),
        ]
    );
    // No related record: null.
    assert_eq!(out[2].get("CreatedBy"), Some(&Value::Null));
    assert_eq!(
        selected_fields(
            &parse("SELECT createdby.username FROM SetupAuditTrail").unwrap(),
            &s
        )
        .unwrap(),
        vec![vec!["CreatedBy".to_string(), "username".to_string()]]
    );
    // JSON rendering nests the related record with its attributes.
    let j = out[0].to_json("60.0");
    assert_eq!(j["CreatedBy"]["attributes"]["type"], "User");
    assert_eq!(j["CreatedBy"]["Username"], "admin@example.com");
    // Filtering through the relationship.
    assert_eq!(
        nums("SELECT Id FROM SetupAuditTrail WHERE CreatedBy.Username = 'ADMIN@example.com' ORDER BY Id", &s, &recs),
        vec![1, 4]
    );
    assert_eq!(
        nums(
            "SELECT Id FROM SetupAuditTrail WHERE CreatedBy.Name LIKE 'ops'",
            &s,
            &recs
        ),
        vec![2]
    );
    // Unknown relationship, or a plain field used as one.
    for q in [
        "SELECT Owner.Name FROM SetupAuditTrail",
        "SELECT Action.Name FROM SetupAuditTrail",
        "SELECT CreatedBy FROM SetupAuditTrail",
    ] {
        assert_eq!(fail(q, &s, &recs).code, "INVALID_FIELD", "{q}");
    }
    assert!(fail("SELECT Owner.Name FROM SetupAuditTrail", &s, &recs)
        .message
        .starts_with("Didn't understand relationship 'Owner' in field path."));
}

#[test]
fn real_setup_audit_trail_query() {
    let s = sat_schema();
    let recs = sat_records();
    let out = rows(
        "SELECT FIELDS(STANDARD) FROM SetupAuditTrail WHERE CreatedDate > 2024-06-01T10:00:00.000Z ORDER BY CreatedDate ASC NULLS FIRST",
        &s,
        &recs,
    );
    assert_eq!(
        out.iter()
            .map(|r| r.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["0Ym000000000002CAA", "0Ym000000000003CAA"]
    );
    assert_eq!(
        field_names(&out[0]),
        vec![
            "Id",
            "Action",
            "Section",
            "CreatedDate",
            "CreatedById",
            "Display"
        ]
    );
}

#[test]
fn validation_errors() {
    let s = elf_schema();
    let recs = elf_records();
    let e = fail("SELECT Id, Foo FROM EventLogFile", &s, &recs);
    assert_eq!(e.code, "INVALID_FIELD");
    assert_eq!(
        e.message,
        "No such column 'Foo' on entity 'EventLogFile'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
    assert_eq!(
        fail("SELECT Id FROM EventLogFile WHERE Foo = 1", &s, &recs).code,
        "INVALID_FIELD"
    );
    let e = fail("SELECT Id FROM Lead", &s, &recs);
    assert_eq!(e.code, "INVALID_TYPE");
    assert_eq!(e.message, "sObject type 'Lead' is not supported.");
    assert!(run("SELECT Id FROM eventlogfile", &s, &recs).is_ok());

    let e = fail(
        "SELECT Id FROM EventLogFile WHERE CreatedDate > '2023-12-19T21:04:35Z'",
        &s,
        &recs,
    );
    assert_eq!(e.code, "INVALID_FIELD");
    assert_eq!(
        e.message,
        "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"
    );
    let e = fail("SELECT Id FROM EventLogFile WHERE EventType = 5", &s, &recs);
    assert_eq!(e.code, "INVALID_FIELD");
    assert!(e
        .message
        .contains("must be of type string and should be enclosed in quotes"));
    let e = fail(
        "SELECT Id FROM EventLogFile WHERE Sequence = '0'",
        &s,
        &recs,
    );
    assert!(e
        .message
        .contains("'Sequence' must be of type integer and should not be enclosed in quotes"));
    let e = fail(
        "SELECT Id FROM EventLogFile WHERE LogFileLength IN (1, '2')",
        &s,
        &recs,
    );
    assert!(e.message.contains("must be of type double"));
    assert_eq!(
        fail(
            "SELECT Id FROM EventLogFile WHERE CreatedDate = true",
            &s,
            &recs
        )
        .code,
        "INVALID_FIELD"
    );
    assert_eq!(
        fail(
            "SELECT Id FROM EventLogFile WHERE EventType = TODAY",
            &s,
            &recs
        )
        .code,
        "INVALID_FIELD"
    );
    let e = fail("SELECT Id FROM EventLogFile WHERE Id = 'nope'", &s, &recs);
    assert_eq!(e.code, "INVALID_QUERY_FILTER_OPERATOR");
    assert_eq!(e.message, "invalid ID field: nope");
    let e = fail("SELECT Id FROM EventLogFile WHERE LogFile = 'x'", &s, &recs);
    assert_eq!(e.code, "INVALID_FIELD");
    assert!(e.message.contains("can not be filtered"));
    let e = fail(
        "SELECT Id FROM EventLogFile WHERE Sequence LIKE '1%'",
        &s,
        &recs,
    );
    assert_eq!(e.code, "INVALID_QUERY_FILTER_OPERATOR");
    assert_eq!(
        fail(
            "SELECT Id FROM EventLogFile WHERE EventType LIKE 5",
            &s,
            &recs
        )
        .code,
        "INVALID_FIELD"
    );
}

#[test]
fn real_login_event_query() {
    let s = login_schema();
    let recs = login_records();
    let q = "SELECT FIELDS(STANDARD) FROM LoginEvent WHERE EventDate > 2024-06-05T05:41:17.937Z AND EventDate <= 2024-06-05T06:41:17.937Z ORDER BY EventDate DESC";
    let out = rows(q, &s, &recs);
    let idents: Vec<&str> = out
        .iter()
        .map(|r| r.get("EventIdentifier").and_then(Value::as_str).unwrap())
        .collect();
    assert_eq!(idents, vec!["ccc", "bbb", "eee"]);
    assert_eq!(
        field_names(&out[0]),
        vec![
            "Id",
            "EventDate",
            "EventIdentifier",
            "Username",
            "SourceIp",
            "CreatedDate"
        ]
    );
    assert_eq!(out[0].sobject, "LoginEvent");
}

#[test]
fn big_object_default_order_and_valid_filters() {
    let s = login_schema();
    let recs = login_records();
    let idents = |q: &str| -> Vec<String> {
        rows(q, &s, &recs)
            .iter()
            .map(|r| {
                r.get("EventIdentifier")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    // Index order, descending, without ORDER BY.
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent"),
        vec!["ddd", "ccc", "eee", "bbb", "aaa", "fff"]
    );
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent ORDER BY EventDate DESC, EventIdentifier DESC LIMIT 3"),
        vec!["ddd", "ccc", "eee"]
    );
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent WHERE EventDate = 2024-06-05T05:50:00Z AND EventIdentifier > 'bbb'"),
        vec!["eee"]
    );
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent WHERE EventDate = 2024-06-05T05:50:00Z AND EventIdentifier IN ('bbb', 'zzz')"),
        vec!["bbb"]
    );
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent WHERE EventDate < 2024-06-05"),
        vec!["fff"]
    );
    assert_eq!(
        idents("SELECT EventIdentifier FROM LoginEvent WHERE EventDate = LAST_N_DAYS:7"),
        vec!["ddd", "ccc", "eee", "bbb", "aaa", "fff"]
    );
}

#[test]
fn big_object_rules() {
    let s = login_schema();
    let recs = login_records();
    let filter = |q: &str| {
        let e = fail(q, &s, &recs);
        assert_eq!(
            e.code, "INVALID_QUERY_FILTER_OPERATOR",
            "{q}: {}",
            e.message
        );
        e.message
    };
    let malformed = |q: &str| {
        let e = fail(q, &s, &recs);
        assert_eq!(e.code, "MALFORMED_QUERY", "{q}: {}", e.message);
        e.message
    };
    assert!(
        filter("SELECT Id FROM LoginEvent WHERE CreatedDate > 2024-06-05T00:00:00Z")
            .contains("'CreatedDate'")
    );
    filter("SELECT Id FROM LoginEvent WHERE Username = 'x'");
    assert!(
        filter("SELECT Id FROM LoginEvent WHERE EventIdentifier = 'aaa'").contains("'EventDate'")
    );
    filter("SELECT Id FROM LoginEvent WHERE EventDate > 2024-06-05T00:00:00Z AND EventIdentifier = 'aaa'");
    filter("SELECT Id FROM LoginEvent WHERE EventDate = TODAY AND EventIdentifier = 'aaa'");
    filter("SELECT Id FROM LoginEvent WHERE EventDate = 2024-06-05T00:00:00Z OR EventDate = 2024-06-06T00:00:00Z");
    filter("SELECT Id FROM LoginEvent WHERE NOT EventDate = 2024-06-05T00:00:00Z");
    assert!(
        filter("SELECT Id FROM LoginEvent WHERE EventDate != 2024-06-05T00:00:00Z").contains("!=")
    );
    filter("SELECT Id FROM LoginEvent WHERE EventDate = 2024-06-05T00:00:00Z AND EventIdentifier LIKE 'a%'");
    filter("SELECT Id FROM LoginEvent WHERE EventDate NOT IN (2024-06-05T00:00:00Z)");
    filter("SELECT Id FROM LoginEvent WHERE EventDate > 2024-06-05T00:00:00Z AND EventDate > 2024-06-05T01:00:00Z AND EventDate < 2024-06-06T00:00:00Z");
    assert!(
        malformed("SELECT Id FROM LoginEvent ORDER BY EventDate ASC").contains("EventDate DESC")
    );
    malformed("SELECT Id FROM LoginEvent ORDER BY EventDate");
    malformed("SELECT Id FROM LoginEvent ORDER BY EventIdentifier DESC");
    malformed("SELECT Id FROM LoginEvent ORDER BY EventDate DESC, EventIdentifier ASC");
    malformed("SELECT Id FROM LoginEvent ORDER BY CreatedDate DESC");
    assert!(
        malformed("SELECT Id FROM LoginEvent ORDER BY EventDate DESC LIMIT 10 OFFSET 10")
            .contains("OFFSET")
    );
    malformed("SELECT count() FROM LoginEvent");
    // Valid shapes.
    for q in [
        "SELECT Id FROM LoginEvent",
        "SELECT Id FROM LoginEvent WHERE EventDate = 2024-06-05T05:50:00Z",
        "SELECT Id FROM LoginEvent WHERE EventDate >= 2024-06-05T05:50:00Z",
        "SELECT Id FROM LoginEvent WHERE EventDate = TODAY",
        "SELECT Id FROM LoginEvent WHERE EventDate = 2024-06-05T05:50:00Z AND EventIdentifier = 'x'",
        "SELECT Id FROM LoginEvent WHERE EventIdentifier <= 'x' AND EventDate = 2024-06-05T05:50:00Z",
        "SELECT Id FROM LoginEvent WHERE EventDate = 2024-06-05T05:50:00Z AND EventIdentifier > 'a' AND EventIdentifier < 'x'",
        "SELECT Id, Username FROM LoginEvent ORDER BY EventDate DESC, EventIdentifier DESC LIMIT 5",
    ] {
        run(q, &s, &recs).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}
