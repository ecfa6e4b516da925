//! A real browser for the HTML report: Debian's headless Chromium, driven by puppeteer-core
//! (pinned in `tests/fidelity/package.json`) from `tests/fidelity/html_report.mjs`.
//!
//! The script opens the page from a `file://` URL with every other request refused and DNS
//! mapped to nothing, and reports what the browser shows: requests it had to block, console
//! errors, each table's cells as text, the figures' text, each chart's ticks, bars, points and
//! labels where they are laid out, and whether the page prints to PDF.
//!
//! [`check_seen`] reads that the way a reader would: a cell or figure must say the JSON value
//! written the way the page is documented to write numbers ([`cell_text`], [`figure_text`]),
//! and every bar and point must sit where the chart's own axis (its tick labels, at the
//! positions of their grid lines) puts the JSON value, within a pixel. Like the other fidelity
//! tests this fails (it does not skip) when Chromium or the npm packages are missing:
//! `scripts/test` installs both.

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
/// format: `{"report": {...}, TABLE_ID: [{column: value, ...}, ...], ...}`. See
/// [`check_seen`].
pub fn check_page(html: &Path, expected: &Value) -> Value {
    check_seen(inspect(html, None), expected)
}

/// Checks what the browser showed ([`inspect`]) against `expected`, the JSON format:
///
/// - nothing was requested from the network and nothing was logged as an error, every link
///   of the contents leads somewhere, and the page prints to PDF;
/// - the sections are the JSON's, in order, and each shows its figures: the label, and the
///   value as [`figure_text`] writes it;
/// - every table in the page is in the JSON with the same columns and, cell by cell, shows the
///   value as [`cell_text`] writes it (and carries it exactly in `data-value`); every table the
///   JSON has rows for is in the page; no table in the page is empty;
/// - every chart draws a table on the page, and each of its bars, columns and points is where
///   the chart's axes put the table's value, within a pixel ([`check_chart`]).
///
/// Returns what the browser saw, for further checks.
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
                let label = w["label"].as_str().expect("figure label");
                assert_eq!(p["label"].as_str(), Some(label), "figure of {id}");
                assert_eq!(
                    p["text"].as_str(),
                    Some(figure_text(&w["value"], is_share_or_rate(label)).as_str()),
                    "figure {label:?} of {id} as shown (JSON value {})",
                    w["value"]
                );
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
        let columns = columns_of(&seen, id);
        let page_rows = page_rows.as_array().expect("rows");
        let page_values = seen["table_values"][id].as_array().expect("values");
        assert_eq!(page_rows.len(), want.len(), "rows of table {id}");
        for (i, want) in want.iter().enumerate() {
            let want = want.as_object().expect("a JSON row is an object");
            let (texts, values) = (&page_rows[i], &page_values[i]);
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
                assert_eq!(
                    texts[c].as_str(),
                    Some(cell_text(w, is_share_or_rate(name)).as_str()),
                    "table {id} row {i} column {name}: shown text vs JSON {w}"
                );
                assert!(
                    same(&values[c], w),
                    "table {id} row {i} column {name}: data-value {} vs JSON {w}",
                    values[c]
                );
            }
        }
    }

    for chart in list("charts") {
        let id = chart["table"]
            .as_str()
            .unwrap_or_else(|| panic!("a chart beside no table: {}", chart["name"]));
        assert!(
            page_tables.contains_key(id),
            "chart {} draws table {id}, which is not on the page",
            chart["name"]
        );
        let rows = expected_tables[id];
        check_chart(&chart, &columns_of(&seen, id), rows);
    }
    seen
}

/// A table's column names as its header shows them.
fn columns_of<'a>(seen: &'a Value, id: &str) -> Vec<&'a str> {
    seen["table_columns"][id]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("column name"))
        .collect()
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

// ---------------------------------------------------------------------------------------------
// How the page writes values: the rules it documents (the report's README section and the
// renderers' docs: thousands separators, two decimals, shares and rates in percent with one
// decimal, readable UTC instants), written out here so that a renderer that strays from them
// is caught. Nothing here calls the renderer.

/// A share or a rate, which the page shows as a percentage: a column or figure named so
/// (`share of calls`, `success rate`).
pub fn is_share_or_rate(name: &str) -> bool {
    name.starts_with("share") || name.ends_with("rate")
}

/// A table cell as the page shows it: `—` for nothing; whole numbers with thousands
/// separators (`1,234,567`); decimals with two (`65,007.70`); shares and rates with one and a
/// non-breaking space before `%` (`93.1 %`); instants as `2026-03-10 09:12:44 UTC`; other text
/// as it is.
pub fn cell_text(v: &Value, share: bool) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => readable_time(s).unwrap_or_else(|| s.clone()),
        Value::Number(n) => {
            let text = match n.as_i64() {
                Some(i) => fixed(i as f64, 0),
                None if share => fixed(n.as_f64().expect("a number"), 1),
                None => fixed(n.as_f64().expect("a number"), 2),
            };
            if share {
                format!("{text}\u{a0}%")
            } else {
                text
            }
        }
        other => panic!("a JSON cell is never {other}"),
    }
}

/// A headline figure as the page shows it: like [`cell_text`], but a decimal has at most two
/// decimals and no trailing zeros (`65,007.7`, `4`).
pub fn figure_text(v: &Value, share: bool) -> String {
    match v.as_f64() {
        Some(f) if v.as_i64().is_none() && !share => {
            let s = fixed(f, 2);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => cell_text(v, share),
    }
}

/// `v` rounded to `decimals`, its whole part grouped by thousands with commas; no minus sign
/// on what rounds to zero.
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    if v < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// `2026-03-10T09:12:44Z` as `2026-03-10 09:12:44 UTC`; `None` for anything but an instant.
fn readable_time(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let instant = b.len() >= 16
        && s.is_ascii()
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':';
    if !instant {
        return None;
    }
    let t = format!("{} {}", &s[..10], &s[11..]);
    Some(match t.strip_suffix('Z') {
        Some(t) => format!("{t} UTC"),
        None => t,
    })
}

/// A row's label under a series chart: an instant shortened to `03-10 12:00`, at most 20
/// characters (longer ones end in `…`).
fn axis_label(s: &str) -> String {
    let short = match readable_time(s) {
        Some(_) => format!("{} {}", &s[5..10], &s[11..16]),
        None => s.to_string(),
    };
    if short.chars().count() <= 20 {
        short
    } else {
        let mut t: String = short.chars().take(19).collect();
        t.push('…');
        t
    }
}

/// A row's label as text: `(none)` for nothing.
fn label_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Charts as drawn.

/// How far a mark may be from where the axis puts its value, in CSS pixels.
const PX: f64 = 1.0;

/// A laid-out box (CSS pixels of the page).
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn of(v: &Value) -> Rect {
        let n = |k: &str| {
            v[k].as_f64()
                .unwrap_or_else(|| panic!("box without {k}: {v}"))
        };
        Rect {
            x: n("x"),
            y: n("y"),
            w: n("w"),
            h: n("h"),
        }
    }
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn bottom(&self) -> f64 {
        self.y + self.h
    }
    fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= PX
}

/// A value axis as drawn: tick values read from their labels, at their grid lines.
#[derive(Debug)]
struct Scale {
    v0: f64,
    p0: f64,
    v1: f64,
    p1: f64,
}

impl Scale {
    /// From `(value, pixel)` ticks: the first and the last fix the scale, every other tick must
    /// lie on it (within half a pixel).
    fn of(ticks: &[(f64, f64)], what: &str) -> Scale {
        assert!(ticks.len() >= 2, "{what}: fewer than two ticks: {ticks:?}");
        let ((v0, p0), (v1, p1)) = (ticks[0], ticks[ticks.len() - 1]);
        assert!(
            v0 != v1 && p0 != p1,
            "{what}: the ticks span nothing: {ticks:?}"
        );
        let s = Scale { v0, p0, v1, p1 };
        for &(v, p) in ticks {
            assert!(
                (s.px(v) - p).abs() <= 0.5,
                "{what}: the tick labelled {v} is drawn at {p:.2}, off the axis the other \
                 ticks make ({:.2}): {ticks:?}",
                s.px(v)
            );
        }
        s
    }

    fn px(&self, v: f64) -> f64 {
        self.p0 + (v - self.v0) * (self.p1 - self.p0) / (self.v1 - self.v0)
    }
}

/// A tick label's number: `12,500`, `0.25`, `50%`.
fn tick_value(label: &str) -> f64 {
    let digits: String = label
        .chars()
        .filter(|c| !matches!(c, ',' | '%' | ' ' | '\u{a0}'))
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("tick label {label:?} is not a number"))
}

/// The value axis of a chart: horizontal (bars) or vertical (series), with each tick label
/// beside its grid line.
fn value_axis(chart: &Value, horizontal: bool, what: &str) -> Scale {
    let mut ticks = Vec::new();
    for t in chart["grid"].as_array().expect("grid") {
        let label = t["label"].as_str().expect("tick label");
        let (line, text) = (Rect::of(&t["line"]), Rect::of(&t["text"]));
        let at = if horizontal {
            assert!(
                line.w < 0.5 && line.h > 0.0,
                "{what}: not a vertical grid line"
            );
            assert!(
                (text.cx() - line.x).abs() <= 2.0,
                "{what}: tick {label:?} is not under its grid line"
            );
            line.x
        } else {
            assert!(
                line.h < 0.5 && line.w > 0.0,
                "{what}: not a horizontal grid line"
            );
            assert!(
                (text.cy() - line.y).abs() <= 3.0 && text.right() <= line.x,
                "{what}: tick {label:?} is not left of its grid line"
            );
            line.y
        };
        ticks.push((tick_value(label), at));
    }
    Scale::of(&ticks, what)
}

/// Where a series chart puts its rows across: the rows named under the chart, in order, fix it.
struct Across {
    /// (row, x) of each labelled row.
    ticks: Vec<(usize, f64)>,
}

impl Across {
    /// From the x labels, which must name rows of one column, in order.
    fn of(chart: &Value, columns: &[&str], rows: &[Value], what: &str) -> Across {
        let mut shown = Vec::new();
        for t in chart["xaxis"].as_array().expect("xaxis") {
            let label = t["label"].as_str().expect("x label");
            let (line, text) = (Rect::of(&t["line"]), Rect::of(&t["text"]));
            assert!(
                (text.cx() - line.x).abs() <= 2.0,
                "{what}: x label {label:?} is not under its tick"
            );
            shown.push((label, line.x));
        }
        assert!(!shown.is_empty(), "{what}: no x label");
        // The first column whose rows the labels name, in order.
        let named = |c: &str| -> Option<Vec<(usize, f64)>> {
            let mut next = 0;
            let mut ticks = Vec::new();
            for (label, x) in &shown {
                let i =
                    (next..rows.len()).find(|&i| axis_label(&label_of(&rows[i][c])) == *label)?;
                ticks.push((i, *x));
                next = i + 1;
            }
            Some(ticks)
        };
        let ticks = columns
            .iter()
            .find_map(|c| named(c))
            .unwrap_or_else(|| panic!("{what}: the x labels {shown:?} name no column's rows"));
        let a = Across { ticks };
        for &(i, x) in &a.ticks {
            if let Some(want) = a.x(i) {
                assert!(
                    near(x, want),
                    "{what}: rows are not evenly spaced: {:?}",
                    a.ticks
                );
            }
        }
        a
    }

    /// The x of row `i`, when the labels fix it (always, given two labels).
    fn x(&self, i: usize) -> Option<f64> {
        let (first, last) = (self.ticks[0], self.ticks[self.ticks.len() - 1]);
        if first.0 == last.0 {
            return (i == first.0).then_some(first.1);
        }
        let per_row = (last.1 - first.1) / (last.0 - first.0) as f64;
        Some(first.1 + per_row * (i as f64 - first.0 as f64))
    }
}

/// What kind of chart this is, from its shapes: points (`line`), bars along a horizontal axis
/// (`bars`), or columns up a vertical one (`columns`).
pub fn chart_kind(chart: &Value) -> &'static str {
    let first_line = chart["grid"][0]["line"].clone();
    if chart["circles"].as_array().is_some_and(|c| !c.is_empty()) {
        "line"
    } else if !first_line.is_null() && Rect::of(&first_line).h > Rect::of(&first_line).w {
        "bars"
    } else {
        "columns"
    }
}

/// One chart against its table's JSON rows (`columns` in the page's order).
pub fn check_chart(chart: &Value, columns: &[&str], rows: &[Value]) {
    let id = chart["table"].as_str().expect("chart's table");
    assert!(
        chart["width"].as_u64().unwrap_or(0) > 100,
        "chart of {id} is not drawn: {chart}"
    );
    match chart_kind(chart) {
        "bars" => check_bars(chart, id, columns, rows),
        kind => check_series(chart, id, kind, columns, rows),
    }
}

fn column<'a>(columns: &[&'a str], name: &str, what: &str) -> &'a str {
    columns
        .iter()
        .find(|c| **c == name)
        .copied()
        .unwrap_or_else(|| panic!("{what}: draws {name:?}, not a column of {columns:?}"))
}

/// A bar, column or point as drawn: its box, its colour, and whether it is shown at all.
struct Mark {
    at: Rect,
    fill: String,
    shown: bool,
}

/// The chart's `rects` or `circles`.
fn marks(chart: &Value, shape: &str) -> Vec<Mark> {
    chart[shape]
        .as_array()
        .expect("marks")
        .iter()
        .map(|m| Mark {
            at: Rect::of(m),
            fill: m["fill"].as_str().unwrap_or("").to_string(),
            shown: m["shown"].as_bool() == Some(true),
        })
        .collect()
}

/// Horizontal bars, top to bottom one per row: each from the axis' 0 to its value, beside its
/// row's label, the value written at its end.
fn check_bars(chart: &Value, id: &str, columns: &[&str], rows: &[Value]) {
    let what = format!("bars of {id}");
    // The accessible name says what is drawn: "Title: column".
    let name = chart["name"].as_str().expect("chart name");
    let drawn = column(columns, name.rsplit_once(": ").map_or(name, |n| n.1), &what);
    let x = value_axis(chart, true, &what);
    let mut bars: Vec<Rect> = marks(chart, "rects").iter().map(|m| m.at).collect();
    bars.sort_by(|a, b| a.y.total_cmp(&b.y));
    assert_eq!(bars.len(), rows.len(), "{what}: one bar per row");
    let labels = chart["labels"].as_array().expect("labels");
    let values = chart["values"].as_array().expect("values");
    let nearest = |texts: &[Value], bar: &Rect| -> Value {
        let t = texts
            .iter()
            .min_by(|a, b| {
                let d = |t: &Value| (Rect::of(t).cy() - bar.cy()).abs();
                d(a).total_cmp(&d(b))
            })
            .unwrap_or_else(|| panic!("{what}: no text beside a bar"));
        assert!(
            (Rect::of(t).cy() - bar.cy()).abs() <= 3.0,
            "{what}: {} is not level with its bar",
            t["text"]
        );
        t.clone()
    };
    // The bars' labels, top to bottom, name the rows of one column.
    let shown: Vec<Value> = bars.iter().map(|b| nearest(labels, b)).collect();
    let fits = |label: &Value, want: &str| {
        let text = label["text"].as_str().unwrap_or("");
        label["full"].as_str() == Some(want)
            && (text == want
                || text
                    .strip_suffix('…')
                    .is_some_and(|s| !s.is_empty() && want.starts_with(s)))
    };
    columns
        .iter()
        .find(|c| {
            let mut rows = rows.iter();
            shown
                .iter()
                .all(|l| fits(l, &label_of(&rows.next().unwrap()[**c])))
        })
        .unwrap_or_else(|| panic!("{what}: the labels {shown:?} name no column's rows in order"));
    for (i, (bar, row)) in bars.iter().zip(rows).enumerate() {
        let v = row[drawn].as_f64().unwrap_or(0.0);
        let (a, b) = (x.px(0.0), x.px(v));
        assert!(
            near(bar.x, a.min(b)) && near(bar.right(), a.max(b)),
            "{what} row {i}: the bar of {v} spans {:.2}..{:.2}, its axis puts it at {:.2}..{:.2}",
            bar.x,
            bar.right(),
            a.min(b),
            a.max(b)
        );
        let value = nearest(values, bar);
        let written = Rect::of(&value);
        assert_eq!(
            value["text"].as_str(),
            Some(cell_text(&row[drawn], is_share_or_rate(drawn)).as_str()),
            "{what} row {i}: the value written at the bar"
        );
        assert!(
            written.x >= bar.right() - 0.5 && written.x <= bar.right() + 12.0,
            "{what} row {i}: its value is not at its end"
        );
    }
}

/// A series chart (`line` or `columns`): one series per legend entry, each a column of the
/// table; each row at its place across; points at their value, columns stacked from 0.
fn check_series(chart: &Value, id: &str, kind: &str, columns: &[&str], rows: &[Value]) {
    let what = format!("{kind} chart of {id}");
    let across = Across::of(chart, columns, rows, &what);
    let y = value_axis(chart, false, &what);
    let legend = chart["legend"].as_array().expect("legend");
    assert!(!legend.is_empty(), "{what}: no legend");
    let shapes = marks(chart, if kind == "line" { "circles" } else { "rects" });
    // Each series' marks, told apart by colour as a reader does, left to right.
    let series: Vec<(&str, Vec<&Mark>)> = legend
        .iter()
        .map(|l| {
            let name = column(columns, l["name"].as_str().expect("legend name"), &what);
            let fill = l["fill"].as_str().expect("legend colour");
            let mut own: Vec<&Mark> = shapes.iter().filter(|m| m.fill == fill).collect();
            own.sort_by(|a, b| a.at.cx().total_cmp(&b.at.cx()));
            (name, own)
        })
        .collect();
    let counted: usize = series.iter().map(|s| s.1.len()).sum();
    assert_eq!(counted, shapes.len(), "{what}: marks in no legend colour");
    if kind == "line" {
        for (name, points) in &series {
            check_points(&what, name, points, rows, &across, &y);
        }
        return;
    }
    for (name, cols) in &series {
        assert_eq!(cols.len(), rows.len(), "{what}: one {name} column per row");
    }
    for (i, row) in rows.iter().enumerate() {
        let mut base = 0.0;
        for (name, cols) in &series {
            let col = cols[i].at;
            let v = row[*name].as_f64().map_or(0.0, |v| v.max(0.0));
            let (bottom, top) = (y.px(base), y.px(base + v));
            base += v;
            assert!(
                near(col.y, top) && near(col.bottom(), bottom),
                "{what} row {i}: {name} {v} spans {:.2}..{:.2} down, its axis puts it at \
                 {top:.2}..{bottom:.2}",
                col.y,
                col.bottom()
            );
            if let Some(x) = across.x(i) {
                assert!(
                    near(col.cx(), x),
                    "{what} row {i}: {name} is not at its row"
                );
            }
        }
    }
}

/// A line's points: one shown per row with a value, at that value; none for a missing one.
fn check_points(
    what: &str,
    name: &str,
    points: &[&Mark],
    rows: &[Value],
    across: &Across,
    y: &Scale,
) {
    let shown: Vec<Rect> = points.iter().filter(|p| p.shown).map(|p| p.at).collect();
    let valued: Vec<(usize, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r[name].as_f64().map(|v| (i, v)))
        .collect();
    assert_eq!(
        shown.len(),
        valued.len(),
        "{what}: one {name} point per row with a value"
    );
    for (p, (i, v)) in shown.iter().zip(valued) {
        assert!(
            near(p.cy(), y.px(v)),
            "{what} row {i}: {name} {v} is drawn at {:.2}, its axis puts it at {:.2}",
            p.cy(),
            y.px(v)
        );
        if let Some(x) = across.x(i) {
            assert!(
                near(p.cx(), x),
                "{what} row {i}: {name} is drawn at x {:.2}, its row is at {x:.2}",
                p.cx()
            );
        }
    }
}
