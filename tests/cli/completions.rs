//! Shell completions and the manual page, as a shell and `man` meet them.

use crate::common::require;
use crate::support::{Sandbox, stderr, stdout};
use std::process::Command;

#[test]
fn bash_completion_loads_and_completes_the_commands() {
    if !require("bash", "bash completions") {
        return;
    }
    let sb = Sandbox::new();
    let out = sb.kw().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let script = sb.write("keywarden.bash", &stdout(&out));
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    // Sourced, it registers for `keywarden` and offers the commands after `keywarden ro`.
    let probe = format!(
        "source {0}; complete -p keywarden; COMP_WORDS=(keywarden ro); COMP_CWORD=1; \
         COMP_LINE='keywarden ro'; COMP_POINT=12; _keywarden keywarden ro keywarden; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let run = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.contains("-F _keywarden keywarden"), "{text}");
    assert!(text.lines().any(|l| l == "rotate"), "{text}");
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_refused() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = sb.kw().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(stdout(&out).contains("rotate"), "{shell}");
    }
    let out = sb.kw().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_manual_page_names_every_command() {
    let sb = Sandbox::new();
    let out = sb.kw().arg("man").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH keywarden 1"), "{page}");
    for cmd in [
        "demo",
        "init",
        "status",
        "check",
        "generate",
        "analyze",
        "set",
        "fix",
        "rotate",
        "revoke",
        "backups",
        "restore",
        "audit",
        "incident",
        "scan",
        "copy",
        "completions",
    ] {
        assert!(page.contains(&format!("keywarden\\-{cmd}(1)")), "{cmd}");
        // And the page it points to exists.
        let out = sb.kw().args(["man", cmd]).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!(".TH keywarden-{cmd} 1")),
            "{cmd}"
        );
    }
    let listed = stdout(&sb.kw().args(["man", "--list"]).output().unwrap());
    assert!(listed.lines().any(|l| l == "rotate"), "{listed}");
    assert_eq!(
        sb.kw()
            .args(["man", "nope"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert!(
        !page.contains("clipboard-serve"),
        "the internal command stays hidden"
    );
    // `man` itself can format it, where it is installed.
    if crate::common::on_path("man").is_some() {
        let file = sb.write("keywarden.1", &page);
        let fmt = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(fmt.status.success(), "{}", stderr(&fmt));
        assert!(stdout(&fmt).contains("rotate"));
    }
}
