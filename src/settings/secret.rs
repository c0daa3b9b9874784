//! A credential from settings (an app secret, a verify token, a server key): compared in constant
//! time and never printed.

use std::fmt;

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

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
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
        assert!(secret.matches("vibecoding"));
        assert!(!secret.matches("vibecodinG"));
        assert!(!secret.matches("vibecoding "));
        assert!(!secret.matches(""));
    }
}
