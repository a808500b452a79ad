//! Adversarial tests: what an attacker or a hurried user does to a project while (or
//! between) keywarden's writes, against the README's claims ("Writing keys safely",
//! "Rotation and revocation", "Exit codes", "Finding codes").
//!
//! Every race is widened with `strace`'s syscall delay or made exact with its signal
//! injection (`-e inject=SYSCALL:signal=KILL:when=N`, the N-th call of SYSCALL), and the
//! test acts when keywarden is seen inside the window, never after a fixed sleep.

use crate::common::require;
use crate::support::{Sandbox, stderr, stdout};
use crate::writes::{
    OLD, Proc, backup_entries, codes, dev_manifest, env_value, keywarden, no_key_in, status_json,
    temp_files, traced,
};
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Every finding code of every environment in `status --json`.
fn all_codes(st: &Value) -> Vec<String> {
    st["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| codes(&e["findings"]))
        .collect()
}

/// The id of the newest backup of `kind` (`key` or `file`) whose target is `target`.
fn backup_id(sb: &Sandbox, kind: &str, target: &str) -> String {
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    assert!(out.status.success(), "backups: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == kind && b["target"] == target)
        .filter_map(|b| b["id"].as_str())
        .max()
        .unwrap_or_else(|| panic!("no {kind} backup of {target}: {v}"))
        .to_string()
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A file under the state home named `name` (any depth).
fn find_in_home(home: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(home).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(found) = find_in_home(&p, name) {
                return Some(found);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

// ---- Claim 7: git's and keywarden's own files are never targets, also through a symlink

#[test]
fn restore_never_writes_a_key_into_gitignore_through_a_symlink() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write(".gitignore", ".env\n");
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "set: {}", stderr(&out));
    let id = backup_id(&sb, "file", ".env");
    // A hurried user "links .env to the ignore file", or an attacker does it for them.
    std::fs::remove_file(sb.project.path().join(".env")).unwrap();
    symlink(".gitignore", sb.project.path().join(".env")).unwrap();
    let out = sb
        .kw()
        .args(["restore", "development", &id])
        .output()
        .unwrap();
    no_key_in(&out, OLD);
    let gitignore = sb.read(".gitignore");
    assert_eq!(
        gitignore,
        ".env\n",
        "restore (exit {:?}) wrote the backup of .env, key included, into .gitignore through the symlink .env -> .gitignore",
        out.status.code()
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "restore refuses the target as set does: {}",
        stderr(&out)
    );
}

#[test]
fn rollback_never_writes_into_the_manifest_nor_deletes_gitignore_through_symlinks() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\nverify = \"false\"\n\
         targets = [{ path = \".env\" }, { path = \"new.env\" }]\n",
    );
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write(".gitignore", ".env\nnew.env\n");
    let manifest = sb.read("keywarden.toml");
    // verify fails: the rotation stops journaled, new.env created by it.
    let out = sb
        .kw()
        .args(["rotate", "development", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(sb.project.path().join("new.env").is_file());
    let p = sb.project.path();
    std::fs::remove_file(p.join(".env")).unwrap();
    symlink("keywarden.toml", p.join(".env")).unwrap();
    std::fs::remove_file(p.join("new.env")).unwrap();
    symlink(".gitignore", p.join("new.env")).unwrap();
    let out = sb
        .kw()
        .args(["rotate", "development", "--rollback", "--yes"])
        .output()
        .unwrap();
    no_key_in(&out, OLD);
    let mut failures = Vec::new();
    match std::fs::read_to_string(p.join("keywarden.toml")) {
        Ok(m) if m == manifest => {}
        Ok(m) => failures.push(format!(
            "the manifest was overwritten through .env -> keywarden.toml (it now holds a key: {})",
            m.contains(OLD)
        )),
        Err(e) => failures.push(format!("the manifest is gone: {e}")),
    }
    if !p.join(".gitignore").exists() {
        failures.push(
            "rollback deleted .gitignore through new.env -> .gitignore (as `a file keywarden had created`)"
                .into(),
        );
    }
    if out.status.success() {
        failures.push(format!("rollback exited 0: {}", stdout(&out).trim()));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---- Claim 6: temporary files left by a kill are KW120 ---------------------------------

#[test]
fn status_reports_a_leftover_temp_file_beside_the_fallback() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ngrace_days = 7\n\
         fallback = { path = \"fallbacks/fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }\n\
         targets = [{ path = \".env\" }]\n",
    );
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write("fallbacks/fallback.env", "# previous keys\n");
    // As a rotation killed while writing the fallback (the old key) leaves it.
    sb.write(
        "fallbacks/.keywarden-0123456789abcdef.tmp",
        &format!("SECRET_KEY_FALLBACKS='{OLD}'\n"),
    );
    let st = status_json(&sb);
    assert!(
        all_codes(&st).iter().any(|c| c == "KW120"),
        "status does not report the leftover beside the fallback, which holds a key: {:?}",
        all_codes(&st)
    );
}

// ---- Claim 4: the loser of the lock names the holder's pid ------------------------------

/// The pid holding a `flock` on `lock` according to /proc/locks.
fn flock_holder(lock: &Path) -> Option<u32> {
    let ino = std::fs::metadata(lock).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (kind, pid, dev) = (f.get(1)?, f.get(4)?, f.get(5)?);
        (*kind == "FLOCK" && dev.rsplit(':').next()? == ino.to_string())
            .then(|| pid.parse().ok())
            .flatten()
    })
}

#[test]
fn a_locked_out_run_names_the_live_holder_even_while_it_is_slow() {
    if !require("strace", "a slow lock holder") {
        return;
    }
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\n"));
    // An earlier run leaves its (now dead) pid in the lock file.
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lock = keywarden::project::home::Home::at(sb.home.path().to_path_buf())
        .project_dir(&sb.root())
        .join("lock");
    // The holder is slow (a loaded machine, a slow disk) between taking the lock and
    // writing its pid into the file.
    let mut p = Proc::spawn(
        traced(
            &sb,
            "inject=pwrite64:delay_enter=3000000",
            &["set", "development", "--generate"],
        ),
        "keywarden set (slow holder)",
    );
    let mut holder = None;
    p.wait_until(30, "the lock taken", || {
        holder = flock_holder(&lock);
        holder.is_some()
    });
    let holder = holder.unwrap();
    let out = keywarden(&sb, &["set", "development", "--generate"])
        .output()
        .unwrap();
    let first = p.finish_within(60);
    assert!(first.status.success(), "holder: {}", stderr(&first));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("pid {holder}")),
        "the locked-out run does not name the holder, pid {holder}: {}",
        stderr(&out).trim()
    );
}

// ---- Claim 1: every write goes through the pinned folder --------------------------------

/// <sandbox>/proj is the project, <sandbox>/elsewhere is outside it.
fn nested(sb: &Sandbox, manifest: &str) -> (PathBuf, PathBuf) {
    sb.write("proj/keywarden.toml", manifest);
    sb.write("elsewhere/.keep", "");
    (sb.root().join("proj"), sb.root().join("elsewhere"))
}

#[test]
fn fix_never_changes_the_mode_of_a_file_outside_the_project() {
    if !require("strace", "a target swapped for a symlink during `fix`") {
        return;
    }
    let sb = Sandbox::new();
    let (proj, elsewhere) = nested(
        &sb,
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write("proj/.env", &format!("SECRET_KEY='{OLD}'\n"));
    crate::support::set_mode(&proj.join(".env"), 0o644);
    let outside = elsewhere.join("shared.txt");
    std::fs::write(&outside, "readable by everyone on purpose\n").unwrap();
    crate::support::set_mode(&outside, 0o644);
    let mut cmd = traced(
        &sb,
        "inject=chmod,fchmodat:delay_enter=1000000",
        &["fix", "development"],
    );
    cmd.current_dir(&proj);
    let mut p = Proc::spawn(cmd, "keywarden fix development");
    let home = sb.home.path().to_path_buf();
    p.wait_until(60, "the fix recorded (the target was checked)", || {
        find_in_home(&home, "audit.jsonl")
            .and_then(|a| std::fs::read_to_string(a).ok())
            .is_some_and(|t| t.contains("\"fix\""))
    });
    std::fs::rename(proj.join(".env"), proj.join(".env.real")).unwrap();
    symlink(&outside, proj.join(".env")).unwrap();
    let out = p.finish_within(60);
    let mode = mode_of(&outside);
    assert_eq!(
        mode,
        0o644,
        "fix (exit {:?}) changed the mode of a file outside the project, through a symlink swapped in for .env, from 0644 to {mode:04o}: {}",
        out.status.code(),
        stderr(&out).trim()
    );
}

#[test]
fn rollback_never_deletes_a_file_outside_the_project_through_a_swapped_folder() {
    if !require(
        "strace",
        "a folder swapped for a symlink during `rotate --rollback`",
    ) {
        return;
    }
    let sb = Sandbox::new();
    let (proj, elsewhere) = nested(
        &sb,
        "version = 1\n[[environments]]\nname = \"development\"\nverify = \"false\"\n\
         targets = [{ path = \".env\" }, { path = \"deploy/.env\" }]\n",
    );
    sb.write("proj/.env", &format!("SECRET_KEY='{OLD}'\n"));
    std::fs::create_dir(proj.join("deploy")).unwrap();
    std::fs::write(elsewhere.join(".env"), "ELSEWHERE=1\n").unwrap();
    // The rotation creates deploy/.env, then verify fails: journaled, to roll back.
    let out = keywarden(&sb, &["rotate", "development", "--yes"])
        .current_dir(&proj)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(proj.join("deploy/.env").is_file());
    let home = sb.home.path().to_path_buf();
    let before = backup_entries(&home);
    let mut cmd = traced(
        &sb,
        "inject=unlink,unlinkat:delay_enter=500000",
        &["rotate", "development", "--rollback", "--yes"],
    );
    cmd.current_dir(&proj);
    let mut p = Proc::spawn(cmd, "keywarden rotate development --rollback");
    p.wait_until(
        60,
        "the created file backed up (about to remove it)",
        || backup_entries(&home) > before,
    );
    std::fs::rename(proj.join("deploy"), proj.join("deploy.real")).unwrap();
    symlink("../elsewhere", proj.join("deploy")).unwrap();
    let out = p.finish_within(60);
    assert!(
        elsewhere.join(".env").exists(),
        "rollback (exit {:?}) deleted a file outside the project: the folder deploy/ was swapped for a symlink after the check; stderr: {}",
        out.status.code(),
        stderr(&out).trim()
    );
}

#[test]
fn an_edit_made_during_the_swap_back_is_never_deleted() {
    if !require("strace", "an edit during the swap back") {
        return;
    }
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    sb.write(".env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    let mut p = Proc::spawn(
        traced(
            &sb,
            "inject=renameat2:delay_enter=1000000",
            &["set", "development", "--generate"],
        ),
        "keywarden set development --generate",
    );
    let root = sb.root();
    let env = root.join(".env");
    p.wait_until(30, "its temporary file (about to exchange)", || {
        !temp_files(&root).is_empty()
    });
    // First edit, before the exchange: keywarden will find it and swap it back.
    std::fs::write(&env, format!("A=1\nSECRET_KEY='{OLD}'\nUSER_EDIT=1\n")).unwrap();
    p.wait_until(
        30,
        "keywarden's version in place (before the swap back)",
        || std::fs::read_to_string(&env).is_ok_and(|t| !t.contains("USER_EDIT")),
    );
    // Second edit, of the file now in place, while the swap back waits.
    let mut f = std::fs::OpenOptions::new().append(true).open(&env).unwrap();
    f.write_all(b"USER_EDIT=2\n").unwrap();
    drop(f);
    let out = p.finish_within(60);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let survivors: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("USER_EDIT=2")))
        .collect();
    assert!(
        !survivors.is_empty(),
        "the edit made while keywarden swapped the first one back was deleted (.env now: {:?}); stderr: {}",
        sb.read(".env"),
        stderr(&out).trim()
    );
}

// ---- Claims 5 and 6: killed at every step, the project is always recoverable ------------

/// SIGKILLs `args` at the `n`-th call of `syscall` (exactly, through strace) in a project
/// with two files, then checks what the README promises.
/// Returns the failures and whether the run was really killed.
fn killed_at(syscall: &str, n: usize, args: &[&str], manifest: &str) -> (Vec<String>, bool) {
    let sb = Sandbox::new();
    sb.write("keywarden.toml", manifest);
    let before_a = format!("A=1\nSECRET_KEY='{OLD}'\n");
    let before_b = format!("SECRET_KEY='{OLD}'\nB=2\n");
    sb.write(".env", &before_a);
    sb.write("deploy/.env", &before_b);
    let at = format!("{syscall} #{n}");
    let inject = format!("inject={syscall}:signal=KILL:when={n}");
    let out = Proc::spawn(traced(&sb, &inject, args), &at).finish_within(60);
    let killed = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(libc::SIGKILL) || out.status.code() == Some(128 + libc::SIGKILL)
    };
    let mut failures = Vec::new();
    let keys: Vec<Option<String>> = [".env", "deploy/.env"]
        .iter()
        .map(|f| env_value(&sb.read(f), "SECRET_KEY"))
        .collect();
    for (f, k) in [".env", "deploy/.env"].iter().zip(&keys) {
        match k {
            Some(k) => {
                if k != OLD {
                    no_key_in(&out, k);
                }
            }
            None => failures.push(format!("{at}: {f} holds no key: {:?}", sb.read(f))),
        }
    }
    if !sb.read(".env").starts_with("A=1\n") || !sb.read("deploy/.env").ends_with("B=2\n") {
        failures.push(format!("{at}: a file lost its other lines"));
    }
    let st = status_json(&sb);
    let found = all_codes(&st);
    let leftovers = temp_files(&sb.root()).len() + temp_files(&sb.root().join("deploy")).len();
    if leftovers > 0 && !found.iter().any(|c| c == "KW120") {
        failures.push(format!(
            "{at}: {leftovers} temporary file(s) left and no KW120: {found:?}"
        ));
    }
    if keys[0] != keys[1] && !found.iter().any(|c| c == "KW118") {
        failures.push(format!(
            "{at}: the files hold different keys and status reports no KW118: {found:?}"
        ));
    }
    // Recovery: finish what was left, or any locked command when nothing was.
    let recover: &[&str] = if found.iter().any(|c| c == "KW118") {
        &["rotate", "development", "--resume", "--yes", "--no-restart"]
    } else {
        &["fix", "development"]
    };
    let rec = sb.kw().args(recover).output().unwrap();
    if !rec.status.success() {
        failures.push(format!(
            "{at}: keywarden {}: exit {:?}: {}",
            recover.join(" "),
            rec.status.code(),
            stderr(&rec).trim()
        ));
        return (failures, killed);
    }
    let st = status_json(&sb);
    let env = &st["environments"][0];
    if !env["fingerprint"].is_string() {
        failures.push(format!(
            "{at}: after `{}` the targets do not hold one key: {:?}",
            recover.join(" "),
            codes(&env["findings"])
        ));
    }
    let left: Vec<String> = codes(&env["findings"])
        .into_iter()
        .filter(|c| c == "KW118" || c == "KW120" || c == "KW102")
        .collect();
    if !left.is_empty() {
        failures.push(format!("{at}: after recovery: {left:?}"));
    }
    let leftovers = temp_files(&sb.root()).len() + temp_files(&sb.root().join("deploy")).len();
    if leftovers > 0 {
        failures.push(format!(
            "{at}: {leftovers} temporary file(s) survive the next locked command"
        ));
    }
    (failures, killed)
}

const TWO_FILES: &str = "version = 1\n[[environments]]\nname = \"development\"\n\
    targets = [{ path = \".env\" }, { path = \"deploy/.env\" }]\n";

/// The syscalls around every file keywarden writes (targets, backups, state, audit) and
/// how many calls of each a run makes at most.
const KILL_POINTS: [(&str, usize); 6] = [
    ("renameat2", 3),
    ("rename", 8),
    ("unlinkat", 3),
    ("unlink", 10),
    ("mkdir", 6),
    ("fsync", 12),
];

/// Kills `keywarden ARGS` at every kill point and checks each project it leaves.
fn killed_at_every_step(what: &str, args: &[&str]) {
    if !require("strace", what) {
        return;
    }
    let (mut failures, mut kills) = (Vec::new(), 0);
    for (syscall, max) in KILL_POINTS {
        for n in 1..=max {
            let (f, k) = killed_at(syscall, n, args, TWO_FILES);
            failures.extend(f);
            kills += usize::from(k);
        }
    }
    assert!(
        kills >= 20,
        "only {kills} runs were killed: the kill points are wrong"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn set_killed_at_every_step_leaves_a_recoverable_project() {
    killed_at_every_step(
        "`set` killed at every step",
        &["set", "development", "--generate"],
    );
}

#[test]
fn rotate_killed_at_every_step_leaves_a_recoverable_project() {
    killed_at_every_step(
        "`rotate` killed at every step",
        &["rotate", "development", "--yes", "--no-restart"],
    );
}

#[test]
fn revoke_killed_at_every_step_leaves_a_recoverable_project() {
    killed_at_every_step(
        "`revoke` killed at every step",
        &[
            "revoke",
            "development",
            "--reason",
            "leaked in a test",
            "--yes",
        ],
    );
}

// ---- Guards: what must keep working -----------------------------------------------------

#[test]
fn a_target_folder_linked_inside_the_project_is_written_through_the_real_folder() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \"current/.env\" },\n");
    sb.write("releases/v2/.env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    symlink("releases/v2", sb.project.path().join("current")).unwrap();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let k = env_value(&sb.read("releases/v2/.env"), "SECRET_KEY").unwrap();
    assert_ne!(k, OLD);
    no_key_in(&out, &k);
    assert!(
        std::fs::symlink_metadata(sb.project.path().join("current"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let st = status_json(&sb);
    assert!(st["environments"][0]["fingerprint"].is_string());
}

#[test]
fn the_manifest_through_dot_dot_is_refused_as_a_target() {
    let sb = Sandbox::new();
    dev_manifest(
        &sb,
        "  { path = \"x/../keywarden.toml\", format = \"toml\", key = \"secret_key\" },\n",
    );
    std::fs::create_dir(sb.project.path().join("x")).unwrap();
    let manifest = sb.read("keywarden.toml");
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(sb.read("keywarden.toml"), manifest);
}

#[test]
fn a_target_over_1_mib_is_kw115_and_never_replaced() {
    let sb = Sandbox::new();
    dev_manifest(&sb, "  { path = \".env\" },\n");
    let big = format!("SECRET_KEY='{OLD}'\n#{}\n", "x".repeat(1 << 20));
    sb.write(".env", &big);
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(sb.read(".env"), big);
    let st = status_json(&sb);
    assert!(all_codes(&st).iter().any(|c| c == "KW115"));
}

#[test]
fn a_hard_link_from_outside_the_project_never_receives_the_new_key() {
    let sb = Sandbox::new();
    let (proj, elsewhere) = nested(
        &sb,
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write("proj/.env", &format!("SECRET_KEY='{OLD}'\n"));
    std::fs::hard_link(proj.join(".env"), elsewhere.join("copy.env")).unwrap();
    let out = keywarden(&sb, &["set", "development", "--generate"])
        .current_dir(&proj)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let k = env_value(
        &std::fs::read_to_string(proj.join(".env")).unwrap(),
        "SECRET_KEY",
    )
    .unwrap();
    assert_ne!(k, OLD);
    let other = std::fs::read_to_string(elsewhere.join("copy.env")).unwrap();
    assert!(
        !other.contains(&k),
        "the new key reached a name outside the project"
    );
}
