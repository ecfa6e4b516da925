//! Serving a router over HTTP or HTTPS, and stopping and restarting it on the same port.
//!
//! Every receiver runs the same way: a listener bound before [`Server::start`] returns (so the
//! URL is usable at once), an optional generated CA written to a file for clients to trust,
//! every connection wrapped so a handler can close it ([`super::conn`]), and a server task on
//! the caller's runtime. [`Server::stop`] kills the listener and every open connection, as a
//! crashed destination would; [`Server::restart`] binds the same address again with the same
//! certificate, so a client that kept its URL and trust reconnects to the same receiver state.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;

use super::conn::{self, KillAcceptor, Kills};
use super::tls;

/// Why a receiver could not start (or restart).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
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

/// Where and how to listen.
pub struct Listen<'a> {
    pub bind: &'a str,
    /// 0 picks a free port (kept across restarts).
    pub port: u16,
    pub tls: bool,
    /// Names the CA's temporary directory and the log line (`receivers-<name>-…`).
    pub name: &'static str,
}

/// The CA a client must trust, and the server side of it.
struct Tls {
    ca_pem: String,
    ca_file: PathBuf,
    rustls: RustlsConfig,
    _dir: tempfile::TempDir,
}

/// A running (or stopped) listener.
struct Running {
    handle: axum_server::Handle<SocketAddr>,
    task: JoinHandle<()>,
}

/// A served router. Dropping it stops serving, as [`Server::shutdown`] does.
pub struct Server {
    url: String,
    addr: SocketAddr,
    router: Router,
    kills: Kills,
    tls: Option<Tls>,
    running: Mutex<Option<Running>>,
}

impl Server {
    /// Binds and starts serving `router` on the caller's tokio runtime. `kills` is the registry
    /// the router's handlers close connections through.
    pub async fn start(listen: Listen<'_>, router: Router, kills: Kills) -> Result<Server, Error> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let shown = format!("{}:{}", listen.bind, listen.port);
        let listener = bind((listen.bind, listen.port), &shown)?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: shown.clone(),
            source,
        })?;
        let url = if listen.tls {
            format!("https://localhost:{}", addr.port())
        } else {
            let ip = if addr.ip().is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                addr.ip()
            };
            format!("http://{}", SocketAddr::new(ip, addr.port()))
        };
        let tls = if listen.tls {
            Some(generate_tls(listen.name).await?)
        } else {
            None
        };
        let server = Server {
            url,
            addr,
            router,
            kills,
            tls,
            running: Mutex::new(None),
        };
        server.serve(listener)?;
        tracing::info!(url = %server.url, "{} receiver serving", listen.name);
        Ok(server)
    }

    /// The base URL (`http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA to trust (PEM), when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// The CA written to a file kept for the server's life.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_file.as_path())
    }

    pub fn is_running(&self) -> bool {
        self.running().is_some()
    }

    /// Stops at once, as a crash would: the listener is closed (connecting is refused) and
    /// every open connection is dropped, in-flight requests without an answer. Returns once
    /// the port is free.
    pub async fn stop(&self) {
        let running = self.running().take();
        if let Some(r) = running {
            r.handle.shutdown();
            conn::kill_all(&self.kills);
            if let Err(e) = r.task.await {
                tracing::warn!(error = %e, "the server task ended abnormally");
            }
        }
    }

    /// Listens again on the same address (and certificate) after [`Server::stop`]; nothing
    /// happens when already running. The port may briefly be held by the old socket, so
    /// binding is retried for up to two seconds.
    pub async fn restart(&self) -> Result<(), Error> {
        if self.is_running() {
            return Ok(());
        }
        let shown = self.addr.to_string();
        let mut tries = 0;
        let listener = loop {
            match bind(self.addr, &shown) {
                Ok(l) => break l,
                Err(Error::Bind { source, .. })
                    if source.kind() == std::io::ErrorKind::AddrInUse && tries < 40 =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.serve(listener)?;
        tracing::info!(url = %self.url, "receiver restarted");
        Ok(())
    }

    /// Stops accepting and gives in-flight requests a second to finish.
    pub fn shutdown(&self) {
        if let Some(r) = self.running().take() {
            r.handle.graceful_shutdown(Some(Duration::from_secs(1)));
        }
    }

    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn serve(&self, listener: std::net::TcpListener) -> Result<(), Error> {
        let service = self
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let acceptor = KillAcceptor {
            kills: self.kills.clone(),
        };
        let handle = axum_server::Handle::new();
        let task = match &self.tls {
            Some(tls) => {
                let server = axum_server::from_tcp_rustls(listener, tls.rustls.clone())
                    .map_err(Error::Serve)?
                    .map(|t| t.acceptor(acceptor))
                    .handle(handle.clone());
                tokio::spawn(async move {
                    if let Err(e) = server.serve(service).await {
                        tracing::error!(error = %e, "receiver stopped");
                    }
                })
            }
            None => {
                let server = axum_server::from_tcp(listener)
                    .map_err(Error::Serve)?
                    .acceptor(acceptor)
                    .handle(handle.clone());
                tokio::spawn(async move {
                    if let Err(e) = server.serve(service).await {
                        tracing::error!(error = %e, "receiver stopped");
                    }
                })
            }
        };
        *self.running() = Some(Running { handle, task });
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn bind(addr: impl ToSocketAddrs, shown: &str) -> Result<std::net::TcpListener, Error> {
    let bind_err = |source| Error::Bind {
        addr: shown.to_string(),
        source,
    };
    let listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    Ok(listener)
}

async fn generate_tls(name: &str) -> Result<Tls, Error> {
    let generated = tls::generate()?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("receivers-{name}-"))
        .tempdir()
        .map_err(|source| Error::CaFile {
            path: std::env::temp_dir(),
            source,
        })?;
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, &generated.ca_pem).map_err(|source| Error::CaFile {
        path: ca_file.clone(),
        source,
    })?;
    let rustls = RustlsConfig::from_pem(
        generated.cert_chain_pem.into_bytes(),
        generated.key_pem.into_bytes(),
    )
    .await
    .map_err(Error::Tls)?;
    Ok(Tls {
        ca_pem: generated.ca_pem,
        ca_file,
        rustls,
        _dir: dir,
    })
}
