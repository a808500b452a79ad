//! `scan`: keys where they do not belong — in the project's source files and, with
//! `--history`, in its git history.
//!
//! Two searches, neither of which ever prints a key:
//! - every key keywarden knows (held by a target now, or kept in the backup store: retired
//!   and revoked keys) is looked for, byte for byte, in every file of the project that is
//!   not a target (tracked and untracked files git does not ignore; without git, every file
//!   outside build and dependency folders);
//! - a `SECRET_KEY`-like name given a string literal in source code
//!   (`SECRET_KEY = "…"`, `os.getenv("SECRET_KEY", "…")`, `secret_key: '…'`) is a
//!   hard-coded key, whatever its value; it is named by fingerprint and judged for strength.

use super::history::{Coverage, scan_history};
use crate::error::Result;
use crate::finding::{Code, Finding, Severity};
use crate::fsio;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::redact::Needles;
use crate::keys::sampled::Sampled;
use crate::keys::secret::Secret;
use crate::keys::strength::{self, Label};
use crate::ops::known::{Known, known};
use crate::project::Project;
use crate::project::manifest::Target;
use crate::records::backup::{BackupStore, Kind as BackupKind};
use std::collections::BTreeSet;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Files up to this size are read whole and searched for literals too (source code);
/// larger ones are streamed and searched for the known keys only, in bounded memory.
const MAX_FILE: u64 = 4 * 1024 * 1024;
/// Literals shorter than this are not keys (flags, names, empty defaults).
pub(super) const MIN_LITERAL: usize = 8;
/// Names that hold an application's signing key.
const KEY_NAMES: &[&str] = &[
    "secret_key",
    "secretkey",
    "secret-key",
    "jwt_secret",
    "session_secret",
    "signing_key",
];

/// What `scan` found, what it could not search for, and with `--history`, how much of
/// the history it read.
#[derive(Debug)]
pub struct Report {
    /// Sorted by file and line.
    pub findings: Vec<Finding>,
    /// Keys kept in encrypted backups that were not searched for, if any.
    pub not_searched: Option<NotSearched>,
    /// Files that could not be read (permission, I/O error): nothing is known of them.
    pub unread: Vec<Unread>,
    pub history: Option<Coverage>,
}

/// A file of the tree a scan could not read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unread {
    pub path: String,
    pub error: String,
}

/// Retired and revoked keys a scan left out: they are in encrypted backups, and the
/// backups' identity cannot be opened without asking (a scan never asks).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotSearched {
    /// Distinct keys (by fingerprint) kept only in key backups.
    pub keys: usize,
    /// Why they were not read.
    pub why: String,
    /// How to have them searched for.
    pub include: String,
}

impl NotSearched {
    /// One sentence for stderr.
    pub fn message(&self) -> String {
        format!(
            "{} retired or revoked key(s) kept in encrypted backups were not searched for: {}. To include them: {}",
            self.keys, self.why, self.include
        )
    }
}

/// Which files to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// The work tree's files that are not targets.
    Tree,
    /// The content staged for the next commit (`git diff --cached`), targets included.
    Staged,
}

/// How far back to search.
#[derive(Debug, Clone, Copy)]
pub enum History<'a> {
    /// The files only.
    No,
    /// Every object of the repository.
    All,
    /// What every ref reaches and this revision does not.
    Since(&'a str),
}

/// One file's findings and the fingerprints of its literals.
type FileHits = (Vec<Finding>, Vec<Fingerprint>);

/// What became of one file of the tree.
enum Searched {
    /// Read to the end: its findings and its size.
    Read(FileHits, u64),
    /// Gone, or no longer a regular file, since it was listed.
    Skipped,
    /// Not read to the end: what was found in the part read, and why.
    Unread(FileHits, Unread),
}

/// How far a scan has got, given to a [`scan_with_progress`] callback as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// `files` while the tree is searched, `blobs` while the history is.
    pub phase: &'static str,
    /// Files or blobs searched so far in this phase.
    pub done: u64,
    /// Of how many, when known (the tree's file count; not the history's).
    pub total: Option<u64>,
    /// Bytes read so far in this phase.
    pub bytes: u64,
}

/// [`scan_with_progress`] with no progress reports.
pub fn scan(
    project: &Project,
    pepper: &Pepper,
    files: Files,
    history: History<'_>,
) -> Result<Report> {
    scan_with_progress(project, pepper, files, history, &|_| {})
}

/// Scans the project; findings are sorted by file and line. `progress` is called after
/// each file or blob (from several threads at once: it must be cheap, and throttle its
/// own drawing). Retired and revoked keys are
/// read from the backups only when their identity opens without asking (already open, in
/// the OS keyring, or with `KEYWARDEN_PASSPHRASE_FILE`); otherwise they are left out and
/// [`Report::not_searched`] says so, never silently.
pub fn scan_with_progress(
    project: &Project,
    pepper: &Pepper,
    files: Files,
    history: History<'_>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report> {
    let store = BackupStore::of(project);
    let crypt = store.crypt();
    let read_backups = crypt.opens_without_asking();
    let (mut known, mut findings) = known(project, pepper, read_backups)?;
    let not_searched = if read_backups {
        None
    } else {
        let mut left_out: Vec<Fingerprint> = Vec::new();
        for fp in store
            .list()
            .into_iter()
            .filter(|m| m.kind == BackupKind::Key)
            .filter_map(|m| m.fingerprint)
        {
            if !known.iter().any(|k| k.fingerprint == fp) && !left_out.contains(&fp) {
                left_out.push(fp);
            }
        }
        (!left_out.is_empty()).then(|| {
            let why = match crypt.place() {
                crate::records::crypt::identity::Place::File(file) => format!(
                    "the backups' identity, {}, is locked by a passphrase, and scan never asks for it",
                    file.display()
                ),
                _ => "this installation holds no identity that opens its backups".to_string(),
            };
            NotSearched {
                keys: left_out.len(),
                why,
                include: format!(
                    "set {} to a private file holding the passphrase (or keep the identity in the OS keyring), then run scan again",
                    crate::records::crypt::PASSPHRASE_FILE_ENV
                ),
            }
        })
    };
    // Keys too short or too guessable to search for would match ordinary text: a target
    // holding `changethis` does not make every `changethis` in the tree a leak (status
    // reports the placeholder in the target itself).
    known.retain(searchable);
    let keys: Vec<_> = known
        .iter()
        .map(|k| (k.key.duplicate(), k.fingerprint.to_string()))
        .collect();
    let needles = Needles::new(&keys);
    let mut in_tree: BTreeSet<Fingerprint> = BTreeSet::new();
    let search = |shown: &str, r: &mut dyn std::io::Read, size: Option<u64>| {
        search_reader(shown, r, size, &needles, &known, pepper)
    };
    let mut unread = Vec::new();
    match files {
        Files::Tree => {
            let skip = target_files(project);
            let walked = super::walk::project_files(&project.root);
            // A folder the walk could not open (or git's list of tracked files, when git
            // failed) hides whatever is in it: named like a file that could not be read.
            unread.extend(
                walked
                    .errors
                    .into_iter()
                    .map(|(path, error)| Unread { path, error }),
            );
            let files: Vec<PathBuf> = walked
                .files
                .into_iter()
                .filter(|rel| !skip.contains(rel))
                .collect();
            let total = files.len() as u64;
            let done = std::sync::atomic::AtomicU64::new(0);
            let read = std::sync::atomic::AtomicU64::new(0);
            let tick = |bytes: u64| {
                use std::sync::atomic::Ordering::Relaxed;
                progress(Progress {
                    phase: "files",
                    done: done.fetch_add(1, Relaxed) + 1,
                    total: Some(total),
                    bytes: read.fetch_add(bytes, Relaxed) + bytes,
                });
            };
            let read_and_search_one = |rel: &PathBuf| -> Searched {
                let path = project.root.join(rel);
                let shown = rel.display().to_string();
                let unread = |e: std::io::Error| Unread {
                    path: shown.clone(),
                    error: e.to_string(),
                };
                // Opened without blocking, never through a symlink, and checked on the
                // handle: a FIFO or device (or a file swapped for one) is skipped, never
                // waited on or read without end. Read up to the size it had when opened:
                // a file growing while it is read (a busy log) is searched as it was then,
                // not followed without end. Past the part searched for literals, a
                // sparse file's holes are skipped, not read as gigabytes of zeros.
                match fsio::open_regular(&path) {
                    Ok(Some((file, size))) => {
                        let mut capped = fsio::sparse::SkipHoles::new(file, size, MAX_FILE + 1);
                        match search(&shown, &mut capped, Some(size)) {
                            (hits, n, None) => Searched::Read(hits, n),
                            (hits, _, Some(e)) => Searched::Unread(hits, unread(e)),
                        }
                    }
                    Ok(None) => Searched::Skipped,
                    Err(e) => Searched::Unread(FileHits::default(), unread(e)),
                }
            };
            let read_and_search = |rel: &PathBuf| -> Option<Searched> {
                let r = read_and_search_one(rel);
                tick(match &r {
                    Searched::Read(_, n) => *n,
                    _ => 0,
                });
                Some(r)
            };
            for r in parallel_filter_map(&files, read_and_search) {
                match r {
                    Searched::Read((f, fps), _) => {
                        findings.extend(f);
                        in_tree.extend(fps);
                    }
                    Searched::Skipped => {}
                    Searched::Unread((f, fps), u) => {
                        findings.extend(f);
                        in_tree.extend(fps);
                        unread.push(u);
                    }
                }
            }
        }
        Files::Staged => {
            // What the commit would hold: the index's content, targets included (a target
            // staged for commit is the leak itself).
            // A staged file git cannot hand over whole is named as unread and fails the
            // gate: it never passes what it did not read, and what the other files (or
            // that one's first bytes) hold is still reported.
            let failed = super::git::staged(&project.root, &mut |rel, blob| {
                let ((f, fps), _, error) = search(rel, blob, None);
                findings.extend(f);
                in_tree.extend(fps);
                error.map_or(Ok(()), Err)
            })?;
            unread.extend(
                failed
                    .into_iter()
                    .map(|(path, error)| Unread { path, error }),
            );
        }
    }
    let coverage = match history {
        History::No => None,
        History::All | History::Since(_) => {
            let since = match history {
                History::Since(r) => Some(r),
                _ => None,
            };
            let h = scan_history(&project.root, &known, pepper, since, &in_tree, progress)?;
            findings.extend(h.findings);
            Some(h.coverage)
        }
    };
    findings.sort_by(|a, b| {
        a.target
            .cmp(&b.target)
            .then(a.line.cmp(&b.line))
            .then(b.severity.cmp(&a.severity))
    });
    Ok(Report {
        findings,
        not_searched,
        unread,
        history: coverage,
    })
}

/// Reads `r` to the end and searches it: whole when it is at most [`MAX_FILE`] (the known
/// keys and the literals), streamed beyond that (the known keys only, in any encoding, in
/// one chunk of memory at a time: a log or dump of any size is searched to its end).
/// `size` is what the file's metadata says, when known: the buffer is made that large at
/// once, so no copy of the file's bytes is left behind, unwiped, by a buffer grown and
/// moved (the caller caps the reader at it).
///
/// Returns the findings, the bytes read, and the error that stopped the read, if one did:
/// what was read before it is still searched for the known keys, so an exposure found is
/// never dropped with the file.
fn search_reader(
    shown: &str,
    r: &mut dyn std::io::Read,
    size: Option<u64>,
    needles: &Needles,
    known: &[Known],
    pepper: &Pepper,
) -> (FileHits, u64, Option<std::io::Error>) {
    use std::io::Read as _;
    let mut keys = KeyFindings::default();
    let mut on_key = |line: usize, fp: &str| {
        if let Some(k) = known.iter().find(|k| k.fingerprint.as_str() == fp) {
            keys.push(k, shown, line);
        }
    };
    let (head, error) = read_head(r, MAX_FILE + 1, size);
    if let Some(e) = error {
        let n = head.len() as u64;
        let _ = needles.search_stream(&mut &head[..], &mut on_key);
        return ((keys.finish(shown), Vec::new()), n, Some(e));
    }
    if head.len() as u64 <= MAX_FILE {
        let n = head.len() as u64;
        return (search_file(shown, &head, needles, known, pepper), n, None);
    }
    let mut rest = std::io::Cursor::new(&head[..]).chain(r);
    let read = needles.search_stream(&mut rest, &mut on_key);
    let (n, error) = match read {
        Ok(n) => (n, None),
        Err(e) => (head.len() as u64, Some(e)),
    };
    ((keys.finish(shown), Vec::new()), n, error)
}

/// The known keys found in one file: each copy with its line up to
/// [`MAX_KEY_FINDINGS`], then a count (a log printing the key on every line is one
/// finding per copy up to there, not millions).
#[derive(Default)]
struct KeyFindings {
    findings: Vec<Finding>,
    more: u64,
    worst: Option<Severity>,
}

/// Copies of known keys listed one by one per file.
const MAX_KEY_FINDINGS: usize = 1000;

impl KeyFindings {
    fn push(&mut self, k: &Known, shown: &str, line: usize) {
        if self.findings.len() < MAX_KEY_FINDINGS {
            self.findings.push(key_finding(k, shown, line));
        } else {
            self.more += 1;
            self.worst = self.worst.max(Some(k.severity));
        }
    }

    fn finish(mut self, shown: &str) -> Vec<Finding> {
        if let Some(severity) = self.worst {
            self.findings.push(
                Finding::new(
                    Code::KeyInFile,
                    severity,
                    format!(
                        "holds {} more copies of known keys in plain text (the first {MAX_KEY_FINDINGS} are listed with their lines)",
                        self.more
                    ),
                )
                .at_target(shown.to_string())
                .with_fix("remove them from the file, then rotate the keys: they have been exposed"),
            );
        }
        self.findings
    }
}

/// Up to `limit` bytes of `r`, in a buffer that is never grown in place: sized from
/// `size` when known, else started small and, when full, moved to one twice as large (the
/// old one wiped as it drops), so a small staged file costs a small buffer and no copy of
/// the bytes is left behind unwiped. With the error that stopped the read, if one did.
fn read_head(
    r: &mut dyn std::io::Read,
    limit: u64,
    size: Option<u64>,
) -> (Zeroizing<Vec<u8>>, Option<std::io::Error>) {
    let mut capacity = size.map_or(64 * 1024, |s| s.saturating_add(1)).min(limit) as usize;
    let mut buf: Zeroizing<Vec<u8>> = Zeroizing::new(vec![0; capacity]);
    let mut len = 0;
    loop {
        if len == capacity {
            if capacity as u64 >= limit {
                break;
            }
            capacity = (capacity * 2).min(limit as usize);
            let mut larger: Zeroizing<Vec<u8>> = Zeroizing::new(vec![0; capacity]);
            larger[..len].copy_from_slice(&buf[..len]);
            buf = larger;
        }
        match r.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(len);
                return (buf, Some(e));
            }
        }
    }
    buf.truncate(len);
    (buf, None)
}

/// A known key found in a file, at `line`.
fn key_finding(k: &Known, shown: &str, line: usize) -> Finding {
    Finding::new(
        Code::KeyInFile,
        k.severity,
        format!("holds {} ({}) in plain text", k.what, k.fingerprint),
    )
    .at_target(shown.to_string())
    .at_line(line)
    .with_fix(if k.what.contains("retired") || k.what.contains("revoked") {
        "remove it from the file; it is no longer any environment's key, so check that no app still accepts it (a fallback list, another host's config)"
    } else {
        "remove it from the file, then rotate the key: it has been exposed"
    })
}

/// One file's findings: the known keys in every encoding, and (in text files) the
/// literals given to key names, with the literals' fingerprints.
fn search_file(
    shown: &str,
    bytes: &[u8],
    needles: &Needles,
    known: &[Known],
    pepper: &Pepper,
) -> (Vec<Finding>, Vec<Fingerprint>) {
    let mut keys = KeyFindings::default();
    let mut fps = Vec::new();
    // Binary files are searched for the known keys, not for source-code literals.
    let binary = bytes.iter().take(8192).any(|&b| b == 0);
    // Matches come in order: lines are counted on from the one before, never from the
    // start of the file again (a file of a thousand keys is not read a thousand times).
    let (mut line, mut counted_to) = (1, 0);
    for (pos, fp) in needles.positions(bytes) {
        let Some(k) = known.iter().find(|k| k.fingerprint.as_str() == fp) else {
            continue;
        };
        line += memchr::memchr_iter(b'\n', &bytes[counted_to..pos]).count();
        counted_to = pos;
        keys.push(k, shown, line);
    }
    let mut findings = keys.finish(shown);
    if !binary && let Ok(text) = std::str::from_utf8(bytes) {
        for (f, fp) in hard_coded(text, shown, pepper, known) {
            fps.push(fp);
            findings.push(f);
        }
    }
    (findings, fps)
}

/// `items.iter().filter_map(f)` spread over the machine's cores, in order; threads take
/// the next item as they finish one, so one large file does not hold up a share.
fn parallel_filter_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Option<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if items.len() < 32 || threads == 1 {
        return items.iter().filter_map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let f = &f;
    let next = &next;
    let mut parts: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        if let Some(r) = f(item) {
                            out.push((i, r));
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a scan worker panicked"))
            .collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, r)| r).collect()
}

/// Whether a known key is distinctive enough that finding it in a file means it leaked.
fn searchable(k: &Known) -> bool {
    if k.key.char_len() < MIN_LITERAL {
        return false;
    }
    let value = k.key.expose_secret();
    let insecure = strength::INSECURE_PREFIXES
        .iter()
        .any(|p| value.to_ascii_lowercase().starts_with(p));
    if !insecure && strength::placeholder(value).is_some() {
        return false;
    }
    strength::analyze(&k.key, &strength::Context::default()).bits >= 30.0
}

/// Target and fallback files: where keys are meant to be.
fn target_files(project: &Project) -> BTreeSet<PathBuf> {
    project
        .manifest
        .environments
        .iter()
        .flat_map(|e| e.targets.iter().chain(e.fallback.iter()))
        .filter_map(|t| match t {
            Target::File { path, .. } => Some(fsio::normalize(path)),
            Target::Env { .. } | Target::Vault { .. } => None,
        })
        .collect()
}

/// What a literal given to a key name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    /// Looks like a key (or is one a framework generated: `django-insecure-…`).
    Key,
    /// A placeholder or dummy committed in place of a key: `changethis`,
    /// `!!!SET DJANGO_SECRET_KEY!!!`, `<your key here>`, `not needed`. The app may run
    /// with it.
    Placeholder,
}

/// Literals given to key names in `text`, each with the literal's fingerprint: the
/// `NAME = "literal"` and `getenv("NAME", "literal")` forms, calls spread over several
/// lines (`env("SECRET_KEY",\n    default="…")`), and in `.env`-style files (`name`
/// ending in `.env` or starting with `.env`) unquoted values too.
pub(super) fn hard_coded(
    text: &str,
    shown: &str,
    pepper: &Pepper,
    known: &[Known],
) -> Vec<(Finding, Fingerprint)> {
    let file_name = shown.rsplit('/').next().unwrap_or(shown);
    let candidate = key_lines(text);
    if candidate.is_empty() {
        return Vec::new();
    }
    literals_on(
        text,
        &candidate,
        shown,
        super::walk::is_env_file(std::ffi::OsStr::new(file_name)),
        pepper,
        known,
    )
}

/// Whether `text` has the shape of a `.env` file: every line blank, a comment, or
/// `NAME=value` (`export` allowed, no space before the `=`, as `.env` files write it and
/// source code seldom does), with at least one assignment.
pub(super) fn looks_like_dotenv(text: &str) -> bool {
    let mut assignments = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, _)) = line.split_once('=') else {
            return false;
        };
        let mut chars = name.chars();
        let named = chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && chars.all(|c| c == '_' || c == '.' || c == '-' || c.is_ascii_alphanumeric());
        if !named {
            return false;
        }
        assignments += 1;
    }
    assignments > 0
}

/// The lines of `text` that name a key, in order: each as its 0-based number and the
/// offset it starts at. Only those can assign one: one case-insensitive multi-pattern pass
/// over the whole text finds them, and most files have none.
pub(super) fn key_lines(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut candidate: Vec<(usize, usize)> = Vec::new();
    let mut line_no = 0;
    let mut counted_to = 0;
    let (names, sampled) = key_names();
    for m in sampled.find_iter(names, bytes) {
        line_no += memchr::memchr_iter(b'\n', &bytes[counted_to..m.start()]).count();
        counted_to = m.start();
        if candidate.last().map(|&(n, _)| n) != Some(line_no) {
            let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |nl| nl + 1);
            candidate.push((line_no, start));
        }
    }
    candidate
}

/// The line of `text` starting at byte `start`, as `str::lines` gives it (without its
/// `\n` or `\r\n`), and where the next one starts, if there is one.
fn line_at(text: &str, start: usize) -> (&str, Option<usize>) {
    let rest = &text[start..];
    match memchr::memchr(b'\n', rest.as_bytes()) {
        Some(nl) => (
            rest[..nl].strip_suffix('\r').unwrap_or(&rest[..nl]),
            // A final `\n` ends the last line; no empty line follows it.
            Some(start + nl + 1).filter(|&next| next < text.len()),
        ),
        None => (rest, None),
    }
}

/// The literals given to key names on the `candidate` lines of `text` ([`key_lines`]),
/// read as a `.env` file (`dotenv`) or as source code, each with its fingerprint.
pub(super) fn literals_on(
    text: &str,
    candidate: &[(usize, usize)],
    shown: &str,
    dotenv_file: bool,
    pepper: &Pepper,
    known: &[Known],
) -> Vec<(Finding, Fingerprint)> {
    let file_name = shown.rsplit('/').next().unwrap_or(shown);
    let example = is_example(file_name);
    let mut out = Vec::new();
    for &(i, start) in candidate {
        let (line, mut next) = line_at(text, start);
        let found = if dotenv_file {
            dotenv_literal(line)
        } else {
            assigned_literal(line).or_else(|| {
                // A call left open on this line: its arguments follow on the next ones.
                let open = line.matches('(').count() > line.matches(')').count();
                if !open || !names_a_key(line) {
                    return None;
                }
                let mut joined = line.to_string();
                for _ in 0..4 {
                    let Some(at) = next else { break };
                    let (following, after) = line_at(text, at);
                    next = after;
                    joined.push(' ');
                    joined.push_str(following.trim());
                    if joined.matches(')').count() >= joined.matches('(').count() {
                        break;
                    }
                }
                assigned_literal(&joined)
            })
        };
        let Some((literal, class)) = found else {
            continue;
        };
        if example && class == Literal::Placeholder {
            continue;
        }
        let key = Secret::new(literal);
        // A known key here is already reported by the plain-text search.
        let fp = pepper.fingerprint(&key);
        if known.iter().any(|k| k.fingerprint == fp) {
            continue;
        }
        let finding = match class {
            Literal::Placeholder => Finding::new(
                Code::HardCoded,
                Severity::Medium,
                format!(
                    "a placeholder ({fp}) committed as the key: an app started without its \
                     real key runs with it, and everyone can read it"
                ),
            )
            .with_fix(
                "give the name no default: let the app fail to start when the key is not set",
            ),
            Literal::Key => {
                let s = strength::analyze(&key, &strength::Context::default());
                let published = s
                    .findings
                    .iter()
                    .any(|f| matches!(f.code, Code::KnownKey | Code::Placeholder));
                let severity = if published || s.label == Label::Critical {
                    Severity::Critical
                } else {
                    Severity::High
                };
                let (place, fix) = if example {
                    (
                        IN_EXAMPLE,
                        "put a placeholder in its place (`keywarden example ENV` writes one); then rotate the key",
                    )
                } else if dotenv_file {
                    (
                        IN_DOTENV,
                        "keep the key only in the targets keywarden.toml names, out of git; if this file was committed or shared, rotate the key",
                    )
                } else {
                    (
                        IN_SOURCE,
                        "read the key from the environment only, with no default; then rotate it",
                    )
                };
                Finding::new(
                    Code::HardCoded,
                    severity,
                    format!(
                        "a hard-coded key ({fp}, strength {}{}) {place}",
                        s.label.as_str(),
                        if published { ", a published value" } else { "" }
                    ),
                )
                .with_fix(fix)
            }
        };
        let finding = finding
            .at_target(shown.to_string())
            .at_line(i + 1)
            .with_baseline_fingerprint(super::baseline::digest(&key));
        out.push((finding, fp));
    }
    out
}

/// Where a hard-coded key's finding says it is.
pub(super) const IN_SOURCE: &str = "in source code";
pub(super) const IN_DOTENV: &str = "in a `.env`-style file";
pub(super) const IN_EXAMPLE: &str = "in an example file, which is made to be copied and committed";

/// An example file (`.env.example`, `.env-example`, `secrets.toml.sample`,
/// `settings.example.py`, `example_settings.py`, `example.env`, `.env.template`,
/// `phpunit.xml.dist`, `settings.py-dist`) is where a placeholder belongs; a real key in
/// one still counts. The word is a whole word of the name (between `.`, `-` and `_`), not
/// the name itself (`examples.rs`, `dist.py` are source code); `template` only as a
/// dot-separated part after the first (`email_template.py` and `template.py` are source
/// code, `.env.template` is an example).
pub(super) fn is_example(file_name: &str) -> bool {
    const WORDS: [&str; 7] = [
        "example", "examples", "sample", "samples", "dist", "tpl", "tmpl",
    ];
    let is = |part: &str, words: &[&str]| words.iter().any(|m| part.eq_ignore_ascii_case(m));
    let words: Vec<&str> = file_name
        .split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .collect();
    let hit = |w: &&str| is(w, &WORDS);
    // The first word only with more after it than an extension (`examples.rs` is that
    // word's module), or before `env` (`example.env`).
    let first = words.first().is_some_and(hit)
        && (words.len() > 2 || words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("env")));
    first
        || words.iter().skip(1).any(hit)
        || file_name.split('.').skip(1).any(|p| is(p, &["template"]))
}

/// The key names, matched in any ASCII case, with the sampled prefilter that skips most of
/// a text (the shortest name is 9 bytes: one 4-byte gram in 6 is read).
fn key_names() -> &'static (aho_corasick::AhoCorasick, Sampled) {
    static AC: std::sync::OnceLock<(aho_corasick::AhoCorasick, Sampled)> =
        std::sync::OnceLock::new();
    AC.get_or_init(|| {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(KEY_NAMES)
            .expect("the key names compile");
        let sampled = Sampled::caseless(KEY_NAMES.iter().map(|n| n.as_bytes()))
            .expect("the key names are long enough to sample");
        (ac, sampled)
    })
}

fn names_a_key(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    KEY_NAMES.iter().any(|n| lower.contains(n))
}

/// `NAME=value` in a `.env`-style file: the value, quoted or not, when NAME is a key name.
fn dotenv_literal(line: &str) -> Option<(String, Literal)> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (name, value) = line.split_once('=')?;
    let name = name.trim().to_ascii_lowercase();
    if name.starts_with('#') || !KEY_NAMES.iter().any(|n| name.contains(n)) {
        return None;
    }
    let value = value.trim();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &value[1..];
            &body[..body.find(q)?]
        }
        // An unquoted value ends at a comment.
        _ => value.split(" #").next().unwrap_or("").trim(),
    };
    classify(value)
}

/// The string literal a key name is given on this line, if any: the first quoted string
/// after the name that is not the name itself (`getenv("SECRET_KEY", "x")` gives `x`).
fn assigned_literal(line: &str) -> Option<(String, Literal)> {
    let lower = line.to_ascii_lowercase();
    let at = KEY_NAMES.iter().filter_map(|n| lower.find(n)).min()?;
    let rest = &line[at..];
    // The name must be assigned or passed: `=`, `:`, `(`, `,` or `||` follows it.
    if !rest.contains(['=', ':', '(', ',', '|']) {
        return None;
    }
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' && c != '\'' && c != '`' {
            continue;
        }
        let body_start = i + 1;
        let end = rest[body_start..].find(c)? + body_start;
        let literal = &rest[body_start..end];
        // Skip past this literal before looking for the next one.
        while chars.peek().is_some_and(|(j, _)| *j <= end) {
            chars.next();
        }
        // The name itself, quoted (`getenv("SECRET_KEY", …)`), but not a placeholder that
        // names it (`!!!SET DJANGO_SECRET_KEY!!!`).
        let is_name = KEY_NAMES.iter().any(|n| {
            literal
                .to_ascii_lowercase()
                .trim_matches(['_', '-'])
                .ends_with(n)
        }) && !literal.contains([' ', '!', '<']);
        if is_name {
            continue;
        }
        return classify(literal);
    }
    None
}

/// A literal's class, or `None` when it is not a value at all: empty, or a reference the
/// app resolves at run time (`${VAR}`, `$(cmd)`, `{{ template }}`, `%(name)s`).
fn classify(literal: &str) -> Option<(String, Literal)> {
    let t = literal.trim();
    if t.is_empty() {
        return None;
    }
    let reference = t.starts_with('$')
        || t.contains("${")
        || t.contains("$(")
        || (t.starts_with("{{") && t.ends_with("}}"))
        || t.starts_with("%(")
        || t.starts_with("#{");
    if reference {
        return None;
    }
    let insecure = strength::INSECURE_PREFIXES
        .iter()
        .any(|p| t.to_ascii_lowercase().starts_with(p));
    let dummy = !insecure
        && (strength::placeholder(t).is_some()
            || t.chars().count() < MIN_LITERAL
            || t.contains(char::is_whitespace)
            || (t.starts_with("!!!") && t.ends_with("!!!"))
            || t.chars().all(|c| c == t.chars().next().unwrap_or(' ')));
    Some((
        literal.to_string(),
        if dummy {
            Literal::Placeholder
        } else {
            Literal::Key
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_files_are_told_by_a_part_of_their_name() {
        for name in [
            ".env.example",
            ".env.production.sample",
            "secrets.toml.example",
            "settings.example.py",
            ".env.template",
            "phpunit.xml.dist",
            "config.tpl",
            "example.env",
            "Sample.env",
            ".env.EXAMPLE",
            ".env-example",
            ".env_example",
            "settings_example.py",
            "example_settings.py",
            "sample_settings.py",
            "settings.py-dist",
            ".env.tmpl",
            "settings.template.py",
        ] {
            assert!(is_example(name), "{name}");
        }
        for name in [
            "email_template.py",
            "template.py",
            "examples.rs",
            "dist.py",
            "sampler.go",
            ".env",
            ".env.production",
            "settings.py",
            "counterexample.md",
        ] {
            assert!(!is_example(name), "{name}");
        }
    }

    #[test]
    fn key_lines_and_line_at_give_the_lines_str_lines_gives() {
        for text in [
            "a\nSECRET_KEY = 'x'\r\nb\n",
            "SECRET_KEY=1",
            "x\r\n\r\nenv(\"JWT_SECRET\",\r\n  default=\"abc\")\r",
            "one\ntwo Secret-Key three secretkey\nlast signing_KEY",
            "\n\n\nsession_secret\n",
        ] {
            let lines: Vec<&str> = text.lines().collect();
            let found = key_lines(text);
            assert!(!found.is_empty(), "{text:?}");
            for (n, start) in found {
                let mut at = Some(start);
                for k in 0..6 {
                    let Some(s) = at else {
                        assert!(n + k >= lines.len(), "{text:?}: line {} cut short", n + k);
                        break;
                    };
                    let (line, next) = line_at(text, s);
                    assert_eq!(Some(&line), lines.get(n + k), "{text:?}: line {}", n + k);
                    at = next;
                }
            }
        }
    }

    #[test]
    fn assigned_literals_are_found_in_the_usual_forms() {
        use Literal::{Key, Placeholder};
        let cases = [
            ("SECRET_KEY = \"abcdefgh1234\"", Some(("abcdefgh1234", Key))),
            (
                "SECRET_KEY = os.getenv(\"SECRET_KEY\", \"baguette-metro-2024\")",
                Some(("baguette-metro-2024", Key)),
            ),
            (
                "app.secret_key = 'flask-dev-key-123'",
                Some(("flask-dev-key-123", Key)),
            ),
            ("  jwt_secret: \"shhhhhhhhh\",", Some(("shhhhhhhhh", Key))),
            (
                "const secret = process.env.SECRET_KEY || 'fallback-key-1'",
                Some(("fallback-key-1", Key)),
            ),
            (
                "SECRET_KEY = 'django-insecure-q8#x@v!m2zj0p7y$w3n'",
                Some(("django-insecure-q8#x@v!m2zj0p7y$w3n", Key)),
            ),
            ("SECRET_KEY = os.environ[\"SECRET_KEY\"]", None),
            ("SECRET_KEY = os.getenv(\"SECRET_KEY\")", None),
            ("SECRET_KEY: \"${SECRET_KEY}\"", None),
            ("secret_key: \"{{ vault_secret_key }}\"", None),
            ("SECRET_KEY = \"$(cat /run/secrets/key)\"", None),
            ("SECRET_KEY = ''", None),
            ("secret_key: str", None),
            ("# set SECRET_KEY in your .env", None),
            ("SECRET_KEY = 'short'", Some(("short", Placeholder))),
            (
                "SECRET_KEY = 'changethis'",
                Some(("changethis", Placeholder)),
            ),
            (
                "SECRET_KEY = env('DJANGO_SECRET_KEY', default='!!!SET DJANGO_SECRET_KEY!!!')",
                Some(("!!!SET DJANGO_SECRET_KEY!!!", Placeholder)),
            ),
            (
                "SECRET_KEY = \"<your key here>\"",
                Some(("<your key here>", Placeholder)),
            ),
            (
                "secret_key = 'not needed'",
                Some(("not needed", Placeholder)),
            ),
            ("print(\"SECRET_KEY not configured\")", None),
        ];
        for (line, want) in cases {
            let got = assigned_literal(line);
            assert_eq!(got.as_ref().map(|(l, c)| (l.as_str(), *c)), want, "{line}");
        }
    }

    #[test]
    fn the_shape_of_a_dotenv_file_is_told_from_source_code() {
        assert!(looks_like_dotenv(
            "# prod\nDEBUG=0\n\nexport SECRET_KEY=abc\nA.B-C='x y'\n"
        ));
        assert!(!looks_like_dotenv("import os\nSECRET_KEY=abc\n"));
        assert!(!looks_like_dotenv("SECRET_KEY = 'abc'\nDEBUG = False\n"));
        assert!(!looks_like_dotenv("# only a comment\n\n"));
        assert!(!looks_like_dotenv("SECRET_KEY=abc\nprint(SECRET_KEY)\n"));
        assert!(!looks_like_dotenv("1ABC=x\n"));
    }

    #[test]
    fn dotenv_values_are_literals_quoted_or_not() {
        assert_eq!(
            dotenv_literal("SECRET_KEY=changethis"),
            Some(("changethis".into(), Literal::Placeholder))
        );
        assert_eq!(
            dotenv_literal("export SECRET_KEY='Xk9#mQ2$vL7@pR4&zW8!'  # dev"),
            Some(("Xk9#mQ2$vL7@pR4&zW8!".into(), Literal::Key))
        );
        assert_eq!(dotenv_literal("SECRET_KEY="), None);
        assert_eq!(dotenv_literal("# SECRET_KEY=x"), None);
        assert_eq!(dotenv_literal("DEBUG=1"), None);
    }

    #[test]
    fn only_lines_naming_a_key_are_read_and_their_numbers_hold() {
        let pepper = Pepper::fixed([7u8; 32]);
        let text = "import os\r\n# nothing here\r\nApp.Secret_Key = 'Xk9#mQ2$vL7@pR4&zW8!'\r\nx = 1\r\nJWT_SECRET = \"changethis\"\r\n";
        let found = hard_coded(text, "app.py", &pepper, &[]);
        let lines: Vec<_> = found.iter().map(|(f, _)| (f.line, f.severity)).collect();
        assert_eq!(
            lines,
            [(Some(3), Severity::High), (Some(5), Severity::Medium)]
        );
        assert!(hard_coded("no key names at all\n", "a.py", &pepper, &[]).is_empty());
    }

    #[test]
    fn calls_over_several_lines_are_joined() {
        let pepper = Pepper::fixed([7u8; 32]);
        let text = "SECRET_KEY = env(\n    \"DJANGO_SECRET_KEY\",\n    default=\"Xk9#mQ2$vL7@pR4&zW8!\",\n)\n";
        let found = hard_coded(text, "config/settings/base.py", &pepper, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.line, Some(1));
        assert_eq!(found[0].0.severity, Severity::High);
    }
}
