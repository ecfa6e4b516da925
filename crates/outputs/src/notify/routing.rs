//! Which alerts a notifier takes, and how often it repeats itself: the settings every
//! notifier reads the same way. A leaf: the output trait names `Routing` without reaching
//! into the rest of `notify`.

use crate::settings::{ConfigError, Settings};

/// The settings every notifier takes besides its own.
pub const KEYS: &[&str] = &["min_level", "rules", "suppress_minutes"];

/// Sigma's levels, lowest first.
pub const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];

/// Which alerts a notifier takes, and how often it repeats itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// Index into [`LEVELS`]: alerts below it are skipped.
    pub min_level: usize,
    /// Rule names or globs (`salesforce_*`); empty: every rule.
    pub rules: Vec<String>,
    /// One notification per rule and group values within this many seconds; 0: no suppression.
    pub suppress_secs: i64,
    /// A digest's span: the shipper hands the notifier only alerts committed at least this
    /// long ago, so each pass gathers one span's alerts into one message. 0: at once.
    pub gather_secs: i64,
}

impl Routing {
    pub fn parse(s: &Settings) -> Result<Routing, ConfigError> {
        let min_level = match s.get("min_level") {
            None => 0,
            Some(v) => level_rank(v).ok_or_else(|| {
                ConfigError::invalid(format!(
                    "min_level '{v}' is not a Sigma level: use one of {}",
                    LEVELS.join(", ")
                ))
            })?,
        };
        let rules = s
            .get("rules")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let minutes = s.number("suppress_minutes", 0, 0)?;
        let suppress_secs = minutes as i64 * 60;
        if suppress_secs > archive::state::MARK_HORIZON {
            return Err(ConfigError::invalid(format!(
                "suppress_minutes = {minutes} is longer than a day: use at most 1440"
            )));
        }
        Ok(Routing {
            min_level,
            rules,
            suppress_secs,
            gather_secs: 0,
        })
    }
}

/// A level's rank in [`LEVELS`] (`info` is taken for `informational`).
pub fn level_rank(level: &str) -> Option<usize> {
    let l = level.trim().to_ascii_lowercase();
    let l = if l == "info" {
        "informational".into()
    } else {
        l
    };
    LEVELS.iter().position(|x| *x == l)
}
