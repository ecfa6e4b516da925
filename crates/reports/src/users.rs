//! User ids to user names, learned from the archive itself: EventLogFile types such as Report
//! or API name users only by id, and a table of ids is unreadable. The Login files and
//! LoginEvent carry both, and are small next to the types that need them.

use std::collections::HashMap;

use crate::ledger::Acc;
use crate::model::{Cell, Table};
use crate::row::Row;
use crate::{Ctx, ReportError};

/// 15-character ids (the ELF form) to user names.
#[derive(Default)]
pub struct Directory {
    names: HashMap<Box<str>, Box<str>>,
}

impl Acc for Directory {
    fn add(&mut self, r: &Row) {
        let (id, name) = (r.get(0), r.get(1));
        if id.len() < 15 || name.is_empty() {
            return;
        }
        let key = &id[..15];
        if !self.names.contains_key(key) {
            self.names.insert(key.into(), name.into());
        }
    }

    fn merge(&mut self, o: Self) {
        for (k, v) in o.names {
            self.names.entry(k).or_insert(v);
        }
    }
}

impl Directory {
    /// Reads the Login files and LoginEvent of the report's period.
    pub fn load(ctx: &Ctx) -> Result<Directory, ReportError> {
        let (mut d, _) = ctx.elf::<Directory>("Login", &["USER_ID", "USER_NAME"])?;
        let (e, _) = ctx.object::<Directory>("LoginEvent", &["UserId", "Username"])?;
        d.merge(e);
        Ok(d)
    }

    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.get(id.get(..15)?).map(|n| &**n)
    }

    /// Replaces user ids in column `col` by names where known, and renames the column.
    pub fn relabel(&self, t: &mut Table, col: usize, title: &str) {
        for row in &mut t.rows {
            if let Some(Cell::Text(id)) = row.get(col) {
                if let Some(n) = self.name(id) {
                    row[col] = Cell::Text(n.to_string());
                }
            }
        }
        if let Some(c) = t.columns.get_mut(col) {
            c.name = title.to_string();
        }
    }
}
