//! The `Authorization` header of the Elasticsearch output (reference `outputs.md` §1.6):
//! `ApiKey <base64(id:api_key)>`, `Basic <base64(user:password)>` or `Bearer <token>`.

use reqwest::header::HeaderValue;

use super::config::EsAuth;
use crate::sink::SinkError;
use base::secret::Secret;

/// How the output authenticates, for messages that say what to check.
pub enum Scheme {
    None,
    ApiKey,
    Basic(String),
    Bearer,
}

impl Scheme {
    pub fn who(&self) -> String {
        match self {
            Scheme::None => "anonymous access".to_string(),
            Scheme::ApiKey => "the API key".to_string(),
            Scheme::Basic(user) => format!("user {user}"),
            Scheme::Bearer => "the bearer token's user".to_string(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Scheme::None => "the cluster asks for credentials: give api_key_env/api_key_file, username with password_env/password_file, or bearer_token_env/bearer_token_file".into(),
            Scheme::ApiKey => "check the API key in api_key_env/api_key_file: the `encoded` value of POST /_security/api_key, or id:api_key; it may also be expired or invalidated".into(),
            Scheme::Basic(user) => format!("check the password of user {user} (password_env/password_file)"),
            Scheme::Bearer => "check the bearer token (bearer_token_env/bearer_token_file); it may have expired".into(),
        }
    }
}

/// The `Authorization` header (marked sensitive, so reqwest never prints it), the scheme for
/// messages, and what to scrub.
pub fn authorization(
    auth: Option<&EsAuth>,
) -> Result<(Option<HeaderValue>, Scheme, Vec<Secret>), SinkError> {
    // (scheme word, token, how to name it, the configured secret)
    let (word, token, scheme, secret) = match auth {
        None => return Ok((None, Scheme::None, Vec::new())),
        Some(EsAuth::ApiKey(key)) => {
            let k = key.expose().trim();
            // An encoded key is base64 and has no ':'; `id:api_key` is what Beats takes.
            let encoded = if k.contains(':') {
                base64(k.as_bytes())
            } else {
                k.to_string()
            };
            ("ApiKey", encoded, Scheme::ApiKey, key)
        }
        Some(EsAuth::Basic { username, password }) => {
            let pair = format!("{username}:{}", password.expose());
            (
                "Basic",
                base64(pair.as_bytes()),
                Scheme::Basic(username.clone()),
                password,
            )
        }
        Some(EsAuth::Bearer(token)) => (
            "Bearer",
            token.expose().trim().to_string(),
            Scheme::Bearer,
            token,
        ),
    };
    let value = format!("{word} {token}");
    let mut header = HeaderValue::from_str(&value).map_err(|_| {
        SinkError::Fatal(
            "the output's credentials hold characters that cannot go into an HTTP header (a line break in the file?)".into(),
        )
    })?;
    header.set_sensitive(true);
    let secrets = vec![secret.clone(), Secret::new(token)];
    Ok((Some(header), scheme, secrets))
}

/// Standard base64 with padding (RFC 4648), for the two headers that need it.
pub fn base64(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_sent_encoded() {
        let header = |k: &str| {
            let (h, _, secrets) = authorization(Some(&EsAuth::ApiKey(Secret::new(k)))).unwrap();
            assert_eq!(secrets.len(), 2);
            h.unwrap().to_str().unwrap().to_string()
        };
        assert_eq!(
            header("id1:secret"),
            format!("ApiKey {}", base64(b"id1:secret"))
        );
        assert_eq!(header("aWQxOnNlY3JldA==\n"), "ApiKey aWQxOnNlY3JldA==");
        let bad = authorization(Some(&EsAuth::Bearer(Secret::new("a\u{7}b"))));
        assert!(matches!(bad, Err(SinkError::Fatal(_))));
    }
}
