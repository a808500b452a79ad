use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;

const KEY: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

fn git(sb: &Sandbox, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .current_dir(sb.project.path())
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn scan(sb: &Sandbox, args: &[&str]) -> (Option<i32>, Value) {
    let out = sb
        .kw()
        .arg("scan")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert_no_key("scan stdout", &out.stdout, KEY);
    assert_no_key("scan stderr", &out.stderr, KEY);
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

/// A project whose development key (in `.env`) is [`KEY`].
fn keyed_project() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(".env", &format!("SECRET_KEY='{KEY}'\n"));
    sb
}

/// [`keyed_project`] in a git repository (branch `main`) that ignores `.env`.
fn keyed_repository() -> Sandbox {
    let sb = keyed_project();
    git(&sb, &["init", "-q", "-b", "main"]);
    sb.write(".gitignore", ".env\n");
    sb
}

fn found(v: &Value) -> Vec<(String, String, Option<u64>)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["target"].as_str().unwrap().into(),
                f["line"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn keys_in_files_hard_coded_keys_and_history() {
    let sb = Sandbox::new();
    git(&sb, &["init", "-q"]);
    sb.write(".gitignore", ".env\n");
    sb.write(".env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write("app/config.py", "import os\n\nSECRET_KEY = os.getenv(\"SECRET_KEY\", \"baguette-metro-2024\")\nDEBUG = os.getenv(\"DEBUG\", \"0\")\n");
    sb.write(
        "docs/setup.md",
        &format!("# Setup\n\nUse this key for now:\n\n    {KEY}\n"),
    );
    sb.write(
        "app/settings.py",
        "SECRET_KEY = os.environ[\"SECRET_KEY\"]\n",
    );
    sb.write("leak.txt", &format!("oops {KEY}\n"));
    git(&sb, &["add", "leak.txt"]);
    git(&sb, &["commit", "-q", "-m", "add notes"]);
    git(&sb, &["rm", "-q", "leak.txt"]);
    git(&sb, &["commit", "-q", "-m", "remove notes"]);

    let (code, v) = scan(&sb, &[]);
    assert_eq!(code, Some(0), "a view without --fail-on");
    let f = found(&v);
    assert!(
        f.contains(&("KW202".into(), "docs/setup.md".into(), Some(5))),
        "{f:?}"
    );
    assert!(
        f.contains(&("KW201".into(), "app/config.py".into(), Some(3))),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|(_, t, _)| t == ".env"),
        "the target itself is where the key belongs"
    );
    assert!(
        !f.iter().any(|(_, t, _)| t == "app/settings.py"),
        "reading the environment is fine"
    );
    assert!(
        !f.iter().any(|(c, _, _)| c == "KW203"),
        "history only with --history"
    );

    let (_, v) = scan(&sb, &["--history"]);
    let f = found(&v);
    assert!(
        f.contains(&("KW203".into(), "leak.txt".into(), None)),
        "deleted but still in history: {f:?}"
    );

    let (code, _) = scan(&sb, &["--fail-on", "high"]);
    assert_eq!(code, Some(1));
    let out = sb.kw().args(["scan", "--sarif"]).output().unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    let out = sb.kw().arg("scan").output().unwrap();
    assert!(stdout(&out).contains("hard-coded key"), "{}", stdout(&out));
}

#[test]
fn retired_keys_count_and_folders_of_dependencies_are_skipped_without_git() {
    let sb = Sandbox::new();
    sb.write("staging.env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n");
    sb.kw().args(["rotate", "staging"]).assert().success();
    sb.write("notes/old.txt", &format!("the old one: {KEY}\n"));
    sb.write(
        "node_modules/pkg/index.js",
        &format!("const k = '{KEY}';\n"),
    );
    let (_, v) = scan(&sb, &[]);
    let f = v["findings"].as_array().unwrap();
    let old: Vec<&Value> = f
        .iter()
        .filter(|x| x["target"] == "notes/old.txt")
        .collect();
    assert_eq!(old.len(), 1, "{f:?}");
    assert_eq!(old[0]["severity"], "high", "a retired key");
    assert!(
        old[0]["message"]
            .as_str()
            .unwrap()
            .contains("retired key of staging")
    );
    assert!(
        !f.iter()
            .any(|x| x["target"].as_str().unwrap().starts_with("node_modules"))
    );
    let out = sb.kw().args(["scan", "--history"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("needs a git repository"));
}

fn git_out(sb: &Sandbox, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(sb.project.path())
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn messages(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["code"], f["target"], f["message"]))
        .collect()
}

/// Keys only where `git log -p --all` does not look, or looks wrongly: an unmerged branch,
/// a fetched pull-request ref, a merge commit's own change, a binary file, an encoded
/// form, an object no ref reaches; and literals that were removed before HEAD.
#[test]
fn history_covers_every_ref_merges_binaries_encodings_and_loose_objects() {
    use base64::Engine;
    if !crate::common::require("git", "scan --history over every ref") {
        return;
    }
    let sb = keyed_repository();
    sb.write("README.md", "app\n");
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "start"]);

    // A branch never merged.
    git(&sb, &["checkout", "-q", "-b", "feature"]);
    sb.write("feature/notes.txt", &format!("key: {KEY}\n"));
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "feature"]);
    let feature = git_out(&sb, &["rev-parse", "HEAD"]);
    // A pull request's head, fetched as refs/pull/7/head, on no branch.
    git(&sb, &["checkout", "-q", "--detach", "main"]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    sb.write("ci/pr.yml", &format!("token: {b64}\n"));
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "pr"]);
    let pr = git_out(&sb, &["rev-parse", "HEAD"]);
    git(&sb, &["update-ref", "refs/pull/7/head", &pr]);
    // A merge whose own change (a conflict resolution) adds the key.
    git(&sb, &["checkout", "-q", "main"]);
    git(&sb, &["checkout", "-q", "-b", "side"]);
    sb.write("side.txt", "side\n");
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "side"]);
    git(&sb, &["checkout", "-q", "main"]);
    git(&sb, &["merge", "-q", "--no-commit", "--no-ff", "side"]);
    sb.write("merged.cfg", &format!("k={KEY}\n"));
    git(&sb, &["add", "merged.cfg"]);
    git(&sb, &["commit", "-q", "-m", "merge side"]);
    let merge = git_out(&sb, &["rev-parse", "HEAD"]);
    // A binary file.
    let mut bin = vec![0u8, 1, 2, 3, 0, 0];
    bin.extend_from_slice(KEY.as_bytes());
    bin.extend_from_slice(&[0, 0xff]);
    std::fs::write(sb.root().join("assets.bin"), &bin).unwrap();
    // A literal committed, then removed; and a placeholder where it belongs.
    sb.write(
        "app/settings.py",
        "SECRET_KEY = \"django-insecure-8x!q2w#e4r%t6y&u8i*o0p\"\n",
    );
    sb.write(
        "config/settings.example.py",
        "SECRET_KEY = \"changethis\"\n",
    );
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "assets and settings"]);
    sb.write(
        "app/settings.py",
        "SECRET_KEY = os.environ[\"SECRET_KEY\"]\n",
    );
    git(&sb, &["rm", "-q", "assets.bin"]);
    git(&sb, &["commit", "-q", "-a", "-m", "clean"]);
    // An object no ref reaches.
    let loose = sb.root().join("loose.txt");
    std::fs::write(&loose, format!("{KEY}\n")).unwrap();
    let oid = git_out(&sb, &["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(&loose).unwrap();

    let (code, v) = scan(&sb, &["--history"]);
    assert_eq!(code, Some(0), "{v}");
    let m = messages(&v);
    let has = |target: &str, needle: &str| {
        m.iter()
            .any(|l| l.contains("KW203") && l.contains(target) && l.contains(needle))
    };
    assert!(has("feature/notes.txt", &feature[..12]), "{m:#?}");
    assert!(has("feature/notes.txt", "refs/heads/feature"), "{m:#?}");
    assert!(
        has("ci/pr.yml", "refs/pull/7/head"),
        "base64 form on a PR ref: {m:#?}"
    );
    assert!(
        has("merged.cfg", &merge[..12]),
        "the merge's own change: {m:#?}"
    );
    assert!(has("assets.bin", "refs/heads/main"), "binary file: {m:#?}");
    assert!(
        m.iter()
            .any(|l| l.contains("KW203") && l.contains(&oid[..12]) && l.contains("no ref")),
        "unreachable object: {m:#?}"
    );
    assert!(
        m.iter()
            .any(|l| l.contains("KW201") && l.contains("app/settings.py") && l.contains("commit")),
        "a literal removed before HEAD: {m:#?}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["commit"] == feature.as_str()),
        "the commit is a field of its own: {v}"
    );
    assert!(
        !m.iter().any(|l| l.contains("settings.example.py")),
        "a placeholder in an example file is no finding, in history either: {m:#?}"
    );
    let cov = &v["history"];
    assert!(cov["blobs"].as_u64().unwrap() >= 8, "{cov}");
    assert!(cov["refs"].as_u64().unwrap() >= 4, "{cov}");
    assert!(cov.get("incomplete").is_none(), "{cov}");

    // Incremental: since the merge, what main added after it and what other refs hold
    // that the merge does not reach (the unmerged branch).
    let (_, v) = scan(&sb, &["--history", "--since", &merge]);
    let m = messages(&v);
    let history: Vec<&String> = m.iter().filter(|l| l.contains("commit ")).collect();
    assert!(history.iter().any(|l| l.contains("assets.bin")), "{m:#?}");
    assert!(
        history.iter().any(|l| l.contains("feature/notes.txt")),
        "{m:#?}"
    );
    assert!(!history.iter().any(|l| l.contains("merged.cfg")), "{m:#?}");
}

/// A repository missing an object: the scan says how far it got and fails, never "clean".
#[test]
fn history_with_a_missing_object_fails_and_says_what_was_covered() {
    if !crate::common::require("git", "scan --history of a damaged repository") {
        return;
    }
    let sb = keyed_repository();
    sb.write("a.txt", "one\n");
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "one"]);
    sb.write("b.txt", "two\n");
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "two"]);
    let blob = git_out(&sb, &["rev-parse", "HEAD:b.txt"]);
    let obj = sb
        .root()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&obj).unwrap();
    let out = sb.kw().args(["scan", "--history"]).output().unwrap();
    assert_no_key("stderr", &out.stderr, KEY);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("not fully searched"), "{err}");
    assert!(err.contains("git"), "{err}");
    // SARIF says so too: a partial run is no run that found nothing.
    let out = sb
        .kw()
        .args(["scan", "--history", "--sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    assert!(
        inv["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("not fully searched")
    );
}

/// Placeholders are told from keys, and a placeholder in a target is not a leak wherever
/// the word appears.
#[test]
fn placeholders_are_medium_examples_hold_them_and_words_are_not_leaks() {
    let sb = Sandbox::new();
    // The target itself holds a placeholder; the word is all over the tree.
    sb.write(".env", "SECRET_KEY=changethis\n");
    sb.write(
        "docs/release.md",
        "We replaced changethis with a real key.\n",
    );
    sb.write(
        "app/check.py",
        "if key == \"changethis\":\n    raise SystemExit(1)\n",
    );
    sb.write(".env.example", "SECRET_KEY=changethis\n");
    sb.write("deploy/.env.ci", "SECRET_KEY=!!!SET SECRET_KEY!!!\n");
    sb.write(
        "config/settings.py",
        "SECRET_KEY = env(\n    \"DJANGO_SECRET_KEY\",\n    default=\"Xk9#mQ2$vL7@pR4&zW8!qT5^\",\n)\nJWT_SECRET = '<your key here>'\n",
    );
    let (_, v) = scan(&sb, &[]);
    let f = found(&v);
    assert!(
        !f.iter()
            .any(|(c, t, _)| c == "KW202" && (t == "docs/release.md" || t == "app/check.py")),
        "a placeholder word is not a leaked key: {f:?}"
    );
    assert!(!f.iter().any(|(_, t, _)| t == ".env.example"), "{f:?}");
    let sev = |t: &str, line: u64| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["target"] == t && x["line"] == line && x["code"] == "KW201")
            .map(|x| x["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(sev("deploy/.env.ci", 1).as_deref(), Some("medium"), "{f:?}");
    assert_eq!(
        sev("config/settings.py", 1).as_deref(),
        Some("high"),
        "{f:?}"
    );
    assert_eq!(
        sev("config/settings.py", 5).as_deref(),
        Some("medium"),
        "{f:?}"
    );
}

/// A hard-coded key's finding says where it is: source code, a `.env`-style file the
/// manifest does not name, or an example file (which is made to be copied), each with
/// its own fix.
#[test]
fn a_hard_coded_key_is_named_by_the_kind_of_file_it_is_in() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=changethis\n");
    sb.write(
        "config/settings.py",
        "SECRET_KEY = \"Xk9#mQ2$vL7@pR4&zW8!qT5^aB3*\"\n",
    );
    sb.write("backend/.env", "SECRET_KEY=Yk9#mQ2$vL7@pR4&zW8!qT5^aB3*\n");
    sb.write(".env.example", "SECRET_KEY=Zk9#mQ2$vL7@pR4&zW8!qT5^aB3*\n");
    let (_, v) = scan(&sb, &[]);
    let said = |t: &str| {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["target"] == t && x["code"] == "KW201")
            .unwrap_or_else(|| panic!("no KW201 in {t}: {}", messages(&v).join("\n")));
        format!("{} / {}", f["message"], f["fix"])
    };
    let code = said("config/settings.py");
    assert!(code.contains("in source code"), "{code}");
    assert!(code.contains("read the key from the environment"), "{code}");
    let dotenv = said("backend/.env");
    assert!(dotenv.contains("in a `.env`-style file"), "{dotenv}");
    assert!(!dotenv.contains("source code"), "{dotenv}");
    assert!(dotenv.contains("keywarden.toml"), "{dotenv}");
    let example = said(".env.example");
    assert!(example.contains("in an example file"), "{example}");
    assert!(example.contains("keywarden example ENV"), "{example}");
    // A module whose name holds the word is source code.
    sb.write(
        "app/email_template.py",
        "SECRET_KEY = \"Wk9#mQ2$vL7@pR4&zW8!qT5^aB3*\"\n",
    );
    let (_, v) = scan(&sb, &[]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == "app/email_template.py" && x["code"] == "KW201")
        .unwrap_or_else(|| panic!("{}", messages(&v).join("\n")));
    assert!(
        f["message"].as_str().unwrap().contains("in source code"),
        "{f}"
    );
    // In history, a blob committed at an example path is said to be in an example file.
    if !crate::common::require("git", "scan --history of a committed example file") {
        return;
    }
    git(&sb, &["init", "-q"]);
    git(&sb, &["add", ".env.example", "config/settings.py"]);
    git(&sb, &["commit", "-qm", "examples"]);
    std::fs::remove_file(sb.root().join(".env.example")).unwrap();
    git(&sb, &["commit", "-qam", "gone"]);
    let (_, v) = scan(&sb, &["--history"]);
    let in_history: Vec<String> = messages(&v)
        .into_iter()
        .filter(|m| m.contains("KW201") && m.contains(".env.example") && m.contains("commit "))
        .collect();
    assert!(
        !in_history.is_empty() && in_history.iter().all(|m| m.contains("in an example file")),
        "{}",
        messages(&v).join("\n")
    );
}

/// The pre-commit hook: what is staged is searched, not the work tree; a key pasted into a
/// source file and added is caught, as is a secrets file staged itself; a missing
/// environment file blocks nothing.
#[test]
fn staged_scan_is_the_pre_commit_gate() {
    if !crate::common::require("git", "scan --staged") {
        return;
    }
    let sb = Sandbox::new();
    git(&sb, &["init", "-q"]);
    sb.write(".gitignore", ".env\n");
    sb.write(".env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n\
         [[environments]]\nname = \"production\"\ntargets = [{ path = \"deploy/prod.env\" }]\n",
    );
    sb.write("app/settings.py", "SECRET_KEY = os.environ['SECRET_KEY']\n");
    git(
        &sb,
        &["add", ".gitignore", "keywarden.toml", "app/settings.py"],
    );
    // Every hook entry is a command that runs, and passes on a clean index although
    // production's file is missing here.
    let hooks =
        std::fs::read_to_string(crate::common::repo().join(".pre-commit-hooks.yaml")).unwrap();
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: keywarden "))
        .collect();
    assert!(entries.len() >= 2, "{hooks}");
    for entry in entries.iter().filter(|e| e.starts_with("scan")) {
        let out = sb.kw().args(entry.split(' ')).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{entry}: {}", stderr(&out));
    }
    // Pasted into a source file and staged.
    sb.write("app/settings.py", &format!("SECRET_KEY = '{KEY}'\n"));
    git(&sb, &["add", "app/settings.py"]);
    let (code, v) = scan(&sb, &["--staged", "--fail-on", "high"]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        found(&v).contains(&("KW202".into(), "app/settings.py".into(), Some(1))),
        "{v}"
    );
    // Fixed in the work tree but not staged: the commit would still hold it.
    sb.write("app/settings.py", "SECRET_KEY = os.environ['SECRET_KEY']\n");
    let (code, _) = scan(&sb, &["--staged", "--fail-on", "high"]);
    assert_eq!(
        code,
        Some(1),
        "the index, not the work tree, is what gets committed"
    );
    git(&sb, &["add", "app/settings.py"]);
    let (code, _) = scan(&sb, &["--staged", "--fail-on", "high"]);
    assert_eq!(code, Some(0));
    // The secrets file itself, forced past .gitignore.
    git(&sb, &["add", "-f", ".env"]);
    let (code, v) = scan(&sb, &["--staged", "--fail-on", "high"]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        found(&v)
            .iter()
            .any(|(c, t, _)| c == "KW202" && t == ".env"),
        "{v}"
    );
}

/// The commit that brought a key in, whatever later commits did to the file; paths as
/// they are, not as git quotes them; and a shallow clone is not a whole history.
#[test]
fn history_names_the_commit_that_added_it_and_knows_a_shallow_clone() {
    if !crate::common::require("git", "scan --history attribution") {
        return;
    }
    let sb = keyed_repository();
    sb.write("café notes.txt", &format!("one\nkey {KEY}\n"));
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "add"]);
    let added = git_out(&sb, &["rev-parse", "HEAD"]);
    for i in 0..4 {
        sb.write("café notes.txt", &format!("edit {i}\nkey {KEY}\n"));
        git(&sb, &["commit", "-q", "-a", "-m", "edit"]);
    }
    let (code, v) = scan(&sb, &["--history"]);
    assert_eq!(code, Some(0), "{v}");
    let hist: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW203")
        .collect();
    assert_eq!(hist.len(), 1, "one finding for one path and key: {hist:?}");
    assert_eq!(hist[0]["target"], "café notes.txt");
    assert_eq!(hist[0]["commit"], added.as_str(), "{hist:?}");

    // A depth-1 clone of it.
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", sb.root().display());
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(clone.path().join("c"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::write(clone.path().join("c/.env"), format!("SECRET_KEY='{KEY}'\n")).unwrap();
    let out = sb
        .kw()
        .args(["--project"])
        .arg(clone.path().join("c"))
        .args(["scan", "--history"])
        .output()
        .unwrap();
    assert_no_key("stderr", &out.stderr, KEY);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("shallow"), "{}", stderr(&out));
}

/// A project in a subfolder of its repository: what is staged elsewhere in the repository
/// is not this project's, paths are the project's own, and odd names are read, not skipped.
#[test]
fn staged_scan_of_a_project_in_a_subfolder() {
    if !crate::common::require("git", "scan --staged in a subfolder") {
        return;
    }
    let sb = Sandbox::new();
    git(&sb, &["init", "-q"]);
    sb.write("app/.gitignore", ".env\n");
    sb.write("app/.env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write(
        "app/keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write("app/1:notes.txt", &format!("{KEY}\n"));
    sb.write("other/leak.txt", &format!("{KEY}\n"));
    git(
        &sb,
        &[
            "add",
            "app/.gitignore",
            "app/keywarden.toml",
            "app/1:notes.txt",
            "other/leak.txt",
        ],
    );
    let out = sb
        .kw()
        .args(["--project"])
        .arg(sb.root().join("app"))
        .args(["scan", "--staged", "--json"])
        .output()
        .unwrap();
    assert_no_key("stdout", &out.stdout, KEY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = found(&v);
    assert!(
        f.contains(&("KW202".into(), "1:notes.txt".into(), Some(1))),
        "{v}"
    );
    assert!(!f.iter().any(|(_, t, _)| t.starts_with("app/")), "{v}");
    assert!(
        !f.iter().any(|(_, t, _)| t.contains("leak.txt")),
        "not this project's: {v}"
    );
}

#[test]
fn the_walk_honours_gitignore_but_keeps_hidden_files_tracked_files_and_env_files() {
    let sb = Sandbox::new();
    sb.write("staging.env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n");
    git(&sb, &["init", "-q"]);
    // Committed before it was ignored: every clone has it.
    sb.write("config/committed.py", &format!("KEY = '{KEY}'\n"));
    git(&sb, &["add", "config/committed.py"]);
    git(&sb, &["commit", "-qm", "config"]);
    sb.write(
        ".gitignore",
        "staging.env\nconfig/\nbuild/\n*.log\n.env.local\n",
    );
    // Hidden, not ignored: searched (ripgrep's default would skip it).
    sb.write(".streamlit/config.toml", &format!("secret = \"{KEY}\"\n"));
    // Ignored env file lying in the tree: searched.
    sb.write(".env.local", &format!("OTHER={KEY}\n"));
    // Ignored: not searched.
    sb.write("build/out.js", &format!("const k = '{KEY}';\n"));
    sb.write("debug.log", &format!("key={KEY}\n"));
    let (_, v) = scan(&sb, &[]);
    let targets: Vec<String> = found(&v).into_iter().map(|(_, t, _)| t).collect();
    for want in [
        "config/committed.py",
        ".streamlit/config.toml",
        ".env.local",
    ] {
        assert!(targets.iter().any(|t| t == want), "{want} in {targets:?}");
    }
    for not in ["build/out.js", "debug.log", "staging.env"] {
        assert!(!targets.iter().any(|t| t == not), "{not} in {targets:?}");
    }
}

fn accepted(v: &Value) -> Vec<(String, String, String)> {
    v["accepted"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["target"].as_str().unwrap().into(),
                f["reason"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_baseline_accepts_literals_by_fingerprint_keeps_reasons_and_never_silences_a_managed_key() {
    let sb = Sandbox::new();
    git(&sb, &["init", "-q"]);
    sb.write(".gitignore", ".env\n");
    sb.write(".env", &format!("SECRET_KEY='{KEY}'\n"));
    sb.write(
        "app/test_settings.py",
        "SECRET_KEY = \"not-a-real-key-for-tests\"\n",
    );
    sb.write("docs/setup.md", &format!("Use:\n\n    {KEY}\n"));

    // Written: the literal only, never the managed key, never a value.
    let out = sb
        .kw()
        .args(["scan", "--update-baseline"])
        .output()
        .unwrap();
    assert_no_key("update stdout", &out.stdout, KEY);
    assert_no_key("update stderr", &out.stderr, KEY);
    assert!(
        stderr(&out).contains(".keywarden-scan.toml"),
        "{}",
        stderr(&out)
    );
    let text = sb.read(".keywarden-scan.toml");
    assert!(text.contains("code = \"KW201\""), "{text}");
    assert!(text.contains("path = \"app/test_settings.py\""), "{text}");
    assert!(text.contains("fingerprint = \"sha256:"), "{text}");
    assert!(text.contains("reason = \"accepted on "), "{text}");
    assert!(
        !text.contains("code = \"KW202\"") && !text.contains("docs/setup.md"),
        "{text}"
    );
    assert!(
        !text.contains("not-a-real-key-for-tests"),
        "the value is never written"
    );
    assert_no_key("baseline", text.as_bytes(), KEY);

    // The team gives its reason; the literal is accepted and counted, the key is not.
    let text = text.replace(
        &text[text.find("accepted on 2").unwrap()..text.find("say why").unwrap() + 7],
        "test settings, never deployed",
    );
    sb.write(".keywarden-scan.toml", &text);
    let (code, v) = scan(&sb, &["--fail-on", "high"]);
    assert_eq!(
        code,
        Some(1),
        "the managed key in docs still fails the gate"
    );
    let f = found(&v);
    assert!(
        f.iter()
            .any(|(c, t, _)| c == "KW202" && t == "docs/setup.md"),
        "{f:?}"
    );
    assert!(!f.iter().any(|(c, _, _)| c == "KW201"), "{f:?}");
    assert_eq!(v["accepted"]["count"], 1);
    assert_eq!(
        accepted(&v),
        vec![(
            "KW201".into(),
            "app/test_settings.py".into(),
            "test settings, never deployed".into()
        )]
    );
    let out = sb.kw().arg("scan").output().unwrap();
    assert!(
        stdout(&out).contains("1 finding(s) accepted by .keywarden-scan.toml"),
        "{}",
        stdout(&out)
    );
    // --no-baseline reports it again.
    let (_, v) = scan(&sb, &["--no-baseline"]);
    assert!(found(&v).iter().any(|(c, _, _)| c == "KW201"));

    // SARIF: the accepted finding is a result with an external suppression.
    let out = sb.kw().args(["scan", "--sarif"]).output().unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{results:?}");
    assert_eq!(suppressed[0]["ruleId"], "KW201");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "test settings, never deployed"
    );

    // A changed value is a new finding; the old entry is stale and said to be.
    sb.write(
        "app/test_settings.py",
        "SECRET_KEY = \"another-value-for-tests\"\n",
    );
    let out = sb.kw().args(["scan", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(found(&v).iter().any(|(c, _, _)| c == "KW201"));
    assert!(
        stderr(&out).contains(".keywarden-scan.toml:"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("matches no finding"),
        "{}",
        stderr(&out)
    );
    assert_eq!(v["stale_baseline_entries"].as_array().unwrap().len(), 1);

    // Updating keeps nothing stale, and a reason given to a kept entry survives.
    sb.write(
        "app/test_settings.py",
        "SECRET_KEY = \"not-a-real-key-for-tests\"\nJWT_SECRET = \"another-value-for-tests\"\n",
    );
    sb.kw()
        .args(["scan", "--update-baseline"])
        .output()
        .unwrap();
    let text = sb.read(".keywarden-scan.toml");
    assert!(text.contains("test settings, never deployed"), "{text}");
    assert_eq!(text.matches("[[accepted]]").count(), 2, "{text}");
}

#[test]
fn a_bad_baseline_names_its_file_line_and_fix_and_a_managed_key_cannot_be_accepted() {
    let sb = keyed_project();
    sb.write(
        ".keywarden-scan.toml",
        "# accepted\n\n[[accepted]]\ncode = \"KW202\"\npath = \"docs/setup.md\"\nfingerprint = \"sha256:00\"\nreason = \"fine\"\n",
    );
    let out = sb.kw().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(".keywarden-scan.toml:3"), "{err}");
    assert!(err.contains("KW202 cannot be accepted"), "{err}");
    assert!(err.contains("rotate"), "{err}");

    sb.write(
        ".keywarden-scan.toml",
        "[[accepted]]\ncode = \"KW201\"\npath = \"a.py\"\n\n",
    );
    let err = stderr(&sb.kw().args(["scan"]).output().unwrap());
    assert!(err.contains(".keywarden-scan.toml:1"), "{err}");
    assert!(err.contains("no `fingerprint`"), "{err}");

    sb.write(".keywarden-scan.toml", "[[accepted]\n");
    let err = stderr(&sb.kw().args(["scan"]).output().unwrap());
    assert!(err.contains(".keywarden-scan.toml:1"), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
    // --no-baseline does not read it.
    assert_eq!(
        sb.kw()
            .args(["scan", "--no-baseline"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn progress_is_drawn_at_a_terminal_cleared_at_the_end_and_never_on_a_pipe() {
    if !crate::common::require("tmux", "drawing scan's progress line at a terminal") {
        return;
    }
    let sb = keyed_project();
    for i in 0..200 {
        sb.write(&format!("src/m{i}.py"), &"x = 1\n".repeat(200));
    }
    let bin = assert_cmd::cargo::cargo_bin("keywarden");
    let raw = sb.home.path().join("raw-terminal-output");
    let go = sb.home.path().join("go");
    let cmd = format!(
        "while [ ! -f '{}' ]; do sleep 0.05; done; cd '{}' && '{}' scan; echo EXIT=$?; sleep 60",
        go.display(),
        sb.project.path().display(),
        bin.display()
    );
    let env = [
        ("KEYWARDEN_HOME", sb.home.path()),
        ("NO_COLOR", std::path::Path::new("1")),
        ("KEYWARDEN_KEYRING", std::path::Path::new("off")),
    ];
    let t = crate::common::tmux::Tmux::start(160, 50, &env, &["sh", "-c", &cmd]);
    let piped = t.run(&[
        "pipe-pane",
        "-t",
        "kw",
        "-o",
        &format!("cat >> '{}'", raw.display()),
    ]);
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    std::fs::write(&go, "").unwrap();
    let screen = t.wait_for("the end", 30, |s| s.contains("EXIT="));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("scanning:"),
        "the line is cleared at the end: {screen}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let bytes = std::fs::read(&raw).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("scanning: "), "{text:?}");
    assert!(text.contains(" files of "), "{text:?}");
    assert!(text.contains("MB/s"), "{text:?}");
    assert!(
        text.contains("\r\x1b[K"),
        "redrawn with \\r and cleared: {text:?}"
    );

    // --no-progress at a terminal: nothing drawn.
    let raw2 = sb.home.path().join("raw-no-progress");
    let go2 = sb.home.path().join("go2");
    let cmd = format!(
        "while [ ! -f '{}' ]; do sleep 0.05; done; cd '{}' && '{}' scan --no-progress; echo EXIT=$?; sleep 60",
        go2.display(),
        sb.project.path().display(),
        bin.display()
    );
    let t2 = crate::common::tmux::Tmux::start(160, 50, &env, &["sh", "-c", &cmd]);
    let piped = t2.run(&[
        "pipe-pane",
        "-t",
        "kw",
        "-o",
        &format!("cat >> '{}'", raw2.display()),
    ]);
    assert!(piped.status.success());
    std::fs::write(&go2, "").unwrap();
    t2.wait_for("the end", 30, |s| s.contains("EXIT="));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = String::from_utf8_lossy(&std::fs::read(&raw2).unwrap()).into_owned();
    assert!(text.contains("EXIT=0"), "{text:?}");
    assert!(!text.contains("scanning:"), "{text:?}");

    // On a pipe, nothing.
    let out = sb.kw().arg("scan").output().unwrap();
    assert!(!stderr(&out).contains("scanning:"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("scanning:"));
    let out = sb.kw().args(["scan", "--json"]).output().unwrap();
    assert!(serde_json::from_slice::<Value>(&out.stdout).is_ok());
    assert!(!stderr(&out).contains("scanning:"));
}

/// `lines` lines of filler, then `SECRET_KEY` placed so that it straddles each offset in
/// `cuts` (one occurrence per cut, on a line of its own); the content and the line of
/// each occurrence.
fn large_text(size: usize, cuts: &[usize]) -> (String, Vec<u64>) {
    let mut text = String::with_capacity(size + 4096);
    let mut lines = Vec::new();
    let mut line = 1u64;
    for &cut in cuts {
        while text.len() + 200 < cut - KEY.len() / 2 {
            text.push_str("INSERT INTO log VALUES (1, 'an ordinary row of an ordinary dump');\n");
            line += 1;
        }
        while text.len() < cut - KEY.len() / 2 {
            text.push('-');
        }
        text.push_str(KEY);
        text.push('\n');
        lines.push(line);
        line += 1;
    }
    while text.len() < size {
        text.push_str("INSERT INTO log VALUES (2, 'more rows after the key');\n");
        line += 1;
    }
    text.push_str(&format!("-- SECRET_KEY={KEY}\n"));
    lines.push(line);
    (text, lines)
}

/// A dump or log larger than any source file is still searched to its end for the keys
/// A sparse file many gigabytes long (a preallocated database, a disk image) is searched
/// through its data only: the keys at its start, in its middle and at its end are found at
/// their lines, and its holes are not read as zeros (which would take minutes).
#[test]
fn a_sparse_file_is_searched_through_its_data_not_its_holes() {
    use std::io::{Seek, SeekFrom, Write};
    use std::os::unix::fs::MetadataExt;
    let sb = keyed_project();
    const GIB: u64 = 1 << 30;
    let size = 64 * GIB;
    let path = sb.root().join("data/disk.img");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&path).unwrap();
    f.set_len(size).unwrap();
    for (at, text) in [
        (0, format!("copy={KEY}\n")),
        (32 * GIB + 5, format!("x\n{KEY}\n")),
        (size - 200, format!("{KEY}\n")),
    ] {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
    f.sync_all().unwrap();
    drop(f);
    let stored = std::fs::metadata(&path).unwrap().blocks() * 512;
    assert!(
        stored < 64 << 20,
        "this file system stores the holes of a sparse file ({stored} bytes for {size}): the test needs one that does not (ext4, tmpfs, xfs, btrfs)"
    );
    let (code, v) = scan(&sb, &[]);
    assert_eq!(code, Some(0), "{v}");
    let got: Vec<Option<u64>> = found(&v)
        .into_iter()
        .filter(|(c, t, _)| c == "KW202" && t == "data/disk.img")
        .map(|(_, _, l)| l)
        .collect();
    assert_eq!(got, [Some(1), Some(3), Some(4)], "{v}");
}

/// keywarden knows, in the tree, in what is staged and in the history, with each key's
/// line; only source-sized files are searched for literals.
#[test]
fn files_of_any_size_are_searched_to_their_end_for_known_keys() {
    if !crate::common::require("git", "scan of large files in git") {
        return;
    }
    let sb = keyed_repository();
    // Across the 1 MiB and 4 MiB marks (the part read whole ends at 4 MiB; the unit tests
    // of `search_stream` place keys on the exact seams of its chunks), and at the very end
    // of a 9 MB file.
    let (text, lines) = large_text(9_000_000, &[1 << 20, 4 << 20]);
    sb.write("backups/dump.sql", &text);
    let (code, v) = scan(&sb, &[]);
    assert_eq!(code, Some(0), "{v}");
    let got: Vec<Option<u64>> = found(&v)
        .into_iter()
        .filter(|(c, t, _)| c == "KW202" && t == "backups/dump.sql")
        .map(|(_, _, l)| l)
        .collect();
    assert_eq!(
        got,
        lines.iter().map(|&l| Some(l)).collect::<Vec<_>>(),
        "{v}"
    );
    assert!(v["unread"].as_array().unwrap().is_empty(), "{v}");

    // Twenty thousand copies in one file: the first thousand at their lines, then a
    // count (a log printing the key on every line is not a million findings).
    sb.write("backups/keys.txt", &format!("{KEY}\n").repeat(20_000));
    let (_, v) = scan(&sb, &[]);
    let got: Vec<u64> = found(&v)
        .into_iter()
        .filter(|(c, t, _)| c == "KW202" && t == "backups/keys.txt")
        .filter_map(|(_, _, l)| l)
        .collect();
    assert_eq!(got, (1..=1000).collect::<Vec<u64>>());
    let counted: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "backups/keys.txt" && f["line"].is_null())
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        counted,
        [
            "holds 19000 more copies of known keys in plain text (the first 1000 are listed with their lines)"
        ]
    );
    std::fs::remove_file(sb.root().join("backups/keys.txt")).unwrap();

    // Staged: the content git hands over, streamed, with the same lines.
    git(&sb, &["add", "backups/dump.sql"]);
    let (code, v) = scan(&sb, &["--staged", "--fail-on", "high"]);
    assert_eq!(code, Some(1), "{v}");
    let got: Vec<Option<u64>> = found(&v)
        .into_iter()
        .filter(|(c, t, _)| c == "KW202" && t == "backups/dump.sql")
        .map(|(_, _, l)| l)
        .collect();
    assert_eq!(
        got,
        lines.iter().map(|&l| Some(l)).collect::<Vec<_>>(),
        "{v}"
    );

    // Committed with the key only at its end, then deleted: the history still holds it.
    let (text, _) = large_text(9_000_000, &[]);
    std::fs::write(sb.root().join("backups/dump.sql"), text).unwrap();
    git(&sb, &["add", "backups/dump.sql"]);
    git(&sb, &["commit", "-q", "-m", "add the dump"]);
    git(&sb, &["rm", "-q", "backups/dump.sql"]);
    git(&sb, &["commit", "-q", "-m", "remove the dump"]);
    let (_, v) = scan(&sb, &["--history"]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KW203"
                && f["target"] == "backups/dump.sql"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("added the development key")),
        "a key at the end of a 9 MB blob: {v}"
    );
    assert_eq!(v["history"]["incomplete"], Value::Null, "{v}");
}

/// A file the scan cannot read is named on stderr and in the JSON, and the scan fails: it
/// never reports a tree as clean when part of it was not read.
#[test]
fn an_unreadable_file_is_named_and_fails_the_scan() {
    if !crate::common::require("strace", "scan of a file it may not open") {
        return;
    }
    let sb = keyed_project();
    sb.write("notes/ok.txt", "nothing here\n");
    let locked = sb.write("notes/locked.txt", &format!("pasted {KEY}\n"));
    // A folder it may not open hides what is in it: named too.
    sb.write("vault/copy.txt", &format!("{KEY}\n"));
    let vault = sb.root().join("vault");
    // Tests run as root, which no file mode stops: the open itself is made to fail.
    let traced = |args: &[&str]| {
        traced_scan(
            &sb,
            &[&locked, &vault],
            "trace=open,openat",
            "inject=open,openat:error=EACCES",
            args,
        )
    };
    let out = traced(&["scan"]);
    assert_no_key("stdout", &out.stdout, KEY);
    assert_no_key("stderr", &out.stderr, KEY);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("notes/locked.txt: could not be read (Permission denied"),
        "{err}"
    );
    assert!(err.contains("cover only what was read"), "{err}");
    assert!(
        err.contains("vault: could not be read (Permission denied"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("; 2 file(s) or folder(s) could not be read and were not searched"),
        "never a clean bill over an unread file: {}",
        stdout(&out)
    );
    let out = traced(&["scan", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut unread: Vec<&str> = v["unread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    unread.sort_unstable();
    assert_eq!(unread, ["notes/locked.txt", "vault"], "{v}");
    let out = traced(&["scan", "--sarif"]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    // Readable again: the keys in them are found.
    let (_, v) = scan(&sb, &[]);
    assert!(
        found(&v).contains(&("KW202".into(), "notes/locked.txt".into(), Some(1))),
        "{v}"
    );
    assert!(
        found(&v).contains(&("KW202".into(), "vault/copy.txt".into(), Some(1))),
        "{v}"
    );
}

/// `keywarden scan ARGS` under strace, `trace` and `inject` applied to the syscalls on
/// `paths` only (`-P`).
fn traced_scan(
    sb: &Sandbox,
    paths: &[&std::path::Path],
    trace: &str,
    inject: &str,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = crate::writes::command(
        sb,
        std::path::Path::new("strace"),
        &["-f", "-qq", "-o", "/dev/null"],
    );
    for p in paths {
        cmd.arg("-P").arg(p);
    }
    cmd.args(["-e", trace, "-e", inject])
        .arg(crate::writes::bin())
        .args(args);
    cmd.output().unwrap()
}

/// A read that fails halfway through a large file keeps what was found before it: the
/// key in its first megabyte is reported, and the file is named as not read whole.
#[test]
fn a_read_error_midway_keeps_what_was_found_before_it() {
    if !crate::common::require("strace", "a read error inside a large file") {
        return;
    }
    let sb = keyed_project();
    let (text, _) = large_text(9_000_000, &[]);
    let big = std::fs::canonicalize(sb.write("dump.sql", &format!("{KEY}\n{text}"))).unwrap();
    let out = traced_scan(
        &sb,
        &[&big],
        "trace=read",
        "inject=read:error=EIO:when=3+",
        &["scan", "--json"],
    );
    assert_no_key("stdout", &out.stdout, KEY);
    assert_no_key("stderr", &out.stderr, KEY);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["unread"][0]["path"], "dump.sql", "{v}");
    assert!(
        v["unread"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Input/output error"),
        "{v}"
    );
    assert!(
        found(&v).contains(&("KW202".into(), "dump.sql".into(), Some(1))),
        "the key read before the error is kept: {v}"
    );
}

/// A file that grows while it is read (a busy log) is searched as it was when it was
/// opened: the scan ends, and what was appended after the open is left to the next scan.
#[test]
fn a_file_growing_while_it_is_read_is_searched_as_it_was_opened() {
    if !crate::common::require("strace", "a file growing during a scan") {
        return;
    }
    let sb = keyed_project();
    let log = std::fs::canonicalize(sb.write("app.log", &"GET / 200\n".repeat(1000))).unwrap();
    // The scan's first read of the log waits 3 s: time to append after the open.
    let mut cmd = first_read_delayed(&sb, &log, &["scan", "--json"]);
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdout(out_file.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the log is open in the scan (its fd in /proc), then append a key.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !open_anywhere(&log) {
        assert!(
            std::time::Instant::now() < deadline,
            "the scan never opened the log"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Past its fstat (microseconds after the open) and well inside the delayed read.
    std::thread::sleep(std::time::Duration::from_secs(1));
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "late {KEY}").unwrap();
    drop(f);
    let status = child.wait().unwrap();
    let text = std::fs::read(out_file.path()).unwrap();
    assert_no_key("stdout", &text, KEY);
    assert!(status.success());
    let v: Value = serde_json::from_slice(&text).unwrap();
    assert!(
        !found(&v).iter().any(|(_, t, _)| t == "app.log"),
        "read past the size it had when opened: {v}"
    );
    // The next scan reads it as it is now.
    let (_, v) = scan(&sb, &[]);
    assert!(
        found(&v).contains(&("KW202".into(), "app.log".into(), Some(1001))),
        "{v}"
    );
}

/// Whether any process has `path` open.
/// `keywarden ARGS` under strace, its first `read` of `file` held 3 s on entry (after the
/// open and `fstat`): time for a test to change the file while it is being read.
pub(crate) fn first_read_delayed(
    sb: &Sandbox,
    file: &std::path::Path,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = crate::writes::command(
        sb,
        std::path::Path::new("strace"),
        &["-f", "-qq", "-o", "/dev/null", "-P"],
    );
    cmd.arg(file)
        .args([
            "-e",
            "trace=read",
            "-e",
            "inject=read:delay_enter=3000000:when=1",
        ])
        .arg(crate::writes::bin())
        .args(args);
    cmd
}

pub(crate) fn open_anywhere(path: &std::path::Path) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        std::fs::read_dir(p.path().join("fd")).is_ok_and(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == path))
        })
    })
}

/// A key committed unquoted in a `.env` file (`SECRET_KEY=…`, as every `.env` writes it)
/// and deleted since is found in the history at the path and commit that added it; the
/// same bytes committed as Python are no assignment of a literal and are not flagged.
#[test]
fn history_reads_a_committed_env_file_as_a_env_file() {
    if !crate::common::require("git", "scan --history of a committed .env") {
        return;
    }
    const LEAKED: &str = "hX3kP9vQ2mL7nR4tW8yZ1bC6dF5gJ0sAq";
    let sb = keyed_repository();
    sb.write("app/settings.py", "SECRET_KEY = os.environ['SECRET_KEY']\n");
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "app"]);
    git(&sb, &["checkout", "-q", "-b", "deploy"]);
    let content = format!("DEBUG=0\nDJANGO_SECRET_KEY={LEAKED}\n");
    sb.write("deploy/.env.production", &content);
    sb.write("docs/snippet.py", &content);
    git(&sb, &["add", "-A"]);
    git(&sb, &["commit", "-q", "-m", "deploy settings"]);
    let added = git_out(&sb, &["rev-parse", "HEAD"]);
    git(
        &sb,
        &["rm", "-q", "deploy/.env.production", "docs/snippet.py"],
    );
    git(&sb, &["commit", "-q", "-m", "oops"]);
    git(&sb, &["checkout", "-q", "main"]);

    let (code, v) = scan(&sb, &["--history", "--fail-on", "high"]);
    assert_no_key("scan output", v.to_string().as_bytes(), LEAKED);
    assert_eq!(code, Some(1), "{v}");
    let hits: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW201")
        .collect();
    assert_eq!(hits.len(), 1, "{v}");
    assert_eq!(hits[0]["target"], "deploy/.env.production", "{v}");
    assert_eq!(hits[0]["line"], 2, "{v}");
    assert_eq!(hits[0]["commit"], added.as_str(), "{v}");
    assert!(
        hits[0]["message"]
            .as_str()
            .unwrap()
            .contains("(reachable from refs/heads/deploy)"),
        "{v}"
    );
    // The tree (no .env.production any more) has nothing of it.
    let (_, v) = scan(&sb, &[]);
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KW201"),
        "{v}"
    );

    // A branch deleted after a commit to it, its reflog expired: its `.env.staging` is an
    // object no commit names, read as the `.env` file it looks like.
    const STAGING: &str = "pR7mK2xW9qL4vN8tB3cZ6hJ1fD5gS0aYu";
    git(&sb, &["checkout", "-q", "-b", "tmp"]);
    sb.write(".env.staging", &format!("DJANGO_SECRET_KEY={STAGING}\n"));
    git(&sb, &["add", ".env.staging"]);
    git(&sb, &["commit", "-q", "-m", "staging"]);
    git(&sb, &["checkout", "-q", "main"]);
    git(&sb, &["branch", "-q", "-D", "tmp"]);
    git(&sb, &["reflog", "expire", "--expire=now", "--all"]);
    let (_, v) = scan(&sb, &["--history"]);
    assert_no_key("scan output", v.to_string().as_bytes(), STAGING);
    let unnamed: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW201" && f["target"].is_null())
        .collect();
    assert_eq!(unnamed.len(), 1, "{v}");
    assert!(
        unnamed[0]["message"]
            .as_str()
            .unwrap()
            .contains("reachable from no ref"),
        "{v}"
    );
    assert_eq!(unnamed[0]["line"], 1, "{v}");
}

/// A staged submodule (a gitlink: a commit of another repository) is not this one's
/// content: the gate neither reads nor fails on it, and still searches the rest.
#[test]
fn a_staged_submodule_is_not_taken_for_damage() {
    if !crate::common::require("git", "scan --staged with a submodule") {
        return;
    }
    let sb = keyed_repository();
    let inner = tempfile::tempdir().unwrap();
    let run = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["-c", "protocol.file.allow=always"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    run(inner.path(), &["init", "-q"]);
    run(
        inner.path(),
        &["commit", "-q", "--allow-empty", "-m", "inner"],
    );
    run(
        &sb.root(),
        &[
            "submodule",
            "add",
            "-q",
            inner.path().to_str().unwrap(),
            "vendor/sub",
        ],
    );
    sb.write("app/notes.txt", &format!("pasted {KEY}\n"));
    git(&sb, &["add", "app/notes.txt"]);
    let out = sb
        .kw()
        .args(["scan", "--staged", "--json"])
        .output()
        .unwrap();
    assert_no_key("stdout", &out.stdout, KEY);
    assert_no_key("stderr", &out.stderr, KEY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["unread"], serde_json::json!([]), "{v}");
    assert!(!stderr(&out).contains("vendor/sub"), "{}", stderr(&out));
    assert!(
        found(&v).iter().any(|(_, t, _)| t == "app/notes.txt"),
        "the rest is still searched: {v}"
    );
}

/// `--staged` where git will not read a repository says why: there is none, or it is
/// another user's (git refuses it until `safe.directory`), with the command that fixes it.
#[test]
fn staged_outside_a_repository_git_reads_says_why() {
    use std::os::unix::fs::MetadataExt;
    if !crate::common::require("git", "scan --staged outside a repository") {
        return;
    }
    let sb = keyed_project();
    let out = sb.kw().args(["scan", "--staged"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--staged needs a git repository"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("unknown option"), "{}", stderr(&out));
    // SARIF for a code-scanning upload: a run that failed, saying why, not an empty file.
    let out = sb
        .kw()
        .args(["scan", "--staged", "--sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    let said = inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(said.contains("--staged needs a git repository"), "{said}");
    assert_eq!(
        sarif["runs"][0]["results"],
        serde_json::json!([]),
        "{sarif}"
    );
    // Another user's repository: only root can make one here.
    git(&sb, &["init", "-q"]);
    let me = std::fs::metadata(sb.root().join(".env")).unwrap().uid();
    if me != 0 {
        return;
    }
    let chown = std::process::Command::new("chown")
        .args(["-R", "65534"])
        .arg(sb.root().join(".git"))
        .status()
        .unwrap();
    assert!(chown.success());
    // Whatever this machine's git configuration trusts.
    let out = sb
        .kw()
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["scan", "--staged"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("dubious ownership"), "{err}");
    assert!(
        err.contains("git config --global --add safe.directory"),
        "{err}"
    );
}

/// The pre-commit gate never passes what it did not read: a staged file whose content git
/// cannot hand over (its object gone from the store) fails the scan and is named; what the
/// other staged files hold is still reported.
#[test]
fn a_staged_file_git_cannot_hand_over_fails_the_gate() {
    if !crate::common::require("git", "scan --staged of a damaged index") {
        return;
    }
    let sb = keyed_repository();
    sb.write("app/notes.txt", &format!("pasted {KEY}\n"));
    // Staged beside it, and read after it: its key is still reported.
    sb.write(
        "app/z_settings.py",
        "SECRET_KEY = \"Xk9#mQ2$vL7@pR4&zW8!qT5^aB3*\"\n",
    );
    git(&sb, &["add", "app/notes.txt", "app/z_settings.py"]);
    let blob = git_out(&sb, &["rev-parse", ":app/notes.txt"]);
    std::fs::remove_file(
        sb.root()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let out = sb.kw().args(["scan", "--staged"]).output().unwrap();
    assert_no_key("stdout", &out.stdout, KEY);
    assert_no_key("stderr", &out.stderr, KEY);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("app/notes.txt: could not be read (git could not read the staged file"),
        "{err}"
    );
    assert!(err.contains("git fsck"), "{err}");
    let said = stdout(&out);
    assert!(
        said.contains("app/z_settings.py") && said.contains("hard-coded key"),
        "the other staged file's finding is kept: {said}"
    );
    assert!(
        said.contains("1 file(s) or folder(s) could not be read"),
        "{said}"
    );
    // --json names it in `unread`, beside the finding.
    let out = sb
        .kw()
        .args(["scan", "--staged", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["unread"][0]["path"], "app/notes.txt", "{v}");
    assert!(
        found(&v)
            .iter()
            .any(|(c, t, _)| c == "KW201" && t == "app/z_settings.py"),
        "{v}"
    );
}
