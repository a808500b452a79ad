//! The command line at a real terminal (tmux): a key typed for `set --stdin` is never
//! echoed, production asks for its name, and the incident walk prompts step by step.

use crate::common::tmux::Tmux;
use crate::support::Sandbox;
use std::path::Path;

const KEY: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

/// One keywarden command at a real terminal (tmux, 120×40) in the sandbox, followed by
/// `EXIT=<code>` when it ends.
struct Term {
    tmux: Tmux,
}

fn tmux_available() -> bool {
    crate::common::require("tmux", "the command line at a real terminal")
}

impl Term {
    fn start(sb: &Sandbox, args: &str) -> Term {
        Term::start_with(sb, args, true)
    }

    /// `with_passphrase_file`: false leaves the backup identity's passphrase to the
    /// terminal.
    fn start_with(sb: &Sandbox, args: &str, with_passphrase_file: bool) -> Term {
        let bin = assert_cmd::cargo::cargo_bin("keywarden");
        let cmd = format!(
            "cd '{}' && '{}' {args}; echo EXIT=$?; sleep 60",
            sb.project.path().display(),
            bin.display()
        );
        let pass = sb.passphrase_file();
        let mut env = vec![
            ("KEYWARDEN_HOME", sb.home.path()),
            ("NO_COLOR", Path::new("1")),
            ("KEYWARDEN_KEYRING", Path::new("off")),
            ("KEYWARDEN_TEST_SCRYPT_LOG_N", Path::new("4")),
        ];
        if with_passphrase_file {
            env.push(("KEYWARDEN_PASSPHRASE_FILE", &pass));
        }
        let tmux = Tmux::start(120, 40, &env, &["sh", "-c", &cmd]);
        Term { tmux }
    }

    fn wait_for(&self, text: &str) -> String {
        self.tmux
            .wait_for(&format!("{text:?}"), 20, |s| s.contains(text))
    }

    fn send(&self, keys: &str) {
        self.tmux.line(keys);
    }
}

#[test]
fn a_typed_key_is_not_echoed_and_production_asks_for_its_name() {
    if !tmux_available() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \"prod.env\" }]\n");
    sb.write("prod.env", "SECRET_KEY=old\n");
    let t = Term::start(&sb, "set production --stdin");
    t.wait_for("type the environment's name to confirm");
    t.send("production");
    t.wait_for("input hidden");
    t.send(KEY);
    let screen = t.wait_for("EXIT=");
    assert!(
        !screen.contains(KEY) && !screen.contains("Zq8#vN2"),
        "the key was echoed:\n{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(sb.read("prod.env"), format!("SECRET_KEY='{KEY}'\n"));

    let t = Term::start(&sb, "rotate production");
    t.wait_for("type the environment's name to confirm");
    t.send("prod");
    let screen = t.wait_for("EXIT=");
    assert!(
        screen.contains("not confirmed") && screen.contains("EXIT=2"),
        "{screen}"
    );
    assert_eq!(
        sb.read("prod.env"),
        format!("SECRET_KEY='{KEY}'\n"),
        "nothing changed"
    );
    let t = Term::start(&sb, "rotate production");
    t.wait_for("type the environment's name to confirm");
    t.send("production");
    let screen = t.wait_for("EXIT=");
    assert!(
        screen.contains("production: now uses kw:") && screen.contains("EXIT=0"),
        "{screen}"
    );
    assert_ne!(sb.read("prod.env"), format!("SECRET_KEY='{KEY}'\n"));
}

#[test]
fn the_backup_passphrase_is_asked_at_the_terminal_hidden() {
    if !tmux_available() {
        return;
    }
    const PASS: &str = "typed passphrase 7f3a";
    let sb = Sandbox::new();
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n");
    sb.write("staging.env", &format!("SECRET_KEY='{KEY}'\n"));
    // The first backup makes the identity: a new passphrase, asked twice.
    let t = Term::start_with(&sb, "set staging --generate", false);
    t.wait_for("New passphrase (input hidden)");
    t.send(PASS);
    t.wait_for("The same passphrase again");
    t.send(PASS);
    let screen = t.wait_for("EXIT=");
    assert!(
        !screen.contains(PASS),
        "the passphrase was echoed:\n{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(sb.home.path().join("backup-identity.age").is_file());

    // Reading a backup asks for it; a wrong one is asked again, then the right one works.
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "file")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Term::start_with(&sb, &format!("restore staging {id} --yes"), false);
    t.wait_for("Passphrase of the backup identity");
    t.send("wrong one");
    t.wait_for("try again");
    t.send(PASS);
    let screen = t.wait_for("EXIT=");
    assert!(
        !screen.contains(PASS) && !screen.contains("wrong one"),
        "{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(sb.read("staging.env"), format!("SECRET_KEY='{KEY}'\n"));
}

#[test]
fn the_incident_walk_prompts_and_saves_each_step() {
    if !tmux_available() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n");
    sb.write("staging.env", "OTHER=1\n");
    let t = Term::start(&sb, "incident start lost staging");
    t.wait_for("Step 1/4: Check the secure backups");
    t.send("r");
    t.wait_for("note (Enter for none)");
    t.send("nothing in the vault either");
    t.wait_for("Step 2/4: Generate a new key if none was found");
    t.send("q");
    let screen = t.wait_for("EXIT=");
    assert!(
        screen.contains("Continue with: keywarden incident resume INC-"),
        "{screen}"
    );
    let out = sb
        .kw()
        .args(["incident", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &list[0]["steps"][0];
    assert_eq!(step["status"], "done");
    assert_eq!(step["notes"][0]["text"], "nothing in the vault either");
    assert_eq!(list[0]["steps"][1]["status"], "pending");
}
