//! The machine formats: JSON (one object, a key per table, each a list of rows keyed by
//! column name, plus `report` with the org, period and sources) and CSV (one file per table).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::model::{Cell, Document, Table};

fn value(c: &Cell) -> Value {
    match c {
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Int(i) => json!(i),
        Cell::Float(f) => json!(f),
        Cell::Empty => Value::Null,
    }
}

/// A table's rows as JSON objects keyed by column name.
pub fn rows(t: &Table) -> Value {
    Value::Array(
        t.rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, col) in r.iter().zip(&t.columns) {
                    m.insert(col.name.clone(), value(c));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

pub fn json(doc: &Document) -> Value {
    let mut top = Map::new();
    let sections: Vec<Value> = doc
        .sections
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "title": s.title,
                "sources": s.sources,
                "figures": s.figures.iter().map(|f| json!({"label": f.label, "value": value(&f.value)})).collect::<Vec<_>>(),
                "empty": s.empty,
                "notes": s.notes,
                "tables": s.tables.iter().map(|t| json!({"id": t.id, "title": t.title, "omitted": t.omitted})).collect::<Vec<_>>(),
            })
        })
        .collect();
    top.insert(
        "report".into(),
        json!({
            "title": doc.title,
            "orgs": doc.orgs,
            "period": doc.period,
            "generated_at": doc.generated_at,
            "sections": sections,
        }),
    );
    for s in &doc.sections {
        for t in &s.tables {
            top.insert(t.id.clone(), rows(t));
        }
    }
    Value::Object(top)
}

/// One CSV table: a header of column names, then the rows (numbers plain, floats with two
/// decimals, empty cells empty).
pub fn csv(t: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(t.columns.iter().map(|c| c.name.as_str()))?;
    for r in &t.rows {
        w.write_record(r.iter().map(Cell::plain))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Writes every table as `DIR/<table id>.csv`; returns the files written.
pub fn csv_files(doc: &Document, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for s in &doc.sections {
        for t in &s.tables {
            let p = dir.join(format!("{}.csv", t.id));
            let bytes = csv(t).map_err(std::io::Error::other)?;
            std::fs::write(&p, bytes)?;
            out.push(p);
        }
    }
    Ok(out)
}
