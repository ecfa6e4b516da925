//! What a report is, before it is rendered: sections of tables, each table with typed columns
//! and, where a picture says more, the chart to draw from it. Every renderer (terminal table,
//! CSV, JSON, HTML) reads only this, so the numbers are the same in every format.

use serde::Serialize;

/// One run of `sfevents report`: one or more sections over one period.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// "API usage", or "All reports" for `all`.
    pub title: String,
    /// The orgs whose archives were read (name and id when known).
    pub orgs: Vec<OrgInfo>,
    /// The period asked for (`--since`/`--until`), and the events' actual first and last time.
    pub period: Period,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgInfo {
    pub name: String,
    pub org_id: Option<String>,
    pub archive: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Period {
    /// First day included (YYYY-MM-DD), when `--since` was given.
    pub since: Option<String>,
    /// Last day included (YYYY-MM-DD), when `--until` was given.
    pub until: Option<String>,
    /// The earliest and latest event time the report drew on.
    pub first_event: Option<String>,
    pub last_event: Option<String>,
}

/// One report (`api-usage`, `logins`, ...).
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The report's name on the command line, also its HTML anchor: `api-usage`.
    pub id: String,
    pub title: String,
    /// What the section drew on, one line each: "ApiTotalUsage (EventLogFile): 90 files, 1,950 rows".
    pub sources: Vec<String>,
    /// Headline figures, in order: ("calls", "1,950"), ("success rate", "93.1 %").
    pub figures: Vec<Figure>,
    /// Said instead of tables when the period holds no data for this report.
    pub empty: Option<String>,
    /// Things the reader should know (a fallback source, a column the archive lacks).
    pub notes: Vec<String>,
    pub tables: Vec<Table>,
}

impl Section {
    /// A section with nothing in it yet.
    pub fn new(id: &str, title: &str) -> Section {
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub label: String,
    pub value: Cell,
    /// How to show the value: `Percent` for a share or a rate.
    pub kind: Kind,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Unique in the document, snake case, prefixed by the section: `api_usage_per_user`.
    /// It names the CSV file and the JSON key.
    pub id: String,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// How to draw it in HTML, if at all.
    pub chart: Option<Chart>,
    /// Rows left out by a top-N limit (0 when the table is whole).
    pub omitted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// How a column's values are typed and aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    /// A whole number (counts, bytes, milliseconds).
    Int,
    /// A decimal number (averages).
    Float,
    /// A share from 0 to 100.
    Percent,
    /// A day (YYYY-MM-DD), an hour or an instant.
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Empty,
}

/// A chart drawn from a table's own rows, so the picture and the numbers cannot disagree.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub kind: ChartKind,
    /// The column whose values label the bars or the x axis.
    pub label: usize,
    /// The columns drawn (one series each): bars use the first, lines one line per column.
    pub values: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Horizontal bars, one per row (top-N tables).
    Bars,
    /// A time series: one point per row and value column, x = the label column.
    Line,
    /// A time series drawn as columns, one per row (stacked when several value columns).
    Columns,
}

impl Table {
    pub fn new(id: &str, title: &str, columns: &[(&str, Kind)]) -> Self {
        Table {
            id: id.to_string(),
            title: title.to_string(),
            columns: columns
                .iter()
                .map(|(n, k)| Column {
                    name: n.to_string(),
                    kind: *k,
                })
                .collect(),
            rows: Vec::new(),
            chart: None,
            omitted: 0,
        }
    }

    pub fn chart(mut self, kind: ChartKind, label: usize, values: &[usize]) -> Self {
        self.chart = Some(Chart {
            kind,
            label,
            values: values.to_vec(),
        });
        self
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "table {}", self.id);
        self.rows.push(row);
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The value as the CSV and terminal formats write it: numbers plain, floats to two
    /// decimals, empty as nothing.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f:.2}"),
            Cell::Empty => String::new(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Int(v as i64)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Float(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// Thousands separators for figures and terminal cells: 1950 -> "1,950".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1950), "1,950");
        assert_eq!(grouped(-1234567), "-1,234,567");
    }
}
