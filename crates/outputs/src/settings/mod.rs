//! An output's settings as strings, from a TOML table or a URL's query, with the readers that
//! give every output the same rules and the same error texts ([`ConfigError`], in `error.rs`).
//! `config` makes one from each `[[output]]` table or `--to` URL, and each output's `parse`
//! reads its own settings from it.

mod error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base::secret::{read_secret_file, Secret};

pub use self::error::ConfigError;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    map: BTreeMap<String, String>,
    /// Resolves relative paths: the config file's folder.
    base: Option<PathBuf>,
}

impl Settings {
    pub fn new(map: BTreeMap<String, String>, base: Option<&Path>) -> Settings {
        Settings {
            map,
            base: base.map(Path::to_path_buf),
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).map(String::as_str)
    }

    /// The settings whose names start with `prefix` (e.g. `header.`), without it.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.map
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|n| (n, v.as_str())))
    }

    /// `true` / `false`.
    pub fn flag(&self, k: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(k) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(ConfigError::NotAFlag {
                key: k.to_string(),
                value: v.to_string(),
            }),
        }
    }

    /// A whole number of at least `min`.
    pub fn number(&self, k: &str, default: usize, min: usize) -> Result<usize, ConfigError> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= min)
                .ok_or_else(|| ConfigError::NotANumber {
                    key: k.to_string(),
                    value: v.to_string(),
                    min,
                }),
        }
    }

    /// One of `choices`; the first is the default.
    pub fn choice(&self, k: &str, choices: &[&'static str]) -> Result<&'static str, ConfigError> {
        match self.get(k) {
            None => Ok(choices[0]),
            Some(v) => {
                choices
                    .iter()
                    .copied()
                    .find(|c| *c == v)
                    .ok_or_else(|| ConfigError::NotAChoice {
                        key: k.to_string(),
                        value: v.to_string(),
                        choices: choices.join(" or "),
                    })
            }
        }
    }

    /// A path, relative to the config file's folder when it came from one.
    pub fn path(&self, k: &str) -> Option<PathBuf> {
        self.get(k).map(|p| match &self.base {
            Some(b) if Path::new(p).is_relative() => b.join(p),
            _ => PathBuf::from(p),
        })
    }

    /// A path that must name an existing file; `what` says what it should hold.
    pub fn existing_file(&self, k: &str, what: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.path(k) {
            Some(p) if !p.is_file() => Err(ConfigError::NoSuchFile {
                key: k.to_string(),
                path: p,
                what: what.to_string(),
            }),
            other => Ok(other),
        }
    }

    /// A secret from `<stem>_file` (a file holding it) or `<stem>_env` (an environment
    /// variable holding it); `what` names it in errors.
    pub fn secret(&self, stem: &str, what: &str) -> Result<Option<Secret>, ConfigError> {
        if let Some(f) = self.path(&format!("{stem}_file")) {
            return read_secret_file(&f, what)
                .map(Some)
                .map_err(|e| ConfigError::SecretFile(e.to_string()));
        }
        match self.get(&format!("{stem}_env")) {
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(ConfigError::UnsetVariable {
                    what: what.to_string(),
                    var: var.to_string(),
                }),
            },
            None => Ok(None),
        }
    }

    /// The secret files these settings name (`token_file`, `password_file`, `api_key_file`,
    /// `bearer_token_file`, `header_file.NAME`, a client `key_file`; not `ca_file` or
    /// `cert_file`), each with what it holds, in the order of `order` (the keys as written).
    pub fn secret_files<'a>(
        &'a self,
        order: &'a [String],
    ) -> impl Iterator<Item = (String, PathBuf)> + 'a {
        order
            .iter()
            .filter_map(|k| Some((secret_key(k)?, self.path(k)?)))
    }

    /// Refuses settings an output does not know. A key in `keys` ending with `.` allows any
    /// name after it (`header.` allows `header.X-Sumo-Category`).
    pub(crate) fn check_known(&self, kind: &str, keys: &[&str]) -> Result<(), ConfigError> {
        let known = |k: &str| {
            keys.iter().any(|key| match key.strip_suffix('.') {
                Some(prefix) => k.len() > key.len() && k.starts_with(key) && !prefix.is_empty(),
                None => *key == k,
            })
        };
        match self.map.keys().find(|k| !known(k)) {
            Some(k) => Err(ConfigError::UnknownSetting {
                key: k.clone(),
                kind: kind.to_string(),
                known: keys
                    .iter()
                    .map(|k| {
                        if k.ends_with('.') {
                            format!("{k}NAME")
                        } else {
                            k.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            None => Ok(()),
        }
    }
}

/// What a `*_file` key holds, when it is a secret (`ca_file`, `cert_file` are not).
fn secret_key(key: &str) -> Option<String> {
    if let Some(header) = key.strip_prefix("header_file.") {
        return Some(format!("header {header}"));
    }
    let stem = key.strip_suffix("_file")?;
    match stem {
        "ca" | "cert" => None,
        "key" => Some("private key".into()),
        s => Some(s.replace('_', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_settings() {
        let mut m = BTreeMap::new();
        m.insert("header.X-Sumo-Category".to_string(), "prod".to_string());
        m.insert("header.".to_string(), "x".to_string());
        let s = Settings::new(m, None);
        assert_eq!(
            s.with_prefix("header.").collect::<Vec<_>>(),
            vec![("", "x"), ("X-Sumo-Category", "prod")]
        );
        let e = s.check_known("http", &["header."]).unwrap_err().to_string();
        assert!(e.contains("'header.'") && e.contains("header.NAME"), "{e}");
    }

    #[test]
    fn secret_files_in_the_order_written() {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("token_file", "t"),
            ("key_file", "k"),
            ("ca_file", "ca"),
            ("header_file.X-Key", "h"),
        ] {
            m.insert(k.to_string(), v.to_string());
        }
        let s = Settings::new(m, Some(Path::new("/etc/sfevents")));
        let order: Vec<String> = ["token_file", "ca_file", "key_file", "header_file.X-Key"]
            .map(String::from)
            .to_vec();
        let files: Vec<_> = s.secret_files(&order).collect();
        assert_eq!(
            files,
            vec![
                ("token".to_string(), PathBuf::from("/etc/sfevents/t")),
                ("private key".to_string(), PathBuf::from("/etc/sfevents/k")),
                ("header X-Key".to_string(), PathBuf::from("/etc/sfevents/h")),
            ]
        );
    }
}
