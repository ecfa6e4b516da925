//! `POST /services/oauth2/token`: the JWT bearer, username-password, client-credentials and
//! refresh-token grants, with Salesforce's error codes and texts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{lock, OAuthError, Session, Shared};
use crate::credentials::random_alnum;

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Clock skew allowed on a JWT `exp` in the past.
const EXP_SKEW_SECS: f64 = 180.0;

const INVALID_CLIENT_ID: OAuthError =
    OAuthError::new("invalid_client_id", "client identifier invalid");
const INVALID_CLIENT: OAuthError = OAuthError::new("invalid_client", "invalid client credentials");
const INVALID_ASSERTION: OAuthError = OAuthError::new("invalid_grant", "invalid assertion");
const AUTH_FAILURE: OAuthError = OAuthError::new("invalid_grant", "authentication failure");

pub async fn token(
    State(s): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(ms) = s.faults().delay_ms.filter(|ms| *ms > 0) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let mut form: HashMap<String, String> = HashMap::new();
    if let Some(q) = query {
        form.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    form.extend(url::form_urlencoded::parse(&body).into_owned());
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    if let Some(fault) = s.faults().oauth_error {
        let (error, description) = fault.split_once(": ").unwrap_or(("invalid_grant", &fault));
        tracing::info!(grant, error, description, "token refused (fault)");
        let body = json!({ "error": error, "error_description": description });
        let mut resp = (axum::http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return resp;
    }
    let result = match grant {
        JWT_GRANT => jwt_grant(&s, &form).map(|u| (u, false)),
        "password" => password_grant(&s, &form).map(|u| (u, true)),
        "client_credentials" => client_credentials_grant(&s, &form, &headers).map(|u| (u, false)),
        "refresh_token" => refresh_grant(&s, &form).map(|u| (u, false)),
        "" => Err(OAuthError::new("invalid_request", "grant type is missing")),
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "grant type not supported",
        )),
    };
    match result {
        Ok((user, refresh)) => {
            tracing::info!(grant, user = %s.org.users[user].username, "token issued");
            issue(&s, user, refresh)
        }
        Err(e) => {
            tracing::info!(
                grant,
                error = e.error,
                description = e.description,
                "token refused"
            );
            e.into_response()
        }
    }
}

fn param<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str)
}

fn user_index(s: &Shared, username: &str) -> Option<usize> {
    s.org
        .users
        .iter()
        .position(|u| u.username.eq_ignore_ascii_case(username))
}

fn check_client(
    s: &Shared,
    client_id: Option<&str>,
    secret: Option<&str>,
) -> Result<(), OAuthError> {
    if client_id != Some(s.credentials.client_id.as_str()) {
        return Err(INVALID_CLIENT_ID);
    }
    if secret != Some(s.credentials.client_secret.as_str()) {
        return Err(INVALID_CLIENT);
    }
    Ok(())
}

fn jwt_grant(s: &Shared, form: &HashMap<String, String>) -> Result<usize, OAuthError> {
    let assertion = param(form, "assertion").ok_or(INVALID_ASSERTION)?;
    let claims = unverified_claims(assertion).ok_or(INVALID_ASSERTION)?;
    if claims.get("iss").and_then(Value::as_str) != Some(s.credentials.client_id.as_str()) {
        return Err(INVALID_CLIENT_ID);
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(assertion, &s.jwt_key, &validation)
        .map_err(|_| INVALID_ASSERTION)?;

    let audience_ok = |a: &str| {
        let a = a.trim_end_matches('/');
        a == s.url || a == "https://login.salesforce.com" || a == "https://test.salesforce.com"
    };
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audience_ok(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(audience_ok),
        _ => false,
    };
    if !aud_ok {
        return Err(OAuthError::new("invalid_grant", "audience is invalid"));
    }

    let expired = OAuthError::new("invalid_grant", "expired authorization code");
    let exp = claims.get("exp").and_then(Value::as_f64).ok_or(expired)?;
    let now = unix_now().as_secs_f64();
    if exp <= now - EXP_SKEW_SECS {
        return Err(expired);
    }
    if let Some(limit) = s.jwt_max_exp_secs {
        if exp > now + limit as f64 {
            return Err(expired);
        }
    }

    // `prn` is the old name of `sub`; when both are present `prn` wins.
    let subject = claims
        .get("prn")
        .and_then(Value::as_str)
        .or_else(|| claims.get("sub").and_then(Value::as_str))
        .ok_or(INVALID_ASSERTION)?;
    user_index(s, subject).ok_or(OAuthError::new(
        "invalid_grant",
        "user hasn't approved this consumer",
    ))
}

/// The claims of a compact JWT, without checking its signature.
fn unverified_claims(jwt: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = jwt.trim().split('.');
    let (_header, claims, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn password_grant(s: &Shared, form: &HashMap<String, String>) -> Result<usize, OAuthError> {
    check_client(s, param(form, "client_id"), param(form, "client_secret"))?;
    let user = param(form, "username")
        .and_then(|u| user_index(s, u))
        .ok_or(AUTH_FAILURE)?;
    let password = param(form, "password").ok_or(AUTH_FAILURE)?;
    let c = &s.credentials;
    // Without the security token: as if logging in from a trusted IP range.
    let with_token = format!("{}{}", c.password, c.security_token);
    if password == with_token || password == c.password {
        Ok(user)
    } else {
        Err(AUTH_FAILURE)
    }
}

fn client_credentials_grant(
    s: &Shared,
    form: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<usize, OAuthError> {
    let basic = basic_auth(headers);
    let (id, secret) = match (&basic, param(form, "client_id")) {
        (_, Some(id)) => (Some(id), param(form, "client_secret")),
        (Some((id, secret)), None) => (Some(id.as_str()), Some(secret.as_str())),
        (None, None) => (None, None),
    };
    check_client(s, id, secret)?;
    // The connected app's "Run As" user.
    Ok(0)
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |x: &str| {
        url::form_urlencoded::parse(format!("x={x}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

fn refresh_grant(s: &Shared, form: &HashMap<String, String>) -> Result<usize, OAuthError> {
    if let Some(id) = param(form, "client_id") {
        if id != s.credentials.client_id {
            return Err(INVALID_CLIENT_ID);
        }
        if let Some(secret) = param(form, "client_secret") {
            if secret != s.credentials.client_secret {
                return Err(INVALID_CLIENT);
            }
        }
    }
    let token = param(form, "refresh_token").unwrap_or("");
    lock(&s.refresh_tokens)
        .get(token)
        .copied()
        .ok_or(OAuthError::new(
            "invalid_grant",
            "expired access/refresh token",
        ))
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Issues an access token (and a refresh token for the password flow) for a user.
fn issue(s: &Shared, user: usize, with_refresh: bool) -> Response {
    let org_id = &s.org.org_id;
    let org15 = org_id.get(..15).unwrap_or(org_id);
    let access_token = format!("{org15}!AQ{}", random_alnum(94));
    lock(&s.sessions).insert(
        access_token.clone(),
        Session {
            user,
            issued: Instant::now(),
            calls: 0,
        },
    );
    let id = format!("{}/id/{}/{}", s.url, org_id, s.org.users[user].id);
    let issued_at = unix_now().as_millis().to_string();
    let sig = hmac_sha256(
        s.credentials.client_secret.as_bytes(),
        format!("{id}{issued_at}").as_bytes(),
    );
    let signature = base64::engine::general_purpose::STANDARD.encode(sig);
    let mut body = json!({
        "access_token": access_token,
        "signature": signature,
        "scope": "api web refresh_token",
        "instance_url": s.url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if with_refresh {
        let refresh = format!("5Aep861{}", random_alnum(80));
        lock(&s.refresh_tokens).insert(refresh.clone(), user);
        body["refresh_token"] = Value::String(refresh);
    }
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_known_answer() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn claims_without_verification() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"iss":"x"}"#)
        );
        let c = unverified_claims(&jwt).expect("claims");
        assert_eq!(c["iss"], "x");
        assert!(unverified_claims("garbage").is_none());
    }
}
