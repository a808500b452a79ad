//! `scan --history`: keys in everything the repository's object store holds.
//!
//! Every blob is read once, straight from the store (`git cat-file --batch-all-objects
//! --unordered --batch`, streamed: memory stays at one blob), and searched for every key
//! keywarden knows in every form a program writes one ([`Needles`]: as is, JSON-escaped,
//! base64 and base64url at each alignment, URL-encoded, hex) and for string literals given
//! to `SECRET_KEY`-like names. Binary blobs are searched for the known keys too.
//!
//! Then one pass over the commits of every ref (`git log --all --raw -m`: merges
//! included, each against every parent; started at the first match, beside the rest of
//! the blob read, its output kept in an unlinked temporary file) finds, for each blob that matched, the oldest
//! commit that added it and the path it had; a ref that reaches that commit is named. A
//! blob that no commit reaches (a dropped stash, a rewritten branch, an object fetched
//! but never merged) is reported by its object id. Beside the blob read too, `git rev-list
//! --objects --all` checks that every object a ref needs is in the store. With `--since REV` only what is
//! reachable from a ref and not from REV is read: CI's incremental run.
//!
//! A git failure (a missing or corrupt object, a bad revision) is never taken for a clean
//! history: the scan says how far it got and fails.

use super::scan::{
    IN_DOTENV, IN_EXAMPLE, IN_SOURCE, is_example, key_lines, literals_on, looks_like_dotenv,
};
use super::walk::is_env_file;
use crate::error::{Error, Result};
use crate::finding::{Code, Finding};
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::redact::Needles;
use crate::ops::known::Known;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use zeroize::Zeroizing;

/// Blobs up to this size are searched for literals too (source files); larger ones only
/// for the known keys, as a stream.
const MAX_TEXT_BLOB: usize = 4 * 1024 * 1024;

/// What a history scan covered.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Coverage {
    pub blobs: u64,
    pub bytes: u64,
    pub commits: u64,
    /// The refs whose history was searched (`--all`: branches, tags, remotes, notes,
    /// stash, `refs/pull/*` where fetched).
    pub refs: u64,
    /// Set when git stopped before the end: what was searched is then not the history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// One blob that holds something: which keys (by fingerprint) and which literals.
#[derive(Default)]
struct Hit {
    keys: BTreeSet<Fingerprint>,
    /// Hard-coded literal findings (line only, no path yet) and their fingerprints, the
    /// blob read as source code.
    literals: Vec<(Finding, Fingerprint)>,
    /// The same, the blob read as a `.env` file (unquoted values are literals there).
    dotenv: Vec<(Finding, Fingerprint)>,
    /// Whether the text has the shape of a `.env` file (only `NAME=value` lines and
    /// comments): how a blob no commit names (an unreachable object) is read.
    dotenv_shaped: bool,
}

/// Where a matching blob came in: (its place in the walk, larger is older; the blob; the
/// commit and path, or none for an object no ref reaches; what it holds).
type Place<'a> = (u64, &'a String, Option<(&'a String, &'a String)>, &'a Hit);

pub struct History {
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
}

/// Searches the history of the repository at `root`.
pub fn scan_history(
    root: &Path,
    known: &[Known],
    pepper: &Pepper,
    since: Option<&str>,
    skip_literals: &BTreeSet<Fingerprint>,
    progress: &(dyn Fn(super::scan::Progress) + Sync),
) -> Result<History> {
    if !root.ancestors().any(|d| d.join(".git").exists()) {
        return Err(Error::Usage(
            "--history needs a git repository; this project has none".into(),
        ));
    }
    let keys: Vec<_> = known
        .iter()
        .map(|k| (k.key.duplicate(), k.fingerprint.to_string()))
        .collect();
    let needles = Needles::new(&keys);
    let by_shown: HashMap<String, &Known> = known
        .iter()
        .map(|k| (k.fingerprint.to_string(), k))
        .collect();
    let mut coverage = Coverage {
        refs: count_refs(root),
        ..Coverage::default()
    };

    // Whether every object every ref needs is in the store (a blob missing from it was
    // not searched, and the store alone cannot say so): checked beside the blob read.
    let connectivity = since.is_none().then(|| {
        let root = root.to_path_buf();
        std::thread::spawn(move || connected(&root))
    });
    // The commit walk that places matching blobs, started at the first match, beside the
    // rest of the blob read; a clean history never starts it.
    let mut walk: Option<std::result::Result<Walk, String>> = None;

    // 1. Every blob, once.
    let mut hits: HashMap<String, Hit> = HashMap::new();
    let (mut blobs_done, mut bytes_done) = (0u64, 0u64);
    let objects = read_objects(root, since, &mut coverage, |oid, size, blob| {
        blobs_done += 1;
        bytes_done += size;
        progress(super::scan::Progress {
            phase: "blobs",
            done: blobs_done,
            total: None,
            bytes: bytes_done,
        });
        let mut hit = Hit::default();
        let blob = match blob {
            Blob::Whole(blob) => blob,
            Blob::Large(r) => {
                needles.search_stream(r, &mut |_, shown| {
                    if let Some(k) = by_shown.get(shown) {
                        hit.keys.insert(k.fingerprint.clone());
                    }
                })?;
                &[][..]
            }
        };
        for shown in needles.found_in(blob) {
            if let Some(k) = by_shown.get(shown) {
                hit.keys.insert(k.fingerprint.clone());
            }
        }
        if !blob.is_empty()
            && !blob.iter().take(8192).any(|&b| b == 0)
            && let Ok(text) = std::str::from_utf8(blob)
        {
            // A blob has no name of its own: it is read both ways, and each path it was
            // committed at takes the reading its name calls for.
            let candidate = key_lines(text);
            if !candidate.is_empty() {
                let read = |dotenv| {
                    literals_on(text, &candidate, "", dotenv, pepper, known)
                        .into_iter()
                        .filter(|(_, fp)| !skip_literals.contains(fp))
                        .collect()
                };
                hit.literals = read(false);
                hit.dotenv = read(true);
                hit.dotenv_shaped = looks_like_dotenv(text);
            }
        }
        if !hit.keys.is_empty() || !hit.literals.is_empty() || !hit.dotenv.is_empty() {
            hits.insert(oid.to_string(), hit);
            if walk.is_none() {
                walk = Some(Walk::start(root, since));
            }
        }
        Ok(())
    });
    if let Err(e) = objects {
        coverage.incomplete.get_or_insert(e);
    }
    if let Some(check) = connectivity {
        let result = check
            .join()
            .unwrap_or_else(|_| Err("the connectivity check stopped".to_string()));
        if let Err(e) = result {
            coverage.incomplete.get_or_insert(e);
        }
    }
    // A shallow clone (CI's usual checkout) holds only the newest commits: what came
    // before is not here, and its oldest commit looks as if it added every file.
    if is_shallow(root) {
        coverage.incomplete.get_or_insert(
            "this clone is shallow: the commits before its oldest ones are not here, and that one is taken for the one that added every file (fetch the whole history: `git fetch --unshallow`)".to_string(),
        );
    }
    if hits.is_empty() {
        if let Some(Ok(w)) = walk {
            w.stop();
        }
        return Ok(History {
            findings: Vec::new(),
            coverage,
        });
    }

    // 2. Where each matching blob came in: the oldest commit that added it, and its path.
    // Per blob and path, the oldest commit that added it there (newest come first: the
    // last one seen), with its place in the walk (larger: older).
    let mut introduced: HashMap<String, BTreeMap<String, (String, u64)>> = HashMap::new();
    let walked = walk
        .unwrap_or_else(|| Walk::start(root, since))
        .and_then(|w| {
            w.each(&mut coverage, |commit, blob, path, age| {
                if hits.contains_key(blob) {
                    introduced
                        .entry(blob.to_string())
                        .or_default()
                        .insert(path.to_string(), (commit.to_string(), age));
                }
            })
        });
    if let Err(e) = walked {
        coverage.incomplete.get_or_insert(e);
    }

    // 3. A ref that reaches each introducing commit.
    let mut reach: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (commit, _) in introduced.values().flat_map(|paths| paths.values()) {
        reach
            .entry(commit.clone())
            .or_insert_with(|| ref_containing(root, commit));
    }

    // Every (blob, path, commit) a key or literal came in with, oldest first, so the first
    // one kept for a path and key is the commit that brought it there.
    let mut places: Vec<Place<'_>> = Vec::new();
    for (oid, hit) in &hits {
        match introduced.get(oid) {
            Some(paths) => {
                for (path, (commit, age)) in paths {
                    places.push((*age, oid, Some((commit, path)), hit));
                }
            }
            None => places.push((0, oid, None, hit)),
        }
    }
    places.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut findings = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (_, oid, at, hit) in places {
        let commit_of = at.map(|(c, _)| c.clone());
        let (place, path) = match at {
            Some((commit, path)) => {
                let short = &commit[..commit.len().min(12)];
                let via = match reach.get(commit).cloned().flatten() {
                    Some(r) => format!(" (reachable from {r})"),
                    None => String::new(),
                };
                (format!("commit {short}{via}"), Some(path.clone()))
            }
            None => (
                format!(
                    "object {} in the repository's store, reachable from no ref",
                    &oid[..oid.len().min(12)]
                ),
                None,
            ),
        };
        let path_shown = path.clone().unwrap_or_default();
        for fp in &hit.keys {
            let Some(k) = by_shown.get(fp.to_string().as_str()) else {
                continue;
            };
            if !seen.insert((path_shown.clone(), fp.to_string())) {
                continue;
            }
            let mut f = Finding::new(
                Code::KeyInHistory,
                k.severity,
                match &path {
                    Some(p) => format!("{place} added {} ({}) to {p}", k.what, k.fingerprint),
                    None => format!("{place} holds {} ({})", k.what, k.fingerprint),
                },
            )
            .with_fix("the key stays in every clone of the history: rotate it (rewriting history does not recall copies)");
            if let Some(p) = &path {
                f = f.at_target(p.clone());
            }
            if let Some(c) = &commit_of {
                f = f.at_commit(c.clone());
            }
            findings.push(f);
        }
        let file_name = path.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p));
        let in_example = file_name.is_some_and(is_example);
        let literals =
            if file_name.map_or(hit.dotenv_shaped, |n| is_env_file(std::ffi::OsStr::new(n))) {
                &hit.dotenv
            } else {
                &hit.literals
            };
        for (lit, fp) in literals {
            // Placeholders belong in example files (the tree scan skips them there too).
            if in_example && lit.severity == crate::finding::Severity::Medium {
                continue;
            }
            if !seen.insert((path_shown.clone(), fp.to_string())) {
                continue;
            }
            // A blob is read without a name: its example path says where it is.
            let message = if in_example {
                lit.message
                    .replace(IN_SOURCE, IN_EXAMPLE)
                    .replace(IN_DOTENV, IN_EXAMPLE)
            } else {
                lit.message.clone()
            };
            let mut f = Finding::new(Code::HardCoded, lit.severity, format!("{place}: {message}"))
            .with_fix("the literal stays in every clone of the history: if an app ever ran with it, rotate that app's key");
            if let Some(p) = &path {
                f = f.at_target(p.clone());
            }
            if let Some(line) = lit.line {
                f = f.at_line(line);
            }
            f.baseline_fingerprint = lit.baseline_fingerprint.clone();
            if let Some(c) = &commit_of {
                f = f.at_commit(c.clone());
            }
            findings.push(f);
        }
    }
    Ok(History { findings, coverage })
}

/// Whether every object reachable from a ref is in the store.
fn connected(root: &Path) -> std::result::Result<(), String> {
    let child = spawn(
        root,
        &["rev-list", "--objects", "--all", "--quiet"],
        Stdio::null(),
    )
    .map_err(|e| e.to_string())?;
    finish(child, "rev-list")
}

fn is_shallow(root: &Path) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--is-shallow-repository"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"true"))
}

fn count_refs(root: &Path) -> u64 {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["for-each-ref", "--format=x"])
        .stderr(Stdio::null())
        .output()
        .map(|o| o.stdout.iter().filter(|&&b| b == b'\n').count() as u64)
        .unwrap_or(0)
}

/// A running git, its stderr going to a file of its own: a git that warns a lot never
/// blocks on a full pipe while this process reads its stdout.
struct Git {
    child: Child,
    err: std::fs::File,
}

/// Starts git with stderr collected (its first lines name a failure). Paths are printed
/// as they are (`core.quotePath=false`) and a root commit's files count as added.
fn spawn(root: &Path, args: &[&str], stdin: Stdio) -> Result<Git> {
    spawn_to(root, args, stdin, Stdio::piped())
}

/// [`spawn`], its stdout going to `stdout`.
fn spawn_to(root: &Path, args: &[&str], stdin: Stdio, stdout: Stdio) -> Result<Git> {
    let err = tempfile::tempfile()
        .map_err(|e| Error::Failed(format!("cannot make a file for git's messages: {e}")))?;
    let child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotePath=false", "-c", "log.showRoot=true"])
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::from(
            err.try_clone()
                .map_err(|e| Error::Failed(format!("cannot run git: {e}")))?,
        ))
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot run git: {e}")))?;
    Ok(Git { child, err })
}

/// Waits for git; an error names what it printed.
fn finish(git: Git, what: &str) -> std::result::Result<(), String> {
    use std::io::Seek;
    let Git { mut child, mut err } = git;
    let status = child.wait();
    let mut text = String::new();
    let _ = err.seek(std::io::SeekFrom::Start(0));
    let _ = err.take(8192).read_to_string(&mut text);
    let err = text;
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!(
            "git {what} failed ({s}): {}",
            err.lines().next().unwrap_or("no message").trim()
        )),
        Err(e) => Err(format!("git {what}: {e}")),
    }
}

/// A blob as handed to the search: whole up to [`MAX_TEXT_BLOB`], a reader of its bytes
/// beyond (memory stays bounded whatever is committed).
enum Blob<'a> {
    Whole(&'a [u8]),
    Large(&'a mut dyn Read),
}

/// Streams every blob (or, with `since`, those reachable from a ref and not from it) to
/// `each` with its id and size, one at a time, in a buffer wiped between blobs.
fn read_objects(
    root: &Path,
    since: Option<&str>,
    coverage: &mut Coverage,
    mut each: impl FnMut(&str, u64, Blob<'_>) -> std::io::Result<()>,
) -> std::result::Result<(), String> {
    let mut lister = None;
    let mut cat = match since {
        None => spawn(
            root,
            &["cat-file", "--batch-all-objects", "--unordered", "--batch"],
            Stdio::null(),
        ),
        Some(rev) => {
            let not = format!("^{rev}");
            let mut list = spawn(
                root,
                &["rev-list", "--objects", "--all", &not, "--"],
                Stdio::null(),
            )
            .map_err(|e| e.to_string())?;
            let out = list.child.stdout.take().expect("piped");
            let cat = spawn(root, &["cat-file", "--batch"], Stdio::piped());
            if let Ok(mut cat) = cat {
                let mut input = cat.child.stdin.take().expect("piped");
                // rev-list prints `oid path`; cat-file wants the oid.
                let feeder = std::thread::spawn(move || {
                    for line in BufReader::new(out).lines() {
                        let Ok(line) = line else { break };
                        let oid = line.split(' ').next().unwrap_or("");
                        if writeln!(input, "{oid}").is_err() {
                            break;
                        }
                    }
                });
                lister = Some((list, feeder));
                Ok(cat)
            } else {
                cat
            }
        }
    }
    .map_err(|e| e.to_string())?;
    let stdout = cat.child.stdout.take().expect("piped");
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut header = Vec::new();
    let mut buf: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
    let mut problem = None;
    loop {
        header.clear();
        match reader.read_until(b'\n', &mut header) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                problem = Some(format!("reading git cat-file: {e}"));
                break;
            }
        }
        let line = String::from_utf8_lossy(&header);
        let mut parts = line.trim_end().split(' ');
        let (oid, kind, size) = (parts.next(), parts.next(), parts.next());
        let (Some(oid), Some(kind)) = (oid, kind) else {
            problem = Some("git cat-file printed a line it should not have".to_string());
            break;
        };
        if kind == "missing" || kind == "ambiguous" {
            problem.get_or_insert(format!("object {oid} is {kind} from the object store"));
            continue;
        }
        let Some(size) = size.and_then(|s| s.parse::<usize>().ok()) else {
            problem = Some(format!("git cat-file printed an unexpected line for {oid}"));
            break;
        };
        let oid = oid.to_string();
        if kind == "blob" && size > MAX_TEXT_BLOB {
            let mut part = reader.by_ref().take(size as u64);
            let searched = each(&oid, size as u64, Blob::Large(&mut part));
            if let Err(e) = searched.and_then(|()| {
                // Whatever the search left unread, so the next header is where it belongs.
                std::io::copy(&mut part, &mut std::io::sink())?;
                match part.limit() {
                    0 => Ok(()),
                    _ => Err(std::io::ErrorKind::UnexpectedEof.into()),
                }
            }) {
                problem = Some(format!("reading object {oid}: {e}"));
                break;
            }
            coverage.blobs += 1;
            coverage.bytes += size as u64;
        } else if kind == "blob" {
            buf.clear();
            if buf.capacity() < size {
                // A new buffer, the old one wiped as it drops: growing it in place would
                // leave its bytes behind in freed memory.
                buf = Zeroizing::new(Vec::with_capacity(size));
            }
            if let Err(e) = reader.by_ref().take(size as u64).read_to_end(&mut buf) {
                problem = Some(format!("reading object {oid}: {e}"));
                break;
            }
            coverage.blobs += 1;
            coverage.bytes += size as u64;
            if let Err(e) = each(&oid, size as u64, Blob::Whole(&buf)) {
                problem = Some(format!("reading object {oid}: {e}"));
                break;
            }
        } else if std::io::copy(&mut reader.by_ref().take(size as u64), &mut std::io::sink())
            .is_err()
        {
            problem = Some(format!("reading object {oid}"));
            break;
        }
        let mut nl = [0u8; 1];
        if reader.read_exact(&mut nl).is_err() {
            problem = Some(format!("git cat-file stopped after object {oid}"));
            break;
        }
    }
    drop(reader);
    let cat_end = finish(cat, "cat-file");
    if let Some((list, feeder)) = lister {
        let _ = feeder.join();
        finish(list, "rev-list").map_err(|e| with_count(e, coverage))?;
    }
    cat_end.map_err(|e| with_count(e, coverage))?;
    match problem {
        Some(p) => Err(with_count(p, coverage)),
        None => Ok(()),
    }
}

fn with_count(e: String, c: &Coverage) -> String {
    format!("{e} (after {} blobs)", c.blobs)
}

/// The commit walk, started while the blobs are read: `git log` writes to an unlinked
/// temporary file, read by [`Walk::each`] once the blobs are done.
struct Walk {
    log: Git,
    out: std::fs::File,
}

impl Walk {
    /// Starts `git log` over every commit of every ref (or those not reachable from
    /// `since`), newest first, with the blobs each adds or changes against each parent
    /// (merges included) and their paths.
    fn start(root: &Path, since: Option<&str>) -> std::result::Result<Walk, String> {
        let not = since.map(|r| format!("^{r}"));
        let mut args = vec![
            "log",
            "--all",
            "--raw",
            "-r",
            "-m",
            "--no-abbrev",
            "--no-renames",
            "--diff-filter=AMT",
            "--format=commit %H",
        ];
        if let Some(n) = &not {
            args.push(n);
        }
        args.push("--");
        let out = tempfile::tempfile()
            .map_err(|e| format!("cannot make a file for git log's output: {e}"))?;
        let to = out
            .try_clone()
            .map_err(|e| format!("cannot make a file for git log's output: {e}"))?;
        let log =
            spawn_to(root, &args, Stdio::null(), Stdio::from(to)).map_err(|e| e.to_string())?;
        Ok(Walk { log, out })
    }

    /// Not needed after all (nothing matched): stopped.
    fn stop(mut self) {
        let _ = self.log.child.kill();
        let _ = self.log.child.wait();
    }

    /// Waits for git, then calls `each(commit, blob, path, age)` for every blob a commit
    /// added or changed (`age`: its commit's place in the walk, larger is older).
    fn each(
        self,
        coverage: &mut Coverage,
        mut each: impl FnMut(&str, &str, &str, u64),
    ) -> std::result::Result<(), String> {
        use std::io::Seek;
        let Walk { log, mut out } = self;
        let ended = finish(log, "log");
        out.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| format!("reading git log's output: {e}"))?;
        let mut commit = String::new();
        for line in BufReader::with_capacity(1 << 16, out).split(b'\n') {
            let Ok(line) = line else { break };
            if let Some(c) = line.strip_prefix(b"commit ") {
                let c = String::from_utf8_lossy(c);
                // `-m` prints a merge once per parent: `commit H (from P)`.
                let c = c.split(' ').next().unwrap_or("").to_string();
                if c != commit {
                    coverage.commits += 1;
                    commit = c;
                }
            } else if line.starts_with(b":") {
                // `:old_mode new_mode old_oid new_oid status\tpath`
                let Some(tab) = line.iter().position(|&b| b == b'\t') else {
                    continue;
                };
                let meta = String::from_utf8_lossy(&line[..tab]);
                let path = unquote(&line[tab + 1..]);
                if let Some(new) = meta.split(' ').nth(3) {
                    each(&commit, new, &path, coverage.commits);
                }
            }
        }
        ended
    }
}

/// A path as `git log --raw` prints it: as is (`core.quotePath=false`), or C-quoted when
/// it holds `"`, `\\` or a control character.
fn unquote(raw: &[u8]) -> String {
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return String::from_utf8_lossy(raw).into_owned();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' || i + 1 >= inner.len() {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let next = inner[i + 1];
        let simple = match next {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        // Three octal digits: a byte of a name that is not printable ASCII.
        let octal = inner
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match octal {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A ref whose history holds `commit`, preferring branches, then tags, then the rest.
fn ref_containing(root: &Path, commit: &str) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["for-each-ref", "--format=%(refname)", "--contains", commit])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let refs: Vec<&str> = text.lines().collect();
    ["refs/heads/", "refs/tags/", "refs/remotes/", "refs/"]
        .iter()
        .find_map(|p| refs.iter().find(|r| r.starts_with(p)))
        .map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::unquote;

    #[test]
    fn quoted_paths_are_read_back() {
        assert_eq!(unquote(b"plain/caf\xc3\xa9.env"), "plain/caf\u{e9}.env");
        assert_eq!(unquote(b"\"a\\\"b.txt\""), "a\"b.txt");
        assert_eq!(unquote(b"\"caf\\303\\251.env\""), "caf\u{e9}.env");
        assert_eq!(unquote(b"\"tab\\there\""), "tab\there");
    }
}
