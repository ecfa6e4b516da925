//! The org's streaming topics: one per Real-Time Event Monitoring storage object, whose
//! events are that object's records (same field values), published at each record's
//! `CreatedDate`, and the opaque replay ids that mark positions in them.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use apache_avro::Schema;
use chrono::{DateTime, Utc};
use sfgen::Org;
use sha2::{Digest, Sha256};
use soql::Value;

use super::schemas::{self, StreamField};

/// Storage object → streaming event, as Salesforce pairs them: beta-era objects stream as
/// `<Object>Stream`, the later `…Store` objects as the name without `Store`. Storage-only
/// objects (IdentityVerificationEvent) have no stream.
pub fn stream_event(object: &str) -> Option<String> {
    match object {
        "LoginEvent" | "LogoutEvent" | "ApiEvent" | "ReportEvent" | "ListViewEvent"
        | "LightningUriEvent" | "UriEvent" | "LoginAsEvent" => Some(format!("{object}Stream")),
        "FileEventStore"
        | "ApiAnomalyEventStore"
        | "CredentialStuffingEventStore"
        | "ReportAnomalyEventStore"
        | "SessionHijackingEventStore" => object.strip_suffix("Store").map(str::to_string),
        _ => None,
    }
}

/// One event of a topic: where its record is and when it is published.
#[derive(Debug, Clone, Copy)]
pub struct EventRef {
    /// Publish time: the record's `CreatedDate` (its storage time), so the stream and the
    /// storage object hold the same events at every instant of the simulator's clock.
    pub at: DateTime<Utc>,
    /// The replay id's numeric value (see [`encode_replay`]).
    pub replay: u64,
    /// Index into the topic's records.
    pub record: usize,
}

/// A topic and everything needed to serve it.
pub struct Topic {
    /// `/event/LoginEventStream`.
    pub name: String,
    /// `LoginEventStream`.
    pub event: String,
    /// The storage object whose records are the events (`LoginEvent`), or the event itself
    /// when it has none (a custom platform event).
    pub object: String,
    /// The records of a custom platform event (none for a storage object's stream).
    custom: Option<Vec<sfgen::ObjectRecord>>,
    pub fields: Vec<StreamField>,
    pub schema: Schema,
    pub schema_json: String,
    pub schema_id: String,
    org: Arc<Org>,
    /// Built on first use: a sim whose Pub/Sub API is never called pays nothing.
    events: OnceLock<Vec<EventRef>>,
}

impl Topic {
    fn new(org: Arc<Org>, object: &'static str, event: String) -> anyhow::Result<Self> {
        let object_schema = org
            .schema(object)
            .ok_or_else(|| anyhow::anyhow!("no schema for {object}"))?;
        Self::with_schema(org, &object_schema, object.to_string(), event, None)
    }

    /// The custom platform event of [`super::custom`].
    fn custom(org: Arc<Org>) -> anyhow::Result<Self> {
        let records = super::custom::events(&org);
        let event = super::custom::EVENT.to_string();
        Self::with_schema(
            org,
            &super::custom::schema(),
            event.clone(),
            event,
            Some(records),
        )
    }

    fn with_schema(
        org: Arc<Org>,
        object_schema: &soql::ObjectSchema,
        object: String,
        event: String,
        custom: Option<Vec<sfgen::ObjectRecord>>,
    ) -> anyhow::Result<Self> {
        let fields = schemas::stream_fields(object_schema);
        let schema_json = schemas::schema_json(&event, &fields);
        let schema = Schema::parse_str(&schema_json)?;
        Ok(Topic {
            name: format!("/event/{event}"),
            schema_id: schemas::schema_id(&schema_json),
            event,
            object,
            custom,
            fields,
            schema,
            schema_json,
            org,
            events: OnceLock::new(),
        })
    }

    /// The records the events are made of.
    fn records(&self) -> &[sfgen::ObjectRecord] {
        match &self.custom {
            Some(r) => r,
            None => self.org.object_records(&self.object),
        }
    }

    /// Every event ever published or to be published, in publish order.
    pub fn events(&self) -> &[EventRef] {
        self.events.get_or_init(|| build_events(self.records()))
    }

    /// How many events are published at `now` (the index of the first unpublished one).
    pub fn published(&self, now: DateTime<Utc>) -> usize {
        self.events().partition_point(|e| e.at <= now)
    }

    /// The index of the first event still retained at `now`.
    pub fn first_retained(&self, now: DateTime<Utc>, retention: chrono::Duration) -> usize {
        let cutoff = now - retention;
        self.events().partition_point(|e| e.at < cutoff)
    }

    /// The position after every event whose replay value is at most `replay`: where a
    /// CUSTOM subscription with that id resumes.
    pub fn position_after(&self, replay: u64) -> usize {
        self.events().partition_point(|e| e.replay <= replay)
    }

    /// The replay id of the position `pos` (the id of the event before it; the topic's
    /// start has a value below every event's).
    pub fn replay_at(&self, pos: usize) -> Vec<u8> {
        let v = pos
            .checked_sub(1)
            .and_then(|i| self.events().get(i))
            .map_or(START_REPLAY, |e| e.replay);
        encode_replay(v)
    }

    /// The storage record of an event.
    pub fn record(&self, e: &EventRef) -> Option<&soql::Record> {
        self.records().get(e.record).map(|r| &r.record)
    }

    /// The Avro payload and EventUuid of an event.
    pub fn payload(&self, e: &EventRef) -> anyhow::Result<(Vec<u8>, String)> {
        let rec = self
            .record(e)
            .ok_or_else(|| anyhow::anyhow!("event record {} missing", e.record))?;
        // A custom platform event has no EventIdentifier: its replay value is its identity.
        let ident = match rec.get("EventIdentifier").and_then(Value::as_str) {
            Some(i) => i.to_string(),
            None => e.replay.to_string(),
        };
        let uuid = schemas::event_uuid(&self.name, &ident);
        let bytes = schemas::encode(&self.schema, &self.fields, rec, &uuid)?;
        Ok((bytes, uuid))
    }
}

/// The replay value of the position before the first event.
const START_REPLAY: u64 = 7;

/// Replay ids are 8 bytes, big-endian: opaque to clients, and deliberately not contiguous
/// (each event's value is 16 × (index + 1) plus 1–15 drawn from its identity), so a client
/// that computes ids instead of storing them fails here as it would against Salesforce.
pub fn encode_replay(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// The value of a replay id, if it has the shape this server issues.
pub fn decode_replay(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.try_into().ok()?))
}

fn build_events(records: &[sfgen::ObjectRecord]) -> Vec<EventRef> {
    // A record without EventIdentifier (a custom platform event) is its own identity.
    let ident = |i: usize| -> String {
        match records[i]
            .record
            .get("EventIdentifier")
            .and_then(Value::as_str)
        {
            Some(id) => id.to_string(),
            None => format!("#{i}"),
        }
    };
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| {
        (records[a].visible_at, ident(a)).cmp(&(records[b].visible_at, ident(b)))
    });
    // A record stored twice (same EventIdentifier) is one event on the bus: the duplicate is
    // a storage artefact.
    let mut seen = HashSet::new();
    order.retain(|&i| seen.insert(ident(i)));
    order
        .into_iter()
        .enumerate()
        .map(|(n, i)| {
            let jitter = Sha256::digest(ident(i).as_bytes())[0] as u64 % 15 + 1;
            EventRef {
                at: records[i].visible_at,
                replay: 16 * (n as u64 + 1) + jitter,
                record: i,
            }
        })
        .collect()
}

/// The topics of every streamable event object the org has records of.
pub fn build(org: &Arc<Org>) -> anyhow::Result<Vec<Arc<Topic>>> {
    let mut out = Vec::new();
    for object in org.objects() {
        let Some(event) = stream_event(object) else {
            continue;
        };
        out.push(Arc::new(Topic::new(org.clone(), object, event)?));
    }
    out.push(Arc::new(Topic::custom(org.clone())?));
    Ok(out)
}
