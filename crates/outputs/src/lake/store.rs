//! The object store a lake writes to: S3 (any S3-compatible service) through `object_store`
//! over reqwest and rustls, or a local folder; and the upload of one file, in one request or,
//! when large, in parts.

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::config::{LakeConfig, Location, S3Location};

/// Above this a file goes up in parts: S3 takes at most 5 GB in one PUT, and a part that
/// fails is sent again alone, not the whole file.
const MULTIPART_ABOVE: usize = 16 * 1024 * 1024;
/// Each part but the last (S3 wants at least 5 MiB).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// The region when neither the settings nor AWS_REGION give one: S3-compatible stores
/// ignore it but sign with it, and AWS's own default.
const DEFAULT_REGION: &str = "us-east-1";

/// Why the lake cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error(
        "cannot open the lake {lake}: {source}. Fix: check the bucket name, region and endpoint"
    )]
    Open {
        lake: String,
        source: object_store::Error,
    },
    #[error("cannot create the lake folder {path}: {source}. Fix: create it, or give the collector's user write access to its parent")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {key} to the lake {lake}: {source}")]
    Write {
        lake: String,
        key: String,
        source: object_store::Error,
    },
    #[error("cannot list {dir} in the lake {lake} (to replace what an interrupted upload left): {source}")]
    List {
        lake: String,
        dir: String,
        source: object_store::Error,
    },
    #[error("cannot remove {key} from the lake {lake} (left by an interrupted upload, its rows stored again since): {source}")]
    Remove {
        lake: String,
        key: String,
        source: object_store::Error,
    },
    #[error("cannot encode the Parquet file for {partition}: {source}")]
    Encode {
        partition: String,
        source: parquet::errors::ParquetError,
    },
    #[error("the encoding task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl LakeError {
    /// Whether trying again later may help: missing buckets and refused credentials do not
    /// fix themselves, a network error or a busy store may.
    pub fn is_fatal(&self) -> bool {
        match self {
            LakeError::Open { .. } | LakeError::Folder { .. } | LakeError::Encode { .. } => true,
            LakeError::Write { source, .. }
            | LakeError::List { source, .. }
            | LakeError::Remove { source, .. } => matches!(
                source,
                object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
                    | object_store::Error::NotFound { .. }
            ),
            LakeError::Join(_) => false,
        }
    }
}

/// A lake's object store, and the prefix its keys go under.
#[derive(Debug, Clone)]
pub struct Lake {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: String,
    /// For messages: `s3://bucket/prefix` or `file:///path`.
    pub name: String,
}

impl Lake {
    pub fn open(c: &LakeConfig) -> Result<Lake, LakeError> {
        let name = c.describe();
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match &c.location {
            Location::S3(s) => (Arc::new(s3(s, &name)?), s.prefix.clone()),
            Location::Local(path) => {
                std::fs::create_dir_all(path).map_err(|source| LakeError::Folder {
                    path: path.display().to_string(),
                    source,
                })?;
                let fs =
                    LocalFileSystem::new_with_prefix(path).map_err(|source| LakeError::Open {
                        lake: name.clone(),
                        source,
                    })?;
                (Arc::new(fs), String::new())
            }
        };
        Ok(Lake {
            store,
            prefix,
            name,
        })
    }

    /// The full key of `key` (relative to the lake's prefix).
    pub fn path(&self, key: &str) -> Result<Path, LakeError> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(&full).map_err(|e| LakeError::Write {
            lake: self.name.clone(),
            key: full,
            source: e.into(),
        })
    }

    /// Stores `bytes` at `key`, replacing what is there. Either call completes the object
    /// whole or leaves the earlier one: a reader never sees half a file.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), LakeError> {
        let path = self.path(key)?;
        let err = |source| LakeError::Write {
            lake: self.name.clone(),
            key: path.to_string(),
            source,
        };
        if bytes.len() <= MULTIPART_ABOVE {
            self.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(err)?;
            return Ok(());
        }
        let upload = self.store.put_multipart(&path).await.map_err(err)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut rest = Bytes::from(bytes);
        while !rest.is_empty() {
            let n = PART_BYTES.min(rest.len());
            if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                // An unfinished upload costs storage until aborted.
                let _ = w.abort().await;
                return Err(err(e));
            }
            w.put(rest.split_to(n));
        }
        w.finish().await.map_err(err)?;
        Ok(())
    }
}

impl Lake {
    /// The names of the objects directly in `dir` (relative to the prefix); none when there
    /// is no such folder.
    pub async fn list(&self, dir: &str) -> Result<Vec<String>, LakeError> {
        let path = self.path(dir)?;
        match self.store.list_with_delimiter(Some(&path)).await {
            Ok(l) => Ok(l
                .objects
                .into_iter()
                .filter_map(|o| o.location.filename().map(str::to_string))
                .collect()),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(source) => Err(LakeError::List {
                lake: self.name.clone(),
                dir: path.to_string(),
                source,
            }),
        }
    }

    /// Removes the object `key` (relative to the prefix); one already gone is no error.
    pub async fn remove(&self, key: &str) -> Result<(), LakeError> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(LakeError::Remove {
                lake: self.name.clone(),
                key: path.to_string(),
                source,
            }),
        }
    }
}

/// An S3 client. Credentials: the settings' own, else the standard AWS variables (and, on
/// AWS, the instance or container role, which `object_store` reads itself).
fn s3(s: &S3Location, name: &str) -> Result<object_store::aws::AmazonS3, LakeError> {
    let mut b = AmazonS3Builder::from_env().with_bucket_name(&s.bucket);
    let region = s
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    b = b.with_region(region);
    match &s.endpoint {
        Some(e) => {
            // Other S3 services (MinIO, Ceph, moto, R2) address buckets by path; plain http
            // was allowed by the settings only to this machine.
            b = b
                .with_endpoint(e.as_str().trim_end_matches('/'))
                .with_virtual_hosted_style_request(false)
                .with_allow_http(e.scheme() == "http");
        }
        // AWS itself: bucket.s3.region..., except for dotted names, which break its
        // certificate's wildcard.
        None => {
            b = b
                .with_virtual_hosted_style_request(!s.bucket.contains('.'))
                .with_allow_http(false);
        }
    }
    if let Some(c) = &s.credentials {
        b = b
            .with_access_key_id(c.access_key_id.expose())
            .with_secret_access_key(c.secret_access_key.expose());
        if let Some(t) = &c.session_token {
            b = b.with_token(t.expose());
        }
    }
    b.build().map_err(|source| LakeError::Open {
        lake: name.to_string(),
        source,
    })
}
