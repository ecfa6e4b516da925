//! The JWT bearer assertion, signed natively with RS256 (no `sf` CLI or OpenSSL needed).

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;
use thiserror::Error;

use base::secret::Secret;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

/// Salesforce wants `exp` within 3 minutes; seconds since the epoch, UTC.
const LIFETIME_SECS: i64 = 180;

/// Why no assertion could be made: the login is refused before anything is sent.
#[derive(Debug, Error)]
pub enum JwtError {
    #[error("the JWT key is not a usable RSA private key ({0}): give the unencrypted PEM key whose certificate is uploaded to the connected app")]
    Key(jsonwebtoken::errors::Error),
    #[error("cannot sign the JWT assertion: {0}")]
    Sign(jsonwebtoken::errors::Error),
}

/// Signs an assertion for `username` on behalf of the connected app `client_id`.
/// The key is PEM, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`).
pub fn assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    key_pem: &Secret,
) -> Result<String, JwtError> {
    let key = EncodingKey::from_rsa_pem(key_pem.expose().as_bytes()).map_err(JwtError::Key)?;
    let claims = Claims {
        iss: client_id,
        sub: username,
        aud: audience,
        exp: chrono::Utc::now().timestamp() + LIFETIME_SECS,
    };
    encode(&Header::new(Algorithm::RS256), &claims, &key).map_err(JwtError::Sign)
}
