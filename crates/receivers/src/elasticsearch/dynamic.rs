//! Dynamic mapping: the field type a new field gets from its first value ("Dynamic field
//! mapping" and "Dynamic templates" in Elasticsearch's reference).
//!
//! The value's JSON type is `object`, `boolean`, `long` or `double`, or for a string: `long`/
//! `double` with `numeric_detection` (off by default), else `date` when `date_detection` (on by
//! default) finds it in `dynamic_date_formats` (pure numbers never are), else `string`. The
//! first dynamic template whose conditions all hold decides the mapping (`match`/`unmatch` on
//! the field's name, `path_match`/`path_unmatch` on its full path, `match_mapping_type`/
//! `unmatch_mapping_type` on that type; `{name}` and `{dynamic_type}` replaced); otherwise the
//! defaults: `text` with a `keyword` sub-field (`ignore_above` 256), `long`, `float`, `boolean`,
//! `date`, or an object.

use serde_json::{json, Value};

use super::filter_path::glob_match;
use super::values::{checkable_format, is_date, java_parse_double};

/// What a new field becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic {
    /// A mapped field (or object).
    Mapped(Value),
    /// A runtime field: not indexed, nothing to check.
    Runtime,
}

/// The type dynamic mapping sees in `v` (not null, not an array).
pub fn detect(v: &Value, root: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "long",
        Value::String(s) => {
            let long = s.parse::<i64>().is_ok();
            let double = java_parse_double(s).is_some();
            let numeric = root.get("numeric_detection") == Some(&Value::Bool(true));
            if long && numeric {
                "long"
            } else if double && numeric {
                "double"
            } else if !long && !double && date_detection(root) && looks_like_date(s, root) {
                "date"
            } else {
                "string"
            }
        }
        _ => "string",
    }
}

fn date_detection(root: &Value) -> bool {
    !matches!(root.get("date_detection"), Some(Value::Bool(false)))
        && root.get("date_detection").and_then(Value::as_str) != Some("false")
}

/// `dynamic_date_formats`, by default `["strict_date_optional_time", "yyyy/MM/dd HH:mm:ss
/// Z||yyyy/MM/dd Z"]`.
fn looks_like_date(s: &str, root: &Value) -> bool {
    let v = Value::String(s.to_string());
    match root.get("dynamic_date_formats").and_then(Value::as_array) {
        Some(formats) => formats
            .iter()
            .filter_map(Value::as_str)
            .any(|f| checkable_format(f) && is_date(&v, f)),
        None => is_date(&v, "strict_date_optional_time") || slashed_date(s),
    }
}

/// `yyyy/MM/dd HH:mm:ss Z` or `yyyy/MM/dd Z` (`Z`: an offset such as `+0000`).
fn slashed_date(s: &str) -> bool {
    chrono::DateTime::parse_from_str(s, "%Y/%m/%d %H:%M:%S %z").is_ok()
        || s.split_once(' ').is_some_and(|(d, z)| {
            chrono::NaiveDate::parse_from_str(d, "%Y/%m/%d").is_ok()
                && chrono::DateTime::parse_from_str(
                    &format!("2000/01/01 00:00:00 {z}"),
                    "%Y/%m/%d %H:%M:%S %z",
                )
                .is_ok()
        })
}

/// The type a `{dynamic_type}` placeholder (or a template mapping without `type`) stands for.
fn default_type(ty: &str) -> &'static str {
    match ty {
        "string" => "text",
        "long" => "long",
        "double" => "float",
        "boolean" => "boolean",
        "date" => "date",
        _ => "object",
    }
}

/// The mapping a new field at `path` (named `name`) with type `ty` gets.
pub fn mapping_for(root: &Value, path: &str, name: &str, ty: &str) -> Dynamic {
    if let Some(d) = template(root, path, name, ty) {
        return d;
    }
    Dynamic::Mapped(match ty {
        "string" => json!({
            "type": "text",
            "fields": { "keyword": { "type": "keyword", "ignore_above": 256 } }
        }),
        "object" => json!({ "properties": {} }),
        other => json!({ "type": default_type(other) }),
    })
}

fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    match v? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn template(root: &Value, path: &str, name: &str, ty: &str) -> Option<Dynamic> {
    let list = root.get("dynamic_templates")?.as_array()?;
    list.iter()
        .filter_map(|t| t.as_object()?.values().next())
        .find(|body| matches(body, path, name, ty))
        .map(|body| match body.get("mapping") {
            Some(m) => {
                let mut m = substitute(m, name, default_type(ty));
                if m.get("type").is_none() && ty != "object" {
                    m["type"] = json!(default_type(ty));
                }
                Dynamic::Mapped(m)
            }
            None => Dynamic::Runtime,
        })
}

fn matches(body: &Value, path: &str, name: &str, ty: &str) -> bool {
    if body.get("match_pattern").and_then(Value::as_str) == Some("regex") {
        // Regular expressions are not evaluated here: such a template never applies.
        return false;
    }
    let any =
        |key: &str, s: &str| strings(body.get(key)).map(|p| p.iter().any(|p| glob_match(p, s)));
    let types = strings(body.get("match_mapping_type"));
    let named = body.get("match").is_some() || body.get("path_match").is_some();
    let type_ok = match &types {
        Some(t) => t.iter().any(|t| *t == "*" || *t == ty),
        None => named,
    };
    let not_type = strings(body.get("unmatch_mapping_type")).is_some_and(|t| t.contains(&ty));
    type_ok
        && !not_type
        && any("match", name) != Some(false)
        && any("unmatch", name) != Some(true)
        && any("path_match", path) != Some(false)
        && any("path_unmatch", path) != Some(true)
}

/// `{name}` and `{dynamic_type}` in every string of a template's mapping.
fn substitute(v: &Value, name: &str, dynamic_type: &str) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.replace("{name}", name)
                .replace("{dynamic_type}", dynamic_type),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| substitute(x, name, dynamic_type))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, name, dynamic_type)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_defaults() {
        let root = json!({});
        assert_eq!(detect(&json!("2026-03-10T14:25:05.112Z"), &root), "date");
        assert_eq!(
            detect(&json!("2026"), &root),
            "string",
            "pure numbers are not dates"
        );
        assert_eq!(detect(&json!("login"), &root), "string");
        assert_eq!(detect(&json!(1.5), &root), "double");
        assert_eq!(
            detect(&json!("2026-03-10"), &json!({"date_detection": false})),
            "string"
        );
        assert_eq!(
            detect(&json!("12"), &json!({"numeric_detection": true})),
            "long"
        );
        assert_eq!(
            mapping_for(&root, "a.b", "b", "string"),
            Dynamic::Mapped(
                json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
            )
        );
        assert_eq!(
            mapping_for(&root, "a", "a", "double"),
            Dynamic::Mapped(json!({"type": "float"}))
        );
    }

    #[test]
    fn first_matching_template_wins() {
        let root = json!({"dynamic_templates": [
            {"ips": {"path_match": ["*.ip"], "match_mapping_type": "string", "mapping": {"type": "ip"}}},
            {"geo": {"path_match": "*.location", "mapping": {"type": "geo_point"}}},
            {"named": {"match": "x_*", "unmatch": "x_no", "mapping": {"type": "{dynamic_type}", "meta": {"f": "{name}"}}}},
            {"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}},
            {"rt": {"match_mapping_type": "boolean", "runtime": {}}}
        ]});
        let m = |p: &str, ty: &str| mapping_for(&root, p, p.rsplit('.').next().unwrap(), ty);
        assert_eq!(
            m("source.ip", "string"),
            Dynamic::Mapped(json!({"type": "ip"}))
        );
        assert_eq!(
            m("source.ip", "long"),
            Dynamic::Mapped(json!({"type": "long"}))
        );
        assert_eq!(
            m("source.geo.location", "object"),
            Dynamic::Mapped(json!({"type": "geo_point"}))
        );
        assert_eq!(
            m("x_n", "long"),
            Dynamic::Mapped(json!({"type": "long", "meta": {"f": "x_n"}}))
        );
        assert_eq!(
            m("x_no", "string"),
            Dynamic::Mapped(json!({"type": "keyword"}))
        );
        assert_eq!(m("flag", "boolean"), Dynamic::Runtime);
        assert_eq!(
            m("obj", "object"),
            Dynamic::Mapped(json!({"properties": {}}))
        );
    }
}
