//! The `setupaudittrail` data stream: `SetupAuditTrail` records, mapped as the integration's
//! `setupaudittrail` pipeline does. The acting user's name is not a field of the record: the
//! pipeline cuts it out of `Display` ("For user X, ..."), and so does this.

use serde_json::json;

use crate::body::Body;
use crate::ingest::{self, Ctx};

pub(crate) fn map(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    ingest::date(b, r, "CreatedDate", "@timestamp");
    ingest::renames(
        b,
        r,
        &[
            (
                "CreatedByContext",
                "salesforce.setup_audit_trail.created_by_context",
            ),
            ("CreatedById", "salesforce.setup_audit_trail.created_by_id"),
            (
                "CreatedByIssuer",
                "salesforce.setup_audit_trail.created_by_issuer",
            ),
            ("DelegateUser", "salesforce.setup_audit_trail.delegate_user"),
            ("Display", "salesforce.setup_audit_trail.display"),
            (
                "ResponsibleNamespacePrefix",
                "salesforce.setup_audit_trail.responsible_namespace_prefix",
            ),
            ("Section", "salesforce.setup_audit_trail.section"),
            ("Id", "event.id"),
            ("Action", "event.action"),
        ],
    );
    ingest::date(b, r, "CreatedDate", "event.created");
    ingest::set_all(
        b,
        &[
            ("event.type", json!(["admin"])),
            ("event.kind", json!("event")),
            ("event.dataset", json!("salesforce.setupaudittrail")),
            ("event.module", json!("salesforce")),
        ],
    );
    if let Some(id) = b.get("salesforce.setup_audit_trail.created_by_id").cloned() {
        b.set("user.id", id);
    }
    let name = b
        .str("salesforce.setup_audit_trail.display")
        .and_then(user_from_display)
        .map(str::to_string);
    b.set_opt("user.name", name);
}

/// dissect `For user %{user.name}, %{?}`: the text between the prefix and the first `, `.
fn user_from_display(display: &str) -> Option<&str> {
    let rest = display.strip_prefix("For user ")?;
    rest.split_once(", ").map(|(user, _)| user)
}

#[cfg(test)]
mod tests {
    use super::user_from_display;

    #[test]
    fn display_dissect() {
        assert_eq!(
            user_from_display("For user a@b.c, the email changed"),
            Some("a@b.c")
        );
        assert_eq!(user_from_display("Changed the password policy"), None);
        assert_eq!(user_from_display("For user a@b.c only"), None);
    }
}
