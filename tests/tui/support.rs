//! Shared fixtures: the demo project (or a small one) with a fixed pepper and a frozen
//! clock, so every fingerprint, age and screen is the same on every run.

#![allow(dead_code)]

use keywarden::context::{Clock, Context, Env};
use keywarden::keys::fingerprint::Pepper;
use keywarden::project::Project;
use keywarden::project::home::Home;
use keywarden::tui::{Action, App, Session, Settings, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The frozen "now" of every test.
pub const NOW: &str = "2026-06-01T12:00:00Z";
/// The key of the small reveal fixture: made up for the tests, shown in one snapshot.
pub const FAKE_KEY: &str = "FAKE-snapshot-key-0000-not-a-secret-0000-shown-by-the-reveal-test";

pub fn now() -> jiff::Timestamp {
    NOW.parse().unwrap()
}

pub fn now_system() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(now().as_second() as u64)
}

/// A project in a temporary folder, with its own state home and a fixed pepper.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub root: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        // A fixed pepper: fingerprints are the same on every run.
        std::fs::write(home.path().join("pepper"), [7u8; 32]).unwrap();
        let root = dir.path().join(name);
        Fixture { dir, home, root }
    }

    /// The demo project, as `keywarden demo` makes it, made "now".
    pub fn demo() -> Fixture {
        let mut fx = Fixture::new(keywarden::project::demo::PROJECT_NAME);
        fx.root = keywarden::project::demo::create(&fx.root, now_system())
            .unwrap()
            .root;
        fx
    }

    /// A folder with nothing keywarden recognises.
    pub fn empty() -> Fixture {
        let fx = Fixture::new("empty-project");
        std::fs::create_dir_all(&fx.root).unwrap();
        fx
    }

    /// One environment whose key is [`FAKE_KEY`], for the reveal popup.
    pub fn fake_key() -> Fixture {
        let fx = Fixture::new("snapshot-app");
        std::fs::create_dir_all(&fx.root).unwrap();
        fx.write(
            "keywarden.toml",
            "version = 1\n\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\", format = \"dotenv\" }]\n",
        );
        fx.write(".env", &format!("DEBUG=true\nSECRET_KEY='{FAKE_KEY}'\n"));
        fx
    }

    pub fn write(&self, rel: &str, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(now_system() - Duration::from_secs(5 * 86_400))
            .unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// The file holding the backup identity's passphrase (beside the project, outside
    /// the state home), as `KEYWARDEN_PASSPHRASE_FILE` names it.
    pub fn passphrase_file(&self) -> PathBuf {
        let p = self.dir.path().join("passphrase");
        if !p.exists() {
            std::fs::write(&p, "tui test passphrase\n").unwrap();
            // keywarden refuses a passphrase file others can read.
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        p
    }

    /// The environment the core sees: only the backup identity's passphrase file, no
    /// OS keyring, and (debug builds) a cheap scrypt.
    pub fn env(&self) -> Env {
        let pass = self.passphrase_file().into_os_string();
        Env::from_fn(move |n| match n {
            "KEYWARDEN_PASSPHRASE_FILE" => Some(pass.clone()),
            "KEYWARDEN_KEYRING" => Some("off".into()),
            "KEYWARDEN_TEST_SCRYPT_LOG_N" => Some("4".into()),
            _ => None,
        })
    }

    pub fn session(&self) -> Session {
        let home = Home::at(self.home.path().to_path_buf());
        Session {
            pepper: Pepper::load_or_create(&home).unwrap(),
            project: Project::open(
                Some(&self.root),
                home,
                Context::new(self.env(), Clock::Fixed(now())),
            )
            .unwrap(),
        }
    }

    /// The session of a user with no `KEYWARDEN_PASSPHRASE_FILE`: reading a backup needs
    /// the passphrase typed (the identity must exist already: make it with a session
    /// from [`Fixture::session`] first).
    pub fn session_asking(&self) -> Session {
        let home = Home::at(self.home.path().to_path_buf());
        let env = Env::from_fn(|n| match n {
            "KEYWARDEN_KEYRING" => Some("off".into()),
            _ => None,
        });
        Session {
            pepper: Pepper::load_or_create(&home).unwrap(),
            project: Project::open(
                Some(&self.root),
                home,
                Context::new(env, Clock::Fixed(now())),
            )
            .unwrap(),
        }
    }

    pub fn app_with(&self, theme: Theme) -> App {
        App::new(
            self.session(),
            Settings {
                theme,
                clear_after: Duration::from_secs(30),
            },
        )
        .unwrap()
    }

    pub fn app(&self) -> App {
        self.app_with(Theme::colored())
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Draws one frame of `app` at `width` × `height`.
pub fn terminal(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    t
}

/// The frame as text, one quoted line per row.
pub fn screen(app: &App, width: u16, height: u16) -> String {
    terminal(app, width, height).backend().to_string()
}

/// Presses a key as the terminal would send it.
pub fn press(app: &mut App, code: KeyCode) {
    press_with(app, code, KeyModifiers::NONE);
}

pub fn press_with(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
    if let Some(action) = app.action_for_key(&KeyEvent::new(code, modifiers)) {
        app.update(action);
    }
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Selects the environment named `name` with the arrow keys.
pub fn select(app: &mut App, name: &str) {
    let index = app
        .status()
        .environments
        .iter()
        .position(|e| e.name == name)
        .unwrap_or_else(|| panic!("no environment {name}"));
    press(app, KeyCode::Home);
    for _ in 0..index {
        press(app, KeyCode::Down);
    }
    assert_eq!(app.selected_env().unwrap().name, name);
}

pub fn tick(app: &mut App, at: std::time::Instant) {
    app.update(Action::Tick(at));
}

/// Whether `tool` can be run; when not, says so loudly, and fails the test under CI.
pub fn require(tool: &str, why: &str) -> bool {
    crate::common::require(tool, why)
}

/// The `keywarden` binary built for these tests.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keywarden"))
}

/// Runs the `keywarden` binary on `fx`'s project; panics with its stderr on failure.
pub fn keywarden(fx: &Fixture, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .arg("--project")
        .arg(&fx.root)
        .args(args)
        .env("KEYWARDEN_HOME", fx.home.path())
        .env("KEYWARDEN_PASSPHRASE_FILE", fx.passphrase_file())
        .env("KEYWARDEN_KEYRING", "off")
        .env("KEYWARDEN_TEST_SCRYPT_LOG_N", "4")
        .env_remove("SECRET_KEY")
        .output()
        .unwrap()
}

/// `keywarden audit --json`: every event of the project's audit trail, oldest first.
pub fn audit_events(fx: &Fixture) -> Vec<serde_json::Value> {
    let out = keywarden(fx, &["audit", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Breaks the audit trail so that no event can be appended (a last line with no newline,
/// as a crash mid-write leaves it).
pub fn damage_audit(fx: &Fixture) {
    let path = fx.session().project.audit().path().to_path_buf();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"{\"half\": ").unwrap();
}

/// How long a job may take in a test (restart and verify commands included).
pub const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// The fingerprint the app shows for `env` (none when its targets disagree).
pub fn fingerprint_of(app: &App, env: &str) -> Option<String> {
    app.status()
        .environments
        .iter()
        .find(|e| e.name == env)
        .and_then(|e| e.fingerprint.as_ref().map(ToString::to_string))
}

/// The project's state folder.
pub fn state_dir(fx: &Fixture) -> PathBuf {
    fx.session().project.state_dir()
}

impl Fixture {
    /// One environment, `staging`, whose key is [`FAKE_KEY`] and whose `verify` fails
    /// (prints `unhealthy`, exits 3): a rotation stops there.
    pub fn failing_verify() -> Fixture {
        let fx = Fixture::new("failing-app");
        std::fs::create_dir_all(&fx.root).unwrap();
        fx.write(
            "keywarden.toml",
            "version = 1\n\n[[environments]]\nname = \"staging\"\nrestart = \"echo restarted\"\nverify = \"echo unhealthy; exit 3\"\ntargets = [{ path = \".env\", format = \"dotenv\" }]\n",
        );
        fx.write(".env", &format!("DEBUG=true\nSECRET_KEY='{FAKE_KEY}'\n"));
        fx
    }
}

/// Every key `fx` has used: what its targets hold now, every key in its backup store (old,
/// retired, revoked, a rotation's new key), and the made-up [`FAKE_KEY`].
pub fn keys_used(fx: &Fixture) -> Vec<String> {
    use keywarden::project::manifest::Target;
    use keywarden::records::backup::{BackupStore, Kind};
    let project = fx.session().project;
    let mut keys: Vec<String> = project
        .manifest
        .environments
        .iter()
        .flat_map(|e| e.targets.iter().chain(e.fallback.iter()))
        .filter(|t| matches!(t, Target::File { .. }))
        .filter_map(|t| {
            keywarden::targets::read(&project.root, t, &|_| None)
                .key()
                .map(|k| k.expose_secret().to_string())
        })
        .collect();
    let store = BackupStore::of(&project);
    for m in store.list() {
        if m.kind == Kind::Key
            && let Ok(k) = store.key(&m.id)
        {
            keys.push(k.expose_secret().to_string());
        }
    }
    keys.push(FAKE_KEY.to_string());
    keys.sort();
    keys.dedup();
    keys
}

/// What to look for: enough of a key to be sure it is the key (the demo's project is
/// `baguette-metro`, a key is `baguette-metro-2024`), little enough to catch a key cut by a
/// line end.
pub fn probe(key: &str) -> &str {
    if key.len() < 24 { key } else { &key[..16] }
}

/// Panics if `frame` shows any of `keys`.
pub fn assert_no_key(frame: &str, keys: &[String]) {
    for key in keys {
        assert!(
            !frame.contains(probe(key)),
            "a key ({} characters) is on screen:\n{frame}",
            key.len()
        );
    }
}

/// What a keywarden process started by a test needs for its backups' identity, for the
/// state home `home`: a passphrase file beside it (outside it), no OS keyring, a cheap
/// scrypt. As `(name, value)` pairs, for `Command::envs` and `Tmux::start`.
pub fn backup_env(home: &Path) -> Vec<(&'static str, PathBuf)> {
    let pass = home.with_file_name(format!(
        "{}.passphrase",
        home.file_name().unwrap().to_string_lossy()
    ));
    if !pass.exists() {
        std::fs::write(&pass, "tui test passphrase\n").unwrap();
        // keywarden refuses a passphrase file others can read.
        std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }
    vec![
        ("KEYWARDEN_PASSPHRASE_FILE", pass),
        ("KEYWARDEN_KEYRING", "off".into()),
        ("KEYWARDEN_TEST_SCRYPT_LOG_N", "4".into()),
    ]
}

/// `[("KEYWARDEN_HOME", home)]` and [`backup_env`], for `Tmux::start`.
pub fn tmux_env(home: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut env = vec![("KEYWARDEN_HOME", home.to_path_buf())];
    env.extend(backup_env(home));
    env
}
