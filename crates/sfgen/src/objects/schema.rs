//! The objects' fields: what describe answers and what each record holds.

use super::*;

use FieldType::{
    Boolean as B, DateTime as Dt, Double as D, Id as I, Int as N, Picklist as P, Reference as R,
    String as S,
};

/// Fields every RTEM object has, first.
pub(super) const RTEM_HEAD: &[(&str, FieldType)] = &[
    ("Id", I),
    ("CreatedDate", Dt),
    ("EventDate", Dt),
    ("EventIdentifier", S),
    ("UserId", R),
    ("Username", S),
    ("SessionKey", S),
    ("LoginKey", S),
    ("SessionLevel", P),
    ("SourceIp", S),
];

pub(super) const LOGIN_EVENT: &[(&str, FieldType)] = &[
    ("AdditionalInfo", S),
    ("ApiType", S),
    ("ApiVersion", S),
    ("Application", S),
    ("AuthMethodReference", S),
    ("AuthServiceId", R),
    ("Browser", S),
    ("CipherSuite", P),
    ("City", S),
    ("ClientVersion", S),
    ("Country", S),
    ("CountryIso", S),
    ("EvaluationTime", D),
    ("ForwardedForIp", S),
    ("HttpMethod", P),
    ("LoginGeoId", R),
    ("LoginHistoryId", R),
    ("LoginLatitude", D),
    ("LoginLongitude", D),
    ("LoginSubType", P),
    ("LoginType", P),
    ("LoginUrl", S),
    ("Platform", S),
    ("PolicyId", R),
    ("PolicyOutcome", P),
    ("PostalCode", S),
    ("RelatedEventIdentifier", S),
    ("Status", S),
    ("Subdivision", S),
    ("TlsProtocol", P),
    ("UserType", P),
];

pub(super) const LOGOUT_EVENT: &[(&str, FieldType)] = &[
    ("ApiType", S),
    ("RelatedEventIdentifier", S),
    ("SessionType", P),
    ("UserType", P),
];

pub(super) const API_EVENT: &[(&str, FieldType)] = &[
    ("AdditionalInfo", S),
    ("ApiType", S),
    ("ApiVersion", D),
    ("Application", S),
    ("Client", S),
    ("ElapsedTime", N),
    ("LoginHistoryId", R),
    ("Operation", S),
    ("Platform", S),
    ("QueriedEntities", S),
    ("Query", S),
    ("RowsProcessed", D),
    ("UserAgent", S),
];

pub(super) const REPORT_EVENT: &[(&str, FieldType)] = &[
    ("ColumnHeaders", S),
    ("EvaluationTime", D),
    ("ExecutionIdentifier", S),
    ("Format", P),
    ("IsScheduled", B),
    ("Name", S),
    ("Operation", S),
    ("QueriedEntities", S),
    ("ReportId", R),
    ("RowsProcessed", D),
    ("Sequence", N),
];

pub(super) const LIST_VIEW_EVENT: &[(&str, FieldType)] = &[
    ("AppName", S),
    ("ColumnHeaders", S),
    ("EventSource", P),
    ("ListViewId", R),
    ("Name", S),
    ("OrderBy", S),
    ("OwnerId", R),
    ("QueriedEntities", S),
    ("RowsProcessed", D),
    ("Scope", S),
];

pub(super) const LIGHTNING_URI_EVENT: &[(&str, FieldType)] = &[
    ("AppName", S),
    ("Duration", D),
    ("EffectivePageTime", D),
    ("Operation", P),
    ("PageUrl", S),
    ("PreviousPageUrl", S),
    ("QueriedEntities", S),
    ("RecordId", R),
    ("UserType", P),
];

pub(super) const URI_EVENT: &[(&str, FieldType)] = &[
    ("Operation", P),
    ("QueriedEntities", S),
    ("RecordId", R),
    ("Referrer", S),
    ("Uri", S),
    ("UserType", P),
];

pub(super) const IDENTITY_VERIFICATION_EVENT: &[(&str, FieldType)] = &[
    ("Activity", P),
    ("LoginHistoryId", R),
    ("Remarks", S),
    ("Status", P),
    ("VerificationMethod", P),
];

pub(super) const SETUP_AUDIT_TRAIL: &[(&str, FieldType)] = &[
    ("Id", I),
    ("Action", S),
    ("Section", S),
    ("CreatedDate", Dt),
    ("CreatedById", R),
    ("Display", S),
    ("DelegateUser", S),
    ("ResponsibleNamespacePrefix", S),
    ("CreatedByContext", S),
    ("CreatedByIssuer", S),
];

pub(super) const LOGIN_HISTORY: &[(&str, FieldType)] = &[
    ("Id", I),
    ("UserId", R),
    ("LoginTime", Dt),
    ("LoginType", P),
    ("SourceIp", S),
    ("LoginUrl", S),
    ("AuthenticationServiceId", R),
    ("LoginGeoId", R),
    ("TlsProtocol", P),
    ("CipherSuite", P),
    ("OptionsIsGet", B),
    ("OptionsIsPost", B),
    ("Browser", S),
    ("Platform", S),
    ("Status", S),
    ("Application", S),
    ("ClientVersion", S),
    ("ApiType", S),
    ("ApiVersion", S),
    ("CountryIso", S),
    ("AuthMethodReference", S),
    ("LoginSubType", P),
    ("ForwardedForIp", S),
    ("NetworkId", R),
];

/// LoginHistory fields that may be filtered on (the rest answer INVALID_FIELD).
pub(super) const LOGIN_HISTORY_FILTERABLE: &[&str] = &[
    "AuthenticationServiceId",
    "CipherSuite",
    "CountryIso",
    "Id",
    "LoginTime",
    "LoginType",
    "LoginUrl",
    "NetworkId",
    "TlsProtocol",
    "UserId",
];

pub(super) fn specific_fields(object: &str) -> Option<&'static [(&'static str, FieldType)]> {
    Some(match object {
        "LoginEvent" => LOGIN_EVENT,
        "LogoutEvent" => LOGOUT_EVENT,
        "ApiEvent" => API_EVENT,
        "ReportEvent" => REPORT_EVENT,
        "ListViewEvent" => LIST_VIEW_EVENT,
        "LightningUriEvent" => LIGHTNING_URI_EVENT,
        "UriEvent" => URI_EVENT,
        "IdentityVerificationEvent" => IDENTITY_VERIFICATION_EVENT,
        _ => return None,
    })
}

/// The field names and types of an object (canonical name), in schema order.
pub(super) fn field_list(object: &str) -> Option<Vec<(&'static str, FieldType)>> {
    match object {
        "SetupAuditTrail" => Some(SETUP_AUDIT_TRAIL.to_vec()),
        "LoginHistory" => Some(LOGIN_HISTORY.to_vec()),
        o => {
            let rest = specific_fields(o)?;
            let mut v = RTEM_HEAD.to_vec();
            v.extend_from_slice(rest);
            Some(v)
        }
    }
}

/// The canonical name of one of [`OBJECTS`], named in any case.
pub(crate) fn canonical(object: &str) -> Option<&'static str> {
    OBJECTS
        .iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(object))
}

/// The schema of one of [`OBJECTS`], named in any case.
pub(crate) fn schema(object: &str) -> Option<ObjectSchema> {
    let name = canonical(object)?;
    let fields: Vec<FieldDef> = field_list(name)?
        .into_iter()
        .map(|(n, t)| {
            let mut f = FieldDef::new(n, t);
            match name {
                "LoginHistory" => f.filterable = LOGIN_HISTORY_FILTERABLE.contains(&n),
                "SetupAuditTrail" if n == "CreatedById" => {
                    f.relationship = Some(("CreatedBy".to_string(), "User".to_string()));
                }
                _ => {}
            }
            f
        })
        .collect();
    let (prefix, big_object) = match name {
        "SetupAuditTrail" => ("0Ym", None),
        "LoginHistory" => ("0Ya", None),
        _ => (
            // Illustrative key prefixes (describe shows one; records carry the synthetic
            // BIG_OBJECT_ID, never an id with this prefix).
            match name {
                "LoginEvent" => "0Yp",
                "LogoutEvent" => "0Y0",
                "ApiEvent" => "0D6",
                "ReportEvent" => "0Rv",
                "ListViewEvent" => "0X4",
                "LightningUriEvent" => "0Yn",
                "UriEvent" => "0Yz",
                _ => "0ON",
            },
            Some(BigObjectRules {
                index: vec!["EventDate".to_string(), "EventIdentifier".to_string()],
            }),
        ),
    };
    Some(ObjectSchema {
        name: name.to_string(),
        key_prefix: prefix.to_string(),
        fields,
        big_object,
    })
}
