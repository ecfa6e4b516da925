//! Streams an EventLogFile body to a consumer on a blocking thread: gzip on the wire, never
//! the whole file in memory, checked against `LogFileLength`, retried whole when the
//! connection is cut.
//!
//! The consumer (the CSV to NDJSON conversion) reads the body through [`Body`] while it
//! arrives, and `Body` writes every byte to the spool file and hashes it on the way. The body
//! is therefore read once: no second pass over the spool, and the download and the
//! conversion overlap.

use std::io::{Read, Write};
use std::path::Path;

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use reqwest::Method;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{error_chain, ApiError, SfClient};

#[derive(Debug, Clone)]
pub struct Downloaded {
    pub bytes: u64,
    pub sha256: String,
}

/// Why a download with a consumer failed.
#[derive(Debug)]
pub enum DownloadError<E> {
    Api(ApiError),
    /// The consumer refused the body (e.g. it is not valid CSV).
    Consume(E),
}

enum Msg {
    /// At least `BATCH_BYTES`, or what came before the end.
    Data(Vec<Bytes>),
    /// The body ended as the server meant it to.
    End,
    /// The connection was cut.
    Cut(String),
}

/// Batches in flight between the connection and the consumer: a few MB at most.
const CHANNEL_BATCHES: usize = 8;
/// Chunks off the wire are small (kilobytes); handing each to the blocking thread alone
/// cost a wake-up per chunk, an eighth of the CPU of a download.
const BATCH_BYTES: usize = 256 * 1024;

/// The body as the consumer reads it. Every byte read has been written to the spool file and
/// hashed. Reading past the end gives 0 only when the body ended whole; a cut connection or
/// an abandoned download is an error.
pub struct Body {
    rx: mpsc::Receiver<Msg>,
    /// The chunks of the batch being read, the current one last.
    batch: Vec<Bytes>,
    cur: Bytes,
    spool: std::fs::File,
    hasher: Sha256,
    bytes: u64,
    ended: bool,
}

impl Body {
    fn new(rx: mpsc::Receiver<Msg>, spool: std::fs::File) -> Body {
        Body {
            rx,
            batch: Vec::new(),
            cur: Bytes::new(),
            spool,
            hasher: Sha256::new(),
            bytes: 0,
            ended: false,
        }
    }

    /// Takes the next chunk; false at the end of a whole body.
    fn next_chunk(&mut self) -> std::io::Result<bool> {
        if let Some(b) = self.batch.pop() {
            self.cur = b;
            return Ok(true);
        }
        if self.ended {
            return Ok(false);
        }
        match self.rx.blocking_recv() {
            Some(Msg::Data(mut chunks)) => {
                write_all_chunks(&mut self.spool, &chunks)?;
                for c in &chunks {
                    self.hasher.update(c);
                    self.bytes += c.len() as u64;
                }
                chunks.reverse();
                self.batch = chunks;
                self.next_chunk()
            }
            Some(Msg::End) => {
                self.ended = true;
                Ok(false)
            }
            Some(Msg::Cut(m)) => Err(std::io::Error::other(format!("download cut short: {m}"))),
            None => Err(std::io::Error::other("download abandoned")),
        }
    }

    /// Reads what the consumer left, syncs the spool file, and gives its size and sha256.
    fn finish(mut self) -> std::io::Result<Downloaded> {
        while self.next_chunk()? {}
        self.spool.sync_all()?;
        Ok(Downloaded {
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            if !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur.advance(n);
        Ok(n)
    }
}

/// Writes a batch with as few system calls as the kernel allows, without copying it first.
fn write_all_chunks(f: &mut std::fs::File, chunks: &[Bytes]) -> std::io::Result<()> {
    let mut first = 0;
    let mut offset = 0;
    while first < chunks.len() {
        let slices: Vec<std::io::IoSlice> = std::iter::once(&chunks[first][offset..])
            .chain(chunks[first + 1..].iter().map(|c| &c[..]))
            .map(std::io::IoSlice::new)
            .collect();
        let mut n = f.write_vectored(&slices)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while first < chunks.len() && n >= chunks[first].len() - offset {
            n -= chunks[first].len() - offset;
            first += 1;
            offset = 0;
        }
        offset += n;
    }
    Ok(())
}

/// What the blocking side of one attempt ended with.
enum Outcome<T, E> {
    Done(Downloaded, T),
    Consume(E),
    Io(std::io::Error),
}

impl SfClient {
    /// Downloads `path` (the record's `LogFile` URL) into the spool file `dest`, replacing it,
    /// while `consume` reads it on a blocking thread. `progress` is told of every chunk.
    /// A cut connection or a length other than `expected_len` starts again from scratch,
    /// with a fresh `consume`.
    pub async fn download_with<T, E, F>(
        &self,
        path: &str,
        dest: &Path,
        expected_len: Option<u64>,
        progress: &(dyn Fn(u64) + Sync),
        consume: F,
    ) -> Result<(Downloaded, T), DownloadError<E>>
    where
        F: Fn(&mut Body) -> Result<T, E> + Clone + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let mut delays = self.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .download_once(path, dest, progress, consume.clone())
                .await
            {
                Ok((d, t)) => match expected_len {
                    Some(n) if n != d.bytes => {
                        let msg =
                            format!("downloaded {} bytes but LogFileLength says {n}", d.bytes);
                        if attempt >= self.retry.max_attempts {
                            return Err(DownloadError::Api(ApiError::Transient(msg)));
                        }
                        tracing::warn!(attempt, "{msg}; downloading again");
                    }
                    _ => return Ok((d, t)),
                },
                Err(Failure::Cut(msg)) if attempt < self.retry.max_attempts => {
                    tracing::warn!(attempt, "download cut short: {msg}; downloading again");
                }
                Err(Failure::Cut(msg)) => {
                    return Err(DownloadError::Api(ApiError::Transient(format!(
                        "download cut short {attempt} times: {msg}"
                    ))))
                }
                Err(Failure::Api(e)) => return Err(DownloadError::Api(e)),
                Err(Failure::Consume(e)) => return Err(DownloadError::Consume(e)),
            }
            tokio::time::sleep(delays.next().unwrap_or(self.retry.max_delay)).await;
        }
    }

    /// One attempt: the body streams to `consume` on a blocking thread.
    async fn download_once<T, E, F>(
        &self,
        path: &str,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
        consume: F,
    ) -> Result<(Downloaded, T), Failure<E>>
    where
        F: FnOnce(&mut Body) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let resp = self
            .send(Method::GET, path, &[])
            .await
            .map_err(Failure::Api)?;
        let spool_err = |e: std::io::Error| {
            Failure::Api(ApiError::Local(format!(
                "cannot write spool file {}: {e}",
                dest.display()
            )))
        };
        let file =
            base::fsmode::create_file(dest, base::fsmode::PRIVATE_FILE).map_err(spool_err)?;
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let task = tokio::task::spawn_blocking(move || consume_body(Body::new(rx, file), consume));
        let cut = pump(resp, &tx, progress).await;
        drop(tx);
        let outcome = task.await.map_err(|e| {
            Failure::Api(ApiError::Local(format!(
                "the download's reader failed: {e}"
            )))
        })?;
        if let Some(msg) = cut {
            return Err(Failure::Cut(msg));
        }
        match outcome {
            Outcome::Done(d, t) => Ok((d, t)),
            Outcome::Consume(e) => Err(Failure::Consume(e)),
            Outcome::Io(e) => Err(spool_err(e)),
        }
    }
}

/// The blocking side of one attempt: the consumer reads the body, then what it left is
/// read to the end (spooled and hashed like the rest).
fn consume_body<T, E>(
    mut body: Body,
    consume: impl FnOnce(&mut Body) -> Result<T, E>,
) -> Outcome<T, E> {
    match consume(&mut body) {
        Ok(t) => match body.finish() {
            Ok(d) => Outcome::Done(d, t),
            Err(e) => Outcome::Io(e),
        },
        Err(e) => Outcome::Consume(e),
    }
}

/// Hands the response's chunks to the consumer in batches, and tells it how the body ended.
/// Returns why the connection was cut, if it was.
async fn pump(
    resp: reqwest::Response,
    tx: &mpsc::Sender<Msg>,
    progress: &(dyn Fn(u64) + Sync),
) -> Option<String> {
    let mut stream = resp.bytes_stream();
    let mut batch = Vec::new();
    let mut batched = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                progress(c.len() as u64);
                batched += c.len();
                batch.push(c);
                if batched >= BATCH_BYTES {
                    batched = 0;
                    // A consumer that stopped reading has failed: its error tells why.
                    if tx
                        .send(Msg::Data(std::mem::take(&mut batch)))
                        .await
                        .is_err()
                    {
                        return None;
                    }
                }
            }
            Err(e) => {
                let msg = error_chain(&e);
                let _ = tx.send(Msg::Cut(msg.clone())).await;
                return Some(msg);
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Msg::Data(batch)).await;
    }
    let _ = tx.send(Msg::End).await;
    None
}

enum Failure<E> {
    Cut(String),
    Api(ApiError),
    Consume(E),
}
