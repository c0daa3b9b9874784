//! How a `postgres://` URL becomes connection options, the same for the store and the lab's
//! Postgres peers.
//!
//! TLS: a URL that names an `sslmode` (or a `PGSSLMODE` in the environment) gets exactly what it
//! asks for. One that names none gets libpq's `prefer` (encrypt if the server offers it) unless
//! the server is on this machine (a loopback address or a Unix socket): there is no network to
//! protect, and encrypting every journal batch on loopback cost the engine's one thread about 6%
//! of a flash sale (and the server as much again to decrypt it). A local server that accepts
//! only TLS then refuses the connection ("no encryption"): add `?sslmode=require`.

use std::net::IpAddr;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The options `url` names, with the rule above for TLS.
pub fn postgres_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let chosen = names_sslmode(url) || std::env::var_os("PGSSLMODE").is_some();
    if !chosen && on_this_machine(&options) {
        return Ok(options.ssl_mode(PgSslMode::Disable));
    }
    Ok(options)
}

/// Whether the URL's query sets `sslmode` (sqlx also reads it as `ssl-mode`).
fn names_sslmode(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else { return false };
    query.split('&').filter_map(|pair| pair.split('=').next()).any(|key| key == "sslmode" || key == "ssl-mode")
}

/// A Unix socket, `localhost`, or a loopback address.
fn on_this_machine(options: &PgConnectOptions) -> bool {
    if options.get_socket().is_some() {
        return true;
    }
    let host = options.get_host().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || IpAddr::from_str(host).is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        postgres_options(url).unwrap().get_ssl_mode()
    }

    #[test]
    fn a_server_on_this_machine_is_reached_without_tls_unless_the_url_asks_for_it() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://postgres@127.0.0.2/shop",
            "postgres://postgres@localhost/shop?application_name=x",
            "postgres://postgres@[::1]:5432/shop",
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/shop",
        ] {
            assert!(matches!(mode(url), PgSslMode::Disable), "{url}");
        }
        assert!(matches!(mode("postgres://postgres@127.0.0.1/shop?sslmode=require"), PgSslMode::Require));
        assert!(matches!(mode("postgres://postgres@localhost/shop?ssl-mode=prefer"), PgSslMode::Prefer));
    }

    #[test]
    fn a_server_elsewhere_keeps_the_url_s_choice_or_libpq_s_default() {
        assert!(matches!(mode("postgres://warung@db/shop"), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://warung@10.0.0.5/shop"), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://warung@db/shop?sslmode=verify-full"), PgSslMode::VerifyFull));
        assert!(matches!(mode("postgres://warung@db/shop?sslmode=disable"), PgSslMode::Disable));
    }
}
