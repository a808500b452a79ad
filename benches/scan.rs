//! `scan` against its floor and its peers, side by side in one run. Prints figures,
//! asserts nothing.
//!
//! - tree: `keywarden scan --json` over a generated project (2,000 source files, 40 MB)
//!   vs `rg -uu -F -f LITERALS` over the same files, LITERALS being every form `scan`
//!   searches (each known key as is, JSON-escaped, base64 and base64url at every
//!   alignment, percent-encoded, hex) and the key names its literal search starts from;
//! - history: `keywarden scan --history --json` on a generated repository of 50,000
//!   commits (made with `git fast-import`, cached under `target/bench-scan-history`) vs
//!   `git cat-file --batch-all-objects --unordered --batch | rg -a -F -f LITERALS`, and
//!   `gitleaks git` where installed.
//!
//! Run: `cargo bench --bench scan` (`KEYWARDEN_BENCH_SCAN=tree` or `history` for one part;
//! ripgrep from apt `ripgrep`, installed by
//! `scripts/test`; rows whose tool is missing say so and are skipped).

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use keywarden::keys::encodings::{
    JsonStyle, base64_needles, hex_forms, json_escape, percent_forms,
};
use keywarden::keys::generate::{self, KeySpec};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ENVIRONMENTS: usize = 20;
const FILES: usize = 2000;
const FILE_BYTES: usize = 20_000;
const COMMITS: usize = 50_000;
const KEY_NAMES: &[&str] = &[
    "secret_key",
    "secretkey",
    "secret-key",
    "jwt_secret",
    "session_secret",
    "signing_key",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Source-like text: identifiers, calls, strings, comments; now and then a key name.
fn source_text(rng: &mut Rng, bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "def", "return", "import", "self", "config", "value", "request", "user", "items", "for",
        "in", "if", "else", "None", "True", "print", "format", "settings", "path", "data",
        "response", "json", "query", "cache", "session", "token", "model",
    ];
    let mut s = String::with_capacity(bytes + 100);
    while s.len() < bytes {
        let n = 3 + (rng.next() % 8) as usize;
        for k in 0..n {
            if k > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
        }
        match rng.next() % 200 {
            0 => s.push_str(" = os.environ[\"SECRET_KEY\"]"),
            1 => s.push_str(" = \"a string literal of some length\""),
            _ => {}
        }
        s.push('\n');
    }
    s
}

fn keys() -> Vec<String> {
    (0..ENVIRONMENTS)
        .map(|_| {
            let k = generate::generate_where(&KeySpec::default(), |k| {
                keywarden::targets::dotenv::check_portable(k.expose_secret()).is_ok()
            })
            .unwrap();
            k.expose_secret().to_string()
        })
        .collect()
}

fn manifest(root: &Path, keys: &[String]) {
    let mut m = String::from("version = 1\n");
    for (i, k) in keys.iter().enumerate() {
        std::fs::create_dir_all(root.join("envs")).unwrap();
        std::fs::write(
            root.join(format!("envs/e{i}.env")),
            format!("SECRET_KEY='{k}'\n"),
        )
        .unwrap();
        write!(
            m,
            "\n[[environments]]\nname = \"e{i}\"\ntargets = [{{ path = \"envs/e{i}.env\" }}]\n"
        )
        .unwrap();
    }
    std::fs::write(root.join("keywarden.toml"), m).unwrap();
}

/// Every form `scan` searches, one a line, for `rg -F -f`.
fn literals(keys: &[String], dir: &Path) -> PathBuf {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for k in keys {
        let b = k.as_bytes();
        out.push(b.to_vec());
        for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
            out.push(json_escape(k, style).to_vec());
        }
        out.extend(
            base64_needles(b, &STANDARD_NO_PAD)
                .iter()
                .map(|n| n.to_vec()),
        );
        out.extend(
            base64_needles(b, &URL_SAFE_NO_PAD)
                .iter()
                .map(|n| n.to_vec()),
        );
        out.extend(percent_forms(b).iter().map(|n| n.to_vec()));
        out.extend(hex_forms(b).iter().map(|n| n.to_vec()));
    }
    out.extend(KEY_NAMES.iter().map(|n| n.as_bytes().to_vec()));
    out.sort();
    out.dedup();
    let path = dir.join("literals.txt");
    let mut f = std::fs::File::create(&path).unwrap();
    for l in out {
        f.write_all(&l).unwrap();
        f.write_all(b"\n").unwrap();
    }
    path
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Median wall time of `runs` runs after one warm-up (`None` if a run could not start).
fn time(mut cmd: impl FnMut() -> Command, runs: usize) -> Option<Duration> {
    let mut times = Vec::new();
    for i in 0..=runs {
        let start = Instant::now();
        let st = cmd()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        // rg exits 1 when nothing matched, keywarden scan 0 or 1: both finished.
        st.code()?;
        if i > 0 {
            times.push(start.elapsed());
        }
    }
    times.sort();
    Some(times[times.len() / 2])
}

fn row(name: &str, t: Option<Duration>, bytes: u64) {
    match t {
        Some(t) => println!(
            "  {name:<52} median {:>9.2?}  {:>7.0} MB/s",
            t,
            bytes as f64 / 1e6 / t.as_secs_f64()
        ),
        None => println!("  {name:<52} skipped: not found"),
    }
}

fn ratio(a: Option<Duration>, b: Option<Duration>, what: &str) {
    if let (Some(a), Some(b)) = (a, b) {
        println!(
            "  keywarden / {what}: {:.2}x",
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
}

fn tree(bin: &str, home: &Path, keys: &[String], work: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    manifest(&root, keys);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut bytes = 0u64;
    for i in 0..FILES {
        let p = root.join(format!("src/pkg{}/mod{i}.py", i % 50));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let mut text = source_text(&mut rng, FILE_BYTES);
        if i % 500 == 7 {
            text.push_str(&format!("KEY = '{}'\n", keys[i % keys.len()]));
        }
        bytes += text.len() as u64;
        std::fs::write(p, text).unwrap();
    }
    let lits = literals(keys, work);
    println!(
        "tree: {FILES} files, {:.1} MB, {} keys",
        bytes as f64 / 1e6,
        keys.len()
    );
    let kw = time(
        || {
            let mut c = Command::new(bin);
            c.arg("--project").arg(&root).args(["scan", "--json"]);
            c.env("KEYWARDEN_HOME", home);
            c
        },
        5,
    );
    row("keywarden scan --json", kw, bytes);
    let rg = have("rg").then(|| {
        time(
            || {
                let mut c = Command::new("rg");
                c.args(["-uu", "-F", "-c", "-f"]).arg(&lits).arg(&root);
                c
            },
            5,
        )
    });
    row("rg -uu -F -f LITERALS (the floor)", rg.flatten(), bytes);
    ratio(kw, rg.flatten(), "rg");
}

/// The cached 50,000-commit repository (made once with `git fast-import`).
fn history_repo(keys: &[String]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-scan-history");
    if root.join(".git/bench-complete").exists() {
        return root;
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let ok = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&root)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "git init");
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut w = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for c in 0..COMMITS {
        let mut text = source_text(&mut rng, 1200);
        if c % 10_000 == 4321 {
            text.push_str(&format!("LEAK = '{}'\n", keys[c % keys.len()]));
        }
        let msg = format!("change {c}");
        writeln!(w, "commit refs/heads/main").unwrap();
        writeln!(
            w,
            "committer Bench <bench@example.invalid> {} +0000",
            1_600_000_000 + c
        )
        .unwrap();
        writeln!(w, "data {}\n{msg}", msg.len()).unwrap();
        writeln!(w, "M 100644 inline src/f{}.py", c % 2000).unwrap();
        writeln!(w, "data {}\n{text}", text.len()).unwrap();
    }
    drop(w);
    assert!(child.wait().unwrap().success(), "git fast-import");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "user.name=b", "-c", "user.email=b@example.invalid"])
            .args(args)
            .current_dir(&root)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(git(&["checkout", "-q", "-f", "main"]), "checkout");
    manifest(&root, keys);
    std::fs::write(root.join(".gitignore"), "envs/\n").unwrap();
    assert!(git(&["add", "keywarden.toml", ".gitignore"]));
    assert!(git(&["commit", "-qm", "manifest"]));
    assert!(git(&["gc", "-q"]), "gc");
    std::fs::write(root.join(".git/bench-complete"), "").unwrap();
    root
}

fn history(bin: &str, home: &Path, keys: &[String], work: &Path) {
    let root = history_repo(keys);
    // The keys are those of the cached repository's targets.
    let keys: Vec<String> = (0..ENVIRONMENTS)
        .map(|i| {
            let t = std::fs::read_to_string(root.join(format!("envs/e{i}.env"))).unwrap();
            t.trim()
                .trim_start_matches("SECRET_KEY='")
                .trim_end_matches('\'')
                .to_string()
        })
        .collect();
    let lits = literals(&keys, work);
    let bytes: u64 = Command::new("git")
        .args(["count-objects", "-v"])
        .current_dir(&root)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| {
                    l.strip_prefix("size-pack: ")
                        .map(|v| v.trim().parse::<u64>().ok())
                })
                .flatten()
        })
        .unwrap_or(0)
        * 1024;
    println!(
        "history: {COMMITS} commits, {:.1} MB packed, {} keys",
        bytes as f64 / 1e6,
        keys.len()
    );
    let kw = time(
        || {
            let mut c = Command::new(bin);
            c.arg("--project")
                .arg(&root)
                .args(["scan", "--history", "--json"]);
            c.env("KEYWARDEN_HOME", home);
            c
        },
        3,
    );
    row("keywarden scan --history --json", kw, bytes);
    let pipeline = format!(
        "git -C '{}' cat-file --batch-all-objects --unordered --batch | rg -a -F -c -f '{}'",
        root.display(),
        lits.display()
    );
    let rg = have("rg").then(|| {
        time(
            || {
                let mut c = Command::new("sh");
                c.args(["-c", &pipeline]);
                c
            },
            3,
        )
    });
    row(
        "cat-file --batch-all-objects | rg -a -F -f (floor)",
        rg.flatten(),
        bytes,
    );
    ratio(kw, rg.flatten(), "the cat-file | rg pipeline");
    let gl = have("gitleaks").then(|| {
        time(
            || {
                let mut c = Command::new("gitleaks");
                c.args(["git", "--no-banner", "--exit-code", "0"])
                    .arg(&root);
                c
            },
            1,
        )
    });
    row("gitleaks git (peer)", gl.flatten(), bytes);
    ratio(kw, gl.flatten(), "gitleaks");
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_keywarden");
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    if !have("rg") {
        println!("rg not found: the floor rows are skipped (apt-get install ripgrep)");
    }
    let keys = keys();
    // `KEYWARDEN_BENCH_SCAN=tree` or `=history` runs one part.
    let only = std::env::var("KEYWARDEN_BENCH_SCAN").unwrap_or_default();
    if only != "history" {
        tree(bin, home.path(), &keys, work.path());
    }
    if only != "tree" {
        history(bin, home.path(), &keys, work.path());
    }
}
