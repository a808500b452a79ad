//! Running an environment's `restart` and `verify` commands.
//!
//! A command runs under `sh -c` in the project root, in its own process group, with a
//! timeout after which the whole group is killed. Its output (stdout and stderr, merged
//! line by line in arrival order) is kept, up to the last 64 KiB, for the user to read.
//!
//! Each pipe's bytes are cut into whole lines (a line longer than [`LINE_CAP`] in
//! pieces of that size; a last line without `\n` gets one), so a line of stdout is never
//! cut into by a line of stderr. Each line is made inert ([`redact::neutralise`]: control
//! characters shown as `^[`, `^M`…), then joins the one merged stream, which one
//! redactor reads ([`crate::keys::redact`]): every key given, in every form a program
//! prints one, is replaced by its fingerprint before it is stored or shown, so an app that
//! echoes its configuration puts no key in keywarden's records, and a key printed half on
//! stdout and half on stderr is redacted as if it came on one. The command also runs
//! without the variables of keywarden's own environment that hold one of those keys in
//! any form, and without `KEYWARDEN_PASSPHRASE_FILE`: a `SECRET_KEY` exported for one
//! environment does not reach another's restart command.

use crate::keys::redact::{self, Needles, Redactor};
use crate::keys::secret::Secret;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

const KEEP_BYTES: usize = 64 * 1024;

/// A line longer than this joins the merged output in pieces of this size.
pub const LINE_CAP: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRun {
    pub command: String,
    /// The exit code; `None` when killed by a signal or the timeout.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration_ms: u64,
    /// The last 64 KiB of output, keys replaced by fingerprints.
    pub output: String,
}

impl CommandRun {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// `exit 0 in 1.2 s`, `exit 3`, `killed after the 120 s timeout`.
    pub fn summary(&self) -> String {
        let secs = self.duration_ms as f64 / 1000.0;
        match (self.timed_out, self.exit_code) {
            (true, _) => format!("killed after the timeout ({secs:.1} s)"),
            (false, Some(c)) => format!("exit {c} in {secs:.1} s"),
            (false, None) => format!("killed by a signal after {secs:.1} s"),
        }
    }
}

/// Runs `command` in `root` and waits at most `timeout`. `redact` pairs each key with the
/// text that replaces it in the output. A command that cannot start is reported as a
/// failed run (exit code 127), not an error: the caller decides what failure means.
pub fn run(
    command: &str,
    root: &Path,
    timeout: Duration,
    redact: &[(Secret, String)],
) -> CommandRun {
    run_with_input(command, root, timeout, redact, None, None)
}

/// [`run`], with `input` written to the command's stdin (e.g. a notification to send),
/// and its process group killed early once `cancel` is set (e.g. the watch is exiting:
/// nothing it started outlives it).
pub fn run_with_input(
    command: &str,
    root: &Path,
    timeout: Duration,
    redact: &[(Secret, String)],
    input: Option<&[u8]>,
    cancel: Option<&AtomicBool>,
) -> CommandRun {
    let start = Instant::now();
    let mut sh = Command::new("sh");
    let needles = Needles::new(redact);
    for name in crate::context::inherited_vars_holding(&needles) {
        sh.env_remove(name);
    }
    let child = sh
        .arg("-c")
        .arg(command)
        .current_dir(root)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return CommandRun {
                command: command.to_string(),
                exit_code: Some(127),
                timed_out: false,
                duration_ms: 0,
                output: format!("cannot start `sh -c`: {e}"),
            };
        }
    };
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let bytes = bytes.to_vec();
        // A command that never reads its input must not block us: write from a thread.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
    }
    let merged = Arc::new(Mutex::new(Merged {
        redactor: needles.stream(),
        kept: Vec::new(),
    }));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut pipe| {
        let merged = Arc::clone(&merged);
        std::thread::spawn(move || {
            let mut chunk = Zeroizing::new([0u8; 8192]);
            // This pipe's line so far; key material until redacted. Sized up front.
            let mut line = Zeroizing::new(Vec::<u8>::with_capacity(LINE_CAP + chunk.len()));
            // Neutralising at most quadruples a line (`<U+009B>` for 2 bytes).
            let mut inert = Zeroizing::new(Vec::<u8>::with_capacity(4 * (LINE_CAP + 8192)));
            loop {
                let n = match pipe.read(&mut chunk[..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut rest = &chunk[..n];
                while !rest.is_empty() {
                    let room = (LINE_CAP + 8192 - line.len()).min(rest.len());
                    line.extend_from_slice(&rest[..room]);
                    rest = &rest[room..];
                    let cut = match memchr::memrchr(b'\n', &line) {
                        Some(i) => i + 1,
                        None if line.len() >= LINE_CAP => piece_end(&line),
                        None => 0,
                    };
                    if cut > 0 {
                        emit(&merged, &line[..cut], &mut inert);
                        let left = line.len() - cut;
                        line.copy_within(cut.., 0);
                        let len = line.len();
                        line[left..len].iter_mut().for_each(|b| *b = 0);
                        line.truncate(left);
                    }
                }
            }
            if !line.is_empty() {
                // The last line, ended so that the other pipe's next line starts anew.
                line.push(b'\n');
                emit(&merged, &line, &mut inert);
            }
        })
    })
    .collect();

    let pid = child.id() as i32;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= timeout => {
                timed_out = true;
                // The process group we created (`process_group(0)`).
                crate::sys::kill_process_group(pid);
                break child.wait().ok();
            }
            Ok(None) if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) => {
                crate::sys::kill_process_group(pid);
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    // The pipes close when every process of the group is gone; a daemonised grandchild
    // may keep them open, so do not wait for the readers past a short grace.
    let deadline = Instant::now() + Duration::from_millis(500);
    for r in readers {
        while !r.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let bytes = {
        let mut m = merged.lock().unwrap_or_else(|p| p.into_inner());
        let rest = m.redactor.finish();
        m.kept.extend_from_slice(&rest);
        std::mem::take(&mut m.kept)
    };
    let output = trim(&bytes);
    CommandRun {
        command: command.to_string(),
        exit_code: status.and_then(|s| s.code()),
        timed_out,
        duration_ms: start.elapsed().as_millis() as u64,
        output,
    }
}

/// The merged output: one redactor over the lines of both pipes, and what it released.
struct Merged {
    redactor: Redactor,
    kept: Vec<u8>,
}

/// Where to cut a line that reached [`LINE_CAP`] with no `\n`: after its last ASCII
/// byte other than `\r` (so that no multi-byte character and no CRLF is cut in two),
/// else before its last character.
fn piece_end(line: &[u8]) -> usize {
    match line.iter().rposition(|&b| b.is_ascii() && b != b'\r') {
        Some(i) => i + 1,
        None => line
            .iter()
            .rposition(|&b| b & 0xc0 != 0x80)
            .filter(|&i| i > 0)
            .unwrap_or(line.len()),
    }
}

/// Makes `text` (whole lines, or a piece of a long line) inert and adds it to the merged
/// output, where it is redacted.
fn emit(merged: &Mutex<Merged>, text: &[u8], inert: &mut Zeroizing<Vec<u8>>) {
    inert.clear();
    redact::neutralise(text, inert);
    let mut m = merged.lock().unwrap_or_else(|p| p.into_inner());
    let clean = m.redactor.feed(inert);
    inert.iter_mut().for_each(|b| *b = 0);
    m.kept.extend_from_slice(&clean);
    // Keep between two and four times the limit in memory: a key cut in two by this
    // trim lies at least KEEP_BYTES before the end, outside the tail kept below.
    if m.kept.len() > 4 * KEEP_BYTES {
        let cut = m.kept.len() - 2 * KEEP_BYTES;
        m.kept.drain(..cut);
    }
}

/// The last 64 KiB of the (already redacted) output. When it is trimmed, the first
/// (partial) line goes too, or, for one endless line, more than any key's length.
fn trim(bytes: &[u8]) -> String {
    let output = String::from_utf8_lossy(bytes).into_owned();
    if output.len() <= KEEP_BYTES {
        return output;
    }
    let mut start = output.len() - KEEP_BYTES;
    while !output.is_char_boundary(start) {
        start += 1;
    }
    let tail = &output[start..];
    let skip = match tail.find('\n') {
        Some(i) => i + 1,
        None => (crate::keys::generate::MAX_LENGTH * 4).min(tail.len()),
    };
    let mut skip = skip.min(tail.len());
    while !tail.is_char_boundary(skip) {
        skip += 1;
    }
    tail[skip..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(
            "echo out; echo err >&2; exit 3",
            dir.path(),
            Duration::from_secs(10),
            &[],
        );
        assert_eq!(r.exit_code, Some(3));
        assert!(!r.succeeded());
        assert!(
            r.output.contains("out") && r.output.contains("err"),
            "{}",
            r.output
        );
        let ok = run("pwd", dir.path(), Duration::from_secs(10), &[]);
        assert!(ok.succeeded());
        assert!(
            ok.output
                .trim_end()
                .ends_with(dir.path().file_name().unwrap().to_str().unwrap())
        );
    }

    #[test]
    fn a_key_cut_by_the_trim_leaves_no_piece_behind() {
        let key =
            Secret::new("Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z".into());
        // Place the key so that the last 64 KiB start in its middle, for every offset.
        for offset in [1usize, 10, 32, 63] {
            let mut out = Vec::new();
            out.extend_from_slice(b"start\n");
            out.extend_from_slice(key.expose_secret().as_bytes());
            out.push(b'\n');
            let filler_len = KEEP_BYTES - (key.char_len() - offset) - 1;
            out.extend(std::iter::repeat_n(b'x', filler_len));
            let text = trim(&Needles::new(&[(key.duplicate(), "kw:12345678".into())]).redact(&out));
            assert!(text.len() <= KEEP_BYTES);
            let piece = &key.expose_secret()[offset..];
            assert!(
                !text.contains(&piece[..piece.len().min(12)]),
                "offset {offset}: a piece of the key survived"
            );
        }
        // Long output on one endless line: the cut drops more than any key length.
        let mut out = key.expose_secret().as_bytes().to_vec();
        out.extend(std::iter::repeat_n(b'y', KEEP_BYTES));
        let text = trim(&out);
        assert!(!text.contains("vN2") && text.len() <= KEEP_BYTES);
    }

    #[test]
    fn keys_in_every_form_and_split_writes_are_redacted_and_not_inherited() {
        let key = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), key).unwrap();
        // The key printed as is, base64, hex and URL-encoded, and as is again in two
        // writes with a pause between them (two reads on our side).
        let cmd = "cat k; echo; base64 -w0 k; echo; od -An -tx1 k | tr -d ' \\n'; echo; \
                   python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(open(\"k\").read()))' 2>/dev/null; \
                   head -c 20 k; sleep 0.2; tail -c +21 k; echo; \
                   env | grep -c Zq8 || true";
        let r = run_with_input(
            cmd,
            dir.path(),
            Duration::from_secs(10),
            &[(Secret::new(key.into()), "kw:12345678".into())],
            None,
            None,
        );
        assert!(!r.output.contains(&key[..16]), "{}", r.output);
        assert!(!r.output.contains(&key[48..]), "{}", r.output);
        assert!(r.output.matches("kw:12345678").count() >= 4, "{}", r.output);
        // No variable of ours holding the key reached the command: `env | grep -c` is 0.
        assert!(r.output.trim_end().ends_with('0'), "{}", r.output);
    }

    #[test]
    fn a_key_split_between_stdout_and_stderr_never_comes_back_whole() {
        let key = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), key).unwrap();
        let hide = [(Secret::new(key.into()), "kw:12345678".into())];
        // The first 40 characters on stdout with no line end, the rest on stderr.
        let r = run(
            "head -c 40 k; sleep 0.2; tail -c +41 k >&2; echo >&2; sleep 0.2; echo",
            dir.path(),
            Duration::from_secs(10),
            &hide,
        );
        assert!(!r.output.contains(key), "the key came back whole");
        // Each half is on a line of its own: the two streams' lines are not cut into
        // each other.
        assert!(
            r.output.lines().all(|l| l.len() <= key.len() - 24),
            "lines were joined"
        );
        // Both halves, each ending its line, one after the other: caught as one key.
        let r = run(
            "head -c 40 k; echo; sleep 0.2; tail -c +41 k >&2; echo >&2",
            dir.path(),
            Duration::from_secs(10),
            &hide,
        );
        assert!(!r.output.contains(&key[..40]) && !r.output.contains(&key[40..]));
        assert!(r.output.contains("kw:12345678"), "{}", r.output);
        // A line of one stream is never cut into by a line of the other.
        let r = run(
            "printf aaaa; sleep 0.2; echo bbbb >&2; sleep 0.2; echo cccc",
            dir.path(),
            Duration::from_secs(10),
            &[],
        );
        assert_eq!(r.output, "bbbb\naaaacccc\n");
    }

    #[test]
    fn a_key_across_the_cut_of_a_very_long_line_is_still_replaced() {
        let key = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), key).unwrap();
        // One line far longer than LINE_CAP, joining the merged output in pieces as it
        // arrives, with the key in it twice and stderr writing in between.
        let before = LINE_CAP - 20;
        let r = run(
            &format!(
                "head -c {before} /dev/zero | tr '\\0' x; cat k; echo err >&2; \
                 head -c {before} /dev/zero | tr '\\0' y; cat k; echo"
            ),
            dir.path(),
            Duration::from_secs(10),
            &[(Secret::new(key.into()), "kw:12345678".into())],
        );
        assert!(!r.output.contains(&key[..16]) && !r.output.contains(&key[48..]));
        assert_eq!(r.output.matches("kw:12345678").count(), 2);
        assert!(r.output.contains("err\n"));
    }

    #[test]
    fn control_characters_in_the_output_are_made_visible() {
        let key = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), key).unwrap();
        let r = run(
            "head -c 32 k; printf '\\033[0m'; tail -c +33 k; echo; \
             head -c 32 k; printf 'Z\\b'; tail -c +33 k; echo; \
             printf 'tail -c 32 ...\\r'; head -c 32 k; echo; \
             printf '\\033]52;c;aGk=\\007\\033[2J\\r\\n'",
            dir.path(),
            Duration::from_secs(10),
            &[(Secret::new(key.into()), "kw:12345678".into())],
        );
        assert!(
            !r.output.bytes().any(|b| b < 0x20 && b != b'\n'),
            "a control byte reached the output"
        );
        assert!(r.output.contains("^[[0m"), "{:?}", r.output.len());
        assert!(r.output.contains("Z^H"));
        assert!(r.output.contains("^[]52;c;aGk=^G^[[2J\n"));
        assert!(!r.output.contains(key));
    }

    #[test]
    fn input_reaches_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let r = run_with_input(
            "wc -l",
            dir.path(),
            Duration::from_secs(10),
            &[],
            Some(b"a\nb\nc\n"),
            None,
        );
        assert_eq!(r.output.trim(), "3");
    }

    #[test]
    fn a_cancel_kills_the_whole_group_before_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            run_with_input(
                "sleep 30 & echo $! > bg; sleep 30",
                dir.path(),
                Duration::from_secs(60),
                &[],
                None,
                Some(&cancel),
            )
        });
        assert!(!r.succeeded() && !r.timed_out, "{r:?}");
        assert!(r.duration_ms < 5_000, "{}", r.duration_ms);
        // The background `sleep` of the group is gone too (reaped by init, or a zombie).
        let bg = std::fs::read_to_string(dir.path().join("bg")).unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", bg.trim()));
        let gone = Instant::now() + Duration::from_secs(3);
        let mut stat = stat;
        while stat.as_deref().is_ok_and(|s| !s.contains(") Z ")) && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(50));
            stat = std::fs::read_to_string(format!("/proc/{}/stat", bg.trim()));
        }
        assert!(
            stat.as_deref().map_or(true, |s| s.contains(") Z ")),
            "the group's background process still runs: {stat:?}"
        );
    }

    #[test]
    fn kills_the_whole_group_on_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(
            "sleep 30 & sleep 30",
            dir.path(),
            Duration::from_millis(300),
            &[],
        );
        assert!(r.timed_out);
        assert!(r.duration_ms < 5_000, "{}", r.duration_ms);
        assert!(r.summary().contains("timeout"));
    }

    #[test]
    fn keys_in_the_output_are_replaced_by_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let key = Secret::new("Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)".into());
        std::fs::write(dir.path().join("k"), key.expose_secret()).unwrap();
        let r = run(
            "echo loaded key=$(cat k)",
            dir.path(),
            Duration::from_secs(10),
            &[(key.duplicate(), "kw:12345678".into())],
        );
        assert!(!r.output.contains(key.expose_secret()));
        assert!(r.output.contains("loaded key=kw:12345678"), "{}", r.output);
    }
}
