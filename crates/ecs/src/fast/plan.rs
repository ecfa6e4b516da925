//! What the generic mapping makes of one EventLogFile header (or one object's field list),
//! worked out once per file: every field the document can have, in the document's (sorted)
//! order, and where its value comes from. Per event only the values are looked up.

use crate::convert;
use crate::generic;

/// Where a document field's value comes from.
#[derive(Debug, Clone)]
pub(super) enum Src {
    /// A value known in advance, as JSON.
    Const(String),
    /// `@timestamp`: TIMESTAMP_DERIVED, else TIMESTAMP, else the archive's.
    Timestamp,
    /// `event.outcome` from REQUEST_STATUS.
    Outcome,
    /// `event.created` from an object's CreatedDate.
    Created,
    /// `event.id`: an object's EventIdentifier, else its Id (but the storage objects' empty one).
    ObjectEventId,
    /// `salesforce.event_id`.
    EventId,
    /// `salesforce.org_id`.
    OrgId,
    /// The first of these columns that has text.
    First(Vec<usize>),
    /// `source.ip`.
    SourceIp,
    /// `http.request.method`.
    Method,
    /// The first of these columns that reads as an integer.
    Integer(Vec<usize>),
    /// `user_agent.original`.
    UserAgent,
    /// `related.ip`, `related.user`.
    RelatedIp,
    RelatedUser,
    /// A column under `salesforce.<dataset>`; `true` when it may become a number.
    Column(usize, bool),
}

/// One field of the document.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub path: Vec<String>,
    pub src: Src,
}

/// The columns the computed fields read, as indexes into the header.
#[derive(Debug, Clone, Default)]
pub(super) struct Cols {
    pub source_ip: Vec<usize>,
    pub method: Vec<usize>,
    pub user_agent: Vec<usize>,
    /// USER_ID's columns then USER_NAME's (`related.user`).
    pub users: Vec<usize>,
    pub timestamp_derived: Option<usize>,
    pub timestamp: Option<usize>,
    pub request_status: Option<usize>,
    /// Objects: CreatedDate, EventIdentifier, Id.
    pub created: Option<usize>,
    pub event_identifier: Option<usize>,
    pub record_id: Option<usize>,
    /// Objects: the columns the computed fields read as text. The tree path writes a number
    /// there as text, which this writer does not do: a record with one takes the tree path.
    pub texts: Vec<usize>,
}

/// A header's plan.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    /// An object record's plan (typed values, `event.provider` Object), not a CSV header's.
    pub object: bool,
    pub kind: String,
    pub keys: Vec<String>,
    pub data_stream: String,
    pub slots: Vec<Slot>,
    pub cols: Cols,
    /// For the integration's own data streams: their `agent` document (their `ecs` one takes
    /// the tree path).
    pub agent: Option<super::agent::AgentPlan>,
}

/// What the plan needs from the normalizer's options.
pub(super) struct Envelope<'a> {
    pub namespace: &'a str,
    pub instance_url: &'a str,
    pub tags: &'a [String],
}

fn path(p: &str) -> Vec<String> {
    p.split('.').map(str::to_string).collect()
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

impl Plan {
    /// The plan for `kind` rows with these `keys`; `None` when the dataset's name would collide
    /// with the envelope's own `salesforce.*` fields (the tree path handles that).
    pub(super) fn new(
        kind: &str,
        dataset: &str,
        keys: Vec<String>,
        env: &Envelope,
        object: bool,
    ) -> Option<Plan> {
        if ["event_id", "instance_url", "org_id"].contains(&dataset) {
            return None;
        }
        let find = |names: &[&str]| -> Vec<usize> {
            names
                .iter()
                .filter_map(|n| keys.iter().position(|k| k == n))
                .collect()
        };
        let full = format!("salesforce.{dataset}");
        let mut slots = fixed_slots(&full, env, &find, object)?;
        slots.extend(column_slots(dataset, &keys, object));
        slots.sort_by(|a, b| a.0.cmp(&b.0));
        let mut users = find(generic::USER_ID);
        users.extend(find(generic::USER_NAME));
        let one = |n: &str| keys.iter().position(|k| k == n);
        let object_col = |n: &str| one(n).filter(|_| object);
        let elf_col = |n: &str| one(n).filter(|_| !object);
        let mut texts = Vec::new();
        if object {
            for list in [
                generic::USER_ID,
                generic::USER_NAME,
                generic::URL,
                generic::USER_AGENT,
            ] {
                texts.extend(find(list));
            }
        }
        let cols = Cols {
            source_ip: find(generic::SOURCE_IP),
            method: find(generic::HTTP_METHOD),
            user_agent: find(generic::USER_AGENT),
            users,
            timestamp_derived: elf_col("TIMESTAMP_DERIVED"),
            timestamp: elf_col("TIMESTAMP"),
            request_status: elf_col("REQUEST_STATUS"),
            created: object_col("CreatedDate"),
            event_identifier: object_col("EventIdentifier"),
            record_id: object_col("Id"),
            texts,
        };
        Some(Plan {
            object,
            kind: kind.to_string(),
            data_stream: format!("logs-{full}-{}", env.namespace),
            keys,
            slots: slots
                .into_iter()
                .map(|(path, src)| Slot { path, src })
                .collect(),
            cols,
            agent: None,
        })
    }

    /// The plan of an integration data stream's rows: `agent` documents only.
    pub(super) fn for_agent(
        kind: &str,
        dataset: &str,
        keys: Vec<String>,
        env: &Envelope,
        tags: &[&str],
    ) -> Option<Plan> {
        let agent =
            super::agent::AgentPlan::new(dataset, &keys, env.namespace, env.instance_url, tags)?;
        Some(Plan {
            object: false,
            kind: kind.to_string(),
            data_stream: format!("logs-salesforce.{dataset}-{}", env.namespace),
            keys,
            slots: Vec::new(),
            cols: Cols::default(),
            agent: Some(agent),
        })
    }
}

type Slots = Vec<(Vec<String>, Src)>;

/// The envelope's and the computed ECS fields' slots (unsorted).
fn fixed_slots(
    full: &str,
    env: &Envelope,
    find: &dyn Fn(&[&str]) -> Vec<usize>,
    object: bool,
) -> Option<Slots> {
    let (provider, outcome) = match object {
        false => ("EventLogFile", Src::Outcome),
        true => ("Object", Src::ObjectEventId),
    };
    let mut slots = vec![
        (path("@timestamp"), Src::Timestamp),
        (path("data_stream.dataset"), Src::Const(json(full))),
        (
            path("data_stream.namespace"),
            Src::Const(json(env.namespace)),
        ),
        (path("data_stream.type"), Src::Const(json("logs"))),
        (path("ecs.version"), Src::Const(json("8.11.0"))),
        (path("event.dataset"), Src::Const(json(full))),
        (path("event.kind"), Src::Const(json("event"))),
        (path("event.module"), Src::Const(json("salesforce"))),
        // EventLogFile rows have an outcome, objects an id (the two paths never both apply).
        (
            path(if object { "event.id" } else { "event.outcome" }),
            outcome,
        ),
        (path("event.provider"), Src::Const(json(provider))),
        (
            path("http.request.bytes"),
            Src::Integer(find(generic::REQUEST_BYTES)),
        ),
        (path("http.request.method"), Src::Method),
        (
            path("http.response.bytes"),
            Src::Integer(find(generic::RESPONSE_BYTES)),
        ),
        (
            path("http.response.status_code"),
            Src::Integer(find(generic::STATUS_CODE)),
        ),
        (path("related.ip"), Src::RelatedIp),
        (path("related.user"), Src::RelatedUser),
        (path("salesforce.event_id"), Src::EventId),
        (path("salesforce.org_id"), Src::OrgId),
        (path("source.ip"), Src::SourceIp),
        (path("url.original"), Src::First(find(generic::URL))),
        (path("user.id"), Src::First(find(generic::USER_ID))),
        (path("user.name"), Src::First(find(generic::USER_NAME))),
        (path("user_agent.original"), Src::UserAgent),
    ];
    if object {
        slots.push((path("event.created"), Src::Created));
    }
    if !env.instance_url.is_empty() {
        slots.push((
            path("salesforce.instance_url"),
            Src::Const(json(env.instance_url)),
        ));
    }
    if !env.tags.is_empty() {
        let mut tags: Vec<&str> = Vec::new();
        for t in env.tags {
            if !tags.contains(&t.as_str()) {
                tags.push(t);
            }
        }
        slots.push((path("tags"), Src::Const(serde_json::to_string(&tags).ok()?)));
    }
    Some(slots)
}

/// One slot per column under `salesforce.<dataset>` (unsorted). Object values keep their
/// types; EventLogFile cells that read as numbers become numbers.
fn column_slots(dataset: &str, keys: &[String], object: bool) -> Slots {
    let mut slots = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let snake = convert::snake_case(k);
        // `attributes` is the API's envelope; of two names with the same snake_case form
        // the first is kept (the tree path's rules).
        if k == "attributes" || taken.contains(&snake) {
            continue;
        }
        let numeric = !object && !convert::is_text_column(&snake);
        let p = vec!["salesforce".to_string(), dataset.to_string(), snake.clone()];
        slots.push((p, Src::Column(i, numeric)));
        taken.push(snake);
    }
    slots
}
