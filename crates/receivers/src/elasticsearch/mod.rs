//! An Elasticsearch/OpenSearch receiver for tests: what sfevents' Elasticsearch output talks to
//! when no cluster can be installed.
//!
//! It follows Elasticsearch's documented behaviour for everything a log shipper uses: `GET /`
//! with the product header, `_bulk` (NDJSON, gzip, `filter_path`, data streams that accept only
//! `create`, 409 on a duplicate `_id`, per-item and whole-request failures, 413 over
//! `http.max_content_length`), API key / basic / bearer authentication, index and component
//! templates, ILM (Elasticsearch) or ISM (OpenSearch) policies, data streams and rollover.
//!
//! Documents meet their index's mappings as on a cluster: a new index takes the mappings of its
//! template (x-pack's `logs` template with `logs@mappings`, `logs@settings` and `ecs@mappings`
//! when no other matches `logs-*-*`), a new field is mapped from its first value (dynamic
//! templates, then Elasticsearch's defaults), and a value its field cannot take refuses the
//! document with item status 400 and Elasticsearch's error (`document_parsing_exception`, its
//! reason and `caused_by`), unless `ignore_malformed` lets it through. `constant_keyword`
//! fields (`data_stream.*`) take the first value they see and refuse any other; a data stream's
//! document needs one `@timestamp`. Not emulated: ingest pipelines, the failure store, the total
//! fields limit, runtime fields' values.
//!
//! Faults are injected on demand ([`Faults`]). Documents are kept in memory and readable
//! through the [`Handle`] or `GET /__receiver/docs`; every delivery attempt of each `_id` with
//! its answer through [`Handle::attempts`] or `GET /__receiver/attempts`.
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
pub mod attempts;
mod auth;
mod body;
mod builtin;
mod bulk;
mod components;
mod config;
mod documents;
mod dynamic;
mod errors;
pub mod faults;
pub mod filter_path;
mod http;
mod index_mapping;
mod leaf;
mod mapper;
mod mappings;
mod ndjson;
mod policies;
mod positions;
mod server;
mod store;
mod streams;
mod templates;
mod values;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::common::conn;
use crate::common::server::{Listen, Server};

pub use attempts::{Answer, Attempt, Attempts};
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

impl From<crate::common::Error> for Error {
    fn from(e: crate::common::Error) -> Self {
        use crate::common::Error as E;
        match e {
            E::Bind { addr, source } => Error::Bind { addr, source },
            E::Certificate(e) => Error::Certificate(e),
            E::Tls(e) => Error::Tls(e),
            E::CaFile { path, source } => Error::CaFile { path, source },
            E::Serve(e) => Error::Serve(e),
        }
    }
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
    server: Server,
    shared: Arc<Shared>,
}

/// Starts serving on the caller's tokio runtime.
pub async fn start(config: Config) -> Result<Handle, Error> {
    let major = config
        .version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .ok_or_else(|| Error::Version(config.version.clone()))?;
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
        state.builtin_components = true;
    }
    let shared = Arc::new(Shared {
        config,
        major,
        cluster_uuid: store::random_id(22),
        state: Mutex::new(state),
        kills: conn::Kills::default(),
    });
    let listen = Listen {
        bind: &shared.config.bind,
        port: shared.config.port,
        tls: shared.config.tls,
        name: "es",
    };
    let server =
        Server::start(listen, server::router(shared.clone()), shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

impl Handle {
    crate::common::server_methods!();

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
    /// Every attempt of each `_id`, with the answer it got.
    pub fn attempts(&self) -> Attempts {
        self.shared.lock().attempts.clone()
    }
    /// The attempts of one `_id`.
    pub fn attempt(&self, id: &str) -> Attempt {
        self.shared
            .lock()
            .attempts
            .events
            .get(id)
            .cloned()
            .unwrap_or_default()
    }
    /// The mappings of a concrete index (a data stream's backing index), as `GET
    /// /<index>/_mapping` shows them; for a data stream, its write index's.
    pub fn mapping(&self, index: &str) -> Option<Value> {
        let st = self.shared.lock();
        let name = st
            .data_streams
            .get(index)
            .map_or(index, |d| d.write_index());
        st.indices.get(name).map(|i| i.mapping.root.clone())
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
    /// Forgets documents, data streams, offers, attempts, counters and faults (templates stay).
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
}
