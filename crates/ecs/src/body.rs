//! The document being built, addressed by dotted paths the way ingest processors address
//! fields (`set`, `rename`, `append`), plus the pipelines' closing clean-up.

use serde_json::{Map, Value};

/// A document under construction.
#[derive(Debug, Default)]
pub(crate) struct Body(Map<String, Value>);

impl Body {
    pub(crate) fn new() -> Body {
        Body(Map::new())
    }

    /// Sets `path` (`a.b.c`), creating the objects on the way. A scalar in the way is replaced
    /// by an object, as the last writer wins.
    pub(crate) fn set(&mut self, path: &str, value: impl Into<Value>) {
        let mut map = &mut self.0;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value.into());
                return;
            }
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(next) = slot else { return };
            map = next;
        }
    }

    /// Sets `path` when `value` is `Some`.
    pub(crate) fn set_opt(&mut self, path: &str, value: Option<impl Into<Value>>) {
        if let Some(v) = value {
            self.set(path, v);
        }
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut cur = self.0.get(parts.next()?)?;
        for p in parts {
            cur = cur.as_object()?.get(p)?;
        }
        Some(cur)
    }

    /// The string at `path`, if it is one.
    pub(crate) fn str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    pub(crate) fn has(&self, path: &str) -> bool {
        self.get(path).is_some_and(|v| !v.is_null())
    }

    /// The `append` processor with `allow_duplicates: false`: a scalar already there becomes a
    /// list, and a value already in the list is not added again.
    pub(crate) fn append_unique(&mut self, path: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.get(path).cloned() {
            None | Some(Value::Null) => self.set(path, Value::Array(vec![value])),
            Some(Value::Array(mut list)) => {
                if !list.contains(&value) {
                    list.push(value);
                }
                self.set(path, Value::Array(list));
            }
            Some(other) => {
                let list = if other == value {
                    vec![other]
                } else {
                    vec![other, value]
                };
                self.set(path, Value::Array(list));
            }
        }
    }

    /// The pipelines' closing script: nulls, empty strings, and the objects and lists that are
    /// left empty are removed, recursively.
    pub(crate) fn drop_empty(&mut self) {
        drop_empty_map(&mut self.0);
    }

    /// The finished document, with the keys of every object sorted (as Elasticsearch's expected
    /// outputs are written), so that equal documents serialise identically.
    pub(crate) fn finish(self) -> Value {
        let mut v = Value::Object(self.0);
        sort_keys(&mut v);
        v
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn drop_empty_value(v: &mut Value) {
    match v {
        Value::Object(m) => drop_empty_map(m),
        Value::Array(a) => {
            a.iter_mut().for_each(drop_empty_value);
            a.retain(|x| !is_empty(x));
        }
        _ => {}
    }
}

fn drop_empty_map(m: &mut Map<String, Value>) {
    for v in m.values_mut() {
        drop_empty_value(v);
    }
    m.retain(|_, v| !is_empty(v));
}

pub(crate) fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_keys);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_append() {
        let mut b = Body::new();
        b.set("a.b.c", 1);
        b.set("a.x", "s");
        b.append_unique("r.ip", "1.1.1.1");
        b.append_unique("r.ip", "1.1.1.1");
        b.append_unique("r.ip", "2.2.2.2");
        assert_eq!(b.get("a.b.c"), Some(&json!(1)));
        assert_eq!(b.str("a.x"), Some("s"));
        assert!(!b.has("a.y"));
        assert_eq!(
            b.finish(),
            json!({"a": {"b": {"c": 1}, "x": "s"}, "r": {"ip": ["1.1.1.1", "2.2.2.2"]}})
        );
    }

    #[test]
    fn drop_empty_is_recursive() {
        let mut b = Body::new();
        b.set("a.b", "");
        b.set("a.c", Value::Null);
        b.set("d", json!([{"x": ""}, "", "k", []]));
        b.set("e", 0);
        b.drop_empty();
        assert_eq!(b.finish(), json!({"d": ["k"], "e": 0}));
    }
}
