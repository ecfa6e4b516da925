//! `filter_path`: Elasticsearch's response filtering.
//!
//! Documented behaviour (REST API "Common options", response filtering) followed here:
//! - a comma-separated list of dotted paths; `*` inside a segment matches any part of a field
//!   name, `**` matches any number of levels;
//! - arrays are transparent: a path goes through every element, and elements or objects left
//!   with nothing matching are dropped (so `items.*.error` keeps only failed items, and
//!   `items.*.status` keeps one entry per item, which is what Beats relies on to map results
//!   back by order);
//! - a path starting with `-` excludes; exclusions are applied first, then inclusions;
//! - when nothing matches, the answer is `{}`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    /// `**`: zero or more levels.
    AnyDepth,
    /// A name, possibly with `*` wildcards.
    Glob(String),
}

type Path = Vec<Seg>;

/// Applies a `filter_path` expression to a response body.
pub fn apply(body: &Value, filter: &str) -> Value {
    let mut include: Vec<Path> = Vec::new();
    let mut exclude: Vec<Path> = Vec::new();
    for raw in filter.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match raw.strip_prefix('-') {
            Some(rest) => exclude.push(parse(rest)),
            None => include.push(parse(raw)),
        }
    }
    let mut out = body.clone();
    if !exclude.is_empty() {
        let refs: Vec<&[Seg]> = exclude.iter().map(Vec::as_slice).collect();
        out = excluded(&out, &refs).unwrap_or_else(|| Value::Object(Map::new()));
    }
    if !include.is_empty() {
        let refs: Vec<&[Seg]> = include.iter().map(Vec::as_slice).collect();
        out = included(&out, &refs).unwrap_or_else(|| Value::Object(Map::new()));
    }
    out
}

fn parse(path: &str) -> Path {
    path.split('.')
        .map(|s| {
            if s == "**" {
                Seg::AnyDepth
            } else {
                Seg::Glob(s.to_string())
            }
        })
        .collect()
}

/// Whether `name` matches a glob where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic two-pointer wildcard matching with backtracking to the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The paths that continue below field `key`, given the paths active at its parent. An empty
/// path in the result means "`key` itself is fully matched".
fn step<'a>(paths: &[&'a [Seg]], key: &str) -> Vec<&'a [Seg]> {
    let mut next = Vec::new();
    for p in paths {
        match p.first() {
            None => {}
            Some(Seg::AnyDepth) => {
                // `**` swallows this level and stays active below...
                next.push(*p);
                // ...or matches zero levels, letting the following segment match `key`.
                match p.get(1) {
                    None => next.push(&p[1..]),
                    Some(Seg::Glob(g)) if glob_match(g, key) => next.push(&p[2..]),
                    Some(_) => {}
                }
            }
            Some(Seg::Glob(g)) if glob_match(g, key) => next.push(&p[1..]),
            Some(Seg::Glob(_)) => {}
        }
    }
    next
}

/// Keeps what the paths reach; `None` when nothing below `v` matches.
fn included(v: &Value, paths: &[&[Seg]]) -> Option<Value> {
    if paths.iter().any(|p| p.is_empty()) {
        return Some(v.clone());
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let next = step(paths, k);
                if next.is_empty() {
                    continue;
                }
                if let Some(c) = included(child, &next) {
                    out.insert(k.clone(), c);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let out: Vec<Value> = items.iter().filter_map(|i| included(i, paths)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => None,
    }
}

/// Removes what the paths reach; `None` when `v` itself is removed.
fn excluded(v: &Value, paths: &[&[Seg]]) -> Option<Value> {
    if paths.iter().any(|p| p.is_empty()) {
        return None;
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let next = step(paths, k);
                if next.is_empty() {
                    out.insert(k.clone(), child.clone());
                } else if let Some(c) = excluded(child, &next) {
                    out.insert(k.clone(), c);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|i| excluded(i, paths)).collect(),
        )),
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bulk() -> Value {
        json!({
            "took": 3, "errors": true,
            "items": [
                {"create": {"_index": "a", "_id": "1", "status": 201, "result": "created"}},
                {"create": {"_index": "a", "_id": "2", "status": 409,
                            "error": {"type": "version_conflict_engine_exception"}}}
            ]
        })
    }

    #[test]
    fn beats_filter_keeps_every_item_status_and_only_errors() {
        let out = apply(&bulk(), "errors,items.*.error,items.*.status");
        assert_eq!(
            out,
            json!({"errors": true, "items": [
                {"create": {"status": 201}},
                {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception"}}}
            ]})
        );
    }

    #[test]
    fn elements_without_a_match_are_dropped() {
        let out = apply(&bulk(), "items.*.error");
        assert_eq!(out["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(apply(&bulk(), "nothing.here"), json!({}));
    }

    #[test]
    fn wildcards_depth_and_exclusions() {
        assert_eq!(
            apply(&bulk(), "items.*._i*")["items"][1]["create"]["_id"],
            "2"
        );
        assert_eq!(
            apply(&bulk(), "**.type")["items"][0]["create"]["error"]["type"],
            "version_conflict_engine_exception"
        );
        let out = apply(&bulk(), "-items.*.error,-took");
        assert!(out.get("took").is_none());
        assert!(out["items"][1]["create"].get("error").is_none());
        assert_eq!(out["items"][1]["create"]["status"], 409);
    }

    #[test]
    fn glob() {
        assert!(glob_match("logs-*-*", "logs-salesforce.login-default"));
        assert!(!glob_match("logs-*-*", "logs-salesforce"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXbY"));
    }
}
