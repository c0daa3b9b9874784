//! Values from settings that must never print: a credential (an app secret, a verify token, a
//! server key, the admin token), and a URL that may carry a password (the database, Redis, NATS).
//! `Debug`, `Display` and `Serialize` show a mask; only `expose` gives the value, for the one
//! call that needs it.

use std::fmt;

/// A credential: compared in constant time and never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares without stopping at the first differing byte, so the time taken says nothing
    /// about how much of a guess was right.
    pub fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), candidate.as_bytes())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::new(value)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(SECRET_MASK)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What a secret prints as, wherever it is printed.
pub const SECRET_MASK: &str = "***";

/// A URL whose password (`user:password@` or `?password=`) never prints: logs, errors and
/// `Debug` see `postgres://warung:***@db/warung`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The whole URL, for the one call that connects with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password masked.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> SecretUrl {
        SecretUrl::new(url)
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> SecretUrl {
        SecretUrl::new(url)
    }
}

impl<'de> serde::Deserialize<'de> for SecretUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SecretUrl, D::Error> {
        String::deserialize(deserializer).map(SecretUrl)
    }
}

impl serde::Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A URL with any password masked: the `user:password@` part and `password=` parameters.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => format!("{}://{user}:{SECRET_MASK}@{}", &base[..scheme], &base[at + 1..]),
                // A lone `token@` (Redis and NATS accept a token in the user's place).
                None if base[..scheme].starts_with("redis") || base[..scheme].starts_with("nats") => {
                    format!("{}://{SECRET_MASK}@{}", &base[..scheme], &base[at + 1..])
                }
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}={SECRET_MASK}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parameters.join("&"));
    }
    out
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_and_matches_only_itself() {
        let secret = Secret::new("vibecoding");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"***\"");
        assert!(secret.matches("vibecoding"));
        assert!(!secret.matches("vibecodinG"));
        assert!(!secret.matches("vibecoding "));
        assert!(!secret.matches(""));
    }

    #[test]
    fn a_urls_password_never_prints_wherever_it_is_written() {
        for (url, shown) in [
            ("postgres://warung:pa55@db:5432/shop", "postgres://warung:***@db:5432/shop"),
            ("postgres://warung:p@ss@db/shop?sslmode=require", "postgres://warung:***@db/shop?sslmode=require"),
            (
                "postgres://db/shop?user=w&password=pa55&sslmode=verify-full",
                "postgres://db/shop?user=w&password=***&sslmode=verify-full",
            ),
            ("rediss://default:pa55@cache:6380", "rediss://default:***@cache:6380"),
            ("redis://t0ken@cache:6379", "redis://***@cache:6379"),
            ("postgres://warung@db/shop", "postgres://warung@db/shop"),
            ("sqlite://warung.db", "sqlite://warung.db"),
        ] {
            let secret = SecretUrl::new(url);
            assert_eq!(secret.to_string(), shown);
            assert_eq!(format!("{secret:?}"), format!("SecretUrl({shown})"));
            assert_eq!(serde_json::to_string(&secret).unwrap(), format!("\"{shown}\""));
            assert_eq!(secret.expose(), url);
        }
    }
}
