//! The one table of key bindings. Key handling, the footer and the `?` help all read
//! [`BINDINGS`], so what the screen says a key does is what it does.
//!
//! A binding belongs to the [`Scope`]s where it works: the main view or one of the popups.
//! Commands say what a key means; the app turns a command into an action on the current
//! selection (`App::action_for`).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key means, before it is applied to a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    SwitchPane,
    Help,
    Close,
    Confirm,
    Yes,
    Erase,
    Generate,
    Copy,
    /// `y`: copy the fingerprint or a finding's fix command.
    CopyMenu,
    Reveal,
    FixPermissions,
    Refresh,
    Rotate,
    Revoke,
    /// The selected environment's unfinished rotation (resume or roll back).
    Unfinished,
    Backups,
    AuditTrail,
    Incident,
    /// In the unfinished-rotation popup.
    Resume,
    Rollback,
    /// In the incident wizard: the viewed step.
    StepRun,
    StepDone,
    StepSkip,
    StepNote,
    /// `/`: type to filter the environments and findings.
    Filter,
    /// `o`: the activity, targets and findings whole, in a pager.
    Pager,
    /// `t`: the rotation calendar of every environment.
    Timeline,
    /// `[` / `]`: scroll the activity pane to older or newer lines.
    ActivityOlder,
    ActivityNewer,
}

impl Command {
    /// Whether it acts on the selected environment (and so does nothing without one).
    pub fn needs_environment(self) -> bool {
        matches!(
            self,
            Command::Generate
                | Command::Copy
                | Command::CopyMenu
                | Command::Timeline
                | Command::Reveal
                | Command::FixPermissions
                | Command::Rotate
                | Command::Revoke
                | Command::Unfinished
                | Command::Backups
                | Command::Incident
        )
    }

    /// How much the footer wants to keep it when the line is too narrow: the lowest
    /// goes first. The way to the help and out are never dropped.
    pub fn footer_rank(self) -> u8 {
        match self {
            Command::Help | Command::Quit => u8::MAX,
            // The first to go: the help lists them, the footer shows a filter once typed.
            Command::Filter
            | Command::Pager
            | Command::CopyMenu
            | Command::Timeline
            | Command::ActivityOlder
            | Command::ActivityNewer => 0,
            Command::SwitchPane
            | Command::Refresh
            | Command::FixPermissions
            | Command::AuditTrail
            | Command::Backups => 1,
            Command::Reveal | Command::Copy => 2,
            Command::Generate | Command::Revoke => 3,
            _ => 4,
        }
    }
}

/// Where a binding works: the main view, or the popup in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Main,
    Help,
    /// A confirmation answered with `y`.
    Confirm,
    /// A popup with a text field (type the environment's name, a reason): letters type.
    Typing,
    Reveal,
    Message,
    /// An unfinished rotation: resume, roll back, or later.
    Unfinished,
    /// The backups list.
    Backups,
    /// The audit trail.
    Audit,
    /// A choice from a list (the incident picker).
    Menu,
    /// The incident wizard.
    Wizard,
    /// Typing the filter of the environment list (`/`).
    Filter,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
        Scope::Main,
        Scope::Filter,
        Scope::Wizard,
        Scope::Help,
        Scope::Confirm,
        Scope::Typing,
        Scope::Reveal,
        Scope::Message,
        Scope::Unfinished,
        Scope::Backups,
        Scope::Audit,
        Scope::Menu,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Scope::Main => "Main view",
            Scope::Help => "This help",
            Scope::Confirm => "Confirmation",
            Scope::Typing => "Typing (a name, a reason, a note)",
            Scope::Reveal => "Revealed key",
            Scope::Message => "Message",
            Scope::Unfinished => "Unfinished rotation",
            Scope::Backups => "Backups",
            Scope::Audit => "Audit trail",
            Scope::Menu => "Choice",
            Scope::Wizard => "Incident wizard",
            Scope::Filter => "Filtering (after /)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

const fn key(code: KeyCode) -> Key {
    Key {
        code,
        modifiers: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in the footer and the help.
    pub shown: &'static str,
    pub command: Command,
    /// The footer's word for it; `None` keeps it out of the footer (still in the help).
    pub footer: Option<&'static str>,
    pub help: &'static str,
    pub scopes: &'static [Scope],
}

use Scope::{
    Audit as A, Backups as B, Confirm as C, Filter as F, Help as H, Main as M, Menu as N,
    Message as G, Reveal as R, Typing as T, Unfinished as U, Wizard as W,
};

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[key(KeyCode::Up), ch('k')],
        shown: "↑/k",
        command: Command::Up,
        footer: None,
        help: "previous environment (step, backup, choice), or scroll up",
        scopes: &[M, H, W, B, A, N],
    },
    Binding {
        keys: &[key(KeyCode::Down), ch('j')],
        shown: "↓/j",
        command: Command::Down,
        footer: None,
        help: "next environment (step, backup, choice), or scroll down",
        scopes: &[M, H, W, B, A, N],
    },
    Binding {
        keys: &[key(KeyCode::PageUp)],
        shown: "PgUp",
        command: Command::PageUp,
        footer: None,
        help: "a page up",
        scopes: &[M, H, A],
    },
    Binding {
        keys: &[key(KeyCode::PageDown)],
        shown: "PgDn",
        command: Command::PageDown,
        footer: None,
        help: "a page down",
        scopes: &[M, H, A],
    },
    Binding {
        keys: &[key(KeyCode::Home)],
        shown: "Home",
        command: Command::Top,
        footer: None,
        help: "first environment, or the top",
        scopes: &[M, A],
    },
    Binding {
        keys: &[key(KeyCode::End)],
        shown: "End",
        command: Command::Bottom,
        footer: None,
        help: "last environment, or the end",
        scopes: &[M, A],
    },
    Binding {
        keys: &[
            key(KeyCode::Tab),
            key(KeyCode::BackTab),
            key(KeyCode::Enter),
            key(KeyCode::Left),
            key(KeyCode::Right),
            ch('h'),
            ch('l'),
        ],
        shown: "Tab",
        command: Command::SwitchPane,
        footer: Some("pane"),
        help: "switch between environments and details (also Enter, ←/→, h/l; or click)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('g')],
        shown: "g",
        command: Command::Generate,
        footer: Some("generate"),
        help: "generate a new key and write it to every file of the environment (asks first)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('R')],
        shown: "R",
        command: Command::Rotate,
        footer: Some("rotate"),
        help: "rotate: new key, old one backed up, restart and verify, journaled (asks first)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('X')],
        shown: "X",
        command: Command::Revoke,
        footer: Some("revoke"),
        help: "revoke a compromised key: asks why, then rotates at once with no grace period",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('u')],
        shown: "u",
        command: Command::Unfinished,
        footer: Some("unfinished"),
        help: "an unfinished rotation of the environment: resume it or roll it back",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('c')],
        shown: "c",
        command: Command::Copy,
        footer: Some("copy"),
        help: "copy the key to the clipboard; cleared after the delay if it still holds it",
        scopes: &[M, R],
    },
    Binding {
        keys: &[ch('v')],
        shown: "v",
        command: Command::Reveal,
        footer: Some("reveal"),
        help: "show the key for a few seconds",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('y')],
        shown: "y",
        command: Command::CopyMenu,
        footer: Some("copy fp/fix"),
        help: "copy the fingerprint or a finding's fix command (no key; cleared like a copied key)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('f')],
        shown: "f",
        command: Command::FixPermissions,
        footer: Some("fix"),
        help: "tighten the environment's files to mode 0600",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('b')],
        shown: "b",
        command: Command::Backups,
        footer: Some("backups"),
        help: "the environment's backups; Enter restores one (asks first)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('a')],
        shown: "a",
        command: Command::AuditTrail,
        footer: Some("audit"),
        help: "the audit trail, and whether its chain is intact",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('i')],
        shown: "i",
        command: Command::Incident,
        footer: Some("incident"),
        help: "incident: start the compromised-key or lost-key checklist, or resume one",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('r'), key(KeyCode::F(5))],
        shown: "r",
        command: Command::Refresh,
        footer: Some("refresh"),
        help: "read every file again (also F5)",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('r')],
        shown: "r",
        command: Command::StepRun,
        footer: Some("run"),
        help: "run the step's action (a job; its result is saved with the step)",
        scopes: &[W],
    },
    Binding {
        keys: &[ch('d')],
        shown: "d",
        command: Command::StepDone,
        footer: Some("done"),
        help: "mark the step done (you did it yourself)",
        scopes: &[W],
    },
    Binding {
        keys: &[ch('s')],
        shown: "s",
        command: Command::StepSkip,
        footer: Some("skip"),
        help: "skip the step (asks for a note saying why)",
        scopes: &[W],
    },
    Binding {
        keys: &[ch('n')],
        shown: "n",
        command: Command::StepNote,
        footer: Some("note"),
        help: "add a note to the step",
        scopes: &[W],
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        shown: "Esc",
        command: Command::Close,
        footer: Some("back"),
        help: "back to the environments (the incident is saved; i resumes it)",
        scopes: &[W],
    },
    Binding {
        keys: &[ch('r')],
        shown: "r",
        command: Command::Resume,
        footer: Some("resume"),
        help: "resume: run the remaining steps again",
        scopes: &[U],
    },
    Binding {
        keys: &[ch('b')],
        shown: "b",
        command: Command::Rollback,
        footer: Some("roll back"),
        help: "roll back: every file gets its content from before the rotation; restart again",
        scopes: &[U],
    },
    Binding {
        keys: &[key(KeyCode::Esc), ch('l')],
        shown: "Esc/l",
        command: Command::Close,
        footer: Some("later"),
        help: "later: it stays journaled (u on the environment, or keywarden rotate ENV --resume)",
        scopes: &[U],
    },
    Binding {
        keys: &[key(KeyCode::Enter)],
        shown: "Enter",
        command: Command::Confirm,
        footer: Some("restore"),
        help: "restore the selected backup (asks first)",
        scopes: &[B],
    },
    Binding {
        keys: &[key(KeyCode::Enter)],
        shown: "Enter",
        command: Command::Confirm,
        footer: Some("choose"),
        help: "choose",
        scopes: &[N],
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        shown: "Esc",
        command: Command::Close,
        footer: Some("close"),
        help: "close",
        scopes: &[B, A, N],
    },
    Binding {
        keys: &[key(KeyCode::Up)],
        shown: "↑",
        command: Command::Up,
        footer: None,
        help: "scroll the text up, when it is taller than the screen",
        scopes: &[C, T],
    },
    Binding {
        keys: &[key(KeyCode::Down)],
        shown: "↓",
        command: Command::Down,
        footer: None,
        help: "scroll the text down",
        scopes: &[C, T],
    },
    Binding {
        keys: &[ch('y')],
        shown: "y",
        command: Command::Yes,
        footer: Some("yes"),
        help: "confirm",
        scopes: &[C],
    },
    Binding {
        keys: &[key(KeyCode::Enter)],
        shown: "Enter",
        command: Command::Confirm,
        footer: Some("confirm"),
        help: "confirm what you typed",
        scopes: &[T],
    },
    Binding {
        keys: &[key(KeyCode::Enter)],
        shown: "Enter",
        command: Command::Confirm,
        footer: Some("keep filter"),
        help: "keep the filter and go back to the list",
        scopes: &[F],
    },
    Binding {
        keys: &[key(KeyCode::Backspace)],
        shown: "Backspace",
        command: Command::Erase,
        footer: None,
        help: "erase a character",
        scopes: &[T, F],
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        shown: "Esc",
        command: Command::Close,
        footer: Some("clear filter"),
        help: "clear the filter",
        scopes: &[F],
    },
    Binding {
        keys: &[ch('o')],
        shown: "o",
        command: Command::Pager,
        footer: Some("whole text"),
        help: "open the activity, the targets and findings (and the step's result) whole, in a pager",
        scopes: &[M, W],
    },
    Binding {
        keys: &[ch('[')],
        shown: "[",
        command: Command::ActivityOlder,
        footer: None,
        help: "scroll the activity pane back to older lines (also the mouse wheel over it)",
        scopes: &[M, W],
    },
    Binding {
        keys: &[ch(']')],
        shown: "]",
        command: Command::ActivityNewer,
        footer: None,
        help: "scroll the activity pane forth, to the newest lines",
        scopes: &[M, W],
    },
    Binding {
        keys: &[ch('t')],
        shown: "t",
        command: Command::Timeline,
        footer: Some("calendar"),
        help: "the rotation calendar: every environment's key age against its policy, drawn",
        scopes: &[M],
    },
    Binding {
        keys: &[ch('/')],
        shown: "/",
        command: Command::Filter,
        footer: Some("filter"),
        help: "filter the environments and their findings: type, Enter keeps it, Esc clears it",
        scopes: &[M],
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        shown: "Esc",
        command: Command::Close,
        footer: None,
        help: "clear a kept filter",
        scopes: &[M],
    },
    Binding {
        keys: &[key(KeyCode::Esc), ch('n')],
        shown: "Esc/n",
        command: Command::Close,
        footer: Some("cancel"),
        help: "cancel",
        scopes: &[C],
    },
    Binding {
        keys: &[key(KeyCode::Esc)],
        shown: "Esc",
        command: Command::Close,
        footer: Some("cancel"),
        help: "cancel",
        scopes: &[T],
    },
    Binding {
        keys: &[key(KeyCode::Esc), ch('v')],
        shown: "Esc",
        command: Command::Close,
        footer: Some("hide now"),
        help: "hide the key now",
        scopes: &[R],
    },
    Binding {
        keys: &[key(KeyCode::Esc), key(KeyCode::Enter), ch('?')],
        shown: "Esc",
        command: Command::Close,
        footer: Some("close"),
        help: "close",
        scopes: &[H, G],
    },
    Binding {
        keys: &[ch('?')],
        shown: "?",
        command: Command::Help,
        footer: Some("help"),
        help: "list every key",
        scopes: &[M, W],
    },
    Binding {
        keys: &[ch('q')],
        shown: "q",
        command: Command::Quit,
        footer: Some("quit"),
        help: "quit (clears a key keywarden put on the clipboard)",
        scopes: &[M, H, R, G, W, U, B, A, N],
    },
    Binding {
        keys: &[ctrl('c')],
        shown: "Ctrl-C",
        command: Command::Quit,
        footer: None,
        help: "quit from anywhere, even while typing",
        scopes: &[M, H, C, T, R, G, W, U, B, A, N, F],
    },
];

/// The command `event` means in `scope`, if any.
pub fn lookup(scope: Scope, event: &KeyEvent) -> Option<Command> {
    // Shift is part of the character itself (`?`, `G`); only Ctrl and Alt change meaning.
    let mods = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
    BINDINGS
        .iter()
        .filter(|b| b.scopes.contains(&scope))
        .find(|b| {
            b.keys
                .iter()
                .any(|k| k.code == event.code && k.modifiers == mods)
        })
        .map(|b| b.command)
}

/// How the key of `command` in the main view is written (`g`), for sentences that name
/// the key to press.
pub fn shown(command: Command) -> &'static str {
    BINDINGS
        .iter()
        .find(|b| b.command == command && b.scopes.contains(&Scope::Main))
        .map_or("?", |b| b.shown)
}

/// The bindings shown in the footer of `scope`, in table order.
pub fn footer(scope: Scope) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| b.scopes.contains(&scope) && b.footer.is_some())
}

/// Every binding of `scope`, for the help.
pub fn in_scope(scope: Scope) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.scopes.contains(&scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_in_one_scope() {
        for scope in Scope::ALL {
            let mut seen: Vec<Key> = Vec::new();
            for b in in_scope(scope) {
                for k in b.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice in {scope:?}");
                    seen.push(*k);
                }
            }
        }
    }

    #[test]
    fn ctrl_c_quits_everywhere_and_letters_type_in_text_fields() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for scope in Scope::ALL {
            assert_eq!(lookup(scope, &ctrl_c), Some(Command::Quit), "{scope:?}");
        }
        for c in 'a'..='z' {
            let ev = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            assert_eq!(lookup(Scope::Typing, &ev), None, "{c}");
            assert_eq!(lookup(Scope::Filter, &ev), None, "{c}");
        }
    }

    #[test]
    fn shift_is_part_of_the_character() {
        let ev = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Scope::Main, &ev), Some(Command::Help));
    }
}
