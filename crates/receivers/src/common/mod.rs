//! What the receivers have in common: serving over HTTP or HTTPS with a generated CA, stopping
//! and restarting on the same port, closing a client's connection from a handler, request
//! bodies (size caps, gzip), the faults, delivery-attempt counts and admin endpoints of the
//! Splunk, Logplex, HTTP and alert receivers, and the alert receivers' rate limits. The
//! Elasticsearch receiver keeps its own faults, which reach into bulk items.

pub(crate) mod admin;
pub mod attempts;
pub(crate) mod body;
pub(crate) mod conn;
pub(crate) mod faults;
pub mod ratelimit;
pub(crate) mod server;
pub(crate) mod shared;
pub(crate) mod tls;

use std::sync::{Mutex, MutexGuard};

pub use attempts::{Attempt, Attempts};
pub use faults::{FaultCounts, Faults};
pub use ratelimit::Rate;
pub use server::Error;

/// Takes a lock over a receiver's state. A handler that panicked mid-update cannot leave the
/// state half-written in a way that matters to tests, so a poisoned lock is taken over.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The methods every receiver's `Handle` has, delegated to its `server: Server` field.
macro_rules! server_methods {
    () => {
        /// The base URL (`http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS).
        pub fn url(&self) -> &str {
            self.server.url()
        }
        pub fn addr(&self) -> std::net::SocketAddr {
            self.server.addr()
        }
        /// The CA to trust (PEM), when serving TLS.
        pub fn ca_pem(&self) -> Option<&str> {
            self.server.ca_pem()
        }
        /// The CA written to a file kept for the handle's life (for `NODE_EXTRA_CA_CERTS`,
        /// curl, `SSL_CERT_FILE`).
        pub fn ca_file(&self) -> Option<&std::path::Path> {
            self.server.ca_file()
        }
        /// Kills the listener and every open connection at once, as a crash would; what was
        /// stored stays. Returns once the port is free.
        pub async fn stop(&self) {
            self.server.stop().await
        }
        /// Listens again on the same port, with the same certificate and stored data.
        pub async fn restart(&self) -> Result<(), crate::common::Error> {
            self.server.restart().await
        }
        pub fn is_running(&self) -> bool {
            self.server.is_running()
        }
        /// Stops serving (in-flight requests get a second to finish).
        pub fn shutdown(self) {
            self.server.shutdown()
        }
    };
}
pub(crate) use server_methods;
