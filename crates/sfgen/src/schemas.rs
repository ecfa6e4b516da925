//! The schemas describe and SOQL answer with: EventLogFile, Organization, User and the
//! event objects.

use super::*;

fn field(name: &str, ftype: FieldType) -> FieldDef {
    FieldDef::new(name, ftype)
}

/// Schemas of the objects the generator serves (EventLogFile, Organization, User and the
/// event objects of [`OBJECTS`] and [`SCENARIO_OBJECTS`]), named in any case, as an org
/// without scenarios shows them ([`Org::schema`] gives a given org's).
pub fn schema(object: &str) -> Option<ObjectSchema> {
    if let Some(s) = objects::schema(object) {
        return Some(s);
    }
    let (name, prefix, fields) = if object.eq_ignore_ascii_case("EventLogFile") {
        let mut created_by = field("CreatedById", FieldType::Reference);
        created_by.relationship = Some(("CreatedBy".to_string(), "User".to_string()));
        (
            "EventLogFile",
            "0AT",
            vec![
                field("Id", FieldType::Id),
                field("EventType", FieldType::Picklist),
                field("LogDate", FieldType::DateTime),
                field("Interval", FieldType::Picklist),
                field("Sequence", FieldType::Int),
                field("CreatedDate", FieldType::DateTime),
                field("LogFile", FieldType::Base64),
                field("LogFileLength", FieldType::Double),
                field("LogFileContentType", FieldType::String),
                field("LogFileFieldNames", FieldType::String),
                field("LogFileFieldTypes", FieldType::String),
                field("ApiVersion", FieldType::Double),
                created_by,
                field("LastModifiedDate", FieldType::DateTime),
                field("SystemModstamp", FieldType::DateTime),
                field("IsDeleted", FieldType::Boolean),
            ],
        )
    } else if object.eq_ignore_ascii_case("Organization") {
        (
            "Organization",
            "00D",
            vec![
                field("Id", FieldType::Id),
                field("Name", FieldType::String),
                field("InstanceName", FieldType::String),
                field("IsSandbox", FieldType::Boolean),
                field("TrialExpirationDate", FieldType::DateTime),
                field("NamespacePrefix", FieldType::String),
                field("OrganizationType", FieldType::Picklist),
            ],
        )
    } else if object.eq_ignore_ascii_case("User") {
        (
            "User",
            "005",
            vec![
                field("Id", FieldType::Id),
                field("Username", FieldType::String),
                field("Name", FieldType::String),
                field("IsActive", FieldType::Boolean),
            ],
        )
    } else {
        return None;
    };
    Some(ObjectSchema {
        name: name.to_string(),
        key_prefix: prefix.to_string(),
        fields,
        big_object: None,
    })
}
