//! `sfevents rules list|check|test`: the rules without an archive. Exit 0 when all is well, 1
//! when a sample fails, 2 when a rule does not load (the message names its file and line).

use std::path::{Path, PathBuf};

use super::exit;
use detections::samples::{self, FileSamples};
use detections::{RuleKind, RuleSet};

use crate::detect::config;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum RulesCommand {
    /// List the rules that would run: the built-in pack, the config's [detections] rules and
    /// --rules folders, less the disabled ones.
    List {
        /// Config file whose [detections] table to apply.
        #[arg(long, env = "SFEVENTS_CONFIG")]
        config: Option<PathBuf>,
        /// A folder of Sigma rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Load rule files and report what does not parse, with file and line (default: the
    /// built-in pack).
    Check {
        /// Folders (or files) of Sigma rules.
        dirs: Vec<PathBuf>,
    },
    /// Run each rule file's sample events (`rsigma.exemplars`: match and no-match), default
    /// the built-in pack.
    Test {
        /// Folders (or files) of Sigma rules.
        dirs: Vec<PathBuf>,
    },
}

pub fn run(cmd: &RulesCommand) -> u8 {
    let outcome = match cmd {
        RulesCommand::List {
            config,
            rules,
            json,
        } => list(config.as_deref(), rules, *json),
        RulesCommand::Check { dirs } => check(dirs),
        RulesCommand::Test { dirs } => test(dirs),
    };
    match outcome {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            exit::CONFIG
        }
    }
}

fn list(config: Option<&Path>, rules: &[PathBuf], json: bool) -> Result<u8, String> {
    let file = config::read(config).map_err(|e| format!("{e:#}"))?;
    let set = RuleSet::load(&file.sources(rules, &[], false)).map_err(|e| e.to_string())?;
    let shown: Vec<_> = set
        .rules()
        .iter()
        .filter(|r| r.kind != RuleKind::Base)
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?
        );
        return Ok(exit::OK);
    }
    let width = shown.iter().map(|r| r.sigma_name.len()).max().unwrap_or(4);
    println!(
        "{:<width$}  {:<13}  {:<11}  {:<28}  title",
        "rule", "level", "kind", "datasets"
    );
    for r in &shown {
        let kind = serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        println!(
            "{:<width$}  {:<13}  {:<11}  {:<28}  {}",
            r.sigma_name,
            r.level.as_str(),
            kind,
            r.datasets.join(","),
            r.title
        );
    }
    eprintln!(
        "{} rule(s) under {} name(s)",
        shown.len(),
        set.names().len()
    );
    Ok(exit::OK)
}

/// The files to look at: each folder's `*.yml`/`*.yaml` (recursively), or the built-in pack.
fn files(dirs: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    if dirs.is_empty() {
        return Ok(detections::pack::BUILTIN
            .iter()
            .map(|(f, t)| (format!("builtin:{f}"), t.to_string()))
            .collect());
    }
    let mut out = Vec::new();
    for d in dirs {
        let mut paths = Vec::new();
        walk(d, &mut paths).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            out.push((p.display().to_string(), text));
        }
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    for e in std::fs::read_dir(p)? {
        let path = e?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads the rules as `detect` would (all files together, so references between files
/// resolve) and reports the first error, or how many rules loaded.
fn check(dirs: &[PathBuf]) -> Result<u8, String> {
    let sources = detections::RuleSources {
        builtin: dirs.is_empty(),
        folders: dirs.to_vec(),
        ..Default::default()
    };
    let set = RuleSet::load(&sources).map_err(|e| e.to_string())?;
    let _ = detections::Detector::new(&set).map_err(|e| e.to_string())?;
    for r in set
        .rules()
        .iter()
        .filter(|r| r.kind != RuleKind::Base && r.datasets.is_empty())
    {
        eprintln!("warning: {}: rule '{}' names no logsource service (dataset): it is evaluated against every event", r.file, r.sigma_name);
    }
    let unknown = set.unknown_fields();
    for w in &unknown {
        eprintln!("warning: {}", field_warning(w));
    }
    println!(
        "{} rule(s) load: {} alerting, {} name(s)",
        set.rules().len(),
        set.rules().iter().filter(|r| r.alerts()).count(),
        set.names().len()
    );
    println!(
        "{} warning(s): field(s) not known for the rule's dataset",
        unknown.len()
    );
    Ok(exit::OK)
}

/// `FILE: rule 'NAME': field 'X' is not a field of DATASET (known: A, B, ...)`, the known
/// fields nearest to X first.
fn field_warning(w: &detections::fields::FieldWarning) -> String {
    let known = detections::fields::nearest_fields(&w.dataset, &w.field);
    let shown = detections::fields::KNOWN_SHOWN;
    let mut list = known
        .iter()
        .take(shown)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if known.len() > shown {
        list.push_str(&format!(", ... {} more", known.len() - shown));
    }
    format!(
        "{}: rule '{}': field '{}' is not a field of {} (known: {list})",
        w.file, w.rule, w.field, w.dataset
    )
}

fn test(dirs: &[PathBuf]) -> Result<u8, String> {
    let mut failed = 0;
    let mut passed = 0;
    for (file, text) in files(dirs)? {
        let FileSamples {
            passed: ok,
            failures,
            without_samples,
            ..
        } = samples::test_file(&file, &text).map_err(|e| e.to_string())?;
        passed += ok;
        for f in &failures {
            println!("FAIL {file}: {f}");
        }
        for rule in &without_samples {
            println!("FAIL {file}: rule '{rule}' has no samples (rsigma.exemplars with a match and a no-match)");
        }
        failed += failures.len() + without_samples.len();
    }
    println!("{passed} sample(s) held, {failed} failure(s)");
    Ok(if failed == 0 { exit::OK } else { exit::PARTIAL })
}
