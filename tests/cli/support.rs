//! Shared helpers: a temporary project with its own state home, and the binary under test.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub struct Sandbox {
    pub project: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// Holds the backup identity's passphrase file, outside the project and the home.
    pub secrets: tempfile::TempDir,
}

/// The passphrase every sandbox's backup identity is made with.
pub const PASSPHRASE: &str = "sandbox passphrase, not a key";

impl Sandbox {
    pub fn new() -> Sandbox {
        let secrets = tempfile::tempdir().unwrap();
        let pass = secrets.path().join("passphrase");
        std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
        // keywarden refuses a passphrase file others can read.
        set_mode(&pass, 0o600);
        Sandbox {
            project: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            secrets,
        }
    }

    /// What every keywarden process of the sandbox gets, for its backups' identity: a
    /// passphrase file, no OS keyring, and (debug builds) a cheap scrypt work factor.
    pub fn backup_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("KEYWARDEN_PASSPHRASE_FILE", self.passphrase_file().into()),
            ("KEYWARDEN_KEYRING", "off".into()),
            ("KEYWARDEN_TEST_SCRYPT_LOG_N", "4".into()),
        ]
    }

    /// Every backup's content (`content.age`), decrypted as `restore` would: the identity
    /// file opened with [`PASSPHRASE`].
    pub fn backup_contents(&self) -> Vec<(PathBuf, Vec<u8>)> {
        use std::io::Read;
        let sealed = std::fs::read(self.home.path().join("backup-identity.age")).unwrap();
        let pass =
            age::scrypt::Identity::new(age::secrecy::SecretString::from(PASSPHRASE.to_string()));
        let text = age::decrypt(&pass, &sealed).unwrap();
        let line = String::from_utf8(text).unwrap();
        let id: age::x25519::Identity = line
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .unwrap()
            .parse()
            .unwrap();
        self.state_files()
            .into_iter()
            .filter(|(p, _)| p.ends_with("content.age"))
            .map(|(p, bytes)| {
                let mut out = Vec::new();
                age::Decryptor::new(&bytes[..])
                    .unwrap()
                    .decrypt(std::iter::once(&id as &dyn age::Identity))
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
                (p, out)
            })
            .collect()
    }

    /// The file `KEYWARDEN_PASSPHRASE_FILE` names in [`Sandbox::kw`].
    pub fn passphrase_file(&self) -> PathBuf {
        self.secrets.path().join("passphrase")
    }

    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.project.path()).unwrap()
    }

    /// `keywarden` run in the project, with a private state home and no inherited key.
    /// The backup identity is a passphrase-protected file (never the OS keyring of the
    /// machine running the tests), its passphrase read from [`Sandbox::passphrase_file`];
    /// debug builds make it with a cheap scrypt work factor.
    pub fn kw(&self) -> Command {
        let mut cmd = Command::cargo_bin("keywarden").unwrap();
        cmd.current_dir(self.project.path())
            .env("KEYWARDEN_HOME", self.home.path())
            .envs(self.backup_env())
            .env("NO_COLOR", "1")
            .env_remove("SECRET_KEY");
        cmd
    }

    /// Writes `rel` (creating folders) with mode 0600 unless the test changes it.
    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.project.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        set_mode(&p, 0o600);
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.path().join(rel)).unwrap()
    }

    pub fn mode(&self, rel: &str) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(self.project.path().join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    /// Every file under the state home, with its bytes (to prove no key leaks into state).
    pub fn state_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.home.path(), &mut out);
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Fails if `haystack` contains `key` (the test's key must never be printed or stored).
pub fn assert_no_key(what: &str, haystack: &[u8], key: &str) {
    assert!(!key.is_empty());
    let found = haystack.windows(key.len()).any(|w| w == key.as_bytes());
    assert!(!found, "{what} contains the key");
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}
