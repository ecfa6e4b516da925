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

pub(super) const LOGIN_AS_EVENT: &[(&str, FieldType)] = &[
    ("Application", S),
    ("Browser", S),
    ("DelegatedOrganizationId", S),
    ("DelegatedUsername", S),
    ("EvaluationTime", D),
    ("LoginAsCategory", P),
    ("LoginHistoryId", R),
    ("LoginType", P),
    ("Platform", S),
    ("PolicyId", R),
    ("PolicyOutcome", P),
    ("RelatedEventIdentifier", S),
    ("TargetUrl", S),
    ("UserType", P),
];

pub(super) const FILE_EVENT_STORE: &[(&str, FieldType)] = &[
    ("CanDownloadPdf", B),
    ("ContentSize", N),
    ("DocumentId", R),
    ("EvaluationTime", D),
    ("FileAction", S),
    ("FileName", S),
    ("FileSource", S),
    ("FileType", S),
    ("IsLatestVersion", B),
    ("PolicyId", R),
    ("PolicyOutcome", P),
    ("ProcessDuration", D),
    ("RelatedEventIdentifier", S),
    ("UserType", P),
    ("VersionId", R),
];

/// Fields every Threat Detection store has, first (standard objects, not big objects: their
/// Id is a real record id and every field filters).
pub(super) const THREAT_HEAD: &[(&str, FieldType)] = &[
    ("Id", I),
    ("CreatedDate", Dt),
    ("EventDate", Dt),
    ("EventIdentifier", S),
    ("UserId", R),
    ("Username", S),
    ("SessionKey", S),
    ("LoginKey", S),
    ("SourceIp", S),
    ("Score", D),
    ("Summary", S),
    ("SecurityEventData", S),
    ("EvaluationTime", D),
    ("PolicyId", R),
    ("PolicyOutcome", P),
];

pub(super) const API_ANOMALY_EVENT_STORE: &[(&str, FieldType)] = &[
    ("ApiAnomalyEventNumber", S),
    ("Operation", S),
    ("QueriedEntities", S),
    ("RequestIdentifier", S),
    ("RowsProcessed", D),
    ("Uri", S),
    ("UserAgent", S),
];

pub(super) const CREDENTIAL_STUFFING_EVENT_STORE: &[(&str, FieldType)] = &[
    ("CredentialStuffingEventNumber", S),
    ("AcceptLanguage", S),
    ("LoginType", P),
    ("LoginUrl", S),
    ("UserAgent", S),
];

pub(super) const REPORT_ANOMALY_EVENT_STORE: &[(&str, FieldType)] =
    &[("ReportAnomalyEventNumber", S), ("Report", R)];

pub(super) const SESSION_HIJACKING_EVENT_STORE: &[(&str, FieldType)] = &[
    ("SessionHijackingEventNumber", S),
    ("CurrentIp", S),
    ("CurrentPlatform", S),
    ("CurrentScreen", S),
    ("CurrentUserAgent", S),
    ("CurrentWindow", S),
    ("PreviousIp", S),
    ("PreviousPlatform", S),
    ("PreviousScreen", S),
    ("PreviousUserAgent", S),
    ("PreviousWindow", S),
];

/// Transaction Security fields Salesforce puts on every RTEM event but the generator's
/// ApiEvent and ReportEvent lacked. An org with scenarios has them (appended, null unless a
/// policy acted); one without keeps the schema it always had.
pub(crate) fn policy_fields(object: &str) -> &'static [(&'static str, FieldType)] {
    match object {
        "ApiEvent" => &[("EvaluationTime", D), ("PolicyId", R), ("PolicyOutcome", P)],
        "ReportEvent" => &[("PolicyId", R), ("PolicyOutcome", P)],
        _ => &[],
    }
}

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
        "LoginAsEvent" => LOGIN_AS_EVENT,
        "FileEventStore" => FILE_EVENT_STORE,
        _ => return None,
    })
}

/// The field names and types of an object (canonical name), in schema order.
pub(super) fn field_list(object: &str) -> Option<Vec<(&'static str, FieldType)>> {
    match object {
        "SetupAuditTrail" => Some(SETUP_AUDIT_TRAIL.to_vec()),
        "LoginHistory" => Some(LOGIN_HISTORY.to_vec()),
        o if THREAT_OBJECTS.contains(&o) => {
            let rest = match o {
                "ApiAnomalyEventStore" => API_ANOMALY_EVENT_STORE,
                "CredentialStuffingEventStore" => CREDENTIAL_STUFFING_EVENT_STORE,
                "ReportAnomalyEventStore" => REPORT_ANOMALY_EVENT_STORE,
                _ => SESSION_HIJACKING_EVENT_STORE,
            };
            let mut v = THREAT_HEAD.to_vec();
            v.extend_from_slice(rest);
            Some(v)
        }
        o => {
            let rest = specific_fields(o)?;
            let mut v = RTEM_HEAD.to_vec();
            v.extend_from_slice(rest);
            Some(v)
        }
    }
}

/// The canonical name of one of [`OBJECTS`] or [`SCENARIO_OBJECTS`], named in any case.
pub(crate) fn canonical(object: &str) -> Option<&'static str> {
    all_objects().find(|o| o.eq_ignore_ascii_case(object))
}

/// The schema of one of [`OBJECTS`] or [`SCENARIO_OBJECTS`], named in any case, as an org
/// without scenarios shows it.
pub(crate) fn schema(object: &str) -> Option<ObjectSchema> {
    schema_with(object, false)
}

/// The schema of an object; `policy` adds [`policy_fields`] (an org with scenarios).
pub(crate) fn schema_with(object: &str, policy: bool) -> Option<ObjectSchema> {
    let name = canonical(object)?;
    let mut list = field_list(name)?;
    if policy {
        list.extend_from_slice(policy_fields(name));
    }
    let fields: Vec<FieldDef> = list
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
        o if THREAT_OBJECTS.contains(&o) => (threat_prefix(o), None),
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
                "LoginAsEvent" => "0Yr",
                "FileEventStore" => "0Fe",
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

/// The Threat Detection stores (standard objects).
pub(crate) const THREAT_OBJECTS: &[&str] = &[
    "ApiAnomalyEventStore",
    "CredentialStuffingEventStore",
    "ReportAnomalyEventStore",
    "SessionHijackingEventStore",
];

/// Illustrative key prefixes of the Threat Detection stores (their records carry ids with
/// them).
pub(crate) fn threat_prefix(object: &str) -> &'static str {
    match object {
        "ApiAnomalyEventStore" => "0Aa",
        "CredentialStuffingEventStore" => "0Cs",
        "ReportAnomalyEventStore" => "0Ra",
        _ => "0Sh",
    }
}
