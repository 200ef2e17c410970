//! The HTTP client for calls the server makes (webhooks, the order-history
//! hook): `http://` and `https://`, the latter verified against the system's
//! CA store (or the PEM file named by `SSL_CERT_FILE`, or the directory
//! named by `SSL_CERT_DIR`, as OpenSSL reads them).

/// Build the outbound client. An unreadable CA store is logged and leaves
/// `https://` hooks failing (each attempt then logs why); plain `http://`
/// hooks keep working and the server still starts.
pub fn client() -> reqwest::Client {
    match reqwest::Client::builder().build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the CA store could not be loaded ({e}); https:// hooks will fail");
            reqwest::Client::builder().tls_built_in_native_certs(false).build().unwrap_or_default()
        }
    }
}

/// An error with its causes, outermost first ("error sending request: …:
/// invalid peer certificate: UnknownIssuer"): reqwest's own message alone
/// does not say why a hook failed.
pub fn why(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn why_names_every_cause_once() {
        let inner = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        let outer = std::io::Error::other(Wrapped(inner));
        assert_eq!(super::why(&outer), "handshake failed: invalid peer certificate: UnknownIssuer");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("handshake failed")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
