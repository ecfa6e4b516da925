//! What a loaded rule is, as `rules list`, alerts and `detect` name it.

use serde::Serialize;

/// Sigma's levels, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// `--fail-level` and the config's spelling.
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub(crate) fn from_sigma(level: Option<rsigma_parser::Level>) -> Level {
        use rsigma_parser::Level as L;
        match level {
            Some(L::Informational) => Level::Informational,
            Some(L::Low) => Level::Low,
            // A rule without a level is treated as Sigma's middle; `rules check` warns.
            Some(L::Medium) | None => Level::Medium,
            Some(L::High) => Level::High,
            Some(L::Critical) => Level::Critical,
        }
    }

    /// ECS `event.severity`: 21, 47, 73, 99 as Elastic's detection rules use them.
    pub fn severity(self) -> u8 {
        match self {
            Level::Informational => 1,
            Level::Low => 21,
            Level::Medium => 47,
            Level::High => 73,
            Level::Critical => 99,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// One event matches.
    Detection,
    /// A Sigma correlation over other rules' matches.
    Correlation,
    /// The `sfevents.new_value` extension.
    NewValue,
    /// The `sfevents.baseline` extension.
    Baseline,
    /// A detection rule only other rules use (it raises no alert of its own).
    Base,
}

/// One rule as loaded.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// The Sigma `name` (`<name>.<variant>` in the pack), else the title.
    pub sigma_name: String,
    /// The stable name alerts carry and `--rule`/`disable` take: the Sigma name up to its first
    /// `.` (so `salesforce_brute_force.elf` and `.rtem` are both `salesforce_brute_force`).
    pub name: String,
    /// The Sigma `id` (the title when a user rule has none).
    pub id: String,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    pub kind: RuleKind,
    /// The datasets (`logsource.service`) it reads; a correlation's are its rules'.
    pub datasets: Vec<String>,
    pub falsepositives: Vec<String>,
    pub description: String,
    /// Where it came from: `builtin:<file>` or a path.
    pub file: String,
}

impl RuleInfo {
    /// Whether the rule raises alerts of its own.
    pub fn alerts(&self) -> bool {
        self.kind != RuleKind::Base
    }
}

/// `salesforce_brute_force.elf.failure` -> `salesforce_brute_force`.
pub fn family(sigma_name: &str) -> &str {
    sigma_name.split('.').next().unwrap_or(sigma_name)
}
