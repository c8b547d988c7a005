//! `Secret`: the secret's bytes behind a type whose `Debug` and `Display`
//! redact, so a secret cannot reach a log or message by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The raw bytes. Call only where the user asked to see secrets, or to hash.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first 4 characters and the length: `ghp_…(40)`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// The first 4 characters of `s` and its length in bytes.
pub fn redact(s: &[u8]) -> String {
    let text = String::from_utf8_lossy(s);
    let head: String = text
        .chars()
        .take(4)
        .flat_map(char::escape_default)
        .collect();
    format!("{head}…({})", s.len())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}
