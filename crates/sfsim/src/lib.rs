//! sfsim: a local Salesforce REST simulator that a real client cannot tell from an org, for
//! everything an event-monitoring collector uses: OAuth token grants, SOQL queries with
//! `nextRecordsUrl` paging, streamed EventLogFile blobs, limits, and injected faults.
//!
//! Start it in-process with [`start`] or from the `sfsim` binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

pub use pubsub::{PubSubConfig, PubSubFaults, PubSubStats};
pub use sfgen::{GenOptions, Org, OrgSpec, Planted, Scenario};

/// Faults to inject; every field is off by default. Changeable while running through
/// [`SimHandle::set_faults`] or `POST /__sim/faults` (JSON of this struct).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// An access token stops working after this many API calls made with it (401 INVALID_SESSION_ID).
    pub session_max_calls: Option<u64>,
    /// An access token stops working this many seconds after it was issued.
    pub session_max_secs: Option<u64>,
    /// Every Nth REST call answers 503 (SERVER_UNAVAILABLE); token and admin calls excluded.
    pub error_5xx_every: Option<u64>,
    /// Every Nth REST call answers 429 with `Retry-After: retry_after_secs`.
    pub error_429_every: Option<u64>,
    pub retry_after_secs: Option<u64>,
    /// The first download of each LogFile is cut after this many body bytes (connection closed).
    pub cut_download_after_bytes: Option<u64>,
    /// Every answer is delayed this many milliseconds.
    pub delay_ms: Option<u64>,
    /// Downloads of these EventLogFile ids always answer 500 (a file that keeps failing).
    pub broken_files: Vec<String>,
    /// Every `nextRecordsUrl` page (queryMore) answers 500 UNKNOWN_EXCEPTION while set; the
    /// cursor stays valid, so the same URL works again once cleared.
    pub fail_query_more: bool,
    /// A query whose full result holds more than this many records answers 400
    /// QUERY_TIMEOUT ("Your query request was running for too long.").
    pub query_timeout_over_rows: Option<u64>,
    /// Every token request is refused with this OAuth error, written `error: description`
    /// (e.g. `invalid_grant: user hasn't approved this consumer`), as an org whose
    /// connected app or user settings refuse the login.
    pub oauth_error: Option<String>,
    /// Queries on these objects (any case) answer 400 INVALID_TYPE "sObject type 'X' is not
    /// supported": what Salesforce answers a user without the permission or licence.
    pub deny_objects: Vec<String>,
    /// Queries on these objects (any case) find no records: a Real-Time Event Monitoring
    /// object whose storage is not enabled in Event Manager.
    pub empty_objects: Vec<String>,
    /// REST answers carry a `Date` header this many seconds off the real time, as if this
    /// machine's clock (not the org's) were wrong by the opposite amount.
    pub date_skew_secs: Option<i64>,
    /// Pub/Sub API faults (stream resets, stalls, refused subscriptions, expired replay ids).
    pub pubsub: PubSubFaults,
}

/// What EventLogFile records say of their CSV's columns (`LogFileFieldNames`,
/// `LogFileFieldTypes`). Both fields are nillable, and their availability to an integration
/// user is not documented: tests play each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElfFieldSchema {
    /// The header's names and their type names, comma-separated.
    #[default]
    Served,
    /// Both fields null on every record.
    Null,
    /// Neither field exists for this user: queries naming one answer INVALID_FIELD.
    Absent,
}

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub org: OrgSpec,
    /// Generation knobs beyond `org` (e.g. more SetupAuditTrail records per hour).
    pub org_options: GenOptions,
    /// 0 picks a free port.
    pub port: u16,
    pub bind: String,
    /// Serve HTTPS with a generated CA (written into `out_dir`).
    pub tls: bool,
    /// Where credentials, keys and the CA are written. `None`: a temporary folder kept for the
    /// handle's life.
    pub out_dir: Option<PathBuf>,
    /// Newest API version served (e.g. "64.0").
    pub api_version: String,
    /// Query page size when the client sends no `Sforce-Query-Options: batchSize`.
    pub default_batch_size: usize,
    /// Pages never hold more than this, whatever the client asks ("Salesforce may return fewer
    /// rows than asked"): lets tests page through small results.
    pub page_size_cap: Option<usize>,
    /// The clock stands still but for `advance_clock` (exact, repeatable tests).
    pub freeze_clock: bool,
    /// DailyApiRequests Max; past it, 403 REQUEST_LIMIT_EXCEEDED.
    pub daily_api_limit: u64,
    /// EventLogFile retention in days (30 with Event Monitoring, 1 in Developer Edition).
    pub retention_days: u32,
    /// Accept a JWT `exp` at most this far in the future; `None`: any future `exp` (real orgs
    /// accept the `sf` CLI's millisecond `exp`).
    pub jwt_max_exp_secs: Option<u64>,
    /// Content-Type of LogFile bodies.
    pub log_file_content_type: String,
    /// Whether EventLogFile has the `Interval` field (API 37+). `false` plays an org whose
    /// field-level security hides it: queries naming it answer INVALID_FIELD.
    pub elf_interval_field: bool,
    /// Whether EventLogFile records carry `LogFileFieldNames` and `LogFileFieldTypes` (the
    /// CSV header's names and their type names), carry them null, or the org refuses the
    /// fields (field-level security: queries naming them answer INVALID_FIELD).
    pub elf_field_schema: ElfFieldSchema,
    /// The Pub/Sub API (gRPC) served beside the REST API, on a port of its own.
    pub pubsub: PubSubConfig,
    pub faults: Faults,
}

impl SimConfig {
    /// An org for streaming tests: the storage objects' records (`records_per_hour`) over
    /// `days` days to a fixed instant, a frozen clock, one sparse EventLogFile type, and a
    /// keepalive of one second instead of 270.
    pub fn streaming(seed: u64, days: u32, records_per_hour: (u32, u32)) -> SimConfig {
        use chrono::TimeZone;
        let mut c = SimConfig {
            org: OrgSpec {
                seed,
                days,
                anchor: chrono::Utc
                    .with_ymd_and_hms(2026, 3, 10, 14, 25, 0)
                    .single()
                    .expect("a valid instant"),
                event_types: vec!["Login".into()],
                hourly: true,
                rows_per_hour: (0, 1),
                late_files: false,
                big_file_bytes: None,
                records_per_hour,
                duplicate_event_identifiers: false,
            },
            freeze_clock: true,
            ..SimConfig::default()
        };
        c.pubsub.keepalive = std::time::Duration::from_secs(1);
        c
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            org: OrgSpec {
                seed: 1,
                days: 3,
                anchor: chrono::Utc::now(),
                event_types: Vec::new(),
                hourly: true,
                rows_per_hour: (1, 20),
                late_files: true,
                big_file_bytes: None,
                records_per_hour: (2, 12),
                duplicate_event_identifiers: false,
            },
            org_options: GenOptions::default(),
            port: 0,
            bind: "127.0.0.1".into(),
            tls: false,
            out_dir: None,
            api_version: "64.0".into(),
            default_batch_size: 2000,
            page_size_cap: None,
            freeze_clock: false,
            daily_api_limit: 100_000,
            retention_days: 30,
            jwt_max_exp_secs: None,
            log_file_content_type: "application/octetstream".into(),
            elf_interval_field: true,
            elf_field_schema: ElfFieldSchema::Served,
            pubsub: PubSubConfig::default(),
            faults: Faults::default(),
        }
    }
}

/// The credentials set written for a client: everything sfevents needs to log in.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    /// Where the token endpoint lives (the simulator's base URL; also the JWT audience).
    pub login_url: String,
    pub instance_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub security_token: String,
    /// PEM private key (PKCS#8) and its X.509 certificate, as uploaded to a connected app.
    pub private_key_file: PathBuf,
    pub certificate_file: PathBuf,
    /// The CA that signed the HTTPS certificate, when serving TLS.
    pub ca_file: Option<PathBuf>,
}

/// A running simulator.
pub struct SimHandle {
    pub url: String,
    pub credentials: Credentials,
    pub org: Arc<Org>,
    /// The folder holding `credentials.json`, `sfevents.toml`, the keys and the CA.
    pub out_dir: PathBuf,
    /// The Pub/Sub API's base URL: `https://127.0.0.1:PORT`, or `http://` when
    /// [`PubSubConfig::plaintext`] is set.
    pub pubsub_url: String,
    /// The CA that signed the Pub/Sub API's certificate (the same CA as HTTPS), when it
    /// serves TLS.
    pub pubsub_ca_file: Option<PathBuf>,
    inner: Arc<server::Shared>,
    pubsub: Arc<pubsub::PubSubState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _tmp: Option<TempDirGuard>,
}

mod clock;
mod credentials;
pub mod pubsub;
pub mod server;
mod tls;

/// Removes a temporary folder when dropped.
pub struct TempDirGuard(pub PathBuf);
impl Drop for TempDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Generates the org, writes the credentials set and starts serving.
pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let spec = config.org.clone();
    let options = config.org_options.clone();
    let org = Arc::new(
        tokio::task::spawn_blocking(move || Org::generate_with(spec, &options))
            .await
            .context("generating the org")?,
    );
    let username = org
        .users
        .first()
        .map(|u| u.username.clone())
        .context("the generated org has no user")?;

    let (out_dir, tmp) = match &config.out_dir {
        Some(d) => (d.clone(), None),
        None => {
            let d = std::env::temp_dir().join(format!("sfsim-{}", uuid::Uuid::new_v4()));
            (d.clone(), Some(TempDirGuard(d)))
        }
    };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let out_dir = std::fs::canonicalize(&out_dir)
        .with_context(|| format!("resolving {}", out_dir.display()))?;

    let listener = std::net::TcpListener::bind((config.bind.as_str(), config.port))
        .with_context(|| format!("binding {}:{}", config.bind, config.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let url = if config.tls {
        format!("https://localhost:{}", addr.port())
    } else {
        let ip = if addr.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            addr.ip()
        };
        format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
    };

    // One CA and certificate serve HTTPS and the Pub/Sub API's TLS alike.
    let pubsub_tls = !config.pubsub.plaintext;
    let generated_tls = if config.tls || pubsub_tls {
        Some(tls::generate(&out_dir.join("ca.crt"))?)
    } else {
        None
    };
    let pubsub_pem = generated_tls
        .as_ref()
        .filter(|_| pubsub_tls)
        .map(|t| pubsub::ServerPem {
            cert_chain: t.cert_chain_pem.clone(),
            key: t.key_pem.clone(),
        });
    let pubsub_ca_file = pubsub_tls.then(|| out_dir.join("ca.crt"));
    let server_tls = generated_tls.filter(|_| config.tls);
    let (pubsub_config, bind) = (config.pubsub.clone(), config.bind.clone());
    let ca_file = config.tls.then(|| out_dir.join("ca.crt"));
    let generated = credentials::generate(&out_dir, &url, &username, ca_file)?;
    let credentials = generated.credentials.clone();

    let shared = Arc::new(server::Shared::new(server::SharedInit {
        org: org.clone(),
        url: url.clone(),
        config,
        credentials: generated.credentials,
        public_key_pem: generated.public_key_pem,
    })?);
    let app = server::router(shared.clone());

    let handle = axum_server::Handle::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (pubsub_tx, pubsub_rx) = tokio::sync::oneshot::channel::<()>();
    {
        let handle = handle.clone();
        tokio::spawn(async move {
            // A dropped sender stops the server too.
            let _ = rx.await;
            handle.graceful_shutdown(Some(Duration::from_secs(1)));
            let _ = pubsub_tx.send(());
        });
    }
    let pubsub = Arc::new(pubsub::PubSubState::new(shared.clone(), pubsub_config)?);
    let pubsub_url = pubsub::serve(pubsub.clone(), &bind, pubsub_pem, async move {
        let _ = pubsub_rx.await;
    })
    .await
    .context("starting the Pub/Sub API")?;
    let service = app.into_make_service();
    match server_tls {
        Some(t) => {
            let rustls_config = axum_server::tls_rustls::RustlsConfig::from_pem(
                t.cert_chain_pem.into_bytes(),
                t.key_pem.into_bytes(),
            )
            .await
            .context("configuring TLS")?;
            let server =
                axum_server::from_tcp_rustls(listener, rustls_config)?.handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "server stopped");
                }
            });
        }
        None => {
            let server = axum_server::from_tcp(listener)?.handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "server stopped");
                }
            });
        }
    }
    tracing::info!(%url, %pubsub_url, out_dir = %out_dir.display(), "sfsim serving");

    Ok(SimHandle {
        url,
        credentials,
        org,
        out_dir,
        pubsub_url,
        pubsub_ca_file,
        inner: shared,
        pubsub,
        shutdown: Some(tx),
        _tmp: tmp,
    })
}

impl SimHandle {
    /// Replaces the injected faults (the every-Nth counters and cut-download memory restart).
    pub fn set_faults(&self, faults: Faults) {
        self.inner.set_faults(faults);
    }
    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.faults()
    }
    /// Moves the simulator's clock forward: files created in the future become visible.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
    }
    /// The simulator's current time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.now()
    }
    /// API calls counted against DailyApiRequests so far.
    pub fn api_calls(&self) -> u64 {
        self.inner.api_calls()
    }
    /// Query requests (first pages and `nextRecordsUrl` pages) of `object` so far, `object`
    /// spelled as sfsim's schema names it (e.g. "LoginEvent").
    pub fn query_requests(&self, object: &str) -> u64 {
        self.inner.query_requests(object)
    }
    /// Starts a new API day: the DailyApiRequests count goes back to zero.
    pub fn reset_api_calls(&self) {
        self.inner.reset_api_calls();
    }
    /// Changes DailyApiRequests Max.
    pub fn set_daily_api_limit(&self, limit: u64) {
        self.inner.set_daily_api_limit(limit);
    }
    /// Whether a file may be queried and downloaded at the simulator's current time.
    pub fn is_visible(&self, file_id: &str) -> bool {
        self.inner.visible_file(file_id).is_some()
    }
    /// The files a query can see now, ordered by (CreatedDate, Id).
    pub fn visible_files(&self) -> Vec<&sfgen::LogFileMeta> {
        let now = self.now();
        self.org
            .files
            .iter()
            .filter(|f| self.inner.visibility(f, now) == server::Visibility::Visible)
            .collect()
    }
    /// What a full query of an event object ([`sfgen::Org::objects`], any case) returns now: the
    /// stored records (every field, plus SetupAuditTrail's `CreatedBy` user record) that
    /// are visible and within retention, in event-time order, duplicates included when
    /// `duplicate_event_identifiers` is set. Empty for other objects.
    pub fn visible_records(&self, object: &str) -> Vec<soql::Record> {
        self.inner
            .visible_object_records(object, self.now())
            .cloned()
            .collect()
    }
    /// The Pub/Sub endpoint as `host:port` (what `salesforce-pubsub-api-client` calls
    /// `pubSubEndpoint`).
    pub fn pubsub_endpoint(&self) -> &str {
        self.pubsub_url
            .split_once("://")
            .map_or(self.pubsub_url.as_str(), |(_, rest)| rest)
    }
    /// The Pub/Sub API's counters: subscriptions opened, streams open now, events sent.
    pub fn pubsub_stats(&self) -> PubSubStats {
        self.pubsub.stats()
    }
    /// Pub/Sub topics served (`/event/LoginEventStream`, ...) and the storage object whose
    /// records each streams.
    pub fn pubsub_topics(&self) -> Vec<(String, String)> {
        self.pubsub
            .topics
            .iter()
            .map(|t| (t.name.clone(), t.object.to_string()))
            .collect()
    }
    /// Every event of `topic`, published or not yet: its EventIdentifier (a custom platform
    /// event, which has none: `#` and its replay value) and the simulator time it is
    /// published at (a benchmark maps that to this machine's clock to time how long an event
    /// takes to reach an archive).
    pub fn publish_times(&self, topic: &str) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        let Some(t) = self.pubsub.topics.iter().find(|t| t.name == topic) else {
            return Vec::new();
        };
        t.events()
            .iter()
            .filter_map(|e| {
                let id = match t.record(e)?.get("EventIdentifier") {
                    Some(v) => v.as_str()?.to_string(),
                    None => format!("#{}", e.replay),
                };
                Some((id, e.at))
            })
            .collect()
    }
    /// Every HTTP request the REST server answered (token grants, userinfo, queries,
    /// downloads...; the `/__sim` admin API excluded), whether or not it counted against
    /// DailyApiRequests: lets a test assert that a streaming client makes no REST calls.
    pub fn rest_requests(&self) -> u64 {
        self.inner.rest_requests()
    }
    /// Stops serving.
    pub fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
