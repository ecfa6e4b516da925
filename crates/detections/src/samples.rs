//! `rules test`: every rule file's sample events (`rsigma.exemplars`: `match` and `no-match`),
//! run file by file through rsigma's engines, so a failure names its file.

use rsigma_eval::run_exemplars;
use rsigma_parser::{parse_sigma_yaml, SigmaCollection};

use crate::error::RuleError;
use crate::ruleset::documents;

/// One file's outcome.
#[derive(Debug, Clone)]
pub struct FileSamples {
    pub file: String,
    /// Samples that held.
    pub passed: usize,
    /// `rule title: sample name: what happened`.
    pub failures: Vec<String>,
    /// Alerting rules with no samples.
    pub without_samples: Vec<String>,
}

/// Runs the samples of one file's text.
pub fn test_file(file: &str, text: &str) -> Result<FileSamples, RuleError> {
    let mut collection = SigmaCollection::new();
    for (line, doc) in documents(text) {
        let one = parse_sigma_yaml(&doc).map_err(|e| RuleError::Parse {
            file: file.to_string(),
            line: Some(line),
            message: e.to_string(),
        })?;
        collection.rules.extend(one.rules);
        collection.correlations.extend(one.correlations);
        collection.filters.extend(one.filters);
    }
    let report = run_exemplars(&collection, &[]).map_err(|e| RuleError::Invalid {
        file: file.to_string(),
        rule: String::new(),
        message: e.to_string(),
    })?;
    let failures = report
        .failures()
        .map(|r| {
            format!(
                "{}: sample '{}': expected {}, got {}{}",
                r.rule_title,
                r.name,
                r.expect,
                r.actual,
                r.diagnostic
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    // Rules another rule of the file uses (a correlation's detections, a chained
    // correlation) need no samples of their own: the user's samples go through them.
    let referenced: Vec<&String> = collection
        .correlations
        .iter()
        .flat_map(|c| &c.rules)
        .collect();
    let used = |name: &Option<String>, id: &Option<String>| {
        referenced
            .iter()
            .any(|n| Some(*n) == name.as_ref() || Some(*n) == id.as_ref())
    };
    let without_samples = report
        .missing
        .iter()
        .filter(|m| {
            let rule = collection.rules.iter().find(|r| r.title == m.rule_title);
            let corr = collection
                .correlations
                .iter()
                .find(|c| c.title == m.rule_title);
            !(rule.is_some_and(|r| used(&r.name, &r.id))
                || corr.is_some_and(|c| used(&c.name, &c.id)))
        })
        .map(|m| m.rule_title.clone())
        .collect();
    Ok(FileSamples {
        file: file.to_string(),
        passed: report.results.iter().filter(|r| r.passed).count(),
        failures,
        without_samples,
    })
}
