//! The parsed form of a SOQL query.

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: String,
    pub where_: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field or a dotted relationship path (`CreatedBy.Username`), as written.
    Field(Vec<String>),
    /// `FIELDS(STANDARD)`, `FIELDS(ALL)`, `FIELDS(CUSTOM)`.
    Fields(FieldsKind),
    /// `COUNT()`.
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsKind {
    Standard,
    All,
    Custom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Vec<String>,
        op: CmpOp,
        value: Literal,
    },
    In {
        field: Vec<String>,
        negated: bool,
        values: Vec<Literal>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    /// TODAY, YESTERDAY, LAST_N_DAYS:n, ... resolved against the evaluation clock.
    DateLiteral(DateLiteral),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLiteral {
    Today,
    Yesterday,
    Tomorrow,
    LastNDays(u32),
    NextNDays(u32),
    LastNHours(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub field: Vec<String>,
    pub descending: bool,
    /// `NULLS FIRST` / `NULLS LAST`; `None` means Salesforce's default (nulls first for ASC).
    pub nulls_first: Option<bool>,
}
