//! Every screen in a real terminal (tmux) at 80×24 and 120×40: the list, the details,
//! each popup, the wizard's steps, the backups, the pager, the calendar, the help. On
//! each, read with capture-pane: no key; a line cut short (`…`) comes with a way to read
//! it whole on that screen (the pager `o`, or a scroll position shown); a popup is drawn
//! whole (its bottom edge shows); and every target path and finding of the selected
//! environment reads whole in the pager.

use super::support::*;
use crate::common::tmux::Tmux;
use std::path::Path;
use std::process::Command;

fn status(dir: &Path, home: &Path) -> serde_json::Value {
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

/// The demo's keys (the guide's examples): none may show.
const DEMO_KEYS: &[&str] = &["dev-secret-key-for-testing-only"];

/// What every screen must hold to.
fn check(name: &str, s: &str, popup: bool) {
    for k in DEMO_KEYS {
        assert!(!s.contains(probe(k)), "{name}: a key on screen:\n{s}");
    }
    let way_to_whole = s.contains("o whole text")
        || s.contains("o: whole text")
        || s.contains("scroll")
        || s.contains("lines ")
        || s.contains("whole text");
    for line in s.lines() {
        if line.contains('…') && !line.contains("…)") {
            assert!(
                way_to_whole,
                "{name}: a line is cut with no way to read it whole: {line:?}\n{s}"
            );
        }
    }
    if popup {
        // The popup's frame is whole: under its top-left corner (a column where no pane
        // starts), a bottom-left one.
        let rows: Vec<Vec<char>> = s.lines().map(|l| l.chars().collect()).collect();
        let pane_cols: Vec<usize> = rows
            .iter()
            .find(|r| r.contains(&'╭'))
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, c)| **c == '╭')
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        let top = rows.iter().enumerate().find_map(|(y, r)| {
            r.iter()
                .enumerate()
                .find(|(x, c)| **c == '╭' && (y > 1 || !pane_cols.contains(x)) && *x > 0)
                .map(|(x, _)| (y, x))
        });
        if let Some((y, x)) = top {
            assert!(
                rows[y + 1..].iter().any(|r| r.get(x) == Some(&'╰')),
                "{name}: the popup's frame is cut:\n{s}"
            );
        }
    }
}

/// The screen once it stops changing (two captures alike): not a frame half drawn.
fn settled(tmux: &Tmux) -> String {
    let mut last = tmux.screen();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(60));
        let now = tmux.screen();
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

fn every_screen_at(w: u16, h: u16) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let tmux = Tmux::start(
        w,
        h,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin().to_str().unwrap(), "demo", dir.to_str().unwrap()],
    );
    let main = tmux.wait_for("the main view", 20, |s| {
        s.contains("Environments") && s.contains("? help")
    });
    check("list", &main, false);
    let st = status(&dir, &home);
    let envs = st["environments"].as_array().unwrap().clone();

    for (i, env) in envs.iter().enumerate() {
        let name = env["name"].as_str().unwrap();
        let s = tmux.wait_for(name, 10, |s| s.contains(&format!("╭ {name}")));
        check(&format!("{name}: list"), &s, false);
        // The details, focused and scrolled to the end.
        tmux.keys(&["Tab", "End"]);
        let s = settled(&tmux);
        check(&format!("{name}: details"), &s, false);
        tmux.keys(&["Home", "Tab"]);
        // The pager holds every path and finding whole.
        tmux.keys(&["o"]);
        tmux.wait_for("the pager", 10, |s| s.contains("Whole text"));
        check(&format!("{name}: pager"), &settled(&tmux), true);
        // Page to the end: until a page down changes nothing.
        let mut text = String::new();
        let mut last = String::new();
        for _ in 0..400 {
            let page = settled(&tmux);
            if page == last {
                break;
            }
            text.push_str(&page);
            last = page;
            tmux.keys(&["PageDown"]);
        }
        let flat: String = text
            .lines()
            .map(|l| l.trim_matches(|c: char| c == '│' || c == ' '))
            .collect::<Vec<_>>()
            .join(" ");
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        let flat = squeeze(&flat);
        for t in env["targets"].as_array().unwrap() {
            if let Some(p) = t["path"].as_str() {
                assert!(
                    flat.contains(&squeeze(p)),
                    "{w}×{h} {name}: path {p} not whole"
                );
            }
        }
        for f in env["findings"].as_array().unwrap() {
            let m = f["message"].as_str().unwrap();
            assert!(
                flat.contains(&squeeze(m)),
                "{w}×{h} {name}: finding {m:?} not whole in the pager"
            );
        }
        tmux.keys(&["Escape"]);
        tmux.wait_for("the pager closed", 10, |s| !s.contains("Whole text"));
        // The popups of this environment.
        let before = settled(&tmux);
        for (key, title, close) in [
            ("?", "Keys", "Escape"),
            ("t", "Rotation calendar", "Escape"),
            ("y", "Copy from", "Escape"),
            ("b", "backups (", "Escape"),
            ("a", "udit", "Escape"),
            ("R", "Rotate", "Escape"),
            ("g", "cancel", "Escape"),
            ("X", "Revoke", "Escape"),
            ("i", "ncident", "Escape"),
        ] {
            tmux.keys(&[key]);
            tmux.wait_for(title, 10, |s| s.contains(title) && s.contains('╭'));
            check(&format!("{w}×{h} {name}: {key}"), &settled(&tmux), true);
            tmux.keys(&[close]);
            tmux.wait_for("back to the list", 10, |s| s == before);
        }
        if i + 1 < envs.len() {
            tmux.keys(&["j"]);
        }
    }

    // The wizard: start the compromised-key checklist on production, read each step.
    tmux.keys(&["i"]);
    tmux.wait_for("the incident picker", 10, |s| s.contains("ncident"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the wizard", 10, |s| {
        s.contains("Step") || s.contains("step")
    });
    check(&format!("{w}×{h} wizard"), &settled(&tmux), false);
    for step in 0..10 {
        tmux.keys(&["j"]);
        let s = settled(&tmux);
        check(&format!("{w}×{h} wizard step {step}"), &s, false);
    }
    tmux.keys(&["o"]);
    tmux.wait_for("the wizard's pager", 10, |s| s.contains("Whole text"));
    check(&format!("{w}×{h} wizard pager"), &settled(&tmux), true);
    tmux.keys(&["Escape", "Escape", "q"]);
}

#[test]
fn every_screen_at_80x24() {
    if !require("tmux", "every screen in a real terminal") {
        return;
    }
    every_screen_at(80, 24);
}

#[test]
fn every_screen_at_120x40() {
    if !require("tmux", "every screen in a real terminal") {
        return;
    }
    every_screen_at(120, 40);
}
