//! Writes that hold under races, crashes, odd files and every reader (issue 12).
//!
//! Each test reproduces one defect of the issue against the binary as a process and
//! asserts what a demanding user expects once it is fixed. The races are made
//! deterministic by widening keywarden's windows with `strace`'s syscall delay
//! (`-e inject=SYSCALLS:delay_enter=µs`, see FACTS.md) and acting when the process is seen
//! inside the window (a temporary file appears, a file changes), never after a fixed sleep.

use crate::common::{python, require, skip};
use crate::support::{Sandbox, assert_no_key, set_mode, stderr, stdout};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A strong key (64 alphanumerics) the files hold before a test writes.
pub(crate) const OLD: &str = "Q7mZ2kP9xR4vN8tL1cW6bY3hJ5gF0dS2aE7uI9oK4jM6nB8vC1xZ3lT5rH7qW9e";

/// Every rename waits 1 s on entry: the window between keywarden's read and its rename.
pub(crate) const DELAY_RENAMES: &str = "inject=rename,renameat,renameat2:delay_enter=1000000";

pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keywarden"))
}

/// `program args` run like `Sandbox::kw`: in the project, with the private state home.
pub(crate) fn command(sb: &Sandbox, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(sb.project.path())
        .env("KEYWARDEN_HOME", sb.home.path())
        .envs(sb.backup_env())
        .env("NO_COLOR", "1")
        .env_remove("SECRET_KEY")
        .stdin(Stdio::null());
    cmd
}

pub(crate) fn keywarden(sb: &Sandbox, args: &[&str]) -> Command {
    command(sb, &bin(), args)
}

/// `keywarden args` under `strace -f -e INJECT` (its trace thrown away).
pub(crate) fn traced(sb: &Sandbox, inject: &str, args: &[&str]) -> Command {
    let mut cmd = command(
        sb,
        Path::new("strace"),
        &["-f", "-o", "/dev/null", "-e", inject],
    );
    cmd.arg(bin()).args(args);
    cmd
}

/// A spawned process whose output goes to files (a full pipe never stalls it), killed
/// with everything it started if the test ends first.
pub(crate) struct Proc {
    pub(crate) child: Child,
    out: tempfile::NamedTempFile,
    err: tempfile::NamedTempFile,
    what: String,
}

impl Proc {
    pub(crate) fn spawn(mut cmd: Command, what: &str) -> Proc {
        let out = tempfile::NamedTempFile::new().unwrap();
        let err = tempfile::NamedTempFile::new().unwrap();
        let child = cmd
            .stdout(out.reopen().unwrap())
            .stderr(err.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
        Proc {
            child,
            out,
            err,
            what: what.to_string(),
        }
    }

    fn output_so_far(&self, status: std::process::ExitStatus) -> Output {
        Output {
            status,
            stdout: std::fs::read(self.out.path()).unwrap(),
            stderr: std::fs::read(self.err.path()).unwrap(),
        }
    }

    /// Waits for the exit; after `secs` kills it and fails the test.
    pub(crate) fn finish_within(self, secs: u64) -> Output {
        self.finish(secs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits for the exit; after `secs` kills it and says so.
    pub(crate) fn finish(mut self, secs: u64) -> Result<Output, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Ok(self.output_so_far(status));
            }
            if Instant::now() > deadline {
                self.kill_all();
                let status = self.child.wait().unwrap();
                let out = self.output_so_far(status);
                return Err(format!(
                    "{} did not finish within {secs} s (killed); stderr so far: {}",
                    self.what,
                    stderr(&out).trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`Proc::finish`], with the process's peak resident memory in KiB (`wait4`).
    fn finish_measured(mut self, secs: u64) -> Result<(Output, i64), String> {
        use std::os::unix::process::ExitStatusExt;
        let pid = self.child.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let mut status = 0;
            // SAFETY: rusage is plain data; all zeroes is a valid value.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: wait4(2) on a child of this process, with valid pointers.
            let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if r == pid {
                let out = self.output_so_far(std::process::ExitStatus::from_raw(status));
                return Ok((out, usage.ru_maxrss));
            }
            if Instant::now() > deadline {
                self.kill_all();
                let _ = self.child.wait();
                return Err(format!(
                    "{} did not finish within {secs} s (killed)",
                    self.what
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls `cond` until it holds; fails if the process ends first or after `secs`.
    pub(crate) fn wait_until(&mut self, secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if cond() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let out = self.output_so_far(status);
                panic!(
                    "{} ended ({:?}) before {what}; stdout: {} stderr: {}",
                    self.what,
                    status.code(),
                    stdout(&out),
                    stderr(&out)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{}: timed out after {secs} s waiting for {what}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The processes this one started (under strace: keywarden itself), recursively.
    pub(crate) fn descendants(&self) -> Vec<i32> {
        let mut out = Vec::new();
        let mut parents = vec![self.child.id() as i32];
        while let Some(parent) = parents.pop() {
            for e in std::fs::read_dir("/proc").unwrap().flatten() {
                let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
                    continue;
                };
                let ppid = status
                    .lines()
                    .find_map(|l| l.strip_prefix("PPid:"))
                    .and_then(|v| v.trim().parse::<i32>().ok());
                if ppid == Some(parent) {
                    out.push(pid);
                    parents.push(pid);
                }
            }
        }
        out
    }

    /// SIGKILL to keywarden under strace (the tracer then exits on its own).
    pub(crate) fn kill_tracee(&self) {
        let pids = self.descendants();
        assert!(!pids.is_empty(), "{}: no traced process to kill", self.what);
        for pid in pids {
            // SAFETY: kill(2) on a process this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    pub(crate) fn kill_all(&mut self) {
        for pid in self.descendants() {
            // SAFETY: kill(2) on a process this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_all();
            let _ = self.child.wait();
        }
    }
}

/// keywarden's temporary files (`.keywarden-*.tmp`) in `dir`.
pub(crate) fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy().into_owned();
                    n.starts_with(".keywarden-") && n.ends_with(".tmp")
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn status_json(sb: &Sandbox) -> Value {
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "status: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of `name` on its `NAME='value'` line, if any.
pub(crate) fn env_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}='")))
        .map(|v| v.trim_end_matches('\'').to_string())
}

pub(crate) fn both(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

pub(crate) fn no_key_in(out: &Output, key: &str) {
    assert_no_key("stdout", &out.stdout, key);
    assert_no_key("stderr", &out.stderr, key);
}

pub(crate) fn dev_manifest(sb: &Sandbox, targets: &str) {
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"development\"\ntargets = [\n{targets}]\n"
        ),
    );
}

pub(crate) fn has_pid(text: &str) -> bool {
    text.match_indices("pid ").any(|(i, _)| {
        text[i + 4..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

// ---- 1. Two targets in one file ---------------------------------------------------------

fn assert_both_keys_written(sb: &Sandbox, out: &Output, text: &str) {
    assert!(out.status.success(), "set: {}", stderr(out));
    let a = env_value(text, "SECRET_KEY");
    let b = env_value(text, "DJANGO_SECRET_KEY");
    assert_ne!(
        a.as_deref(),
        Some(OLD),
        "SECRET_KEY kept the old key after `set` said it wrote both targets:\n{text}"
    );
    assert_ne!(
        b.as_deref(),
        Some(OLD),
        "DJANGO_SECRET_KEY kept the old key"
    );
    assert_eq!(a, b, "both targets hold the one new key");
    assert!(
        text.starts_with("A=1\n") && text.ends_with("B=2\n"),
        "{text}"
    );
    let st = status_json(sb);
    let env = &st["environments"][0];
    assert!(
        env["fingerprint"].is_string(),
        "no drift after set: {}",
        env["findings"]
    );
    no_key_in(out, a.as_deref().unwrap());
}

#[test]
fn two_targets_in_one_file_both_get_the_key() {
    let sb = Sandbox::new();
    dev_manifest(
        &sb,
        "  { path = \".env\", key = \"SECRET_KEY\" },\n  { path = \".env\", key = \"DJANGO_SECRET_KEY\" },\n",
    );
    sb.write(
        ".env",
        &format!("A=1\nSECRET_KEY='{OLD}'\nDJANGO_SECRET_KEY='{OLD}'\nB=2\n"),
    );
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_both_keys_written(&sb, &out, &sb.read(".env"));
}

#[test]
fn two_targets_through_a_symlink_to_one_file_both_get_the_key() {
    let sb = Sandbox::new();
    dev_manifest(
        &sb,
        "  { path = \".env\", key = \"SECRET_KEY\" },\n  { path = \"link.env\", format = \"dotenv\", key = \"DJANGO_SECRET_KEY\" },\n",
    );
    sb.write(
        ".env",
        &format!("A=1\nSECRET_KEY='{OLD}'\nDJANGO_SECRET_KEY='{OLD}'\nB=2\n"),
    );
    std::os::unix::fs::symlink(".env", sb.project.path().join("link.env")).unwrap();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_both_keys_written(&sb, &out, &sb.read(".env"));
    assert!(
        std::fs::symlink_metadata(sb.project.path().join("link.env"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
}

// ---- 2. A concurrent edit between the read and the rename -------------------------------

/// Runs `args` with every rename delayed, appends `USER_EDIT=1` to `.env` once keywarden's
/// temporary file is in the folder (it has read `.env` and is about to rename), and checks
/// that the user's line survives and keywarden says which file changed.
fn concurrent_edit_is_kept(sb: &Sandbox, args: &[&str]) {
    let what = format!("keywarden {}", args.join(" "));
    let mut p = Proc::spawn(traced(sb, DELAY_RENAMES, args), &what);
    let root = sb.root();
    p.wait_until(30, "its temporary file in the project folder", || {
        !temp_files(&root).is_empty()
    });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join(".env"))
        .unwrap();
    f.write_all(b"USER_EDIT=1\n").unwrap();
    drop(f);
    let out = p.finish_within(60);
    let after = sb.read(".env");
    assert!(
        !out.status.success() || after.contains("USER_EDIT=1"),
        "{what} exited 0 and the user's concurrent line is lost:\n{after}"
    );
    assert!(
        after.contains("USER_EDIT=1\n"),
        "the user's version of .env is kept: {after}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} stops as a failed action; stderr: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(".env"),
        "the message names the file that changed: {}",
        stderr(&out)
    );
    assert!(temp_files(&root).is_empty(), "no temporary file is left");
    no_key_in(&out, OLD);
}

#[test]
fn a_concurrent_edit_during_set_is_kept_and_named() {
    if !require("strace", "a concurrent edit during `set`") {
        return;
    }
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    concurrent_edit_is_kept(&sb, &["set", "development", "--generate"]);
}

#[test]
fn a_concurrent_edit_during_rotate_is_kept_and_named() {
    if !require("strace", "a concurrent edit during `rotate`") {
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write(".env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    concurrent_edit_is_kept(&sb, &["rotate", "production", "--yes", "--no-restart"]);
}

// ---- 3. A folder swapped for a symlink inside the window --------------------------------

/// The backup folders under the state home (any depth).
pub(crate) fn backup_entries(home: &Path) -> usize {
    fn walk(dir: &Path, n: &mut usize) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "backups") {
                    *n += std::fs::read_dir(&p).map(|r| r.count()).unwrap_or(0);
                } else {
                    walk(&p, n);
                }
            }
        }
    }
    let mut n = 0;
    walk(home, &mut n);
    n
}

#[test]
fn a_folder_swapped_for_a_symlink_never_redirects_the_write() {
    if !require("strace", "a folder swapped for a symlink during `set`") {
        return;
    }
    // <sandbox>/proj is the project; <sandbox>/elsewhere is outside it.
    let sb = Sandbox::new();
    let proj = sb.root().join("proj");
    let elsewhere = sb.root().join("elsewhere");
    sb.write(
        "proj/keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \"deploy/.env\" }]\n",
    );
    sb.write("proj/deploy/.env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    sb.write("elsewhere/.env", "ELSEWHERE=1\n");
    // mkdir (the backups, made after the target was checked) and rename are slowed down.
    let inject = "inject=mkdir,mkdirat,rename,renameat,renameat2:delay_enter=300000";
    let mut cmd = traced(&sb, inject, &["set", "development", "--generate"]);
    cmd.current_dir(&proj);
    let mut p = Proc::spawn(cmd, "keywarden set development --generate");
    let home = sb.home.path().to_path_buf();
    let deploy = proj.join("deploy");
    p.wait_until(60, "a backup folder (the target was checked)", || {
        backup_entries(&home) > 0 || !temp_files(&deploy).is_empty()
    });
    std::fs::rename(&deploy, proj.join("deploy.real")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", &deploy).unwrap();
    let out = p.finish_within(60);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join(".env")).unwrap(),
        "ELSEWHERE=1\n",
        "a file outside the project was written (exit {:?}, stderr: {})",
        out.status.code(),
        stderr(&out)
    );
    assert!(
        temp_files(&elsewhere).is_empty(),
        "nothing is created outside the project"
    );
}

// ---- 4. The lock's loser names the holder -----------------------------------------------

#[test]
fn every_locked_out_set_names_the_holders_pid() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    let pairs = 40;
    let mut losers = 0;
    let mut nameless = Vec::new();
    for _ in 0..pairs {
        let spawn = || {
            keywarden(&sb, &["set", "development", "--generate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            match out.status.code() {
                Some(0) => {}
                Some(3) => {
                    losers += 1;
                    if !has_pid(&stderr(&out)) {
                        nameless.push(stderr(&out));
                    }
                }
                other => panic!("set exited {other:?}: {}", stderr(&out)),
            }
        }
    }
    assert!(
        losers > 0,
        "no pair overlapped: the race was not reproduced"
    );
    assert!(
        nameless.is_empty(),
        "{} of {losers} locked-out runs name no pid, e.g.: {}",
        nameless.len(),
        nameless[0].trim()
    );
}

// ---- 5. `set` killed between two files --------------------------------------------------

/// The command the KW118 finding's fix names for `mode` (`--resume` or `--rollback`).
fn recovery_command(finding: &Value, env: &str, mode: &str) -> Vec<String> {
    let fix = finding["fix"].as_str().unwrap_or_default();
    if let Some(end) = fix.find(mode)
        && let Some(start) = fix[..end].rfind("keywarden ")
    {
        return fix[start + "keywarden ".len()..end + mode.len()]
            .split_whitespace()
            .map(str::to_string)
            .collect();
    }
    ["rotate", env, mode].map(str::to_string).to_vec()
}

#[test]
fn a_set_killed_between_two_files_is_reported_and_recoverable() {
    if !require("strace", "a `set` killed between two files") {
        return;
    }
    let before_a = format!("A=1\nSECRET_KEY='{OLD}'\n");
    let before_b = format!("SECRET_KEY='{OLD}'\nB=2\n");
    for mode in ["--resume", "--rollback"] {
        let sb = Sandbox::new();
        dev_manifest(&sb, "  { path = \"a.env\" },\n  { path = \"b.env\" },\n");
        sb.write("a.env", &before_a);
        sb.write("b.env", &before_b);
        let mut p = Proc::spawn(
            traced(&sb, DELAY_RENAMES, &["set", "development", "--generate"]),
            "keywarden set development --generate",
        );
        p.wait_until(60, "exactly one of the two files written", || {
            let a = std::fs::read_to_string(sb.project.path().join("a.env")).unwrap();
            let b = std::fs::read_to_string(sb.project.path().join("b.env")).unwrap();
            (a != before_a) != (b != before_b)
        });
        p.kill_tracee();
        let out = p.finish_within(30);
        no_key_in(&out, OLD);

        let st = status_json(&sb);
        let env = &st["environments"][0];
        let kw118 = env["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "KW118")
            .unwrap_or_else(|| {
                panic!(
                    "{mode}: status reports no unfinished write (KW118) after `set` was killed between two files; findings: {:?}",
                    codes(&env["findings"])
                )
            })
            .clone();
        let args = recovery_command(&kw118, "development", mode);
        let out = sb.kw().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{mode}: keywarden {}: {}",
            args.join(" "),
            stderr(&out)
        );
        let st = status_json(&sb);
        let env = &st["environments"][0];
        let fp = env["fingerprint"]
            .as_str()
            .unwrap_or_else(|| panic!("{mode}: one key everywhere: {:?}", codes(&env["findings"])));
        for t in env["targets"].as_array().unwrap() {
            assert_eq!(t["fingerprint"], fp, "{mode}: {}", t["path"]);
        }
        let left = codes(&env["findings"]);
        assert!(
            !left.iter().any(|c| c == "KW118" || c == "KW102"),
            "{mode}: {left:?}"
        );
        if mode == "--rollback" {
            assert_eq!(sb.read("a.env"), before_a, "rollback: byte for byte");
            assert_eq!(sb.read("b.env"), before_b, "rollback: byte for byte");
        } else {
            assert_ne!(env_value(&sb.read("a.env"), "SECRET_KEY").unwrap(), OLD);
        }
        assert!(temp_files(&sb.root()).is_empty(), "{mode}: no debris");
    }
}

#[test]
fn a_set_stopped_at_each_file_is_resumed_or_rolled_back_to_one_key() {
    for (at, finish) in [
        ("set-file:1", "--resume"),
        ("set-file:1", "--rollback"),
        ("set-file:2", "--resume"),
        ("set-file:2", "--rollback"),
    ] {
        let sb = Sandbox::new();
        dev_manifest(
            &sb,
            "  { path = \".env\" },\n  { path = \"b.env\" },\n  { path = \"c.env\" },\n",
        );
        for f in [".env", "b.env", "c.env"] {
            sb.write(f, &format!("A=1\nSECRET_KEY='{OLD}'\n"));
        }
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .env("KEYWARDEN_FAILPOINT", at)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{at}: the failpoint stopped it");
        let st = status_json(&sb);
        let codes: Vec<&str> = st["environments"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(codes.contains(&"KW118"), "{at}: {codes:?}");
        let out = sb
            .kw()
            .args(["rotate", "development", finish, "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{at} {finish}: {}", stderr(&out));
        let keys: Vec<String> = [".env", "b.env", "c.env"]
            .iter()
            .map(|f| env_value(&sb.read(f), "SECRET_KEY").unwrap())
            .collect();
        assert!(
            keys.iter().all(|k| *k == keys[0]),
            "{at} {finish}: one key everywhere"
        );
        if finish == "--rollback" {
            assert_eq!(keys[0], OLD, "{at}: rolled back to the old key");
        } else {
            assert_ne!(keys[0], OLD, "{at}: the new key everywhere");
        }
        for f in [".env", "b.env", "c.env"] {
            assert!(
                sb.read(f).starts_with("A=1\n"),
                "{at} {finish}: {f} kept its other lines"
            );
        }
        let st = status_json(&sb);
        assert!(
            !st.to_string().contains("KW118"),
            "{at} {finish}: nothing left unfinished"
        );
        assert!(temp_files(&sb.root()).is_empty(), "{at}: no debris");
    }
}

// ---- 6. Lines a reader misreads ---------------------------------------------------------

/// What bash's `set -a; . ./.env` gives SECRET_KEY (None: unset).
fn bash_reads(dir: &Path) -> Option<String> {
    let out = Command::new("bash")
        .args([
            "-c",
            "set -a; . ./.env 2>/dev/null; [ \"${SECRET_KEY+x}\" ] && printf %s \"$SECRET_KEY\"",
        ])
        .current_dir(dir)
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    out.status.success().then(|| stdout(&out))
}

#[test]
fn set_refuses_env_files_a_reader_would_misread_and_check_reports_them() {
    if !require("bash", "reader disagreement in `.env` files") {
        return;
    }
    // (what, content, the line that breaks the key for bash)
    let cases = [
        (
            "CRLF line endings",
            format!("SECRET_KEY='{OLD}'\r\nA=1\r\n"),
            1,
        ),
        (
            "a BOM before the key",
            format!("\u{feff}SECRET_KEY='{OLD}'\nA=1\n"),
            1,
        ),
        (
            "`A='b\\'c'` before the key",
            format!("A='b\\'c'\nSECRET_KEY='{OLD}'\n"),
            1,
        ),
        (
            "`A=b\\` on the line before",
            format!("A=b\\\nSECRET_KEY='{OLD}'\n"),
            1,
        ),
    ];
    let mut failures = Vec::new();
    for (what, content, line) in &cases {
        let sb = Sandbox::new();
        dev_manifest(&sb, "  { path = \".env\" },\n");
        sb.write(".env", content);
        assert_ne!(
            bash_reads(sb.project.path()).as_deref(),
            Some(OLD),
            "{what}: the reproduction is wrong, bash reads the key"
        );
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        let err = stderr(&out);
        if out.status.code() != Some(2) {
            failures.push(format!(
                "{what}: set exited {:?}, not 2 ({})",
                out.status.code(),
                err.trim()
            ));
        } else if !err.contains(&format!(".env:{line}")) || !err.contains("bash") {
            failures.push(format!(
                "{what}: the error names neither .env:{line} nor the reader (bash): {}",
                err.trim()
            ));
        }
        if sb.read(".env") != *content {
            failures.push(format!("{what}: set changed the file"));
        }
        no_key_in(&out, OLD);
        let out = sb.kw().args(["check", "--json"]).output().unwrap();
        no_key_in(&out, OLD);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KW113" && f["line"] == *line);
        if !found {
            failures.push(format!(
                "{what}: check reports no KW113 at line {line}: {:?}",
                codes(&v["findings"])
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---- 7. TOML that tomllib rejects -------------------------------------------------------

#[test]
fn set_refuses_toml_that_tomllib_rejects() {
    let Some(py) = python("TOML that tomllib rejects") else {
        return;
    };
    // (what, content, lines the error may name)
    let cases: [(&str, String, &[usize]); 4] = [
        ("a BOM", format!("\u{feff}secret_key = '{OLD}'\n"), &[1]),
        (
            "a local date-time without seconds",
            format!("t = 1979-05-27T07:32\nsecret_key = '{OLD}'\n"),
            &[1],
        ),
        (
            "the `\\e` escape",
            format!("e = \"\\e\"\nsecret_key = '{OLD}'\n"),
            &[1],
        ),
        (
            "a multi-line inline table",
            format!("x = {{\n  a = 1,\n}}\nsecret_key = '{OLD}'\n"),
            &[1, 2, 3],
        ),
    ];
    let mut failures = Vec::new();
    for (what, content, lines) in &cases {
        let sb = Sandbox::new();
        dev_manifest(
            &sb,
            "  { path = \"secrets.toml\", key = \"secret_key\" },\n",
        );
        sb.write("secrets.toml", content);
        let rejected = Command::new(py)
            .args([
                "-c",
                "import sys, tomllib; tomllib.load(open(sys.argv[1], 'rb'))",
            ])
            .arg(sb.project.path().join("secrets.toml"))
            .output()
            .unwrap();
        assert!(
            !rejected.status.success(),
            "{what}: the reproduction is wrong, tomllib reads the file"
        );
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        no_key_in(&out, OLD);
        let err = stderr(&out);
        if out.status.code() != Some(2) {
            failures.push(format!(
                "{what}: set exited {:?}, not 2 ({})",
                out.status.code(),
                err.trim()
            ));
        } else if !lines
            .iter()
            .any(|l| err.contains(&format!("secrets.toml:{l}")))
        {
            failures.push(format!(
                "{what}: the error names no line {lines:?}: {}",
                err.trim()
            ));
        }
        if sb.read("secrets.toml") != *content {
            failures.push(format!("{what}: set changed the file"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---- 8. Special files -------------------------------------------------------------------

#[test]
fn a_fifo_target_is_refused_at_once_by_every_command() {
    if !require("mkfifo", "a FIFO as a target") {
        return;
    }
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    let fifo = sb.project.path().join(".env");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut failures = Vec::new();
    for args in [
        &["status", "--json"][..],
        &["check", "--json"],
        &["scan", "--json"],
        &["set", "development", "--generate"],
    ] {
        let what = format!("keywarden {}", args.join(" "));
        let out = match Proc::spawn(keywarden(&sb, args), &what).finish(60) {
            Ok(out) => out,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if args[0] == "set" {
            if out.status.code() != Some(2) || !stderr(&out).contains(".env") {
                failures.push(format!(
                    "{what}: exit {:?}, not 2 naming .env: {}",
                    out.status.code(),
                    stderr(&out).trim()
                ));
            }
        } else if !both(&out).contains("KW115") {
            failures.push(format!("{what}: no KW115 for the FIFO"));
        }
    }
    assert_eq!(kind_of(&fifo), "fifo", "the FIFO is left alone");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// What kind of file `path` is (not following a symlink).
fn kind_of(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    if t.is_fifo() {
        "fifo"
    } else if t.is_char_device() {
        "char device"
    } else if t.is_file() {
        "file"
    } else if t.is_symlink() {
        "symlink"
    } else {
        "other"
    }
}

#[test]
fn a_device_target_is_refused_and_never_replaced() {
    if !require("mknod", "device nodes as targets") || !require("bash", "device nodes") {
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n\
         [[environments]]\nname = \"staging\"\ntargets = [{ path = \"zero.env\", format = \"dotenv\" }]\n",
    );
    for (name, minor) in [(".env", "3"), ("zero.env", "5")] {
        let made = Command::new("mknod")
            .arg(sb.project.path().join(name))
            .args(["c", "1", minor])
            .output()
            .unwrap();
        if !made.status.success() {
            skip(
                "device nodes as targets",
                "the right to create device nodes (root)",
                &format!("mknod said: {}", stderr(&made).trim()),
            );
            return;
        }
    }
    // A memory cap, so a read of /dev/zero to the end cannot take the machine with it.
    let mut cmd = command(
        &sb,
        Path::new("bash"),
        &["-c", "ulimit -v 2000000; exec \"$0\" status --json"],
    );
    cmd.arg(bin());
    let mut failures = Vec::new();
    match Proc::spawn(
        cmd,
        "keywarden status --json (/dev/null and /dev/zero nodes)",
    )
    .finish_measured(60)
    {
        Err(e) => failures.push(e),
        Ok((out, peak_kib)) => {
            // A status of two small environments needs ~16 MiB (more on a loaded machine,
            // where one run measured ~300 MiB); a read of /dev/zero to the end runs into
            // the 2 GB cap, so 1 GiB tells the two apart.
            if peak_kib > 1024 * 1024 {
                failures.push(format!(
                    "status read a device without bound: peak memory {} MiB",
                    peak_kib / 1024
                ));
            }
            match serde_json::from_slice::<Value>(&out.stdout) {
                Ok(v) => {
                    for env in v["environments"].as_array().unwrap() {
                        if !codes(&env["findings"]).iter().any(|c| c == "KW115") {
                            failures.push(format!("status: no KW115 for {}", env["name"]));
                        }
                    }
                }
                Err(_) => failures.push(format!(
                    "status: exit {:?}, no JSON: {}",
                    out.status.code(),
                    stderr(&out).trim()
                )),
            }
        }
    }
    let out = Proc::spawn(
        keywarden(&sb, &["set", "development", "--generate"]),
        "keywarden set development --generate",
    )
    .finish_within(5);
    if out.status.code() != Some(2) || !stderr(&out).contains(".env") {
        failures.push(format!(
            "set on a /dev/null node: exit {:?}, not 2 naming .env: {}",
            out.status.code(),
            stderr(&out).trim()
        ));
    }
    let kind = kind_of(&sb.project.path().join(".env"));
    if kind != "char device" {
        failures.push(format!("the /dev/null node was replaced by a {kind}"));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---- 9. Debris --------------------------------------------------------------------------

#[test]
fn a_leftover_temp_file_is_removed_or_reported() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    let leftover = "R9tV2mX7kQ4pL8wN3cB6zH1jF5dS0gA2eU7yI4oK9lM3nP6vC8xT1qW5rE7bZ2h";
    // As a kill between write and rename leaves it: 0600, holding the new key.
    sb.write(
        ".keywarden-Ab12Cd.tmp",
        &format!("SECRET_KEY='{leftover}'\n"),
    );
    let out = sb.kw().arg("status").output().unwrap();
    no_key_in(&out, leftover);
    let gone = !sb.project.path().join(".keywarden-Ab12Cd.tmp").exists();
    assert!(
        gone || both(&out).contains(".keywarden-Ab12Cd.tmp"),
        "a leftover temporary file holding a key is neither removed nor reported by `status`:\n{}",
        both(&out)
    );
}

#[test]
fn the_next_change_removes_a_leftover_temp_file_and_records_it() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    let leftover = "R9tV2mX7kQ4pL8wN3cB6zH1jF5dS0gA2eU7yI4oK9lM3nP6vC8xT1qW5rE7bZ2h";
    sb.write(
        ".keywarden-Ab12Cd.tmp",
        &format!("SECRET_KEY='{leftover}'\n"),
    );
    let status = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(stdout(&status).contains("KW120"), "{}", stdout(&status));
    let out = sb.kw().args(["fix", "development"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !sb.project.path().join(".keywarden-Ab12Cd.tmp").exists(),
        "the leftover is removed once the project lock is held"
    );
    let audit = sb.kw().args(["audit", "--json"]).output().unwrap();
    no_key_in(&audit, leftover);
    assert!(
        stdout(&audit).contains("cleanup") && stdout(&audit).contains(".keywarden-Ab12Cd.tmp"),
        "{}",
        stdout(&audit)
    );
    let status = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(!stdout(&status).contains("KW120"));
}

/// The project's `backups` folder under the state home.
fn backups_dir(home: &Path) -> PathBuf {
    fn find(dir: &Path) -> Option<PathBuf> {
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "backups") {
                    return Some(p);
                }
                if let Some(found) = find(&p) {
                    return Some(found);
                }
            }
        }
        None
    }
    find(home).expect("a backups folder under KEYWARDEN_HOME")
}

#[test]
fn a_half_written_backup_record_is_reported() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // As a kill during a backup leaves it: the content written, meta.json empty.
    let id = "20260101T000000Z-development-99";
    let dir = backups_dir(sb.home.path()).join(id);
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o700);
    std::fs::write(dir.join("content"), OLD).unwrap();
    std::fs::write(dir.join("meta.json"), "").unwrap();
    for args in [&["backups"][..], &["backups", "--json"]] {
        let out = sb.kw().args(args).output().unwrap();
        no_key_in(&out, OLD);
        let text = both(&out);
        assert!(
            text.contains(id) || text.contains("meta.json"),
            "keywarden {}: the damaged backup {id} is skipped silently:\n{text}",
            args.join(" ")
        );
    }
}

// ---- 10. Wrong things as targets or keys ------------------------------------------------

#[test]
fn the_manifest_and_gitignore_are_refused_as_targets() {
    let mut failures = Vec::new();
    for (file, target) in [
        (
            "keywarden.toml",
            "{ path = \"keywarden.toml\", format = \"toml\", key = \"secret_key\" }",
        ),
        (
            ".gitignore",
            "{ path = \".gitignore\", format = \"dotenv\" }",
        ),
    ] {
        let sb = Sandbox::new();
        dev_manifest(&sb, &format!("  {target},\n  {{ path = \".env\" }},\n"));
        sb.write(".gitignore", ".env\n");
        sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
        let manifest = sb.read("keywarden.toml");
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        let err = stderr(&out);
        if out.status.code() != Some(2) || !err.contains(file) {
            failures.push(format!(
                "{file} as a target: set exited {:?}, not 2 naming it: {}",
                out.status.code(),
                err.trim()
            ));
        }
        if sb.read("keywarden.toml") != manifest || sb.read(".gitignore") != ".env\n" {
            failures.push(format!("{file} as a target: it was written"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn set_stdin_refuses_keys_that_generate_would_refuse() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    let before = format!("SECRET_KEY='{OLD}'\n");
    sb.write(".env", &before);
    let long: String = "aB3".repeat(1366)[..4097].to_string();
    let huge: String = "xY7".repeat(20 * 1024 * 1024 / 3 + 1);
    let weak = "password123password123password123password123";
    let mut failures = Vec::new();
    for (what, key) in [
        ("`a`", "a"),
        ("a 4,097-character key", long.as_str()),
        ("a 20 MB key", huge.as_str()),
        ("a critically weak key", weak),
    ] {
        let out = with_stdin(keywarden(&sb, &["set", "development", "--stdin"]), key);
        if key.len() > 1 {
            no_key_in(&out, key);
        }
        if out.status.code() != Some(2) {
            failures.push(format!(
                "{what}: set --stdin exited {:?}, not 2",
                out.status.code()
            ));
        }
        if sb.read(".env") != before {
            failures.push(format!("{what}: written to .env"));
        }
        sb.write(".env", &before);
    }
    // With --allow-weak the user's choice is taken, and said to be weak.
    let out = sb
        .kw()
        .args(["set", "development", "--stdin", "--allow-weak"])
        .write_stdin(weak)
        .output()
        .unwrap();
    no_key_in(&out, weak);
    if !out.status.success() {
        failures.push(format!(
            "--allow-weak: set exited {:?}: {}",
            out.status.code(),
            stderr(&out).trim()
        ));
    } else {
        if env_value(&sb.read(".env"), "SECRET_KEY").as_deref() != Some(weak) {
            failures.push("--allow-weak: the key was not written".into());
        }
        let text = both(&out);
        if !text.contains("weak") && !text.contains("critical") {
            failures.push(format!("--allow-weak: the output does not say why: {text}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Runs `cmd` with `input` on its stdin (written from a thread; a process that stops
/// reading early is no error) and returns its output, killed after 60 s.
fn with_stdin(mut cmd: Command, input: &str) -> Output {
    cmd.stdin(Stdio::piped());
    let mut p = Proc::spawn(cmd, "keywarden set --stdin");
    let mut stdin = p.child.stdin.take().unwrap();
    let bytes = input.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = p.finish_within(60);
    writer.join().unwrap();
    out
}

// ---- 11. Two rotations inside the grace period ------------------------------------------

#[test]
fn a_second_rotation_within_grace_keeps_both_previous_keys_newest_first() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ngrace_days = 7\n\
         fallback = { path = \"fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }\n\
         targets = [{ path = \"prod.env\" }]\n",
    );
    sb.write("prod.env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write("fallback.env", "# previous keys\n");
    let mut keys = vec![OLD.to_string()];
    for round in 1..=2 {
        let out = sb
            .kw()
            .args(["rotate", "production", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "rotation {round}: {}", stderr(&out));
        keys.push(env_value(&sb.read("prod.env"), "SECRET_KEY").unwrap());
    }
    let (k0, k1, k2) = (&keys[0], &keys[1], &keys[2]);
    let fallback = sb.read("fallback.env");
    let line = fallback
        .lines()
        .find(|l| l.starts_with("SECRET_KEY_FALLBACKS="))
        .unwrap_or_else(|| panic!("no SECRET_KEY_FALLBACKS line:\n{fallback}"));
    let (p1, p0) = (line.find(k1.as_str()), line.find(k0.as_str()));
    assert!(
        p0.is_some(),
        "the key before last was dropped from the fallback inside its grace period: its sessions die"
    );
    assert!(p1.is_some(), "the previous key is in the fallback");
    assert!(p1 < p0, "newest first");
    assert!(
        !line.contains(k2.as_str()),
        "the current key is not a fallback"
    );
    let st = status_json(&sb);
    assert!(st["environments"][0]["fingerprint"].is_string());
}

// ---- 12. Disk full after the targets were written ---------------------------------------

/// A tmpfs mounted on a folder for the test's life.
pub(crate) struct Tmpfs(PathBuf);

impl Tmpfs {
    pub(crate) fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(Tmpfs(dir.to_path_buf()))
        } else {
            Err(stderr(&out).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Fills the file system holding `dir` to the last byte.
pub(crate) fn fill(dir: &Path) -> std::fs::File {
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    for chunk in [65536, 4096, 512, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    f
}

#[test]
fn disk_full_after_the_targets_were_written_is_reported_truthfully() {
    if !require("strace", "disk full while writing state") || !require("mount", "a small tmpfs") {
        return;
    }
    let sb = Sandbox::new();
    let _tmpfs = match Tmpfs::mount(sb.home.path(), "2m") {
        Ok(m) => m,
        Err(why) => {
            skip(
                "disk full while writing state",
                "the right to mount a tmpfs (root)",
                &format!("mount said: {why}"),
            );
            return;
        }
    };
    dev_manifest(&sb, "  { path = \".env\" },\n");
    let before = format!("A=1\nSECRET_KEY='{OLD}'\n");
    sb.write(".env", &before);
    let mut p = Proc::spawn(
        traced(&sb, DELAY_RENAMES, &["set", "development", "--generate"]),
        "keywarden set development --generate",
    );
    let root = sb.root();
    p.wait_until(60, "its temporary file in the project folder", || {
        !temp_files(&root).is_empty()
    });
    // The targets are about to be renamed into place: from now on the state home is full.
    let filler = fill(sb.home.path());
    let out = p.finish_within(60);
    drop(filler);
    std::fs::remove_file(sb.home.path().join("filler")).unwrap();
    let after = sb.read(".env");
    let new_on_disk = after != before;
    let text = both(&out);
    if let Some(k) = env_value(&after, "SECRET_KEY") {
        no_key_in(&out, &k);
    }

    let st = status_json(&sb);
    let env = &st["environments"][0];
    let on_disk = env["targets"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let audit = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&audit.stdout).unwrap_or(Value::Null);
    let set_ok = events.as_array().into_iter().flatten().any(|e| {
        e["action"] == "set" && e["result"] == "ok" && e["fingerprints"]["new"] == on_disk
    });
    match (out.status.success(), new_on_disk) {
        (true, true) => {
            assert_eq!(env["fingerprint"], on_disk.as_str(), "exit 0: state agrees");
            assert_eq!(env["age_source"], "recorded", "exit 0: the state was saved");
            assert!(set_ok, "exit 0: the audit records the set");
        }
        (true, false) => panic!("set exited 0 and wrote nothing: {text}"),
        (false, true) => {
            assert!(
                text.contains(".env") && text.contains(&on_disk),
                "set failed (exit {:?}) after .env received key {on_disk}, and its message does not say so: {}",
                out.status.code(),
                text.trim()
            );
            let last = events
                .as_array()
                .into_iter()
                .flatten()
                .rfind(|e| e["action"] == "set" && e["fingerprints"]["new"] == on_disk);
            assert!(
                last.is_none_or(|e| e["result"] != "failed"),
                "the key reached .env but the audit's last word is `set failed`"
            );
        }
        (false, false) => {
            assert!(
                !set_ok,
                "nothing reached the files but the audit says `set ok`"
            );
        }
    }
}
