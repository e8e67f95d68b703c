//! The serving certificate: loaded from PEM files (and reloaded when they change) or
//! generated at start.
//!
//! rustls asks [`CertStore`] for the certificate on every handshake, so swapping the
//! stored key is all a rotation takes: connections already open keep the certificate
//! they were made with, new ones get the new one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::ring as provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate comes from.
#[derive(Clone, Debug)]
pub enum CertSource {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Generated at start; the CA certificate (PEM) is written to `ca_out`.
    SelfSigned {
        ca_out: PathBuf,
    },
}

/// The certificate in use, swapped on rotation.
#[derive(Debug)]
pub struct CertStore {
    current: ArcSwap<CertifiedKey>,
}

impl CertStore {
    pub fn new(key: CertifiedKey) -> CertStore {
        CertStore { current: ArcSwap::from_pointee(key) }
    }

    pub fn replace(&self, key: CertifiedKey) {
        self.current.store(Arc::new(key));
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The TLS configuration over a certificate store: TLS 1.2 and 1.3 with ring's safe
/// defaults; HTTP/2 and HTTP/1.1 by ALPN (the API server speaks either).
pub fn server_config(store: Arc<CertStore>) -> Result<ServerConfig, String> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads a certificate chain and its private key from PEM files.
pub fn load_files(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    certified(chain, key_der)
}

fn certified(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<CertifiedKey, String> {
    let provider = provider::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| format!("certificate and key: {e}"))?;
    Ok(certified)
}

/// A freshly generated CA (ECDSA P-256) and a serving certificate it signed for
/// `localhost`, the loopback addresses and `hosts`. Returns the key and the CA's PEM.
pub fn self_signed(hosts: &[String]) -> Result<(CertifiedKey, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let err = |e: rcgen::Error| format!("generating a certificate: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.distinguished_name.push(DnType::CommonName, "kyvm self-signed CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    names.extend(hosts.iter().filter(|h| !h.is_empty()).cloned());
    names.dedup();
    let mut leaf = CertificateParams::new(names).map_err(err)?;
    leaf.distinguished_name.push(DnType::CommonName, "kyvm");
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(|e| format!("generated key: {e}"))?;
    let certified = certified(vec![leaf_cert.der().clone(), ca.der().clone()], key)?;
    Ok((certified, ca.pem()))
}
