//! The HTML report in a real browser (Debian's headless Chromium through puppeteer-core, see
//! `common/chromium.rs`): the page loads nothing from the network, logs no error, prints, and
//! shows the document's numbers as a reader sees them: the text of its cells and figures, and
//! every bar and point where the chart's own axis puts its value.
//!
//! Needs `/usr/bin/chromium` and `npm ci --prefix tests/fidelity` (scripts/test does both).
//! Set `REPORT_HTML_SCREENSHOT=/path/shot.png` to keep a full-page screenshot.

#[path = "common/chromium.rs"]
mod chromium;
mod common;
#[path = "report_html/sample.rs"]
mod sample;

use std::path::PathBuf;

use reports::model::{Cell, ChartKind, Document};
use reports::render::{data, html};
use serde_json::Value;

/// The document's own value for a cell, as the page's `data-value` must give it.
fn matches(page: &Value, cell: &Cell) -> bool {
    match (cell, page) {
        (Cell::Text(s), Value::String(p)) => p == s,
        (Cell::Int(i), Value::String(p)) => p.parse::<i64>() == Ok(*i),
        (Cell::Float(f), Value::String(p)) => f.is_finite() && p.parse::<f64>() == Ok(*f),
        (Cell::Float(f), Value::Null) => !f.is_finite(),
        (Cell::Empty, Value::Null) => true,
        _ => false,
    }
}

fn write_page(doc: &Document) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.html");
    std::fs::write(&path, html::render(doc)).expect("page written");
    (dir, path)
}

#[test]
fn the_page_shows_the_documents_numbers_offline() {
    let doc = sample::document();
    let (_dir, path) = write_page(&doc);
    let shot = std::env::var_os("REPORT_HTML_SCREENSHOT").map(PathBuf::from);
    let seen = chromium::inspect(&path, shot.as_deref());

    // Against the JSON format of the same document: tables, figures, sections, charts.
    let seen = chromium::check_seen(seen, &data::json(&doc));

    // And against the document itself, independently of the JSON renderer.
    assert_eq!(seen["h1"], doc.title.as_str());
    let title = seen["title"].as_str().expect("title");
    assert!(
        title.contains("<img src=x onerror=alert(1)> \"Ops\" & 'Sons' </td>"),
        "hostile text is shown as text: {title}"
    );
    let mut charted = 0;
    for s in &doc.sections {
        for t in &s.tables {
            let page = &seen["table_values"][&t.id];
            if s.empty.is_some() || t.rows.is_empty() {
                assert!(page.is_null(), "table {} must not be shown", t.id);
                continue;
            }
            let rows = page
                .as_array()
                .unwrap_or_else(|| panic!("table {} not shown", t.id));
            assert_eq!(rows.len(), t.rows.len(), "rows of {}", t.id);
            for (i, (got, want)) in rows.iter().zip(&t.rows).enumerate() {
                let got = got.as_array().expect("cells");
                assert_eq!(got.len(), want.len(), "{} row {i}", t.id);
                for (c, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(matches(g, w), "{} row {i} col {c}: page {g} vs {w:?}", t.id);
                }
            }
            let Some(chart) = &t.chart else { continue };
            charted += 1;
            let drawn: Vec<&Value> = seen["charts"]
                .as_array()
                .expect("charts")
                .iter()
                .filter(|c| c["table"] == t.id.as_str())
                .collect();
            assert_eq!(drawn.len(), 1, "one chart for {}", t.id);
            let (kind, marks, series) = match chart.kind {
                ChartKind::Bars => ("bars", "rects", 1),
                ChartKind::Columns => ("columns", "rects", chart.values.len()),
                ChartKind::Line => ("line", "circles", chart.values.len()),
            };
            assert_eq!(chromium::chart_kind(drawn[0]), kind, "{}", t.id);
            assert_eq!(
                drawn[0][marks].as_array().map(Vec::len),
                Some(t.rows.len() * series),
                "{}: {}",
                t.id,
                drawn[0]
            );
        }
    }
    assert!(charted >= 4, "the sample draws every kind of chart");
    assert_eq!(seen["charts"].as_array().map(Vec::len), Some(charted));
    // The headline numbers, as a reader reads them (written out by hand).
    let figures: Vec<(&str, &str)> = seen["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .filter(|f| f["section"] == "api-usage")
        .map(|f| (f["label"].as_str().unwrap(), f["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        figures,
        [
            ("calls", "1,950,231"),
            ("success rate", "93.1\u{a0}%"),
            ("users calling the API", "42"),
            ("calls on retired versions", "318"),
            ("average calls a day", "65,007.7"),
        ]
    );
    // A few cells as a reader reads them (written out by hand).
    let cells = |id: &str, row: usize| -> Vec<String> {
        let row = seen["tables"][id][row].as_array().expect("a row");
        row.iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        cells("api_usage_per_user", 0),
        [
            "integration@acme.example",
            "812,345",
            "41.7\u{a0}%",
            "40.30"
        ]
    );
    assert_eq!(
        cells("health_per_type", 2),
        [
            "Login",
            "48",
            "9,120",
            "100.0\u{a0}%",
            "0.33",
            "2026-03-10 06:00:00 UTC"
        ]
    );
    assert_eq!(
        cells("health_per_type", 3),
        ["Report", "0", "0", "0.0\u{a0}%", "—", "—"]
    );
    assert_eq!(
        cells("alerts_per_rule", 0),
        [
            "salesforce_login_failure",
            "low",
            "A failed login",
            "1,101",
            "2026-02-09 03:14:15.000 UTC",
            "2026-03-10 11:02:03.120 UTC"
        ]
    );
    assert_eq!(
        cells("alerts_per_day", 17),
        ["2026-02-26", "44", "2", "0", "2", "40", "0"]
    );
    let sections: Vec<&str> = doc.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(seen["sections"], serde_json::json!(sections));
    assert_eq!(seen["toc"].as_array().map(Vec::len), Some(sections.len()));
}

/// The real binary over an archive collected from sfsim: `report all` as HTML shows what the
/// JSON format says, in the text of its tables and figures and in where its charts draw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binarys_html_page_equals_its_json_over_a_collected_archive() {
    let mut cfg = common::small_config(96);
    cfg.freeze_clock = true;
    cfg.org.days = 2;
    cfg.org.rows_per_hour = (1, 6);
    cfg.org.records_per_hour = (2, 6);
    let sim = common::start(cfg).await;
    let dir = tempfile::tempdir().expect("temp dir");
    common::collect_with_audit(&sim, dir.path()).await;
    // The live rules over what was collected (the same org, the same archive): alerts.
    let rules = tempfile::tempdir().expect("temp dir");
    let cfg = common::live_rules::live_config(
        &sim,
        rules.path(),
        "default",
        dir.path(),
        common::live_rules::RULES,
    );
    common::assert_exit(&common::live_rules::collect_live(&sim, &cfg).await, 0);
    let page = dir.path().join("report.html");
    let archive = dir.path().display().to_string();
    let o = common::run(&[
        "report".into(),
        "all".into(),
        "--output-dir".into(),
        archive.clone(),
        "--format".into(),
        "html".into(),
        "--out".into(),
        page.display().to_string(),
    ])
    .await;
    common::assert_exit(&o, 0);
    let o = common::run(&[
        "report".into(),
        "all".into(),
        "--output-dir".into(),
        archive,
        "--format".into(),
        "json".into(),
    ])
    .await;
    common::assert_exit(&o, 0);
    let json: Value = serde_json::from_slice(&o.stdout).expect("report JSON");
    let sections = json["report"]["sections"].as_array().expect("sections");
    assert!(sections.len() >= 5, "{sections:?}");
    let seen = chromium::check_page(&page, &json);
    let charts = seen["charts"].as_array().expect("charts");
    assert!(
        charts.len() >= 10,
        "every series and top-N table is drawn: {}",
        charts.len()
    );
    for kind in ["bars", "columns", "line"] {
        assert!(
            charts.iter().any(|c| chromium::chart_kind(c) == kind),
            "the page draws {kind}"
        );
    }
    // The alerts section, with rows: every table of it on the page, its days drawn as
    // columns stacked by level.
    assert!(sections.iter().any(|s| s["id"] == "alerts"), "{sections:?}");
    for id in [
        "alerts_per_rule",
        "alerts_per_day",
        "alerts_top_users",
        "alerts_top_addresses",
    ] {
        let rows = json[id].as_array().map_or(0, Vec::len);
        assert!(rows > 0, "{id} has rows");
        assert_eq!(
            seen["tables"][id].as_array().map(Vec::len),
            Some(rows),
            "{id} on the page"
        );
    }
    let days: Vec<&Value> = charts
        .iter()
        .filter(|c| c["table"] == "alerts_per_day")
        .collect();
    assert_eq!(days.len(), 1, "one chart of alerts per day");
    assert_eq!(chromium::chart_kind(days[0]), "columns");
    sim.shutdown();
}
