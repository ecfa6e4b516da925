//! One value against one mapped field, as each of Elasticsearch's field mappers reads it.
//!
//! The reasons are the mappers' (8.x): numbers `For input string: "abc"` (`illegal_argument_exception`
//! for integer types, Java's `number_format_exception` for floating point), objects given to a
//! number `Cannot parse object as number`, objects given to a text-like field `Expected text at
//! L:C but found START_OBJECT`, `'x' is not an IP string literal.`, `failed to parse date field
//! [x] with format [f]`, `Failed to parse value [x] as only [true] or [false] are allowed.`, and
//! `constant_keyword`'s "only accepts values that are equal to the value defined in the
//! mappings". A malformed scalar may be ignored (`ignore_malformed`); an object never is (the
//! documented "Limits for JSON Objects").
//!
//! Types this receiver does not check (geo, ranges, `flattened`, vectors, ...) take any value.

use serde_json::Value;

use super::values::{checkable_format, is_date, java_parse_double};

/// What a value does to its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    Fine,
    /// A `constant_keyword` without a value takes this one (a mapping update).
    SetConstant(String),
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The mapper's exception: type and message.
    Cause(&'static str, String),
    /// An object where text was expected: the message names where the object starts.
    ExpectedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub why: Why,
    /// A malformed scalar, which `ignore_malformed` lets through.
    pub ignorable: bool,
}

impl Bad {
    fn iae(reason: String, ignorable: bool) -> Bad {
        Bad {
            why: Why::Cause("illegal_argument_exception", reason),
            ignorable,
        }
    }
}

const TEXT_LIKE: &[&str] = &[
    "keyword",
    "constant_keyword",
    "wildcard",
    "text",
    "match_only_text",
    "search_as_you_type",
];
const INTEGERS: &[&str] = &["long", "integer", "short", "byte", "unsigned_long"];
const FLOATS: &[&str] = &["double", "float", "half_float", "scaled_float"];
const CHECKED: &[&str] = &["date", "date_nanos", "ip", "boolean"];

/// Types whose value this receiver checks; any other takes the whole value as it comes
/// (objects and arrays included).
pub fn is_checked(ty: &str) -> bool {
    TEXT_LIKE.contains(&ty)
        || INTEGERS.contains(&ty)
        || FLOATS.contains(&ty)
        || CHECKED.contains(&ty)
}

/// The types `ignore_malformed` applies to (its documented list).
pub fn supports_ignore_malformed(ty: &str) -> bool {
    INTEGERS.contains(&ty)
        || FLOATS.contains(&ty)
        || matches!(
            ty,
            "boolean" | "date" | "date_nanos" | "geo_point" | "geo_shape" | "ip"
        )
}

/// A scalar as the parser's text: strings as they are, numbers and booleans written out.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks `v` (not an array, not null) against field `path` mapped as `def`.
pub fn check(path: &str, def: &Value, v: &Value) -> Result<Leaf, Bad> {
    let ty = def.get("type").and_then(Value::as_str).unwrap_or("object");
    if INTEGERS.contains(&ty) || FLOATS.contains(&ty) {
        return number(ty, v).map(|()| Leaf::Fine);
    }
    if !is_checked(ty) {
        return Ok(Leaf::Fine);
    }
    if v.is_object() {
        return Err(Bad {
            why: Why::ExpectedText,
            ignorable: false,
        });
    }
    let t = text(v);
    match ty {
        "constant_keyword" => match def.get("value").map(text) {
            None => Ok(Leaf::SetConstant(t)),
            Some(want) if want == t => Ok(Leaf::Fine),
            Some(want) => Err(Bad::iae(
                format!("[constant_keyword] field [{path}] only accepts values that are equal to the value defined in the mappings [{want}], but got [{t}]"),
                false,
            )),
        },
        "date" | "date_nanos" => {
            let format = def
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("strict_date_optional_time||epoch_millis");
            if !checkable_format(format) || is_date(v, format) {
                return Ok(Leaf::Fine);
            }
            Err(Bad::iae(
                format!("failed to parse date field [{t}] with format [{format}]"),
                true,
            ))
        }
        "ip" if t.parse::<std::net::IpAddr>().is_err() => Err(Bad::iae(
            format!("'{t}' is not an IP string literal."),
            true,
        )),
        "boolean" if !matches!(t.as_str(), "true" | "false" | "") => Err(Bad::iae(
            format!("Failed to parse value [{t}] as only [true] or [false] are allowed."),
            true,
        )),
        _ => Ok(Leaf::Fine),
    }
}

/// A numeric field (with `coerce`, the default: numeric strings and decimals are taken, an
/// empty string is a null).
fn number(ty: &str, v: &Value) -> Result<(), Bad> {
    let value = match v {
        Value::Object(_) => {
            return Err(Bad::iae("Cannot parse object as number".into(), false));
        }
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) if s.is_empty() => return Ok(()),
        Value::String(s) => match parse_number(ty, s) {
            Some(f) => f,
            None if INTEGERS.contains(&ty) => {
                return Err(Bad::iae(format!("For input string: \"{s}\""), true));
            }
            None => {
                return Err(Bad {
                    why: Why::Cause(
                        "number_format_exception",
                        format!("For input string: \"{s}\""),
                    ),
                    ignorable: true,
                })
            }
        },
        other => {
            return Err(Bad::iae(
                format!(
                    "Current token ({}) not numeric, can not use numeric value accessors",
                    token(other)
                ),
                true,
            ))
        }
    };
    if FLOATS.contains(&ty) {
        if !value.is_finite() {
            return Err(Bad::iae(
                format!("[{ty}] supports only finite values, but got [{}]", text(v)),
                true,
            ));
        }
        return Ok(());
    }
    let (lo, hi, name) = match ty {
        "integer" => (f64::from(i32::MIN), f64::from(i32::MAX), "an integer"),
        "short" => (f64::from(i16::MIN), f64::from(i16::MAX), "a short"),
        "byte" => (f64::from(i8::MIN), f64::from(i8::MAX), "a byte"),
        "unsigned_long" => (0.0, u64::MAX as f64, "unsigned long"),
        _ => (i64::MIN as f64, i64::MAX as f64, "a long"),
    };
    if value.trunc() < lo || value.trunc() > hi {
        return Err(Bad::iae(
            format!("Value [{}] is out of range for {name}", text(v)),
            true,
        ));
    }
    Ok(())
}

/// A numeric string as Java reads it: `BigDecimal` for integer types (no spaces, no `NaN`),
/// `Double.parseDouble` for floating point (spaces trimmed, `NaN`/`Infinity` read).
fn parse_number(ty: &str, s: &str) -> Option<f64> {
    if INTEGERS.contains(&ty) {
        let plain = s
            .strip_prefix(['-', '+'])
            .unwrap_or(s)
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'));
        return if plain { s.parse().ok() } else { None };
    }
    java_parse_double(s)
}

fn token(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Null => "VALUE_NULL",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        _ => "VALUE_STRING",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cause(r: Result<Leaf, Bad>) -> (String, bool) {
        match r {
            Err(Bad {
                why: Why::Cause(_, m),
                ignorable,
            }) => (m, ignorable),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers() {
        let long = json!({"type": "long"});
        for ok in [json!(1), json!(1.5), json!("12"), json!("1.5"), json!("")] {
            assert_eq!(check("n", &long, &ok), Ok(Leaf::Fine), "{ok}");
        }
        assert_eq!(
            cause(check("n", &long, &json!("abc"))),
            ("For input string: \"abc\"".into(), true)
        );
        assert_eq!(
            cause(check("n", &long, &json!({"a": 1}))),
            ("Cannot parse object as number".into(), false)
        );
        let int = json!({"type": "integer"});
        assert_eq!(
            cause(check("n", &int, &json!(3_000_000_000u64))).0,
            "Value [3000000000] is out of range for an integer"
        );
        let r = check("n", &json!({"type": "float"}), &json!("x1"));
        assert!(matches!(
            r,
            Err(Bad {
                why: Why::Cause("number_format_exception", _),
                ..
            })
        ));
    }

    #[test]
    fn text_like_ip_date_constant() {
        let kw = json!({"type": "keyword"});
        assert_eq!(check("k", &kw, &json!(12)), Ok(Leaf::Fine));
        assert_eq!(
            check("k", &kw, &json!({})),
            Err(Bad {
                why: Why::ExpectedText,
                ignorable: false
            })
        );
        assert_eq!(
            cause(check(
                "i",
                &json!({"type": "ip"}),
                &json!("Salesforce.com IP")
            ))
            .0,
            "'Salesforce.com IP' is not an IP string literal."
        );
        assert_eq!(
            cause(check("d", &json!({"type": "date"}), &json!("soon"))).0,
            "failed to parse date field [soon] with format [strict_date_optional_time||epoch_millis]"
        );
        let ck = json!({"type": "constant_keyword"});
        assert_eq!(
            check("c", &ck, &json!("a")),
            Ok(Leaf::SetConstant("a".into()))
        );
        let set = json!({"type": "constant_keyword", "value": "a"});
        assert_eq!(check("c", &set, &json!("a")), Ok(Leaf::Fine));
        let (m, ignorable) = cause(check("c", &set, &json!("b")));
        assert!(!ignorable);
        assert_eq!(m, "[constant_keyword] field [c] only accepts values that are equal to the value defined in the mappings [a], but got [b]");
        assert_eq!(
            check(
                "g",
                &json!({"type": "geo_point"}),
                &json!({"lat": 1, "lon": 2})
            ),
            Ok(Leaf::Fine)
        );
    }
}
