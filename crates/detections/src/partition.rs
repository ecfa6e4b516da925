//! Splits a rule collection into independent parts by the datasets their rules read, so each
//! part gets a correlation engine of its own that sees only its datasets' events.
//!
//! Why: windows must expire by the clock of the data they count. In one engine, the clock is
//! shared, and an archive read file by file (a day of Login, then the same day of API) would
//! keep a whole day of every address's and user's windows; per part, a window expires once its
//! own dataset has moved past it. It also spares each event the rules of other datasets.
//!
//! Detection rules join the part of their `service`; a rule without one reads every dataset
//! and so joins the catch-all part (which receives every event). A correlation joins the parts
//! of every rule it names, merging them; a filter goes with every part holding a rule it
//! targets.

use std::collections::{BTreeSet, HashMap};

use rsigma_parser::{FilterRuleTarget, SigmaCollection};

/// One part: the datasets it reads (`None` for the catch-all) and its rules.
pub struct Part {
    /// Lower-case dataset names; empty together with `every` for the catch-all.
    pub datasets: BTreeSet<String>,
    /// Receives every event (it holds a rule without a `service`).
    pub every: bool,
    pub collection: SigmaCollection,
    /// The correlations' stable ids (id, else name, else title), as rsigma keys their state.
    pub correlation_ids: Vec<String>,
}

/// The key of a rule's home before merging: its dataset, or `None` for every dataset.
type Home = Option<String>;

pub fn split(collection: &SigmaCollection) -> Vec<Part> {
    let mut homes = UnionFind::default();
    // Rule reference (id, name, title) -> its home.
    let mut home_of: HashMap<String, Home> = HashMap::new();
    for rule in &collection.rules {
        let home = rule.logsource.service.as_ref().map(|s| s.to_lowercase());
        homes.add(&home);
        for r in [rule.id.clone(), rule.name.clone(), Some(rule.title.clone())]
            .into_iter()
            .flatten()
        {
            home_of.insert(r, home.clone());
        }
    }
    // Correlations may name correlations: resolve until nothing changes.
    let mut pending: Vec<_> = collection.correlations.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|c| {
            let used: Vec<&Home> = c.rules.iter().filter_map(|r| home_of.get(r)).collect();
            if used.len() < c.rules.len() {
                return true;
            }
            for pair in used.windows(2) {
                homes.union(pair[0], pair[1]);
            }
            if let Some(first) = used.first().cloned().cloned() {
                for r in [c.id.clone(), c.name.clone(), Some(c.title.clone())]
                    .into_iter()
                    .flatten()
                {
                    home_of.insert(r, first.clone());
                }
            }
            false
        });
        if pending.len() == before {
            // Unknown references: rsigma reports them when the part is built; keep them with
            // the catch-all so the error surfaces as it did with one engine.
            for c in &pending {
                homes.add(&None);
                for r in [c.id.clone(), c.name.clone(), Some(c.title.clone())]
                    .into_iter()
                    .flatten()
                {
                    home_of.entry(r).or_insert(None);
                }
            }
            break;
        }
    }
    assemble(collection, &mut homes, &home_of)
}

fn assemble(
    collection: &SigmaCollection,
    homes: &mut UnionFind,
    home_of: &HashMap<String, Home>,
) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut part_of = |home: &Home, homes: &mut UnionFind, parts: &mut Vec<Part>| -> usize {
        let root = homes.find(home);
        *index.entry(root).or_insert_with(|| {
            parts.push(Part {
                datasets: BTreeSet::new(),
                every: false,
                collection: SigmaCollection::new(),
                correlation_ids: Vec::new(),
            });
            parts.len() - 1
        })
    };
    for rule in &collection.rules {
        let home = rule.logsource.service.as_ref().map(|s| s.to_lowercase());
        let p = part_of(&home, homes, &mut parts);
        match &home {
            Some(d) => parts[p].datasets.insert(d.clone()),
            None => std::mem::replace(&mut parts[p].every, true),
        };
        parts[p].collection.rules.push(rule.clone());
    }
    for c in &collection.correlations {
        let home = c.rules.iter().find_map(|r| home_of.get(r)).cloned();
        let p = part_of(&home.unwrap_or(None), homes, &mut parts);
        parts[p].correlation_ids.push(
            c.id.clone()
                .or_else(|| c.name.clone())
                .unwrap_or_else(|| c.title.clone()),
        );
        parts[p].collection.correlations.push(c.clone());
    }
    for part in &mut parts {
        for f in &collection.filters {
            if targets_any(&f.rules, &part.collection) {
                part.collection.filters.push(f.clone());
            }
        }
    }
    parts
}

fn targets_any(target: &FilterRuleTarget, collection: &SigmaCollection) -> bool {
    match target {
        FilterRuleTarget::Any => true,
        FilterRuleTarget::Specific(refs) => collection.rules.iter().any(|rule| {
            refs.iter()
                .any(|r| rule.id.as_deref() == Some(r.as_str()) || rule.title == *r)
        }),
    }
}

/// Union-find over homes.
#[derive(Default)]
struct UnionFind {
    ids: HashMap<Home, usize>,
    parent: Vec<usize>,
}

impl UnionFind {
    fn add(&mut self, home: &Home) -> usize {
        if let Some(&i) = self.ids.get(home) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.ids.insert(home.clone(), i);
        i
    }

    fn find(&mut self, home: &Home) -> usize {
        let mut i = self.add(home);
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: &Home, b: &Home) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[rb] = ra;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> SigmaCollection {
        rsigma_parser::parse_sigma_yaml(yaml).unwrap()
    }

    const RULES: &str = r#"
title: a
id: 00000000-0000-0000-0000-00000000000a
name: a
logsource: {product: salesforce, service: login}
detection: {sel: {X: 1}, condition: sel}
---
title: b
id: 00000000-0000-0000-0000-00000000000b
name: b
logsource: {product: salesforce, service: api}
detection: {sel: {X: 1}, condition: sel}
---
title: c
id: 00000000-0000-0000-0000-00000000000c
name: c
logsource: {product: salesforce, service: uri}
detection: {sel: {X: 1}, condition: sel}
---
title: ab
id: 00000000-0000-0000-0000-0000000000ab
name: ab
correlation: {type: temporal, rules: [a, b], group-by: [U], timespan: 10m}
"#;

    #[test]
    fn a_correlation_over_two_datasets_keeps_them_in_one_part() {
        let parts = split(&parse(RULES));
        assert_eq!(parts.len(), 2);
        let joined = parts.iter().find(|p| p.datasets.len() == 2).unwrap();
        assert_eq!(
            joined.datasets.iter().cloned().collect::<Vec<_>>(),
            ["api", "login"]
        );
        assert_eq!(
            joined.correlation_ids,
            ["00000000-0000-0000-0000-0000000000ab"]
        );
        assert_eq!(joined.collection.rules.len(), 2);
        let alone = parts.iter().find(|p| p.datasets.len() == 1).unwrap();
        assert!(alone.datasets.contains("uri") && !alone.every);
    }

    #[test]
    fn a_rule_without_a_service_reads_every_dataset() {
        let yaml = format!(
            "{RULES}---\ntitle: d\nname: d\nlogsource: {{product: salesforce}}\n\
             detection: {{sel: {{X: 1}}, condition: sel}}\n"
        );
        let parts = split(&parse(&yaml));
        assert_eq!(parts.iter().filter(|p| p.every).count(), 1);
        assert_eq!(parts.len(), 3);
    }
}
