//! Parser tests: every literal form, precedence, clauses and syntax errors.

use chrono::{NaiveDate, TimeZone, Utc};
use soql::ast::{CmpOp, DateLiteral, Expr, FieldsKind, Literal, OrderItem, SelectItem};
use soql::parse;

fn path(s: &str) -> Vec<String> {
    s.split('.').map(str::to_string).collect()
}

fn cmp(f: &str, op: CmpOp, value: Literal) -> Expr {
    Expr::Cmp {
        field: path(f),
        op,
        value,
    }
}

/// The literal of `SELECT Id FROM X WHERE F = <lit>`.
fn lit(s: &str) -> Literal {
    let q =
        parse(&format!("SELECT Id FROM X WHERE F = {s}")).unwrap_or_else(|e| panic!("{s}: {e}"));
    match q.where_ {
        Some(Expr::Cmp { value, .. }) => value,
        other => panic!("{other:?}"),
    }
}

fn err(q: &str) -> soql::SoqlError {
    parse(q).expect_err(q)
}

#[test]
fn simple_select() {
    let q = parse("SELECT Id, CreatedBy.Username FROM SetupAuditTrail").unwrap();
    assert_eq!(
        q.select,
        vec![
            SelectItem::Field(path("Id")),
            SelectItem::Field(path("CreatedBy.Username"))
        ]
    );
    assert_eq!(q.from, "SetupAuditTrail");
    assert_eq!(q.where_, None);
    assert!(q.order_by.is_empty());
    assert_eq!((q.limit, q.offset), (None, None));
}

#[test]
fn keywords_are_case_insensitive() {
    let q = parse("select id from eventlogfile where eventtype = 'API' order by id desc nulls last limit 5 offset 2")
        .unwrap();
    assert_eq!(q.from, "eventlogfile");
    assert_eq!(
        q.order_by,
        vec![OrderItem {
            field: path("id"),
            descending: true,
            nulls_first: Some(false)
        }]
    );
    assert_eq!((q.limit, q.offset), (Some(5), Some(2)));
}

#[test]
fn fields_and_count() {
    let q = parse("SELECT FIELDS(STANDARD) FROM LoginEvent").unwrap();
    assert_eq!(q.select, vec![SelectItem::Fields(FieldsKind::Standard)]);
    let q = parse("SELECT fields(all), Id FROM X LIMIT 200").unwrap();
    assert_eq!(
        q.select,
        vec![
            SelectItem::Fields(FieldsKind::All),
            SelectItem::Field(path("Id"))
        ]
    );
    let q = parse("SELECT FIELDS(Custom) FROM X").unwrap();
    assert_eq!(q.select, vec![SelectItem::Fields(FieldsKind::Custom)]);
    let q = parse("SELECT count() FROM SetupAuditTrail").unwrap();
    assert_eq!(q.select, vec![SelectItem::Count]);
    let q = parse("SELECT COUNT ( ) FROM X").unwrap();
    assert_eq!(q.select, vec![SelectItem::Count]);
    assert_eq!(
        err("SELECT count(Id) FROM SetupAuditTrail").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(err("SELECT Id, count() FROM X").code, "MALFORMED_QUERY");
    assert_eq!(err("SELECT count(), Id FROM X").code, "MALFORMED_QUERY");
    assert_eq!(err("SELECT FIELDS(SOME) FROM X").code, "MALFORMED_QUERY");
}

#[test]
fn datetime_literals_in_every_form() {
    let base = Utc.with_ymd_and_hms(2005, 10, 8, 1, 2, 3).unwrap();
    assert_eq!(lit("2005-10-08T01:02:03Z"), Literal::DateTime(base));
    assert_eq!(lit("2005-10-08t01:02:03z"), Literal::DateTime(base));
    assert_eq!(
        lit("2005-10-08T01:02:03.973Z"),
        Literal::DateTime(base + chrono::Duration::milliseconds(973))
    );
    assert_eq!(lit("2005-10-08T06:32:03+05:30"), Literal::DateTime(base));
    assert_eq!(lit("2005-10-07T17:02:03-0800"), Literal::DateTime(base));
    assert_eq!(lit("2005-10-07T17:02:03-08:00"), Literal::DateTime(base));
    assert_eq!(lit("2005-10-08T01:02:03+0000"), Literal::DateTime(base));
    let t = Utc.with_ymd_and_hms(2023, 12, 6, 5, 44, 24).unwrap();
    assert_eq!(
        lit("2023-12-06T05:44:24.973+0000"),
        Literal::DateTime(t + chrono::Duration::milliseconds(973))
    );
    assert_eq!(lit("2023-12-06T05:44:24.000Z"), Literal::DateTime(t));
    assert_eq!(
        lit("2023-12-06T05:44:24.5Z"),
        Literal::DateTime(t + chrono::Duration::milliseconds(500))
    );
    // Without a zone, or malformed: syntax errors.
    for bad in [
        "2023-12-06T05:44:24",
        "2023-12-06T05:44Z",
        "2023-13-06T05:44:24Z",
        "2023-12-06T25:44:24Z",
        "2023-12-06T05:44:24.Z",
        "2023-12-06T05:44:24+5",
        "2023-12-06T05:44:24Zx",
    ] {
        let e = err(&format!("SELECT Id FROM X WHERE F = {bad}"));
        assert_eq!(e.code, "MALFORMED_QUERY", "{bad}");
    }
}

#[test]
fn date_and_relative_literals() {
    assert_eq!(
        lit("2024-01-31"),
        Literal::Date(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap())
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F = 2024-02-30").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(lit("TODAY"), Literal::DateLiteral(DateLiteral::Today));
    assert_eq!(
        lit("Yesterday"),
        Literal::DateLiteral(DateLiteral::Yesterday)
    );
    assert_eq!(lit("tomorrow"), Literal::DateLiteral(DateLiteral::Tomorrow));
    assert_eq!(
        lit("LAST_N_DAYS:7"),
        Literal::DateLiteral(DateLiteral::LastNDays(7))
    );
    assert_eq!(
        lit("last_n_days : 30"),
        Literal::DateLiteral(DateLiteral::LastNDays(30))
    );
    assert_eq!(
        lit("NEXT_N_DAYS:2"),
        Literal::DateLiteral(DateLiteral::NextNDays(2))
    );
    assert_eq!(
        lit("LAST_N_HOURS:12"),
        Literal::DateLiteral(DateLiteral::LastNHours(12))
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F = LAST_N_DAYS").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F = LAST_N_DAYS:-1").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F = LAST_N_DAYS:1.5").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F = SOMEDAY").code,
        "MALFORMED_QUERY"
    );
}

#[test]
fn scalar_literals() {
    assert_eq!(lit("'Hourly'"), Literal::String("Hourly".into()));
    assert_eq!(lit(r"'O\'Brien'"), Literal::String("O'Brien".into()));
    assert_eq!(lit(r"'a\\b\nc\td'"), Literal::String("a\\b\nc\td".into()));
    assert_eq!(lit("''"), Literal::String(String::new()));
    assert_eq!(lit("0"), Literal::Number(0.0));
    assert_eq!(lit("42"), Literal::Number(42.0));
    assert_eq!(lit("-42"), Literal::Number(-42.0));
    assert_eq!(lit("2692.5"), Literal::Number(2692.5));
    assert_eq!(lit("-0.25"), Literal::Number(-0.25));
    assert_eq!(lit("true"), Literal::Bool(true));
    assert_eq!(lit("FALSE"), Literal::Bool(false));
    assert_eq!(lit("Null"), Literal::Null);
}

#[test]
fn operators() {
    for (s, op) in [
        ("=", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<>", CmpOp::Ne),
        ("<", CmpOp::Lt),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        (">=", CmpOp::Ge),
        ("like", CmpOp::Like),
    ] {
        let q = parse(&format!("SELECT Id FROM X WHERE F {s} 'a'")).unwrap();
        assert_eq!(
            q.where_,
            Some(cmp("F", op, Literal::String("a".into()))),
            "{s}"
        );
    }
    let q = parse("SELECT Id FROM X WHERE F IN ('a', 'b')").unwrap();
    assert_eq!(
        q.where_,
        Some(Expr::In {
            field: path("F"),
            negated: false,
            values: vec![Literal::String("a".into()), Literal::String("b".into())]
        })
    );
    let q = parse("SELECT Id FROM X WHERE F not in (1,2,null)").unwrap();
    assert_eq!(
        q.where_,
        Some(Expr::In {
            field: path("F"),
            negated: true,
            values: vec![Literal::Number(1.0), Literal::Number(2.0), Literal::Null]
        })
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE F IN ()").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(err("SELECT Id FROM X WHERE F == 1").code, "MALFORMED_QUERY");
    assert_eq!(err("SELECT Id FROM X WHERE F").code, "MALFORMED_QUERY");
}

#[test]
fn and_or_not_and_parentheses() {
    let a = || cmp("A", CmpOp::Eq, Literal::Number(1.0));
    let b = || cmp("B", CmpOp::Eq, Literal::Number(2.0));
    let c = || cmp("C", CmpOp::Eq, Literal::Number(3.0));
    let and = |x: Expr, y: Expr| Expr::And(Box::new(x), Box::new(y));
    let or = |x: Expr, y: Expr| Expr::Or(Box::new(x), Box::new(y));
    let w = |s: &str| {
        parse(&format!("SELECT Id FROM X WHERE {s}"))
            .unwrap()
            .where_
            .unwrap()
    };

    assert_eq!(w("A = 1 AND B = 2 AND C = 3"), and(and(a(), b()), c()));
    assert_eq!(w("A = 1 or B = 2 or C = 3"), or(or(a(), b()), c()));
    assert_eq!(w("A = 1 AND (B = 2 OR C = 3)"), and(a(), or(b(), c())));
    assert_eq!(w("(A = 1 AND B = 2) OR C = 3"), or(and(a(), b()), c()));
    assert_eq!(w("((A = 1))"), a());
    assert_eq!(w("NOT A = 1"), Expr::Not(Box::new(a())));
    assert_eq!(w("NOT (A = 1 OR B = 2)"), Expr::Not(Box::new(or(a(), b()))));
    assert_eq!(w("A = 1 AND NOT B = 2"), and(a(), Expr::Not(Box::new(b()))));

    // Salesforce requires parentheses when AND and OR are mixed at one level.
    let e = err("SELECT Id FROM X WHERE A = 1 AND B = 2 OR C = 3");
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert!(
        e.message.ends_with("unexpected token: 'OR'"),
        "{}",
        e.message
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE A = 1 OR B = 2 AND C = 3").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(err("SELECT Id FROM X WHERE (A = 1").code, "MALFORMED_QUERY");
    assert_eq!(err("SELECT Id FROM X WHERE A = 1)").code, "MALFORMED_QUERY");
}

#[test]
fn order_by_limit_offset() {
    let q = parse("SELECT Id FROM X ORDER BY CreatedDate ASC NULLS FIRST, Id ASC, Name DESC, B NULLS LAST LIMIT 10 OFFSET 20")
        .unwrap();
    assert_eq!(
        q.order_by,
        vec![
            OrderItem {
                field: path("CreatedDate"),
                descending: false,
                nulls_first: Some(true)
            },
            OrderItem {
                field: path("Id"),
                descending: false,
                nulls_first: None
            },
            OrderItem {
                field: path("Name"),
                descending: true,
                nulls_first: None
            },
            OrderItem {
                field: path("B"),
                descending: false,
                nulls_first: Some(false)
            },
        ]
    );
    assert_eq!((q.limit, q.offset), (Some(10), Some(20)));
    assert_eq!(parse("SELECT Id FROM X OFFSET 3").unwrap().offset, Some(3));
    assert_eq!(err("SELECT Id FROM X LIMIT -1").code, "MALFORMED_QUERY");
    assert_eq!(err("SELECT Id FROM X LIMIT 1.5").code, "MALFORMED_QUERY");
    assert_eq!(
        err("SELECT Id FROM X OFFSET 1 LIMIT 2").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(err("SELECT Id FROM X ORDER Id").code, "MALFORMED_QUERY");
    assert_eq!(
        err("SELECT Id FROM X ORDER BY Id NULLS").code,
        "MALFORMED_QUERY"
    );
}

#[test]
fn real_collector_queries_parse() {
    for q in [
        "SELECT Id,CreatedDate,LogDate,LogFile FROM EventLogFile WHERE Interval = 'Hourly' AND EventType = 'Login' ORDER BY CreatedDate ASC NULLS FIRST, Id ASC",
        "SELECT Id,CreatedDate,LogDate,LogFile FROM EventLogFile WHERE Sequence = 0 AND EventType = 'Login' AND (CreatedDate > 2023-12-19T21:04:35.000+0000 OR (CreatedDate = 2023-12-19T21:04:35.000+0000 AND Id > '0AT000000000001AAA')) ORDER BY CreatedDate ASC NULLS FIRST, Id ASC",
        "SELECT Id, EventType, LogFile, LogDate, LogFileLength FROM EventLogFile WHERE LogDate > Yesterday AND EventType = 'API'",
        "SELECT FIELDS(STANDARD) FROM LoginEvent WHERE EventDate > 2024-06-05T05:41:17.937Z AND EventDate <= 2024-06-05T06:41:17.937Z ORDER BY EventDate DESC",
        "SELECT count() FROM SetupAuditTrail",
        "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization",
        "SELECT FIELDS(STANDARD) FROM SetupAuditTrail WHERE CreatedDate > 2024-01-01T00:00:00.000Z ORDER BY CreatedDate ASC NULLS FIRST",
        "SELECT UserId, LoginTime FROM LoginHistory WHERE LoginTime > 2010-09-20T22:16:30.000Z",
        "SELECT Id\nFROM EventLogFile\r\nWHERE LogDate = LAST_N_DAYS:7\n",
    ] {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

#[test]
fn syntax_errors_look_like_salesforce() {
    let e = err("SELECT Id FORM EventLogFile");
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert_eq!(
        e.message,
        "\nSELECT Id FORM EventLogFile\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    );
    let e = err("SELECT Id\nFROM X\nWHERE Name = 'a' GARBAGE");
    assert!(
        e.message.contains("ERROR at Row:3:Column:18"),
        "{}",
        e.message
    );
    assert!(
        e.message.ends_with("unexpected token: 'GARBAGE'"),
        "{}",
        e.message
    );
    let e = err("SELECT Id FROM");
    assert!(
        e.message.ends_with("unexpected token: '<EOF>'"),
        "{}",
        e.message
    );
    let e = err("SELECT FROM X");
    assert!(
        e.message.ends_with("unexpected token: 'FROM'"),
        "{}",
        e.message
    );
    for q in [
        "",
        "SELEC Id FROM X",
        "SELECT Id, FROM X",
        "SELECT Id FROM X WHERE",
        "SELECT Id FROM X WHERE Name = 'unterminated",
        "SELECT Id FROM X GROUP BY Id",
        "SELECT Id FROM X WITH SECURITY_ENFORCED",
        "SELECT Id FROM X x",
        "SELECT Id FROM X WHERE Name = 'a' 'b'",
        "SELECT Id FROM X WHERE Name LIKE",
        "SELECT Id FROM X WHERE A. = 1",
        "SELECT Id FROM X; DROP",
        "SELECT Id FROM X WHERE Name = unquoted",
    ] {
        assert_eq!(err(q).code, "MALFORMED_QUERY", "{q}");
    }
}

#[test]
fn relationship_paths() {
    let q = parse("SELECT CreatedBy.Username, CreatedBy.Manager.Name FROM SetupAuditTrail WHERE CreatedBy.Username LIKE 'a%' ORDER BY CreatedBy.Name")
        .unwrap();
    assert_eq!(
        q.select,
        vec![
            SelectItem::Field(path("CreatedBy.Username")),
            SelectItem::Field(path("CreatedBy.Manager.Name"))
        ]
    );
    assert_eq!(q.order_by[0].field, path("CreatedBy.Name"));
}
