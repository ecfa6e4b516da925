//! An Elasticsearch/OpenSearch receiver for tests: what sfevents' Elasticsearch output talks to
//! when no cluster can be installed.
//!
//! It follows Elasticsearch's documented behaviour for everything a log shipper uses: `GET /`
//! with the product header, `_bulk` (NDJSON, gzip, `filter_path`, data streams that accept only
//! `create`, 409 on a duplicate `_id`, per-item and whole-request failures, 413 over
//! `http.max_content_length`), API key / basic / bearer authentication, index and component
//! templates, ILM (Elasticsearch) or ISM (OpenSearch) policies, data streams and rollover. Faults
//! are injected on demand ([`Faults`]). Documents are kept in memory and readable through the
//! [`Handle`] or `GET /__receiver/docs`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::elasticsearch::Error> {
//! use receivers::elasticsearch::{self, Config};
//! let es = elasticsearch::start(Config::default()).await?;
//! println!("{}", es.url());
//! // ... point the client at es.url(), then:
//! let docs = es.docs("logs-salesforce.login-default");
//! # let _ = docs;
//! es.shutdown();
//! # Ok(()) }
//! ```

mod admin;
mod auth;
mod body;
mod bulk;
mod components;
mod config;
mod conn;
mod documents;
mod errors;
pub mod faults;
pub mod filter_path;
mod http;
mod ndjson;
mod policies;
mod server;
mod store;
mod streams;
mod templates;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use config::{ApiKey, Config, Credentials, Flavor, LimitOn};
pub use faults::{Faults, RejectRule};
pub use store::{Doc, Stats};

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("invalid version {0:?}: expected MAJOR.MINOR.PATCH")]
    Version(String),
    #[error("generating the TLS certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("configuring TLS: {0}")]
    Tls(std::io::Error),
    #[error("writing the CA certificate to {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the server: {0}")]
    Serve(std::io::Error),
}

/// State shared by the handlers.
pub(crate) struct Shared {
    pub config: Config,
    pub major: u64,
    pub cluster_uuid: String,
    pub state: Mutex<store::State>,
    pub kills: conn::Kills,
}

impl Shared {
    /// The state; a handler that panicked mid-update cannot leave it half-written in a way
    /// that matters to tests, so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, store::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running receiver. Dropping it stops the server, as [`Handle::shutdown`] does.
pub struct Handle {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    ca_pem: Option<String>,
    ca_file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts serving on the caller's tokio runtime.
pub async fn start(config: Config) -> Result<Handle, Error> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let major = config
        .version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .ok_or_else(|| Error::Version(config.version.clone()))?;
    let bind_err = |source| Error::Bind {
        addr: format!("{}:{}", config.bind, config.port),
        source,
    };
    let listener =
        std::net::TcpListener::bind((config.bind.as_str(), config.port)).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let url = if config.tls {
        format!("https://localhost:{}", addr.port())
    } else {
        let ip = if addr.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            addr.ip()
        };
        format!("http://{}", SocketAddr::new(ip, addr.port()))
    };

    let mut state = store::State {
        faults: config.faults.clone(),
        ..store::State::default()
    };
    if config
        .builtin_logs_template
        .unwrap_or(config.flavor == Flavor::Elasticsearch)
    {
        state
            .index_templates
            .insert("logs".into(), templates::builtin_logs());
    }
    let tls = config.tls;
    let shared = Arc::new(Shared {
        config,
        major,
        cluster_uuid: store::random_id(22),
        state: Mutex::new(state),
        kills: conn::Kills::default(),
    });
    let service =
        server::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let acceptor = conn::KillAcceptor {
        kills: shared.kills.clone(),
    };

    let server_handle = axum_server::Handle::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    {
        let h = server_handle.clone();
        tokio::spawn(async move {
            // A dropped sender (the Handle dropped) stops the server too.
            let _ = rx.await;
            h.graceful_shutdown(Some(Duration::from_secs(1)));
        });
    }
    let (mut ca_pem, mut ca_file, mut dir) = (None, None, None);
    if tls {
        let generated = tls::generate()?;
        let d = tempfile::Builder::new()
            .prefix("receivers-es-")
            .tempdir()
            .map_err(|source| Error::CaFile {
                path: std::env::temp_dir(),
                source,
            })?;
        let path = d.path().join("ca.crt");
        std::fs::write(&path, &generated.ca_pem).map_err(|source| Error::CaFile {
            path: path.clone(),
            source,
        })?;
        let rustls = axum_server::tls_rustls::RustlsConfig::from_pem(
            generated.cert_chain_pem.into_bytes(),
            generated.key_pem.into_bytes(),
        )
        .await
        .map_err(Error::Tls)?;
        let server = axum_server::from_tcp_rustls(listener, rustls)
            .map_err(Error::Serve)?
            .map(|tls| tls.acceptor(acceptor))
            .handle(server_handle);
        tokio::spawn(async move {
            if let Err(e) = server.serve(service).await {
                tracing::error!(error = %e, "receiver stopped");
            }
        });
        ca_pem = Some(generated.ca_pem);
        ca_file = Some(path);
        dir = Some(d);
    } else {
        let server = axum_server::from_tcp(listener)
            .map_err(Error::Serve)?
            .acceptor(acceptor)
            .handle(server_handle);
        tokio::spawn(async move {
            if let Err(e) = server.serve(service).await {
                tracing::error!(error = %e, "receiver stopped");
            }
        });
    }
    tracing::info!(%url, "elasticsearch receiver serving");
    Ok(Handle {
        url,
        addr,
        shared,
        ca_pem,
        ca_file,
        _dir: dir,
        shutdown: Some(tx),
    })
}

impl Handle {
    /// The base URL (`http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The CA to trust (PEM), when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
    /// The CA written to a file kept for the handle's life (for `NODE_EXTRA_CA_CERTS`, curl).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
    /// Documents of a data stream (every backing index) or an index, in write order.
    pub fn docs(&self, index: &str) -> Vec<Doc> {
        self.shared.lock().docs(index)
    }
    /// Every stored document.
    pub fn all_docs(&self) -> Vec<Doc> {
        self.shared.lock().all_docs()
    }
    /// How many times (`_index` as named in the action, `_id`) was sent in a bulk body.
    pub fn offers(&self, index: &str, id: &str) -> u64 {
        self.shared
            .lock()
            .offers
            .get(&(index.to_string(), id.to_string()))
            .copied()
            .unwrap_or(0)
    }
    /// Every offered (`_index`, `_id`) with its count.
    pub fn all_offers(&self) -> Vec<((String, String), u64)> {
        self.shared
            .lock()
            .offers
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }
    /// Forgets documents, data streams, offers, counters and faults (templates stay).
    pub fn reset(&self) {
        self.shared.lock().reset();
    }
    /// A stored index template, as `GET /_index_template/<name>` shows it.
    pub fn index_template(&self, name: &str) -> Option<Value> {
        self.shared.lock().index_templates.get(name).cloned()
    }
    pub fn component_template(&self, name: &str) -> Option<Value> {
        self.shared.lock().component_templates.get(name).cloned()
    }
    /// The `policy` of an ILM policy.
    pub fn ilm_policy(&self, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .ilm_policies
            .get(name)
            .map(|p| p.policy.clone())
    }
    /// The stored ISM policy document's `policy`.
    pub fn ism_policy(&self, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .ism_policies
            .get(name)
            .map(|p| p.policy.clone())
    }
    /// Data stream names.
    pub fn data_streams(&self) -> Vec<String> {
        self.shared.lock().data_streams.keys().cloned().collect()
    }
    /// Backing indices of a data stream, oldest first.
    pub fn backing_indices(&self, stream: &str) -> Vec<String> {
        self.shared
            .lock()
            .data_streams
            .get(stream)
            .map(|d| d.indices.clone())
            .unwrap_or_default()
    }
    /// Rolls a data stream over; returns the new write index.
    pub fn rollover(&self, stream: &str) -> Option<String> {
        self.shared.lock().rollover(stream).map(|(_, new)| new)
    }
    /// Stops serving (in-flight requests get a second to finish).
    pub fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
