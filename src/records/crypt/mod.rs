//! Encryption at rest of the backup store, with age.
//!
//! Every backup is an age file encrypted to public recipients: the installation's own
//! X25519 recipient (kept in the clear in the state home, `backup-recipient`) and the
//! manifest's `backup_recipients`. Writing needs only those, so nothing that writes a
//! backup (`set`, `rotate`, `revoke`, …) ever asks for anything once the installation has
//! its identity.
//!
//! Reading needs the installation's identity ([`identity`]): in the OS keyring where one
//! answers (feature `keyring`), else in `backup-identity.age`, the identity encrypted with
//! a passphrase (age's scrypt). The passphrase comes from the file named by
//! `KEYWARDEN_PASSPHRASE_FILE`, else from the face, through the [`Prompt`] it installs
//! with [`set_prompt`]: the core never reads a terminal. Once opened, the identity stays
//! in memory for the operation under way ([`hold`]: a command, a job of the interactive
//! view; one question however many backups it reads), then is dropped and wiped.

pub mod identity;
#[cfg(feature = "keyring")]
mod os_keyring;

use crate::context::Env;
use crate::error::{Error, Result};
use age::x25519;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use zeroize::Zeroizing;

/// The installation's recipient (its public key), in the clear.
pub const RECIPIENT_FILE: &str = "backup-recipient";
/// The installation's identity, encrypted with a passphrase, when no keyring holds it.
pub const IDENTITY_FILE: &str = "backup-identity.age";
/// Present when the identity is in the OS keyring: says under which name.
pub const KEYRING_FILE: &str = "backup-identity.keyring";
/// A file holding the identity file's passphrase (scripts, CI, tests).
pub const PASSPHRASE_FILE_ENV: &str = "KEYWARDEN_PASSPHRASE_FILE";
/// `off` keeps the identity out of the OS keyring (and never asks the keyring).
pub const KEYRING_ENV: &str = "KEYWARDEN_KEYRING";
/// Debug builds only: the scrypt work factor (log2 N) for a new identity file, so tests
/// need not spend a second per process. Release builds always use age's calibrated one.
#[cfg(debug_assertions)]
pub const TEST_WORK_FACTOR_ENV: &str = "KEYWARDEN_TEST_SCRYPT_LOG_N";

/// What the core asks the face for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask<'a> {
    /// The passphrase that opens the identity file at this path. `attempt` counts from 1.
    Unlock {
        identity_file: &'a Path,
        attempt: u32,
    },
    /// A new passphrase to protect a new identity file at this path (the face asks twice).
    Create { identity_file: &'a Path },
}

/// How the core reaches the user for a passphrase (like age's `Callbacks`). A face that
/// cannot ask (no terminal, a view that asks otherwise) answers `None`.
pub trait Prompt: Send + Sync {
    fn passphrase(&self, ask: Ask<'_>) -> Option<Zeroizing<String>>;
}

static PROMPT: RwLock<Option<Arc<dyn Prompt>>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the face's prompt for this process.
pub fn set_prompt(prompt: Option<Arc<dyn Prompt>>) {
    *PROMPT.write().unwrap_or_else(|e| e.into_inner()) = prompt;
}

fn prompt() -> Option<Arc<dyn Prompt>> {
    PROMPT.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Identities opened for the operations under way, by state home, and how many
/// operations hold them ([`hold`]). `x25519::Identity` wipes its secret on drop
/// (x25519-dalek's `StaticSecret` is `ZeroizeOnDrop`): when the last operation ends the
/// list is emptied and the identity is gone from memory, not kept for the process's life.
struct Opened {
    holders: usize,
    ids: Vec<(PathBuf, Arc<x25519::Identity>)>,
    /// The passphrases that opened (or made) them, by state home: hidden from the output
    /// of the commands keywarden runs during the operation ([`Crypt::passphrases`]).
    passphrases: Vec<(PathBuf, Zeroizing<String>)>,
}

static OPENED: Mutex<Opened> = Mutex::new(Opened {
    holders: 0,
    ids: Vec::new(),
    passphrases: Vec::new(),
});

fn opened_list() -> std::sync::MutexGuard<'static, Opened> {
    OPENED.lock().unwrap_or_else(|e| e.into_inner())
}

fn opened(home: &Path) -> Option<Arc<x25519::Identity>> {
    let list = opened_list();
    list.ids
        .iter()
        .find(|(h, _)| h == home)
        .map(|(_, i)| i.clone())
}

/// Keeps `id` for the operations under way; with none, it is not kept: the caller's
/// copy is dropped (and wiped) when the caller is done with it.
fn remember(home: &Path, id: Arc<x25519::Identity>, passphrase: Option<&str>) {
    let mut list = opened_list();
    if list.holders == 0 {
        return;
    }
    list.ids.retain(|(h, _)| h != home);
    list.ids.push((home.to_path_buf(), id));
    if let Some(p) = passphrase {
        list.passphrases.retain(|(h, _)| h != home);
        list.passphrases
            .push((home.to_path_buf(), Zeroizing::new(p.to_string())));
    }
}

/// One operation (a command, a job of the interactive view) during which an identity,
/// once opened, stays open: its backups are read with one question, however many. When
/// the last `Held` drops, every opened identity is dropped and wiped.
#[must_use = "the identity stays open only while this is held"]
pub struct Held(());

/// Starts an operation: see [`Held`].
pub fn hold() -> Held {
    opened_list().holders += 1;
    Held(())
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut list = opened_list();
        list.holders = list.holders.saturating_sub(1);
        if list.holders == 0 {
            list.ids.clear();
            list.passphrases.clear();
        }
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

/// Parses an age X25519 recipient (`age1…`).
pub fn parse_recipient(s: &str) -> Option<x25519::Recipient> {
    x25519::Recipient::from_str(s.trim()).ok()
}

/// Whether `bytes` is an age file (binary format).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
}

/// The backups' encryption, as seen from one state home and one project's manifest.
#[derive(Clone)]
pub struct Crypt {
    home: PathBuf,
    env: Env,
    team: Vec<String>,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt")
            .field("home", &self.home)
            .field("team", &self.team)
            .finish_non_exhaustive()
    }
}

impl Crypt {
    /// The encryption of the state home `home`, reading its passphrase file and keyring
    /// setting from `env`.
    pub fn new(home: &Path, env: Env) -> Crypt {
        Crypt {
            home: home.to_path_buf(),
            env,
            team: Vec::new(),
        }
    }

    /// Also encrypts to these recipients (the manifest's `backup_recipients`, already
    /// checked by the manifest's parser).
    pub fn with_team(mut self, recipients: &[String]) -> Crypt {
        self.team = recipients.to_vec();
        self
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Encrypts `plaintext` to the installation's recipient and the team's. The first
    /// call of an installation makes its identity (see [`identity::ensure`]).
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let own = identity::ensure(self)?;
        let mut recipients: Vec<x25519::Recipient> = vec![own];
        for r in &self.team {
            let parsed = parse_recipient(r).ok_or_else(|| {
                Error::Usage(format!(
                    "`{r}` in backup_recipients is not an age recipient"
                ))
            })?;
            recipients.push(parsed);
        }
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::Failed(format!("cannot encrypt the backup: {e}")))?;
        let mut out = Vec::with_capacity(plaintext.len() + 256);
        let mut w = encryptor
            .wrap_output(&mut out)
            .map_err(|e| Error::Failed(format!("cannot encrypt the backup: {e}")))?;
        std::io::Write::write_all(&mut w, plaintext)
            .and_then(|_| w.finish().map(|_| ()))
            .map_err(|e| Error::Failed(format!("cannot encrypt the backup: {e}")))?;
        Ok(out)
    }

    /// Decrypts the age file `sealed` (read from `path`, named in errors) with the
    /// installation's identity, opening it first if this process has not yet.
    pub fn open(&self, sealed: &[u8], path: &Path) -> Result<Zeroizing<Vec<u8>>> {
        let id = identity::open(self)?;
        let decryptor = age::Decryptor::new_buffered(sealed).map_err(|e| {
            Error::Failed(format!(
                "{}: not a readable age file ({e}); the backup is damaged",
                path.display()
            ))
        })?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&*id as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => Error::Failed(format!(
                    "{}: this backup was not encrypted to this installation's identity \
                     (written by another installation, or only to backup_recipients): \
                     decrypt it with that identity, e.g. `age -d -i IDENTITY {}`",
                    path.display(),
                    path.display()
                )),
                other => Error::Failed(format!(
                    "{}: cannot decrypt the backup: {other}",
                    path.display()
                )),
            })?;
        // Sized up front: no growing buffer leaves copies of the key behind.
        let mut out = Zeroizing::new(Vec::with_capacity(sealed.len()));
        reader.read_to_end(&mut out).map_err(|e| {
            Error::Failed(format!(
                "{}: cannot decrypt the backup ({e}); it is damaged",
                path.display()
            ))
        })?;
        Ok(out)
    }

    /// Makes the installation's identity if it has none (keyring, else a passphrase from
    /// the file or the prompt), so that later writes need nothing.
    pub fn ensure_identity(&self) -> Result<()> {
        identity::ensure(self).map(|_| ())
    }

    /// Opens the identity file with `passphrase` and keeps the identity for the operation
    /// under way — the caller holds one ([`hold`]) until the work that needs it is done
    /// (for a face that asks on its own, then tries again). A wrong passphrase is an error
    /// naming the file.
    pub fn unlock(&self, passphrase: Zeroizing<String>) -> Result<()> {
        identity::unlock_with(self, passphrase).map(|_| ())
    }

    /// Where the identity lives, if the installation has one.
    pub fn place(&self) -> identity::Place {
        identity::place(self)
    }

    /// Whether the identity can be opened without asking anyone: already open, in the
    /// keyring, or with a passphrase file. Work that only improves what is hidden (the
    /// redaction of retired keys) reads backups only then, so it never prompts.
    pub fn opens_without_asking(&self) -> bool {
        self.is_open()
            || matches!(self.place(), identity::Place::Keyring { .. })
            || self.env.var_os(PASSPHRASE_FILE_ENV).is_some()
    }

    /// The passphrases of the identity file keywarden knows now: the one in
    /// `KEYWARDEN_PASSPHRASE_FILE`, and one typed during the operation under way. Hidden
    /// from the output of the commands it runs, like a key. Best effort: a passphrase file
    /// that cannot be read adds nothing.
    pub fn passphrases(&self) -> Vec<Zeroizing<String>> {
        let mut out: Vec<Zeroizing<String>> = Vec::new();
        if let Ok(Some((_, p))) = self.passphrase_file() {
            out.push(p);
        }
        let list = opened_list();
        for (h, p) in &list.passphrases {
            if *h == self.home && !out.iter().any(|o| **o == **p) {
                out.push(p.clone());
            }
        }
        out
    }

    /// Whether an operation under way holds the opened identity.
    pub fn is_open(&self) -> bool {
        opened(&self.home).is_some()
    }

    /// Whether reading a backup would need a passphrase someone must type: the identity
    /// is a passphrase-protected file, not open, and no `KEYWARDEN_PASSPHRASE_FILE` is set.
    /// A face that asks on its own (the interactive view) asks then, and [`Crypt::unlock`]s.
    pub fn needs_passphrase(&self) -> bool {
        matches!(self.place(), identity::Place::File(_))
            && !self.is_open()
            && self
                .env
                .var_os(PASSPHRASE_FILE_ENV)
                .is_none_or(|v| v.is_empty())
    }

    fn keyring_enabled(&self) -> bool {
        cfg!(feature = "keyring")
            && !matches!(
                self.env.var(KEYRING_ENV).as_deref().map(str::trim),
                Some("off" | "0" | "no" | "false")
            )
    }

    /// The passphrase from `KEYWARDEN_PASSPHRASE_FILE`, if it names a file: `Some(path,
    /// passphrase)`. The file's one trailing newline is not part of it.
    fn passphrase_file(&self) -> Result<Option<(PathBuf, Zeroizing<String>)>> {
        let Some(path) = self
            .env
            .var_os(PASSPHRASE_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
        else {
            return Ok(None);
        };
        let mut file = std::fs::File::open(&path)
            .map_err(|e| Error::reading(&path, "read the passphrase file", e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::reading(&path, "read the passphrase file", e))?;
        // A passphrase others can read protects nothing. Pipes (`<(…)`) and the like are
        // the caller's to judge; a regular file must be the user's alone.
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        if meta.is_file() && mode & 0o077 != 0 {
            return Err(Error::input(
                &path,
                None,
                None,
                format!(
                    "the passphrase file ({PASSPHRASE_FILE_ENV}) is readable by others (mode {:04o}): the backups' passphrase must be yours alone",
                    mode & 0o7777
                ),
                Some(format!("chmod 600 {}", path.display())),
            ));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            usize::try_from(meta.len()).unwrap_or(0).min(1 << 16) + 1,
        ));
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| Error::reading(&path, "read the passphrase file", e))?;
        let mut text: &[u8] = &bytes;
        if let Some(t) = text.strip_suffix(b"\n") {
            text = t.strip_suffix(b"\r").unwrap_or(t);
        }
        let text = std::str::from_utf8(text).map_err(|_| {
            Error::input(
                &path,
                None,
                None,
                "the passphrase file is not UTF-8 text",
                None,
            )
        })?;
        if text.is_empty() {
            return Err(Error::input(
                &path,
                None,
                None,
                format!("the passphrase file ({PASSPHRASE_FILE_ENV}) is empty"),
                Some("write the passphrase on its first line".into()),
            ));
        }
        Ok(Some((path, Zeroizing::new(text.to_string()))))
    }

    /// The scrypt work factor for a new identity file: age's calibrated default (about a
    /// second), or in debug builds the test's.
    fn work_factor(&self) -> Option<u8> {
        #[cfg(debug_assertions)]
        {
            self.env
                .var(TEST_WORK_FACTOR_ENV)
                .and_then(|v| v.trim().parse::<u8>().ok())
                .filter(|n| (1..=22).contains(n))
        }
        #[cfg(not(debug_assertions))]
        {
            None
        }
    }
}

#[cfg(test)]
mod tests;
