//! `status --json` over 1,000 environments × 3 targets (2 `.env`, 1 `secrets.toml` each).
//!
//! Prints figures, asserts nothing: the in-process cost of reading, fingerprinting and
//! analysing every target, the whole `keywarden status --json` process, and the Python
//! baseline (`status_reference.py`: python-dotenv + tomllib + HMAC) on the same project.
//!
//! At 1,000 and 10,000 environments, outside and inside a git repository (targets
//! ignored), with each process's peak memory.
//!
//! Run: `cargo bench --bench status` (python-dotenv needed for the baseline;
//! `KEYWARDEN_BENCH_PYTHON` names a python that has it).

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

/// The sizes measured: the goal's 1,000 environments, and 10,000 for linearity.
const SIZES: [usize; 2] = [1000, 10_000];

fn build_project(root: &Path, environments: usize) {
    let mut manifest = String::from("version = 1\n");
    for i in 0..environments {
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

/// In a git repository whose `.gitignore` ignores every target (as a project should).
fn make_git_repository(root: &Path) -> bool {
    std::fs::write(root.join(".gitignore"), "envs/\n").unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    git(&["init", "-q"])
        && git(&["add", "keywarden.toml", ".gitignore"])
        && git(&[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-qm",
            "manifest",
        ])
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

/// Runs `cmd` to the end; its wall time and peak resident memory (KiB, from `wait4`).
fn run_measured(mut cmd: Command) -> Option<(Duration, u64)> {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 reaps the child we spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    std::mem::forget(child);
    (r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
        .then_some((elapsed, usage.ru_maxrss as u64))
}

/// Min and median wall time, and the largest peak memory (KiB), over `runs` after a warm-up.
fn time_process(
    cmd: &mut dyn FnMut() -> Command,
    runs: usize,
) -> Option<(Duration, Duration, u64)> {
    let mut times = Vec::new();
    let mut peak = 0;
    for i in 0..=runs {
        let (t, rss) = run_measured(cmd())?;
        if i > 0 {
            times.push(t);
            peak = peak.max(rss);
        }
    }
    let (min, med) = median(times);
    Some((min, med, peak))
}

fn main() {
    for (k, &environments) in SIZES.iter().enumerate() {
        for git in [false, true] {
            bench(environments, git, k == 0 && !git);
        }
    }
}

fn bench(environments: usize, git: bool, in_process: bool) {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    build_project(&root, environments);
    if git && !make_git_repository(&root) {
        println!("status benchmark in a git repository skipped: git not found");
        return;
    }
    println!(
        "status benchmark: {environments} environments x 3 targets (2 .env, 1 secrets.toml){}",
        if git {
            ", in a git repository (targets ignored)"
        } else {
            ""
        }
    );

    // In process: open the project, load state, read + fingerprint + analyse, encode JSON.
    if in_process {
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
    }

    let runs = if environments > 1000 { 5 } else { 10 };
    let bin = env!("CARGO_BIN_EXE_keywarden");
    let mut kw = || {
        let mut c = Command::new(bin);
        c.args(["--project"])
            .arg(&root)
            .args(["status", "--json"])
            .env("KEYWARDEN_HOME", home.path());
        c
    };
    let ours = time_process(&mut kw, runs);
    match ours {
        Some((min, med, rss)) => println!(
            "  keywarden status --json process   min {:>8.2?}  median {:>8.2?}  peak {:>6.1} MB",
            min,
            med,
            rss as f64 / 1024.0
        ),
        None => println!("  keywarden status --json failed"),
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/status_reference.py");
    let python = std::env::var("KEYWARDEN_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut py = || {
        let mut c = Command::new(&python);
        c.arg(script).arg(&root);
        c
    };
    match (time_process(&mut py, runs.min(5)), ours) {
        (Some((min, med, rss)), Some((_, ours_med, _))) => {
            println!(
                "  python-dotenv + tomllib script    min {:>8.2?}  median {:>8.2?}  peak {:>6.1} MB",
                min,
                med,
                rss as f64 / 1024.0
            );
            println!(
                "  keywarden is {:.1}x faster (medians)",
                med.as_secs_f64() / ours_med.as_secs_f64()
            );
        }
        _ => println!(
            "  python baseline skipped: python3 with python-dotenv is needed (pip install python-dotenv, or KEYWARDEN_BENCH_PYTHON=a python that has it)"
        ),
    }
}
