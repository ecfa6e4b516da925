//! `doctor`'s checks of a lake: the prefix can be listed, and an object can be stored under
//! it and removed again. No event is written: the test object lives beside the layout's
//! partitions (`sfevents/v1/_doctor/`), where no reader's table points.

use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::config::LakeConfig;
use super::layout::ROOT;
use super::store::Lake;
use crate::probe::Findings;

const LIST: &str = "lists the lake";
const WRITE: &str = "accepts a write";

pub async fn probe(c: &LakeConfig, out: &mut dyn Findings) {
    let lake = match Lake::open(c) {
        Ok(l) => l,
        Err(e) => return out.problem(WRITE, e.to_string()),
    };
    let root = match lake.path(ROOT) {
        Ok(p) => p,
        Err(e) => return out.problem(WRITE, e.to_string()),
    };
    // One page of the listing is enough to prove the permission; the lake may be large.
    let mut listing = lake.store.list(Some(&root));
    match listing.next().await {
        None | Some(Ok(_)) => out.ok(LIST, format!("{} can be listed", lake.name)),
        Some(Err(e)) => {
            return out.problem(
                LIST,
                format!(
                    "cannot list {}: {e}. Fix: check the bucket, region, endpoint and credentials (s3:ListBucket on the prefix)",
                    lake.name
                ),
            )
        }
    }
    drop(listing);
    let key = format!("{ROOT}/_doctor/probe-{}", uuid::Uuid::new_v4());
    let path = match lake.path(&key) {
        Ok(p) => p,
        Err(e) => return out.problem(WRITE, e.to_string()),
    };
    let put = lake
        .store
        .put(&path, PutPayload::from_static(b"sfevents doctor\n"))
        .await;
    match put {
        Ok(_) => {
            // A probe object left behind is harmless but untidy: a failed delete is a warning.
            match lake.store.delete(&path).await {
                Ok(()) => out.ok(WRITE, format!("stored and removed {path}")),
                Err(e) => out.warn(
                    WRITE,
                    format!("stored {path} but could not remove it: {e}. Fix: allow s3:DeleteObject, or delete it by hand"),
                ),
            }
        }
        Err(e) => out.problem(
            WRITE,
            format!(
                "cannot store {path}: {e}. Fix: allow s3:PutObject under the prefix, and check the credentials (access_key_id_env / secret_access_key_env or the AWS_ variables)"
            ),
        ),
    }
}
