//! Inline SVG charts for the HTML format, drawn from a table's own rows (see
//! [`Chart`]): no script, no external resource, styled by the page's CSS.
//!
//! Every chart is `<svg class="chart" data-table=ID data-kind=bars|line|columns>`; every bar or
//! column segment is a `<rect class="bar" data-value=N>` and every point a
//! `<circle class="point" data-value=N>`, one per row and drawn column (bars draw the first
//! value column only), so a test can count them against the table. Missing values still get
//! their element (without `data-value`, not shown), so the counts never depend on the data.

use std::fmt::Write;

use super::format::{display, escape, number, raw};
use crate::model::{Cell, Chart, ChartKind, Kind, Table};

/// The drawing's width in user units; the SVG scales to its container.
const W: f64 = 760.0;
/// Approximate width of one character of the 11px chart font.
const CHAR_W: f64 = 6.4;
/// How many series colours `.s0`..`.s5` the CSS defines.
const PALETTE: usize = 6;

/// The chart for `table`, or nothing when the chart's columns do not exist or there are no rows.
pub fn chart(table: &Table, chart: &Chart) -> String {
    let ncols = table.columns.len();
    if table.rows.is_empty() || chart.label >= ncols || chart.values.iter().any(|&v| v >= ncols) {
        return String::new();
    }
    let values: &[usize] = match chart.kind {
        ChartKind::Bars => &chart.values[..chart.values.len().min(1)],
        _ => &chart.values,
    };
    if values.is_empty() {
        return String::new();
    }
    match chart.kind {
        ChartKind::Bars => bars(table, chart.label, values[0]),
        ChartKind::Line | ChartKind::Columns => series(table, chart.kind, chart.label, values),
    }
}

/// The opening tag, shared by every kind.
fn open(out: &mut String, table: &Table, kind: &str, series: usize, h: f64, what: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" data-table=\"{}\" data-kind=\"{kind}\" data-series=\"{series}\" \
         data-rows=\"{}\" viewBox=\"0 0 {W} {h:.0}\" role=\"img\" aria-label=\"{}\">",
        escape(&table.id),
        table.rows.len(),
        escape(&format!("{}: {what}", table.title))
    );
}

/// Horizontal bars, one per row, labelled on the left, the value at the bar's end.
fn bars(table: &Table, label: usize, value: usize) -> String {
    let kind = table.columns[value].kind;
    let vals: Vec<Option<f64>> = table.rows.iter().map(|r| r[value].as_f64()).collect();
    let labels: Vec<String> = table.rows.iter().map(|r| label_text(&r[label])).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_w = (longest as f64 * CHAR_W + 12.0).clamp(90.0, 260.0);
    let (x0, x1) = (label_w, W - 76.0);
    let ticks = Scale::ticks(&vals, 4, kind);
    let s = Scale::new(&ticks, x0, x1);
    let (top, row_h) = (6.0, 24.0);
    let bottom = top + row_h * vals.len() as f64;
    let h = bottom + 22.0;

    let mut out = String::new();
    open(&mut out, table, "bars", 1, h, &table.columns[value].name);
    out.push_str("<g class=\"grid\">");
    for &t in &ticks {
        let x = s.at(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{bottom:.1}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 15.0,
            escape(&tick_label(t, &ticks, kind))
        );
    }
    out.push_str("</g>");
    let max_chars = ((label_w - 10.0) / CHAR_W) as usize;
    for (i, (v, l)) in vals.iter().zip(&labels).enumerate() {
        let y = top + row_h * i as f64;
        let cell = &table.rows[i][value];
        let shown = display(cell, kind);
        let tip = escape(&format!("{l}: {shown}"));
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}<title>{}</title></text>",
            x0 - 8.0,
            y + row_h / 2.0 + 4.0,
            escape(&ellipsis(l, max_chars)),
            escape(l)
        );
        let (bx, bw) = match v {
            Some(v) => {
                let (a, b) = (s.at(0.0_f64.max(s.lo)), s.at(*v));
                (a.min(b), (b - a).abs())
            }
            None => (s.at(0.0_f64.max(s.lo)), 0.0),
        };
        let _ = write!(
            out,
            "<rect class=\"bar s0\"{} x=\"{bx:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" rx=\"2\"><title>{tip}</title></rect>",
            data_value(cell),
            y + 4.0,
            row_h - 8.0
        );
        let _ = write!(
            out,
            "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            bx + bw + 6.0,
            y + row_h / 2.0 + 4.0,
            escape(&shown)
        );
    }
    out.push_str("</svg>");
    out
}

/// A time series: one polyline with points per value column (`Line`), or one column per row,
/// stacked when there are several value columns (`Columns`). Legend on top, y ticks on the left,
/// a few x labels below.
fn series(table: &Table, kind: ChartKind, label: usize, values: &[usize]) -> String {
    let vkind = table.columns[values[0]].kind;
    let stacked = kind == ChartKind::Columns;
    let ticks = Scale::ticks(&extent(table, values, stacked), 4, vkind);
    let tick_w = ticks
        .iter()
        .map(|&t| tick_label(t, &ticks, vkind).chars().count())
        .max()
        .unwrap_or(1) as f64
        * CHAR_W;
    let (x0, x1) = (tick_w + 14.0, W - 14.0);
    let (y0, y1) = (196.0, 30.0);
    let h = 226.0;
    let plot = Plot {
        x0,
        x1,
        y0,
        band: (x1 - x0) / table.rows.len() as f64,
        sy: Scale::new(&ticks, y0, y1),
    };
    let names: Vec<&str> = values
        .iter()
        .map(|&c| table.columns[c].name.as_str())
        .collect();
    let mut out = String::new();
    let kind_name = if stacked { "columns" } else { "line" };
    open(
        &mut out,
        table,
        kind_name,
        values.len(),
        h,
        &names.join(", "),
    );
    legend(&mut out, &names, x0);
    y_axis(&mut out, &ticks, vkind, &plot);
    x_axis(&mut out, table, label, &plot);
    let marks = Marks {
        table,
        label,
        values,
        names: &names,
    };
    if stacked {
        marks.columns(&mut out, &plot);
    } else {
        marks.lines(&mut out, &plot);
    }
    out.push_str("</svg>");
    out
}

/// The extent the y axis must show: each value for lines, each row's stack for columns.
fn extent(table: &Table, values: &[usize], stacked: bool) -> Vec<Option<f64>> {
    if stacked {
        table
            .rows
            .iter()
            .map(|r| {
                Some(
                    values
                        .iter()
                        .filter_map(|&c| r[c].as_f64())
                        .map(|v| v.max(0.0))
                        .sum(),
                )
            })
            .collect()
    } else {
        table
            .rows
            .iter()
            .flat_map(|r| values.iter().map(|&c| r[c].as_f64()))
            .collect()
    }
}

/// Where a series chart draws: the plot's left and right, its baseline and y scale, and one
/// band of width `band` per row.
struct Plot {
    x0: f64,
    x1: f64,
    y0: f64,
    band: f64,
    sy: Scale,
}

impl Plot {
    /// x of row i: the band's middle, so columns and points line up the same way.
    fn x(&self, i: usize) -> f64 {
        self.x0 + self.band * (i as f64 + 0.5)
    }
}

/// One swatch and name per series, in a row from `x0`.
fn legend(out: &mut String, names: &[&str], x0: f64) {
    let mut lx = x0;
    for (k, name) in names.iter().enumerate() {
        let _ = write!(
            out,
            "<g class=\"legend\"><rect class=\"swatch s{}\" x=\"{lx:.1}\" y=\"6\" width=\"10\" height=\"10\" rx=\"2\"/>\
             <text x=\"{:.1}\" y=\"15\">{}</text></g>",
            k % PALETTE,
            lx + 15.0,
            escape(name)
        );
        lx += 15.0 + name.chars().count() as f64 * CHAR_W + 18.0;
    }
}

/// Grid lines and y ticks.
fn y_axis(out: &mut String, ticks: &[f64], vkind: Kind, p: &Plot) {
    let (x0, x1) = (p.x0, p.x1);
    out.push_str("<g class=\"grid\">");
    for &t in ticks {
        let y = p.sy.at(t);
        let _ = write!(
            out,
            "<line x1=\"{x0:.1}\" x2=\"{x1:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 6.0,
            y + 4.0,
            escape(&tick_label(t, ticks, vkind))
        );
    }
    out.push_str("</g>");
}

/// A few x labels, evenly spaced, as many as fit side by side, and the baseline.
fn x_axis(out: &mut String, table: &Table, label: usize, p: &Plot) {
    let (x0, x1, y0) = (p.x0, p.x1, p.y0);
    let n = table.rows.len();
    let xlabels: Vec<String> = table
        .rows
        .iter()
        .map(|r| ellipsis(&axis_label(&label_text(&r[label])), 20))
        .collect();
    let widest = xlabels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let fit = ((x1 - x0) / (widest * CHAR_W + 28.0)).floor().max(1.0);
    let every = ((n as f64 / fit).ceil() as usize).max(1);
    out.push_str("<g class=\"xaxis\">");
    for i in (0..n).step_by(every) {
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y0}\" y2=\"{:.1}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y0 + 4.0,
            y0 + 17.0,
            escape(&xlabels[i]),
            x = p.x(i)
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{x0:.1}\" x2=\"{x1:.1}\" y1=\"{y0}\" y2=\"{y0}\"/></g>"
    );
}

/// What a series chart marks: the table's value columns (named `names`) against its label
/// column.
struct Marks<'a> {
    table: &'a Table,
    label: usize,
    values: &'a [usize],
    names: &'a [&'a str],
}

impl Marks<'_> {
    /// The tooltip of one value.
    fn tip(&self, row: &[Cell], l: &str, k: usize, c: usize) -> String {
        format!(
            "{l} · {}: {}",
            self.names[k],
            display(&row[c], self.table.columns[c].kind)
        )
    }

    /// One column per row, its values stacked (negative values count as 0).
    fn columns(&self, out: &mut String, p: &Plot) {
        let w = (p.band * 0.72).clamp(0.6, 56.0);
        for (i, row) in self.table.rows.iter().enumerate() {
            let l = label_text(&row[self.label]);
            let mut base = 0.0_f64;
            for (k, &c) in self.values.iter().enumerate() {
                let v = row[c].as_f64().map(|v| v.max(0.0)).unwrap_or(0.0);
                let (ya, yb) = (p.sy.at(base), p.sy.at(base + v));
                base += v;
                let _ = write!(
                    out,
                    "<rect class=\"bar s{}\"{} x=\"{:.2}\" y=\"{yb:.2}\" width=\"{w:.2}\" height=\"{:.2}\"><title>{}</title></rect>",
                    k % PALETTE,
                    data_value(&row[c]),
                    p.x(i) - w / 2.0,
                    (ya - yb).max(0.0),
                    escape(&self.tip(row, &l, k, c))
                );
            }
        }
    }

    /// Per value column: its polylines, then a point per row.
    fn lines(&self, out: &mut String, p: &Plot) {
        let n = self.table.rows.len();
        let r = if n > 60 { 1.6 } else { 3.2 };
        for (k, &c) in self.values.iter().enumerate() {
            self.polylines(out, p, k, c);
            for (i, row) in self.table.rows.iter().enumerate() {
                let cell = &row[c];
                let tip = self.tip(row, &label_text(&row[self.label]), k, c);
                let (y, hidden) = match cell.as_f64() {
                    Some(v) => (p.sy.at(v), ""),
                    None => (p.y0, " missing"),
                };
                let _ = write!(
                    out,
                    "<circle class=\"point s{}{hidden}\"{} cx=\"{:.2}\" cy=\"{y:.2}\" r=\"{r}\"><title>{}</title></circle>",
                    k % PALETTE,
                    data_value(cell),
                    p.x(i),
                    escape(&tip)
                );
            }
        }
    }

    /// One polyline per run of values of column `c`: a missing value is a gap, not a slope.
    fn polylines(&self, out: &mut String, p: &Plot, k: usize, c: usize) {
        let mut runs: Vec<Vec<String>> = vec![Vec::new()];
        for (i, row) in self.table.rows.iter().enumerate() {
            match row[c].as_f64() {
                Some(v) => {
                    runs.last_mut()
                        .unwrap()
                        .push(format!("{:.2},{:.2}", p.x(i), p.sy.at(v)))
                }
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| r.len() > 1) {
            let _ = write!(
                out,
                "<polyline class=\"line s{}\" points=\"{}\"/>",
                k % PALETTE,
                run.join(" ")
            );
        }
    }
}

/// ` data-value="RAW"`, or nothing for a missing value.
fn data_value(cell: &Cell) -> String {
    match raw(cell) {
        Some(v) => format!(" data-value=\"{}\"", escape(&v)),
        None => String::new(),
    }
}

fn label_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "(none)".to_string(),
        c => c.plain(),
    }
}

/// An x-axis label: instants shortened to "03-10 12:00" (the table has the full value).
fn axis_label(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 16 && s.is_ascii() && b[4] == b'-' && b[10] == b'T' {
        format!("{} {}", &s[5..10], &s[11..16])
    } else {
        s.to_string()
    }
}

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// A tick's label: as many decimals as the step needs, "%" on a percent axis.
fn tick_label(t: f64, ticks: &[f64], kind: Kind) -> String {
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    // The fewest decimals that write the step exactly (0.25 needs two, 2.5 one), at most 3.
    let decimals = (0..3)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(3);
    let s = number(t, decimals);
    if kind == Kind::Percent {
        format!("{s}%")
    } else {
        s
    }
}

/// A linear map from the ticks' range onto pixels.
struct Scale {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
}

impl Scale {
    fn new(ticks: &[f64], a: f64, b: f64) -> Scale {
        Scale {
            lo: ticks[0],
            hi: ticks[ticks.len() - 1],
            a,
            b,
        }
    }

    fn at(&self, v: f64) -> f64 {
        self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)
    }

    /// Round ticks (1, 2, 2.5 or 5 times a power of ten) covering zero and every value, about
    /// `target` intervals; whole steps for whole-number columns.
    fn ticks(vals: &[Option<f64>], target: usize, kind: Kind) -> Vec<f64> {
        let finite = vals.iter().flatten().copied().filter(|v| v.is_finite());
        let (mut lo, mut hi) = finite.fold((0.0_f64, 0.0_f64), |(l, h), v| (l.min(v), h.max(v)));
        if hi <= lo {
            hi = lo + 1.0;
        }
        if kind == Kind::Percent && hi <= 100.0 && hi > 50.0 && lo >= 0.0 {
            hi = 100.0;
        }
        let raw = (hi - lo) / target as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let norm = raw / mag;
        let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
            .into_iter()
            .find(|&m| norm <= m)
            .unwrap_or(10.0);
        let mut step = nice * mag;
        if kind == Kind::Int {
            step = step.max(1.0).round();
        }
        lo = (lo / step).floor() * step;
        let count = ((hi - lo) / step - 1e-9).ceil().max(1.0) as usize;
        (0..=count).map(|i| lo + step * i as f64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind::*;

    fn count(svg: &str, what: &str) -> usize {
        svg.matches(what).count()
    }

    fn hours(n: usize) -> Table {
        let mut t = Table::new(
            "x_per_hour",
            "Per hour",
            &[
                ("hour", Time),
                ("ok", Int),
                ("failed", Int),
                ("rate", Percent),
            ],
        );
        for i in 0..n {
            let failed = if i == 3 {
                Cell::Empty
            } else {
                Cell::Int(i as i64)
            };
            t.push(vec![
                format!("2026-03-10T{i:02}:00:00Z").into(),
                Cell::Int(1000 * i as i64),
                failed,
                Cell::Float(100.0 / (i + 1) as f64),
            ]);
        }
        t
    }

    #[test]
    fn one_element_per_row_and_series() {
        let t = hours(24).chart(ChartKind::Line, 0, &[1, 2]);
        let svg = chart(&t, t.chart.as_ref().unwrap());
        assert_eq!(count(&svg, "<circle class=\"point"), 48);
        assert_eq!(
            count(&svg, "<polyline"),
            3,
            "ok, and failed with a gap at hour 3"
        );
        assert!(svg.contains("data-kind=\"line\""));

        let t = hours(24).chart(ChartKind::Columns, 0, &[1, 2]);
        let svg = chart(&t, t.chart.as_ref().unwrap());
        assert_eq!(count(&svg, "<rect class=\"bar"), 48);

        let t = hours(7).chart(ChartKind::Bars, 0, &[1, 2]);
        let svg = chart(&t, t.chart.as_ref().unwrap());
        assert_eq!(
            count(&svg, "<rect class=\"bar"),
            7,
            "bars draw the first column only"
        );
        assert!(svg.contains("data-value=\"6000\""));
    }

    #[test]
    fn missing_values_keep_their_element_without_a_value() {
        let t = hours(6).chart(ChartKind::Line, 0, &[2]);
        let svg = chart(&t, t.chart.as_ref().unwrap());
        assert_eq!(count(&svg, "<circle class=\"point"), 6);
        assert_eq!(count(&svg, "<polyline"), 2, "a gap at the missing value");
        assert_eq!(count(&svg, "data-value="), 5);
        assert_eq!(count(&svg, "missing"), 1);
    }

    #[test]
    fn no_rows_or_bad_columns_draw_nothing() {
        let t = hours(0).chart(ChartKind::Line, 0, &[1]);
        assert_eq!(chart(&t, t.chart.as_ref().unwrap()), "");
        let t = hours(3).chart(ChartKind::Line, 0, &[9]);
        assert_eq!(chart(&t, t.chart.as_ref().unwrap()), "");
    }

    #[test]
    fn ticks_are_round_and_cover_the_values() {
        assert_eq!(
            Scale::ticks(&[Some(0.0), Some(3.0)], 4, Int),
            [0.0, 1.0, 2.0, 3.0]
        );
        assert_eq!(
            Scale::ticks(&[Some(1950.0)], 4, Int),
            [0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        assert_eq!(Scale::ticks(&[Some(0.0)], 4, Int), [0.0, 1.0]);
        assert_eq!(Scale::ticks(&[Some(93.1)], 4, Percent).last(), Some(&100.0));
        let t = Scale::ticks(&[Some(0.3)], 4, Float);
        assert_eq!(tick_label(t[1], &t, Float), "0.1");
        assert_eq!(tick_label(12500.0, &[0.0, 2500.0], Int), "12,500");
        assert_eq!(tick_label(0.75, &[0.0, 0.25], Float), "0.75");
        assert_eq!(tick_label(7.5, &[0.0, 2.5], Float), "7.5");
    }
}
