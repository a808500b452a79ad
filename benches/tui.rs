//! The TUI's speed: time to the first frame on the demo project (open the project, read
//! its status, build the app, draw), and one frame with 1,000 environments.
//!
//! Prints figures, asserts nothing. Goals: first frame within 30 ms, a 1,000-environment
//! frame within 16 ms (one 60 Hz tick). Run: `cargo bench --bench tui`.

use keywarden::context::{Clock, Context, Env};
use keywarden::keys::fingerprint::Pepper;
use keywarden::keys::generate::{self, KeySpec};
use keywarden::project::Project;
use keywarden::project::home::Home;
use keywarden::tui::{Action, App, Session, Settings, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const ENVIRONMENTS: usize = 1000;

fn session(root: &Path, home: &Path) -> Session {
    let home = Home::at(home.to_path_buf());
    Session {
        pepper: Pepper::load_or_create(&home).unwrap(),
        project: Project::open(Some(root), home, Context::new(Env::empty(), Clock::System))
            .unwrap(),
    }
}

fn settings() -> Settings {
    Settings {
        theme: Theme::colored(),
        clear_after: Duration::from_secs(30),
    }
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2], v[v.len() * 9 / 10])
}

/// 1,000 environments × 2 targets (a `.env` and a `secrets.toml`), each with its own
/// random key.
fn big_project(root: &Path) {
    let mut manifest = String::from("version = 1\n");
    for i in 0..ENVIRONMENTS {
        let dir = root.join(format!("envs/e{i:04}"));
        std::fs::create_dir_all(&dir).unwrap();
        let key = generate::generate_where(&KeySpec::default(), |k| {
            keywarden::targets::dotenv::check_portable(k.expose_secret()).is_ok()
        })
        .unwrap();
        let key = key.expose_secret();
        std::fs::write(dir.join(".env"), format!("DEBUG=0\nSECRET_KEY='{key}'\n")).unwrap();
        std::fs::write(dir.join("secrets.toml"), format!("SECRET_KEY = '{key}'\n")).unwrap();
        write!(
            manifest,
            "\n[[environments]]\nname = \"e{i:04}\"\ntargets = [{{ path = \"envs/e{i:04}/.env\" }}, {{ path = \"envs/e{i:04}/secrets.toml\" }}]\n"
        )
        .unwrap();
    }
    std::fs::write(root.join("keywarden.toml"), manifest).unwrap();
}

fn main() {
    let home = tempfile::tempdir().unwrap();
    let demo_dir = tempfile::tempdir().unwrap();
    let demo = keywarden::project::demo::create(&demo_dir.path().join("demo"), SystemTime::now())
        .unwrap()
        .root;
    println!("tui benchmark (release build)");

    // First frame: everything from opening the project to the first drawn buffer.
    for (w, h) in [(80, 24), (120, 40)] {
        let mut times = Vec::new();
        for _ in 0..30 {
            let start = Instant::now();
            let app = App::new(session(&demo, home.path()), settings()).unwrap();
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| f.render_widget(&app, f.area())).unwrap();
            times.push(start.elapsed());
        }
        let (min, med, p90) = stats(times);
        println!(
            "  first frame, demo project, {w}x{h}:        min {min:>9.2?}  median {med:>9.2?}  p90 {p90:>9.2?}  (goal 30 ms)"
        );
    }

    let big = tempfile::tempdir().unwrap();
    big_project(big.path());
    let start = Instant::now();
    let mut app = App::new(session(big.path(), home.path()), settings()).unwrap();
    println!(
        "  status of {ENVIRONMENTS} environments (once, at start):  {:>9.2?}",
        start.elapsed()
    );
    for (w, h) in [(80, 24), (200, 60)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut times = Vec::new();
        for i in 0..200 {
            // Move through the list, as a user holding ↓ would.
            if let Some(a) = app.action_for_key(&KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)) {
                app.update(a);
            }
            app.update(Action::Tick(Instant::now()));
            let start = Instant::now();
            t.draw(|f| f.render_widget(&app, f.area())).unwrap();
            if i >= 10 {
                times.push(start.elapsed());
            }
        }
        let (min, med, p90) = stats(times);
        println!(
            "  one frame, {ENVIRONMENTS} environments, {w}x{h}:   min {min:>9.2?}  median {med:>9.2?}  p90 {p90:>9.2?}  (goal 16 ms)"
        );
    }
}
