use super::*;
use std::ffi::OsString;

fn env_with(pass: Option<&Path>) -> Env {
    let pass = pass.map(|p| p.as_os_str().to_owned());
    Env::from_fn(move |n| match n {
        PASSPHRASE_FILE_ENV => pass.clone(),
        KEYRING_ENV => Some(OsString::from("off")),
        #[cfg(debug_assertions)]
        TEST_WORK_FACTOR_ENV => Some(OsString::from("4")),
        _ => None,
    })
}

/// A passphrase file as keywarden takes it: the user's alone (`0600`).
fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

fn forget(home: &Path) {
    opened_list().ids.retain(|(h, _)| h.as_path() != home);
}

#[test]
fn seals_to_the_recipient_and_opens_with_the_passphrase_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pass = dir.path().join("pass");
    write_private(&pass, "correct horse\n");
    let c = Crypt::new(&home, env_with(Some(&pass)));
    let plain: &[u8] = b"SECRET_KEY='a-distinctive-plaintext-0123456789'";
    let sealed = c.seal(plain).unwrap();
    assert!(is_sealed(&sealed));
    // 16 bytes of the plaintext: a chance match in random ciphertext is below 1e-30.
    assert!(!sealed.windows(16).any(|w| w == &plain[12..28]));
    assert_eq!(c.place(), identity::Place::File(home.join(IDENTITY_FILE)));
    let recipient = std::fs::read_to_string(home.join(RECIPIENT_FILE)).unwrap();
    assert!(recipient.starts_with("age1"));
    // A new process: the identity must come from the file and the passphrase.
    forget(&home);
    let opened = c.open(&sealed, Path::new("x")).unwrap();
    assert_eq!(&opened[..], plain);
    // The identity file is no plaintext identity.
    let file = std::fs::read(home.join(IDENTITY_FILE)).unwrap();
    assert!(is_sealed(&file));
    assert!(!file.windows(15).any(|w| w == b"AGE-SECRET-KEY-"));
}

#[test]
fn a_wrong_passphrase_names_the_identity_file_and_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pass = dir.path().join("pass");
    write_private(&pass, "the right passphrase");
    let sealed = Crypt::new(&home, env_with(Some(&pass))).seal(b"k").unwrap();
    forget(&home);
    let wrong = dir.path().join("wrong");
    write_private(&wrong, "a wrong passphrase");
    let err = Crypt::new(&home, env_with(Some(&wrong)))
        .open(&sealed, Path::new("x"))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(IDENTITY_FILE), "{text}");
    assert!(
        !text.contains("wrong\n") && !text.contains("right"),
        "{text}"
    );
    assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT);
}

#[test]
fn without_keyring_or_passphrase_the_first_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let err = Crypt::new(&home, env_with(None)).seal(b"k").unwrap_err();
    assert!(err.to_string().contains(PASSPHRASE_FILE_ENV), "{err}");
    assert!(!home.join(RECIPIENT_FILE).exists());
}

#[test]
fn team_recipients_can_open_every_backup() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pass = dir.path().join("pass");
    write_private(&pass, "a team test passphrase");
    let team = age::x25519::Identity::generate();
    let c = Crypt::new(&home, env_with(Some(&pass))).with_team(&[team.to_public().to_string()]);
    let sealed = c.seal(b"the key").unwrap();
    let plain = age::decrypt(&team, &sealed).unwrap();
    assert_eq!(plain, b"the key");
}

#[test]
fn debug_shows_no_secret() {
    let c = Crypt::new(Path::new("/h"), Env::from_fn(|_| Some("s3cr3t".into())));
    assert!(!format!("{c:?}").contains("s3cr3t"));
}

#[test]
fn an_opened_identity_lives_as_long_as_the_operation_that_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pass = dir.path().join("pass");
    write_private(&pass, "correct horse\n");
    let c = Crypt::new(&home, env_with(Some(&pass)));
    let sealed = {
        let _op = hold();
        c.seal(b"k").unwrap()
    };
    // Outside every operation nothing is kept: opening reads the file each time.
    assert!(!c.is_open());
    assert_eq!(&c.open(&sealed, Path::new("x")).unwrap()[..], b"k");
    assert!(!c.is_open());
    // Within one, the identity opened once stays open, and is dropped at its end.
    let outer = hold();
    c.open(&sealed, Path::new("x")).unwrap();
    assert!(c.is_open());
    let inner = hold();
    drop(inner);
    assert!(c.is_open(), "another operation still holds it");
    drop(outer);
    assert!(!c.is_open());

    // A face that asks on its own: locked without the file, unlocked with the passphrase.
    let asks = Crypt::new(&home, env_with(None));
    assert!(asks.needs_passphrase());
    let op = hold();
    let wrong = asks
        .unlock(Zeroizing::new("wrong".to_string()))
        .unwrap_err();
    assert_eq!(wrong.exit_code(), crate::error::exit::BAD_INPUT);
    assert!(asks.needs_passphrase());
    asks.unlock(Zeroizing::new("correct horse".to_string()))
        .unwrap();
    assert!(!asks.needs_passphrase());
    assert_eq!(&asks.open(&sealed, Path::new("x")).unwrap()[..], b"k");
    drop(op);
    assert!(asks.needs_passphrase());
}
