//! The ECS document of an archive line, written without a tree.
//!
//! Most of what sfevents ships is EventLogFile rows of types Elastic's integration does not
//! map (ApiTotalUsage, URI, RestApi...), which take the generic mapping. For those this writer
//! scans the line once ([`crate::line`]), looks the header's [`Plan`] up (made once per file
//! and kept), and writes the document's JSON straight into the caller's buffer: the same bytes
//! [`Normalizer::ecs`] gives, keys sorted, at a fraction of the cost. Everything else (the
//! integration's five data streams, objects, alerts, GeoIP, `preserve_original`, a line it
//! cannot read) is answered `None`, and the caller takes the tree path.

mod agent;
mod cells;
mod plan;
mod write;

use crate::line::{ArchiveLine, Str, Val};
use crate::{Normalizer, Stream};
use plan::{Envelope, Plan};

/// How many headers' plans are kept (an archive file has one header; a batch spans a few).
const PLANS: usize = 16;

/// Writes ECS documents of archive lines with a normalizer's options; keep one per sink (it
/// keeps the plans of the headers it has seen).
pub struct LineEncoder {
    n: Normalizer,
    plans: Vec<Plan>,
    /// The current line's field values, by column.
    cells: Vec<Option<(usize, usize, bool)>>,
    scratch: Vec<u8>,
    msg: String,
}

/// What a written document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written<'p> {
    /// `logs-salesforce.<dataset>-<namespace>`.
    pub data_stream: &'p str,
}

impl LineEncoder {
    pub fn new(n: Normalizer) -> LineEncoder {
        LineEncoder {
            n,
            plans: Vec::new(),
            cells: Vec::new(),
            scratch: Vec::new(),
            msg: String::new(),
        }
    }

    /// Appends the ECS document of `line` to `out` and says where it goes, or answers `None`
    /// (with `out` as it was) when the line needs [`Normalizer::ecs`].
    pub fn ecs(&mut self, line: &str, out: &mut Vec<u8>) -> Option<Written<'_>> {
        self.write(line, out, false)
    }

    /// The same for [`Normalizer::agent`]: Filebeat's shape for the integration's data streams,
    /// the ECS document for the others.
    pub fn agent(&mut self, line: &str, out: &mut Vec<u8>) -> Option<Written<'_>> {
        self.write(line, out, true)
    }

    fn write(&mut self, line: &str, out: &mut Vec<u8>, agent: bool) -> Option<Written<'_>> {
        let l = ArchiveLine::scan(line)?;
        if ArchiveLine::text(l.source)?.plain()? != "EventLogFile" {
            return None;
        }
        let kind = ArchiveLine::text(l.event_type)?
            .plain()
            .filter(|k| !k.is_empty())?;
        let id = ArchiveLine::text(l.id).filter(|s| !s.raw.is_empty())?;
        let org_id = match l.org_id {
            None | Some(Val::Other("null")) => None,
            Some(Val::Str(s)) => Some(s).filter(|s| !s.raw.is_empty()),
            Some(Val::Other(_)) => return None,
        };
        let archive_ts = match l.timestamp {
            None | Some(Val::Other("null")) => None,
            Some(Val::Str(s)) => Some(s),
            Some(Val::Other(_)) => return None,
        };
        let p = self.plan_for(line, &l, kind)?;
        let ev = cells::Event {
            line,
            id,
            org_id,
            archive_ts,
            cells: &self.cells,
        };
        let plan = &self.plans[p];
        match &plan.agent {
            Some(a) if agent => agent::document(a, &plan.keys, &ev, out, &mut self.msg),
            Some(_) => return None,
            None => {
                if self.n.geoip.is_some() || self.n.opts.preserve_original {
                    return None;
                }
                let start = out.len();
                if !write::document(plan, &ev, out, &mut self.scratch) {
                    out.truncate(start);
                    return None;
                }
            }
        }
        Some(Written {
            data_stream: &plan.data_stream,
        })
    }

    /// Reads the line's fields into `cells` and finds (or makes) their header's plan.
    fn plan_for(&mut self, line: &str, l: &ArchiveLine, kind: &str) -> Option<usize> {
        let base = line.as_ptr() as usize;
        let mut keys: Vec<Str> = Vec::with_capacity(self.cells.len());
        self.cells.clear();
        let mut members = l.field_members()?;
        for (k, v) in members.by_ref() {
            let k = k.ok()?;
            let Val::Str(v) = v else { return None };
            let at = v.raw.as_ptr() as usize - base;
            keys.push(k);
            self.cells.push(Some((at, at + v.raw.len(), v.escaped)));
        }
        if members.broken {
            return None;
        }
        let same = |p: &Plan| {
            p.kind == kind
                && p.keys.len() == keys.len()
                && p.keys.iter().zip(&keys).all(|(a, b)| a == b.raw)
        };
        if let Some(i) = self.plans.iter().position(same) {
            return Some(i);
        }
        let names: Vec<String> = keys.iter().map(|k| k.raw.to_string()).collect();
        if (1..names.len()).any(|i| names[..i].contains(&names[i])) {
            return None; // a key twice: the tree keeps the last value
        }
        let env = Envelope {
            namespace: &self.n.opts.namespace,
            instance_url: &self.n.opts.instance_url,
            tags: &self.n.opts.tags,
        };
        let plan = match Stream::of(crate::event::Provider::EventLogFile, kind) {
            Stream::Generic(dataset) => Plan::new(kind, &dataset, names, &env)?,
            stream => {
                // Filebeat's tags: `preserve_original_event` first, then the others, once each.
                let mut tags: Vec<&str> = Vec::new();
                let pre = self
                    .n
                    .opts
                    .preserve_original
                    .then_some("preserve_original_event");
                for t in pre
                    .into_iter()
                    .chain(self.n.opts.tags.iter().map(String::as_str))
                {
                    if !tags.contains(&t) {
                        tags.push(t);
                    }
                }
                Plan::for_agent(kind, stream.dataset(), names, &env, &tags)?
            }
        };
        if self.plans.len() == PLANS {
            self.plans.remove(0);
        }
        self.plans.push(plan);
        Some(self.plans.len() - 1)
    }
}
