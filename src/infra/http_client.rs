//! The one way providers are called over HTTP: reqwest over rustls with the ring provider (no C
//! build, no system OpenSSL).

use std::time::Duration;

/// Installs rustls's ring provider for the process. reqwest is built without a provider of its
/// own, so every client needs this first; calling it again is harmless.
pub fn install_tls_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client for calling providers.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder().timeout(timeout).build().expect("an HTTP client with the ring TLS provider")
}
