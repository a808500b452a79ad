//! The installation's age identity: made on the first backup, kept in the OS keyring or
//! in a passphrase-protected file, opened once per process.
//!
//! A first backup makes the identity, then stores it, in this order of preference:
//!
//! 1. the OS keyring (Secret Service, macOS Keychain, Windows Credential Manager), when
//!    the build has the `keyring` feature, `KEYWARDEN_KEYRING` is not `off`, and a keyring
//!    answers and gives the identity back;
//! 2. `backup-identity.age`, the identity (in `age-keygen`'s format) encrypted with a
//!    passphrase from `KEYWARDEN_PASSPHRASE_FILE` or the face's prompt (asked twice);
//! 3. neither: the backup is refused, so the command changes nothing, with an error that
//!    says how to give a passphrase. An identity that could not be kept would make every
//!    backup unreadable, and a backup nobody can read is a lost key.
//!
//! Only then is `backup-recipient` written: its presence means the identity is kept.
//! Creation holds `backup-identity.lock`, so two processes agree on one identity.

use super::{
    Ask, Crypt, IDENTITY_FILE, KEYRING_FILE, PASSPHRASE_FILE_ENV, RECIPIENT_FILE, opened,
    parse_recipient, prompt, remember,
};
use crate::error::{Error, Result};
use crate::fsio;
use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The keyring service name the identity is stored under.
pub const KEYRING_SERVICE: &str = "keywarden";
const LOCK_FILE: &str = "backup-identity.lock";
/// Attempts at a prompt before giving up.
const ATTEMPTS: u32 = 3;

/// Where an installation's identity lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Not made yet: no backup was written since backups were encrypted.
    None,
    /// In the OS keyring, under service `keywarden` and this account.
    Keyring { account: String },
    /// In this passphrase-protected file.
    File(PathBuf),
}

fn account(home: &Path) -> String {
    format!("backup identity of {}", home.display())
}

pub fn place(c: &Crypt) -> Place {
    if let Ok(text) = std::fs::read_to_string(c.home.join(KEYRING_FILE)) {
        let account = text
            .lines()
            .find_map(|l| l.strip_prefix("account = "))
            .map(str::to_string)
            .unwrap_or_else(|| account(&c.home));
        return Place::Keyring { account };
    }
    let file = c.home.join(IDENTITY_FILE);
    if file.exists() {
        return Place::File(file);
    }
    Place::None
}

/// The installation's recipient, making and storing its identity first if it has none.
pub fn ensure(c: &Crypt) -> Result<x25519::Recipient> {
    if let Some(r) = read_recipient(c)? {
        return Ok(r);
    }
    fsio::create_private_dir(&c.home)?;
    let lock_path = c.home.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::writing(&lock_path, "create the identity lock", e))?;
    lock.lock()
        .map_err(|e| Error::writing(&lock_path, "lock", e))?;
    // Another process may have made it while this one waited.
    if let Some(r) = read_recipient(c)? {
        return Ok(r);
    }
    let id = x25519::Identity::generate();
    let recipient = id.to_public();
    let text = identity_text(&id, &recipient);
    let mut made_with: Option<Zeroizing<String>> = None;
    if !stored_in_keyring(c, &text)? {
        let file = c.home.join(IDENTITY_FILE);
        let (passphrase, source) = match c.passphrase_file()? {
            Some((path, p)) => (p, Some(path)),
            None => (
                prompt()
                    .and_then(|p| {
                        p.passphrase(Ask::Create {
                            identity_file: &file,
                        })
                    })
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| no_passphrase_to_create(c, &file))?,
                None,
            ),
        };
        too_short(&passphrase, source.as_deref(), &file)?;
        let mut r = age::scrypt::Recipient::new(SecretString::from(passphrase.to_string()));
        if let Some(n) = c.work_factor() {
            r.set_work_factor(n);
        }
        let sealed = seal_with(&r, text.as_bytes())?;
        // A leftover from an interrupted creation holds no recipient's identity: replace it.
        fsio::atomic_write(&file, &sealed, fsio::PRIVATE_FILE)?;
        made_with = Some(passphrase);
    }
    fsio::atomic_write(
        &c.home.join(RECIPIENT_FILE),
        format!("{recipient}\n").as_bytes(),
        fsio::PRIVATE_FILE,
    )?;
    remember(
        &c.home,
        Arc::new(id),
        made_with.as_deref().map(String::as_str),
    );
    drop(lock);
    Ok(recipient)
}

/// The fewest characters a new identity file's passphrase may have: it stands alone
/// against offline guessing of a copied state folder (scrypt slows each guess to about a
/// second, which a short passphrase does not survive). Identities made before keep
/// opening with theirs.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Refuses a passphrase too short to protect a new identity file (bad input, exit 2;
/// nothing was created). `source`: the passphrase file it came from, if any.
fn too_short(passphrase: &str, source: Option<&Path>, identity_file: &Path) -> Result<()> {
    let n = passphrase.chars().count();
    if n >= MIN_PASSPHRASE_CHARS {
        return Ok(());
    }
    let message = format!(
        "the passphrase for the new backup identity {} is {n} character(s) long; it must have at least {MIN_PASSPHRASE_CHARS}, since it alone protects every backup of a copied state folder",
        identity_file.display()
    );
    let hint = format!(
        "choose a passphrase of {MIN_PASSPHRASE_CHARS} characters or more (a few random words)"
    );
    Err(match source {
        Some(path) => Error::input(
            path,
            None,
            None,
            format!("{message} ({PASSPHRASE_FILE_ENV})"),
            Some(hint),
        ),
        None => Error::Usage(format!("{message}: {hint}")),
    })
}

fn no_passphrase_to_create(c: &Crypt, file: &Path) -> Error {
    let keyring = if cfg!(feature = "keyring") {
        if c.keyring_enabled() {
            "no OS keyring answered"
        } else {
            "the OS keyring is off (KEYWARDEN_KEYRING)"
        }
    } else {
        "this build has no keyring support"
    };
    Error::Usage(format!(
        "backups are encrypted, and this installation has no identity to read them with yet: \
         {keyring}, and there is no passphrase to protect {} with. \
         Set {PASSPHRASE_FILE_ENV} to a private file holding a passphrase (scripts, CI), or run \
         the command once at a terminal; nothing was changed",
        file.display()
    ))
}

/// The recipient file's recipient, if the installation has one.
fn read_recipient(c: &Crypt) -> Result<Option<x25519::Recipient>> {
    let path = c.home.join(RECIPIENT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_recipient(&text).map(Some).ok_or_else(|| {
            Error::input(
                &path,
                Some(1),
                None,
                "not an age recipient (age1…)",
                Some(format!(
                    "this file holds the public key of {}; restore it from a backup of the state folder",
                    c.home.join(IDENTITY_FILE).display()
                )),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::reading(&path, "read the backup recipient", e)),
    }
}

/// `age-keygen`'s format, so `age -d -i backup-identity.age` reads it too.
fn identity_text(id: &x25519::Identity, r: &x25519::Recipient) -> Zeroizing<String> {
    let created = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let secret = id.to_string();
    let mut s = Zeroizing::new(String::with_capacity(200));
    s.push_str(&format!("# created: {created}\n# public key: {r}\n"));
    s.push_str(secret.expose_secret());
    s.push('\n');
    s
}

fn parse_identity(text: &str) -> Option<x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .and_then(|l| x25519::Identity::from_str(l).ok())
}

fn seal_with(r: &dyn age::Recipient, plaintext: &[u8]) -> Result<Vec<u8>> {
    let fail = |e: String| Error::Failed(format!("cannot encrypt the backup identity: {e}"));
    let enc =
        age::Encryptor::with_recipients(std::iter::once(r)).map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).map_err(|e| fail(e.to_string()))?;
    std::io::Write::write_all(&mut w, plaintext)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| fail(e.to_string()))?;
    Ok(out)
}

#[cfg(feature = "keyring")]
fn stored_in_keyring(c: &Crypt, text: &str) -> Result<bool> {
    if !c.keyring_enabled() {
        return Ok(false);
    }
    let account = account(&c.home);
    if super::os_keyring::store(&account, text).is_err() {
        return Ok(false);
    }
    fsio::atomic_write(
        &c.home.join(KEYRING_FILE),
        format!(
            "# the backups' identity is in the OS keyring\nservice = {KEYRING_SERVICE}\naccount = {account}\n"
        )
        .as_bytes(),
        fsio::PRIVATE_FILE,
    )?;
    Ok(true)
}

#[cfg(not(feature = "keyring"))]
fn stored_in_keyring(_: &Crypt, _: &str) -> Result<bool> {
    Ok(false)
}

/// The installation's identity, opened (asking for the passphrase) if this process has
/// not opened it yet.
pub fn open(c: &Crypt) -> Result<Arc<x25519::Identity>> {
    if let Some(id) = opened(&c.home) {
        return Ok(id);
    }
    match place(c) {
        Place::None => Err(Error::Failed(format!(
            "this installation has no backup identity ({} and the OS keyring hold none), \
             so its backups cannot be decrypted; if it was moved, bring back the state \
             folder's {IDENTITY_FILE} or {KEYRING_FILE}",
            c.home.join(IDENTITY_FILE).display()
        ))),
        Place::Keyring { account } => from_keyring(c, &account),
        Place::File(file) => {
            if let Some((source, passphrase)) = c.passphrase_file()? {
                return unlock_file(c, &file, passphrase).map_err(|e| match e {
                    Wrong::Passphrase => wrong_passphrase(
                        &file,
                        &format!(
                            "the passphrase in {} ({PASSPHRASE_FILE_ENV})",
                            source.display()
                        ),
                    ),
                    Wrong::Other(e) => e,
                });
            }
            let Some(p) = prompt() else {
                return Err(locked(&file));
            };
            for attempt in 1..=ATTEMPTS {
                let Some(passphrase) = p.passphrase(Ask::Unlock {
                    identity_file: &file,
                    attempt,
                }) else {
                    return Err(locked(&file));
                };
                match unlock_file(c, &file, passphrase) {
                    Ok(id) => return Ok(id),
                    Err(Wrong::Passphrase) if attempt < ATTEMPTS => continue,
                    Err(Wrong::Passphrase) => {
                        return Err(wrong_passphrase(&file, "the passphrase typed"));
                    }
                    Err(Wrong::Other(e)) => return Err(e),
                }
            }
            Err(locked(&file))
        }
    }
}

/// Opens the identity file with a passphrase the face obtained on its own.
pub fn unlock_with(c: &Crypt, passphrase: Zeroizing<String>) -> Result<Arc<x25519::Identity>> {
    match place(c) {
        Place::File(file) => unlock_file(c, &file, passphrase).map_err(|e| match e {
            Wrong::Passphrase => wrong_passphrase(&file, "the passphrase given"),
            Wrong::Other(e) => e,
        }),
        _ => open(c),
    }
}

fn locked(file: &Path) -> Error {
    Error::Usage(format!(
        "reading a backup needs this installation's identity, {}, which is locked by a \
         passphrase: run the command at a terminal to type it, or set {PASSPHRASE_FILE_ENV} \
         to a file holding it; nothing was changed",
        file.display()
    ))
}

/// A wrong passphrase is bad input (exit 2): nothing ran, and the same command with the
/// right passphrase works.
fn wrong_passphrase(file: &Path, what: &str) -> Error {
    Error::input(
        file,
        None,
        None,
        format!("{what} does not open this identity file; nothing was changed"),
        Some(format!(
            "give the passphrase the identity file was made with ({PASSPHRASE_FILE_ENV} or at a terminal)"
        )),
    )
}

enum Wrong {
    Passphrase,
    Other(Error),
}

fn unlock_file(
    c: &Crypt,
    file: &Path,
    passphrase: Zeroizing<String>,
) -> std::result::Result<Arc<x25519::Identity>, Wrong> {
    let sealed = std::fs::read(file)
        .map_err(|e| Wrong::Other(Error::reading(file, "read the backup identity", e)))?;
    let damaged = |why: String| {
        Wrong::Other(Error::input(
            file,
            None,
            None,
            format!("not a passphrase-protected age identity: {why}"),
            Some("restore it from a backup of the state folder".into()),
        ))
    };
    let decryptor =
        age::Decryptor::new_buffered(&sealed[..]).map_err(|e| damaged(e.to_string()))?;
    if !decryptor.is_scrypt() {
        return Err(damaged("it is not encrypted with a passphrase".into()));
    }
    let id = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let mut reader = match decryptor.decrypt(std::iter::once(&id as &dyn age::Identity)) {
        Ok(r) => r,
        Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
            return Err(Wrong::Passphrase);
        }
        Err(e) => return Err(damaged(e.to_string())),
    };
    let mut text = Zeroizing::new(Vec::with_capacity(sealed.len()));
    reader
        .read_to_end(&mut text)
        .map_err(|e| damaged(e.to_string()))?;
    let identity = std::str::from_utf8(&text)
        .ok()
        .and_then(parse_identity)
        .ok_or_else(|| damaged("it holds no AGE-SECRET-KEY".into()))?;
    let identity = Arc::new(identity);
    remember(&c.home, identity.clone(), Some(passphrase.as_str()));
    Ok(identity)
}

#[cfg(feature = "keyring")]
fn from_keyring(c: &Crypt, account: &str) -> Result<Arc<x25519::Identity>> {
    let text = super::os_keyring::load(account).map_err(|why| {
        Error::Failed(format!(
            "this installation's backup identity is in the OS keyring (service {KEYRING_SERVICE}, \
             account \"{account}\"), which cannot give it: {why}; unlock the keyring (log in to \
             the desktop session) and run the command again"
        ))
    })?;
    let id = parse_identity(&text).ok_or_else(|| {
        Error::Failed(format!(
            "the OS keyring's entry (service {KEYRING_SERVICE}, account \"{account}\") holds no age identity"
        ))
    })?;
    let id = Arc::new(id);
    remember(&c.home, id.clone(), None);
    Ok(id)
}

#[cfg(not(feature = "keyring"))]
fn from_keyring(_: &Crypt, account: &str) -> Result<Arc<x25519::Identity>> {
    Err(Error::Failed(format!(
        "this installation's backup identity is in the OS keyring (service {KEYRING_SERVICE}, \
         account \"{account}\"), and this build of keywarden has no keyring support (feature `keyring`)"
    )))
}
