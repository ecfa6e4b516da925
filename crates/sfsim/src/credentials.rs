//! The credentials set a client needs: connected-app key pair and certificate, consumer key and
//! secret, user password and security token, written as files into the output folder.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::distr::Alphanumeric;
use rand::Rng;

use crate::Credentials;

/// Secrets generated at start, kept by the server to check logins.
pub struct Generated {
    pub credentials: Credentials,
    /// PEM SPKI public key of the connected app's certificate, to verify JWT assertions.
    pub public_key_pem: String,
}

/// `n` random alphanumeric characters.
pub fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A consumer key shaped like Salesforce's: 85 characters starting `3MVG9`.
fn consumer_key() -> String {
    let mut rng = rand::rng();
    let mut s = String::from("3MVG9");
    while s.len() < 85 {
        // Real keys are mostly alphanumeric with the odd `.` or `_`.
        let c = if rng.random_ratio(1, 30) {
            if rng.random_bool(0.5) {
                '.'
            } else {
                '_'
            }
        } else {
            char::from(rng.sample(Alphanumeric))
        };
        s.push(c);
    }
    s
}

/// A consumer secret: 64 hexadecimal characters in upper case, as Salesforce shows them.
fn consumer_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode_upper(bytes)
}

/// Generates the connected app's RSA key and certificate and the login secrets, and writes
/// `server.key`, `server.crt`, `credentials.json` and `sfevents.toml` into `out_dir`.
pub fn generate(
    out_dir: &Path,
    url: &str,
    username: &str,
    ca_file: Option<PathBuf>,
) -> anyhow::Result<Generated> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .context("generating the connected app's RSA key")?;
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sfsim connected app");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "sfsim");
    let cert = params
        .self_signed(&key)
        .context("signing the connected app's certificate")?;

    let private_key_file = out_dir.join("server.key");
    let certificate_file = out_dir.join("server.crt");
    write_private(&private_key_file, key.serialize_pem().as_bytes())?;
    write(&certificate_file, cert.pem().as_bytes())?;

    let credentials = Credentials {
        login_url: url.to_string(),
        instance_url: url.to_string(),
        client_id: consumer_key(),
        client_secret: consumer_secret(),
        username: username.to_string(),
        password: format!("Sfsim-{}1!", random_alnum(12)),
        security_token: random_alnum(25),
        private_key_file,
        certificate_file,
        ca_file,
    };
    let json = serde_json::to_vec_pretty(&credentials)?;
    write_private(&out_dir.join("credentials.json"), &json)?;
    write(
        &out_dir.join("sfevents.toml"),
        sfevents_toml(&credentials).as_bytes(),
    )?;
    Ok(Generated {
        credentials,
        public_key_pem: key.public_key_pem(),
    })
}

/// The collector's configuration for this simulator, ready to use.
pub fn sfevents_toml(c: &Credentials) -> String {
    let mut s = String::new();
    s.push_str("[[org]]\n");
    s.push_str("name = \"sfsim\"\n");
    s.push_str(&format!("instance_url = {}\n", toml_str(&c.instance_url)));
    s.push_str(&format!("login_url = {}\n", toml_str(&c.login_url)));
    if let Some(ca) = &c.ca_file {
        s.push_str(&format!("ca_file = {}\n", toml_str(&ca.to_string_lossy())));
    }
    s.push_str("[org.auth]\n");
    s.push_str("method = \"jwt\"\n");
    s.push_str(&format!("client_id = {}\n", toml_str(&c.client_id)));
    s.push_str(&format!("username = {}\n", toml_str(&c.username)));
    s.push_str(&format!(
        "key_file = {}\n",
        toml_str(&c.private_key_file.to_string_lossy())
    ));
    s
}

/// A TOML basic string.
fn toml_str(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for ch in v.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes a file only its owner may read (keys, passwords).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_key_shape() {
        let k = consumer_key();
        assert_eq!(k.len(), 85);
        assert!(k.starts_with("3MVG9"));
    }

    #[test]
    fn toml_escapes() {
        assert_eq!(toml_str(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
