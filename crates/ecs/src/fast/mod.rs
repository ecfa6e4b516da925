//! The ECS document of an archive line, written without a tree.
//!
//! Most of what sfevents ships is EventLogFile rows of types Elastic's integration does not
//! map (ApiTotalUsage, URI, RestApi...) and object records the integration does not map
//! (ApiEvent, ReportEvent, LightningUriEvent...), which take the generic mapping. For those
//! this writer scans the line once ([`crate::line`]), looks the [`Plan`] of its header (or of
//! its object's field list) up (made once and kept), and writes the document's JSON straight
//! into the caller's buffer: the same bytes [`Normalizer::ecs`] gives, keys sorted, at a
//! fraction of the cost. The `agent` document of the integration's EventLogFile types is
//! written the same way. Everything else (the `ecs` documents of the integration's five data
//! streams, their objects, alerts, relationship fields, GeoIP, `preserve_original`, a line it
//! cannot read) is answered `None`, and the caller takes the tree path.

mod agent;
mod cells;
mod plan;
mod write;

use crate::line::{ArchiveLine, Str, Val};
use crate::{Normalizer, Stream};
use cells::{Cell, Kind};
use plan::{Envelope, Plan};

/// How many headers' plans are kept (an archive file has one header; a batch spans a few).
const PLANS: usize = 16;

/// Writes ECS documents of archive lines with a normalizer's options; keep one per sink (it
/// keeps the plans of the headers it has seen).
pub struct LineEncoder {
    n: Normalizer,
    plans: Vec<Plan>,
    /// The current line's field values, by column.
    cells: Vec<Option<Cell>>,
    /// The current line's field names, as byte ranges of the line (kept to reuse its memory).
    keys: Vec<(usize, usize)>,
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
            keys: Vec::new(),
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
        let source = ArchiveLine::text(l.source)?
            .plain()
            .filter(|s| !s.is_empty())?;
        let object = source != "EventLogFile";
        let kind = match object {
            true => source,
            false => ArchiveLine::text(l.event_type)?
                .plain()
                .filter(|k| !k.is_empty())?,
        };
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
        let p = self.plan_for(line, &l, kind, object)?;
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
    fn plan_for(&mut self, line: &str, l: &ArchiveLine, kind: &str, object: bool) -> Option<usize> {
        let base = line.as_ptr() as usize;
        let span = |s: &str| {
            let at = s.as_ptr() as usize - base;
            (at, at + s.len())
        };
        self.keys.clear();
        self.cells.clear();
        let mut members = l.field_members()?;
        for (k, v) in members.by_ref() {
            let k = k.ok()?;
            self.keys.push(span(k.raw));
            self.cells.push(cell(k, v, object, &span)?);
        }
        if members.broken {
            return None;
        }
        let keys = &self.keys;
        let same = |p: &Plan| {
            p.object == object
                && p.kind == kind
                && p.keys.len() == keys.len()
                && p.keys.iter().zip(keys).all(|(a, &(x, y))| *a == line[x..y])
        };
        if let Some(i) = self.plans.iter().position(same) {
            return Some(i);
        }
        let names: Vec<String> = keys.iter().map(|&(x, y)| line[x..y].to_string()).collect();
        if (1..names.len()).any(|i| names[..i].contains(&names[i])) {
            return None; // a key twice: the tree keeps the last value
        }
        let env = Envelope {
            namespace: &self.n.opts.namespace,
            instance_url: &self.n.opts.instance_url,
            tags: &self.n.opts.tags,
        };
        let provider = match object {
            true => crate::event::Provider::Object,
            false => crate::event::Provider::EventLogFile,
        };
        let plan = match Stream::of(provider, kind) {
            Stream::Generic(dataset) => Plan::new(kind, &dataset, names, &env, object)?,
            // The integration's objects and alerts: the tree path.
            _ if object => return None,
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

/// One field's cell: a string, or (objects only) a number or boolean; `None` in the outer
/// option declines the line (the tree path takes it): a relationship field's object or a list
/// in a record, or anything but a string in an EventLogFile row.
fn cell(
    key: Str,
    v: Val,
    object: bool,
    span: &dyn Fn(&str) -> (usize, usize),
) -> Option<Option<Cell>> {
    let (start, end) = span(match v {
        Val::Str(s) => s.raw,
        Val::Other(t) => t,
    });
    let kind = match v {
        Val::Str(s) => Kind::Str(s.escaped),
        Val::Other(_) if !object => return None,
        Val::Other("null") => return Some(None),
        // The API's record envelope: the mapping leaves it out.
        Val::Other(t) if t.starts_with(['{', '[']) => {
            return (key.raw == "attributes").then_some(None);
        }
        Val::Other(_) => Kind::Other,
    };
    Some(Some(Cell { start, end, kind }))
}
