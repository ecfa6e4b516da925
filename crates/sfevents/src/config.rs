//! The whole configuration file: the orgs (read by `salesforce::config`) and the `[[output]]`
//! destinations (read by `outputs::config`), which meet only here.

use outputs::config::OutputSource;
use salesforce::config::{load_file, redaction, ConfigError, Overrides};

/// The outputs: the config file's `[[output]]` tables, then `--to` URLs.
pub fn resolve_outputs(ov: &Overrides) -> Result<Vec<outputs::OutputConfig>, ConfigError> {
    resolve_sources(ov, &output_sources(ov)?)
}

/// The `[[output]]` tables and `--to` URLs, each read into its settings (`doctor` checks the
/// secret files they name before resolving them).
pub fn output_sources(ov: &Overrides) -> Result<Vec<OutputSource>, ConfigError> {
    let mut out = Vec::new();
    if let Some(path) = &ov.config {
        let file = load_file(path)?;
        let base = path.parent();
        out.extend(file.outputs.iter().map(|t| OutputSource::table(t, base)));
    }
    out.extend(ov.to.iter().map(|to| OutputSource::url(to)));
    Ok(out)
}

/// The outputs `sources` make, each redacting as `[redaction]` says.
pub fn resolve_sources(
    ov: &Overrides,
    sources: &[OutputSource],
) -> Result<Vec<outputs::OutputConfig>, ConfigError> {
    let invalid = |e: outputs::ConfigError| ConfigError::Invalid(e.to_string());
    let mut out = sources
        .iter()
        .map(|s| s.resolve().map_err(invalid))
        .collect::<Result<Vec<_>, _>>()?;
    outputs::config::check_unique(&out).map_err(invalid)?;
    // Every output gets the events redacted, whatever its kind.
    let redactor = redaction::resolve_overrides(ov)?;
    for o in &mut out {
        o.redaction = redactor.clone();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use salesforce::config::{resolve as resolve_orgs, Overrides};

    use super::resolve_outputs;

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

    #[test]
    fn the_table_reaches_every_output_and_with_archive_every_org() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("key"), "0123456789abcdef0123\n").unwrap();
        let table = "redact = [\"SESSION_KEY\"]\npseudonymize = [\"USER_NAME\"]\npseudonymize_key_file = \"key\"\n";
        let ov = config(d.path(), table);
        let outs = resolve_outputs(&ov).unwrap();
        let r = outs[0].redaction.as_ref().expect("outputs redact");
        assert!(!r.archive());
        assert!(resolve_orgs(&ov).unwrap()[0].archive_redaction.is_none());
        assert!(!format!("{:?}", outs[0]).contains("0123456789abcdef"));

        let ov = config(d.path(), &format!("{table}archive = true\n"));
        let org = &resolve_orgs(&ov).unwrap()[0];
        let r2 = org.archive_redaction.as_ref().expect("the archive redacts");
        assert_eq!(
            r2.pseudonym("jane"),
            r.pseudonym("jane"),
            "one key for both"
        );
    }

    #[test]
    fn a_redaction_error_refuses_the_outputs_as_it_refuses_the_orgs() {
        let d = tempfile::tempdir().unwrap();
        let ov = config(d.path(), "pseudonymize = [\"USER_NAME\"]\n");
        assert!(resolve_orgs(&ov).is_err() && resolve_outputs(&ov).is_err());
    }
}
