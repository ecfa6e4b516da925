//! `GET .../sobjects/EventLogFile/{Id}/LogFile`: the CSV blob, streamed, gzip on request, and
//! cut short on its first download when `cut_download_after_bytes` is set.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{lock, ApiError, Shared};

/// Bytes of CSV asked from the generator at a time.
const CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, std::io::Error>;

fn wants_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

pub async fn download(
    State(s): State<Arc<Shared>>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let object = params.get("object").map(String::as_str).unwrap_or("");
    let field = params.get("field").map(String::as_str).unwrap_or("");
    let id = params.get("id").map(String::as_str).unwrap_or("");
    if !object.eq_ignore_ascii_case("EventLogFile") || !field.eq_ignore_ascii_case("LogFile") {
        return Err(ApiError::not_found());
    }
    let id = s
        .visible_file(id)
        .ok_or_else(ApiError::not_found)?
        .id
        .clone();
    if s.faults().broken_files.contains(&id) {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)",
        ));
    }
    let gzip = wants_gzip(&headers);
    let cut = s
        .faults()
        .cut_download_after_bytes
        .filter(|_| lock(&s.cut_done).insert(id.clone()));

    let length = if gzip {
        None
    } else {
        let (org, id) = (s.org.clone(), id.clone());
        tokio::task::spawn_blocking(move || org.length(&id))
            .await
            .ok()
    };

    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let org = s.org.clone();
    let file_id = id.clone();
    tokio::task::spawn_blocking(move || produce(&org, &file_id, gzip, &tx));

    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let body = match cut {
        Some(limit) => {
            tracing::info!(file = %id, limit, "cutting the first download");
            Body::from_stream(cut_after(stream, limit))
        }
        None => Body::from_stream(stream),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&s.log_file_content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    } else if let Some(len) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    Ok(resp)
}

/// Runs on a blocking thread: generates the body chunk by chunk (gzip-compressed when asked)
/// and hands it to the response; stops when the client goes away.
fn produce(org: &sfgen::Org, id: &str, gzip: bool, tx: &mpsc::Sender<Chunk>) {
    let send = |bytes: Vec<u8>| -> bool {
        bytes.is_empty() || tx.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    };
    if !gzip {
        for chunk in org.body(id, CHUNK) {
            if !send(chunk) {
                return;
            }
        }
        return;
    }
    let mut enc = GzEncoder::new(Vec::with_capacity(CHUNK), Compression::fast());
    for chunk in org.body(id, CHUNK) {
        if let Err(e) = enc.write_all(&chunk) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let out = std::mem::take(enc.get_mut());
        if !send(out) {
            return;
        }
    }
    match enc.finish() {
        Ok(rest) => {
            send(rest);
        }
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
        }
    }
}

/// Passes `limit` bytes through, then fails the body so the connection is dropped and the
/// client sees an incomplete answer.
fn cut_after(
    inner: impl futures_util::Stream<Item = Chunk> + Send + 'static,
    limit: u64,
) -> impl futures_util::Stream<Item = Chunk> + Send + 'static {
    let inner = Box::pin(inner);
    futures_util::stream::unfold(
        (inner, 0u64, false),
        move |(mut inner, sent, done)| async move {
            if done {
                return None;
            }
            if sent >= limit {
                // Give the transport a moment to flush what was sent before the reset.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let err =
                    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "download cut");
                return Some((Err(err), (inner, sent, true)));
            }
            match inner.next().await {
                Some(Ok(mut bytes)) => {
                    let room = limit - sent;
                    if bytes.len() as u64 > room {
                        bytes.truncate(room as usize);
                    }
                    let n = bytes.len() as u64;
                    Some((Ok(bytes), (inner, sent + n, false)))
                }
                Some(Err(e)) => Some((Err(e), (inner, sent, true))),
                // The whole body fit under the limit: nothing to cut.
                None => None,
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let mut h = HeaderMap::new();
        assert!(!wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate"),
        );
        assert!(wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!wants_gzip(&h));
    }
}
