//! `format = ocsf`: archive events as OCSF 1.1 documents, for Amazon Security Lake's custom
//! sources (one source per OCSF class) or any reader of OCSF. The mapping:
//!
//! | Salesforce | OCSF class | activity |
//! |---|---|---|
//! | ELF `Login`, `LoginAs`; `LoginEvent`, `LoginAsEvent` | Authentication (3002) | 1 Logon |
//! | ELF `Logout`; `LogoutEvent` | Authentication (3002) | 2 Logoff |
//! | `SetupAuditTrail`, user and password actions | Account Change (3001) | by action |
//! | `SetupAuditTrail`, other setup changes | Entity Management (3004) | 3 Update, by action |
//! | ELF `API`, `RestApi`, `BulkApi`, `BulkApi2`; `ApiEvent` | API Activity (6003) | by method |
//! | ELF `Report`, `URI`; `ReportEvent`, `ListViewEvent` | Web Resources Activity (6001) | 2 Read |
//! | ELF `ReportExport` | Web Resources Activity (6001) | 7 Export |
//!
//! Every document has `metadata.product` Salesforce, `metadata.version` 1.1.0, the event id as
//! `metadata.uid`, the org id as `cloud.account.uid`, and the Salesforce columns it did not map
//! under `unmapped` (as strings). Other sources have no OCSF class here and are not written.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_json::reader::{infer_json_schema_from_iterator, ReaderBuilder};
use arrow_schema::ArrowError;
use serde_json::{json, Map, Value};

/// An OCSF class this profile writes, each a Security Lake custom source of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Authentication,
    AccountChange,
    EntityManagement,
    ApiActivity,
    WebResourcesActivity,
}

impl Class {
    pub fn uid(self) -> u64 {
        match self {
            Class::Authentication => 3002,
            Class::AccountChange => 3001,
            Class::EntityManagement => 3004,
            Class::ApiActivity => 6003,
            Class::WebResourcesActivity => 6001,
        }
    }

    /// The custom source's name: `ext/<this>/` in Security Lake's layout.
    pub fn source_name(self) -> &'static str {
        match self {
            Class::Authentication => "salesforce-authentication",
            Class::AccountChange => "salesforce-account-change",
            Class::EntityManagement => "salesforce-entity-management",
            Class::ApiActivity => "salesforce-api-activity",
            Class::WebResourcesActivity => "salesforce-web-resources-activity",
        }
    }
}

/// An archive line's OCSF document and its class; `None` for a source with no class here.
pub fn document(line: &Value, time_ms: i64) -> Option<(Class, Value)> {
    let source = line["source"].as_str().unwrap_or_default();
    let kind = match source {
        "EventLogFile" => line["event_type"].as_str().unwrap_or_default(),
        other => other,
    };
    let mut d = Doc::new(line);
    let (class, activity) = match kind {
        "Login" | "LoginAs" | "LoginEvent" | "LoginAsEvent" => (d.authentication(1), 1),
        "Logout" | "LogoutEvent" => (d.authentication(2), 2),
        "SetupAuditTrail" => d.setup_audit_trail(),
        "API" | "RestApi" | "BulkApi" | "BulkApi2" | "ApiEvent" => d.api_activity(),
        "Report" | "URI" | "ReportEvent" | "ListViewEvent" => (d.web_resources(kind), 2),
        "ReportExport" => (d.web_resources(kind), 7),
        _ => return None,
    };
    Some((class, d.finish(class, activity, kind, time_ms)))
}

/// A document being made: the OCSF attributes so far, and the Salesforce columns not yet
/// mapped (what is left goes under `unmapped`).
struct Doc<'a> {
    line: &'a Value,
    out: Map<String, Value>,
    rest: Map<String, Value>,
}

impl<'a> Doc<'a> {
    fn new(line: &'a Value) -> Doc<'a> {
        let rest = line["fields"].as_object().cloned().unwrap_or_default();
        Doc {
            line,
            out: Map::new(),
            rest,
        }
    }

    /// The first of `names` the record has with a value, as a string; taken out of `rest`.
    fn take(&mut self, names: &[&str]) -> Option<String> {
        let mut found = None;
        for n in names {
            let v = self.rest.remove(*n);
            if found.is_none() {
                found = v.and_then(|v| text(&v));
            }
        }
        found
    }

    fn set(&mut self, key: &str, v: Value) {
        self.out.insert(key.to_string(), v);
    }

    /// `{uid, name}` of the user the record names; OCSF requires a user on some classes,
    /// so a record that names none gets `name: "unknown"`.
    fn user(&mut self, uid: &[&str], name: &[&str]) -> Value {
        let mut u = Map::new();
        if let Some(v) = self.take(uid) {
            u.insert("uid".into(), v.into());
        }
        if let Some(v) = self.take(name) {
            u.insert("name".into(), v.into());
        }
        if u.is_empty() {
            u.insert("name".into(), "unknown".into());
        }
        Value::Object(u)
    }

    /// The client's address; an endpoint whose address is not known is named `unknown`.
    fn src_endpoint(&mut self) -> Value {
        let mut e = Map::new();
        if let Some(ip) = self.take(&["CLIENT_IP", "SOURCE_IP", "SourceIp"]) {
            e.insert("ip".into(), ip.into());
        }
        let mut loc = Map::new();
        if let Some(c) = self.take(&["City"]) {
            loc.insert("city".into(), c.into());
        }
        if let Some(c) = self.take(&["CountryIso"]) {
            loc.insert("country".into(), c.into());
        }
        if !loc.is_empty() {
            e.insert("location".into(), Value::Object(loc));
        }
        if e.is_empty() {
            e.insert("name".into(), "unknown".into());
        }
        Value::Object(e)
    }

    fn authentication(&mut self, activity: u64) -> Class {
        let user = self.user(&["USER_ID", "UserId"], &["USER_NAME", "Username"]);
        self.set("user", user);
        let src = self.src_endpoint();
        self.set("src_endpoint", src);
        if activity == 1 {
            // ELF's LOGIN_STATUS is `LOGIN_NO_ERROR` or an error code; LoginEvent's Status is
            // `Success` or the failure's text.
            if let Some(s) = self.take(&["LOGIN_STATUS", "Status"]) {
                let ok = s == "LOGIN_NO_ERROR" || s == "Success";
                self.set("status_id", json!(if ok { 1 } else { 2 }));
                self.set("status", json!(if ok { "Success" } else { "Failure" }));
                self.set("status_detail", s.into());
            }
            if let Some(t) = self.take(&["LOGIN_TYPE", "LoginType"]) {
                let (id, name) = auth_protocol(&t);
                self.set("auth_protocol_id", json!(id));
                self.set("auth_protocol", name.unwrap_or(&t).into());
            }
        }
        if let Some(ua) = self.take(&["BROWSER_TYPE", "Browser", "USER_AGENT"]) {
            self.set("http_request", json!({ "user_agent": ua }));
        }
        if let Some(s) = self.take(&["SESSION_KEY", "SessionKey"]) {
            self.set("session", json!({ "uid": s }));
        }
        Class::Authentication
    }

    /// User and password actions are account changes, the rest changes to setup entities.
    fn setup_audit_trail(&mut self) -> (Class, u64) {
        let action = self.take(&["Action"]).unwrap_or_default();
        let section = self.take(&["Section"]);
        let display = self.take(&["Display"]);
        let actor = self.user(&["CreatedById"], &["CreatedByName", "CreatedBy.Username"]);
        self.set("actor", json!({ "user": actor }));
        if let Some(d) = &display {
            self.set("message", d.clone().into());
        }
        let a = action.to_ascii_lowercase();
        let account = [
            ("createduser", 1),
            ("activateduser", 2),
            ("changedpassword", 3),
            ("resetpassword", 4),
            ("deactivateduser", 5),
            ("frozeuser", 9),
            ("lockeduser", 9),
            ("permsetassign", 7),
            ("permsetunassign", 8),
        ];
        if let Some((_, id)) = account.iter().find(|(k, _)| a.starts_with(k)) {
            let target = self.user(&["DelegateUser"], &[]);
            self.set("user", target);
            // The id says what kind of change; Salesforce's own word stays under `unmapped`.
            self.rest.insert("Action".into(), action.into());
            return (Class::AccountChange, *id);
        }
        let id = if a.starts_with("create") || a.starts_with("new") {
            1
        } else if a.starts_with("delete") || a.starts_with("remove") {
            4
        } else {
            3
        };
        let name = section.unwrap_or_else(|| "Setup".into());
        self.set("entity", json!({ "name": name, "type": action }));
        (Class::EntityManagement, id)
    }

    fn api_activity(&mut self) -> (Class, u64) {
        let op = self.take(&["METHOD_NAME", "METHOD", "Operation"]);
        let id = op.as_deref().map_or(0, crud);
        let mut api = Map::new();
        api.insert(
            "operation".into(),
            op.unwrap_or_else(|| "unknown".into()).into(),
        );
        if let Some(r) = self.take(&["REQUEST_ID", "RequestIdentifier"]) {
            api.insert("request".into(), json!({ "uid": r }));
        }
        if let Some(v) = self.take(&["API_VERSION", "ApiVersion"]) {
            api.insert("version".into(), v.into());
        }
        self.set("api", Value::Object(api));
        let user = self.user(&["USER_ID", "UserId"], &["USER_NAME", "Username"]);
        self.set("actor", json!({ "user": user }));
        let src = self.src_endpoint();
        self.set("src_endpoint", src);
        if let Some(e) = self.take(&["ENTITY_NAME", "QueriedEntities"]) {
            self.set(
                "resources",
                json!([{ "name": e, "type": "Salesforce object" }]),
            );
        }
        (Class::ApiActivity, id)
    }

    fn web_resources(&mut self, kind: &str) -> Class {
        let uid = self.take(&["REPORT_ID", "REPORT_ID_DERIVED", "ReportId", "ListViewId"]);
        let name = self.take(&["ReportName", "Name", "ListViewName", "URI"]);
        let mut r = Map::new();
        if let Some(u) = uid {
            r.insert("uid".into(), u.into());
        }
        r.insert(
            "name".into(),
            name.unwrap_or_else(|| kind.to_string()).into(),
        );
        r.insert("type".into(), kind.into());
        self.set("web_resources", json!([Value::Object(r)]));
        // OCSF 1.1's Web Resources Activity has no actor: the user stays under `unmapped`.
        let src = self.src_endpoint();
        self.set("src_endpoint", src);
        Class::WebResourcesActivity
    }

    /// The attributes every class has, and `unmapped`.
    fn finish(self, class: Class, activity: u64, kind: &str, time_ms: i64) -> Value {
        let uid = class.uid();
        let mut meta = json!({
            "version": "1.1.0",
            "product": { "name": "Salesforce", "vendor_name": "Salesforce" },
            "log_name": kind,
        });
        if let Some(id) = self.line["id"].as_str() {
            meta["uid"] = id.into();
        }
        let mut doc = self.out;
        for (k, v) in [
            ("activity_id", json!(activity)),
            ("category_uid", json!(uid / 1000)),
            ("class_uid", json!(uid)),
            ("type_uid", json!(uid * 100 + activity)),
            ("severity_id", json!(1)),
            ("time", json!(time_ms)),
            ("metadata", meta),
        ] {
            doc.insert(k.into(), v);
        }
        // The org is the account, as in Security Lake an AWS account is: OCSF's cloud profile.
        if let Some(org) = self.line["org_id"].as_str() {
            doc.insert(
                "cloud".into(),
                json!({ "provider": "Salesforce", "account": { "uid": org } }),
            );
            doc["metadata"]["profiles"] = json!(["cloud"]);
        }
        let unmapped: Map<String, Value> = self
            .rest
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), Value::String(text(v)?))))
            .collect();
        // An empty object would be a struct with no fields, which Parquet cannot hold.
        if !unmapped.is_empty() {
            doc.insert("unmapped".into(), Value::Object(unmapped));
        }
        Value::Object(doc)
    }
}

/// The record batch of OCSF documents (with their times in microseconds), sorted by time:
/// nested objects become Parquet groups, as Security Lake and OCSF's readers expect, with the
/// columns the documents have.
pub fn record_batch(mut docs: Vec<(i64, Value)>) -> Result<RecordBatch, ArrowError> {
    docs.sort_by_key(|(t, _)| *t);
    let values: Vec<Value> = docs.into_iter().map(|(_, v)| v).collect();
    let schema = infer_json_schema_from_iterator(values.iter().map(Ok))?;
    let mut decoder = ReaderBuilder::new(Arc::new(schema))
        .with_coerce_primitive(true)
        .build_decoder()?;
    decoder.serialize(&values)?;
    decoder
        .flush()?
        .ok_or_else(|| ArrowError::JsonError("no OCSF documents to write".into()))
}

/// A value as text: strings as they are, other scalars and objects as JSON; nothing for null
/// and empty strings.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The CRUD activity of an API method (`GET`, `query`, `getUpdated`, `upsert`...): 1 Create,
/// 2 Read, 3 Update, 4 Delete, 99 Other. By the method's first word, so `getDeleted` reads.
fn crud(op: &str) -> u64 {
    let o = op.to_ascii_lowercase();
    let starts = |words: &[&str]| words.iter().any(|w| o.starts_with(w));
    if starts(&["create", "insert", "post"]) {
        1
    } else if starts(&["query", "retrieve", "describe", "search", "get", "head"]) {
        2
    } else if starts(&["update", "upsert", "merge", "undelete", "patch", "put"]) {
        3
    } else if starts(&["delete", "purge"]) {
        4
    } else {
        99
    }
}

/// OCSF's `auth_protocol_id` for a Salesforce login type, and its caption when known.
fn auth_protocol(login_type: &str) -> (u64, Option<&'static str>) {
    let t = login_type.to_ascii_lowercase();
    if t.contains("saml") {
        (5, Some("SAML"))
    } else if t.contains("openid") {
        (4, Some("OpenID"))
    } else if t.contains("oauth") || t.contains("remote access 2.0") {
        (6, Some("OAUTH 2.0"))
    } else {
        (99, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_elf_login() {
        let line = json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "s-1", "org_id": "00D1",
            "source": "EventLogFile", "event_type": "Login", "fields": {
                "USER_ID": "005A", "USER_NAME": "a@example.com", "CLIENT_IP": "10.1.2.3",
                "LOGIN_STATUS": "LOGIN_ERROR_INVALID_PASSWORD", "LOGIN_TYPE": "Application",
                "BROWSER_TYPE": "Chrome", "RUN_TIME": "12", "EMPTY": ""}});
        let (class, d) = document(&line, 1_796_119_200_000).unwrap();
        assert_eq!(class, Class::Authentication);
        assert_eq!(
            (&d["class_uid"], &d["type_uid"], &d["category_uid"]),
            (&json!(3002), &json!(300201), &json!(3))
        );
        assert_eq!(d["status_id"], 2);
        assert_eq!(d["status_detail"], "LOGIN_ERROR_INVALID_PASSWORD");
        assert_eq!(d["user"], json!({"uid": "005A", "name": "a@example.com"}));
        assert_eq!(d["src_endpoint"]["ip"], "10.1.2.3");
        assert_eq!(d["cloud"]["account"]["uid"], "00D1");
        assert_eq!(d["metadata"]["product"]["vendor_name"], "Salesforce");
        assert_eq!(d["unmapped"], json!({"RUN_TIME": "12"}));
        assert_eq!(d["auth_protocol_id"], 99);
    }

    #[test]
    fn classes_by_source() {
        let class = |source: &str, event_type: Option<&str>, fields: Value| {
            let mut l = json!({"id": "x", "org_id": "00D1", "source": source, "fields": fields});
            if let Some(t) = event_type {
                l["event_type"] = t.into();
            }
            document(&l, 0).map(|(c, d)| (c, d["activity_id"].as_u64().unwrap()))
        };
        let elf = |t| class("EventLogFile", Some(t), json!({}));
        assert_eq!(elf("Logout"), Some((Class::Authentication, 2)));
        assert_eq!(elf("ReportExport"), Some((Class::WebResourcesActivity, 7)));
        assert_eq!(elf("ApiTotalUsage"), None);
        let rest = class("EventLogFile", Some("RestApi"), json!({"METHOD": "DELETE"}));
        assert_eq!(rest, Some((Class::ApiActivity, 4)));
        let soap = |m: &str| class("EventLogFile", Some("API"), json!({"METHOD_NAME": m}));
        assert_eq!(soap("getDeleted"), Some((Class::ApiActivity, 2)));
        assert_eq!(soap("upsert"), Some((Class::ApiActivity, 3)));
        assert_eq!(soap("convertLead"), Some((Class::ApiActivity, 99)));
        let sat = |action: &str| class("SetupAuditTrail", None, json!({"Action": action}));
        assert_eq!(sat("resetpassword"), Some((Class::AccountChange, 4)));
        assert_eq!(sat("changedApexClass"), Some((Class::EntityManagement, 3)));
        assert_eq!(
            class("LoginEvent", None, json!({"Status": "Success"}))
                .unwrap()
                .1,
            1
        );
    }
}
