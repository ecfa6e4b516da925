//! The terminal format: each section's figures, then its tables aligned in columns that fit
//! the terminal (long text cells are cut with `…`), numbers right-aligned with thousands
//! separators.

use std::fmt::Write as _;

use crate::model::{grouped, Cell, Document, Kind, Table};

/// Renders for a terminal `width` columns wide.
pub fn render(doc: &Document, width: usize) -> String {
    let mut out = String::new();
    let orgs: Vec<String> = doc
        .orgs
        .iter()
        .map(|o| match &o.org_id {
            Some(id) => format!("{} ({id})", o.name),
            None => o.name.clone(),
        })
        .collect();
    let _ = writeln!(out, "{} — {}", doc.title, orgs.join(", "));
    let _ = writeln!(out, "period: {}", period(doc));
    for s in &doc.sections {
        let _ = writeln!(out, "\n== {} ==", s.title);
        for src in &s.sources {
            let _ = writeln!(out, "from {src}");
        }
        if let Some(e) = &s.empty {
            let _ = writeln!(out, "{e}");
            continue;
        }
        if !s.figures.is_empty() {
            let figs: Vec<String> = s
                .figures
                .iter()
                .map(|f| format!("{}: {}", f.label, cell(&f.value, f.kind)))
                .collect();
            let _ = writeln!(out, "{}", figs.join(" · "));
        }
        for n in &s.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for t in &s.tables {
            out.push('\n');
            table(&mut out, t, width);
        }
    }
    out
}

/// The period line: what was asked for, and the events actually found.
pub fn period(doc: &Document) -> String {
    let p = &doc.period;
    let asked = match (&p.since, &p.until) {
        (None, None) => "everything in the archive".to_string(),
        (Some(s), None) => format!("from {s}"),
        (None, Some(u)) => format!("until {u}"),
        (Some(s), Some(u)) => format!("{s} to {u}"),
    };
    match (&p.first_event, &p.last_event) {
        (Some(f), Some(l)) => format!("{asked} (events from {f} to {l})"),
        _ => format!("{asked} (no events)"),
    }
}

/// A cell as the terminal shows it.
pub fn cell(c: &Cell, kind: Kind) -> String {
    match (c, kind) {
        (Cell::Int(i), _) => grouped(*i),
        (Cell::Float(f), Kind::Percent) => format!("{f:.1} %"),
        (Cell::Float(f), _) => format!("{f:.1}"),
        (Cell::Text(s), _) => s.replace(['\n', '\r', '\t'], " "),
        (Cell::Empty, _) => String::new(),
    }
}

fn table(out: &mut String, t: &Table, width: usize) {
    let _ = writeln!(out, "{}", t.title);
    if t.rows.is_empty() {
        let _ = writeln!(out, "  (no rows)");
        return;
    }
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&t.columns)
                .map(|(c, col)| cell(c, col.kind))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = t.columns.iter().map(|c| c.name.chars().count()).collect();
    for r in &cells {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Narrow the widest text columns until the row fits (2 spaces of indent, 2 between).
    let fixed = 2 + 2 * widths.len().saturating_sub(1);
    while widths.iter().sum::<usize>() + fixed > width {
        let Some((i, w)) = widths
            .iter()
            .enumerate()
            .filter(|(i, _)| t.columns[*i].kind == Kind::Text)
            .max_by_key(|(_, w)| **w)
            .map(|(i, w)| (i, *w))
        else {
            break;
        };
        if w <= 12 {
            break;
        }
        widths[i] = w - 1;
    }
    let line = |out: &mut String, vals: &[String]| {
        out.push_str("  ");
        for (i, v) in vals.iter().enumerate() {
            let w = widths[i];
            let v = fit(v, w);
            let numeric = !matches!(t.columns[i].kind, Kind::Text | Kind::Time);
            if i > 0 {
                out.push_str("  ");
            }
            let pad = w.saturating_sub(v.chars().count());
            if numeric {
                out.push_str(&" ".repeat(pad));
                out.push_str(&v);
            } else {
                out.push_str(&v);
                if i + 1 < vals.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
    };
    let header: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    line(out, &header);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    line(out, &rule);
    for r in &cells {
        line(out, r);
    }
    if t.omitted > 0 {
        let _ = writeln!(
            out,
            "  … and {} more (all of them with --format csv or json)",
            grouped(t.omitted as i64)
        );
    }
}

fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(w.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
