//! Data attacks: a bulk export through a newly authorised Data Loader look-alike, mass file
//! downloads, queries hunting for secrets, mass deletes, and actions Transaction Security
//! blocked.

use soql::Value;

use super::elf::{id15, row};
use super::{Actor, Plant, Sc, Scenario};
use crate::ids;
use crate::objects::planted::{attack_geo, audit, login, rtem_event, LoginFacts};

/// The connected app of new_data_loader_app.
pub(crate) const DATA_LOADER_APP: &str = "My Data Loader";
const DATA_LOADER_CLIENT: &str = "DataLoaderBulkUI/";
const SCRIPT_AGENT: &str = "python-requests/2.31.0";

fn v(x: impl ToString) -> String {
    x.to_string()
}

/// An ApiEvent of `a` at `at`.
#[allow(clippy::too_many_arguments)]
fn api_event(
    sc: &Sc<'_>,
    p: &mut Plant,
    a: &Actor,
    at: i64,
    (app, client, api_type): (&str, &str, &str),
    (operation, entity, query): (&str, &str, &str),
    rows: u64,
    policy: Option<(&str, f64)>,
) {
    let elapsed = 40 + p.rng.below(4000) as i64;
    // Data Loader is a Java program; the other attacks are scripts.
    let agent = if client.starts_with("DataLoader") {
        "Java/17.0.10"
    } else {
        SCRIPT_AGENT
    };
    let mut fields = vec![
        ("AdditionalInfo", Value::str("{}")),
        ("ApiType", Value::str(api_type)),
        ("ApiVersion", Value::Double(64.0)),
        ("Application", Value::str(app)),
        ("Client", Value::str(client)),
        ("ElapsedTime", Value::Int(elapsed)),
        ("Operation", Value::str(operation)),
        ("Platform", Value::str("Unknown")),
        ("QueriedEntities", Value::str(entity)),
        ("Query", Value::str(query)),
        ("RowsProcessed", Value::Double(rows as f64)),
        ("UserAgent", Value::str(agent)),
    ];
    if let Some((policy_id, eval)) = policy {
        fields.extend([
            ("EvaluationTime", Value::Double(eval)),
            ("PolicyId", Value::str(policy_id)),
            ("PolicyOutcome", Value::str("Block")),
        ]);
    }
    let rec = rtem_event(&mut p.rng, "ApiEvent", at, &a.event_user(sc), fields);
    p.object("ApiEvent", rec);
}

/// A connected app named like Data Loader is created, the victim authorises it (an OAuth
/// login from the attacker's IP abroad), and it exports every Account through the Bulk API
/// with queryAll: 5 batches of 500,000 rows. Planted in SetupAuditTrail, Login, LoginEvent,
/// LoginHistory, ApiTotalUsage (one row per Bulk API call), BulkApi (one row per batch) and
/// ApiEvent (one per batch).
pub(crate) fn new_data_loader_app(sc: &Sc<'_>) -> Plant {
    let s = Scenario::NewDataLoaderApp;
    let victim = sc.regular[3];
    let mut p = Plant::new(sc, s, victim, Some(DATA_LOADER_APP));
    let ip = p.planted.source_ip.clone();
    let app_id = id15(&mut p.rng, "0H4");
    let n = p.rng.u64();
    let display = format!("Created Connected App {DATA_LOADER_APP}");
    let created = sc.at(s, 2, 0, 0) / 1000;
    let by = sc.user(victim);
    let rec = audit(
        n,
        created,
        &by,
        "insertConnectedApplication",
        "Connected Apps",
        &display,
        None,
    );
    p.object("SetupAuditTrail", rec);

    let a = p.actor(victim, &ip);
    let at = sc.at(s, 5, 0, 0);
    let set = [
        ("URI", v("/services/oauth2/token")),
        ("LOGIN_TYPE", v("i")),
        ("BROWSER_TYPE", v(DATA_LOADER_CLIENT)),
        ("API_TYPE", String::new()),
        ("API_VERSION", v("9998.0")),
        ("REQUEST_STATUS", v("Success")),
        ("LOGIN_SUB_TYPE", String::new()),
        ("AUTHENTICATION_METHOD_REFERENCE", String::new()),
        ("LOGIN_STATUS", v("LOGIN_NO_ERROR")),
    ];
    let r = row(sc, &mut p.rng, "Login", at, &a, &set);
    p.elf(r);
    let facts = LoginFacts {
        status: "Success",
        login_type: "Remote Access 2.0",
        sub_type: Some("OAuth Authorization Code"),
        application: DATA_LOADER_APP,
        browser: "Unknown",
        platform: "Unknown",
        geo: attack_geo(1),
        login_url: "login.salesforce.com",
    };
    let [event, history] = login(&mut p.rng, at, &a.event_user(sc), &facts);
    p.object("LoginEvent", event);
    p.object("LoginHistory", history);
    bulk_export(sc, &mut p, &a, &app_id);
    p
}

/// The export itself: a job, five batches, their results.
fn bulk_export(sc: &Sc<'_>, p: &mut Plant, a: &Actor, app_id: &str) {
    let s = p.planted.scenario;
    let job = id15(&mut p.rng, "750");
    let query = "SELECT Id, Name, Phone, Website, AnnualRevenue, BillingStreet, BillingCity, BillingCountry, OwnerId FROM Account";
    let usage = |p: &mut Plant, at: i64, method: &str, resource: String| {
        let set = [
            ("API_FAMILY", v("Bulk")),
            ("API_VERSION", v("64.0")),
            ("API_RESOURCE", resource),
            ("CLIENT_NAME", v(DATA_LOADER_CLIENT)),
            ("HTTP_METHOD", v(method)),
            ("COUNTS_AGAINST_API_LIMIT", v("true")),
            ("CONNECTED_APP_ID", v(app_id)),
            ("ENTITY_NAME", v("Account")),
            (
                "STATUS_CODE",
                v(if method == "POST" { "201" } else { "200" }),
            ),
            ("CONNECTED_APP_NAME", v(DATA_LOADER_APP)),
        ];
        let r = row(sc, &mut p.rng, "ApiTotalUsage", at, a, &set);
        p.elf(r);
    };
    usage(
        p,
        sc.at(s, 6, 0, 0),
        "POST",
        format!("/services/async/64.0/job/{job}"),
    );
    for i in 0..5i64 {
        let batch = id15(&mut p.rng, "751");
        let at = sc.at(s, 8 + 4 * i, 0, 0);
        let resource = format!("/services/async/64.0/job/{job}/batch/{batch}/result");
        usage(p, at, "GET", resource.clone());
        let set = [
            ("URI", resource),
            ("REQUEST_STATUS", v("S")),
            ("JOB_ID", job.clone()),
            ("BATCH_ID", batch),
            ("ENTITY_TYPE", v("Account")),
            ("OPERATION_TYPE", v("queryAll")),
            ("ROWS_PROCESSED", v(500_000)),
            ("NUMBER_FAILURES", v(0)),
            ("MESSAGE", String::new()),
        ];
        let r = row(sc, &mut p.rng, "BulkApi", at + 2_000, a, &set);
        p.elf(r);
        let how = (DATA_LOADER_APP, DATA_LOADER_CLIENT, "Bulk API");
        api_event(
            sc,
            p,
            a,
            at + 2_500,
            how,
            ("QueryAll", "Account", query),
            500_000,
            None,
        );
    }
}

const FILES: &[(&str, &str)] = &[
    ("Q3 Board Deck.pdf", "PDF"),
    ("Customer List 2026.xlsx", "EXCEL_X"),
    ("Pricing Model v7.xlsx", "EXCEL_X"),
    ("Acquisition Target Memo.docx", "WORD_X"),
    ("Payroll Export.csv", "CSV"),
    ("Sales Compensation Plan.pdf", "PDF"),
    ("Product Roadmap FY27.pptx", "POWER_POINT_X"),
    ("Security Audit Findings.pdf", "PDF"),
    ("Vendor Contracts.zip", "ZIP"),
    ("Board Minutes March.pdf", "PDF"),
];

/// Ten distinct files downloaded through the API by one user in three minutes (20 s apart):
/// ContentTransfer rows (VersionDownloadApi) and FileEventStore records (API_DOWNLOAD).
pub(crate) fn mass_file_download(sc: &Sc<'_>) -> Plant {
    let s = Scenario::MassFileDownload;
    let user = sc.regular[4];
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    for (i, (name, ftype)) in FILES.iter().enumerate() {
        let at = sc.at(s, 10, 20 * i as i64, p.rng.below(900) as i64);
        let doc = id15(&mut p.rng, "069");
        let version = id15(&mut p.rng, "068");
        let size = 200_000 + p.rng.below(20_000_000);
        let set = [
            ("TRANSACTION_TYPE", v("VersionDownloadApi")),
            ("SIZE_BYTES", v(size)),
            ("FILE_TYPE", v(ftype)),
            ("FILE_PREVIEW_TYPE", String::new()),
            ("DOCUMENT_ID", doc.clone()),
            ("VERSION_ID", version.clone()),
            ("DOCUMENT_ID_DERIVED", ids::id18(&doc)),
            ("VERSION_ID_DERIVED", ids::id18(&version)),
        ];
        let r = row(sc, &mut p.rng, "ContentTransfer", at, &a, &set);
        p.elf(r);
        let fields = vec![
            ("CanDownloadPdf", Value::Bool(false)),
            ("ContentSize", Value::Int(size as i64)),
            ("DocumentId", Value::String(ids::id18(&doc))),
            ("FileAction", Value::str("API_DOWNLOAD")),
            ("FileName", Value::str(*name)),
            ("FileSource", Value::str("S")),
            ("FileType", Value::str(*ftype)),
            ("IsLatestVersion", Value::Bool(true)),
            (
                "ProcessDuration",
                Value::Double(30.0 + p.rng.below(400) as f64),
            ),
            ("UserType", Value::str("Standard")),
            ("VersionId", Value::String(ids::id18(&version))),
        ];
        let rec = rtem_event(&mut p.rng, "FileEventStore", at, &a.event_user(sc), fields);
        p.object("FileEventStore", rec);
    }
    p
}

/// (entity, query) of the secret hunt.
const HUNT: &[(&str, &str)] = &[
    (
        "Integration_Credential__c",
        "SELECT Id, Name, Username__c, Password__c, API_Key__c FROM Integration_Credential__c",
    ),
    (
        "Case",
        "SELECT Id, Subject, Description FROM Case WHERE Description LIKE '%AKIA%'",
    ),
    (
        "Note",
        "SELECT Id, Title, Body FROM Note WHERE Body LIKE '%password%' OR Body LIKE '%secret%'",
    ),
    (
        "Snowflake_Connection__c",
        "SELECT Id, Name, Account_Url__c, Access_Token__c FROM Snowflake_Connection__c",
    ),
];

/// Four SOQL queries two minutes apart, from the attacker's IP with the user's session,
/// looking for passwords, API keys, AWS key ids and Snowflake tokens: API rows (QUERY) and
/// ApiEvent records (Query).
pub(crate) fn secret_hunting_query(sc: &Sc<'_>) -> Plant {
    let s = Scenario::SecretHuntingQuery;
    let user = sc.regular[5];
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    for (i, (entity, query)) in HUNT.iter().enumerate() {
        let at = sc.at(s, 10 + 2 * i as i64, 0, p.rng.below(900) as i64);
        let rows = 1 + p.rng.below(60);
        let set = [
            ("URI", v("/services/Soap/u/64.0")),
            ("REQUEST_STATUS", v("Success")),
            ("API_TYPE", v("P")),
            ("API_VERSION", v("64.0")),
            ("CLIENT_NAME", String::new()),
            ("METHOD_NAME", v("query")),
            ("ENTITY_NAME", v(entity)),
            ("ROWS_PROCESSED", v(rows)),
            ("QUERY", v(query)),
            ("USER_AGENT", v(SCRIPT_AGENT)),
        ];
        let r = row(sc, &mut p.rng, "API", at, &a, &set);
        p.elf(r);
        let how = ("N/A", "N/A", "SOAP Partner");
        api_event(
            sc,
            &mut p,
            &a,
            at,
            how,
            ("Query", entity, query),
            rows,
            None,
        );
    }
    p
}

/// A user hard-deletes 60,000 Contacts through the Bulk API (6 batches of 10,000, 90 s
/// apart) and 2,000 Opportunities through the SOAP API (10 delete calls of 200): BulkApi and
/// API rows. Salesforce has no RTEM event for deletes (ApiEvent tracks queries).
pub(crate) fn mass_delete(sc: &Sc<'_>) -> Plant {
    let s = Scenario::MassDelete;
    let user = sc.regular[6 % sc.regular.len()];
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    let job = id15(&mut p.rng, "750");
    for i in 0..6i64 {
        let at = sc.at(s, 10, 90 * i, 0);
        let batch = id15(&mut p.rng, "751");
        let set = [
            ("URI", format!("/services/async/64.0/job/{job}/batch")),
            ("REQUEST_STATUS", v("S")),
            ("JOB_ID", job.clone()),
            ("BATCH_ID", batch),
            ("ENTITY_TYPE", v("Contact")),
            ("OPERATION_TYPE", v("hardDelete")),
            ("ROWS_PROCESSED", v(10_000)),
            ("NUMBER_FAILURES", v(0)),
            ("MESSAGE", String::new()),
        ];
        let r = row(sc, &mut p.rng, "BulkApi", at, &a, &set);
        p.elf(r);
    }
    for i in 0..10i64 {
        let at = sc.at(s, 25, 20 * i, 0);
        let set = [
            ("URI", v("/services/Soap/u/64.0")),
            ("REQUEST_STATUS", v("Success")),
            ("API_TYPE", v("P")),
            ("API_VERSION", v("64.0")),
            ("CLIENT_NAME", String::new()),
            ("METHOD_NAME", v("delete")),
            ("ENTITY_NAME", v("Opportunity")),
            ("ROWS_PROCESSED", v(200)),
            ("QUERY", String::new()),
            ("USER_AGENT", v(SCRIPT_AGENT)),
        ];
        let r = row(sc, &mut p.rng, "API", at, &a, &set);
        p.elf(r);
    }
    p
}

/// Transaction Security blocks a large Contact query (ApiEvent) and a report export
/// (ReportEvent): PolicyOutcome Block, with the policy's id and evaluation time.
pub(crate) fn transaction_security_block(sc: &Sc<'_>) -> Plant {
    let s = Scenario::TransactionSecurityBlock;
    let user = sc.regular[1];
    let mut p = Plant::new(sc, s, user, None);
    let ip = p.planted.source_ip.clone();
    let a = p.actor(user, &ip);
    let api_policy = ids::id18(&id15(&mut p.rng, "0NI"));
    let report_policy = ids::id18(&id15(&mut p.rng, "0NI"));
    let query = "SELECT Id, Name, Email, Phone, MailingAddress FROM Contact";
    let how = ("N/A", "N/A", "REST API");
    let what = ("Query", "Contact", query);
    api_event(
        sc,
        &mut p,
        &a,
        sc.at(s, 10, 0, 0),
        how,
        what,
        0,
        Some((&api_policy, 14.0)),
    );
    let report = ids::id18(&id15(&mut p.rng, "00O"));
    let fields = vec![
        (
            "ColumnHeaders",
            Value::str("[Contact Name, Email, Phone, Mailing Address]"),
        ),
        ("EvaluationTime", Value::Double(9.0)),
        (
            "ExecutionIdentifier",
            Value::String(crate::objects::uuid(&mut p.rng)),
        ),
        ("Format", Value::str("Tabular")),
        ("IsScheduled", Value::Bool(false)),
        ("Name", Value::str("All Contacts with Emails")),
        ("Operation", Value::str("ReportExported")),
        ("QueriedEntities", Value::str("Contact")),
        ("ReportId", Value::String(report)),
        ("RowsProcessed", Value::Double(0.0)),
        ("Sequence", Value::Int(0)),
        ("PolicyId", Value::String(report_policy)),
        ("PolicyOutcome", Value::str("Block")),
    ];
    let rec = rtem_event(
        &mut p.rng,
        "ReportEvent",
        sc.at(s, 12, 30, 0),
        &a.event_user(sc),
        fields,
    );
    p.object("ReportEvent", rec);
    p
}
