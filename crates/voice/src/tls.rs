//! SIP over TLS: the listener's certificate and key, checked before
//! anything starts, and our own accept loop. Signalling only — media stays
//! plain RTP (no SRTP).
//!
//! rsipstack's TLS listener awaits each handshake without a deadline, so a
//! client that connects and never finishes it holds a task and a socket
//! until restart. [`accept_loop`] gives every handshake
//! [`HANDSHAKE_TIMEOUT`] and hands the finished ones to the stack.

use rsipstack::transport::tls::ReloadableCertResolver;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client may take over the TLS handshake before we close its
/// connection (a phone on a slow link needs well under a second).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A finished server-side TLS connection.
pub type TlsServerStream = tokio_rustls::server::TlsStream<TcpStream>;

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

/// The acceptor for this certificate and key, built as rsipstack's own
/// listener builds it (same resolver, no client certificates).
pub fn acceptor(tls: &SipTls) -> Result<TlsAcceptor, TlsError> {
    let provider = rustls::ServerConfig::builder().crypto_provider().clone();
    let resolver = ReloadableCertResolver::new(&tls.cert_pem, &tls.key_pem, provider)
        .map_err(|e| TlsError::Key(e.to_string().trim_start_matches("Error: ").to_string()))?;
    let config = rustls::ServerConfig::builder().with_no_client_auth().with_cert_resolver(Arc::new(resolver));
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accept TLS connections on `listener` until `cancel`: each handshake
/// runs in its own task and is abandoned (the socket closed) after
/// `timeout`; each finished one is handed to `ready` with the client's
/// address.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    timeout: Duration,
    cancel: CancellationToken,
    ready: F,
) where
    F: Fn(TlsServerStream, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, typically: do not spin on it.
                tracing::warn!("TLS accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, cancel, ready) = (acceptor.clone(), cancel.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(timeout, acceptor.accept(stream));
            let done = tokio::select! {
                () = cancel.cancelled() => return,
                done = handshake => done,
            };
            match done {
                Ok(Ok(stream)) => ready(stream, remote).await,
                Ok(Err(e)) => tracing::info!(%remote, "TLS handshake failed: {e}"),
                Err(_) => tracing::info!(%remote, ?timeout, "TLS handshake not finished in time; connection closed"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A self-signed P-256 certificate for localhost and its key (test
    /// only; valid until 2126).
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUbqN/gMKR50Ez8DZKmwFXu8J9Ze8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNjAyMzcyMFoYDzIxMjYxMTEy
MDIzNzIwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATPys2xqs4fLnpihNB3ruxDC3LrOadLnmRDzwxwxLFdwA2GKASoIvw0
cR1/orUOEW20xwp/7eE1FfxUwKxtFH6yo1MwUTAdBgNVHQ4EFgQUYZB+7+UxeQIl
wVKE/cftc+kMEPowHwYDVR0jBBgwFoAUYZB+7+UxeQIlwVKE/cftc+kMEPowDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA4aOnpxZzozGcFhhg7sz8
X9WfTHOn4RlJLm//WYsu0rACIQDlUhUIkZRqPpMqB/XDY/T0seLD9R06p4tD5KaC
0SnFGw==
-----END CERTIFICATE-----
";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgz9nTVb1igzzmT6Bl
nl0Z3/Us0EHEOAcqhuKBuMRKEpGhRANCAATPys2xqs4fLnpihNB3ruxDC3LrOadL
nmRDzwxwxLFdwA2GKASoIvw0cR1/orUOEW20xwp/7eE1FfxUwKxtFH6y
-----END PRIVATE KEY-----
";

    /// A client that connects and says nothing (or stops mid-handshake)
    /// is cut off after the timeout, and nothing reaches the stack.
    #[tokio::test]
    async fn an_unfinished_handshake_is_cut_off() {
        let tls = SipTls { addr: "127.0.0.1:0".parse().unwrap(), cert_pem: CERT.into(), key_pem: KEY.into() };
        let listener = TcpListener::bind(tls.addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cancel = CancellationToken::new();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ready = move |_stream: TlsServerStream, remote: SocketAddr| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(remote);
            }
        };
        let timeout = Duration::from_millis(300);
        tokio::spawn(accept_loop(listener, acceptor(&tls).unwrap(), timeout, cancel.clone(), ready));

        let started = std::time::Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut partial = TcpStream::connect(addr).await.unwrap();
        // The first bytes of a ClientHello record, and no more.
        tokio::io::AsyncWriteExt::write_all(&mut partial, &[0x16, 0x03, 0x01, 0x00, 0x80, 0x01]).await.unwrap();
        for client in [&mut silent, &mut partial] {
            let mut buf = [0u8; 64];
            let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
            // Closed by the server: end of stream (or a reset).
            assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
        }
        let took = started.elapsed();
        assert!(took >= timeout && took < Duration::from_secs(3), "{took:?}");
        assert!(rx.try_recv().is_err(), "an unfinished handshake reached the stack");

        // The loop stops with the token, and the listener with it.
        cancel.cancel();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(check(b"hello", b"world"), Err(TlsError::NoCertificate)));
        let bad = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert!(check(bad, b"").is_err());
    }
}
