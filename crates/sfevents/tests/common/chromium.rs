//! A real browser for the HTML report: Debian's headless Chromium, driven by puppeteer-core
//! (pinned in `tests/fidelity/package.json`) from `tests/fidelity/html_report.mjs`.
//!
//! The script opens the page from a `file://` URL with every other request refused and DNS
//! mapped to nothing, and reports what the browser saw: requests it had to block, console
//! errors, each chart's bars and points, each table's `data-value` cells, the figures, and
//! whether the page prints to PDF. Like the other fidelity tests this fails (it does not skip)
//! when Chromium or the npm packages are missing: `scripts/test` installs both.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The workspace root (`crates/sfevents/../..`).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The browser: `$CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is not installed at {}: run `apt-get install -y chromium` (scripts/test does), \
         or set CHROMIUM",
        path.display()
    );
    path
}

/// `tests/fidelity`, with puppeteer-core installed in it.
pub fn fidelity_dir() -> PathBuf {
    let dir = workspace_root().join("tests/fidelity");
    assert!(
        dir.join("html_report.mjs").is_file(),
        "missing {}/html_report.mjs",
        dir.display()
    );
    assert!(
        dir.join("node_modules/puppeteer-core/package.json")
            .is_file(),
        "puppeteer-core is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        dir.display()
    );
    dir
}

/// What the browser saw (the script's JSON, see `tests/fidelity/html_report.mjs`).
pub fn inspect(html: &Path, screenshot: Option<&Path>) -> Value {
    let browser = chromium();
    let dir = fidelity_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("html_report.mjs"))
        .arg(html)
        .env("CHROMIUM", &browser)
        .current_dir(&dir);
    if let Some(png) = screenshot {
        cmd.arg("--screenshot").arg(png);
    }
    let out = cmd.output().expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "html_report.mjs failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("html_report.mjs printed no JSON ({e}): {stdout}\nstderr: {stderr}")
    })
}

/// Opens `html` in Chromium and checks it against `expected`, the same report in the JSON
/// format: `{"report": {...}, TABLE_ID: [{column: value, ...}, ...], ...}`.
///
/// - nothing was requested from the network and nothing was logged as an error, every link
///   of the contents leads somewhere, and the page prints to PDF;
/// - every table in the page is in the JSON with the same columns and, cell by cell, the same
///   values (numbers compared as numbers, missing values as `null`), and every table the JSON
///   has rows for is in the page; no table in the page is empty;
/// - every chart belongs to a table on the page and has one bar or point per row and series.
///
/// Returns what the browser saw, for further checks.
pub fn check_page(html: &Path, expected: &Value) -> Value {
    check_seen(inspect(html, None), expected)
}

/// [`check_page`] over an [`inspect`] result already in hand.
pub fn check_seen(seen: Value, expected: &Value) -> Value {
    let list = |k: &str| seen[k].as_array().cloned().unwrap_or_default();
    assert_eq!(
        list("requests_blocked"),
        Vec::<Value>::new(),
        "requests to other hosts"
    );
    assert_eq!(
        list("console_errors"),
        Vec::<Value>::new(),
        "console errors"
    );
    assert_eq!(
        list("anchors_missing"),
        Vec::<Value>::new(),
        "contents links to nothing"
    );
    assert_eq!(
        list("empty_tables"),
        Vec::<Value>::new(),
        "empty tables in the page"
    );
    assert!(
        seen["pdf_bytes"].as_u64().unwrap_or(0) > 1000,
        "no PDF: {}",
        seen["pdf_bytes"]
    );
    if let Some(title) = expected["report"]["title"].as_str() {
        assert_eq!(seen["h1"].as_str(), Some(title), "the page's heading");
    }

    // Sections: the same, in the same order, with the same figures.
    let sections = expected["report"]["sections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut exempt = Vec::new();
    if !sections.is_empty() {
        let ids: Vec<&str> = sections.iter().filter_map(|s| s["id"].as_str()).collect();
        assert_eq!(
            seen["sections"],
            serde_json::json!(ids),
            "the page's sections"
        );
        let figures = list("figures");
        for s in &sections {
            let id = s["id"].as_str().expect("section id");
            let page: Vec<&Value> = figures.iter().filter(|f| f["section"] == id).collect();
            let want = s["figures"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                page.len(),
                want.len(),
                "figures of {id}: {page:?} vs {want:?}"
            );
            for (p, w) in page.iter().zip(&want) {
                assert_eq!(p["label"], w["label"], "figure of {id}");
                assert!(same(&p["value"], &w["value"]), "figure of {id}: {p} vs {w}");
            }
            // A section with nothing in the period shows its message, not its tables.
            if !s["empty"].is_null() {
                for t in s["tables"].as_array().into_iter().flatten() {
                    exempt.extend(t["id"].as_str().map(String::from));
                }
            }
        }
    }

    let expected_tables: BTreeMap<&str, &Vec<Value>> = expected
        .as_object()
        .expect("the JSON report is an object")
        .iter()
        .filter(|(k, _)| k.as_str() != "report")
        .filter_map(|(k, v)| v.as_array().map(|rows| (k.as_str(), rows)))
        .collect();
    let page_tables = seen["tables"].as_object().expect("tables").clone();
    for (id, rows) in &expected_tables {
        if exempt.iter().any(|e| e == id) {
            assert!(
                !page_tables.contains_key(*id),
                "table {id} of an empty section is shown"
            );
        } else if !rows.is_empty() {
            assert!(
                page_tables.contains_key(*id),
                "table {id} has rows but is not in the page"
            );
        }
    }
    for (id, page_rows) in &page_tables {
        let want = expected_tables
            .get(id.as_str())
            .unwrap_or_else(|| panic!("table {id} is in the page but not in the JSON"));
        let columns: Vec<&str> = seen["table_columns"][id]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("column name"))
            .collect();
        let page_rows = page_rows.as_array().expect("rows");
        assert_eq!(page_rows.len(), want.len(), "rows of table {id}");
        for (i, (got, want)) in page_rows.iter().zip(want.iter()).enumerate() {
            let got = got.as_array().expect("cells");
            let want = want.as_object().expect("a JSON row is an object");
            assert_eq!(
                columns.len(),
                want.len(),
                "table {id} row {i}: columns {columns:?} vs {:?}",
                want.keys().collect::<Vec<_>>()
            );
            for (c, name) in columns.iter().enumerate() {
                let w = want
                    .get(*name)
                    .unwrap_or_else(|| panic!("table {id}: column {name} is not in the JSON"));
                assert!(
                    same(&got[c], w),
                    "table {id} row {i} column {name}: page {} vs JSON {w}",
                    got[c]
                );
            }
        }
    }

    for chart in list("charts") {
        let id = chart["table"].as_str().expect("chart's table");
        let rows = page_tables
            .get(id)
            .and_then(|r| r.as_array())
            .unwrap_or_else(|| panic!("chart {chart} draws a table that is not on the page"))
            .len() as u64;
        let series = chart["series"].as_u64().expect("series");
        let drawn = match chart["kind"].as_str() {
            Some("bars") => {
                assert_eq!(series, 1, "{chart}");
                chart["bars"].as_u64()
            }
            Some("columns") => chart["bars"].as_u64(),
            Some("line") => chart["points"].as_u64(),
            k => panic!("chart kind {k:?}"),
        };
        assert!(series >= 1, "{chart}");
        assert_eq!(
            drawn,
            Some(rows * series),
            "chart of {id}: one mark per row and series: {chart}"
        );
        assert_eq!(chart["rows"].as_u64(), Some(rows), "{chart}");
        assert!(
            chart["width"].as_u64().unwrap_or(0) > 100,
            "chart of {id} is not drawn: {chart}"
        );
    }
    seen
}

/// A cell's `data-value` (a string, or `null` when absent) against the JSON value.
fn same(page: &Value, json: &Value) -> bool {
    match (page, json) {
        (Value::Null, Value::Null) => true,
        (Value::String(p), Value::String(j)) => p == j,
        (Value::String(p), Value::Number(j)) => match (j.as_i64(), j.as_f64()) {
            (Some(i), _) => p.parse::<i64>() == Ok(i),
            // Read exactly, or the way serde_json's default (faster, sometimes one unit in the
            // last place off) parser read the expected value from the JSON format's text.
            (None, Some(f)) => {
                p.parse::<f64>() == Ok(f) || serde_json::from_str::<f64>(p).ok() == Some(f)
            }
            _ => false,
        },
        _ => false,
    }
}
