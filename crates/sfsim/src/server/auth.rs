//! The gate in front of every authenticated REST call: delay, API version, bearer token,
//! DailyApiRequests counting and injected 5xx/429 faults.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::versions::{self, ApiVersion};
use super::{lock, ApiError, Faults, Shared};

/// The token of an `Authorization: Bearer <token>` (or `OAuth <token>`) header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth") {
        let t = token.trim();
        (!t.is_empty()).then_some(t)
    } else {
        None
    }
}

/// Checks a token without counting a call: the user it acts for, if it is alive.
pub fn check_token(s: &Shared, token: Option<&str>, faults: &Faults) -> Result<usize, ApiError> {
    let token = token.ok_or_else(ApiError::invalid_session)?;
    let sessions = lock(&s.sessions);
    let sess = sessions.get(token).ok_or_else(ApiError::invalid_session)?;
    if let Some(max) = faults.session_max_secs {
        if sess.issued.elapsed() >= Duration::from_secs(max) {
            return Err(ApiError::invalid_session());
        }
    }
    if let Some(max) = faults.session_max_calls {
        if sess.calls >= max {
            return Err(ApiError::invalid_session());
        }
    }
    Ok(sess.user)
}

pub async fn gate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let faults = s.faults();
    if let Some(ms) = faults.delay_ms.filter(|ms| *ms > 0) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let version = match version_of(req.uri().path(), &s.api_version) {
        Some(v) => v,
        None => return ApiError::not_found().into_response(),
    };
    let token = bearer(req.headers()).map(str::to_string);
    let _user = match check_token(&s, token.as_deref(), &faults) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let used = s.api_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if used > s.daily_api_limit() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
        .into_response();
    }
    if let Some(t) = &token {
        if let Some(sess) = lock(&s.sessions).get_mut(t) {
            sess.calls += 1;
        }
    }
    let n = s.fault_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if faults.error_5xx_every.is_some_and(|k| k > 0 && n % k == 0) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable; please retry.",
        )
        .into_response();
    }
    if faults.error_429_every.is_some_and(|k| k > 0 && n % k == 0) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentPerOrgLongTxn Limit exceeded.",
        );
        e.retry_after = Some(faults.retry_after_secs.unwrap_or(1));
        return e.into_response();
    }
    req.extensions_mut().insert(ApiVersion(version));
    next.run(req).await
}

/// The version of a `/services/data/<vNN.0|latest>/...` path, if it is served.
fn version_of(path: &str, newest: &str) -> Option<String> {
    let seg = path.strip_prefix("/services/data/")?.split('/').next()?;
    versions::resolve(seg, newest)
}
