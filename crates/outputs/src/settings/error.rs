//! What can be wrong with an output's settings. Every message names the setting and, where
//! there is one, the fix; the caller adds which output (`output 'es': ...`, `--to URL: ...`).

use std::path::PathBuf;

/// An output's settings refused. A variant that wraps another error prints it in its own
/// message and does not give it as its `source` (a chain of causes would show it twice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Where the error is: `output 'es'`, `an [[output]] table`, `--to URL`.
    #[error("{context}: {error}")]
    In {
        context: String,
        error: Box<ConfigError>,
    },
    #[error("[[output]] key {key} = {value} is not a string, number or true/false")]
    NotScalar { key: String, value: String },
    #[error("{what} has no type: add type = \"elasticsearch\" (or {kinds})")]
    NoType { what: String, kinds: String },
    #[error("{what} has no url: add url = \"https://host:port\"")]
    NoUrl { what: String },
    #[error(
        "not a URL: write it as kind+https://host:port, e.g. --to elasticsearch+https://host:9200"
    )]
    NoScheme,
    #[error("say which kind of output, e.g. --to elasticsearch+https://host:9200 or syslog+tls://host:6514 ({kinds})")]
    NoKind { kinds: String },
    /// A `--to` whose address does not parse.
    #[error("not a URL ({reason})")]
    NotAUrl { reason: String },
    /// A `url` that does not parse.
    #[error("url '{url}' is not a URL ({reason})")]
    BadUrl { url: String, reason: String },
    #[error("url {url} has no host")]
    NoHost { url: String },
    #[error("credentials are not written into URLs: remove them from {host} and give them with the output's *_env or *_file settings (for example password_env = \"VARIABLE\" or token_file = \"PATH\")")]
    CredentialsInUrl { host: String },
    #[error("output type '{kind}' is not known: use {kinds}")]
    UnknownType { kind: String, kinds: String },
    #[error("unknown setting '{key}': the settings of a {kind} output are {known}")]
    UnknownSetting {
        key: String,
        kind: String,
        known: String,
    },
    #[error("output name '{name}' may hold only letters, digits, '-', '_' and '.'")]
    BadName { name: String },
    #[error("two outputs are named '{name}': give each its own name (name = \"...\", or ?name=... in --to)")]
    DuplicateName { name: String },
    #[error("{key} = '{value}' must be true or false")]
    NotAFlag { key: String, value: String },
    #[error("{key} = '{value}' must be a whole number of at least {min}")]
    NotANumber {
        key: String,
        value: String,
        min: usize,
    },
    #[error("{key} = '{value}' is not known: use {choices}")]
    NotAChoice {
        key: String,
        value: String,
        choices: String,
    },
    #[error("{key} {} does not exist: give {what}", path.display())]
    NoSuchFile {
        key: String,
        path: PathBuf,
        what: String,
    },
    #[error("the {what} is to come from environment variable {var}, which is not set")]
    UnsetVariable { what: String, var: String },
    /// A secret file that cannot be read (`base::secret::read_secret_file`'s message).
    #[error("{0}")]
    SecretFile(String),
    /// An `http://` URL to another machine (`base::http::check_http`'s message).
    #[error("{0}")]
    PlainHttp(String),
    /// A rule of one kind of output (its own message).
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    /// The error, said of `context`.
    pub fn within(self, context: impl Into<String>) -> ConfigError {
        ConfigError::In {
            context: context.into(),
            error: Box::new(self),
        }
    }

    /// An output's own rule, in its words.
    pub fn invalid(message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid(message.into())
    }
}
