//! `GET /services/data/`: the API versions served, and each version's resource list.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use super::{ok_json, Shared};

/// The oldest version listed.
pub const OLDEST: u32 = 31;

/// The major number of a version string ("64.0" → 64).
pub fn major(v: &str) -> Option<u32> {
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    if minor != "0" {
        return None;
    }
    major.parse().ok()
}

/// The API version of a request, e.g. "64.0".
#[derive(Debug, Clone)]
pub struct ApiVersion(pub String);

/// `vNN.0` or `latest` → "NN.0" when served.
pub fn resolve(segment: &str, newest: &str) -> Option<String> {
    let max = major(newest)?;
    if segment == "latest" {
        return Some(format!("{max}.0"));
    }
    let n = major(segment.strip_prefix('v')?)?;
    (OLDEST..=max).contains(&n).then(|| format!("{n}.0"))
}

/// The release name of a version: 31.0 is Summer '14, then three releases a year.
pub fn label(major: u32) -> String {
    let k = major.saturating_sub(OLDEST);
    let season = ["Summer", "Winter", "Spring"][(k % 3) as usize];
    let year = 14 + k.div_ceil(3);
    format!("{season} '{year:02}")
}

pub async fn versions(State(s): State<Arc<Shared>>) -> Response {
    let max = major(&s.api_version).unwrap_or(OLDEST);
    let list: Vec<Value> = (OLDEST..=max)
        .map(|n| {
            json!({
                "label": label(n),
                "url": format!("/services/data/v{n}.0"),
                "version": format!("{n}.0"),
            })
        })
        .collect();
    ok_json(Value::Array(list))
}

pub async fn resources(Extension(ApiVersion(v)): Extension<ApiVersion>) -> Response {
    let base = format!("/services/data/v{v}");
    ok_json(json!({
        "tooling": format!("{base}/tooling"),
        "query": format!("{base}/query"),
        "queryAll": format!("{base}/queryAll"),
        "sobjects": format!("{base}/sobjects"),
        "limits": format!("{base}/limits"),
        "identity": "/id",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label(31), "Summer '14");
        assert_eq!(label(59), "Winter '24");
        assert_eq!(label(64), "Summer '25");
        assert_eq!(label(66), "Spring '26");
    }

    #[test]
    fn resolves() {
        assert_eq!(resolve("v64.0", "64.0").as_deref(), Some("64.0"));
        assert_eq!(resolve("latest", "64.0").as_deref(), Some("64.0"));
        assert_eq!(resolve("v31.0", "64.0").as_deref(), Some("31.0"));
        assert_eq!(resolve("v30.0", "64.0"), None);
        assert_eq!(resolve("v65.0", "64.0"), None);
        assert_eq!(resolve("64.0", "64.0"), None);
        assert_eq!(resolve("v64.1", "64.0"), None);
    }
}
