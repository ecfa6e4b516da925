//! CSV headers of the EventLogFile types and what kind of value each column holds.

/// Headers of the known event types, in file order (see the reference, section 3.7).
const HEADERS: &[(&str, &str)] = &[
    (
        "Login",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,LOGIN_TYPE,BROWSER_TYPE,API_TYPE,API_VERSION,USER_NAME,TLS_PROTOCOL,CIPHER_SUITE,AUTHENTICATION_METHOD_REFERENCE,LOGIN_SUB_TYPE,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED,LOGIN_STATUS,SOURCE_IP",
    ),
    (
        "Logout",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,USER_TYPE,SESSION_TYPE,SESSION_LEVEL,BROWSER_TYPE,PLATFORM_TYPE,RESOLUTION_TYPE,APP_TYPE,CLIENT_VERSION,API_TYPE,API_VERSION,USER_INITIATED_LOGOUT,SESSION_KEY,LOGIN_KEY,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP",
    ),
    (
        "ApiTotalUsage",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,API_FAMILY,API_VERSION,API_RESOURCE,CLIENT_NAME,HTTP_METHOD,CLIENT_IP,COUNTS_AGAINST_API_LIMIT,CONNECTED_APP_ID,ENTITY_NAME,STATUS_CODE,CONNECTED_APP_NAME,USER_NAME,TIMESTAMP_DERIVED",
    ),
    (
        "API",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,API_TYPE,API_VERSION,CLIENT_NAME,METHOD_NAME,ENTITY_NAME,ROWS_PROCESSED,REQUEST_SIZE,RESPONSE_SIZE,DB_BLOCKS,DB_CPU_TIME,QUERY,USER_AGENT,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "RestApi",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,METHOD,MEDIA_TYPE,STATUS_CODE,USER_AGENT,ROWS_PROCESSED,NUMBER_FIELDS,DB_BLOCKS,DB_CPU_TIME,REQUEST_SIZE,RESPONSE_SIZE,ENTITY_NAME,CONNECTED_APP_ID,CLIENT_NAME,EXCEPTION_MESSAGE,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "URI",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,REFERRER_URI,DB_BLOCKS,DB_CPU_TIME,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "ApexExecution",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,ENTRY_POINT,QUIDDITY,EXEC_TIME,CALLOUT_TIME,NUMBER_SOQL_QUERIES,DB_TOTAL_TIME,IS_LONG_RUNNING_REQUEST,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "ApexCallout",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,TYPE,SUCCESS,TIME,METHOD,REQUEST_SIZE,RESPONSE_SIZE,URL,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    // Common prefix + the docs set (alphabetical) + the derived suffix.
    (
        "Report",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,AVERAGE_ROW_SIZE,DB_BLOCKS,DB_CPU_TIME,DISPLAY_TYPE,ENTITY_NAME,NUMBER_BUCKETS,NUMBER_COLUMNS,NUMBER_EXCEPTION_FILTERS,ORIGIN,RENDERING_TYPE,REPORT_ID,ROW_COUNT,SORT,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED,REPORT_ID_DERIVED",
    ),
    // No RUN_TIME/CPU_TIME/URI in this type.
    (
        "LightningPageView",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,SESSION_KEY,LOGIN_KEY,USER_TYPE,APP_NAME,BROWSER_NAME,BROWSER_VERSION,CLIENT_GEO,CLIENT_ID,CONNECTION_TYPE,DEVICE_ID,DEVICE_MODEL,DEVICE_PLATFORM,DEVICE_SESSION_ID,DURATION,EFFECTIVE_PAGE_TIME,EFFECTIVE_PAGE_TIME_DEVIATION,EFFECTIVE_PAGE_TIME_DEVIATION_ERROR_TYPE,EFFECTIVE_PAGE_TIME_DEVIATION_REASON,GRANDPARENT_UI_ELEMENT,OS_NAME,OS_VERSION,PAGE_APP_NAME,PAGE_CONTEXT,PAGE_ENTITY_ID,PAGE_ENTITY_TYPE,PAGE_START_TIME,PAGE_URL,PARENT_UI_ELEMENT,PREVPAGE_APP_NAME,PREVPAGE_CONTEXT,PREVPAGE_ENTITY_ID,PREVPAGE_ENTITY_TYPE,PREVPAGE_URL,SDK_APP_TYPE,SDK_APP_VERSION,SDK_VERSION,TARGET_UI_ELEMENT,UI_EVENT_ID,UI_EVENT_SEQUENCE_NUM,UI_EVENT_SOURCE,UI_EVENT_TIMESTAMP,UI_EVENT_TYPE,USER_AGENT,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP",
    ),
    (
        "AuraRequest",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,DB_TOTAL_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,REQUEST_METHOD,ACTION_MESSAGE,ACTION_MESSAGE_LENGTH,EASY_SUITE_VALUE,USER_AGENT,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "ApexRestApi",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,METHOD,MEDIA_TYPE,STATUS_CODE,USER_AGENT,ROWS_PROCESSED,NUMBER_FIELDS,DB_BLOCKS,DB_CPU_TIME,REQUEST_SIZE,RESPONSE_SIZE,ENTITY_NAME,CONNECTED_APP_ID,CLIENT_NAME,EXCEPTION_MESSAGE,QUERY,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "VisualforceRequest",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,PAGE_NAME,REQUEST_TYPE,IS_FIRST_REQUEST,QUERY,HTTP_METHOD,USER_AGENT,REQUEST_SIZE,RESPONSE_SIZE,VIEW_STATE_SIZE,CONTROLLER_TYPE,MANAGED_PACKAGE_NAMESPACE,IS_AJAX_REQUEST,DB_BLOCKS,DB_CPU_TIME,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "Sites",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,PAGE_NAME,REQUEST_TYPE,IS_FIRST_REQUEST,QUERY,SITE_ID,IS_SECURE,RESPONSE_SIZE,IS_GUEST,IS_API,IS_ERROR,HTTP_METHOD,HTTP_HEADERS,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "BulkApiRequest",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,REQUEST_PATH,API_VERSION,JOB_ID,BATCH_ID,OPERATION_TYPE,SUCCESS,ERROR_MESSAGE,CONNECTED_APP_ID,CLIENT_NAME,CONCURRENCY_MODE,STATUS_CODE,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "CompositeApi",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,ALL_OR_NONE,FAILURE_REASON,IS_REQUEST_COLLATION_ON,NUM_RETRIES,NUM_GRAPH_DEPTH,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "CompositeApiSubrequest",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,METHOD,IS_CANCELLED,CANCELLED_REASON,SUCCESS,STATUS_CODE,INITIAL_REFERENCE_IDS,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "QueuedExecution",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,JOB_ID,ENTRY_POINT,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
    (
        "PlatformEncryption",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,KEY_ID,ACTION,KEY_TYPE,METHOD,BOT_ID,BOT_SESSION_ID,PLANNER_ID,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED,KEY_ID_DERIVED",
    ),
    (
        "DatabaseSave",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,KEY_PREFIX,DML_TYPE,NUM_ROWS,SAMPLE_FACTOR,FIRST_ENTITY_ID,SESSION_KEY,LOGIN_KEY,TIMESTAMP_DERIVED",
    ),
    (
        "CSPViolation",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,BLOCKED_URI,BLOCKED_URI_DOMAIN,DIRECTIVE,CONTEXT,UNIQUE_ID,DISPOSITION,SOURCE,COLUMN_NUMBER,LINE_NUMBER,SOURCE_FILE,RESOURCE_SAMPLE,TIMESTAMP_DERIVED",
    ),
    (
        "ContentDistribution",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,DELIVERY_ID,USER_ID,VERSION_ID,RELATED_ENTITY_ID,DELIVERY_LOCATION,ACTION,TIMESTAMP_DERIVED,USER_ID_DERIVED",
    ),
    (
        "Sandbox",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,SANDBOX_ID,ORGANIZATION_ID,PENDING_SANDBOX_ORG_ID,CURRENT_SANDBOX_ORG_ID,STATUS,USER_ID,TIMESTAMP_DERIVED,USER_ID_DERIVED",
    ),
    (
        "HostnameRedirects",
        "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,MESSAGE,DOMAIN,SOURCE_HOSTNAME,TARGET_HOSTNAME,PATH,REDIRECT_REASON,IS_BLOCKED_REDIRECTION,REFERRER,ORIGIN,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED",
    ),
];

/// Header of a type with no known column list: the common request-type columns.
const GENERIC_HEADER: &str = "EVENT_TYPE,TIMESTAMP,REQUEST_ID,ORGANIZATION_ID,USER_ID,RUN_TIME,CPU_TIME,URI,SESSION_KEY,LOGIN_KEY,USER_TYPE,REQUEST_STATUS,DB_TOTAL_TIME,TIMESTAMP_DERIVED,USER_ID_DERIVED,CLIENT_IP,URI_ID_DERIVED";

/// Every event type with a column list of its own.
pub(crate) fn known_types() -> Vec<&'static str> {
    let mut out: Vec<&str> = HEADERS.iter().map(|(t, _)| *t).collect();
    out.extend(crate::security_types::types());
    out
}

/// The header line (comma-separated, unquoted) of an event type.
pub(crate) fn header(event_type: &str) -> &'static str {
    if let Some(h) = crate::security_types::header(event_type) {
        return h;
    }
    HEADERS
        .iter()
        .find(|(t, _)| *t == event_type)
        .or_else(|| {
            HEADERS
                .iter()
                .find(|(t, _)| t.eq_ignore_ascii_case(event_type))
        })
        .map(|(_, h)| *h)
        .unwrap_or(GENERIC_HEADER)
}

pub(crate) fn columns(event_type: &str) -> Vec<&'static str> {
    header(event_type).split(',').collect()
}

pub(crate) use crate::kind::Kind;

const API_TYPES: &[&str] = &["API", "RestApi", "ApiTotalUsage"];

/// URI templates of an event type.
pub(crate) fn uri_templates(event_type: &str) -> &'static [&'static str] {
    if let Some(t) = crate::security_types::uri_templates(event_type) {
        return t;
    }
    match event_type {
        "Login" => &[
            "/index.jsp",
            "/services/oauth2/token",
            "/services/oauth2/token",
            "/services/Soap/u/64.0",
            "/",
        ],
        "API" => &[
            "/services/Soap/u/64.0",
            "/services/Soap/u/64.0",
            "/services/Soap/c/63.0/{0DF}",
            "/services/Soap/m/64.0",
        ],
        "RestApi" => &[
            "/services/data/v64.0/query",
            "/services/data/v64.0/query",
            "/services/data/v64.0/sobjects/Account/{001}",
            "/services/data/v64.0/sobjects/Contact/{003}",
            "/services/data/v64.0/sobjects/EventLogFile/{0AT}/LogFile",
            "/services/data/v64.0/limits",
            "/services/data/v64.0/sobjects/Opportunity/describe",
        ],
        "URI" => &[
            "/home/home.jsp",
            "/{001}",
            "/{006}/e",
            "/lightning/r/Account/{001}/view",
            "/lightning/r/Case/{500}/view",
            "/lightning/page/home",
            "/apex/AccountOverview",
            "/setup/own/deleteredirect.jsp",
            "/secur/contentDoor",
        ],
        "ApexExecution" => &[
            "/apex/AccountOverview",
            "/services/apexrest/v1/orders",
            "/aura",
            "TRIGGERS",
            "/services/Soap/s/64.0",
        ],
        "ApexCallout" => &["CALLOUT-LOG"],
        "Report" => &["/{00O}", "/lightning/r/Report/{00O}/view", "/{00O}?export=1"],
        "AuraRequest" => &["/aura", "/aura?r=3&ui-force-components-controllers-recordGlobalValueProvider.RecordGvp.getRecord=1"],
        "ApexRestApi" => &[
            "/services/apexrest/v1/orders/{801}",
            "/services/apexrest/v1/orders",
            "/services/apexrest/inventory/sync",
        ],
        "VisualforceRequest" => &["/apex/AccountOverview", "/apex/InvoicePdf?id={001}"],
        "Sites" => &["/support/s/", "/partners/login", "/support/s/article/{ka0}"],
        "BulkApiRequest" => &["/services/async/64.0/job/{750}/batch", "/services/data/v64.0/jobs/ingest"],
        "CompositeApi" | "CompositeApiSubrequest" => &[
            "/services/data/v64.0/composite",
            "/services/data/v64.0/composite/sobjects",
        ],
        "HostnameRedirects" => &["/home/home.jsp", "/lightning/page/home"],
        "PlatformEncryption" => &["/services/data/v64.0/tooling/sobjects/TenantSecret"],
        _ => &["/home/home.jsp", "/lightning/page/home", "/{001}"],
    }
}

/// Whether most of a type's events come from the API integration user.
pub(crate) fn api_heavy(event_type: &str) -> bool {
    crate::security_types::api_heavy(event_type)
        || API_TYPES.contains(&event_type)
        || matches!(
            event_type,
            "BulkApiRequest" | "ApexRestApi" | "CompositeApi" | "CompositeApiSubrequest"
        )
}

const USER_TYPES: &[&str] = &[
    "Standard",
    "Standard",
    "Standard",
    "Standard",
    "Standard",
    "Standard",
    "Standard",
    "Automated",
    "CsnOnly",
    "Guest",
];
const HTTP_METHODS: &[&str] = &[
    "GET", "GET", "GET", "GET", "POST", "POST", "PATCH", "DELETE",
];
const STATUS_CODES: &[&str] = &[
    "200", "200", "200", "200", "200", "200", "200", "200", "201", "204", "400", "401", "404",
    "500",
];
const REQ_STATUS_LETTER: &[&str] = &[
    "S", "S", "S", "S", "S", "S", "S", "S", "F", "U", "R", "A", "N",
];
const APP_NAMES: &[&str] = &[
    "one:one",
    "LightningSales",
    "LightningService",
    "standard__LightningSales",
];
const PAGE_CONTEXTS: &[&str] = &[
    "force:objectHomeDesktop",
    "force:recordHomeDesktop",
    "one:appNavDesktop",
    "home:landing",
];
const ENTITY_TYPES: &[&str] = &["Account", "Contact", "Opportunity", "Case", "Lead", ""];
const PAGE_URLS: &[&str] = &[
    "/lightning/r/Account/{001}/view",
    "/lightning/o/Opportunity/list?filterName=Recent",
    "/lightning/page/home",
    "/lightning/r/Case/{500}/view",
];
const UI_ELEMENTS: &[&str] = &["", "", "button", "tab", "listView", "recordHeader"];

/// The kind of a column of an event type: known names first, then fallbacks by name pattern.
pub(crate) fn kind(event_type: &str, col: &str) -> Kind {
    use Kind::*;
    if let Some(k) = crate::security_types::kind(event_type, col) {
        return k;
    }
    match col {
        "EVENT_TYPE" => EventType,
        "TIMESTAMP" => Timestamp,
        "TIMESTAMP_DERIVED" => TimestampDerived,
        "REQUEST_ID" => RequestId,
        "ORGANIZATION_ID" => OrgId,
        "USER_ID" => UserId,
        "USER_ID_DERIVED" => UserIdDerived,
        "USER_NAME" => UserName,
        "CLIENT_IP" => ClientIp,
        "SOURCE_IP" => PlainIp,
        "SESSION_KEY" => SessionKey,
        "LOGIN_KEY" => LoginKey,
        "URI" => Uri,
        "URI_ID_DERIVED" => UriIdDerived,
        // A few integrations still call versions Salesforce retired (21.0 to 30.0): the
        // legacy-version report must have something to find.
        "API_VERSION" if event_type == "ApiTotalUsage" => Pick(&[
            "64.0", "64.0", "64.0", "64.0", "63.0", "63.0", "62.0", "58.0", "9998.0", "30.0",
            "26.0",
        ]),
        "API_VERSION" => ApiVersion,
        "USER_AGENT" => UserAgent,
        "QUERY" => Query,
        "ENTITY_NAME" => EntityName,
        "EXCEPTION_MESSAGE" | "ERROR_MESSAGE" | "FAILURE_REASON" | "CANCELLED_REASON"
        | "MESSAGE" => ErrorText,
        "RUN_TIME" => Skewed(3, 12_000),
        "CPU_TIME" => Skewed(0, 4_000),
        "DB_TOTAL_TIME" => {
            if matches!(event_type, "ApexExecution" | "ApexSoap") {
                Skewed(0, 3_000)
            } else {
                Skewed(50_000, 2_000_000_000)
            }
        }
        "DB_CPU_TIME" => Skewed(0, 800),
        "DB_BLOCKS" => Skewed(0, 20_000),
        "USER_TYPE" => Pick(USER_TYPES),
        "REQUEST_STATUS" => match event_type {
            "Login" | "API" | "RestApi" | "ApexRestApi" => {
                Pick(&["", "", "Success", "Success", "Success", "Failed"])
            }
            _ => Pick(REQ_STATUS_LETTER),
        },
        "LOGIN_TYPE" => Pick(&["i", "i", "A", "A", "R", "N", "6"]),
        "BROWSER_TYPE" => {
            if event_type == "Logout" {
                Pick(&["3009", "3009", "2002", "1001", "5001", ""])
            } else {
                UserAgent
            }
        }
        "API_TYPE" => Pick(&["", "", "", "E", "P", "T", "f", "S", "M"]),
        "TLS_PROTOCOL" => Pick(&["TLSv1.2", "TLSv1.2", "TLSv1.3", "TLSv1.3", "TLSv1.3"]),
        "CIPHER_SUITE" => Pick(&[
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
        ]),
        "AUTHENTICATION_METHOD_REFERENCE" => Pick(&["", "", "", "pwd", "pwd,mfa", "\"pwd\",\"otp\""]),
        "LOGIN_SUB_TYPE" => Pick(&["", "", "", "oauthjwt", "oauthclientcredentials"]),
        "LOGIN_STATUS" => Pick(&[
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_NO_ERROR",
            "LOGIN_ERROR_INVALID_PASSWORD",
            "LOGIN_ERROR_SSO_PWD_INVALID",
        ]),
        "SESSION_TYPE" => Pick(&["U", "U", "A", "O", "R"]),
        "SESSION_LEVEL" => Pick(&["STANDARD", "STANDARD", "STANDARD", "HIGH_ASSURANCE"]),
        "PLATFORM_TYPE" => Pick(&["1000", "1000", "2003", "5005", "5006", "5007", ""]),
        "RESOLUTION_TYPE" => Pick(&["9999", "9999", "1003", "2001", ""]),
        "APP_TYPE" => Pick(&["1000", "1007", "1007", "2514", "1014", "3475"]),
        "CLIENT_VERSION" => Pick(&["9998", "9998", "0", "1"]),
        "USER_INITIATED_LOGOUT" => Bool01(350),
        "API_FAMILY" => Pick(&["REST", "REST", "REST", "SOAP", "Bulk", "ApexREST"]),
        "API_RESOURCE" => Template(&[
            "/v64.0/sobjects/Account/{001}",
            "/v64.0/query",
            "/v64.0/limits",
            "describeSObjects",
            "query",
            "/v64.0/sobjects/EventLogFile/{0AT}/LogFile",
        ]),
        "CLIENT_NAME" => Pick(&["", "", "", "sfevents", "DataLoader", "Workbench/64.0"]),
        "HTTP_METHOD" | "REQUEST_METHOD" => Pick(HTTP_METHODS),
        "METHOD" => match event_type {
            "PlatformEncryption" => Pick(&["encrypt", "decrypt", "rotate"]),
            _ => Pick(HTTP_METHODS),
        },
        "COUNTS_AGAINST_API_LIMIT" => BoolTf(920),
        // An org has a handful of connected apps, not one per call.
        "CONNECTED_APP_ID" => Pick(&[
            "",
            "0H45j000000Gx1k",
            "0H45j000000Gx2P",
            "0H45j000000Gx3b",
            "0H45j000000Gx4T",
        ]),
        "CONNECTED_APP_NAME" => Pick(&[
            "",
            "sfevents collector",
            "Salesforce CLI",
            "Data Loader, Partner Edition",
        ]),
        "STATUS_CODE" => Pick(STATUS_CODES),
        "METHOD_NAME" => Pick(&[
            "query",
            "query",
            "queryMore",
            "describeSObjects",
            "create",
            "update",
            "upsert",
            "retrieve",
            "getUserInfo",
        ]),
        "ROWS_PROCESSED" | "ROW_COUNT" | "NUM_ROWS" => Skewed(0, 50_000),
        "REQUEST_SIZE" | "RESPONSE_SIZE" | "VIEW_STATE_SIZE" | "ACTION_MESSAGE_LENGTH" => {
            Skewed(0, 2_000_000)
        }
        "MEDIA_TYPE" => Pick(&[
            "application/json",
            "application/json",
            "application/json;charset=UTF-8",
            "application/xml",
            "",
        ]),
        "NUMBER_FIELDS" | "NUMBER_COLUMNS" => Num(1, 60),
        "REFERRER_URI" | "REFERRER" => Template(&[
            "",
            "https://{org}.lightning.force.com/lightning/page/home",
            "https://{org}.my.salesforce.com/home/home.jsp",
            "https://{org}.lightning.force.com/lightning/r/Account/{001}/view",
        ]),
        "ENTRY_POINT" => Pick(&[
            "AccountTriggerHandler.execute",
            "VF- /apex/AccountOverview",
            "OrdersRestResource.doGet",
            "BatchAccountCleanup",
            "InvoiceSyncQueueable",
            "Aura- AccountController.getSummary",
        ]),
        "QUIDDITY" => Pick(&[
            "A", "B", "BA", "C", "E", "F", "H", "I", "K", "L", "M", "Q", "R", "S", "TA", "TD",
            "TS", "V", "W", "X",
        ]),
        "EXEC_TIME" | "TIME" => Skewed(1, 30_000),
        "CALLOUT_TIME" => Skewed(0, 10_000),
        "NUMBER_SOQL_QUERIES" => Skewed(0, 100),
        "IS_LONG_RUNNING_REQUEST" => Bool01(20),
        "TYPE" => Pick(&["REST", "REST", "REST", "SOAP", "OData"]),
        "SUCCESS" => Bool01(960),
        "URL" => Template(&[
            "https://api.stripe.com/v1/charges",
            "https://hooks.slack.com/services/T0000/B0000/XXXX",
            "https://erp.example.net/orders?id=42&expand=lines,items",
            "https://{org}.my.salesforce.com/services/data/v64.0/query",
        ]),
        "AVERAGE_ROW_SIZE" => Skewed(10, 4_000),
        "DISPLAY_TYPE" => Pick(&["D", "S", "S", "H"]),
        "NUMBER_BUCKETS" => Num(0, 5),
        "NUMBER_EXCEPTION_FILTERS" => Num(0, 3),
        "ORIGIN" => match event_type {
            "Report" => Pick(&[
                "ReportRunFromLightning",
                "ReportRunFromLightning",
                "DashboardComponentUpdate",
                "ReportRunFromClassic",
                "ReportRunUsingApi",
            ]),
            _ => Template(&["", "https://{org}.lightning.force.com"]),
        },
        "RENDERING_TYPE" => Pick(&["W", "W", "E", "P", "J"]),
        "REPORT_ID" => RecId("00O"),
        "REPORT_ID_DERIVED" => RecIdDerived("00O"),
        "SORT" => Pick(&["", "", "Name ASC", "CreatedDate DESC, Amount ASC"]),
        // LightningPageView
        "APP_NAME" | "PAGE_APP_NAME" | "PREVPAGE_APP_NAME" => Pick(APP_NAMES),
        "BROWSER_NAME" => Pick(&["CHROME", "CHROME", "CHROME", "FIREFOX", "SAFARI", "EDGE"]),
        "BROWSER_VERSION" => Pick(&["124", "125", "126", "17", "115"]),
        "CLIENT_GEO" => Pick(&[
            "United States/California",
            "United States/New York",
            "Germany/Bavaria",
            "India/Karnataka",
            "United Kingdom/England",
        ]),
        "CLIENT_ID" | "DEVICE_ID" | "DEVICE_MODEL" | "SDK_APP_TYPE" | "SDK_APP_VERSION"
        | "SDK_VERSION" | "UI_EVENT_ID" | "RESOURCE_SAMPLE" | "BOT_ID" | "BOT_SESSION_ID"
        | "PLANNER_ID" => Pick(&[""]),
        "CONNECTION_TYPE" => Pick(&["", "", "4g", "wifi"]),
        "DEVICE_PLATFORM" => Pick(&[
            "SFX:BROWSER:DESKTOP",
            "SFX:BROWSER:DESKTOP",
            "SFX:BROWSER:DESKTOP",
            "S1:IOS_APP:PHONE",
            "S1:ANDROID_APP:PHONE",
        ]),
        "DEVICE_SESSION_ID" | "UNIQUE_ID" => Uuid,
        "DURATION" | "EFFECTIVE_PAGE_TIME" => Skewed(50, 600_000),
        "EFFECTIVE_PAGE_TIME_DEVIATION" => Bool01(100),
        "EFFECTIVE_PAGE_TIME_DEVIATION_REASON" => {
            Pick(&["", "", "", "", "", "PageHasError", "InteractionsBeforePageLoaded"])
        }
        "EFFECTIVE_PAGE_TIME_DEVIATION_ERROR_TYPE" => Pick(&["", "", "", "", "", "Custom"]),
        "GRANDPARENT_UI_ELEMENT" | "PARENT_UI_ELEMENT" | "TARGET_UI_ELEMENT" => Pick(UI_ELEMENTS),
        "OS_NAME" => Pick(&["WINDOWS", "WINDOWS", "MAC", "LINUX", "IOS"]),
        "OS_VERSION" => Pick(&["10", "11", "10.15.7", "17.4"]),
        "PAGE_CONTEXT" | "PREVPAGE_CONTEXT" => Pick(PAGE_CONTEXTS),
        "PAGE_ENTITY_ID" => RecIdDerived("001"),
        "PREVPAGE_ENTITY_ID" => RandId18("003", 400),
        "PAGE_ENTITY_TYPE" | "PREVPAGE_ENTITY_TYPE" => Pick(ENTITY_TYPES),
        "PAGE_START_TIME" => EpochMs { max_back: 20_000 },
        "UI_EVENT_TIMESTAMP" => EpochMs { max_back: 0 },
        "PAGE_URL" | "PREVPAGE_URL" => Template(PAGE_URLS),
        "UI_EVENT_SEQUENCE_NUM" => Skewed(0, 500),
        "UI_EVENT_SOURCE" => Pick(&["", "click", "hover", "scroll"]),
        "UI_EVENT_TYPE" => Pick(&["pageView", "pageView", "user"]),
        // AuraRequest
        "ACTION_MESSAGE" => Pick(&[
            "",
            "{\"actions\":[{\"id\":\"123;a\",\"descriptor\":\"serviceComponent://ui.force.components.controllers.recordGlobalValueProvider.RecordGvpController/ACTION$getRecord\",\"callingDescriptor\":\"UNKNOWN\"}]}",
            "{\"actions\":[{\"id\":\"88;a\",\"descriptor\":\"apex://AccountController/ACTION$getSummary\",\"params\":{\"accountId\":\"0015j00000XyZ12\"}}]}",
        ]),
        "EASY_SUITE_VALUE" => Pick(&["", "", "Sales", "Service"]),
        // VisualforceRequest / Sites
        "PAGE_NAME" => Pick(&["AccountOverview", "InvoicePdf", "SiteLogin", "CommunitiesLanding"]),
        "REQUEST_TYPE" => Pick(&["page", "page", "content_pdf", "post_back"]),
        "CONTROLLER_TYPE" => Pick(&["0", "1", "2", "3"]),
        "MANAGED_PACKAGE_NAMESPACE" => Pick(&["", "", "", "acmepkg"]),
        "HTTP_HEADERS" => Pick(&[
            "",
            "Accept: text/html,application/xhtml+xml\nAccept-Language: en-US,en;q=0.9",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\nX-Forwarded-For: \"10.0.0.1\"",
        ]),
        // BulkApiRequest
        "REQUEST_PATH" => Template(&["/services/async/64.0/job/{750}/batch", "/services/data/v64.0/jobs/ingest/{750}/batches"]),
        "JOB_ID" => RandId("750", 0),
        "BATCH_ID" => RandId("751", 0),
        "OPERATION_TYPE" => Pick(&["insert", "update", "upsert", "delete", "query"]),
        "CONCURRENCY_MODE" => Pick(&["Parallel", "Parallel", "Serial"]),
        // Composite
        "ALL_OR_NONE" | "IS_REQUEST_COLLATION_ON" => BoolTf(300),
        "NUM_RETRIES" => Skewed(0, 5),
        "NUM_GRAPH_DEPTH" => Num(1, 5),
        "INITIAL_REFERENCE_IDS" => Pick(&["", "refAccount", "refAccount,refContact"]),
        // PlatformEncryption
        "KEY_ID" => RecId("02G"),
        "KEY_ID_DERIVED" => RecIdDerived("02G"),
        "ACTION" => match event_type {
            "ContentDistribution" => Pick(&["VIEW", "VIEW", "DOWNLOAD", "CREATE"]),
            _ => Pick(&["Encrypt", "Decrypt", "Rotate"]),
        },
        "KEY_TYPE" => Pick(&["Data", "Search Index", "Fields and Files"]),
        // DatabaseSave
        "KEY_PREFIX" => Pick(&["001", "003", "006", "500", "00Q"]),
        "DML_TYPE" => Pick(&["Insert", "Update", "Update", "Delete", "Upsert"]),
        "SAMPLE_FACTOR" => Pick(&["1", "1", "10", "100"]),
        // CSPViolation
        "BLOCKED_URI" | "SOURCE_FILE" => Template(&[
            "https://cdn.example.org/lib.js",
            "https://fonts.example.com/css?family=Roboto,Open+Sans",
            "inline",
        ]),
        "BLOCKED_URI_DOMAIN" => Pick(&["cdn.example.org", "fonts.example.com", ""]),
        "DIRECTIVE" => Pick(&["script-src", "img-src", "connect-src", "style-src"]),
        "CONTEXT" => Pick(&["Lightning", "Visualforce", "Experience"]),
        "DISPOSITION" => Pick(&["enforce", "enforce", "report"]),
        "SOURCE" => Pick(&["", "", "unsafe-inline"]),
        // ContentDistribution
        "DELIVERY_LOCATION" => Pick(&["", "Viewer", "Download"]),
        // Sandbox
        "STATUS" => Pick(&["Completed", "Completed", "Processing", "Pending", "Failed"]),
        // HostnameRedirects
        "DOMAIN" | "SOURCE_HOSTNAME" => Template(&["{org}.my.salesforce.com", "na139.salesforce.com"]),
        "TARGET_HOSTNAME" => Template(&["{org}.lightning.force.com", "{org}.my.salesforce.com"]),
        "PATH" => Pick(&["/home/home.jsp", "/lightning/page/home", "/apex/AccountOverview"]),
        "REDIRECT_REASON" => Pick(&["InstanceMove", "EnhancedDomains", "MyDomainChange"]),
        _ => fallback(col),
    }
}

fn fallback(col: &str) -> Kind {
    use Kind::*;
    if col.ends_with("_ID_DERIVED") {
        RandId18("a0B", 300)
    } else if col.ends_with("_ORG_ID") {
        RandId("00D", 0)
    } else if col.ends_with("_ID") {
        RandId("a0B", 200)
    } else if col.starts_with("IS_") {
        Bool01(200)
    } else if col.contains("TIME") {
        Skewed(0, 5_000)
    } else if col.ends_with("_SIZE") || col.ends_with("_LENGTH") {
        Skewed(0, 100_000)
    } else if col.starts_with("NUM") || col.ends_with("_NUMBER") || col.ends_with("_COUNT") {
        Skewed(0, 100)
    } else if col.contains("URL") || col.contains("URI") {
        Template(&["", "/lightning/page/home", "/{001}"])
    } else if col.contains("MESSAGE") || col.contains("ERROR") || col.contains("REASON") {
        ErrorText
    } else {
        Pick(&["", "", "Standard", "Default"])
    }
}
