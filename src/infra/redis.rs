//! A Redis client from settings: `redis://` in the clear, `rediss://` over TLS (rustls, with the
//! system's certificate authorities or the ones in `redis.ca_file`).

use std::path::Path;

use anyhow::Context;

use crate::settings::SecretUrl;

/// The client for `url`, trusting the authorities in `ca_file` for `rediss://` when given.
/// Nothing connects yet; a URL that does not parse is an error naming the setting, without the
/// password.
pub fn client(url: &SecretUrl, ca_file: Option<&Path>) -> anyhow::Result<redis::Client> {
    // redis's rustls uses the process's provider.
    crate::infra::http_client::install_tls_provider();
    let client = match ca_file {
        Some(file) => {
            let root_cert = std::fs::read(file)
                .with_context(|| format!("reading redis.ca_file (WARUNG_REDIS__CA_FILE) {}", file.display()))?;
            let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(root_cert) };
            redis::Client::build_with_tls(url.expose(), certificates)
        }
        None => redis::Client::open(url.expose()),
    };
    client.map_err(|error| {
        let detail = error.detail().unwrap_or("");
        anyhow::anyhow!("redis.url (WARUNG_REDIS__URL) {url} is not usable: {:?} {detail}", error.kind())
    })
}
