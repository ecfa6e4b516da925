//! Recursive-descent parser for the SOQL subset collectors send.

use crate::ast::{CmpOp, DateLiteral, Expr, FieldsKind, Literal, OrderItem, Query, SelectItem};
use crate::error::SoqlError;
use crate::lexer::{syntax_error, tokenize, Tok, Token};

/// Words that can never be a field or object name.
const RESERVED: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH", "TRUE", "FALSE",
];

pub(crate) fn parse(src: &str) -> Result<Query, SoqlError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
    };
    p.query()
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Logic {
    And,
    Or,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        syntax_error(
            self.src,
            t.start,
            &format!("unexpected token: '{}'", t.text),
        )
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(&self.peek_at(n).tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<(), SoqlError> {
        if self.peek().tok == tok {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// A non-reserved identifier.
    fn name(&mut self) -> Result<String, SoqlError> {
        match &self.peek().tok {
            Tok::Ident(s) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `Name` or `Rel.Name` or deeper.
    fn path(&mut self) -> Result<Vec<String>, SoqlError> {
        let mut parts = vec![self.name()?];
        while self.peek().tok == Tok::Dot {
            self.pos += 1;
            parts.push(self.name()?);
        }
        Ok(parts)
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let from = self.name()?;
        let where_ = if self.eat_kw("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.is_kw("ORDER") {
            self.pos += 1;
            self.expect_kw("BY")?;
            loop {
                order_by.push(self.order_item()?);
                if self.peek().tok == Tok::Comma {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count_value()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count_value()?)
        } else {
            None
        };
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            where_,
            order_by,
            limit,
            offset,
        })
    }

    fn select_list(&mut self) -> Result<Vec<SelectItem>, SoqlError> {
        let mut items = Vec::new();
        loop {
            let start = self.peek().start;
            let item = if self.is_kw("COUNT") && self.peek_at(1).tok == Tok::LParen {
                self.pos += 2;
                self.expect(Tok::RParen)?;
                SelectItem::Count
            } else if self.is_kw("FIELDS") && self.peek_at(1).tok == Tok::LParen {
                self.pos += 2;
                let kind = if self.eat_kw("STANDARD") {
                    FieldsKind::Standard
                } else if self.eat_kw("ALL") {
                    FieldsKind::All
                } else if self.eat_kw("CUSTOM") {
                    FieldsKind::Custom
                } else {
                    return Err(self.unexpected());
                };
                self.expect(Tok::RParen)?;
                SelectItem::Fields(kind)
            } else {
                SelectItem::Field(self.path()?)
            };
            let has_count = item == SelectItem::Count || items.contains(&SelectItem::Count);
            items.push(item);
            if has_count && items.len() > 1 {
                return Err(syntax_error(
                    self.src,
                    start,
                    "COUNT() must be the only element in the SELECT list",
                ));
            }
            if self.peek().tok == Tok::Comma {
                self.pos += 1;
            } else {
                return Ok(items);
            }
        }
    }

    fn order_item(&mut self) -> Result<OrderItem, SoqlError> {
        let field = self.path()?;
        let descending = if self.eat_kw("DESC") {
            true
        } else {
            self.eat_kw("ASC");
            false
        };
        let nulls_first = if self.eat_kw("NULLS") {
            if self.eat_kw("FIRST") {
                Some(true)
            } else if self.eat_kw("LAST") {
                Some(false)
            } else {
                return Err(self.unexpected());
            }
        } else {
            None
        };
        Ok(OrderItem {
            field,
            descending,
            nulls_first,
        })
    }

    /// A non-negative integer (LIMIT, OFFSET, LAST_N_DAYS:n).
    fn count_value(&mut self) -> Result<u64, SoqlError> {
        match self.peek().tok {
            Tok::Num(n)
                if n >= 0.0
                    && n.fract() == 0.0
                    && n <= 9.0e15
                    && !self.peek().text.contains('.') =>
            {
                self.pos += 1;
                // Checked above: a non-negative whole number well inside u64.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(n as u64)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A condition expression: operands joined by AND or by OR. As in Salesforce, mixing
    /// AND and OR at one level without parentheses is a syntax error.
    fn condition(&mut self) -> Result<Expr, SoqlError> {
        let mut left = self.unary()?;
        let mut logic: Option<Logic> = None;
        loop {
            let this = if self.is_kw("AND") {
                Logic::And
            } else if self.is_kw("OR") {
                Logic::Or
            } else {
                return Ok(left);
            };
            if logic.is_some_and(|l| l != this) {
                return Err(self.unexpected());
            }
            logic = Some(this);
            self.pos += 1;
            let right = self.unary()?;
            left = match this {
                Logic::And => Expr::And(Box::new(left), Box::new(right)),
                Logic::Or => Expr::Or(Box::new(left), Box::new(right)),
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek().tok == Tok::LParen {
            self.pos += 1;
            let e = self.condition()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        self.field_expr()
    }

    fn field_expr(&mut self) -> Result<Expr, SoqlError> {
        let field = self.path()?;
        let negated_in = self.is_kw("NOT") && self.is_kw_at(1, "IN");
        if negated_in || self.is_kw("IN") {
            self.pos += if negated_in { 2 } else { 1 };
            self.expect(Tok::LParen)?;
            let mut values = vec![self.literal()?];
            while self.peek().tok == Tok::Comma {
                self.pos += 1;
                values.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In {
                field,
                negated: negated_in,
                values,
            });
        }
        let op = match self.peek().tok {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ if self.is_kw("LIKE") => CmpOp::Like,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let value = self.literal()?;
        Ok(Expr::Cmp { field, op, value })
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let t = self.peek().clone();
        let lit = match &t.tok {
            Tok::Str(s) => Literal::String(s.clone()),
            Tok::Num(n) => Literal::Number(*n),
            Tok::DateTime(d) => Literal::DateTime(*d),
            Tok::Date(d) => Literal::Date(*d),
            Tok::Ident(w) => {
                let w = w.to_ascii_uppercase();
                let simple = match w.as_str() {
                    "NULL" => Some(Literal::Null),
                    "TRUE" => Some(Literal::Bool(true)),
                    "FALSE" => Some(Literal::Bool(false)),
                    "TODAY" => Some(Literal::DateLiteral(DateLiteral::Today)),
                    "YESTERDAY" => Some(Literal::DateLiteral(DateLiteral::Yesterday)),
                    "TOMORROW" => Some(Literal::DateLiteral(DateLiteral::Tomorrow)),
                    _ => None,
                };
                if let Some(l) = simple {
                    l
                } else {
                    let make: fn(u32) -> DateLiteral = match w.as_str() {
                        "LAST_N_DAYS" => DateLiteral::LastNDays,
                        "NEXT_N_DAYS" => DateLiteral::NextNDays,
                        "LAST_N_HOURS" => DateLiteral::LastNHours,
                        _ => return Err(self.unexpected()),
                    };
                    self.pos += 1;
                    self.expect(Tok::Colon)?;
                    let n = self.count_value()?;
                    let n = u32::try_from(n).map_err(|_| {
                        syntax_error(self.src, t.start, &format!("invalid date literal: {w}:{n}"))
                    })?;
                    return Ok(Literal::DateLiteral(make(n)));
                }
            }
            _ => return Err(self.unexpected()),
        };
        self.advance();
        Ok(lit)
    }
}
