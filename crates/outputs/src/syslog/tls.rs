//! TLS for `syslog+tls://` (RFC 5425): rustls with the aws-lc-rs provider, no OpenSSL.
//!
//! Trusted: the system's roots (rustls-native-certs, which, as OpenSSL does, reads
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` in their place when they are set) plus `ca_file`.
//! `cert_file`/`key_file` give a client certificate to receivers that authenticate senders.
//! `tls_verify = false` accepts any certificate (for a test receiver) and says so once.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::config::SyslogConfig;
use crate::sink::SinkError;

/// The client side of every TLS connection of one output, and what answers a receiver's
/// request for a client certificate.
pub fn client_config(c: &SyslogConfig) -> Result<(Arc<ClientConfig>, Arc<ClientAuth>), SinkError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Fatal(format!("cannot set up TLS: {e}")))?;
    let builder = if c.tls_verify {
        builder.with_root_certificates(roots(c.ca_file.as_deref())?)
    } else {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "tls_verify = false: the syslog output accepts any certificate, so anyone on the path can read the events"
            );
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider.clone())))
    };
    let key = match (&c.cert_file, &c.key_file) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "cert_file")?;
            let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                SinkError::Fatal(format!(
                    "key_file {} holds no PEM private key: {e}",
                    key.display()
                ))
            })?;
            let certified = CertifiedKey::from_der(chain, der, &provider).map_err(|e| {
                SinkError::Fatal(format!(
                    "cert_file {} and key_file do not make a client certificate: {e}",
                    cert.display()
                ))
            })?;
            Some(Arc::new(certified))
        }
        _ => None,
    };
    let auth = Arc::new(ClientAuth {
        key,
        asked: AtomicBool::new(false),
    });
    let config = builder.with_client_cert_resolver(auth.clone());
    Ok((Arc::new(config), auth))
}

/// Gives a receiver that asks for a client certificate the one of `cert_file` (or none), and
/// remembers that it asked: with TLS 1.3 such a receiver judges the certificate only after the
/// client has finished its handshake, so the connection waits for that judgement.
#[derive(Debug)]
pub struct ClientAuth {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl ClientAuth {
    /// Whether a receiver has asked for a client certificate.
    pub fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }
}

impl ResolvesClientCert for ClientAuth {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// The name the certificate must carry: the URL's host (a DNS name, or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, SinkError> {
    ServerName::try_from(host.to_string()).map_err(|e| {
        SinkError::Fatal(format!(
            "{host} cannot be checked against a TLS certificate: {e}"
        ))
    })
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, SinkError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        // A missing system store is normal in containers; ca_file may be all there is.
        tracing::debug!("system CA certificates: {e}");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        for cert in certificates(path, "ca_file")? {
            roots.add(cert).map_err(|e| {
                SinkError::Fatal(format!(
                    "ca_file {} holds a certificate that cannot be a CA: {e}",
                    path.display()
                ))
            })?;
        }
    }
    Ok(roots)
}

/// The PEM certificates of a file; none is an error.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, SinkError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| SinkError::Fatal(format!("cannot read {key} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(SinkError::Fatal(format!(
            "{key} {} holds no PEM certificates",
            path.display()
        )));
    }
    Ok(certs)
}

/// `tls_verify = false`: any certificate is accepted, but the handshake's signatures are still
/// checked, so the session is at least with whoever holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
