//! `status --json` over 1,000 environments × 3 targets (2 `.env`, 1 `secrets.toml` each).
//!
//! Prints figures, asserts nothing: the in-process cost of reading, fingerprinting and
//! analysing every target, the whole `keywarden status --json` process, and the Python
//! baseline (`status_reference.py`: python-dotenv + tomllib + HMAC) on the same project.
//!
//! Run: `cargo bench --bench status` (python-dotenv needed for the baseline).

use keywarden::context::{Clock, Context, Env};
use keywarden::keys::fingerprint::Pepper;
use keywarden::keys::generate::{self, KeySpec};
use keywarden::ops::status;
use keywarden::project::Project;
use keywarden::project::home::Home;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ENVIRONMENTS: usize = 1000;

fn build_project(root: &Path) {
    let mut manifest = String::from("version = 1\n");
    for i in 0..ENVIRONMENTS {
        let dir = root.join(format!("envs/e{i:04}"));
        std::fs::create_dir_all(dir.join(".streamlit")).unwrap();
        let k = generate::generate_where(&KeySpec::default(), |k| {
            keywarden::targets::dotenv::check_portable(k.expose_secret()).is_ok()
        })
        .unwrap();
        let k = k.expose_secret();
        std::fs::write(
            dir.join(".env"),
            format!("# e{i}\nDEBUG=0\nSECRET_KEY='{k}'\nDB_URL=postgres://db/e{i}\n"),
        )
        .unwrap();
        std::fs::write(dir.join("app.env"), format!("export SECRET_KEY='{k}'\n")).unwrap();
        std::fs::write(
            dir.join(".streamlit/secrets.toml"),
            format!("# secrets\nSECRET_KEY = '{k}'\n[server]\nport = 8501\n"),
        )
        .unwrap();
        write!(
            manifest,
            "\n[[environments]]\nname = \"e{i:04}\"\ntargets = [\n  {{ path = \"envs/e{i:04}/.env\" }},\n  {{ path = \"envs/e{i:04}/app.env\" }},\n  {{ path = \"envs/e{i:04}/.streamlit/secrets.toml\" }},\n]\n"
        )
        .unwrap();
    }
    std::fs::write(root.join("keywarden.toml"), manifest).unwrap();
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

fn time_process(cmd: &mut dyn FnMut() -> Command, runs: usize) -> Option<(Duration, Duration)> {
    let mut times = Vec::new();
    for i in 0..=runs {
        let start = Instant::now();
        let status = cmd()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        if i > 0 {
            times.push(start.elapsed());
        }
    }
    Some(median(times))
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    build_project(&root);
    println!("status benchmark: {ENVIRONMENTS} environments x 3 targets (2 .env, 1 secrets.toml)");

    // In process: open the project, load state, read + fingerprint + analyse, encode JSON.
    let pepper = Pepper::load_or_create(&Home::at(home.path().to_path_buf())).unwrap();
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let project = Project::open(
            Some(&root),
            Home::at(home.path().to_path_buf()),
            Context::new(Env::empty(), Clock::System),
        )
        .unwrap();
        let state = project.load_state().unwrap();
        let st = status::collect(&project, &state, &pepper).unwrap();
        let json = serde_json::to_string(&st).unwrap();
        std::hint::black_box(json);
        times.push(start.elapsed());
    }
    let (min, med) = median(times);
    println!(
        "  in process (collect + JSON)      min {:>8.2?}  median {:>8.2?}",
        min, med
    );

    let bin = env!("CARGO_BIN_EXE_keywarden");
    let mut kw = || {
        let mut c = Command::new(bin);
        c.args(["--project"])
            .arg(&root)
            .args(["status", "--json"])
            .env("KEYWARDEN_HOME", home.path());
        c
    };
    let ours = time_process(&mut kw, 10);
    match ours {
        Some((min, med)) => println!(
            "  keywarden status --json process   min {:>8.2?}  median {:>8.2?}",
            min, med
        ),
        None => println!("  keywarden status --json failed"),
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/status_reference.py");
    let mut py = || {
        let mut c = Command::new("python3");
        c.arg(script).arg(&root);
        c
    };
    match (time_process(&mut py, 5), ours) {
        (Some((min, med)), Some((_, ours_med))) => {
            println!(
                "  python-dotenv + tomllib script    min {:>8.2?}  median {:>8.2?}",
                min, med
            );
            println!(
                "  keywarden is {:.1}x faster (medians)",
                med.as_secs_f64() / ours_med.as_secs_f64()
            );
        }
        _ => println!(
            "  python baseline skipped: python3 with python-dotenv is needed (pip install python-dotenv)"
        ),
    }
}
