//! SIP over TLS: the listener's certificate and key, checked before
//! anything starts. Signalling only — media stays plain RTP (no SRTP).

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::net::SocketAddr;

/// Where the TLS listener is and what it presents.
#[derive(Clone)]
pub struct SipTls {
    /// Address of the TLS listener (e.g. 0.0.0.0:5061); port 0 picks one.
    pub addr: SocketAddr,
    /// Certificate chain, PEM (the leaf first).
    pub cert_pem: Vec<u8>,
    /// Private key, PEM (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for SipTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SipTls").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Why a certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// No certificate in the file.
    #[error("no certificate found (expected a PEM file with -----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    /// A certificate block that does not parse.
    #[error("certificate: {0}")]
    Certificate(String),
    /// No usable key, or one that does not belong to the certificate.
    #[error("private key: {0}")]
    Key(String),
}

impl SipTls {
    /// Check that the certificate parses and the key (PKCS#8 or PKCS#1)
    /// belongs to it — exactly what the listener does at its first
    /// handshake, done before anything starts.
    pub fn check(&self) -> Result<(), TlsError> {
        check(&self.cert_pem, &self.key_pem)
    }
}

/// See [`SipTls::check`].
pub fn check(cert_pem: &[u8], key_pem: &[u8]) -> Result<(), TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    // The provider rsipstack's listener uses (rustls's only one here: ring).
    let provider = rustls::ServerConfig::builder().crypto_provider().clone();
    rsipstack::transport::tls::ReloadableCertResolver::new(cert_pem, key_pem, provider)
        .map(drop)
        .map_err(|e| TlsError::Key(e.to_string().trim_start_matches("Error: ").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(check(b"hello", b"world"), Err(TlsError::NoCertificate)));
        let bad = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert!(check(bad, b"").is_err());
    }
}
