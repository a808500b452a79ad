//! The core knows nothing of terminals, argument parsing or the clipboard: no file outside
//! the two faces (`src/cli/`, `src/tui/`), the binary (`src/main.rs`) and the clipboard
//! they share (`src/clipboard.rs`) names their crates. The compiler checks the same from
//! the other side: `cargo check --lib --no-default-features` builds the core without them.

use std::path::{Path, PathBuf};

const FACE_CRATES: [&str; 4] = ["ratatui", "crossterm", "clap", "arboard"];

fn is_face(rel: &Path) -> bool {
    rel.starts_with("cli")
        || rel.starts_with("tui")
        || rel == Path::new("main.rs")
        || rel == Path::new("clipboard.rs")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `text` has `word` with no identifier character on either side.
fn names(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[test]
fn no_core_file_names_a_face_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders = Vec::new();
    let mut core_files = 0;
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        if is_face(rel) {
            continue;
        }
        core_files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for word in FACE_CRATES {
            if names(&text, word) {
                offenders.push(format!("src/{}: names {word}", rel.display()));
            }
        }
    }
    assert!(
        core_files > 20,
        "found only {core_files} core files under src/"
    );
    assert!(
        offenders.is_empty(),
        "core files name face crates:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_word_check_sees_words_only() {
    assert!(names("use ratatui::Frame;", "ratatui"));
    assert!(!names("my_clap_thing", "clap"));
    assert!(!names("clapping", "clap"));
}

#[test]
fn unsafe_code_lives_in_one_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains("#![deny(unsafe_code)]"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        if rel == Path::new("sys.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if names(&text, "unsafe") || text.contains("allow(unsafe_code)") {
            offenders.push(format!("src/{}", rel.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "unsafe outside src/sys.rs:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn only_the_context_reads_the_process_environment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        // Faces read their own flags' variables; unit-test files may read test knobs.
        if is_face(rel) || rel == Path::new("context.rs") || rel.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("env::var") {
            offenders.push(format!("src/{}", rel.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "core files read the process environment outside src/context.rs:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_faces_leave_file_writing_to_the_core() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("cli"), &mut files);
    rust_files(&src.join("tui"), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains("atomic_write") || text.contains("fs::write(")
        })
        .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "faces that write files themselves:\n{}",
        offenders.join("\n")
    );
}
