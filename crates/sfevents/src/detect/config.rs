//! `[detections]` in the config file, and the flags that add to it, as `RuleSources`.

use std::path::{Path, PathBuf};

use detections::allowlist::Allowlist;
use detections::RuleSources;
use serde::Deserialize;

/// The `[detections]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionsFile {
    /// Evaluate the rules as `collect` and `run` commit events, and ship their alerts (default
    /// false: alerts join what every output receives, so turning them on is a choice).
    #[serde(default)]
    pub enabled: bool,
    /// Load the built-in pack (default true).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// Extra rule folders, relative to the config file.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Rule names not to run.
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub allowlist: Allowlist,
}

fn yes() -> bool {
    true
}

impl Default for DetectionsFile {
    fn default() -> Self {
        Self {
            enabled: false,
            builtin: true,
            rules: Vec::new(),
            disable: Vec::new(),
            allowlist: Allowlist::default(),
        }
    }
}

/// Reads `[detections]` from the config file (defaults without one, or without the table).
pub fn read(config: Option<&Path>) -> anyhow::Result<DetectionsFile> {
    let Some(path) = config else {
        return Ok(DetectionsFile::default());
    };
    let file = salesforce::config::load_file(path)?;
    let Some(table) = file.detections else {
        return Ok(DetectionsFile::default());
    };
    let mut d: DetectionsFile = table.try_into().map_err(|e| {
        anyhow::anyhow!(
            "{}: [detections]: {e}. Fix: see docs/detections.md for its keys (enabled, builtin, rules, disable, allowlist)",
            path.display()
        )
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    d.rules = d.rules.into_iter().map(|r| base.join(r)).collect();
    Ok(d)
}

impl DetectionsFile {
    /// The sources, with `--rules` folders added and `--rule` names as the only ones wanted.
    pub fn sources(&self, extra: &[PathBuf], only: &[String], no_builtin: bool) -> RuleSources {
        RuleSources {
            builtin: self.builtin && !no_builtin,
            folders: self.rules.iter().chain(extra).cloned().collect(),
            disabled: self.disable.clone(),
            only: only.to_vec(),
            allowlist: self.allowlist.clone(),
        }
    }
}

/// The rules `collect` and `run` evaluate live: `None` when `[detections]` is absent or not
/// `enabled`. A rule that does not load is a configuration error.
pub fn live(config: Option<&Path>) -> anyhow::Result<Option<detections::RuleSet>> {
    let file = read(config)?;
    if !file.enabled {
        return Ok(None);
    }
    Ok(Some(detections::RuleSet::load(&file.sources(
        &[],
        &[],
        false,
    ))?))
}
