//! `sfevents report NAME`: finds the archives, builds the report, writes it in the asked
//! format. Exit 0 when the report was written, 1 when an archive file could not be read, 2
//! on usage errors (unknown report, bad date, no archive).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::exit;
use reports::ledger::{Ledger, Window};
use reports::{self, render, Options, ReportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Html,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// api-usage, logins, connected-apps, data-access, setup-changes, apex, alerts, health, or
    /// all.
    pub name: String,
    /// Archive folder (holding state.db, or one folder per org).
    #[arg(long, env = "SFEVENTS_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Config file whose archives to read.
    #[arg(long, env = "SFEVENTS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Only this org (by name), when there are several.
    #[arg(long)]
    pub org: Option<String>,
    /// First day included (2026-11-01), UTC.
    #[arg(long)]
    pub since: Option<String>,
    /// Last day included, UTC.
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Where to write: a file (json, html, table), a folder (csv: one file per table).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// API versions at or below this count as legacy in api-usage.
    #[arg(long, default_value_t = 30.0)]
    pub api_floor: f64,
    /// Rows kept in top-N tables.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

pub fn run(a: &ReportArgs) -> u8 {
    match go(a) {
        Ok(()) => exit::OK,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn usage(msg: impl ToString) -> (u8, String) {
    (exit::CONFIG, msg.to_string())
}

/// Runs one report: arguments checked, archives opened, the document built and written.
fn go(a: &ReportArgs) -> Result<(), (u8, String)> {
    let window = window(a)?;
    let archives = open_archives(a)?;
    let opts = Options {
        window,
        api_floor: a.api_floor,
        top: a.top,
    };
    let doc = reports::build(&a.name, &archives, &opts).map_err(|e| match e {
        ReportError::Usage(m) => usage(m),
        other => (exit::PARTIAL, other.to_string()),
    })?;
    emit(a, &doc)
}

/// The report's name, `--since`/`--until` and `--top`, checked.
fn window(a: &ReportArgs) -> Result<Window, (u8, String)> {
    if a.name != "all" && !reports::NAMES.contains(&a.name.as_str()) {
        return Err(usage(format!(
            "there is no report '{}'. Fix: use one of {}, or all",
            a.name,
            reports::NAMES.join(", ")
        )));
    }
    let since = crate::archives::day("--since", &a.since).map_err(usage)?;
    let until = crate::archives::day("--until", &a.until).map_err(usage)?;
    if let (Some(s), Some(u)) = (&since, &until) {
        if s > u {
            return Err(usage(format!(
                "--since {s} is after --until {u}. Fix: swap them"
            )));
        }
    }
    if a.top == 0 {
        return Err(usage("--top must be at least 1"));
    }
    Ok(Window { since, until })
}

/// The archives under `--output-dir`/`--config`, only the asked org's with `--org`.
fn open_archives(a: &ReportArgs) -> Result<Vec<Ledger>, (u8, String)> {
    let roots =
        crate::archives::roots(a.output_dir.as_deref(), a.config.as_deref()).map_err(usage)?;
    let mut archives = Vec::new();
    for r in roots {
        let arc = Ledger::open(&r).map_err(usage)?;
        if a.org.as_deref().is_none_or(|o| o == arc.org) {
            archives.push(arc);
        }
    }
    if archives.is_empty() {
        return Err(usage(format!(
            "no archive of org '{}'. Fix: use the org's name from the config (see `sfevents status`)",
            a.org.as_deref().unwrap_or("")
        )));
    }
    Ok(archives)
}

/// Writes to `--out`, else to standard output.
fn write(a: &ReportArgs, bytes: &[u8]) -> Result<(), (u8, String)> {
    match &a.out {
        Some(p) => std::fs::write(p, bytes)
            .map_err(|e| (exit::PARTIAL, format!("cannot write {}: {e}", p.display()))),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.flush())
                .map_err(|e| (exit::PARTIAL, format!("cannot write the report: {e}")))
        }
    }
}

/// Writes the document in the asked format.
fn emit(a: &ReportArgs, doc: &reports::model::Document) -> Result<(), (u8, String)> {
    match a.format {
        Format::Table => {
            let width = if std::io::stdout().is_terminal() && a.out.is_none() {
                terminal_width()
            } else {
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(120)
            };
            write(a, render::text::render(doc, width).as_bytes())
        }
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&render::data::json(doc))
                .map_err(|e| (exit::PARTIAL, e.to_string()))?;
            s.push('\n');
            write(a, s.as_bytes())
        }
        Format::Html => write(a, render::html::render(doc).as_bytes()),
        Format::Csv => {
            let tables: Vec<_> = doc.sections.iter().flat_map(|s| &s.tables).collect();
            match (&a.out, tables.as_slice()) {
                (Some(dir), _) => {
                    let files = render::data::csv_files(doc, dir)
                        .map_err(|e| (exit::PARTIAL, format!("cannot write to {}: {e}", dir.display())))?;
                    eprintln!("wrote {} CSV files to {}", files.len(), dir.display());
                    Ok(())
                }
                (None, [only]) => {
                    let bytes = render::data::csv(only).map_err(|e| (exit::PARTIAL, e.to_string()))?;
                    write(a, &bytes)
                }
                (None, _) => Err(usage(format!(
                    "this report has {} tables and CSV holds one. Fix: add --out DIR for one file per table",
                    tables.len()
                ))),
            }
        }
    }
}

/// The terminal's width from the tty, else COLUMNS, else 120.
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own; a failure leaves it zeroed.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 20 {
        return ws.ws_col as usize;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}
