//! Elasticsearch's `user_agent` ingest processor: uap-core's regular expressions
//! (`data/uap-core-regexes.json`, Apache-2.0) run with Elasticsearch's rules.
//!
//! Elasticsearch's rules, which differ from other uap ports:
//! - for each of the user agent, OS and device lists, the first pattern that matches **and
//!   yields a name** wins; a match without a name moves on to the next pattern;
//! - the ECS output uses `Other` for an unknown name and device, joins the version parts with
//!   `.` (`150.0.0.0`), and writes `os.full` as `name version` only when there is a version.
//!
//! Replacement strings (`$1 $2`) are expanded the uap-core way (every `$N`, empty result means
//! none). Elasticsearch expands only `$1` in a name, but the `$2` and version placeholders only
//! occur in patterns newer than the file Elasticsearch bundles, where its output would be the
//! literal `$2`.
//!
//! Java's regular expressions are ASCII-minded by default: `\d`, `\w`, `\s`, `\b` and
//! case-insensitivity only know ASCII. The patterns therefore run with Unicode off, on the
//! bytes of the string (uap-core's patterns are ASCII), and the shorthand classes are spelled
//! out. One difference remains: `.` is one byte here and one UTF-16 unit in Java, which only
//! changes bounded repetitions (`.{0,50}`) over non-ASCII text.
//!
//! Each list is also compiled into one `RegexSet`, which finds in a single pass the few
//! patterns that match, instead of running hundreds of expressions one after the other (a
//! desktop browser matches no device pattern at all). Results are cached per user-agent
//! string, as Elasticsearch does.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::bytes::{Captures, Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde_json::{Map, Value};

const DATA: &str = include_str!("../data/uap-core-regexes.json");
const CACHE_LIMIT: usize = 1024;

/// Which parts the processor writes (its `properties` option).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Properties {
    pub original: bool,
    pub name: bool,
    pub version: bool,
    pub os: bool,
    pub device: bool,
}

impl Properties {
    /// The processor's default: everything.
    pub(crate) const ALL: Properties = Properties {
        original: true,
        name: true,
        version: true,
        os: true,
        device: true,
    };
}

/// One name with up to four version parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Versioned {
    pub name: String,
    pub parts: [Option<String>; 4],
}

impl Versioned {
    /// `major[.minor[.patch[.build]]]`, stopping at the first missing part.
    fn version(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for p in &self.parts {
            let Some(p) = p else { break };
            match out.as_mut() {
                None => out = Some(p.clone()),
                Some(o) => {
                    o.push('.');
                    o.push_str(p);
                }
            }
        }
        out
    }
}

/// What the three lists found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Details {
    pub agent: Option<Versioned>,
    pub os: Option<Versioned>,
    pub device: Option<Versioned>,
}

struct Pattern {
    /// The Rust pattern, with `(?i)` in front when the list asks for case-insensitivity.
    source: String,
    compiled: OnceLock<Option<Regex>>,
    name: Option<String>,
    versions: [Option<String>; 4],
}

impl Pattern {
    fn from_json(p: &Map<String, Value>, name_key: &str, version_keys: [&str; 4]) -> Pattern {
        let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        let flags = if s("regex_flag").as_deref() == Some("i") {
            "(?i)"
        } else {
            ""
        };
        Pattern {
            source: format!("{flags}{}", translate(&s("regex").unwrap_or_default())),
            compiled: OnceLock::new(),
            name: s(name_key),
            versions: version_keys.map(|k| if k.is_empty() { None } else { s(k) }),
        }
    }

    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                RegexBuilder::new(&self.source)
                    .unicode(false)
                    .size_limit(1 << 24)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// The name and versions when the pattern matches and yields a name.
    fn apply(&self, ua: &str) -> Option<Versioned> {
        let caps = self.regex()?.captures(ua.as_bytes())?;
        let group = |i: usize| {
            caps.get(i)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .filter(|s| !s.is_empty())
        };
        let name = match &self.name {
            Some(r) => expand(r, &caps),
            None => group(1),
        }?;
        let mut parts: [Option<String>; 4] = Default::default();
        for (i, part) in parts.iter_mut().enumerate() {
            *part = match &self.versions[i] {
                Some(r) => expand(r, &caps),
                None => group(i + 2),
            };
        }
        Some(Versioned { name, parts })
    }
}

/// Expands `$1`..`$9` in a replacement; a blank result is no value.
fn expand(replacement: &str, caps: &Captures) -> Option<String> {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
            ('$', Some(n)) if n > 0 => {
                chars.next();
                if let Some(m) = caps.get(n as usize) {
                    out.push_str(&String::from_utf8_lossy(m.as_bytes()));
                }
            }
            _ => out.push(c),
        }
    }
    let t = out.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Rewrites Java's ASCII-only shorthand classes and word boundaries for Rust's engine, whose
/// shorthands are Unicode-aware; escaped characters that are not metacharacters become literals.
fn translate(java: &str) -> String {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = "\\t\\n\\x0B\\x0C\\r ";
    let mut out = String::with_capacity(java.len() + 16);
    let mut in_class = false;
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push_str("\\\\");
                    break;
                };
                let class = |set: &str, negated: bool| match (in_class, negated) {
                    (true, false) => set.to_string(),
                    (false, false) => format!("[{set}]"),
                    (_, true) => format!("[^{set}]"),
                };
                match n {
                    'd' => out.push_str(&class(DIGIT, false)),
                    'D' => out.push_str(&class(DIGIT, true)),
                    'w' => out.push_str(&class(WORD, false)),
                    'W' => out.push_str(&class(WORD, true)),
                    's' => out.push_str(&class(SPACE, false)),
                    'S' => out.push_str(&class(SPACE, true)),
                    'b' if !in_class => out.push_str("(?-u:\\b)"),
                    'B' if !in_class => out.push_str("(?-u:\\B)"),
                    c if c.is_ascii_punctuation() || c == ' ' => {
                        out.push_str(&regex::escape(&c.to_string()))
                    }
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// One of the three ordered lists.
struct List {
    patterns: Vec<Pattern>,
    set: OnceLock<Option<RegexSet>>,
}

impl List {
    fn new(patterns: Vec<Pattern>) -> List {
        List {
            patterns,
            set: OnceLock::new(),
        }
    }

    /// The first pattern, in list order, that matches and yields a name.
    fn first(&self, ua: &str) -> Option<Versioned> {
        let set = self.set.get_or_init(|| {
            RegexSetBuilder::new(self.patterns.iter().map(|p| &p.source))
                .unicode(false)
                .size_limit(1 << 26)
                .dfa_size_limit(1 << 24)
                .build()
                .ok()
        });
        match set {
            Some(set) => set
                .matches(ua.as_bytes())
                .iter()
                .find_map(|i| self.patterns[i].apply(ua)),
            // Only if the set could not be built: the same answer, one pattern at a time.
            None => self.patterns.iter().find_map(|p| p.apply(ua)),
        }
    }
}

struct Parser {
    agents: List,
    oses: List,
    devices: List,
    cache: Mutex<HashMap<String, Details>>,
}

impl Parser {
    fn load() -> Option<Parser> {
        let data: Value = serde_json::from_str(DATA).ok()?;
        let list = |section: &str, name: &str, versions: [&str; 4]| -> Option<List> {
            let items = data.get(section)?.as_array()?;
            Some(List::new(
                items
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|p| Pattern::from_json(p, name, versions))
                    .collect(),
            ))
        };
        Some(Parser {
            agents: list(
                "user_agent_parsers",
                "family_replacement",
                [
                    "v1_replacement",
                    "v2_replacement",
                    "v3_replacement",
                    "v4_replacement",
                ],
            )?,
            oses: list(
                "os_parsers",
                "os_replacement",
                [
                    "os_v1_replacement",
                    "os_v2_replacement",
                    "os_v3_replacement",
                    "os_v4_replacement",
                ],
            )?,
            // Elasticsearch reads only the device name (not brand or model), and no version.
            devices: list("device_parsers", "device_replacement", ["", "", "", ""])?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn parse(&self, ua: &str) -> Details {
        if let Some(d) = self.cache.lock().ok().and_then(|c| c.get(ua).cloned()) {
            return d;
        }
        let mut d = Details {
            agent: self.agents.first(ua),
            os: self.oses.first(ua),
            device: self.devices.first(ua),
        };
        // Devices carry no version in Elasticsearch's output.
        if let Some(dev) = d.device.as_mut() {
            dev.parts = Default::default();
        }
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.insert(ua.to_string(), d.clone());
        }
        d
    }
}

fn parser() -> Option<&'static Parser> {
    static PARSER: OnceLock<Option<Parser>> = OnceLock::new();
    PARSER.get_or_init(Parser::load).as_ref()
}

/// Parses a user-agent string (`None` only if the bundled data could not be read).
pub(crate) fn parse(ua: &str) -> Option<Details> {
    parser().map(|p| p.parse(ua))
}

/// The processor's `user_agent` object for `ua`, with the chosen properties.
pub(crate) fn ecs(ua: &str, props: Properties) -> Option<Map<String, Value>> {
    let d = parse(ua)?;
    let mut out = Map::new();
    if props.original {
        out.insert("original".into(), ua.into());
    }
    if props.name {
        let name = d.agent.as_ref().map_or("Other", |a| a.name.as_str());
        out.insert("name".into(), name.into());
    }
    if props.version {
        if let Some(v) = d.agent.as_ref().and_then(Versioned::version) {
            out.insert("version".into(), v.into());
        }
    }
    if props.os {
        if let Some(os) = &d.os {
            let mut o = Map::new();
            o.insert("name".into(), os.name.clone().into());
            if let Some(v) = os.version() {
                o.insert("full".into(), format!("{} {v}", os.name).into());
                o.insert("version".into(), v.into());
            }
            out.insert("os".into(), Value::Object(o));
        }
    }
    if props.device {
        let name = d.device.as_ref().map_or("Other", |v| v.name.as_str());
        let mut o = Map::new();
        o.insert("name".into(), name.into());
        out.insert("device".into(), Value::Object(o));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_bundled_pattern_compiles() {
        let p = parser().expect("bundled regexes load");
        let lists = [&p.agents, &p.oses, &p.devices];
        let all = lists.iter().flat_map(|l| &l.patterns);
        let bad: Vec<&str> = all
            .filter(|x| x.regex().is_none())
            .map(|x| x.source.as_str())
            .collect();
        assert!(bad.is_empty(), "patterns that do not compile: {bad:#?}");
        for l in lists {
            l.first("");
            assert!(matches!(l.set.get(), Some(Some(_))), "a list's RegexSet");
        }
        let sizes = lists.map(|l| l.patterns.len());
        assert!(
            sizes[0] > 300 && sizes[1] > 150 && sizes[2] > 500,
            "{sizes:?}"
        );
    }

    #[test]
    fn translation_keeps_java_meaning() {
        assert_eq!(translate(r"(\d+)\.\w"), r"([0-9]+)\.[0-9A-Za-z_]");
        assert_eq!(translate(r"[\d.]\b"), r"[0-9.](?-u:\b)");
        assert_eq!(translate(r"a\/b\ c"), "a/b c");
        assert_eq!(translate(r"[^\]]"), r"[^\]]");
    }

    #[test]
    fn common_browsers() {
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                   (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36";
        let v = ecs(mac, Properties::ALL).expect("parser");
        assert_eq!(
            Value::Object(v),
            json!({"original": mac, "name": "Chrome", "version": "150.0.0.0",
                   "os": {"name": "Mac OS X", "version": "10.15.7", "full": "Mac OS X 10.15.7"},
                   "device": {"name": "Mac"}})
        );
        let v = ecs("zzz qqq", Properties::ALL).expect("parser");
        assert_eq!(v.get("name"), Some(&json!("Other")));
        assert_eq!(v.get("device"), Some(&json!({"name": "Other"})));
        assert!(v.get("version").is_none());
    }
}
