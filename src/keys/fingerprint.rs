//! Fingerprints: how a key is named everywhere outside the target files and backups.
//!
//! `kw:` + the first 8 hex digits of HMAC-SHA256(pepper, key). The pepper is 32 random
//! bytes made once per installation and kept `0600` in the state home, so a fingerprint
//! found in `state.json`, the audit log or a report allows no offline guessing of a weak
//! key: without the pepper, `password123` and a strong key look alike.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::secret::Secret;
use crate::project::home::Home;
use hmac::{Hmac, KeyInit, Mac};
use rand::TryRng;
use rand::rngs::SysRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::io::ErrorKind;
use zeroize::Zeroizing;

const PEPPER_FILE: &str = "pepper";
const PEPPER_LEN: usize = 32;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses `kw:` + 8 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Fingerprint> {
        let hex = s.strip_prefix("kw:")?;
        (hex.len() == 8
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Fingerprint(s.to_string()))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `kw:1, kw:2` for messages, or `no key` when there is none.
pub fn list(fps: &[Fingerprint]) -> String {
    if fps.is_empty() {
        "no key".into()
    } else {
        fps.iter()
            .map(Fingerprint::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The per-installation HMAC key.
pub struct Pepper(Zeroizing<[u8; PEPPER_LEN]>);

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper([redacted])")
    }
}

impl Pepper {
    /// Loads the pepper from the state home, creating it (`0600`, exclusively, so two
    /// processes starting at once agree on one pepper) on first use.
    pub fn load_or_create(home: &Home) -> Result<Pepper> {
        let root = home.ensure()?;
        let path = root.join(PEPPER_FILE);
        loop {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let bytes = Zeroizing::new(bytes);
                    if bytes.len() == PEPPER_LEN {
                        let mut p = Zeroizing::new([0u8; PEPPER_LEN]);
                        p.copy_from_slice(&bytes);
                        return Ok(Pepper(p));
                    }
                    // A concurrent creator may not have finished writing: wait briefly once.
                    if bytes.is_empty() {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        if std::fs::read(&path).map(|b| b.len()).unwrap_or(0) == PEPPER_LEN {
                            continue;
                        }
                    }
                    return Err(Error::input(
                        &path,
                        None,
                        None,
                        format!("the pepper file must hold exactly {PEPPER_LEN} bytes"),
                        Some(
                            "it was damaged; restore it from a backup of the state folder, or remove it (every fingerprint will change)"
                                .into(),
                        ),
                    ));
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    let mut p = Zeroizing::new([0u8; PEPPER_LEN]);
                    SysRng.try_fill_bytes(&mut p[..]).map_err(|e| {
                        Error::Failed(format!("the operating system's random source failed: {e}"))
                    })?;
                    match fsio::create_new_private(&path, &p[..]) {
                        Ok(()) => return Ok(Pepper(p)),
                        Err(Error::Io { source, .. })
                            if source.kind() == ErrorKind::AlreadyExists =>
                        {
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(Error::reading(&path, "read", e)),
            }
        }
    }

    #[cfg(test)]
    pub fn fixed(bytes: [u8; PEPPER_LEN]) -> Pepper {
        Pepper(Zeroizing::new(bytes))
    }

    pub fn fingerprint(&self, key: &Secret) -> Fingerprint {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0[..])
            .expect("HMAC takes a key of any length");
        mac.update(key.expose_secret().as_bytes());
        let tag = mac.finalize().into_bytes();
        let hex: String = tag[..4].iter().map(|b| format!("{b:02x}")).collect();
        Fingerprint(format!("kw:{hex}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_fingerprint_different_pepper_different() {
        let a = Pepper::fixed([1; 32]);
        let b = Pepper::fixed([2; 32]);
        let k = Secret::new("password123".into());
        assert_eq!(a.fingerprint(&k), a.fingerprint(&k.duplicate()));
        assert_ne!(a.fingerprint(&k), b.fingerprint(&k));
        let fp = a.fingerprint(&k);
        assert!(Fingerprint::parse(fp.as_str()).is_some(), "{fp}");
    }

    #[test]
    fn fingerprint_matches_hmac_sha256_reference() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut pepper = [0u8; 32];
        pepper[..4].copy_from_slice(b"Jefe");
        // HMAC pads short keys with zeros, so a zero-padded 32-byte key gives the same tag.
        let fp =
            Pepper::fixed(pepper).fingerprint(&Secret::new("what do ya want for nothing?".into()));
        assert_eq!(fp.as_str(), "kw:5bdcc146");
    }

    #[test]
    fn pepper_is_created_once_private() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("home"));
        let p1 = Pepper::load_or_create(&home).unwrap();
        let p2 = Pepper::load_or_create(&home).unwrap();
        let k = Secret::new("x".repeat(40));
        assert_eq!(p1.fingerprint(&k), p2.fingerprint(&k));
        let meta = fsio::file_meta(&dir.path().join("home/pepper")).unwrap();
        assert_eq!(meta.mode_string(), "0600");
        assert_eq!(
            fsio::file_meta(&dir.path().join("home"))
                .unwrap()
                .mode_string(),
            "0700"
        );
    }
}
