//! The fields each dataset (a rule's `logsource.service`) is known to have, and the check
//! `rules check` runs with them: every field a rule names (detection items, a correlation's
//! `group-by`, the `sfevents.new_value`/`sfevents.baseline` fields and `group-by`) that its
//! dataset does not have is reported as a `FieldWarning`.
//!
//! `DATASETS` is data only, transcribed from `/work/shared/reference/salesforce-api.md`:
//! §3.7 (EventLogFile columns: real headers where captured, else the documentation's set,
//! including the columns that section marks unverified), §4.2 (`LoginEvent`, `LogoutEvent`),
//! §5.1 (`SetupAuditTrail`) and §5.2 (`LoginHistory`). A dataset the reference gives no
//! fields for (`report_export`, `login_as`, `api_event`, the Threat Detection stores, ...) is
//! not in the table: it is unknown, and nothing is reported for it. A relationship field
//! (`CreatedBy.Username`) is known when its dotted name or its head (`CreatedBy`) is listed;
//! `org_id` and `id`, which sfevents adds to every event, are always known.

use std::collections::BTreeSet;

use rsigma_parser::Detection;

use crate::extension::Extension;
use crate::ruleset::RuleSet;

/// Columns most request-type EventLogFile types share (§3.5).
const ELF_REQUEST: &str = "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,\
    CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,\
    URI_ID_DERIVED";

/// Columns most request-type types have next (not ApexCallout, BulkApiRequest, CompositeApi,
/// PlatformEncryption, HostnameRedirects; ApexExecution has only DB_TOTAL_TIME).
const ELF_STATUS: &str = "USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME";
const ELF_DB_TIME: &str = "DB_TOTAL_TIME";

/// Dataset -> its fields, as comma-separated lists.
pub const DATASETS: &[(&str, &[&str])] = &[
    // §3.7 Login: the real Dec 2023 header, plus AUTHENTICATION_CONTEXT_CLASS_REFERENCE (v66).
    (
        "login",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "LOGIN_TYPE,BROWSER_TYPE,API_TYPE,API_VERSION,USER_NAME,TLS_PROTOCOL,CIPHER_SUITE,\
             AUTHENTICATION_METHOD_REFERENCE,LOGIN_SUB_TYPE,LOGIN_STATUS,SOURCE_IP,\
             AUTHENTICATION_CONTEXT_CLASS_REFERENCE",
        ],
    ),
    // §3.7 Logout: the documentation's set.
    (
        "logout",
        &[
            "API_TYPE,API_VERSION,APP_TYPE,BROWSER_TYPE,CLIENT_IP,CLIENT_VERSION,EVENT_TYPE,\
             LOGIN_KEY,ORGANIZATION_ID,PLATFORM_TYPE,REQUEST_ID,RESOLUTION_TYPE,SESSION_KEY,\
             SESSION_LEVEL,SESSION_TYPE,TIMESTAMP,TIMESTAMP_DERIVED,USER_ID,USER_ID_DERIVED,\
             USER_INITIATED_LOGOUT,USER_TYPE",
        ],
    ),
    // §3.7 ApiTotalUsage: the documentation's set, with the newest additions.
    (
        "api_total_usage",
        &[
            "API_FAMILY,API_RESOURCE,API_VERSION,CLIENT_IP,CLIENT_NAME,CONNECTED_APP_ID,\
             CONNECTED_APP_NAME,COUNTS_AGAINST_API_LIMIT,ENTITY_NAME,EVENT_TYPE,HTTP_METHOD,\
             ORGANIZATION_ID,REQUEST_ID,STATUS_CODE,TIMESTAMP,TIMESTAMP_DERIVED,USER_ID,USER_NAME,\
             API_CLIENT_CATEGORY,BOT_IDENTIFIER,BOT_SESSION_IDENTIFIER",
        ],
    ),
    // §3.7 API (SOAP API): the documentation's (partial) set and the synthetic order.
    (
        "api",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "API_TYPE,API_VERSION,CLIENT_NAME,METHOD_NAME,ENTITY_NAME,ROWS_PROCESSED,REQUEST_SIZE,\
             RESPONSE_SIZE,DB_BLOCKS,DB_CPU_TIME,QUERY,USER_AGENT",
        ],
    ),
    // §3.7 RestApi: the documentation's set.
    (
        "rest_api",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "METHOD,MEDIA_TYPE,STATUS_CODE,USER_AGENT,ROWS_PROCESSED,NUMBER_FIELDS,DB_BLOCKS,\
             DB_CPU_TIME,REQUEST_SIZE,RESPONSE_SIZE,ENTITY_NAME,CONNECTED_APP_ID,CLIENT_NAME,\
             EXCEPTION_MESSAGE",
        ],
    ),
    // §3.7 URI: the documentation's set.
    (
        "uri",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "REFERRER_URI,DB_BLOCKS,DB_CPU_TIME",
        ],
    ),
    // §3.7 ApexExecution: the documentation's set.
    (
        "apex_execution",
        &[
            ELF_REQUEST,
            ELF_DB_TIME,
            "ENTRY_POINT,QUIDDITY,EXEC_TIME,CALLOUT_TIME,NUMBER_SOQL_QUERIES,\
             IS_LONG_RUNNING_REQUEST",
        ],
    ),
    // §3.7 ApexCallout: a real-derived fixture and the documentation.
    (
        "apex_callout",
        &[
            ELF_REQUEST,
            "TYPE,SUCCESS,TIME,METHOD,REQUEST_SIZE,RESPONSE_SIZE,URL",
        ],
    ),
    // §3.7 Report: the documentation's set and the columns marked unverified.
    (
        "report",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "AVERAGE_ROW_SIZE,DB_BLOCKS,DB_CPU_TIME,DISPLAY_TYPE,ENTITY_NAME,NUMBER_BUCKETS,\
             NUMBER_COLUMNS,NUMBER_EXCEPTION_FILTERS,ORIGIN,RENDERING_TYPE,REPORT_ID,\
             REPORT_ID_DERIVED,ROW_COUNT,SORT",
        ],
    ),
    // §3.7 LightningPageView: the documentation's set (no RUN_TIME/CPU_TIME/URI).
    (
        "lightning_page_view",
        &[
            "APP_NAME,BROWSER_NAME,BROWSER_VERSION,CLIENT_GEO,CLIENT_ID,CLIENT_IP,CONNECTION_TYPE,\
             DEVICE_ID,DEVICE_MODEL,DEVICE_PLATFORM,DEVICE_SESSION_ID,DURATION,\
             EFFECTIVE_PAGE_TIME,EFFECTIVE_PAGE_TIME_DEVIATION,\
             EFFECTIVE_PAGE_TIME_DEVIATION_REASON,EFFECTIVE_PAGE_TIME_DEVIATION_ERROR_TYPE,\
             EVENT_TYPE,GRANDPARENT_UI_ELEMENT,LOGIN_KEY,ORGANIZATION_ID,OS_NAME,OS_VERSION,\
             PAGE_APP_NAME,PAGE_CONTEXT,PAGE_ENTITY_ID,PAGE_ENTITY_TYPE,PAGE_START_TIME,PAGE_URL,\
             PARENT_UI_ELEMENT,PREVPAGE_APP_NAME,PREVPAGE_CONTEXT,PREVPAGE_ENTITY_ID,\
             PREVPAGE_ENTITY_TYPE,PREVPAGE_URL,REQUEST_ID,SDK_APP_TYPE,SDK_APP_VERSION,\
             SDK_VERSION,SESSION_KEY,TARGET_UI_ELEMENT,TIMESTAMP,TIMESTAMP_DERIVED,UI_EVENT_ID,\
             UI_EVENT_SEQUENCE_NUM,UI_EVENT_SOURCE,UI_EVENT_TIMESTAMP,UI_EVENT_TYPE,USER_AGENT,\
             USER_ID,USER_ID_DERIVED,USER_TYPE",
        ],
    ),
    // §3.7 "Other real headers": captured from real orgs.
    (
        "aura_request",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "REQUEST_METHOD,ACTION_MESSAGE,ACTION_MESSAGE_LENGTH,EASY_SUITE_VALUE,USER_AGENT",
        ],
    ),
    (
        "apex_rest_api",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "METHOD,MEDIA_TYPE,STATUS_CODE,USER_AGENT,ROWS_PROCESSED,NUMBER_FIELDS,DB_BLOCKS,\
             DB_CPU_TIME,REQUEST_SIZE,RESPONSE_SIZE,ENTITY_NAME,CONNECTED_APP_ID,CLIENT_NAME,\
             EXCEPTION_MESSAGE,QUERY",
        ],
    ),
    (
        "visualforce_request",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "PAGE_NAME,REQUEST_TYPE,IS_FIRST_REQUEST,QUERY,HTTP_METHOD,USER_AGENT,REQUEST_SIZE,\
             RESPONSE_SIZE,VIEW_STATE_SIZE,CONTROLLER_TYPE,MANAGED_PACKAGE_NAMESPACE,\
             IS_AJAX_REQUEST,DB_BLOCKS,DB_CPU_TIME",
        ],
    ),
    (
        "sites",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "PAGE_NAME,REQUEST_TYPE,IS_FIRST_REQUEST,QUERY,SITE_ID,IS_SECURE,RESPONSE_SIZE,\
             IS_GUEST,IS_API,IS_ERROR,HTTP_METHOD,HTTP_HEADERS",
        ],
    ),
    (
        "bulk_api_request",
        &[
            ELF_REQUEST,
            "REQUEST_PATH,API_VERSION,JOB_ID,BATCH_ID,OPERATION_TYPE,SUCCESS,ERROR_MESSAGE,\
             CONNECTED_APP_ID,CLIENT_NAME,CONCURRENCY_MODE,STATUS_CODE",
        ],
    ),
    (
        "composite_api",
        &[
            ELF_REQUEST,
            "ALL_OR_NONE,FAILURE_REASON,IS_REQUEST_COLLATION_ON,NUM_RETRIES,NUM_GRAPH_DEPTH",
        ],
    ),
    (
        "composite_api_subrequest",
        &[
            ELF_REQUEST,
            ELF_STATUS,
            "METHOD,IS_CANCELLED,CANCELLED_REASON,SUCCESS,STATUS_CODE,INITIAL_REFERENCE_IDS",
        ],
    ),
    (
        "queued_execution",
        &[ELF_REQUEST, ELF_STATUS, "JOB_ID,ENTRY_POINT"],
    ),
    (
        "platform_encryption",
        &[
            ELF_REQUEST,
            "KEY_ID,ACTION,KEY_TYPE,METHOD,BOT_ID,BOT_SESSION_ID,PLANNER_ID,KEY_ID_DERIVED",
        ],
    ),
    (
        "database_save",
        &[
            "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,KEY_PREFIX,DML_TYPE,NUM_ROWS,\
             SAMPLE_FACTOR,FIRST_ENTITY_ID,SESSION_KEY,LOGIN_KEY,TIMESTAMP_DERIVED",
        ],
    ),
    (
        "csp_violation",
        &[
            "EVENT_TYPE,TIMESTAMP,REQUEST_ID,BLOCKED_URI,BLOCKED_URI_DOMAIN,DIRECTIVE,CONTEXT,\
             UNIQUE_ID,DISPOSITION,SOURCE,COLUMN_NUMBER,LINE_NUMBER,SOURCE_FILE,RESOURCE_SAMPLE,\
             TIMESTAMP_DERIVED",
        ],
    ),
    (
        "content_distribution",
        &[
            "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,DELIVERY_ID,USER_ID,VERSION_ID,\
             RELATED_ENTITY_ID,DELIVERY_LOCATION,ACTION,TIMESTAMP_DERIVED,USER_ID_DERIVED",
        ],
    ),
    (
        "sandbox",
        &[
            "EVENT_TYPE,TIMESTAMP,REQUEST_ID,SANDBOX_ID,ORGANIZATION_ID,PENDING_SANDBOX_ORG_ID,\
             CURRENT_SANDBOX_ORG_ID,STATUS,USER_ID,TIMESTAMP_DERIVED,USER_ID_DERIVED",
        ],
    ),
    (
        "hostname_redirects",
        &[
            ELF_REQUEST,
            "MESSAGE,DOMAIN,SOURCE_HOSTNAME,TARGET_HOSTNAME,PATH,REDIRECT_REASON,\
             IS_BLOCKED_REDIRECTION,REFERRER,ORIGIN",
        ],
    ),
    // §4.2 LoginEvent: the field reference.
    (
        "login_event",
        &[
            "AdditionalInfo,ApiType,ApiVersion,Application,AuthMethodReference,AuthServiceId,\
             Browser,CipherSuite,City,ClientVersion,Country,CountryIso,CreatedDate,EvaluationTime,\
             EventDate,EventIdentifier,ForwardedForIp,HttpMethod,Id,LoginGeoId,LoginHistoryId,\
             LoginKey,LoginLatitude,LoginLongitude,LoginSubType,LoginType,LoginUrl,Platform,\
             PolicyId,PolicyOutcome,PostalCode,RelatedEventIdentifier,SessionKey,SessionLevel,\
             SourceIp,Status,Subdivision,TlsProtocol,UserId,UserType,Username",
        ],
    ),
    // §4.2 LogoutEvent: the real-shaped record and the fields the documentation adds.
    (
        "logout_event",
        &[
            "EventDate,EventIdentifier,UserId,Username,SessionKey,LoginKey,SessionLevel,SourceIp,\
             CreatedDate,Id,SessionType,RelatedEventIdentifier,UserType,ApiType",
        ],
    ),
    // §5.1 SetupAuditTrail, with the CreatedBy relationship.
    (
        "setup_audit_trail",
        &[
            "Id,Action,Section,Display,DelegateUser,CreatedByContext,CreatedByIssuer,\
             ResponsibleNamespacePrefix,CreatedDate,CreatedById,CreatedBy.Name,CreatedBy.Username",
        ],
    ),
    // §5.2 LoginHistory.
    (
        "login_history",
        &[
            "Id,ApiType,ApiVersion,Application,AuthMethodReference,AuthenticationServiceId,\
             Browser,CipherSuite,ClientVersion,CountryIso,ForwardedForIp,LoginGeoId,LoginSubType,\
             LoginTime,LoginType,LoginUrl,NetworkId,OptionsIsGet,OptionsIsPost,Platform,SourceIp,\
             Status,TlsProtocol,UserId",
        ],
    ),
];

/// Fields sfevents adds to every event.
const ALWAYS: &[&str] = &["org_id", "id"];

/// How many known fields a warning lists.
pub const KNOWN_SHOWN: usize = 12;

/// A field a rule names that its dataset is not known to have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldWarning {
    /// Where the rule came from: `builtin:<file>` or a path.
    pub file: String,
    /// The rule's Sigma name (else its title).
    pub rule: String,
    pub dataset: String,
    pub field: String,
}

/// The fields a dataset is known to have, sorted; `None` when the reference lists none.
pub fn known_fields(dataset: &str) -> Option<Vec<&'static str>> {
    let (_, lists) = DATASETS.iter().find(|(name, _)| *name == dataset)?;
    let fields: BTreeSet<&'static str> = lists.iter().flat_map(|l| split(l)).collect();
    Some(fields.into_iter().collect())
}

fn split(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split(',').map(str::trim).filter(|f| !f.is_empty())
}

/// Whether `dataset` has `field`; `None` when the dataset is unknown.
pub fn has_field(dataset: &str, field: &str) -> Option<bool> {
    let known = known_fields(dataset)?;
    let head = field.split('.').next().unwrap_or(field);
    Some(ALWAYS.contains(&field) || known.contains(&field) || known.contains(&head))
}

/// A dataset's known fields, the nearest to `field` first (case, `_` and `.` ignored), for a
/// warning to show what was probably meant.
pub fn nearest_fields(dataset: &str, field: &str) -> Vec<&'static str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = norm(field);
    let mut known = known_fields(dataset).unwrap_or_default();
    known.sort_by_cached_key(|k| (distance(&norm(k), &wanted), *k));
    known
}

/// Levenshtein distance.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

impl RuleSet {
    /// Every field a loaded rule names that its dataset does not have, in load order.
    pub fn unknown_fields(&self) -> Vec<FieldWarning> {
        let mut out = Vec::new();
        for (rule, datasets, fields) in self.named_fields() {
            for dataset in &datasets {
                for field in &fields {
                    if has_field(dataset, field) == Some(false) {
                        out.push(FieldWarning {
                            file: rule.file.clone(),
                            rule: rule.sigma_name.clone(),
                            dataset: dataset.clone(),
                            field: field.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Each rule with its datasets and the field names it uses (deduplicated, sorted).
    fn named_fields(&self) -> Vec<(&crate::RuleInfo, Vec<String>, BTreeSet<String>)> {
        let mut out = Vec::new();
        for r in &self.collection.rules {
            let key = r.id.clone().unwrap_or_else(|| r.title.clone());
            let Some(info) = self.by_id(&key) else {
                continue;
            };
            let mut fields = BTreeSet::new();
            for detection in r.detection.named.values() {
                detection_fields(detection, "", &mut fields);
            }
            if let Some((_, ext)) = self.extensions.iter().find(|(id, _)| *id == key) {
                fields.extend(extension_fields(ext));
            }
            out.push((info, info.datasets.clone(), fields));
        }
        for c in &self.collection.correlations {
            let key = c.id.clone().unwrap_or_else(|| c.title.clone());
            let Some(info) = self.by_id(&key) else {
                continue;
            };
            let aliases: BTreeSet<&str> = c.aliases.iter().map(|a| a.alias.as_str()).collect();
            let fields = c
                .group_by
                .iter()
                .filter(|f| !aliases.contains(f.as_str()))
                .cloned()
                .collect();
            out.push((info, info.datasets.clone(), fields));
            // An alias names a field per rule: check each against that rule's datasets.
            for alias in &c.aliases {
                for (reference, field) in &alias.mapping {
                    if let Some(used) = self
                        .rules()
                        .iter()
                        .find(|r| r.id == *reference || r.sigma_name == *reference)
                    {
                        out.push((info, used.datasets.clone(), BTreeSet::from([field.clone()])));
                    }
                }
            }
        }
        out
    }
}

/// The field names of a detection, nested ones included (an array block's members are named
/// under the array's path).
fn detection_fields(detection: &Detection, prefix: &str, out: &mut BTreeSet<String>) {
    let under = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                match &item.field.name {
                    Some(name) => out.insert(under(name)),
                    None if !prefix.is_empty() => out.insert(prefix.to_string()),
                    None => false,
                };
            }
        }
        Detection::AnyOf(subs) | Detection::And(subs) => {
            for sub in subs {
                detection_fields(sub, prefix, out);
            }
        }
        Detection::Keywords(_) => {}
        Detection::ArrayMatch { field, body, .. } => detection_fields(body, &under(field), out),
        Detection::Conditional { named, .. } => {
            for sub in named.values() {
                detection_fields(sub, prefix, out);
            }
        }
    }
}

fn extension_fields(ext: &Extension) -> Vec<String> {
    match ext {
        Extension::NewValue { spec, .. } => {
            spec.fields.iter().chain(&spec.group_by).cloned().collect()
        }
        Extension::Baseline { spec, .. } => std::iter::once(&spec.field)
            .chain(&spec.group_by)
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSources;

    const RULE: &str = "title: Failed logins
id: 5a1e3c2b-0d4f-4e6a-8b9c-1d2e3f4a5b6c
name: test_failed.elf
logsource:
  product: salesforce
  service: SERVICE
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
    FIELD: 005xx0000012345
  condition: selection
level: low
";

    fn load(service: &str, field: &str) -> RuleSet {
        let dir = tempfile::tempdir().unwrap();
        let text = RULE.replace("SERVICE", service).replace("FIELD", field);
        std::fs::write(dir.path().join("rule.yml"), text).unwrap();
        RuleSet::load(&RuleSources {
            folders: vec![dir.path().to_path_buf()],
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn a_typo_is_flagged() {
        assert!(load("login", "USER_ID").unknown_fields().is_empty());
        let warnings = load("login", "USERID").unknown_fields();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert_eq!(
            (w.rule.as_str(), w.dataset.as_str()),
            ("test_failed.elf", "login")
        );
        assert_eq!(w.field, "USERID");
        assert!(w.file.ends_with("rule.yml"), "{}", w.file);
    }

    #[test]
    fn relationship_and_added_fields_are_known() {
        assert_eq!(
            has_field("setup_audit_trail", "CreatedBy.Username"),
            Some(true)
        );
        assert_eq!(has_field("setup_audit_trail", "CreatedBy.Name"), Some(true));
        assert_eq!(
            has_field("setup_audit_trail", "Createdby.Username"),
            Some(false)
        );
        assert_eq!(has_field("login", "org_id"), Some(true));
        assert_eq!(has_field("login_event", "id"), Some(true));
        let set = load("setup_audit_trail", "CreatedBy.Username");
        // LOGIN_STATUS is no SetupAuditTrail field; the relationship is.
        let fields: Vec<String> = set.unknown_fields().into_iter().map(|w| w.field).collect();
        assert_eq!(fields, ["LOGIN_STATUS"]);
    }

    #[test]
    fn the_nearest_fields_come_first() {
        assert_eq!(nearest_fields("login", "USERID")[0], "USER_ID");
        assert_eq!(nearest_fields("login_event", "sourceip")[0], "SourceIp");
        assert!(nearest_fields("login_as_event", "X").is_empty());
    }

    #[test]
    fn an_unknown_dataset_gives_no_warning() {
        assert_eq!(has_field("login_as_event", "USERID"), None);
        assert!(load("login_as_event", "USERID").unknown_fields().is_empty());
        assert!(load("my_custom_object__c", "Anything")
            .unknown_fields()
            .is_empty());
    }

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = BTreeSet::new();
        for (name, _) in DATASETS {
            assert!(seen.insert(*name), "{name} is listed twice");
            let known = known_fields(name).unwrap();
            assert!(
                known.iter().all(|f| !f.is_empty() && !f.contains(' ')),
                "{name}: {known:?}"
            );
        }
    }
}
