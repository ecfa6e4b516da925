//! The Real-Time Event Monitoring objects' records other than LoginEvent's, hour by hour.

use super::*;

/// The records of one RTEM object (other than LoginEvent) in one hour.
pub(super) fn rtem_block(
    g: &mut Gen<'_>,
    spec: &OrgSpec,
    object: &'static str,
) -> Vec<ObjectRecord> {
    let mut n = count(g, spec);
    if object == "IdentityVerificationEvent" {
        n = n.div_ceil(3);
    }
    let slug = g.ctx.slug.clone();
    let mut out = Vec::new();
    for t in g.times(n) {
        let integration = match object {
            "ApiEvent" => 600,
            _ => 80,
        };
        let user = g.user(integration);
        let created = t + g.storage_delay();
        let (mut vals, user_id) = g.head(t, created, user);
        match object {
            "LogoutEvent" => {
                let ui = user != 0;
                vals.extend([
                    ("ApiType", s(if ui { "N/A" } else { "REST API" })),
                    ("SessionType", s(if ui { "UI" } else { "API" })),
                    ("UserType", s("Standard")),
                ]);
            }
            "ApiEvent" => {
                let (ent, _, _, _) = entity(g);
                let op = g.pick(&["Query", "Query", "QueryMore", "Describe", "Retrieve"]);
                let (app, client) = if user == 0 {
                    g.pick(&[
                        ("sfevents", "sfevents/0.1"),
                        ("Salesforce CLI", "sfdx toolbelt"),
                    ])
                } else {
                    g.pick(&[
                        ("Data Loader", "DataLoaderPartnerUI/"),
                        ("Workbench", "Workbench/58.0"),
                        ("N/A", "N/A"),
                    ])
                };
                let rows = if op == "Describe" {
                    0
                } else {
                    g.rng.below(2000)
                };
                let query = if op.starts_with("Query") {
                    s(format!(
                        "SELECT Id, Name, OwnerId, LastModifiedDate FROM {ent} WHERE LastModifiedDate = LAST_N_DAYS:7"
                    ))
                } else {
                    Value::Null
                };
                let api = g.pick(&["REST API", "REST API", "SOAP Partner", "Bulk API 2.0"]);
                let elapsed = 5 + g.rng.below(1500) as i64;
                let ua = g.pick(USER_AGENTS);
                vals.extend([
                    ("AdditionalInfo", s("{}")),
                    ("ApiType", s(api)),
                    ("ApiVersion", Value::Double(64.0)),
                    ("Application", s(app)),
                    ("Client", s(client)),
                    ("ElapsedTime", Value::Int(elapsed)),
                    ("Operation", s(op)),
                    ("Platform", s("Unknown")),
                    ("QueriedEntities", s(ent)),
                    ("Query", query),
                    ("RowsProcessed", Value::Double(rows as f64)),
                    ("UserAgent", s(ua)),
                ]);
            }
            "ReportEvent" => {
                let (ent, _, _, reports) = entity(g);
                let name = g.pick(reports);
                let report_id = ids::id18(&make_id15(
                    "00O",
                    digest_u64(&[b"report", &g.seed.to_le_bytes(), name.as_bytes()]) % REC_SPACE,
                ));
                let op = g.pick(&[
                    "ReportRunFromLightning",
                    "ReportRunFromLightning",
                    "ReportExported",
                    "ReportRunFromClassic",
                    "ReportRunAndNotificationSent",
                ]);
                let exec = g.uuid();
                let rows = g.rng.below(5000);
                let eval = g.rng.below(900) as f64 + 10.0;
                let format = g.pick(&["Tabular", "Summary", "Matrix"]);
                vals.extend([
                    (
                        "ColumnHeaders",
                        s(format!("[{ent} Name, Owner, Created Date, Amount]")),
                    ),
                    ("EvaluationTime", Value::Double(eval)),
                    ("ExecutionIdentifier", s(exec)),
                    ("Format", s(format)),
                    (
                        "IsScheduled",
                        Value::Bool(op == "ReportRunAndNotificationSent"),
                    ),
                    ("Name", s(name)),
                    ("Operation", s(op)),
                    ("QueriedEntities", s(ent)),
                    ("ReportId", s(report_id)),
                    ("RowsProcessed", Value::Double(rows as f64)),
                    ("Sequence", Value::Int(0)),
                ]);
            }
            "ListViewEvent" => {
                let (ent, _, views, _) = entity(g);
                let name = g.pick(views);
                let view_id = ids::id18(&make_id15(
                    "00B",
                    digest_u64(&[b"listview", &g.seed.to_le_bytes(), name.as_bytes()]) % REC_SPACE,
                ));
                let source = g.pick(&["Lightning", "Lightning", "Classic", "API"]);
                let rows = 1 + g.rng.below(200);
                let scope = if name.starts_with("My ") {
                    "mine"
                } else {
                    "everything"
                };
                vals.extend([
                    ("AppName", s("one:one")),
                    ("ColumnHeaders", s("Name,Owner.Alias,LastModifiedDate")),
                    ("EventSource", s(source)),
                    ("ListViewId", s(view_id)),
                    ("Name", s(name)),
                    ("OrderBy", s("Name ASC")),
                    ("OwnerId", s(user_id.clone())),
                    ("QueriedEntities", s(ent)),
                    ("RowsProcessed", Value::Double(rows as f64)),
                    ("Scope", s(scope)),
                ]);
            }
            "LightningUriEvent" => {
                let (ent, prefix, _, _) = entity(g);
                let rec = g.id(prefix);
                let op = g.pick(&["Read", "Read", "Read", "Update", "Create"]);
                let page = format!("/lightning/r/{ent}/{rec}/view");
                let prev = format!("/lightning/o/{ent}/list?filterName=Recent");
                let dur = g.rng.below(30_000) as f64 + 150.0;
                let eff = g.rng.below(3000) as f64 + 80.0;
                vals.extend([
                    ("AppName", s("one:one")),
                    ("Duration", Value::Double(dur)),
                    ("EffectivePageTime", Value::Double(eff)),
                    ("Operation", s(op)),
                    ("PageUrl", s(page)),
                    ("PreviousPageUrl", s(prev)),
                    ("QueriedEntities", s(ent)),
                    ("RecordId", s(rec)),
                    ("UserType", s("Standard")),
                ]);
            }
            "UriEvent" => {
                let (ent, prefix, _, _) = entity(g);
                let rec = g.id(prefix);
                let op = g.pick(&["Read", "Read", "Update", "Create", "Delete"]);
                let uri = format!("/{}", &rec[..15]);
                vals.extend([
                    ("Operation", s(op)),
                    ("QueriedEntities", s(ent)),
                    ("RecordId", s(rec)),
                    (
                        "Referrer",
                        s(format!("https://{slug}.my.salesforce.com/{prefix}/o")),
                    ),
                    ("Uri", s(uri)),
                    ("UserType", s("Standard")),
                ]);
            }
            _ => {
                // IdentityVerificationEvent.
                let method = g.pick(&["Email", "SalesforceAuthenticator", "TOTP", "Sms", "U2F"]);
                let activity = g.pick(&["Login", "Login", "ExtendedLogin", "Enroll"]);
                let status = g.pick(&[
                    "Succeeded",
                    "Succeeded",
                    "Succeeded",
                    "Initiated",
                    "FailedInvalidCode",
                    "Denied",
                ]);
                let remarks = match method {
                    "Email" => "Verification code sent by email",
                    "Sms" => "Verification code sent by SMS",
                    "SalesforceAuthenticator" => {
                        "Push notification sent to Salesforce Authenticator"
                    }
                    "TOTP" => "Time-based one-time password entered",
                    _ => "Security key challenge issued",
                };
                let history = g.id("0Ya");
                vals.extend([
                    ("Activity", s(activity)),
                    ("LoginHistoryId", s(history)),
                    ("Remarks", s(remarks)),
                    ("Status", s(status)),
                    ("VerificationMethod", s(method)),
                ]);
            }
        }
        out.push(rtem(object, vals, created));
    }
    out
}

/// Repeats a few records of an RTEM object (stored twice: same EventIdentifier, same
/// fields), chosen among those visible at `anchor_ms`.
pub(super) fn add_duplicates(
    object: &str,
    seed: u64,
    recs: &mut Vec<ObjectRecord>,
    anchor_ms: i64,
) {
    let ident = |r: &ObjectRecord| {
        r.record
            .get("EventIdentifier")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut cands: Vec<(u64, usize)> = recs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.visible_at.timestamp_millis() <= anchor_ms)
        .map(|(i, r)| {
            (
                digest_u64(&[
                    b"sfgen-dup",
                    &seed.to_le_bytes(),
                    object.as_bytes(),
                    ident(r).as_bytes(),
                ]),
                i,
            )
        })
        .collect();
    cands.sort_unstable();
    let k = (recs.len() / 40).max(3);
    let mut chosen: Vec<usize> = cands.iter().take(k).map(|&(_, i)| i).collect();
    chosen.sort_unstable();
    for i in chosen.into_iter().rev() {
        let copy = recs[i].clone();
        recs.insert(i + 1, copy);
    }
}
