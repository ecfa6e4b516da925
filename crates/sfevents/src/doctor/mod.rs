//! `sfevents doctor`: checks, per org and per output, what a collection needs — readable
//! secrets, the login, the user's permissions, what the org publishes, API headroom, the
//! clock, the outputs and the archive — and prints one line per check with the fix in the
//! words of Salesforce's Setup. It reads and never writes: no archive is created, no cursor
//! moves, no event is sent (an HTTP output gets an empty request, which stores nothing).
//!
//! One file per group of checks: `local.rs` (files, modes, disk), `org.rs` (login,
//! permissions, what the org has, limits, clock), `outputs.rs` (each output's own check,
//! which lives in the output's folder of the `outputs` crate, and its backlog).

mod local;
mod org;
mod outputs;
mod streams;

use std::fmt::Write as _;

use salesforce::config::{self, Overrides};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Problem,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Problem => "problem",
        }
    }
}

/// The lines printed so far, and the worst level seen.
#[derive(Default)]
pub struct Report {
    lines: Vec<(Level, String)>,
}

impl Report {
    /// Records (and prints at once, so a slow check shows where it is) one check's line.
    pub fn add(&mut self, level: Level, scope: &str, what: &str, detail: impl AsRef<str>) {
        let line = format!("{scope}: {what}: {}", detail.as_ref());
        println!("{:<8} {line}", level.word());
        self.lines.push((level, line));
    }
    pub fn ok(&mut self, scope: &str, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Ok, scope, what, detail);
    }
    pub fn warn(&mut self, scope: &str, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Warning, scope, what, detail);
    }
    pub fn problem(&mut self, scope: &str, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Problem, scope, what, detail);
    }
    pub fn worst(&self) -> Level {
        self.lines
            .iter()
            .map(|(l, _)| *l)
            .max()
            .unwrap_or(Level::Ok)
    }
    fn count(&self, level: Level) -> usize {
        self.lines.iter().filter(|(l, _)| *l == level).count()
    }
}

/// Runs every check and returns the exit code: 0 all ok, 1 warnings or problems.
pub async fn run(ov: &Overrides) -> u8 {
    let mut r = Report::default();
    if let Some(path) = &ov.config {
        local::config_file(&mut r, path);
    }
    let orgs = match config::resolve(ov) {
        Ok(o) => {
            r.ok(
                "config",
                "configuration",
                format!("{} org(s) configured, every secret read", o.len()),
            );
            o
        }
        Err(e) => {
            r.problem("config", "configuration", e.to_string());
            Vec::new()
        }
    };
    // Each `[[output]]` table and `--to` URL is read once: its secret files are checked even
    // when the output it makes is refused.
    let sources = crate::config::output_sources(ov);
    let named = sources.as_deref().unwrap_or_default();
    local::secret_files(&mut r, ov, &orgs, named);
    let outputs = match sources.and_then(|s| crate::config::resolve_sources(ov, &s)) {
        Ok(o) => o,
        Err(e) => {
            r.problem("config", "outputs", e.to_string());
            Vec::new()
        }
    };
    let mut calls = 0u64;
    for org in &orgs {
        calls += org::check(&mut r, org).await;
        local::archive(&mut r, org);
    }
    for o in &outputs {
        outputs::check(&mut r, o, &orgs).await;
    }
    let mut summary = format!(
        "{} ok, {} warning(s), {} problem(s); {calls} Salesforce API call(s) spent",
        r.count(Level::Ok),
        r.count(Level::Warning),
        r.count(Level::Problem)
    );
    if orgs.is_empty() && r.worst() == Level::Ok {
        let _ = write!(summary, " (no org configured)");
    }
    println!("{summary}");
    match r.worst() {
        Level::Ok => base::exit::OK,
        _ => base::exit::PARTIAL,
    }
}
