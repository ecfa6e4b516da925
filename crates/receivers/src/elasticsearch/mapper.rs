//! Parsing a document against its index's mappings, as Elasticsearch's `DocumentParser` does
//! on the primary shard: every field meets its mapper, a new field is mapped from its first
//! value (and the mapping updated for the documents after it), and the first field that cannot
//! be read refuses the whole document.
//!
//! Refusals, in document order (8.x wording; 7.x and OpenSearch say `mapper_parsing_exception`
//! and print no `[line:column]`):
//! - a value its field's mapper cannot read: `[1:26] failed to parse field [f] of type [long]
//!   in document with id '1'. Preview of field's value: 'abc'`, with the mapper's exception as
//!   `caused_by` (see [`super::leaf`]); a malformed scalar of a type that supports it is
//!   ignored instead under `ignore_malformed` (the field's, else `index.mapping.ignore_malformed`)
//!   and listed in `_ignored`;
//! - a scalar where an object is mapped: `object mapping for [a] tried to parse field [a] as
//!   object, but found a concrete value`;
//! - a dotted name through a non-object: `Could not dynamically add mapping for field [a.b].
//!   Existing mapping for [a] must be of type object but found [keyword].`;
//! - a new field under `dynamic: strict`: `strict_dynamic_mapping_exception`, `mapping set to
//!   strict, dynamic introduction of [f] within [_doc] is not allowed` (`dynamic: false` keeps the
//!   field in `_source` unmapped);
//! - a data stream's document without exactly one indexed `@timestamp`: `failed to parse: data
//!   stream timestamp field [@timestamp] is missing` (or `encountered multiple values`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::dynamic::{self, Dynamic};
use super::errors::EsError;
use super::leaf::{self, Bad, Leaf, Why};
use super::mappings::{is_object, truthy, IndexMapping};
use super::positions::{Loc, Positions};
use super::values::java_preview;

/// Who is parsing what.
pub struct Ctx<'a> {
    /// Elasticsearch 8+: `document_parsing_exception` with positions.
    pub es8: bool,
    pub id: &'a str,
    pub raw: &'a [u8],
    /// A data-stream write: exactly one `@timestamp` must be indexed.
    pub data_stream: bool,
}

impl Ctx<'_> {
    pub fn kind(&self) -> &'static str {
        if self.es8 {
            "document_parsing_exception"
        } else {
            "mapper_parsing_exception"
        }
    }

    /// `[line:column] ` before a message, in 8.x.
    pub fn at(&self, loc: Loc, msg: &str) -> String {
        if self.es8 {
            format!("[{loc}] {msg}")
        } else {
            msg.to_string()
        }
    }
}

/// A document the mappings accept.
#[derive(Debug)]
pub struct Parsed {
    /// The mappings after the document's dynamic updates, when it made any.
    pub updated: Option<Value>,
    /// Fields whose malformed values were ignored (`_ignored`).
    pub ignored: Vec<String>,
}

/// Parses `source` against `mapping`.
pub fn parse(
    mapping: &IndexMapping,
    source: &Map<String, Value>,
    ctx: &Ctx,
) -> Result<Parsed, EsError> {
    let mut w = Walker {
        root: Cow::Borrowed(&mapping.root),
        index_ignores: mapping.ignore_malformed(),
        ctx,
        seen: HashMap::new(),
        ignored: Vec::new(),
        timestamps: 0,
        positions: OnceLock::new(),
    };
    w.object(&[], source)?;
    if ctx.data_stream && w.timestamps != 1 {
        let what = if w.timestamps == 0 {
            "is missing"
        } else {
            "encountered multiple values"
        };
        let reason = format!("data stream timestamp field [@timestamp] {what}");
        let end = w.positions().root().end;
        return Err(EsError::new(
            400,
            ctx.kind(),
            ctx.at(end, &format!("failed to parse: {reason}")),
        )
        .caused_by("illegal_argument_exception", reason));
    }
    let updated = match w.root {
        Cow::Owned(v) => Some(v),
        Cow::Borrowed(_) => None,
    };
    Ok(Parsed {
        updated,
        ignored: w.ignored,
    })
}

/// What a path is mapped as.
enum Kind {
    Object { enabled: bool },
    Leaf(Value),
    Missing,
}

struct Walker<'a> {
    root: Cow<'a, Value>,
    index_ignores: bool,
    ctx: &'a Ctx<'a>,
    /// Values met so far per dotted path, to find each one's position.
    seen: HashMap<String, usize>,
    ignored: Vec<String>,
    timestamps: usize,
    positions: OnceLock<Positions>,
}

fn join(path: &[String]) -> String {
    path.join(".")
}

fn child(parent: &[String], name: &str) -> Vec<String> {
    let mut p = parent.to_vec();
    p.push(name.to_string());
    p
}

impl Walker<'_> {
    fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| Positions::scan(self.ctx.raw))
    }

    fn node(&self, path: &[String]) -> Option<&Value> {
        path.iter()
            .try_fold(&*self.root, |cur, seg| cur.get("properties")?.get(seg))
    }

    fn kind(&self, path: &[String]) -> Kind {
        match self.node(path) {
            None => Kind::Missing,
            Some(def) if is_object(def) => Kind::Object {
                enabled: def.get("enabled") != Some(&Value::Bool(false)),
            },
            Some(def) => Kind::Leaf(def.clone()),
        }
    }

    /// Maps a new field (its parent exists).
    fn insert(&mut self, path: &[String], def: Value) {
        let Some((last, parent)) = path.split_last() else {
            return;
        };
        let mut cur = self.root.to_mut();
        for seg in parent {
            cur = &mut cur["properties"][seg];
        }
        if !cur["properties"].is_object() {
            cur["properties"] = json!({});
        }
        cur["properties"][last] = def;
    }

    /// `dynamic` in force under the object at `parent` (inherited; `true` at the root).
    fn dynamic_of(&self, parent: &[String]) -> String {
        let text = |v: &Value| match v {
            Value::Bool(b) => Some(b.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        let mut d = self.root.get("dynamic").and_then(text);
        for i in 1..=parent.len() {
            if let Some(v) = self.node(&parent[..i]).and_then(|n| n.get("dynamic")) {
                d = text(v).or(d);
            }
        }
        d.unwrap_or_else(|| "true".into())
    }

    /// The `n` of this value among those at `path`.
    fn occurrence(&mut self, path: &str) -> usize {
        let n = self.seen.entry(path.to_string()).or_default();
        *n += 1;
        *n - 1
    }

    fn object(&mut self, path: &[String], m: &Map<String, Value>) -> Result<(), EsError> {
        for (key, value) in m {
            match key.split_once('.') {
                Some((head, rest)) if !head.is_empty() && !rest.is_empty() => {
                    self.check_dotted(path, key)?;
                    let nested = json!({ rest: value });
                    self.value(path, head, &nested)?;
                }
                _ => self.value(path, key, value)?,
            }
        }
        Ok(())
    }

    /// A dotted name may not go through a field that is not an object.
    fn check_dotted(&mut self, path: &[String], key: &str) -> Result<(), EsError> {
        let segs: Vec<&str> = key.split('.').collect();
        let mut at = path.to_vec();
        for seg in &segs[..segs.len() - 1] {
            at.push(seg.to_string());
            if let Kind::Leaf(def) = self.kind(&at) {
                let full = join(&child(path, key));
                let n = self.seen.get(&full).copied().unwrap_or(0);
                let start = self.positions().get(&full, n).start;
                let ty = def.get("type").and_then(Value::as_str).unwrap_or("object");
                let msg = format!(
                    "Could not dynamically add mapping for field [{full}]. Existing mapping for [{}] must be of type object but found [{ty}].",
                    join(&at)
                );
                return Err(EsError::new(400, self.ctx.kind(), self.ctx.at(start, &msg)));
            }
        }
        Ok(())
    }

    fn value(&mut self, parent: &[String], name: &str, v: &Value) -> Result<(), EsError> {
        match v {
            Value::Null => {
                self.occurrence(&join(&child(parent, name)));
                Ok(())
            }
            Value::Array(items) => {
                let path = child(parent, name);
                if let Kind::Leaf(def) = self.kind(&path) {
                    let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
                    if !leaf::is_checked(ty) {
                        // A type that reads the whole array as one value (a geo point, ...).
                        return Ok(());
                    }
                }
                items.iter().try_for_each(|x| self.value(parent, name, x))
            }
            Value::Object(m) => self.object_field(parent, name, m, v),
            _ => self.scalar_field(parent, name, v),
        }
    }

    fn object_field(
        &mut self,
        parent: &[String],
        name: &str,
        m: &Map<String, Value>,
        v: &Value,
    ) -> Result<(), EsError> {
        let path = child(parent, name);
        let n = self.occurrence(&join(&path));
        match self.kind(&path) {
            Kind::Object { enabled: false } => Ok(()),
            Kind::Object { enabled: true } => self.object(&path, m),
            Kind::Leaf(def) => self.leaf(&path, n, &def, v),
            Kind::Missing => match self.dynamic_of(parent).as_str() {
                "strict" => Err(self.strict(parent, name, n)),
                "false" => Ok(()),
                _ => match dynamic::mapping_for(&self.root, &join(&path), name, "object") {
                    Dynamic::Mapped(def) => {
                        self.insert(&path, def.clone());
                        if is_object(&def) {
                            self.object(&path, m)
                        } else {
                            self.leaf(&path, n, &def, v)
                        }
                    }
                    Dynamic::Runtime => Ok(()),
                },
            },
        }
    }

    fn scalar_field(&mut self, parent: &[String], name: &str, v: &Value) -> Result<(), EsError> {
        let path = child(parent, name);
        let n = self.occurrence(&join(&path));
        match self.kind(&path) {
            Kind::Object { enabled: false } => Ok(()),
            Kind::Object { enabled: true } => Err(self.concrete(&path, name, n)),
            Kind::Leaf(def) => self.leaf(&path, n, &def, v),
            Kind::Missing => match self.dynamic_of(parent).as_str() {
                "strict" => Err(self.strict(parent, name, n)),
                "false" | "runtime" => Ok(()),
                _ => {
                    let ty = dynamic::detect(v, &self.root);
                    match dynamic::mapping_for(&self.root, &join(&path), name, ty) {
                        Dynamic::Mapped(def) if is_object(&def) => {
                            Err(self.concrete(&path, name, n))
                        }
                        Dynamic::Mapped(def) => {
                            self.insert(&path, def.clone());
                            self.leaf(&path, n, &def, v)
                        }
                        Dynamic::Runtime => Ok(()),
                    }
                }
            },
        }
    }

    /// A value of a mapped field, and of its multi-fields.
    fn leaf(&mut self, path: &[String], n: usize, def: &Value, v: &Value) -> Result<(), EsError> {
        let dotted = join(path);
        match leaf::check(&dotted, def, v) {
            Ok(Leaf::Fine) => {}
            Ok(Leaf::SetConstant(value)) => {
                let mut with = def.clone();
                with["value"] = Value::String(value);
                self.insert(path, with);
            }
            Err(bad) if bad.ignorable && self.ignores_malformed(def) => {
                if !self.ignored.contains(&dotted) {
                    self.ignored.push(dotted);
                }
                return Ok(());
            }
            Err(bad) => return Err(self.refusal(&dotted, n, def, v, bad)),
        }
        if dotted == "@timestamp" {
            self.timestamps += 1;
        }
        for (sub, sub_def) in def
            .get("fields")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let sub_path = format!("{dotted}.{sub}");
            match leaf::check(&sub_path, sub_def, v) {
                Err(bad) if !(bad.ignorable && self.ignores_malformed(sub_def)) => {
                    return Err(self.refusal(&sub_path, n, sub_def, v, bad));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn ignores_malformed(&self, def: &Value) -> bool {
        let ty = def.get("type").and_then(Value::as_str).unwrap_or("");
        leaf::supports_ignore_malformed(ty)
            && match def.get("ignore_malformed") {
                Some(v) => truthy(Some(v)),
                None => self.index_ignores,
            }
    }

    /// "failed to parse field [f] of type [t] ...", located where Elasticsearch's parser stands
    /// after reading the value for the preview (an object's closing brace).
    fn refusal(&self, path: &str, n: usize, def: &Value, v: &Value, bad: Bad) -> EsError {
        let value_path = path_of_value(&self.root, path);
        let span = self.positions().get(&value_path, n);
        let ty = def.get("type").and_then(Value::as_str).unwrap_or("object");
        let loc = if v.is_object() { span.end } else { span.start };
        let msg = format!(
            "failed to parse field [{path}] of type [{ty}] in document with id '{}'. Preview of field's value: '{}'",
            self.ctx.id,
            java_preview(v)
        );
        let (kind, cause) = match bad.why {
            Why::Cause(kind, cause) => (kind, cause),
            Why::ExpectedText if self.ctx.es8 => (
                "illegal_argument_exception",
                format!("Expected text at {} but found START_OBJECT", span.start),
            ),
            Why::ExpectedText => (
                "illegal_state_exception",
                format!("Can't get text on a START_OBJECT at {}", span.start),
            ),
        };
        EsError::new(400, self.ctx.kind(), self.ctx.at(loc, &msg)).caused_by(kind, cause)
    }

    fn concrete(&self, path: &[String], name: &str, n: usize) -> EsError {
        let full = join(path);
        let start = self.positions().get(&full, n).start;
        let msg = format!(
            "object mapping for [{full}] tried to parse field [{name}] as object, but found a concrete value"
        );
        EsError::new(400, self.ctx.kind(), self.ctx.at(start, &msg))
    }

    fn strict(&self, parent: &[String], name: &str, n: usize) -> EsError {
        let full = join(&child(parent, name));
        let start = self.positions().get(&full, n).start;
        let within = if parent.is_empty() {
            "_doc".to_string()
        } else {
            join(parent)
        };
        let msg = format!(
            "mapping set to strict, dynamic introduction of [{name}] within [{within}] is not allowed"
        );
        EsError::new(
            400,
            "strict_dynamic_mapping_exception",
            self.ctx.at(start, &msg),
        )
    }
}

/// The document path of a field's value: a multi-field (`message.keyword`) reads its parent's.
fn path_of_value(root: &Value, path: &str) -> String {
    match path.rsplit_once('.') {
        Some((parent, _)) if is_multi_field(root, path) => parent.to_string(),
        _ => path.to_string(),
    }
}

fn is_multi_field(root: &Value, path: &str) -> bool {
    let Some((parent, sub)) = path.rsplit_once('.') else {
        return false;
    };
    let node = parent
        .split('.')
        .try_fold(root, |cur, seg| cur.get("properties")?.get(seg));
    node.and_then(|n| n.get("fields")?.get(sub)).is_some()
}
