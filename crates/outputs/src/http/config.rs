//! The plain HTTP output's settings: `--to https://host/path`, newline-delimited JSON posted
//! to one URL (Sumo Logic's HTTP source, Datadog-style intakes, webhooks).

use crate::encode::Format;
use crate::http_client::Target;
use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub target: Target,
    pub format: Format,
    pub gzip: bool,
    /// The most bytes of one request body before compression: a batch larger than this goes
    /// in several requests (Sumo Logic's HTTP source takes at most 1 MB).
    pub max_body_bytes: usize,
    /// Headers of every request, `(name, value)`; secret ones came from env or files.
    pub headers: Vec<(String, Secret)>,
    pub content_type: String,
}

pub const KEYS: &[&str] = &[
    "ca_file",
    "tls_verify",
    "format",
    "compression",
    "max_body_bytes",
    "content_type",
    "header.",
    "header_env.",
    "header_file.",
    "bearer_token_env",
    "bearer_token_file",
    "username",
    "password_env",
    "password_file",
];

pub const BATCH: BatchLimits = BatchLimits {
    max_events: 1000,
    max_bytes: 1024 * 1024,
    in_flight: 2,
};

fn check_header_name(n: &str) -> Result<(), ConfigError> {
    if reqwest::header::HeaderName::from_bytes(n.as_bytes()).is_err() {
        return Err(ConfigError::invalid(format!(
            "'{n}' is not an HTTP header name"
        )));
    }
    if matches!(
        n.to_ascii_lowercase().as_str(),
        "content-length" | "content-encoding" | "content-type" | "host" | "transfer-encoding"
    ) {
        return Err(ConfigError::invalid(format!(
            "header {n} is set by sfevents (use content_type or compression for those)"
        )));
    }
    Ok(())
}

pub fn parse(url: &url::Url, s: &Settings) -> Result<HttpConfig, ConfigError> {
    let mut headers = Vec::new();
    for (n, v) in s.with_prefix("header.") {
        check_header_name(n)?;
        headers.push((n.to_string(), Secret::new(v)));
    }
    for (n, var) in s.with_prefix("header_env.") {
        check_header_name(n)?;
        let v = std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "header {n} is to come from environment variable {var}, which is not set"
                ))
            })?;
        headers.push((n.to_string(), Secret::new(v)));
    }
    for (n, _) in s.with_prefix("header_file.") {
        check_header_name(n)?;
        let Some(path) = s.path(&format!("header_file.{n}")) else {
            continue;
        };
        let v = base::secret::read_secret_file(&path, &format!("header {n}"))
            .map_err(|e| ConfigError::SecretFile(e.to_string()))?;
        headers.push((n.to_string(), v));
    }
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let bearer = s.secret("bearer_token", "bearer token")?;
    let password = s.secret("password", "password")?;
    let auth = match (bearer, s.get("username"), password) {
        (Some(t), None, None) => Some(format!("Bearer {}", t.expose())),
        (None, Some(u), Some(p)) => {
            use base64::Engine;
            let pair = format!("{u}:{}", p.expose());
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        }
        (None, None, None) => None,
        (None, Some(_), None) => {
            return Err(ConfigError::invalid(
                "username needs a password: add password_env = \"VARIABLE\" or password_file = \"PATH\"",
            ))
        }
        _ => {
            return Err(ConfigError::invalid(
                "give one way to authenticate: a bearer token, or a username and password",
            ))
        }
    };
    if let Some(a) = auth {
        if has("authorization") {
            return Err(ConfigError::invalid(
                "give Authorization once: as a header or with bearer_token/username, not both",
            ));
        }
        headers.push(("Authorization".to_string(), Secret::new(a)));
    }
    for (n, v) in &headers {
        if reqwest::header::HeaderValue::from_str(v.expose()).is_err() {
            return Err(ConfigError::invalid(format!(
                "the value of header {n} is not a valid header value"
            )));
        }
    }
    Ok(HttpConfig {
        target: Target::parse(url, s)?,
        format: Format::from_settings(s)?,
        gzip: s.choice("compression", &["none", "gzip"])? == "gzip",
        max_body_bytes: s.number("max_body_bytes", 1024 * 1024, 1024)?,
        headers,
        content_type: s
            .get("content_type")
            .unwrap_or("application/x-ndjson")
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::HttpConfig;
    use crate::config::from_url;

    fn err(to: &str) -> String {
        from_url(to).unwrap_err().to_string()
    }

    #[test]
    fn headers_and_auth() {
        std::env::set_var("SFEVENTS_TEST_HTTP_KEY", "k3y");
        let o = from_url("https://intake.example/v1/input?header.X-Sumo-Category=prod%2Fsf&header_env.DD-API-KEY=SFEVENTS_TEST_HTTP_KEY&compression=gzip").unwrap();
        let h = o.kind.settings::<HttpConfig>().unwrap();
        let names: Vec<_> = h
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose()))
            .collect();
        assert_eq!(
            names,
            vec![("X-Sumo-Category", "prod/sf"), ("DD-API-KEY", "k3y")]
        );
        assert!(h.gzip);
        assert_eq!(h.max_body_bytes, 1 << 20);
        let e = err("https://intake.example?header.Content-Type=x");
        assert!(e.contains("set by sfevents"), "{e}");
        let e = err("https://intake.example?header_env.X=SFEVENTS_TEST_UNSET");
        assert!(e.contains("SFEVENTS_TEST_UNSET"), "{e}");
        let e = err("https://intake.example?username=u");
        assert!(e.contains("needs a password"), "{e}");
        let e = err("http://intake.example/x");
        assert!(e.contains("plain http://"), "{e}");
    }
}
