//! Loads rules: the built-in pack and extra folders, parsed with rsigma one YAML document at a
//! time (so an error names its file and line), described as `RuleInfo`s, narrowed by
//! `[detections]` (disabled names) or `--rule`, with the allowlist added as a Sigma filter.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rsigma_parser::{parse_sigma_yaml, SigmaCollection};

use crate::allowlist::Allowlist;
use crate::error::RuleError;
use crate::extension::{self, Extension};
use crate::pack;
use crate::rule::{family, Level, RuleInfo, RuleKind};

/// Where rules come from and which are wanted.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    /// Load the built-in pack.
    pub builtin: bool,
    /// Extra folders of `*.yml`/`*.yaml` rules (walked recursively).
    pub folders: Vec<PathBuf>,
    /// Names (or Sigma names) not to run.
    pub disabled: Vec<String>,
    /// When not empty, run only these names (or Sigma names) and what they use.
    pub only: Vec<String>,
    pub allowlist: Allowlist,
}

/// Loaded rules, ready for a `Detector`.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) collection: SigmaCollection,
    rules: Vec<RuleInfo>,
    pub(crate) extensions: Vec<(String, Extension)>,
}

/// One parsed file's rules, with where each came from.
struct Parsed {
    collection: SigmaCollection,
    /// Rule key (id, else title) -> file label.
    files: HashMap<String, String>,
}

impl RuleSet {
    pub fn load(sources: &RuleSources) -> Result<RuleSet, RuleError> {
        let mut texts: Vec<(String, String)> = Vec::new();
        if sources.builtin {
            texts.extend(
                pack::BUILTIN
                    .iter()
                    .map(|(f, t)| (format!("builtin:{f}"), t.to_string())),
            );
        }
        for folder in &sources.folders {
            texts.extend(read_folder(folder)?);
        }
        let parsed = parse_all(&texts)?;
        let mut set = describe(parsed)?;
        set.narrow(sources)?;
        if let Some(yaml) = sources.allowlist.to_sigma().map_err(RuleError::Allowlist)? {
            let filter =
                parse_sigma_yaml(&yaml).map_err(|e| RuleError::Allowlist(e.to_string()))?;
            set.collection.filters.extend(filter.filters);
        }
        Ok(set)
    }

    /// Every rule, base rules included, in load order.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The rule with this Sigma id (or, for a rule without one, title).
    pub fn by_id(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Whether any rule reads `dataset`: a rule without a `service` reads every dataset. The
    /// binary skips the files of datasets no rule reads (most EventLogFile types, for the
    /// built-in pack) without parsing them.
    pub fn reads(&self, dataset: &str) -> bool {
        self.collection
            .rules
            .iter()
            .any(|r| r.logsource.service.as_deref().is_none_or(|s| s == dataset))
    }

    /// The names alerts carry, for `--rule` checks and `status`.
    pub fn names(&self) -> BTreeSet<&str> {
        self.rules
            .iter()
            .filter(|r| r.alerts())
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Keeps the wanted rules and what they use.
    fn narrow(&mut self, sources: &RuleSources) -> Result<(), RuleError> {
        let known: HashSet<&str> = self
            .rules
            .iter()
            .flat_map(|r| [r.name.as_str(), r.sigma_name.as_str()])
            .collect();
        for name in sources.disabled.iter().chain(&sources.only) {
            if !known.contains(name.as_str()) {
                return Err(RuleError::UnknownName(name.clone()));
            }
        }
        let named =
            |r: &RuleInfo, list: &[String]| list.iter().any(|n| *n == r.name || *n == r.sigma_name);
        let roots: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.alerts())
            .filter(|r| !named(r, &sources.disabled))
            .filter(|r| sources.only.is_empty() || named(r, &sources.only))
            .map(|r| r.id.clone())
            .collect();
        let keep = self.closure(roots);
        self.rules.retain(|r| keep.contains(&r.id));
        self.collection
            .rules
            .retain(|r| keep.contains(&key_of(&r.id, &r.title)));
        self.collection
            .correlations
            .retain(|c| keep.contains(&key_of(&c.id, &c.title)));
        self.extensions.retain(|(id, _)| keep.contains(id));
        Ok(())
    }

    /// The given rules and every rule their correlations reference, transitively.
    fn closure(&self, roots: Vec<String>) -> HashSet<String> {
        let mut keep: HashSet<String> = HashSet::new();
        let mut todo = roots;
        while let Some(id) = todo.pop() {
            if !keep.insert(id.clone()) {
                continue;
            }
            let Some(corr) = self
                .collection
                .correlations
                .iter()
                .find(|c| key_of(&c.id, &c.title) == id)
            else {
                continue;
            };
            for reference in &corr.rules {
                if let Some(r) = self
                    .rules
                    .iter()
                    .find(|r| r.id == *reference || r.sigma_name == *reference)
                {
                    todo.push(r.id.clone());
                }
            }
        }
        keep
    }
}

fn key_of(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_string())
}

fn read_folder(folder: &Path) -> Result<Vec<(String, String)>, RuleError> {
    let mut files = Vec::new();
    collect_files(folder, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|source| RuleError::Read {
                path: path.clone(),
                source,
            })?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RuleError::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| RuleError::Folder {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses every file, one document at a time.
fn parse_all(texts: &[(String, String)]) -> Result<Parsed, RuleError> {
    let mut parsed = Parsed {
        collection: SigmaCollection::new(),
        files: HashMap::new(),
    };
    for (file, text) in texts {
        for (line, doc) in documents(text) {
            let one =
                parse_sigma_yaml(&doc).map_err(|e| parse_error(file, line, &e.to_string()))?;
            if let Some(message) = one.errors.first() {
                return Err(parse_error(file, line, message));
            }
            for r in &one.rules {
                parsed.files.insert(key_of(&r.id, &r.title), file.clone());
            }
            for c in &one.correlations {
                parsed.files.insert(key_of(&c.id, &c.title), file.clone());
            }
            let c = &mut parsed.collection;
            c.rules.extend(one.rules);
            c.correlations.extend(one.correlations);
            c.filters.extend(one.filters);
        }
    }
    Ok(parsed)
}

/// A YAML stream's documents with the line each starts on (1-based).
pub(crate) fn documents(text: &str) -> Vec<(u32, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" {
            if !current.trim().is_empty() {
                docs.push((start, std::mem::take(&mut current)));
            }
            current.clear();
            start = i as u32 + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.trim().is_empty() {
        docs.push((start, current));
    }
    docs
}

/// The parser's "line N" is within the document; the file's line is what an editor shows.
fn parse_error(file: &str, doc_line: u32, message: &str) -> RuleError {
    let within = message
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u32>().ok());
    let line = doc_line + within.map_or(0, |n| n.saturating_sub(1));
    RuleError::Parse {
        file: file.to_string(),
        line: Some(line),
        message: message.to_string(),
    }
}

/// Builds the `RuleInfo`s: kinds, datasets, extensions, unique names and ids.
fn describe(parsed: Parsed) -> Result<RuleSet, RuleError> {
    let Parsed {
        mut collection,
        files,
    } = parsed;
    let file_of = |key: &str| files.get(key).cloned().unwrap_or_default();
    let base = referenced_without_generate(&collection);
    let mut rules = Vec::new();
    let mut extensions = Vec::new();
    for r in &collection.rules {
        let key = key_of(&r.id, &r.title);
        let ext = rule_extension(r).map_err(|message| RuleError::Invalid {
            file: file_of(&key),
            rule: r.title.clone(),
            message,
        })?;
        let sigma_name = r.name.clone().unwrap_or_else(|| r.title.clone());
        let kind = match &ext {
            Some(Extension::NewValue { .. }) => RuleKind::NewValue,
            Some(Extension::Baseline { .. }) => RuleKind::Baseline,
            None if base.contains(&key) || r.name.as_ref().is_some_and(|n| base.contains(n)) => {
                RuleKind::Base
            }
            None => RuleKind::Detection,
        };
        if let Some(ext) = ext {
            extensions.push((key.clone(), ext));
        }
        rules.push(RuleInfo {
            name: family(&sigma_name).to_string(),
            sigma_name,
            id: key.clone(),
            title: r.title.clone(),
            level: Level::from_sigma(r.level),
            tags: r.tags.clone(),
            kind,
            datasets: r.logsource.service.iter().cloned().collect(),
            falsepositives: r.falsepositives.clone(),
            description: r.description.clone().unwrap_or_default(),
            file: file_of(&key),
        });
    }
    for c in &mut collection.correlations {
        let key = key_of(&c.id, &c.title);
        // One alert per group and timespan unless the rule says otherwise.
        c.custom_attributes
            .entry("rsigma.suppress".to_string())
            .or_insert_with(|| yaml_serde::Value::String(c.timespan.original.clone()));
        let sigma_name = c.name.clone().unwrap_or_else(|| c.title.clone());
        // A correlation without a level that another correlation uses is a stage of that
        // one (the failures before a success): it raises nothing of its own.
        let stage = c.level.is_none()
            && (base.contains(&key) || c.name.as_ref().is_some_and(|n| base.contains(n)));
        rules.push(RuleInfo {
            name: family(&sigma_name).to_string(),
            sigma_name,
            id: key.clone(),
            title: c.title.clone(),
            level: Level::from_sigma(c.level),
            tags: c.tags.clone(),
            kind: if stage {
                RuleKind::Base
            } else {
                RuleKind::Correlation
            },
            datasets: Vec::new(),
            falsepositives: c.falsepositives.clone(),
            description: c.description.clone().unwrap_or_default(),
            file: file_of(&key),
        });
    }
    unique(&rules)?;
    fill_correlation_datasets(&mut rules, &collection);
    Ok(RuleSet {
        collection,
        rules,
        extensions,
    })
}

/// Rules (by name or id) that a correlation uses without `generate: true`.
fn referenced_without_generate(collection: &SigmaCollection) -> HashSet<String> {
    collection
        .correlations
        .iter()
        .filter(|c| !c.generate)
        .flat_map(|c| c.rules.iter().cloned())
        .collect()
}

fn rule_extension(rule: &rsigma_parser::SigmaRule) -> Result<Option<Extension>, String> {
    let attr = |key: &str| {
        rule.custom_attributes
            .get(key)
            .map(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
    };
    let ext = match (
        attr(extension::NEW_VALUE_KEY),
        attr(extension::BASELINE_KEY),
    ) {
        (Some(_), Some(_)) => {
            return Err(
                "a rule has either sfevents.new_value or sfevents.baseline, not both".into(),
            )
        }
        (Some(v), None) => Extension::new_value(
            serde_json::from_value(v?).map_err(|e| format!("{}: {e}", extension::NEW_VALUE_KEY))?,
        ),
        (None, Some(v)) => Extension::baseline(
            serde_json::from_value(v?).map_err(|e| format!("{}: {e}", extension::BASELINE_KEY))?,
        ),
        (None, None) => return Ok(None),
    };
    ext.validate()?;
    Ok(Some(ext))
}

fn unique(rules: &[RuleInfo]) -> Result<(), RuleError> {
    let mut names: HashMap<&str, &RuleInfo> = HashMap::new();
    let mut ids: HashMap<&str, &RuleInfo> = HashMap::new();
    for r in rules {
        for (map, key) in [
            (&mut names, r.sigma_name.as_str()),
            (&mut ids, r.id.as_str()),
        ] {
            if let Some(first) = map.insert(key, r) {
                return Err(RuleError::DuplicateName {
                    name: key.to_string(),
                    first: first.file.clone(),
                    second: r.file.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A correlation reads what its rules read, through chains of correlations.
fn fill_correlation_datasets(rules: &mut [RuleInfo], collection: &SigmaCollection) {
    for _ in 0..10 {
        let snapshot: Vec<RuleInfo> = rules.to_vec();
        for c in &collection.correlations {
            let key = key_of(&c.id, &c.title);
            let mut datasets: BTreeSet<String> = BTreeSet::new();
            for reference in &c.rules {
                if let Some(r) = snapshot
                    .iter()
                    .find(|r| r.id == *reference || r.sigma_name == *reference)
                {
                    datasets.extend(r.datasets.iter().cloned());
                }
            }
            if let Some(info) = rules.iter_mut().find(|r| r.id == key) {
                info.datasets = datasets.into_iter().collect();
            }
        }
    }
}
