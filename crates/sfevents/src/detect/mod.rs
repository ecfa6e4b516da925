//! `sfevents detect`: runs rules over the archive (a backtest) without Salesforce and without
//! moving the live rules' position. Exit 0; 1 when an alert at or above `--fail-level` was
//! found (or an archive file could not be read); 2 for usage, configuration or a bad rule.

pub mod config;
pub mod live;
pub mod print;
pub mod scan;

use std::collections::BTreeMap;
use std::path::PathBuf;

use base::exit;
use detections::{Detector, Level, RuleSet};

use self::print::Format;
use self::scan::{Days, ScanCounts};

#[derive(Debug, Clone, clap::Args)]
pub struct DetectArgs {
    /// Archive folder (holding state.db, or one folder per org).
    #[arg(long, env = "SFEVENTS_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Config file: its orgs' archives and its [detections] table.
    #[arg(long, env = "SFEVENTS_CONFIG")]
    pub config: Option<PathBuf>,
    /// A folder of Sigma rules (repeatable), beside the built-in pack.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Run only this rule (by name, repeatable).
    #[arg(long = "rule", value_name = "NAME")]
    pub rule: Vec<String>,
    /// Leave the built-in pack out.
    #[arg(long)]
    pub no_builtin: bool,
    /// First day included (2026-11-01), UTC.
    #[arg(long)]
    pub since: Option<String>,
    /// Last day included, UTC.
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 when an alert at or above this level is found: informational, low, medium,
    /// high, critical.
    #[arg(long, value_name = "LEVEL")]
    pub fail_level: Option<String>,
}

pub fn run(a: &DetectArgs, quiet: bool) -> u8 {
    match go(a, quiet) {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn usage(e: impl std::fmt::Display) -> (u8, String) {
    (exit::CONFIG, e.to_string())
}

fn go(a: &DetectArgs, quiet: bool) -> Result<u8, (u8, String)> {
    let fail_level = match &a.fail_level {
        Some(l) => Some(Level::parse(l).ok_or_else(|| {
            usage(format!("--fail-level '{l}' is not a level. Fix: use informational, low, medium, high or critical"))
        })?),
        None => None,
    };
    let days = Days {
        since: crate::archives::day("--since", &a.since).map_err(usage)?,
        until: crate::archives::day("--until", &a.until).map_err(usage)?,
    };
    let file = config::read(a.config.as_deref()).map_err(usage)?;
    let set = RuleSet::load(&file.sources(&a.rules, &a.rule, a.no_builtin)).map_err(usage)?;
    let roots =
        crate::archives::roots(a.output_dir.as_deref(), a.config.as_deref()).map_err(usage)?;
    let rule_width = set.names().iter().map(|n| n.len()).max().unwrap_or(4);
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printer = print::Printer::new(stdout, a.format, rule_width).map_err(cannot_write)?;
    let mut fired = Fired::default();
    let mut totals = ScanCounts::default();
    for root in &roots {
        let mut detector = Detector::new(&set).map_err(usage)?;
        let mut written = Ok(());
        let counts = scan::scan(
            root,
            &days,
            |d| set.reads(d),
            |ev| {
                for alert in detector.process(ev) {
                    *fired.by_level.entry(alert.rule.level).or_default() += 1;
                    fired.failed |= fail_level.is_some_and(|l| alert.rule.level >= l);
                    if written.is_ok() {
                        written = printer.alert(&alert);
                    }
                }
            },
        )
        .map_err(|e| (exit::PARTIAL, format!("{}: {e:#}", root.display())))?;
        written.map_err(cannot_write)?;
        totals.files += counts.files;
        totals.events += counts.events;
        totals.missing += counts.missing;
        totals.bad_lines += counts.bad_lines;
    }
    printer.finish().map_err(cannot_write)?;
    if !quiet {
        eprintln!("{}", footer(&set, &fired, &totals));
    }
    Ok(if fired.failed || totals.missing > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}

/// What fired: counts per level, and whether any reached `--fail-level`.
#[derive(Default)]
struct Fired {
    by_level: BTreeMap<Level, usize>,
    failed: bool,
}

fn cannot_write(e: std::io::Error) -> (u8, String) {
    (exit::PARTIAL, format!("cannot write: {e}"))
}

/// One line: what was read and what fired, per level.
fn footer(set: &RuleSet, fired: &Fired, t: &ScanCounts) -> String {
    let by_level = &fired.by_level;
    let total: usize = by_level.values().sum();
    let levels: Vec<String> = by_level
        .iter()
        .rev()
        .map(|(l, n)| format!("{n} {l}"))
        .collect();
    let mut line = format!(
        "{} alert(s){} from {} rule(s) over {} event(s) in {} file(s)",
        total,
        if levels.is_empty() {
            String::new()
        } else {
            format!(" ({})", levels.join(", "))
        },
        set.names().len(),
        t.events,
        t.files
    );
    if t.missing > 0 {
        line.push_str(&format!(
            "; {} file(s) the log lists could not be read",
            t.missing
        ));
    }
    if t.bad_lines > 0 {
        line.push_str(&format!(
            "; {} line(s) were not archive events",
            t.bad_lines
        ));
    }
    line
}
