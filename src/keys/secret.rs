//! The one carrier of key material.
//!
//! A [`Secret`] owns its bytes in a zeroizing buffer, so the value is wiped when the last
//! copy is dropped. Its `Debug` and `Display` print a fixed placeholder, so a key cannot
//! reach a log line, an error, a panic message or a test snapshot by formatting. The value
//! is only reachable through [`Secret::expose_secret`], a name that is easy to audit.

use std::fmt;
use zeroize::Zeroizing;

/// What `Debug` and `Display` print instead of a key.
pub const REDACTED: &str = "[redacted]";

/// Not `Clone`: a copy of a key is made on purpose, with [`Secret::duplicate`].
pub struct Secret(Zeroizing<String>);

/// Compared in constant time (`subtle`): how long a comparison takes says nothing about
/// how much of a key matched.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        // Lengths are not secret (a key's length shows in every file that holds it).
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

impl Eq for Secret {}

impl Secret {
    /// Takes ownership of `value`; the caller's buffer moves in, no copy is left behind.
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// The key itself. Call only where the key must leave keywarden's memory: writing a
    /// target or a backup, the clipboard, `generate`'s stdout, hashing and analysis.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// A second copy of the key, wiped on drop like the first. Every copy is one more
    /// place the key lives: make one only where it must outlive its source.
    pub fn duplicate(&self) -> Secret {
        Secret(Zeroizing::new(self.0.as_str().to_owned()))
    }

    /// Length in characters (not bytes).
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret-value".to_string());
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(
            format!("{:#?}", Some(&s)),
            "Some(\n    Secret([redacted]),\n)"
        );
        assert!(!format!("{s:?}{s}").contains("hunter2"));
        assert_eq!(s.expose_secret(), "hunter2-very-secret-value");
    }

    #[test]
    fn equality_is_by_value_and_a_duplicate_is_equal() {
        let a = Secret::new("k".repeat(64));
        assert_eq!(a, a.duplicate());
        assert_ne!(a, Secret::new("k".repeat(63)));
        assert_ne!(a, Secret::new(format!("{}j", "k".repeat(63))));
    }

    #[test]
    fn char_len_counts_characters() {
        assert_eq!(Secret::new("é€a".into()).char_len(), 3);
    }
}
