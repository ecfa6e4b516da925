//! SOQL for the sfsim simulator: a parser for the queries collectors send, and an evaluator
//! over in-memory records, answering with Salesforce's error codes when a query is invalid.

pub mod ast;
pub mod error;
mod eval;
mod lexer;
mod parser;
pub mod value;

pub use ast::Query;
pub use error::SoqlError;
pub use value::{
    format_datetime, BigObjectRules, FieldDef, FieldType, ObjectSchema, Record, Value,
};

use chrono::{DateTime, Utc};

/// What a query evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Matching records, filtered, ordered, offset and limited, each projected to the
    /// selected fields in SELECT order (relationship paths as nested records).
    Records(Vec<Record>),
    /// `SELECT COUNT() ...`.
    Count(u64),
}

/// Parses a SOQL query. Syntax errors are `MALFORMED_QUERY`.
pub fn parse(soql: &str) -> Result<Query, SoqlError> {
    parser::parse(soql)
}

/// Checks a parsed query against the object's schema (`INVALID_FIELD`, big-object rules) and
/// evaluates it over `records`. Date literals (TODAY, LAST_N_DAYS:n) resolve against `now`.
pub fn execute<'a>(
    query: &Query,
    schema: &ObjectSchema,
    records: impl Iterator<Item = &'a Record>,
    now: DateTime<Utc>,
) -> Result<Output, SoqlError> {
    eval::execute(query, schema, records, now)
}

/// The selected field names as they appear in the answer (`FIELDS(STANDARD)` expanded), for
/// `columns=true` metadata and for projection.
pub fn selected_fields(
    query: &Query,
    schema: &ObjectSchema,
) -> Result<Vec<Vec<String>>, SoqlError> {
    eval::selected_fields(query, schema)
}
