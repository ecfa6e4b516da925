//! The org's side of attack scenarios: where planted rows go, where they end up in files,
//! and which objects and fields an org with scenarios serves.

use super::*;

/// Planted rows by block (the sequence-1 block of their type and hour), in time order.
pub(crate) fn plant_rows(types: &[TypeInfo], elf: &[scenarios::ElfPlant]) -> PlantedRows {
    let mut out = PlantedRows::new();
    for e in elf {
        let Some(ti) = types.iter().position(|t| t.name == e.event_type) else {
            continue;
        };
        let hour = e.at_ms.div_euclid(HOUR * 1000) * HOUR;
        out.entry(BlockKey { ti, hour, seq: 1 })
            .or_default()
            .push(PlantedRow {
                ms: (e.at_ms - hour * 1000) as u64,
                row: RowBuf::from_values(&e.values),
                tag: e.tag,
            });
    }
    for rows in out.values_mut() {
        rows.sort_by_key(|p| p.ms);
    }
    out
}

impl Org {
    /// What each asked scenario planted, in [`Scenario::hour`] order: the ground truth of the
    /// attacks. Empty without scenarios.
    pub fn planted(&self) -> Vec<Planted> {
        let mut out = self.planted.clone();
        let mut positions: HashMap<BlockKey, Vec<(u64, usize)>> = HashMap::new();
        for (f, fb) in self.files.iter().zip(&self.file_blocks) {
            let mut offset = 0u64;
            for b in &fb.blocks {
                let n = self.planted_rows.get(&b.key).map_or(0, Vec::len) as u64;
                if n > 0 {
                    let pos = positions
                        .entry(b.key)
                        .or_insert_with(|| self.block_positions(fb.ti, b));
                    for &(i, tag) in pos.iter() {
                        if let Some(p) = out.get_mut(tag) {
                            p.elf_rows.push((f.id.clone(), offset + i));
                        }
                    }
                }
                offset += b.rows + n;
            }
        }
        for p in &mut out {
            p.elf_rows.sort();
        }
        out
    }

    /// Where a block's planted rows fall among its rows: (position, scenario tag).
    fn block_positions(&self, ti: usize, b: &Block) -> Vec<(u64, usize)> {
        let mut stream = self.stream(&self.types[ti], std::slice::from_ref(b));
        let mut row = RowBuf::default();
        let mut out = Vec::new();
        let mut i = 0u64;
        while stream.next_into(&mut row) {
            if let Some(tag) = stream.last_planted {
                out.push((i, tag));
            }
            i += 1;
        }
        out
    }

    pub(crate) fn stream<'a>(&'a self, ti: &'a TypeInfo, blocks: &'a [Block]) -> RowStream<'a> {
        RowStream::new(&self.ctx, ti, self.spec.seed, blocks, &self.planted_rows)
    }

    /// Whether scenarios planted anything in this org.
    pub fn has_scenarios(&self) -> bool {
        !self.planted.is_empty()
    }

    /// The event objects this org serves: [`OBJECTS`], then [`SCENARIO_OBJECTS`] when it has
    /// scenarios.
    pub fn objects(&self) -> Vec<&'static str> {
        let n = if self.has_scenarios() {
            OBJECTS.len() + SCENARIO_OBJECTS.len()
        } else {
            OBJECTS.len()
        };
        objects::all_objects().take(n).collect()
    }

    /// The schema of an object as this org shows it (any case): [`schema`], except that an
    /// org with scenarios also has [`SCENARIO_OBJECTS`] and the Transaction Security fields
    /// on ApiEvent and ReportEvent, and one without has neither.
    pub fn schema(&self, object: &str) -> Option<ObjectSchema> {
        match objects::canonical(object) {
            Some(name) if SCENARIO_OBJECTS.contains(&name) && !self.has_scenarios() => None,
            Some(name) => objects::schema_with(name, self.has_scenarios()),
            None => schema(object),
        }
    }
}
