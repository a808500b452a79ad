//! A real terminal for the tests: a tmux server of the test's own (its own socket, no
//! user configuration), driven with `send-keys` and read with `capture-pane`. Every wait
//! polls with a deadline, never a fixed sleep.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), killed on drop.
pub struct Tmux {
    socket: String,
    session: &'static str,
}

impl Tmux {
    pub fn start(width: u16, height: u16, env: &[(&str, &Path)], program: &[&str]) -> Tmux {
        // One server per test: tests run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = Tmux {
            socket: format!("keywarden-test-{}-{n}", std::process::id()),
            session: "kw",
        };
        let mut cmd = t.cmd();
        cmd.args(["new-session", "-d", "-s", t.session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg("--")
            .arg("env")
            .args(["-u", "SECRET_KEY", "-u", "NO_COLOR", "TERM=xterm-256color"]);
        for (k, v) in env {
            cmd.arg(format!("{k}={}", v.display()));
        }
        cmd.args(program);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    /// Types `line` literally, then Enter.
    pub fn line(&self, line: &str) {
        self.text(line);
        self.keys(&["Enter"]);
    }

    pub fn text(&self, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", self.session, "-l", text])
                .status
                .success()
        );
    }

    pub fn alive(&self) -> bool {
        self.run(&["has-session", "-t", self.session])
            .status
            .success()
    }

    /// Waits until the screen satisfies `ok`; panics with the screen after `secs`.
    pub fn wait_for(&self, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
