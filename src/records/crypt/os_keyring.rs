//! The OS keyring through the `keyring` crate: Secret Service (over D-Bus, with zbus) on
//! Linux and the BSDs, Keychain on macOS, Credential Manager on Windows. Errors are the
//! crate's wording, which never includes the stored secret.

use super::identity::KEYRING_SERVICE;
use zeroize::Zeroizing;

fn entry(account: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| e.to_string())
}

/// Stores `secret`, then reads it back: a keyring that accepts but cannot give back is
/// no keyring.
pub fn store(account: &str, secret: &str) -> Result<(), String> {
    let e = entry(account)?;
    e.set_password(secret).map_err(|e| e.to_string())?;
    let back = Zeroizing::new(e.get_password().map_err(|e| e.to_string())?);
    if back.as_str() != secret {
        return Err("the keyring gave back something else".into());
    }
    Ok(())
}

pub fn load(account: &str) -> Result<Zeroizing<String>, String> {
    entry(account)?
        .get_password()
        .map(Zeroizing::new)
        .map_err(|e| e.to_string())
}
