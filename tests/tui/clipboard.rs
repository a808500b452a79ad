//! `keywarden copy` against a real X server (Xvfb), read back with `xclip`: the key is
//! pasteable after `copy` returns, gone after the delay, and a newer copy is left alone.

use super::support::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb display of our own, stopped on drop.
struct Display {
    name: String,
    server: Child,
}

impl Display {
    fn start() -> Display {
        // Xvfb picks a free display number itself and writes it to stdout (no race with
        // tests running at the same time).
        let mut server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "640x480x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb said {line:?}"));
        Display {
            name: format!(":{n}"),
            server,
        }
    }

    /// The clipboard's text, or `None` when nothing owns it.
    fn paste(&self) -> Option<String> {
        let out = Command::new("xclip")
            .args(["-o", "-selection", "clipboard"])
            .env("DISPLAY", &self.name)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            .filter(|s| !s.is_empty())
    }

    /// Waits (up to `secs`) until `ok` holds for the clipboard.
    fn wait_for(&self, secs: u64, ok: impl Fn(&Option<String>) -> bool) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.paste();
            if ok(&now) || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        // SIGTERM, so Xvfb removes its lock file and socket (SIGKILL would leave them).
        unsafe { libc::kill(self.server.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn copy(fx: &Fixture, display: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--project")
        .arg(&fx.root)
        .arg("copy")
        .args(args)
        .env("KEYWARDEN_HOME", fx.home.path())
        .envs(backup_env(fx.home.path()))
        .env_remove("SECRET_KEY")
        .env_remove("WAYLAND_DISPLAY");
    match display {
        Some(d) => cmd.env("DISPLAY", d),
        None => cmd.env_remove("DISPLAY"),
    };
    cmd.output().unwrap()
}

fn tools() -> bool {
    require("Xvfb", "copying to the clipboard") && require("xclip", "copying to the clipboard")
}

#[test]
fn copy_serves_the_key_then_clears_it() {
    if !tools() {
        return;
    }
    let display = Display::start();
    let fx = Fixture::demo();
    let key = "dev-secret-key-for-testing-only";
    let started = Instant::now();
    let out = copy(
        &fx,
        Some(&display.name),
        &["development", "--clear-after", "3"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("copied to the clipboard"), "{stdout}");
    assert!(!stdout.contains(key), "copy never prints the key");
    // `copy` has returned, yet the key is pasteable: the background process serves it.
    assert_eq!(display.paste().as_deref(), Some(key));
    // The audit trail has the copy, by fingerprint, and never the key.
    let events = audit_events(&fx);
    let last = events.last().unwrap();
    assert_eq!(last["action"], "copy");
    assert_eq!(last["result"], "ok");
    assert_eq!(last["environment"], "development");
    assert!(stdout.contains(last["fingerprints"]["new"].as_str().unwrap()));
    assert!(!serde_json::to_string(&events).unwrap().contains(key));
    let after = display.wait_for(10, |c| c.as_deref() != Some(key));
    assert_eq!(after, None, "cleared");
    assert!(
        started.elapsed() >= Duration::from_millis(2_500),
        "not before its time"
    );
}

#[test]
fn no_audit_record_no_copy() {
    if !tools() {
        return;
    }
    let display = Display::start();
    let fx = Fixture::demo();
    damage_audit(&fx);
    let out = copy(&fx, Some(&display.name), &["development"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audit log"), "{err}");
    assert!(!err.contains("dev-secret-key"), "{err}");
    // `copy` returns only once a clipboard process holds the key, so had it copied, the
    // clipboard would hold the key now; and no such process was started.
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("background process"),
        "a clipboard process was started"
    );
    assert_eq!(display.paste(), None);
}

#[test]
fn a_newer_copy_is_left_alone() {
    if !tools() {
        return;
    }
    let display = Display::start();
    let fx = Fixture::demo();
    let out = copy(
        &fx,
        Some(&display.name),
        &["development", "--clear-after", "2"],
    );
    assert!(out.status.success());
    let server = serving_pid(&out);
    // The user copies something else before the clear.
    let mut other = Command::new("xclip")
        .args(["-quiet", "-selection", "clipboard", "-i"])
        .env("DISPLAY", &display.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    other
        .stdin
        .take()
        .unwrap()
        .write_all(b"the user's own text")
        .unwrap();
    let now = display.wait_for(5, |c| c.as_deref() == Some("the user's own text"));
    assert_eq!(now.as_deref(), Some("the user's own text"));
    // Once the clipboard process has ended (its clear time passed), the user's text is
    // still there: it cleared nothing that was not its own.
    wait_until_ended(server, Duration::from_secs(15));
    assert_eq!(display.paste().as_deref(), Some("the user's own text"));
    let _ = other.kill();
    let _ = other.wait();
}

/// The pid of the clipboard process that `copy` names: "(background process PID)".
fn serving_pid(out: &Output) -> u32 {
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("(background process ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no background process named in {text:?}"))
}

/// Polls until process `pid` has exited (gone, or a zombie nobody reaped yet).
fn wait_until_ended(pid: u32, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        // The state is the field after the parenthesised command name.
        let ended = state.as_deref().is_none_or(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        });
        if ended {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the clipboard process {pid} still runs after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn no_display_is_a_clear_error() {
    let fx = Fixture::demo();
    let out = copy(&fx, None, &["development"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no clipboard is available"), "{err}");
    assert!(!err.contains("dev-secret-key"), "{err}");
    // The trail says once that the copy failed.
    let events = audit_events(&fx);
    let copies: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .filter(|(a, _)| *a == "copy")
        .collect();
    assert_eq!(copies, [("copy", "failed")]);
}

#[test]
fn drift_means_no_key_to_copy() {
    let fx = Fixture::demo();
    let out = copy(&fx, None, &["staging"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hold different keys"), "{err}");
}

/// `keywarden status --json` of `dir`.
fn status_json(dir: &std::path::Path, home: &std::path::Path) -> serde_json::Value {
    let out = Command::new(bin())
        .arg("--project")
        .arg(dir)
        .args(["status", "--json"])
        .env("KEYWARDEN_HOME", home)
        .envs(backup_env(home))
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// In the TUI, `y` copies the fingerprint or a finding's fix command through the same
/// clipboard code as a key: pasteable from another program (xclip), never the key.
#[test]
fn tui_copies_a_fingerprint_and_a_fix_command() {
    if !tools() || !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let display = Display::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let mut env: Vec<(&str, std::path::PathBuf)> = tmux_env(&home);
    env.push(("DISPLAY", display.name.clone().into()));
    let tmux = crate::common::tmux::Tmux::start(
        100,
        30,
        &env.iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin().to_str().unwrap(), "demo", dir.to_str().unwrap()],
    );
    tmux.wait_for("the main view", 20, |s| {
        s.contains("Environments") && s.contains("? help")
    });
    let status = status_json(&dir, &home);
    let envs = status["environments"].as_array().unwrap();
    let first = &envs[0];
    let fp = first["fingerprint"].as_str().unwrap().to_string();
    tmux.keys(&["y"]);
    tmux.wait_for("the copy menu", 10, |s| s.contains("Copy from"));
    tmux.keys(&["Enter"]);
    let pasted = display.wait_for(10, |c| c.is_some());
    assert_eq!(pasted.as_deref(), Some(fp.as_str()));
    tmux.wait_for("the note", 10, |s| s.contains("fingerprint"));

    // A fix: the last finding with one of the first environment that has any.
    let (index, with_fix) = envs
        .iter()
        .enumerate()
        .find(|(_, e)| {
            e["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["fix"].is_string()))
        })
        .expect("a demo finding with a fix");
    let fix = with_fix["findings"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|f| f["fix"].as_str())
        .unwrap();
    let expected = keywarden::tui::copy_menu::fix_command(fix);
    for _ in 0..index {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["y"]);
    tmux.wait_for("the copy menu", 10, |s| s.contains("Copy from"));
    // The last item.
    tmux.keys(&["Down"; 20]);
    tmux.keys(&["Enter"]);
    let pasted = display.wait_for(10, |c| c.as_deref() == Some(expected.as_str()));
    assert_eq!(
        pasted.as_deref(),
        Some(expected.as_str()),
        "{}",
        tmux.screen()
    );
    let keys: Vec<String> = ["dev-secret-key-for-testing-only".to_string()].into();
    assert_no_key(&tmux.screen(), &keys);
    tmux.keys(&["q"]);
}
