//! The axum server: routes, shared state, the REST gate (auth, API counting, faults).

mod admin;
mod auth;
mod describe;
mod errors;
mod identity;
mod limits;
mod log_file;
mod oauth;
mod query;
mod versions;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use sfgen::{LogFileMeta, Org};

use crate::clock::Clock;
use crate::{Credentials, Faults};

pub use errors::{ApiError, OAuthError};

/// Retention of the event objects (RTEM storage objects, SetupAuditTrail, LoginHistory), days.
pub const OBJECT_RETENTION_DAYS: i64 = 180;

/// How many query cursors are kept before the oldest are dropped.
const MAX_CURSORS: usize = 2000;

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Index into `org.users`.
    pub user: usize,
    pub issued: Instant,
    /// REST calls made with this token.
    pub calls: u64,
}

/// The remaining rows of a query, kept for `nextRecordsUrl`.
pub(crate) struct Cursor {
    /// The object queried, for the per-object request count.
    pub object: String,
    pub records: Vec<soql::Record>,
    pub batch_size: usize,
}

#[derive(Default)]
pub(crate) struct Cursors {
    pub by_id: HashMap<String, Arc<Cursor>>,
    pub order: VecDeque<String>,
}

/// Where a file stands against the simulator's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Created after the simulator's now (a late file not yet published).
    Future,
    Visible,
    /// Older than the retention window.
    Expired,
}

impl Visibility {
    pub fn as_str(&self) -> &'static str {
        match self {
            Visibility::Future => "future",
            Visibility::Visible => "visible",
            Visibility::Expired => "expired",
        }
    }
}

/// State shared by every request.
pub struct Shared {
    pub org: Arc<Org>,
    /// Base URL of the simulator, without a trailing slash.
    pub url: String,
    pub clock: Clock,
    /// Newest API version served, e.g. "64.0".
    pub api_version: String,
    pub default_batch_size: usize,
    pub page_size_cap: Option<usize>,
    pub retention_days: u32,
    pub jwt_max_exp_secs: Option<u64>,
    pub log_file_content_type: String,
    pub elf_interval_field: bool,
    pub elf_field_schema: crate::ElfFieldSchema,
    pub daily_api_limit: AtomicU64,
    pub api_calls: AtomicU64,
    /// Every REST request answered but the `/__sim` admin API's.
    rest_requests: AtomicU64,
    /// REST calls since the faults were last set: drives `error_5xx_every`/`error_429_every`.
    pub fault_calls: AtomicU64,
    /// Query requests (first pages and `nextRecordsUrl` pages) per object, as named in FROM.
    pub(crate) query_requests: Mutex<HashMap<String, u64>>,
    faults: RwLock<Faults>,
    pub(crate) credentials: Credentials,
    pub(crate) jwt_key: jsonwebtoken::DecodingKey,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) refresh_tokens: Mutex<HashMap<String, usize>>,
    pub(crate) cursors: Mutex<Cursors>,
    /// Files whose first download was already cut by `cut_download_after_bytes`.
    pub(crate) cut_done: Mutex<HashSet<String>>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What `start` hands to [`Shared::new`].
pub(crate) struct SharedInit {
    pub org: Arc<Org>,
    pub url: String,
    pub config: crate::SimConfig,
    pub credentials: Credentials,
    pub public_key_pem: String,
}

impl Shared {
    pub(crate) fn new(init: SharedInit) -> anyhow::Result<Self> {
        let c = init.config;
        let jwt_key = jsonwebtoken::DecodingKey::from_rsa_pem(init.public_key_pem.as_bytes())?;
        Ok(Shared {
            clock: Clock::with_frozen(c.org.anchor, c.freeze_clock),
            org: init.org,
            url: init.url.trim_end_matches('/').to_string(),
            api_version: c.api_version,
            default_batch_size: c.default_batch_size.max(1),
            page_size_cap: c.page_size_cap.map(|n| n.max(1)),
            retention_days: c.retention_days,
            jwt_max_exp_secs: c.jwt_max_exp_secs,
            log_file_content_type: c.log_file_content_type,
            elf_interval_field: c.elf_interval_field,
            elf_field_schema: c.elf_field_schema,
            daily_api_limit: AtomicU64::new(c.daily_api_limit),
            api_calls: AtomicU64::new(0),
            rest_requests: AtomicU64::new(0),
            fault_calls: AtomicU64::new(0),
            query_requests: Mutex::new(HashMap::new()),
            faults: RwLock::new(c.faults),
            credentials: init.credentials,
            jwt_key,
            sessions: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            cursors: Mutex::new(Cursors::default()),
            cut_done: Mutex::new(HashSet::new()),
        })
    }

    /// Every object served, by canonical name: EventLogFile, Organization, User, then the
    /// org's event objects (with [`sfgen::SCENARIO_OBJECTS`] when it has scenarios).
    pub fn objects(&self) -> Vec<&'static str> {
        let mut v = query::CORE_OBJECTS.to_vec();
        v.extend(self.org.objects());
        v
    }

    /// The schema of an object named in any case, as this org shows it.
    pub fn object_schema(&self, name: &str) -> Option<soql::ObjectSchema> {
        let canonical = self
            .objects()
            .into_iter()
            .find(|o| o.eq_ignore_ascii_case(name))?;
        let mut schema = self.org.schema(canonical)?;
        if schema.name == "EventLogFile" {
            schema.fields.retain(|f| self.elf_field_shown(&f.name));
        }
        Some(schema)
    }

    /// Whether this org shows the EventLogFile field `name` to the client.
    pub(crate) fn elf_field_shown(&self, name: &str) -> bool {
        match name {
            "Interval" => self.elf_interval_field,
            "LogFileFieldNames" | "LogFileFieldTypes" => {
                self.elf_field_schema != crate::ElfFieldSchema::Absent
            }
            _ => true,
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the faults; the every-Nth counters start again from zero.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
        self.fault_calls.store(0, Ordering::SeqCst);
        lock(&self.cut_done).clear();
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn api_calls(&self) -> u64 {
        self.api_calls.load(Ordering::SeqCst)
    }

    /// Every REST request answered so far but the `/__sim` admin API's.
    pub fn rest_requests(&self) -> u64 {
        self.rest_requests.load(Ordering::SeqCst)
    }

    /// Whether an access token is alive (issued, not expired by the session faults),
    /// without counting a call: what the Pub/Sub API checks its `accesstoken` with.
    pub(crate) fn token_alive(&self, token: &str) -> bool {
        !token.is_empty() && auth::check_token(self, Some(token), &self.faults()).is_ok()
    }

    pub fn daily_api_limit(&self) -> u64 {
        self.daily_api_limit.load(Ordering::SeqCst)
    }

    pub fn set_daily_api_limit(&self, limit: u64) {
        self.daily_api_limit.store(limit, Ordering::SeqCst);
    }

    pub fn reset_api_calls(&self) {
        self.api_calls.store(0, Ordering::SeqCst);
    }

    /// Counts one query request (a first page or a `nextRecordsUrl` page) of `object`.
    pub fn count_query(&self, object: &str) {
        *lock(&self.query_requests)
            .entry(object.to_string())
            .or_default() += 1;
    }

    /// Query requests of `object` so far.
    pub fn query_requests(&self, object: &str) -> u64 {
        lock(&self.query_requests).get(object).copied().unwrap_or(0)
    }

    /// Where a file stands at `now`.
    pub fn visibility(&self, f: &LogFileMeta, now: DateTime<Utc>) -> Visibility {
        if f.created_date > now {
            Visibility::Future
        } else if f.created_date < now - chrono::Duration::days(i64::from(self.retention_days)) {
            Visibility::Expired
        } else {
            Visibility::Visible
        }
    }

    /// The records of an event object ([`sfgen::Org::objects`], any case) visible at `now`:
    /// stored (`visible_at`) at or before `now` and within [`OBJECT_RETENTION_DAYS`].
    pub fn visible_object_records(
        &self,
        object: &str,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &soql::Record> + '_ {
        let oldest = now - chrono::Duration::days(OBJECT_RETENTION_DAYS);
        self.org
            .object_records(object)
            .iter()
            .filter(move |r| r.visible_at <= now && r.visible_at >= oldest)
            .map(|r| &r.record)
    }

    /// A file that may be queried and downloaded now, by its 18- or 15-character id.
    pub fn visible_file(&self, id: &str) -> Option<&LogFileMeta> {
        let now = self.now();
        let f = if id.len() == 15 {
            self.org.files.iter().find(|f| f.id.starts_with(id))
        } else {
            self.org.file(id)
        }?;
        (self.visibility(f, now) == Visibility::Visible).then_some(f)
    }

    /// The `Sforce-Limit-Info` value.
    fn limit_info(&self) -> String {
        format!("api-usage={}/{}", self.api_calls(), self.daily_api_limit())
    }
}

/// Builds the application.
pub fn router(shared: Arc<Shared>) -> Router {
    let v = "/services/data/{version}";
    let data = Router::new()
        .route(&format!("{v}/"), get(versions::resources))
        .route(v, get(versions::resources))
        .route(&format!("{v}/query"), get(query::query))
        .route(&format!("{v}/query/"), get(query::query))
        .route(&format!("{v}/queryAll"), get(query::query))
        .route(&format!("{v}/queryAll/"), get(query::query))
        .route(&format!("{v}/query/{{locator}}"), get(query::query_more))
        .route(&format!("{v}/queryAll/{{locator}}"), get(query::query_more))
        .route(&format!("{v}/tooling/query"), get(query::tooling_query))
        .route(&format!("{v}/tooling/query/"), get(query::tooling_query))
        .route(&format!("{v}/limits"), get(limits::limits))
        .route(&format!("{v}/limits/"), get(limits::limits))
        .route(&format!("{v}/sobjects"), get(describe::global))
        .route(&format!("{v}/sobjects/"), get(describe::global))
        .route(
            &format!("{v}/sobjects/{{object}}/describe"),
            get(describe::describe),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/describe/"),
            get(describe::describe),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/{{id}}"),
            get(describe::record),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/{{id}}/{{field}}"),
            get(log_file::download),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), auth::gate));

    let rest = Router::new()
        .route("/services/data", get(versions::versions))
        .route("/services/data/", get(versions::versions))
        .merge(data)
        .layer(middleware::from_fn_with_state(shared.clone(), limit_info));

    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/userinfo",
            get(identity::userinfo).post(identity::userinfo),
        )
        .route("/id/{org}/{user}", get(identity::identity))
        .route("/__sim/state", get(admin::state))
        .route("/__sim/files", get(admin::files))
        .route(
            "/__sim/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route("/__sim/clock", post(admin::clock))
        .route("/__sim/reset_api_calls", post(admin::reset_api_calls))
        .route("/__sim/limits", post(admin::limits))
        .merge(rest)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(shared.clone(), log_request))
        .with_state(shared)
}

/// Adds `Sforce-Limit-Info` to every REST answer.
async fn limit_info(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&s.limit_info()) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
    if let Some(skew) = s.faults().date_skew_secs {
        // Real time, not the simulator's clock: the header is what a client compares its own
        // clock with.
        let at = Utc::now() + chrono::Duration::seconds(skew);
        if let Ok(v) = HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
            resp.headers_mut().insert(axum::http::header::DATE, v);
        }
    }
    resp
}

/// Counts REST requests; logs method, path (never the query string: it may hold a
/// password) and status.
async fn log_request(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if !path.starts_with("/__sim") {
        s.rest_requests.fetch_add(1, Ordering::SeqCst);
    }
    let resp = next.run(req).await;
    if method == Method::OPTIONS {
        return resp;
    }
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
    resp
}

async fn fallback(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let mut resp = ApiError::not_found().into_response();
    if req.uri().path().starts_with("/services/data") {
        if let Ok(v) = HeaderValue::from_str(&s.limit_info()) {
            resp.headers_mut().insert("sforce-limit-info", v);
        }
    }
    resp
}

/// A JSON answer with status 200.
pub(crate) fn ok_json(v: serde_json::Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}
