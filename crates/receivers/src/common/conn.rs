//! Closing a client's connection from inside a handler.
//!
//! A handler cannot drop its own TCP connection, so every accepted stream is wrapped in a
//! [`KillableStream`] registered under the peer address; [`kill`] flips its flag, and the next
//! read or write fails, which makes hyper drop the connection without writing the answer. The
//! client sees the connection closed mid-request, as when a node dies or a proxy cuts it.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Open connections by peer address.
pub type Kills = Arc<Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>>;

/// Marks the connection from `peer` for closing; false when there is none.
pub fn kill(kills: &Kills, peer: SocketAddr) -> bool {
    let map = kills.lock().unwrap_or_else(|p| p.into_inner());
    match map.get(&peer) {
        Some(flag) => {
            flag.store(true, Ordering::SeqCst);
            true
        }
        None => false,
    }
}

/// Marks every open connection for closing (a listener being stopped).
pub fn kill_all(kills: &Kills) {
    let map = kills.lock().unwrap_or_else(|p| p.into_inner());
    for flag in map.values() {
        flag.store(true, Ordering::SeqCst);
    }
}

/// Closes the client's connection without an answer: the returned response is never written
/// once the connection is gone.
pub fn close(kills: &Kills, peer: SocketAddr) -> Response {
    if !kill(kills, peer) {
        tracing::warn!(%peer, "no connection to close; answering 500 instead");
    }
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The acceptor that wraps and registers every TCP stream (under TLS too: it is the inner
/// acceptor of the rustls one).
#[derive(Clone)]
pub struct KillAcceptor {
    pub kills: Kills,
}

impl<S> Accept<TcpStream, S> for KillAcceptor {
    type Stream = KillableStream;
    type Service = S;
    type Future = Ready<io::Result<(KillableStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        ready(stream.peer_addr().map(|peer| {
            let flag = Arc::new(AtomicBool::new(false));
            self.kills
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(peer, flag.clone());
            let wrapped = KillableStream {
                inner: stream,
                flag,
                peer,
                kills: self.kills.clone(),
            };
            (wrapped, service)
        }))
    }
}

pub struct KillableStream {
    inner: TcpStream,
    flag: Arc<AtomicBool>,
    peer: SocketAddr,
    kills: Kills,
}

impl KillableStream {
    fn killed(&self) -> Option<io::Error> {
        self.flag.load(Ordering::SeqCst).then(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection closed by the receiver's fault injection",
            )
        })
    }
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        let mut map = self.kills.lock().unwrap_or_else(|p| p.into_inner());
        // The same peer address may already belong to a newer connection.
        if map
            .get(&self.peer)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flag))
        {
            map.remove(&self.peer);
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
