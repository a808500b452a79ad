//! The interactive view of an environment whose key is in an OpenBao KV v2 store: its
//! target line shows the store path and the version, in a real terminal (tmux) against a
//! real OpenBao dev server.

use super::support::*;
use crate::common::bao::Bao;
use crate::common::tmux::Tmux;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_target_line_shows_the_store_path_and_version() {
    if !require("tmux", "the OpenBao target in the interactive view") {
        return;
    }
    let Some(bao) = Bao::start("the OpenBao target in the interactive view") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("keywarden.toml"),
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ vault = \"secret/baguette/production\" }]\n",
    )
    .unwrap();
    bao.ok(&[
        "kv",
        "put",
        "secret/baguette/production",
        "DATABASE_URL=postgres://db",
    ]);
    let mut env: Vec<(&str, PathBuf)> = tmux_env(&home);
    env.push(("BAO_ADDR", PathBuf::from(&bao.addr)));
    env.push(("BAO_TOKEN", PathBuf::from(&bao.token)));
    env.push(("HOME", home.clone()));
    let out = Command::new(bin())
        .arg("--project")
        .arg(&dir)
        .args(["set", "production", "--generate", "--yes"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let tmux = Tmux::start(
        120,
        30,
        &env.iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin().to_str().unwrap(), "--project", dir.to_str().unwrap()],
    );
    let screen = tmux.wait_for("the store target line", 20, |s| {
        s.contains("vault:secret/baguette/production#SECRET_KEY") && s.contains("v2")
    });
    let key = bao
        .field("secret/baguette/production", "SECRET_KEY")
        .unwrap();
    assert!(!screen.contains(&key), "the key is never on screen");
}
