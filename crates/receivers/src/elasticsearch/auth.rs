//! Authentication, as the security features answer it.
//!
//! Elasticsearch: `Authorization: ApiKey base64(id:api_key)`, `Basic base64(user:password)` or
//! `Bearer <token>`. A refusal is 401 `security_exception` with three `WWW-Authenticate`
//! challenges, repeated in the body's `header`. Reasons, as Elasticsearch words them:
//! - nothing sent: "missing authentication credentials for REST request [<uri>]";
//! - a wrong user or password: "unable to authenticate user [<user>] for REST request [<uri>]";
//! - a wrong API key or token: "unable to authenticate with provided credentials and anonymous
//!   access is not allowed for this request", with `additional_unsuccessful_credentials`.
//!
//! OpenSearch's security plugin has no `ApiKey` scheme: basic and bearer (JWT) only, and its
//! refusal is a bare `Unauthorized` with a `Basic realm="OpenSearch Security"` challenge (from
//! memory of its answers, not from a document read).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::errors::EsError;
use super::{Flavor, Shared};

const CHALLENGES: [&str; 3] = [
    "Basic realm=\"security\", charset=\"UTF-8\"",
    "Bearer realm=\"security\"",
    "ApiKey",
];

/// Why credentials were refused.
enum Refusal {
    Missing,
    User(String),
    Other(String),
}

/// The middleware: admin paths (`/__receiver/…`) pass, as does everything when no credentials
/// are configured.
pub async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let creds = &shared.config.credentials;
    if !creds.required() || req.uri().path().starts_with("/__receiver") {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let opensearch = shared.config.flavor == Flavor::OpenSearch;
    match check(creds, header.as_deref(), opensearch) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            shared.lock().stats.auth_failures += 1;
            let uri = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            if opensearch {
                return (
                    StatusCode::UNAUTHORIZED,
                    [
                        (WWW_AUTHENTICATE, "Basic realm=\"OpenSearch Security\""),
                        (CONTENT_TYPE, "text/plain; charset=UTF-8"),
                    ],
                    "Unauthorized",
                )
                    .into_response();
            }
            refusal_error(refusal, &uri).into_response()
        }
    }
}

fn refusal_error(refusal: Refusal, uri: &str) -> EsError {
    let (reason, extra) = match refusal {
        Refusal::Missing => (
            format!("missing authentication credentials for REST request [{uri}]"),
            None,
        ),
        Refusal::User(user) => (
            format!("unable to authenticate user [{user}] for REST request [{uri}]"),
            None,
        ),
        Refusal::Other(detail) => (
            "unable to authenticate with provided credentials and anonymous access is not allowed for this request".to_string(),
            Some(detail),
        ),
    };
    let mut e = EsError::new(401, "security_exception", reason);
    if let Some(d) = extra {
        e = e.with("additional_unsuccessful_credentials", d);
    }
    let mut e = e.with("header", json!({ "WWW-Authenticate": CHALLENGES }));
    for c in CHALLENGES {
        e = e.header(WWW_AUTHENTICATE, c);
    }
    e
}

fn decode_pair(b64: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (a, b) = text.split_once(':')?;
    Some((a.to_string(), b.to_string()))
}

fn check(
    creds: &super::Credentials,
    header: Option<&str>,
    opensearch: bool,
) -> Result<(), Refusal> {
    let Some(header) = header else {
        return Err(Refusal::Missing);
    };
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => {
            let Some((user, pass)) = decode_pair(value) else {
                return Err(Refusal::Missing);
            };
            if creds.basic.iter().any(|(u, p)| *u == user && *p == pass) {
                Ok(())
            } else {
                Err(Refusal::User(user))
            }
        }
        "apikey" if !opensearch => {
            let Some((id, key)) = decode_pair(value) else {
                return Err(Refusal::Other("API key: invalid ApiKey value".to_string()));
            };
            match creds.api_keys.iter().find(|k| k.id == id) {
                Some(k) if k.key == key => Ok(()),
                Some(_) => Err(Refusal::Other(format!(
                    "API key: invalid credentials for API key [{id}]"
                ))),
                None => Err(Refusal::Other(format!(
                    "API key: unable to find apikey with id {id}"
                ))),
            }
        }
        "bearer" => {
            if creds.bearer.iter().any(|t| t == value.trim()) {
                Ok(())
            } else {
                Err(Refusal::Other(
                    "bearer token: unable to authenticate bearer token".to_string(),
                ))
            }
        }
        // An unknown scheme is no credentials at all to the realms.
        _ => Err(Refusal::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elasticsearch::{ApiKey, Credentials};

    #[test]
    fn api_key_id_and_secret_are_both_checked() {
        let creds = Credentials {
            api_keys: vec![ApiKey::new("id1", "secret")],
            ..Credentials::default()
        };
        let good = format!("ApiKey {}", creds.api_keys[0].encoded());
        assert!(check(&creds, Some(&good), false).is_ok());
        assert!(
            check(&creds, Some(&good), true).is_err(),
            "OpenSearch has no ApiKey scheme"
        );
        let wrong = format!("ApiKey {}", ApiKey::new("id1", "nope").encoded());
        assert!(
            matches!(check(&creds, Some(&wrong), false), Err(Refusal::Other(m)) if m.contains("[id1]"))
        );
        assert!(matches!(check(&creds, None, false), Err(Refusal::Missing)));
    }
}
