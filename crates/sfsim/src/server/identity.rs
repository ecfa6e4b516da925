//! The identity URL (`/id/<orgId>/<userId>`) and `/services/oauth2/userinfo`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::auth::{bearer, check_token};
use super::{ok_json, ApiError, Shared};

fn urls(s: &Shared, user_id: &str) -> Value {
    let base = format!("{}/services/data/v{{version}}", s.url);
    json!({
        "enterprise": format!("{}/services/Soap/c/{{version}}/{}", s.url, s.org.org_id),
        "metadata": format!("{}/services/Soap/m/{{version}}/{}", s.url, s.org.org_id),
        "partner": format!("{}/services/Soap/u/{{version}}/{}", s.url, s.org.org_id),
        "rest": format!("{base}/"),
        "sobjects": format!("{base}/sobjects/"),
        "search": format!("{base}/search/"),
        "query": format!("{base}/query/"),
        "recent": format!("{base}/recent/"),
        "tooling_soap": format!("{}/services/Soap/T/{{version}}/{}", s.url, s.org.org_id),
        "tooling_rest": format!("{base}/tooling/"),
        "profile": format!("{}/{user_id}", s.url),
        "feeds": format!("{base}/chatter/feeds"),
        "groups": format!("{base}/chatter/groups"),
        "users": format!("{base}/chatter/users"),
        "feed_items": format!("{base}/chatter/feed-items"),
        "custom_domain": s.url,
    })
}

fn authed_user(s: &Shared, headers: &HeaderMap) -> Result<usize, ApiError> {
    check_token(s, bearer(headers), &s.faults())
}

pub async fn identity(
    State(s): State<Arc<Shared>>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let me = authed_user(&s, &headers)?;
    let org = params.get("org").map(String::as_str).unwrap_or("");
    let user = params.get("user").map(String::as_str).unwrap_or("");
    if !s.org.org_id.starts_with(org) || org.len() < 15 {
        return Err(ApiError::not_found());
    }
    let u = s
        .org
        .users
        .iter()
        .find(|u| u.id.starts_with(user) && user.len() >= 15)
        .ok_or_else(ApiError::not_found)?;
    let me = &s.org.users[me];
    let (first, last) = u.name.split_once(' ').unwrap_or(("", u.name.as_str()));
    Ok(ok_json(json!({
        "id": format!("{}/id/{}/{}", s.url, s.org.org_id, u.id),
        "asserted_user": u.id == me.id,
        "user_id": u.id,
        "organization_id": s.org.org_id,
        "username": u.username,
        "nick_name": u.username.split('@').next().unwrap_or(""),
        "display_name": u.name,
        "email": u.username,
        "email_verified": true,
        "first_name": first,
        "last_name": last,
        "timezone": "GMT",
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": "2024-01-01T00:00:00.000+0000",
        "is_app_installed": true,
        "urls": urls(&s, &u.id),
    })))
}

pub async fn userinfo(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let me = authed_user(&s, &headers)?;
    let u = &s.org.users[me];
    let (first, last) = u.name.split_once(' ').unwrap_or(("", u.name.as_str()));
    Ok(ok_json(json!({
        "sub": format!("{}/id/{}/{}", s.url, s.org.org_id, u.id),
        "user_id": u.id,
        "organization_id": s.org.org_id,
        "preferred_username": u.username,
        "nickname": u.username.split('@').next().unwrap_or(""),
        "name": u.name,
        "email": u.username,
        "email_verified": true,
        "given_name": first,
        "family_name": last,
        "zoneinfo": "GMT",
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": "2024-01-01T00:00:00Z",
        "urls": urls(&s, &u.id),
    })))
}
