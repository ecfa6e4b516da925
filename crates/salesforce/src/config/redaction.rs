//! The `[redaction]` table and the `--redact`, `--pseudonymize` and `--pseudonymize-key-file`
//! flags: one [`Redactor`] for every org and output.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use thiserror::Error;

use super::{rel, ConfigError, Overrides};
use archive::redact::Redactor;
use base::secret::read_secret_file;
use base::secret::Secret;

/// Where the key comes from when neither the table nor a flag names a file or a variable.
pub const DEFAULT_KEY_ENV: &str = "SFEVENTS_PSEUDONYMIZE_KEY";

/// `[redaction]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionFile {
    /// Fields removed from every event.
    #[serde(default)]
    pub redact: Vec<String>,
    /// Fields whose values become keyed pseudonyms.
    #[serde(default)]
    pub pseudonymize: Vec<String>,
    pub pseudonymize_key_env: Option<String>,
    pub pseudonymize_key_file: Option<PathBuf>,
    /// Refused with the way to fix it: a key is a secret, not configuration.
    pub pseudonymize_key: Option<toml::Value>,
    /// Also write the archive's NDJSON redacted (the raw CSV stays as Salesforce served it).
    #[serde(default)]
    pub archive: bool,
}

/// The flags, for one-off use; they add to the config file's table.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct RedactionArgs {
    /// Remove this field from every event sent to the outputs (repeatable), e.g. SESSION_KEY,
    /// or CreatedBy.Username in a related record. Adds to [redaction] redact.
    #[arg(long = "redact", value_name = "FIELD")]
    pub redact: Vec<String>,
    /// Replace this field's value with a keyed pseudonym (repeatable), e.g. USER_NAME. Adds to
    /// [redaction] pseudonymize.
    #[arg(long = "pseudonymize", value_name = "FIELD")]
    pub pseudonymize: Vec<String>,
    /// File holding the pseudonym key, at least 16 bytes (or set SFEVENTS_PSEUDONYMIZE_KEY).
    #[arg(long, env = "SFEVENTS_PSEUDONYMIZE_KEY_FILE", value_name = "PATH")]
    pub pseudonymize_key_file: Option<PathBuf>,
}

/// Why the `[redaction]` settings are refused; [`ConfigError::Redaction`] names the table.
#[derive(Debug, Error)]
pub enum RedactionError {
    #[error("the key is not written into the config: replace pseudonymize_key with pseudonymize_key_file = \"PATH\" or pseudonymize_key_env = \"VARIABLE\"")]
    InlineKey,
    #[error("set pseudonymize_key_file or pseudonymize_key_env, not both")]
    TwoKeys,
    #[error("pseudonymize_key_env names environment variable {0}, which is not set")]
    KeyEnvNotSet(String),
    /// The key file cannot be read or is empty (`base::secret`'s message).
    #[error("{0}")]
    KeyFile(String),
    /// The fields named.
    #[error("pseudonymize names {0} but no key is given: set pseudonymize_key_file or pseudonymize_key_env in [redaction], give --pseudonymize-key-file, or set {DEFAULT_KEY_ENV}", DEFAULT_KEY_ENV = DEFAULT_KEY_ENV)]
    NoKey(String),
    /// The redactor refused the fields or the key (`archive::redact`'s message).
    #[error("{0}")]
    Redactor(String),
}

/// The redactor of the file's table and the flags; `None` when no field is named.
pub fn resolve(
    file: Option<&RedactionFile>,
    base: Option<&Path>,
    flags: &RedactionArgs,
) -> Result<Option<Arc<Redactor>>, ConfigError> {
    let fail = ConfigError::Redaction;
    let empty = RedactionFile::default();
    let t = file.unwrap_or(&empty);
    if t.pseudonymize_key.is_some() {
        return Err(fail(RedactionError::InlineKey));
    }
    let mut remove = t.redact.clone();
    let mut pseudonymize = t.pseudonymize.clone();
    for (list, more) in [
        (&mut remove, &flags.redact),
        (&mut pseudonymize, &flags.pseudonymize),
    ] {
        for f in more {
            if !list.contains(f) {
                list.push(f.clone());
            }
        }
    }
    if remove.is_empty() && pseudonymize.is_empty() {
        return Ok(None);
    }
    let key = if pseudonymize.is_empty() {
        None
    } else {
        key(t, base, flags).map_err(fail)?
    };
    if !pseudonymize.is_empty() && key.is_none() {
        return Err(fail(RedactionError::NoKey(pseudonymize.join(", "))));
    }
    Redactor::new(remove, pseudonymize, key.as_ref(), t.archive)
        .map(|r| Some(Arc::new(r)))
        .map_err(|e| fail(RedactionError::Redactor(e.to_string())))
}

/// The key from, in order: `--pseudonymize-key-file`, the table's file or variable, or
/// [`DEFAULT_KEY_ENV`].
fn key(
    t: &RedactionFile,
    base: Option<&Path>,
    flags: &RedactionArgs,
) -> Result<Option<Secret>, RedactionError> {
    let file = |p: &Path| {
        read_secret_file(p, "pseudonymize key")
            .map(Some)
            .map_err(|e| RedactionError::KeyFile(e.to_string()))
    };
    if let Some(p) = &flags.pseudonymize_key_file {
        return file(p);
    }
    match (&t.pseudonymize_key_file, &t.pseudonymize_key_env) {
        (Some(_), Some(_)) => Err(RedactionError::TwoKeys),
        (Some(p), None) => file(&rel(base, p.clone())),
        (None, Some(name)) => match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(RedactionError::KeyEnvNotSet(name.clone())),
        },
        (None, None) => Ok(std::env::var(DEFAULT_KEY_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)),
    }
}

/// [`resolve`] for the commands that read only the flags and the config file's path.
pub fn resolve_overrides(ov: &Overrides) -> Result<Option<Arc<Redactor>>, ConfigError> {
    let file = match &ov.config {
        Some(p) => Some(super::load_file(p)?),
        None => None,
    };
    let base = ov.config.as_deref().and_then(Path::parent);
    resolve(
        file.as_ref().and_then(|f| f.redaction.as_ref()),
        base,
        &ov.redaction,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "output_dir = \"out\"\n[[org]]\nname = \"a\"\ninstance_url = \"https://a.my.salesforce.com\"\n[org.auth]\nmethod = \"password\"\nclient_id = \"x\"\nusername = \"u\"\npassword_file = \"pw\"\nclient_secret_file = \"pw\"\n[[output]]\ntype = \"http\"\nurl = \"https://collector.example/in\"\n";

    /// A config file with `[redaction]` holding `table`, and the overrides naming it.
    fn config(dir: &Path, table: &str) -> Overrides {
        std::fs::write(dir.join("pw"), "secret\n").unwrap();
        let p = dir.join("sfevents.toml");
        std::fs::write(&p, format!("{ORG}[redaction]\n{table}")).unwrap();
        Overrides {
            config: Some(p),
            ..Default::default()
        }
    }

    fn error(ov: &Overrides) -> String {
        resolve_overrides(ov).unwrap_err().to_string()
    }

    #[test]
    fn flags_add_to_the_table_or_stand_alone() {
        let d = tempfile::tempdir().unwrap();
        let key = d.path().join("flag-key");
        std::fs::write(&key, "flag-key-of-more-than-16-bytes").unwrap();
        let mut ov = config(d.path(), "redact = [\"SESSION_KEY\"]\n");
        ov.redaction = RedactionArgs {
            redact: vec!["LOGIN_KEY".into()],
            pseudonymize: vec!["USER_NAME".into()],
            pseudonymize_key_file: Some(key.clone()),
        };
        let r = resolve_overrides(&ov).unwrap().unwrap();
        let mut rec = serde_json::json!({"SESSION_KEY": "s", "LOGIN_KEY": "l", "USER_NAME": "u"});
        r.record(rec.as_object_mut().unwrap());
        assert_eq!(rec.as_object().unwrap().len(), 1);
        assert_eq!(rec["USER_NAME"].as_str(), r.pseudonym("u").as_deref());

        let alone = Overrides {
            redaction: RedactionArgs {
                redact: vec!["SESSION_KEY".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(resolve_overrides(&alone).unwrap().is_some());
        assert!(resolve_overrides(&Overrides::default()).unwrap().is_none());
    }

    #[test]
    fn a_missing_or_short_key_is_a_configuration_error_naming_the_setting() {
        let d = tempfile::tempdir().unwrap();
        let e = error(&config(d.path(), "pseudonymize = [\"USER_NAME\"]\n"));
        assert!(
            e.contains("[redaction]")
                && e.contains("pseudonymize_key_file")
                && e.contains("--pseudonymize-key-file")
                && e.contains("USER_NAME"),
            "{e}"
        );
        // The whole configuration is refused, for collection as for shipping.
        let ov = config(d.path(), "pseudonymize = [\"USER_NAME\"]\n");
        assert!(super::super::resolve(&ov).is_err());

        let e = error(&config(
            d.path(),
            "pseudonymize = [\"USER_NAME\"]\npseudonymize_key_env = \"SFEVENTS_TEST_NO_SUCH_KEY\"\n",
        ));
        assert!(e.contains("SFEVENTS_TEST_NO_SUCH_KEY"), "{e}");

        std::fs::write(d.path().join("short"), "too-short\n").unwrap();
        let e = error(&config(
            d.path(),
            "pseudonymize = [\"USER_NAME\"]\npseudonymize_key_file = \"short\"\n",
        ));
        assert!(e.contains("9 bytes") && !e.contains("too-short"), "{e}");

        let e = error(&config(
            d.path(),
            "pseudonymize = [\"USER_NAME\"]\npseudonymize_key = \"inline-secret-value\"\n",
        ));
        assert!(
            e.contains("pseudonymize_key_file") && !e.contains("inline-secret"),
            "{e}"
        );

        let e = error(&config(d.path(), "redact = [\"X\"]\nrdact = [\"Y\"]\n"));
        assert!(e.contains("rdact"), "{e}");
    }
}
