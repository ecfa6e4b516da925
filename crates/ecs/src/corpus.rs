//! Test support for the conformance tests (`crates/ecs/tests/conformance.rs`, and sfevents'
//! `tests/elasticsearch_conformance.rs`, which sends the same events through the
//! Elasticsearch output): not part of this crate's API. It reads files; errors are
//! [`CorpusError`]s that name the file.
//!
//! The corpus is Elastic's pipeline test fixtures, used in place: it is under the Elastic
//! License 2.0 and is never copied into the repository. [`dir`] decides where it is, for every
//! test that reads it ([`Places`]): `SFEVENTS_CONFORMANCE_DIR` when set, else
//! `shared/conformance/elastic-salesforce` beside the workspace, else the cache folder that
//! `scripts/test` (through `scripts/fetch-conformance`) fills, checked against the repository's
//! `tests/conformance/elastic-salesforce.sha256`. For each data stream folder, every `<name>.log` (one record a
//! line) pairs with `<name>.log-expected.json` (`{"expected": [doc, ...]}`, one document per
//! input line) and may have a `<name>.log-config.yml` (the `fields:` the pipeline test merged into
//! each event). [`archive_event`] builds the archive event sfevents would have written for a
//! record; [`compare`] lists the paths where a document differs from Elastic's.
//!
//! What [`compare`] does not compare, and why:
//! - `event.ingested`: the time the pipeline ran.
//! - `source.geo.*` / `source.as.*` that only the expected side has: GeoIP database lookups,
//!   which these tests run without (see `GeoIp`). Geo fields we do produce (LoginEvent carries
//!   its own location) are compared.
//! - the envelope ([`ENVELOPE_FIELDS`]), which pipeline tests never show; its values are
//!   checked instead (`logs`, `salesforce.<stream>`, `default`, [`INSTANCE`], [`ORG`],
//!   [`SIMULATE_ID`]).
//!
//! `event.original` is compared as JSON text after removing insignificant whitespace: several
//! fixture lines are hand-written with spaces after `:` and `,`, which an archive event (parsed
//! JSON) cannot keep.
#![doc(hidden)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::{Options, ENVELOPE_FIELDS};

/// The org id of the test events (`salesforce.org_id`).
pub const ORG: &str = "00D000000000001AAA";
/// The instance URL the events come from (`salesforce.instance_url`).
pub const INSTANCE: &str = "https://acme.my.salesforce.com";
/// The archive `@timestamp` of the test events. The pipelines take the time from the record;
/// this value showing up in a document would mean the mapping missed it.
pub const ARCHIVE_TS: &str = "2000-01-01T00:00:00.000Z";
/// Elasticsearch's simulate API, which pipeline tests use, gives each document the `_id`
/// `"_id"`; fields that copy `_id` show that. Passing it as the archive id reproduces them.
pub const SIMULATE_ID: &str = "_id";
/// The namespace every comparison expects (`Options::default()`'s).
pub const NAMESPACE: &str = "default";

/// Why the corpus could not be read: a missing folder or file, or a fixture that does not
/// hold together. The message says which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusError(pub String);

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CorpusError {}

fn err<T>(msg: impl Into<String>) -> Result<T, CorpusError> {
    Err(CorpusError(msg.into()))
}

/// The variable that names the corpus folder; when set, it is the only place looked at.
pub const DIR_VAR: &str = "SFEVENTS_CONFORMANCE_DIR";
/// The corpus' place beside the workspace (relative to the workspace's parent folder).
pub const BESIDE: &str = "shared/conformance/elastic-salesforce";
/// The corpus' place in the cache folder (`$XDG_CACHE_HOME`, else `$HOME/.cache`).
pub const CACHE: &str = "sfevents/conformance/elastic-salesforce";
/// The command that fetches the corpus into the cache (run in the workspace).
pub const FETCH_COMMAND: &str = "scripts/fetch-conformance";

/// Where the corpus may be, in the order they are looked at. `scripts/test` looks in the same
/// places the same way (`scripts/conformance.sh`), and prints the same [`Places::missing`]
/// message when none holds it; `crates/ecs/tests/corpus_lookup.rs` checks that they agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    /// `SFEVENTS_CONFORMANCE_DIR`, when set and not empty.
    pub variable: Option<PathBuf>,
    /// [`BESIDE`] in the workspace's parent folder.
    pub beside: PathBuf,
    /// [`CACHE`] in the cache folder; `None` when neither `XDG_CACHE_HOME` nor `HOME` is set.
    pub cache: Option<PathBuf>,
}

/// Which of the [`Places`] holds the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Variable,
    Beside,
    Cache,
}

/// The cache folder's corpus: `$XDG_CACHE_HOME/<CACHE>` when `XDG_CACHE_HOME` is set and not
/// empty, else `$HOME/.cache/<CACHE>`.
pub fn cache_dir(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    match (set(xdg_cache_home), set(home)) {
        (Some(cache), _) => Some(cache.join(CACHE)),
        (None, Some(home)) => Some(home.join(".cache").join(CACHE)),
        (None, None) => None,
    }
}

impl Places {
    /// This process' places: its environment, and this workspace (this crate is
    /// `<workspace>/crates/ecs`).
    pub fn from_env() -> Places {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let parent = manifest.ancestors().nth(3).unwrap_or(manifest);
        Places {
            variable: std::env::var_os(DIR_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            beside: parent.join(BESIDE),
            cache: cache_dir(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")),
        }
    }

    /// The corpus folder and where it was found: the variable's folder when it is set (and
    /// nothing else), else the first of beside the workspace and the cache that is a folder.
    pub fn locate(&self) -> Result<(PathBuf, Found), CorpusError> {
        if let Some(dir) = &self.variable {
            if dir.is_dir() {
                return Ok((dir.clone(), Found::Variable));
            }
            return Err(CorpusError(self.missing()));
        }
        if self.beside.is_dir() {
            return Ok((self.beside.clone(), Found::Beside));
        }
        match &self.cache {
            Some(cache) if cache.is_dir() => Ok((cache.clone(), Found::Cache)),
            _ => Err(CorpusError(self.missing())),
        }
    }

    /// Why no place holds the corpus, what to set, and how to fetch it later: the message of
    /// the tests and of `scripts/test` (the same text, lines ending in `\n`).
    pub fn missing(&self) -> String {
        let fetch = format!("fetch it into the cache (needs the network) with: {FETCH_COMMAND}");
        if let Some(dir) = &self.variable {
            return format!(
                "the conformance corpus is missing: {DIR_VAR}={} is not a folder (when set, \
                 it is the only place looked at).\nSet {DIR_VAR} to a copy of Elastic's \
                 Salesforce pipeline fixtures, or unset it and {fetch}\n",
                dir.display()
            );
        }
        let cache = match &self.cache {
            Some(c) => format!(
                "{} (the cache scripts/test fills): no such folder",
                c.display()
            ),
            None => "no cache folder: neither XDG_CACHE_HOME nor HOME is set".to_string(),
        };
        format!(
            "the conformance corpus is missing: Elastic's Salesforce pipeline fixtures (Elastic \
             License 2.0, never copied into the repository) are in none of\n  \
             {DIR_VAR}: not set\n  \
             {} (beside the workspace): no such folder\n  \
             {cache}\n\
             Set {DIR_VAR} to a copy of the corpus, or {fetch}\n",
            self.beside.display()
        )
    }
}

/// The corpus folder every test reads ([`Places::from_env`]'s [`Places::locate`]), or the
/// message that says it is missing, what to set and how to fetch it.
pub fn dir() -> Result<PathBuf, CorpusError> {
    Places::from_env().locate().map(|(dir, _)| dir)
}

/// The corpus folder, or why it cannot be used.
pub fn check_dir(dir: &Path) -> Result<(), CorpusError> {
    if dir.is_dir() {
        Ok(())
    } else {
        err(format!(
            "the conformance corpus is missing: {} is not a folder (Elastic's pipeline \
             fixtures; Elastic License 2.0, used in place, never copied into the repository)",
            dir.display()
        ))
    }
}

/// What a fixture's `*-config.yml` adds to each event (its `fields:`). Only the two keys the
/// corpus uses are read: `event.provider` and `tags`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixtureConfig {
    pub provider: Option<String>,
    pub tags: Vec<String>,
}

/// An input file with its expected output.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The data stream (the folder's name): `login`, `apex`, ...
    pub stream: String,
    /// The input's file name, for messages.
    pub name: String,
    pub log: PathBuf,
    pub expected: PathBuf,
    /// `None`: no config next to the input.
    pub config: Option<FixtureConfig>,
}

/// One input line with what Elastic's pipeline made of it.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<input file> line <n>`, for messages.
    pub label: String,
    /// The data stream.
    pub stream: String,
    /// The record as the fixture gives it.
    pub record: Map<String, Value>,
    /// The archive event sfevents would have written ([`archive_event`]).
    pub event: Value,
    /// `EventLogFile` or `Object`: the `event.provider` the archive event implies.
    pub provider: &'static str,
    /// Elastic's document.
    pub expected: Value,
}

/// Every fixture with an expected output, sorted by data stream and file name. Folders whose
/// name starts with `_` (`_unpaired`) are left out: their inputs have no expected output.
pub fn fixtures(dir: &Path) -> Result<Vec<Fixture>, CorpusError> {
    check_dir(dir)?;
    let mut out = Vec::new();
    for stream_dir in read_dir(dir)?.into_iter().filter(|p| p.is_dir()) {
        let stream = file_name(&stream_dir)?;
        if stream.starts_with('_') {
            continue;
        }
        for log in read_dir(&stream_dir)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            let expected = PathBuf::from(format!("{}-expected.json", log.display()));
            if !expected.is_file() {
                return err(format!("{} has no expected output", log.display()));
            }
            let config = PathBuf::from(format!("{}-config.yml", log.display()));
            let config = if config.is_file() {
                Some(read_config(&config)?)
            } else {
                None
            };
            out.push(Fixture {
                stream: stream.clone(),
                name: file_name(&log)?,
                log,
                expected,
                config,
            });
        }
    }
    if out.is_empty() {
        return err(format!("no fixtures found in {}", dir.display()));
    }
    Ok(out)
}

/// The inputs of `_unpaired/<stream>/`: (data stream, input file), sorted.
pub fn unpaired(dir: &Path) -> Result<Vec<(String, PathBuf)>, CorpusError> {
    let unpaired = dir.join("_unpaired");
    check_dir(dir)?;
    let mut out = Vec::new();
    for stream_dir in read_dir(&unpaired)?.into_iter().filter(|p| p.is_dir()) {
        let stream = file_name(&stream_dir)?;
        for log in read_dir(&stream_dir)? {
            out.push((stream.clone(), log));
        }
    }
    Ok(out)
}

impl Fixture {
    /// Whether the pipeline test kept `event.original`: the config's tag
    /// `preserve_original_event`. The corpus' `SOURCE.md`: fixtures without a config had it
    /// (and the provider) set by a config that was not found; their expected outputs show both.
    pub fn preserve_original(&self) -> bool {
        self.config
            .as_ref()
            .is_none_or(|c| c.tags.iter().any(|t| t == "preserve_original_event"))
    }

    /// The normalizer options the fixture calls for.
    pub fn options(&self) -> Options {
        Options {
            instance_url: INSTANCE.into(),
            preserve_original: self.preserve_original(),
            ..Options::default()
        }
    }

    /// Every input line paired with its expected document. Fails when the counts differ, or
    /// when the config's `event.provider` is not the one the archive event implies.
    pub fn cases(&self) -> Result<Vec<Case>, CorpusError> {
        let records = records(&self.log)?;
        let expected = read(&self.expected)?;
        let expected: Value = serde_json::from_str(&expected)
            .map_err(|e| CorpusError(format!("{} is not JSON: {e}", self.expected.display())))?;
        let Some(expected) = expected.get("expected").and_then(Value::as_array) else {
            return err(format!(
                "{} has no `expected` list",
                self.expected.display()
            ));
        };
        if records.len() != expected.len() {
            return err(format!(
                "{}: {} input lines but {} expected documents",
                self.name,
                records.len(),
                expected.len()
            ));
        }
        let mut out = Vec::with_capacity(records.len());
        for (i, (record, want)) in records.into_iter().zip(expected).enumerate() {
            let label = format!("{} line {}", self.name, i + 1);
            let (event, provider) = archive_event(&self.stream, &record, i)?;
            if let Some(p) = self.config.as_ref().and_then(|c| c.provider.as_deref()) {
                if p != provider {
                    return err(format!(
                        "{label}: the config's event.provider is {p}, the record is an {provider} record"
                    ));
                }
            }
            out.push(Case {
                label,
                stream: self.stream.clone(),
                record,
                event,
                provider,
                expected: want.clone(),
            });
        }
        Ok(out)
    }
}

/// The records of an input file: one JSON object a line, blank lines skipped.
pub fn records(log: &Path) -> Result<Vec<Map<String, Value>>, CorpusError> {
    read(log)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                CorpusError(format!(
                    "{} line {}: not a JSON object ({e})",
                    log.display(),
                    i + 1
                ))
            })
        })
        .collect()
}

/// Reads the `fields:` of a fixture config: `event.provider: X` and the `tags:` list.
pub fn read_config(path: &Path) -> Result<FixtureConfig, CorpusError> {
    let text = read(path)?;
    let mut c = FixtureConfig::default();
    let mut in_tags = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("event.provider:") {
            c.provider = Some(v.trim().to_string());
        }
        if t == "tags:" {
            in_tags = true;
        } else if let (true, Some(tag)) = (in_tags, t.strip_prefix("- ")) {
            c.tags.push(tag.trim().to_string());
        } else {
            in_tags = false;
        }
    }
    Ok(c)
}

/// The object each data stream reads, for fixtures of object records.
pub fn object_for(stream: &str) -> Option<&'static str> {
    match stream {
        "login" => Some("LoginEvent"),
        "logout" => Some("LogoutEvent"),
        "setupaudittrail" => Some("SetupAuditTrail"),
        "aura_request" => Some("AuraRequestEventLog"),
        _ => None,
    }
}

/// The archive event sfevents would have written for record `row` of a fixture of `stream`,
/// and its provider. EventLogFile rows are the ones with an `EVENT_TYPE` column (all values
/// strings); the rest are object records. Every event has the id [`SIMULATE_ID`], the org
/// [`ORG`] and the `@timestamp` [`ARCHIVE_TS`].
pub fn archive_event(
    stream: &str,
    record: &Map<String, Value>,
    row: usize,
) -> Result<(Value, &'static str), CorpusError> {
    match record.get("EVENT_TYPE").and_then(Value::as_str) {
        Some(event_type) => Ok((
            json!({"@timestamp": ARCHIVE_TS, "id": SIMULATE_ID, "org_id": ORG,
                   "source": "EventLogFile", "event_type": event_type,
                   "file_id": "0AT000000000001AAA", "log_date": ARCHIVE_TS,
                   "interval": "Daily", "sequence": 0, "row": row, "fields": record}),
            "EventLogFile",
        )),
        None => match object_for(stream) {
            Some(object) => Ok((
                json!({"@timestamp": ARCHIVE_TS, "id": SIMULATE_ID, "org_id": ORG,
                       "source": object, "fields": record}),
                "Object",
            )),
            None => err(format!(
                "no object is collected for the {stream} data stream"
            )),
        },
    }
}

/// `a.b[0].c` -> leaf value; an empty array is a leaf `[]`.
pub fn flatten(v: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    flatten_into("", v, &mut out);
    out
}

fn flatten_into(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(&p, x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten_into(&format!("{prefix}[{i}]"), x, out);
            }
            if a.is_empty() {
                out.insert(prefix.to_string(), json!([]));
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

fn is_geoip(path: &str) -> bool {
    path.starts_with("source.geo.") || path.starts_with("source.as.")
}

/// Every path where `got` (a document of data stream `stream`) differs from Elastic's
/// `expected` one, one line each, sorted by path after the envelope's; empty when equal. See
/// the module's documentation for what is not compared.
pub fn compare(stream: &str, expected: &Value, got: &Value) -> Vec<String> {
    let (mut want, mut have) = (flatten(expected), flatten(got));
    let mut diffs = Vec::new();

    want.remove("event.ingested");
    have.remove("event.ingested");
    for path in ENVELOPE_FIELDS {
        if want.contains_key(*path) {
            continue; // the pipeline set it itself: compared like any field
        }
        let value = have.remove(*path);
        let ok = match *path {
            "data_stream.type" => value == Some(json!("logs")),
            "data_stream.dataset" | "event.dataset" => {
                value == Some(json!(format!("salesforce.{stream}")))
            }
            "data_stream.namespace" => value == Some(json!(NAMESPACE)),
            "salesforce.instance_url" => value == Some(json!(INSTANCE)),
            "salesforce.org_id" => value == Some(json!(ORG)),
            "salesforce.event_id" => value == Some(json!(SIMULATE_ID)),
            _ => false,
        };
        if !ok {
            diffs.push(format!("{path}: envelope value {value:?}"));
        }
    }
    if let Some(Value::String(s)) = want.get_mut("event.original") {
        // Same JSON text without the fixtures' insignificant whitespace (key order is kept).
        if let Ok(v) = serde_json::from_str::<Value>(s) {
            *s = v.to_string();
        }
    }
    let paths: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    for path in paths {
        match (want.get(path), have.get(path)) {
            (Some(w), Some(h)) if w == h => {}
            (Some(_), None) if is_geoip(path) => {} // GeoIP lookup: not implemented
            (Some(w), Some(h)) => diffs.push(format!("{path}: expected {w}, got {h}")),
            (Some(w), None) => diffs.push(format!("{path}: expected {w}, missing")),
            (None, Some(h)) => diffs.push(format!("{path}: unexpected {h}")),
            (None, None) => {}
        }
    }
    diffs
}

fn read(p: &Path) -> Result<String, CorpusError> {
    fs::read_to_string(p).map_err(|e| CorpusError(format!("reading {}: {e}", p.display())))
}

/// The entries of a folder, sorted.
fn read_dir(p: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let entries =
        fs::read_dir(p).map_err(|e| CorpusError(format!("reading {}: {e}", p.display())))?;
    let mut out = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CorpusError(format!("reading {}: {e}", p.display())))?;
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> Result<String, CorpusError> {
    match p.file_name().and_then(|n| n.to_str()) {
        Some(n) => Ok(n.to_string()),
        None => err(format!("{}: not a UTF-8 file name", p.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_corpus_is_an_error_that_names_the_folder() {
        let gone = Path::new("/nonexistent/shared/conformance/elastic-salesforce");
        let e = fixtures(gone).expect_err("missing");
        assert!(e.0.starts_with("the conformance corpus is missing"), "{e}");
        assert!(e.0.contains(&gone.display().to_string()), "{e}");
        assert!(unpaired(gone).is_err());
    }

    /// A folder under the system's temporary folder with `beside`, `cache` and `var` made as
    /// asked: the places of a workspace with nothing beside it and the cache not filled, and
    /// each with one of them there.
    fn places(tag: &str, make: &[&str]) -> (PathBuf, Places) {
        let root = std::env::temp_dir().join(format!("ecs-places-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for m in make {
            fs::create_dir_all(root.join(m)).expect("temp dir");
        }
        let p = Places {
            variable: None,
            beside: root.join("beside"),
            cache: Some(root.join("cache")),
        };
        (root, p)
    }

    #[test]
    fn the_variable_then_beside_then_the_cache() {
        let (root, mut p) = places("order", &["beside", "cache", "var"]);
        assert_eq!(p.locate(), Ok((root.join("beside"), Found::Beside)));
        p.variable = Some(root.join("var"));
        assert_eq!(p.locate(), Ok((root.join("var"), Found::Variable)));
        p.variable = None;
        fs::remove_dir(root.join("beside")).expect("rm");
        assert_eq!(p.locate(), Ok((root.join("cache"), Found::Cache)));
        // A variable naming no folder is an error, even with the cache there.
        p.variable = Some(root.join("gone"));
        let e = p.locate().expect_err("no folder");
        assert_eq!(e.0, p.missing());
        assert!(e.0.starts_with(&format!(
            "the conformance corpus is missing: {DIR_VAR}={} is not a folder",
            root.join("gone").display()
        )));
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn nothing_anywhere_says_what_to_set_and_how_to_fetch() {
        let (root, p) = places("none", &[]);
        let e = p.locate().expect_err("nothing");
        let b = root.join("beside").display().to_string();
        let c = root.join("cache").display().to_string();
        assert_eq!(
            e.0,
            format!(
                "the conformance corpus is missing: Elastic's Salesforce pipeline fixtures \
                 (Elastic License 2.0, never copied into the repository) are in none of\n  \
                 SFEVENTS_CONFORMANCE_DIR: not set\n  \
                 {b} (beside the workspace): no such folder\n  \
                 {c} (the cache scripts/test fills): no such folder\n\
                 Set SFEVENTS_CONFORMANCE_DIR to a copy of the corpus, or fetch it into the \
                 cache (needs the network) with: scripts/fetch-conformance\n"
            )
        );
        let none = Places { cache: None, ..p };
        assert!(none
            .missing()
            .contains("\n  no cache folder: neither XDG_CACHE_HOME nor HOME"));
    }

    #[test]
    fn the_cache_is_xdg_cache_home_else_home_dot_cache() {
        let cache =
            |x: Option<&str>, h: Option<&str>| cache_dir(x.map(Into::into), h.map(Into::into));
        let want = |p: &str| Some(Path::new(p).join(CACHE));
        assert_eq!(cache(Some("/x"), Some("/h")), want("/x"));
        assert_eq!(cache(Some(""), Some("/h")), want("/h/.cache"));
        assert_eq!(cache(None, Some("/h")), want("/h/.cache"));
        assert_eq!(cache(None, None), None);
        assert_eq!(cache(Some(""), Some("")), None);
    }

    #[test]
    fn config_fields_are_read() {
        let dir = std::env::temp_dir().join(format!("ecs-corpus-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("x.log-config.yml");
        fs::write(
            &path,
            "dynamic_fields:\n  \"event.ingested\": \".*\"\nfields:\n  tags:\n    - preserve_original_event\n    - other\n  event.provider: Object\n",
        )
        .expect("write");
        let c = read_config(&path).expect("config");
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(
            c,
            FixtureConfig {
                provider: Some("Object".into()),
                tags: vec!["preserve_original_event".into(), "other".into()],
            }
        );
    }
}
