//! Validation of a parsed query against an object schema, and its evaluation over records.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::ast::{CmpOp, DateLiteral, Expr, FieldsKind, Literal, OrderItem, Query, SelectItem};
use crate::error::SoqlError;
use crate::value::{FieldDef, FieldType, ObjectSchema, Record, Value};
use crate::Output;

/// Salesforce's maximum OFFSET.
const MAX_OFFSET: u64 = 2000;

/// A field reference resolved against the schema.
struct Resolved<'s> {
    /// Canonical path: the schema's casing for the field or relationship name, the
    /// subfields of a relationship as written.
    path: Vec<String>,
    /// The schema field for a plain field; `None` for a path through a relationship (the
    /// related object's schema is not known).
    def: Option<&'s FieldDef>,
    /// For a relationship path: the target object of the first hop.
    target: Option<&'s str>,
}

fn no_such_column(name: &str, schema: &ObjectSchema) -> SoqlError {
    SoqlError::new(
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
            schema.name
        ),
    )
}

fn resolve<'s>(schema: &'s ObjectSchema, path: &[String]) -> Result<Resolved<'s>, SoqlError> {
    match path {
        [] => Err(SoqlError::new("MALFORMED_QUERY", "empty field path")),
        [name] => {
            let def = schema
                .field(name)
                .ok_or_else(|| no_such_column(name, schema))?;
            Ok(Resolved {
                path: vec![def.name.clone()],
                def: Some(def),
                target: None,
            })
        }
        [rel, rest @ ..] => {
            let def = schema.relationship(rel).ok_or_else(|| {
                SoqlError::new(
                    "INVALID_FIELD",
                    format!(
                        "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                    ),
                )
            })?;
            let (rel_name, target) = def
                .relationship
                .as_ref()
                .map(|(r, t)| (r.as_str(), t.as_str()))
                .unwrap_or((rel.as_str(), ""));
            let mut p = vec![rel_name.to_string()];
            p.extend(rest.iter().cloned());
            Ok(Resolved {
                path: p,
                def: None,
                target: Some(target),
            })
        }
    }
}

/// The SELECT list expanded and resolved; `None` for `COUNT()`.
fn projection<'s>(
    query: &Query,
    schema: &'s ObjectSchema,
) -> Result<Option<Vec<Resolved<'s>>>, SoqlError> {
    if query.select.contains(&SelectItem::Count) {
        return Ok(None);
    }
    let mut out: Vec<Resolved<'s>> = Vec::new();
    let same = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    for item in &query.select {
        match item {
            SelectItem::Count => {}
            SelectItem::Field(path) => {
                let r = resolve(schema, path)?;
                if out.iter().any(|o| same(&o.path, &r.path)) {
                    if query
                        .select
                        .iter()
                        .any(|i| matches!(i, SelectItem::Fields(_)))
                    {
                        continue;
                    }
                    return Err(SoqlError::new(
                        "MALFORMED_QUERY",
                        format!("duplicate field selected: {}", r.path.join(".")),
                    ));
                }
                out.push(r);
            }
            SelectItem::Fields(kind) => {
                for def in &schema.fields {
                    let wanted = match kind {
                        FieldsKind::All => true,
                        FieldsKind::Standard => def.standard,
                        FieldsKind::Custom => def.name.ends_with("__c") && !def.standard,
                    };
                    if wanted
                        && !out
                            .iter()
                            .any(|o| same(&o.path, std::slice::from_ref(&def.name)))
                    {
                        out.push(Resolved {
                            path: vec![def.name.clone()],
                            def: Some(def),
                            target: None,
                        });
                    }
                }
            }
        }
    }
    Ok(Some(out))
}

pub(crate) fn selected_fields(
    query: &Query,
    schema: &ObjectSchema,
) -> Result<Vec<Vec<String>>, SoqlError> {
    check_from(query, schema)?;
    Ok(projection(query, schema)?
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.path)
        .collect())
}

fn check_from(query: &Query, schema: &ObjectSchema) -> Result<(), SoqlError> {
    if query.from.eq_ignore_ascii_case(&schema.name) {
        Ok(())
    } else {
        Err(SoqlError::new(
            "INVALID_TYPE",
            format!("sObject type '{}' is not supported.", query.from),
        ))
    }
}

/// A literal resolved against the clock: date literals become inclusive ranges.
#[derive(Debug, Clone)]
enum CLit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An inclusive instant range (a single dateTime has lo == hi).
    Instant(DateTime<Utc>, DateTime<Utc>),
    /// An inclusive range of days.
    Days(NaiveDate, NaiveDate),
}

fn resolve_literal(lit: &Literal, now: DateTime<Utc>) -> CLit {
    let today = now.date_naive();
    let days = |a: i64, b: i64| CLit::Days(today + Duration::days(a), today + Duration::days(b));
    match lit {
        Literal::Null => CLit::Null,
        Literal::Bool(b) => CLit::Bool(*b),
        Literal::Number(n) => CLit::Num(*n),
        Literal::String(s) => CLit::Str(s.clone()),
        Literal::DateTime(t) => CLit::Instant(*t, *t),
        Literal::Date(d) => CLit::Days(*d, *d),
        Literal::DateLiteral(dl) => match dl {
            DateLiteral::Today => days(0, 0),
            DateLiteral::Yesterday => days(-1, -1),
            DateLiteral::Tomorrow => days(1, 1),
            DateLiteral::LastNDays(n) => days(-i64::from(*n), 0),
            DateLiteral::NextNDays(n) => days(1, i64::from(*n)),
            DateLiteral::LastNHours(n) => CLit::Instant(now - Duration::hours(i64::from(*n)), now),
        },
    }
}

/// A WHERE clause compiled against the schema.
enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp {
        path: Vec<String>,
        ftype: Option<FieldType>,
        op: CmpOp,
        lit: CLit,
    },
    In {
        path: Vec<String>,
        ftype: Option<FieldType>,
        negated: bool,
        lits: Vec<CLit>,
    },
}

fn type_name(t: FieldType) -> (&'static str, bool) {
    match t {
        FieldType::Id | FieldType::Reference => ("id", true),
        FieldType::String | FieldType::Picklist | FieldType::Base64 => ("string", true),
        FieldType::Int => ("integer", false),
        FieldType::Double => ("double", false),
        FieldType::Boolean => ("boolean", false),
        FieldType::DateTime => ("dateTime", false),
        FieldType::Date => ("date", false),
    }
}

fn is_valid_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Checks a literal's type against a schema field's type.
fn check_literal(def: &FieldDef, op: Option<CmpOp>, lit: &Literal) -> Result<(), SoqlError> {
    let t = def.ftype;
    let ok = match lit {
        Literal::Null => true,
        Literal::String(s) => match t {
            FieldType::Id | FieldType::Reference => {
                if op != Some(CmpOp::Like) && !is_valid_id(s) {
                    return Err(SoqlError::new(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        format!("invalid ID field: {s}"),
                    ));
                }
                true
            }
            FieldType::String | FieldType::Picklist | FieldType::Base64 => true,
            _ => false,
        },
        Literal::Number(_) => matches!(t, FieldType::Int | FieldType::Double),
        Literal::Bool(_) => t == FieldType::Boolean,
        Literal::DateTime(_) => t == FieldType::DateTime,
        Literal::Date(_) | Literal::DateLiteral(_) => {
            matches!(t, FieldType::DateTime | FieldType::Date)
        }
    };
    if ok {
        return Ok(());
    }
    let (name, quoted) = type_name(t);
    Err(SoqlError::new(
        "INVALID_FIELD",
        format!(
            "value of filter criterion for field '{}' must be of type {name} and should {}be enclosed in quotes",
            def.name,
            if quoted { "" } else { "not " }
        ),
    ))
}

fn compile(expr: &Expr, schema: &ObjectSchema, now: DateTime<Utc>) -> Result<Cond, SoqlError> {
    let field_for_filter = |path: &[String]| -> Result<Resolved<'_>, SoqlError> {
        let r = resolve(schema, path)?;
        if let Some(def) = r.def {
            if !def.filterable {
                return Err(SoqlError::new(
                    "INVALID_FIELD",
                    format!("field '{}' can not be filtered in a query call", def.name),
                ));
            }
        }
        Ok(r)
    };
    Ok(match expr {
        Expr::And(a, b) => Cond::And(
            Box::new(compile(a, schema, now)?),
            Box::new(compile(b, schema, now)?),
        ),
        Expr::Or(a, b) => Cond::Or(
            Box::new(compile(a, schema, now)?),
            Box::new(compile(b, schema, now)?),
        ),
        Expr::Not(a) => Cond::Not(Box::new(compile(a, schema, now)?)),
        Expr::Cmp { field, op, value } => {
            let r = field_for_filter(field)?;
            if let Some(def) = r.def {
                if *op == CmpOp::Like
                    && !matches!(
                        def.ftype,
                        FieldType::String
                            | FieldType::Picklist
                            | FieldType::Id
                            | FieldType::Reference
                    )
                {
                    return Err(SoqlError::new(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        format!(
                            "invalid operator on {} field '{}': LIKE",
                            type_name(def.ftype).0,
                            def.name
                        ),
                    ));
                }
                check_literal(def, Some(*op), value)?;
            }
            if *op == CmpOp::Like && !matches!(value, Literal::String(_) | Literal::Null) {
                return Err(SoqlError::new(
                    "MALFORMED_QUERY",
                    "LIKE requires a quoted string pattern",
                ));
            }
            Cond::Cmp {
                path: r.path,
                ftype: r.def.map(|d| d.ftype),
                op: *op,
                lit: resolve_literal(value, now),
            }
        }
        Expr::In {
            field,
            negated,
            values,
        } => {
            let r = field_for_filter(field)?;
            if let Some(def) = r.def {
                for v in values {
                    check_literal(def, Some(CmpOp::Eq), v)?;
                }
            }
            Cond::In {
                path: r.path,
                ftype: r.def.map(|d| d.ftype),
                negated: *negated,
                lits: values.iter().map(|v| resolve_literal(v, now)).collect(),
            }
        }
    })
}

/// Where a value lies relative to a literal (a point or an inclusive range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Below,
    Within,
    Above,
}

fn rel_of(o: Ordering) -> Rel {
    match o {
        Ordering::Less => Rel::Below,
        Ordering::Equal => Rel::Within,
        Ordering::Greater => Rel::Above,
    }
}

fn rel_range<T: PartialOrd>(v: &T, lo: &T, hi: &T) -> Rel {
    if v < lo {
        Rel::Below
    } else if v > hi {
        Rel::Above
    } else {
        Rel::Within
    }
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

fn id_key(s: &str) -> &str {
    s.get(..15).filter(|_| s.len() == 18).unwrap_or(s)
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

fn is_id_type(ftype: Option<FieldType>) -> bool {
    matches!(ftype, Some(FieldType::Id | FieldType::Reference))
}

/// Relates a non-null value to a non-null literal; `None` when they can't be compared.
fn relate(v: &Value, lit: &CLit, ftype: Option<FieldType>) -> Option<Rel> {
    match (v, lit) {
        (Value::String(s), CLit::Str(l)) => Some(rel_of(if is_id_type(ftype) {
            id_key(s).cmp(id_key(l))
        } else {
            cmp_text(s, l)
        })),
        (Value::Int(i), CLit::Num(n)) => {
            #[allow(clippy::cast_precision_loss)]
            let f = *i as f64;
            f.partial_cmp(n).map(rel_of)
        }
        (Value::Double(d), CLit::Num(n)) => d.partial_cmp(n).map(rel_of),
        (Value::Bool(b), CLit::Bool(l)) => Some(rel_of(b.cmp(l))),
        (Value::DateTime(t), CLit::Instant(lo, hi)) => Some(rel_range(t, lo, hi)),
        (Value::DateTime(t), CLit::Days(lo, hi)) => {
            let end = day_start(*hi + Duration::days(1)) - Duration::nanoseconds(1);
            Some(rel_range(t, &day_start(*lo), &end))
        }
        (Value::Date(d), CLit::Days(lo, hi)) => Some(rel_range(d, lo, hi)),
        (Value::Date(d), CLit::Instant(lo, hi)) => {
            Some(rel_range(d, &lo.date_naive(), &hi.date_naive()))
        }
        _ => None,
    }
}

fn like(value: &str, pattern: &str) -> bool {
    #[derive(PartialEq)]
    enum P {
        Any,
        One,
        Ch(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars().flat_map(char::to_lowercase).peekable();
    while let Some(c) = it.next() {
        match c {
            '%' => pat.push(P::Any),
            '_' => pat.push(P::One),
            '\\' => match it.peek() {
                Some(&n @ ('%' | '_')) => {
                    it.next();
                    pat.push(P::Ch(n));
                }
                _ => pat.push(P::Ch('\\')),
            },
            c => pat.push(P::Ch(c)),
        }
    }
    let s: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    // Classic wildcard matching with backtracking over the last `%`.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match pat.get(pi) {
            Some(P::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(P::One) => {
                si += 1;
                pi += 1;
            }
            Some(P::Ch(c)) if *c == s[si] => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    pat[pi..].iter().all(|p| *p == P::Any)
}

fn is_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn eval(c: &Cond, rec: &Record) -> bool {
    match c {
        Cond::And(a, b) => eval(a, rec) && eval(b, rec),
        Cond::Or(a, b) => eval(a, rec) || eval(b, rec),
        Cond::Not(a) => !eval(a, rec),
        Cond::Cmp {
            path,
            ftype,
            op,
            lit,
        } => {
            let v = rec.get_path(path);
            if matches!(lit, CLit::Null) {
                return match op {
                    CmpOp::Eq => is_null(v),
                    CmpOp::Ne => !is_null(v),
                    _ => false,
                };
            }
            let Some(v) = v.filter(|v| **v != Value::Null) else {
                // SOQL returns records with a null value for `!=` a non-null literal.
                return *op == CmpOp::Ne;
            };
            if *op == CmpOp::Like {
                return match (v, lit) {
                    (Value::String(s), CLit::Str(p)) => like(s, p),
                    _ => false,
                };
            }
            let Some(r) = relate(v, lit, *ftype) else {
                return *op == CmpOp::Ne;
            };
            match op {
                CmpOp::Eq => r == Rel::Within,
                CmpOp::Ne => r != Rel::Within,
                CmpOp::Lt => r == Rel::Below,
                CmpOp::Le => r != Rel::Above,
                CmpOp::Gt => r == Rel::Above,
                CmpOp::Ge => r != Rel::Below,
                CmpOp::Like => false,
            }
        }
        Cond::In {
            path,
            ftype,
            negated,
            lits,
        } => {
            let v = rec.get_path(path);
            let found = lits.iter().any(|l| match l {
                CLit::Null => is_null(v),
                l => v.is_some_and(|v| relate(v, l, *ftype) == Some(Rel::Within)),
            });
            found != *negated
        }
    }
}

fn variant_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Double(_) => 2,
        Value::String(_) => 3,
        Value::Date(_) => 4,
        Value::DateTime(_) => 5,
        Value::Record(_) => 6,
    }
}

/// Orders two non-null values.
fn cmp_values(a: &Value, b: &Value, ftype: Option<FieldType>) -> Ordering {
    #[allow(clippy::cast_precision_loss)]
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            if is_id_type(ftype) {
                x.cmp(y)
            } else {
                cmp_text(x, y).then_with(|| x.cmp(y))
            }
        }
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Double(y)) => (*x as f64).total_cmp(y),
        (Value::Double(x), Value::Int(y)) => x.total_cmp(&(*y as f64)),
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        _ => variant_rank(a).cmp(&variant_rank(b)),
    }
}

struct SortKey {
    path: Vec<String>,
    ftype: Option<FieldType>,
    descending: bool,
    nulls_first: bool,
}

fn sort_records(recs: &mut [&Record], keys: &[SortKey]) {
    recs.sort_by(|a, b| {
        for k in keys {
            let va = a.get_path(&k.path).filter(|v| **v != Value::Null);
            let vb = b.get_path(&k.path).filter(|v| **v != Value::Null);
            let o = match (va, vb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => {
                    if k.nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (Some(_), None) => {
                    if k.nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (Some(x), Some(y)) => {
                    let o = cmp_values(x, y, k.ftype);
                    if k.descending {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

fn sort_keys(order_by: &[OrderItem], schema: &ObjectSchema) -> Result<Vec<SortKey>, SoqlError> {
    order_by
        .iter()
        .map(|o| {
            let r = resolve(schema, &o.field)?;
            if let Some(def) = r.def {
                if !def.sortable {
                    return Err(SoqlError::new(
                        "INVALID_FIELD",
                        format!("field '{}' can not be sorted in a query call", def.name),
                    ));
                }
            }
            Ok(SortKey {
                path: r.path,
                ftype: r.def.map(|d| d.ftype),
                descending: o.descending,
                nulls_first: o.nulls_first.unwrap_or(!o.descending),
            })
        })
        .collect()
}

/// Salesforce's big-object rules: index fields left to right, only AND, `=`/`IN` on all but
/// the last field used, ranges only on the last, ORDER BY only following the index
/// descending, no OFFSET, no aggregates.
fn check_big_object(
    query: &Query,
    schema: &ObjectSchema,
    index: &[String],
) -> Result<(), SoqlError> {
    let obj = &schema.name;
    let index_list = index.join(", ");
    let filter_err = |msg: String| SoqlError::new("INVALID_QUERY_FILTER_OPERATOR", msg);
    if query.select.contains(&SelectItem::Count) {
        return Err(SoqlError::new(
            "MALFORMED_QUERY",
            format!("Aggregate queries are not supported on big object '{obj}'"),
        ));
    }
    if query.offset.is_some() {
        return Err(SoqlError::new(
            "MALFORMED_QUERY",
            format!("OFFSET is not supported in a query on big object '{obj}'"),
        ));
    }
    // Flatten the AND chain.
    let mut conjuncts: Vec<&Expr> = Vec::new();
    let mut stack: Vec<&Expr> = query.where_.iter().collect();
    while let Some(e) = stack.pop() {
        match e {
            Expr::And(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            Expr::Or(..) => {
                return Err(filter_err(format!(
                    "OR is not supported in a query on big object '{obj}': filters on its index fields ({index_list}) may only be combined with AND"
                )))
            }
            Expr::Not(..) => {
                return Err(filter_err(format!(
                    "NOT is not supported in a query on big object '{obj}': filters on its index fields ({index_list}) may only be combined with AND"
                )))
            }
            other => conjuncts.push(other),
        }
    }
    // Per index position: (equality filters, range filters).
    let mut uses: Vec<(usize, usize)> = vec![(0, 0); index.len()];
    for c in &conjuncts {
        let (field, is_range) = match c {
            Expr::Cmp { field, op, value } => {
                let is_range = match op {
                    CmpOp::Eq => matches!(value, Literal::Date(_) | Literal::DateLiteral(_)),
                    CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => true,
                    CmpOp::Ne | CmpOp::Like => {
                        let sym = if *op == CmpOp::Ne { "!=" } else { "LIKE" };
                        return Err(filter_err(format!(
                            "The {sym} operator is not supported in a query on big object '{obj}'"
                        )));
                    }
                };
                (field, is_range)
            }
            Expr::In { field, negated, .. } => {
                if *negated {
                    return Err(filter_err(format!(
                        "The NOT IN operator is not supported in a query on big object '{obj}'"
                    )));
                }
                (field, false)
            }
            _ => continue,
        };
        let r = resolve(schema, field)?;
        let pos = match (&r.def, r.path.as_slice()) {
            (Some(_), [name]) => index.iter().position(|i| i.eq_ignore_ascii_case(name)),
            _ => None,
        };
        let Some(pos) = pos else {
            return Err(filter_err(format!(
                "field '{}' can not be filtered in a query on big object '{obj}': only its index fields ({index_list}) may be filtered, left to right without gaps",
                r.path.join(".")
            )));
        };
        if is_range {
            uses[pos].1 += 1;
        } else {
            uses[pos].0 += 1;
        }
    }
    let used: Vec<usize> = (0..index.len()).filter(|&i| uses[i] != (0, 0)).collect();
    if let Some(&last) = used.last() {
        for i in 0..last {
            if uses[i] == (0, 0) {
                return Err(filter_err(format!(
                    "A filter on index field '{}' of big object '{obj}' needs an equality filter on '{}' before it: index fields ({index_list}) must be filtered left to right without gaps",
                    index[last], index[i]
                )));
            }
            if uses[i].1 > 0 {
                return Err(filter_err(format!(
                    "A range filter on '{}' is only allowed when it is the last index field filtered in a query on big object '{obj}' (index: {index_list})",
                    index[i]
                )));
            }
        }
        let (eq, range) = uses[last];
        if range > 2 || (range > 0 && eq > 0) {
            return Err(filter_err(format!(
                "Too many filters on index field '{}' of big object '{obj}': use one equality or at most two range bounds",
                index[last]
            )));
        }
    }
    // ORDER BY must follow the index, descending.
    for (i, o) in query.order_by.iter().enumerate() {
        let ok = o.field.len() == 1
            && index
                .get(i)
                .is_some_and(|f| f.eq_ignore_ascii_case(&o.field[0]))
            && o.descending;
        if !ok {
            let wanted: Vec<String> = index.iter().map(|f| format!("{f} DESC")).collect();
            return Err(SoqlError::new(
                "MALFORMED_QUERY",
                format!(
                    "ORDER BY in a query on big object '{obj}' must follow its index: {}",
                    wanted.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Adds a (possibly dotted) path to a projected record, merging relationship paths.
fn add_path(out: &mut Vec<(String, Value)>, src: &Record, path: &[String], target: Option<&str>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let existing = src
        .fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(first));
    let name = existing.map_or(first.as_str(), |(n, _)| n.as_str());
    let src_val = existing.map(|(_, v)| v);
    if rest.is_empty() {
        if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(first)) {
            out.push((name.to_string(), src_val.cloned().unwrap_or(Value::Null)));
        }
        return;
    }
    let idx = match out.iter().position(|(n, _)| n.eq_ignore_ascii_case(first)) {
        Some(i) => i,
        None => {
            let v = match src_val {
                Some(Value::Record(r)) => Value::Record(Box::new(Record {
                    sobject: target
                        .filter(|t| !t.is_empty())
                        .map_or_else(|| r.sobject.clone(), str::to_string),
                    id: r.id.clone(),
                    fields: Vec::new(),
                })),
                _ => Value::Null,
            };
            // The first hop uses the schema's relationship name casing.
            let key = if target.is_some() {
                first.as_str()
            } else {
                name
            };
            out.push((key.to_string(), v));
            out.len() - 1
        }
    };
    if let (Value::Record(nested), Some(Value::Record(r))) = (&mut out[idx].1, src_val) {
        add_path(&mut nested.fields, r, rest, None);
    }
}

fn project(rec: &Record, fields: &[Resolved<'_>]) -> Record {
    let mut out = Record::new(&rec.sobject, rec.id.clone());
    for f in fields {
        match (f.def, f.path.as_slice()) {
            (Some(_), [name]) => {
                let v = rec.get(name).cloned().unwrap_or(Value::Null);
                out.fields.push((name.clone(), v));
            }
            _ => add_path(&mut out.fields, rec, &f.path, f.target),
        }
    }
    out
}

pub(crate) fn execute<'a>(
    query: &Query,
    schema: &ObjectSchema,
    records: impl Iterator<Item = &'a Record>,
    now: DateTime<Utc>,
) -> Result<Output, SoqlError> {
    check_from(query, schema)?;
    let fields = projection(query, schema)?;
    let cond = query
        .where_
        .as_ref()
        .map(|e| compile(e, schema, now))
        .transpose()?;
    let mut keys = sort_keys(&query.order_by, schema)?;
    if let Some(rules) = &schema.big_object {
        check_big_object(query, schema, &rules.index)?;
        if keys.is_empty() {
            keys = rules
                .index
                .iter()
                .filter_map(|name| schema.field(name))
                .map(|def| SortKey {
                    path: vec![def.name.clone()],
                    ftype: Some(def.ftype),
                    descending: true,
                    nulls_first: false,
                })
                .collect();
        }
    }
    if let Some(off) = query.offset {
        if off > MAX_OFFSET {
            return Err(SoqlError::new(
                "NUMBER_OUTSIDE_VALID_RANGE",
                format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
            ));
        }
    }
    let mut matched: Vec<&Record> = records
        .filter(|r| cond.as_ref().is_none_or(|c| eval(c, r)))
        .collect();
    if !keys.is_empty() {
        sort_records(&mut matched, &keys);
    }
    let offset = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = matched.into_iter().skip(offset).take(limit);
    Ok(match fields {
        None => Output::Count(page.count() as u64),
        Some(fields) => Output::Records(page.map(|r| project(r, &fields)).collect()),
    })
}
