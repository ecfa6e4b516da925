//! Streams an EventLogFile body to a spool file: gzip on the wire, never the whole file in
//! memory, checked against `LogFileLength`, retried whole when the connection is cut.

use std::path::Path;

use futures_util::StreamExt;
use reqwest::Method;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{error_chain, ApiError, SfClient};

#[derive(Debug, Clone)]
pub struct Downloaded {
    pub bytes: u64,
    pub sha256: String,
}

impl SfClient {
    /// Downloads `path` (the record's `LogFile` URL) into `dest`, replacing it.
    /// `progress` is told of every chunk written.
    pub async fn download(
        &self,
        path: &str,
        dest: &Path,
        expected_len: Option<u64>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Downloaded, ApiError> {
        let mut delays = self.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.download_once(path, dest, progress).await {
                Ok(d) => match expected_len {
                    Some(n) if n != d.bytes => {
                        let msg =
                            format!("downloaded {} bytes but LogFileLength says {n}", d.bytes);
                        if attempt >= self.retry.max_attempts {
                            return Err(ApiError::Transient(msg));
                        }
                        tracing::warn!(attempt, "{msg}; downloading again");
                    }
                    _ => return Ok(d),
                },
                Err(Cut(msg)) if attempt < self.retry.max_attempts => {
                    tracing::warn!(attempt, "download cut short: {msg}; downloading again");
                }
                Err(Cut(msg)) => {
                    return Err(ApiError::Transient(format!(
                        "download cut short {attempt} times: {msg}"
                    )))
                }
                Err(Api(e)) => return Err(e),
            }
            tokio::time::sleep(delays.next().unwrap_or(self.retry.max_delay)).await;
        }
    }

    async fn download_once(
        &self,
        path: &str,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Downloaded, Failure> {
        let resp = self.send(Method::GET, path, &[]).await.map_err(Api)?;
        let io = |e: std::io::Error| {
            Api(ApiError::Protocol(format!(
                "cannot write spool file {}: {e}",
                dest.display()
            )))
        };
        let mut file = tokio::io::BufWriter::with_capacity(
            256 * 1024,
            tokio::fs::File::create(dest).await.map_err(io)?,
        );
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Cut(error_chain(&e)))?;
            hasher.update(&chunk);
            bytes += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
            progress(chunk.len() as u64);
        }
        file.flush().await.map_err(io)?;
        file.into_inner().sync_all().await.map_err(io)?;
        Ok(Downloaded {
            bytes,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

enum Failure {
    Cut(String),
    Api(ApiError),
}
use Failure::{Api, Cut};
