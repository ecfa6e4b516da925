//! Secrets that never print: `Debug` and `Display` show `[redacted]`.

use std::fmt;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; call only where it is sent to Salesforce.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Replaces every occurrence of each secret in `text`, for messages that quote a server's answer.
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.0.len() >= 4 {
            out = out.replace(&s.0, "[redacted]");
        }
    }
    out
}

/// A secret file that could not be read, or was empty.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read the {what} file {}: {source}. Check the path and that this user may read it", path.display())]
    Read {
        what: String,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the {what} file {} is empty", path.display())]
    Empty {
        what: String,
        path: std::path::PathBuf,
    },
}

/// Reads a secret from a file: the whole file less its final line break, never empty.
pub fn read_secret_file(path: &std::path::Path, what: &str) -> Result<Secret, SecretFileError> {
    let s = std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    let s = s.trim_end_matches(['\n', '\r']).to_string();
    if s.is_empty() {
        return Err(SecretFileError::Empty {
            what: what.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(scrub("token hunter22 bad", &[&s]), "token [redacted] bad");
    }
}
