//! EventLogFile types the attack scenarios need beyond the common ones: LoginAs (an admin
//! logged in as another user), ContentTransfer (file downloads) and BulkApi (Bulk API 1.0
//! batches: exports and deletes). Headers are the fields of Salesforce's event-type pages in
//! the usual layout (common prefix, the type's own fields, the derived suffix); the order is
//! not confirmed from a real file, so readers must go by header name.
//!
//! [`crate::columns`] consults this module only for these type names, so every other type's
//! columns and values are untouched.

use crate::kind::Kind;

pub(crate) const HEADERS: &[(&str, &str)] = &[
    (
        "LoginAs",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DELEGATED_USER_ID,DELEGATED_USER_NAME,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED,DELEGATED_USER_ID_DERIVED",
    ),
    // No CLIENT_IP, SESSION_KEY or URI in this type's documented field set.
    (
        "ContentTransfer",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,TRANSACTION_TYPE,SIZE_BYTES,FILE_TYPE,FILE_PREVIEW_TYPE,DOCUMENT_ID,VERSION_ID,TIMESTAMP_DERIVED,USER_ID_DERIVED,DOCUMENT_ID_DERIVED,VERSION_ID_DERIVED",
    ),
    (
        "BulkApi",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,JOB_ID,BATCH_ID,ENTITY_TYPE,OPERATION_TYPE,ROWS_PROCESSED,NUMBER_FAILURES,MESSAGE,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
];

/// The header of one of these types (exact name or any case).
pub(crate) fn header(event_type: &str) -> Option<&'static str> {
    HEADERS
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(event_type))
        .map(|(_, h)| *h)
}

fn is_one(event_type: &str) -> bool {
    header(event_type).is_some()
}

/// How a column of these types is generated in background rows (when a spec lists the type).
pub(crate) fn kind(event_type: &str, col: &str) -> Option<Kind> {
    use Kind::*;
    if !is_one(event_type) {
        return None;
    }
    Some(match col {
        "DELEGATED_USER_ID" => RandId("005", 0),
        "DELEGATED_USER_ID_DERIVED" => RandId18("005", 0),
        "DELEGATED_USER_NAME" => Template(&["admin@{org}.example.com"]),
        "TRANSACTION_TYPE" => Pick(&[
            "VersionDownloadAction",
            "VersionDownloadApi",
            "VersionRenditionDownload",
            "VersionRenditionDownload",
            "saveVersion",
        ]),
        "SIZE_BYTES" => Skewed(1_000, 50_000_000),
        "FILE_TYPE" => Pick(&["PDF", "PDF", "WORD_X", "EXCEL_X", "PNG", "CSV"]),
        "FILE_PREVIEW_TYPE" => Pick(&["", "THUMB120BY90", "SVGZ", "ORIGINAL_Pdf"]),
        "DOCUMENT_ID" => RecId("069"),
        "DOCUMENT_ID_DERIVED" => RecIdDerived("069"),
        "VERSION_ID" => RandId("068", 0),
        "VERSION_ID_DERIVED" => RandId18("068", 0),
        "ENTITY_TYPE" => Pick(&["Account", "Contact", "Lead", "Opportunity", "Case"]),
        "OPERATION_TYPE" => Pick(&["insert", "update", "upsert", "query", "delete"]),
        "NUMBER_FAILURES" => Skewed(0, 50),
        "JOB_ID" => RandId("750", 0),
        "BATCH_ID" => RandId("751", 0),
        "ROWS_PROCESSED" => Skewed(0, 10_000),
        _ => return None,
    })
}

/// URI templates of these types.
pub(crate) fn uri_templates(event_type: &str) -> Option<&'static [&'static str]> {
    Some(match event_type {
        "LoginAs" => &["/servlet/servlet.su"],
        "BulkApi" => &[
            "/services/async/64.0/job/{750}/batch",
            "/services/async/64.0/job/{750}/batch/{751}/result",
        ],
        "ContentTransfer" => &["/sfc/servlet.shepherd/version/download/{068}"],
        _ => return None,
    })
}

/// Whether most of a type's rows come from the API integration user.
pub(crate) fn api_heavy(event_type: &str) -> bool {
    event_type == "BulkApi"
}

/// The event types of this module's table.
pub(crate) fn types() -> Vec<&'static str> {
    HEADERS.iter().map(|(t, _)| *t).collect()
}
