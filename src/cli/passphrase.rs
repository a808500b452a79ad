//! The command line's answer to the core's passphrase questions: typed at the terminal
//! with echo off; no answer without a terminal (the core then says how to give one).

use crate::records::crypt::{Ask, Prompt};
use std::io::IsTerminal;
use zeroize::Zeroizing;

pub struct TerminalPrompt;

fn read_hidden(question: &str) -> Option<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return None;
    }
    eprint!("{question}");
    let _echo = crate::sys::EchoOff::hide();
    // Sized up front: a passphrase longer than this is cut, never copied by a regrowth.
    let mut line = Zeroizing::new(String::with_capacity(1024));
    let read = stdin.read_line(&mut line);
    eprintln!();
    read.ok()?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Some(line)
}

impl Prompt for TerminalPrompt {
    fn passphrase(&self, ask: Ask<'_>) -> Option<Zeroizing<String>> {
        match ask {
            Ask::Unlock {
                identity_file,
                attempt,
            } => {
                if attempt > 1 {
                    eprintln!("keywarden: that passphrase does not open it; try again");
                }
                read_hidden(&format!(
                    "Passphrase of the backup identity {} (input hidden): ",
                    identity_file.display()
                ))
            }
            Ask::Create { identity_file } => {
                eprintln!(
                    "keywarden: backups are encrypted; no OS keyring holds this installation's identity, \
                     so it goes to {}, protected by a passphrase. Restoring a backup will ask for it.",
                    identity_file.display()
                );
                for _ in 0..3 {
                    let first = read_hidden("New passphrase (input hidden): ")?;
                    if first.is_empty() {
                        eprintln!("keywarden: the passphrase cannot be empty");
                        continue;
                    }
                    let again = read_hidden("The same passphrase again: ")?;
                    if *first == *again {
                        return Some(first);
                    }
                    eprintln!("keywarden: the two passphrases differ; again");
                }
                None
            }
        }
    }
}

/// Before the interactive view takes the terminal: make the installation's backup
/// identity if it has none yet (its first backup would otherwise need a passphrase the
/// view cannot ask for). Declining is fine: the view starts all the same, and its first
/// change says what to do.
pub fn before_the_view(project: &crate::project::Project) {
    use crate::records::crypt::identity::Place;
    let store = crate::records::backup::BackupStore::of(project);
    crate::records::crypt::set_prompt(Some(std::sync::Arc::new(TerminalPrompt)));
    let made = match store.crypt().place() {
        Place::None => store.crypt().ensure_identity(),
        _ => Ok(()),
    };
    crate::records::crypt::set_prompt(None);
    if let Err(e) = made {
        eprintln!("keywarden: warning: {}", super::words::error(&e));
    }
}
