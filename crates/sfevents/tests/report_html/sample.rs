//! A report document like `sfevents report all` makes, with hostile text (markup, quotes,
//! ampersands, a CR LF) in the places Salesforce data reaches: org name, users, app names,
//! setup actions.

use reports::model::{Cell, ChartKind, Document, Figure, Kind, OrgInfo, Period, Section, Table};

pub const HOSTILE: &str = "<img src=x onerror=alert(1)> \"Ops\" & 'Sons' </td>\r\n<!--";

fn figure(label: &str, value: Cell) -> Figure {
    let kind = match value {
        Cell::Int(_) => Kind::Int,
        Cell::Float(_) => Kind::Float,
        _ => Kind::Text,
    };
    Figure {
        label: label.to_string(),
        value,
        kind,
    }
}

fn section(id: &str, title: &str) -> Section {
    Section {
        id: id.to_string(),
        title: title.to_string(),
        sources: Vec::new(),
        figures: Vec::new(),
        empty: None,
        notes: Vec::new(),
        tables: Vec::new(),
    }
}

/// A small deterministic pseudo-random walk, so the charts look like data.
fn wave(i: usize, base: i64, amp: i64) -> i64 {
    let x = i as f64;
    base + ((x * 0.9).sin() * amp as f64 * 0.6 + (x * 0.23).cos() * amp as f64 * 0.4) as i64
        + ((i * 7919) % 13) as i64 * amp / 20
}

fn api_usage() -> Section {
    let mut s = section("api-usage", "API usage");
    s.sources = vec![
        "ApiTotalUsage (EventLogFile): 30 files, 1,950,231 rows".into(),
        "API (EventLogFile): 30 files, 48,212 rows".into(),
    ];
    s.figures = vec![
        figure("calls", Cell::Int(1_950_231)),
        Figure {
            label: "success rate".into(),
            value: Cell::Float(93.14),
            kind: Kind::Percent,
        },
        figure("users calling the API", Cell::Int(42)),
        figure("calls on retired versions", Cell::Int(318)),
        figure("average calls a day", Cell::Float(65007.7)),
    ];
    s.notes =
        vec!["Versions at or below 30.0 were retired in Summer '25: their calls fail.".into()];
    let mut day = Table::new(
        "api_usage_per_day",
        "Calls per day",
        &[
            ("day", Kind::Time),
            ("calls", Kind::Int),
            ("failed", Kind::Int),
        ],
    )
    .chart(ChartKind::Line, 0, &[1, 2]);
    for d in 0..30 {
        day.push(vec![
            Cell::text(if d < 20 {
                format!("2026-02-{:02}", d + 9)
            } else {
                format!("2026-03-{:02}", d - 19)
            }),
            Cell::Int(wave(d, 62_000, 14_000)),
            if d == 11 {
                Cell::Empty
            } else {
                Cell::Int(wave(d + 5, 4_300, 1_600))
            },
        ]);
    }
    let mut user = Table::new(
        "api_usage_per_user",
        "Top users by calls",
        &[
            ("user", Kind::Text),
            ("calls", Kind::Int),
            ("share", Kind::Percent),
            ("avg ms", Kind::Float),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let users = [
        "integration@acme.example",
        HOSTILE,
        "etl-nightly@acme.example",
        "marketing.sync@acme.example",
        "a.very.long.service.account.name.for.the.data.warehouse@acme.example",
        "jdoe@acme.example",
        "reporting@acme.example",
        "mobile@acme.example",
    ];
    let mut calls = 812_345_i64;
    for (i, u) in users.iter().enumerate() {
        user.push(vec![
            Cell::text(*u),
            Cell::Int(calls),
            Cell::Float(calls as f64 * 100.0 / 1_950_231.0),
            Cell::Float(40.0 + i as f64 * 17.3 + 0.1 + 0.2),
        ]);
        calls = calls * 11 / 20;
    }
    user.omitted = 34;
    let mut version = Table::new(
        "api_usage_by_version",
        "Calls by API version",
        &[
            ("version", Kind::Text),
            ("calls", Kind::Int),
            ("failed", Kind::Int),
            ("success rate", Kind::Percent),
        ],
    );
    for (v, c, f) in [
        ("62.0", 1_201_000, 3_210),
        ("58.0", 640_000, 12_004),
        ("29.0", 318, 318),
    ] {
        version.push(vec![
            Cell::text(v),
            Cell::Int(c),
            Cell::Int(f),
            Cell::Float((c - f) as f64 * 100.0 / c as f64),
        ]);
    }
    s.tables = vec![day, user, version];
    s
}

fn logins() -> Section {
    let mut s = section("logins", "Logins");
    s.sources = vec!["LoginEvent (object): 48 files, 9,120 rows".into()];
    s.figures = vec![
        figure("logins", Cell::Int(9_120)),
        figure("failed", Cell::Int(412)),
        figure("users", Cell::Int(311)),
        figure("countries", Cell::Int(7)),
    ];
    let mut hour = Table::new(
        "logins_per_hour",
        "Logins per hour",
        &[
            ("hour", Kind::Time),
            ("succeeded", Kind::Int),
            ("failed", Kind::Int),
        ],
    )
    .chart(ChartKind::Columns, 0, &[1, 2]);
    for h in 0..48 {
        let day = if h < 24 { 9 } else { 10 };
        let busy = (8..19).contains(&(h % 24));
        hour.push(vec![
            Cell::text(format!("2026-03-{day:02}T{:02}:00:00Z", h % 24)),
            Cell::Int(if busy {
                wave(h, 300, 90)
            } else {
                wave(h, 40, 20)
            }),
            Cell::Int(wave(h + 3, 9, 6).max(0)),
        ]);
    }
    let mut failed = Table::new(
        "logins_failed_by_user",
        "Most failed logins",
        &[
            ("user", Kind::Text),
            ("failed", Kind::Int),
            ("last failure", Kind::Time),
            ("status", Kind::Text),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    for (u, n, st) in [
        ("svc-legacy@acme.example", 121, "Invalid Password"),
        (HOSTILE, 64, HOSTILE),
        ("kim@acme.example", 12, "Password Lockout"),
        ("lee@acme.example", 3, "Invalid Password"),
    ] {
        failed.push(vec![
            Cell::text(u),
            Cell::Int(n),
            Cell::text("2026-03-10T11:58:12Z"),
            Cell::text(st),
        ]);
    }
    s.tables = vec![hour, failed];
    s
}

fn connected_apps() -> Section {
    let mut s = section("connected-apps", "Connected apps");
    s.sources = vec!["ConnectedAppOauthToken (object): 0 files".into()];
    s.empty =
        Some("No data for this period: the archive holds no OAuth token events in it.".into());
    s
}

fn setup_changes() -> Section {
    let mut s = section("setup-changes", "Setup changes");
    s.sources = vec!["SetupAuditTrail (object): 10 files, 57 rows".into()];
    s.figures = vec![
        figure("changes", Cell::Int(57)),
        figure("admins", Cell::Int(3)),
    ];
    let mut t = Table::new(
        "setup_changes_recent",
        "Recent changes",
        &[
            ("when", Kind::Time),
            ("who", Kind::Text),
            ("section", Kind::Text),
            ("action", Kind::Text),
        ],
    );
    t.push(vec![
        Cell::text("2026-03-10T09:12:44Z"),
        Cell::text("admin@acme.example"),
        Cell::text("Manage Users"),
        Cell::text(HOSTILE),
    ]);
    t.push(vec![
        Cell::text("2026-03-09T17:03:01Z"),
        Cell::text("admin@acme.example"),
        Cell::text("Connected Apps"),
        Cell::text("Changed OAuth policy \"Admin approved users are pre-authorized\""),
    ]);
    t.push(vec![
        Cell::text("2026-03-08T08:00:00Z"),
        Cell::Empty,
        Cell::text("Security Controls"),
        Cell::text("Changed session timeout from 2 hours to 12 hours"),
    ]);
    let none = Table::new(
        "setup_changes_permission_sets",
        "Permission set assignments",
        &[("who", Kind::Text), ("assignments", Kind::Int)],
    );
    s.tables = vec![t, none];
    s
}

fn alerts() -> Section {
    let mut s = section("alerts", "Alerts");
    s.sources = vec!["alert (the live rules' alerts): 12 files, 1,206 rows".into()];
    s.figures = vec![
        figure("alerts", Cell::Int(1_206)),
        figure("high or critical", Cell::Int(37)),
        figure("rules", Cell::Int(4)),
        figure("users named", Cell::Int(18)),
        figure("addresses named", Cell::Int(9)),
    ];
    let mut rules = Table::new(
        "alerts_per_rule",
        "Alerts per rule",
        &[
            ("rule", Kind::Text),
            ("level", Kind::Text),
            ("title", Kind::Text),
            ("alerts", Kind::Int),
            ("first alert", Kind::Time),
            ("last alert", Kind::Time),
        ],
    )
    .chart(ChartKind::Bars, 0, &[3]);
    for (name, level, title, n) in [
        ("salesforce_login_failure", "low", "A failed login", 1_101),
        ("acme_tor_login", "high", HOSTILE, 35),
        (
            "salesforce_brute_force",
            "medium",
            "Brute force against one user (ELF Login)",
            68,
        ),
        (
            "salesforce_admin_grant",
            "critical",
            "Modify All Data granted",
            2,
        ),
    ] {
        rules.push(vec![
            Cell::text(name),
            Cell::text(level),
            Cell::text(title),
            Cell::Int(n),
            Cell::text("2026-02-09T03:14:15.000Z"),
            Cell::text("2026-03-10T11:02:03.120Z"),
        ]);
    }
    let levels = ["critical", "high", "medium", "low", "informational"];
    let mut columns = vec![("day", Kind::Time), ("alerts", Kind::Int)];
    columns.extend(levels.iter().map(|l| (*l, Kind::Int)));
    let mut days = Table::new("alerts_per_day", "Alerts per day, by level", &columns).chart(
        ChartKind::Columns,
        0,
        &[2, 3, 4, 5, 6],
    );
    for d in 0..30 {
        let per = [
            i64::from(d == 17) * 2,
            i64::from(d % 9 == 4),
            wave(d, 2, 2).max(0),
            wave(d, 36, 12).max(0),
            0,
        ];
        let mut row = vec![
            Cell::text(format!(
                "2026-{}",
                if d < 20 {
                    format!("02-{:02}", d + 9)
                } else {
                    format!("03-{:02}", d - 19)
                }
            )),
            Cell::Int(per.iter().sum()),
        ];
        row.extend(per.iter().map(|n| Cell::Int(*n)));
        days.push(row);
    }
    let mut users = Table::new(
        "alerts_top_users",
        "Users named by the most alerts",
        &[
            ("user", Kind::Text),
            ("alerts", Kind::Int),
            ("rules", Kind::Text),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    users.push(vec![
        Cell::text(HOSTILE),
        Cell::Int(412),
        Cell::text("acme_tor_login, salesforce_login_failure"),
    ]);
    users.push(vec![
        Cell::text("jane.doe@acme.example"),
        Cell::Int(97),
        Cell::text("salesforce_brute_force, salesforce_login_failure"),
    ]);
    users.omitted = 16;
    let addresses = Table::new(
        "alerts_top_addresses",
        "Addresses named by the most alerts",
        &[
            ("address", Kind::Text),
            ("alerts", Kind::Int),
            ("rules", Kind::Text),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    s.tables = vec![rules, days, users, addresses];
    s
}

fn health() -> Section {
    let mut s = section("health", "Collection health");
    s.sources = vec!["the archive's ledger (state.sqlite)".into()];
    s.notes = vec!["2 files were quarantined; `sfevents verify` lists them.".into()];
    let mut t = Table::new(
        "health_per_type",
        "Per event type",
        &[
            ("event type", Kind::Text),
            ("files", Kind::Int),
            ("rows", Kind::Int),
            ("share complete", Kind::Percent),
            ("avg lag h", Kind::Float),
            ("last file", Kind::Time),
        ],
    );
    for (ty, f, r, c, lag) in [
        ("ApiTotalUsage", 30, 1_950_231, 100.0, 6.25),
        ("API", 30, 48_212, 96.6666, 7.0),
        ("Login", 48, 9_120, 100.0, 1.0 / 3.0),
        ("Report", 0, 0, 0.0, f64::NAN),
    ] {
        t.push(vec![
            Cell::text(ty),
            Cell::Int(f),
            Cell::Int(r),
            Cell::Float(c),
            Cell::Float(lag),
            if f == 0 {
                Cell::Empty
            } else {
                Cell::text("2026-03-10T06:00:00Z")
            },
        ]);
    }
    // Fractions of an hour: an axis whose ticks are a quarter apart.
    let mut late = Table::new(
        "health_lateness",
        "Lateness of EventLogFiles",
        &[
            ("type", Kind::Text),
            ("files", Kind::Int),
            ("avg hours late", Kind::Float),
        ],
    )
    .chart(ChartKind::Bars, 0, &[2]);
    for (ty, f, lag) in [
        ("ApiTotalUsage", 30, 0.9),
        ("API", 30, 0.55),
        ("Login", 48, 1.0 / 3.0),
        ("Logout", 12, 0.05),
    ] {
        late.push(vec![Cell::text(ty), Cell::Int(f), Cell::Float(lag)]);
    }
    s.tables = vec![t, late];
    s
}

pub fn document() -> Document {
    Document {
        title: "Salesforce event monitoring report".into(),
        orgs: vec![
            OrgInfo {
                name: format!("Acme Production {HOSTILE}"),
                org_id: Some("00D5g000004abcDEAA".into()),
                archive: "/var/lib/sfevents/acme".into(),
            },
            OrgInfo {
                name: "Acme Sandbox".into(),
                org_id: None,
                archive: "/var/lib/sfevents/acme-uat".into(),
            },
        ],
        period: Period {
            since: Some("2026-02-09".into()),
            until: Some("2026-03-10".into()),
            first_event: Some("2026-02-09T00:00:04Z".into()),
            last_event: Some("2026-03-10T11:59:58Z".into()),
        },
        generated_at: "2026-03-10T12:30:00Z".into(),
        sections: vec![
            api_usage(),
            logins(),
            connected_apps(),
            setup_changes(),
            alerts(),
            health(),
        ],
    }
}
