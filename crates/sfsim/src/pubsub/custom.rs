//! A custom platform event, `/event/Order_Shipped__e`: what an org's own code publishes, beside
//! the Real-Time Event Monitoring streams. It has no storage object and no EventIdentifier:
//! a subscriber tells its events apart by the bus's EventUuid alone.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use soql::{FieldDef, FieldType, ObjectSchema, Record, Value};

use sfgen::{ObjectRecord, Org};

/// The event's API name.
pub const EVENT: &str = "Order_Shipped__e";
/// One event about every this many minutes, from the org's first day to six hours past its
/// anchor (as the generated objects do).
const EVERY_MINUTES: i64 = 20;

fn field(name: &str, ftype: FieldType) -> FieldDef {
    FieldDef {
        name: name.to_string(),
        ftype,
        standard: !name.ends_with("__c"),
        filterable: false,
        sortable: false,
        relationship: None,
    }
}

/// The event's fields, as Setup would define them: the standard ones a platform event has
/// and three custom fields.
pub fn schema() -> ObjectSchema {
    ObjectSchema {
        name: EVENT.to_string(),
        key_prefix: "e00".to_string(),
        fields: vec![
            field("CreatedDate", FieldType::DateTime),
            field("CreatedById", FieldType::Id),
            field("Order_Number__c", FieldType::String),
            field("Amount__c", FieldType::Double),
            field("Carrier__c", FieldType::String),
        ],
        big_object: None,
    }
}

/// The org's events, in publish order; the same for the same seed.
pub fn events(org: &Org) -> Vec<ObjectRecord> {
    let spec = &org.spec;
    let start = spec.anchor - Duration::days(i64::from(spec.days));
    let end = spec.anchor + Duration::hours(6);
    let user = org
        .users
        .first()
        .map_or("005000000000000AAA", |u| u.id.as_str());
    let mut out = Vec::new();
    let mut t = start;
    let mut n = 0u64;
    while t < end {
        let h = Sha256::digest(format!("{}/{EVENT}/{n}", spec.seed).as_bytes());
        let at: DateTime<Utc> = t + Duration::seconds(i64::from(h[0]) % 300);
        let carrier = ["UPS", "FedEx", "DHL"][h[1] as usize % 3];
        let record = Record::new(EVENT, None)
            .with("CreatedDate", Value::DateTime(at))
            .with("CreatedById", Value::String(user.to_string()))
            .with(
                "Order_Number__c",
                Value::String(format!("ORD-{:06}", 100_000 + n)),
            )
            .with(
                "Amount__c",
                Value::Double(f64::from(u16::from_be_bytes([h[2], h[3]])) / 100.0),
            )
            .with("Carrier__c", Value::String(carrier.to_string()));
        out.push(ObjectRecord {
            record,
            visible_at: at,
        });
        t += Duration::minutes(EVERY_MINUTES);
        n += 1;
    }
    out
}
