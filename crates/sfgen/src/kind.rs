//! How a generated column's value is produced: the leaf `columns` and the security types
//! both describe their columns with.

/// How a column's value is produced.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    EventType,
    Timestamp,
    TimestampDerived,
    /// Epoch milliseconds of the event, minus up to `max_back` ms.
    EpochMs {
        max_back: u32,
    },
    RequestId,
    OrgId,
    UserId,
    UserIdDerived,
    UserName,
    ClientIp,
    /// Another IP (never `Salesforce.com IP`).
    PlainIp,
    SessionKey,
    LoginKey,
    /// The row's URI (templates are per event type).
    Uri,
    UriIdDerived,
    ApiVersion,
    UserAgent,
    Query,
    EntityName,
    ErrorText,
    /// A uniformly chosen literal (duplicates weight).
    Pick(&'static [&'static str]),
    /// A uniformly chosen template: `{001}` is a record id with that prefix, `{org}` the
    /// org's domain slug.
    Template(&'static [&'static str]),
    /// Uniform integer in `[lo, hi]`.
    Num(u64, u64),
    /// Integer in `[lo, hi]`, small values much more common.
    Skewed(u64, u64),
    /// `1`/`0`, true with the given per-mille.
    Bool01(u32),
    /// `true`/`false`, true with the given per-mille.
    BoolTf(u32),
    /// The row's record as a 15-character id with this prefix (consistent within a row).
    RecId(&'static str),
    /// The row's record as an 18-character id.
    RecIdDerived(&'static str),
    /// A random 15-character id with this prefix, empty with the given per-mille.
    RandId(&'static str, u32),
    /// A random 18-character id with this prefix, empty with the given per-mille.
    RandId18(&'static str, u32),
    /// A random UUID.
    Uuid,
}

impl Kind {
    /// Whether a value of this kind can contain a double quote.
    pub(crate) fn may_quote(&self, event_type: &str) -> bool {
        match self {
            Kind::EventType => event_type.contains('"'),
            Kind::Pick(items) | Kind::Template(items) => items.iter().any(|i| i.contains('"')),
            Kind::Query | Kind::EntityName | Kind::ErrorText | Kind::UserAgent | Kind::UserName => {
                true
            }
            _ => false,
        }
    }

    /// The name in `LogFileFieldTypes`.
    pub(crate) fn field_type(&self) -> &'static str {
        match self {
            Kind::TimestampDerived => "DateTime",
            Kind::OrgId
            | Kind::UserId
            | Kind::UserIdDerived
            | Kind::UriIdDerived
            | Kind::RecId(_)
            | Kind::RecIdDerived(_)
            | Kind::RandId(..)
            | Kind::RandId18(..) => "Id",
            Kind::EpochMs { .. } | Kind::Num(..) | Kind::Skewed(..) | Kind::ApiVersion => "Number",
            Kind::Bool01(_) | Kind::BoolTf(_) => "Boolean",
            Kind::EntityName => "Set",
            _ => "String",
        }
    }
}
