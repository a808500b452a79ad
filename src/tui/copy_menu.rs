//! `y`: copy what is not a secret — the environment's fingerprint, a finding's fix
//! command — through the same clipboard code as a key (`c`), so it is excluded from the
//! clipboard's history and cleared the same way.

use super::action::Action;
use super::app::{App, Copied};
use super::popup::{Menu, MenuItem, Popup};

impl App {
    /// The menu of what the environment offers to copy.
    pub(crate) fn offer_copies(&mut self, env_name: &str) {
        let Some(env) = self.status.environments.iter().find(|e| e.name == env_name) else {
            return;
        };
        let mut items = Vec::new();
        if let Some(fp) = &env.fingerprint {
            items.push(MenuItem {
                label: format!("Fingerprint {fp}"),
                detail: "of the key every target holds (the key itself: c)".into(),
                action: Action::CopyText {
                    what: format!("{env_name}'s fingerprint"),
                    text: fp.to_string(),
                },
            });
        }
        for t in &env.targets {
            if let Some(fp) = &t.fingerprint
                && env.fingerprint.as_ref() != Some(fp)
            {
                let name = t
                    .path
                    .clone()
                    .or_else(|| t.env.as_ref().map(|v| format!("${v}")))
                    .unwrap_or_default();
                items.push(MenuItem {
                    label: format!("Fingerprint {fp}"),
                    detail: format!("of the key in {name}"),
                    action: Action::CopyText {
                        what: format!("the fingerprint in {name}"),
                        text: fp.to_string(),
                    },
                });
            }
        }
        for f in &env.findings {
            let Some(fix) = &f.fix else { continue };
            let command = fix_command(fix);
            items.push(MenuItem {
                label: format!("Fix of {}: {command}", f.code.as_str()),
                detail: f.message.clone(),
                action: Action::CopyText {
                    what: format!("the fix of {}", f.code.as_str()),
                    text: command,
                },
            });
        }
        if items.is_empty() {
            return self.toast(format!(
                "{env_name}: no fingerprint and no fix to copy (the key itself: c)"
            ));
        }
        self.popup = Some(Popup::Menu(Menu {
            title: format!("Copy from {env_name}"),
            intro:
                "Enter copies the chosen text to the clipboard; it is cleared like a copied key."
                    .into(),
            items,
            selected: 0,
        }));
    }

    /// Puts `text` on the clipboard (the same code as a key's copy).
    pub(crate) fn copy_text(&mut self, what: String, text: &str) {
        match crate::clipboard::copy_text(text, self.settings.clear_after) {
            Ok(held) => {
                let secs = self.settings.clear_after.as_secs();
                self.toast(format!("copied {what}: {text}; cleared in {secs} s"));
                // A key copied before leaves the clipboard now: the text replaces it.
                self.copied = Some(Copied { held, what });
            }
            Err(e) => self.error("Cannot copy", e.to_string()),
        }
    }
}

/// The command in a fix: the text between backticks that runs keywarden, else the fix
/// itself when it is a command, else the whole text.
pub fn fix_command(fix: &str) -> String {
    let quoted =
        fix.split('`').skip(1).step_by(2).find(|c| {
            c.starts_with("keywarden ") || c.starts_with("git ") || c.starts_with("chmod ")
        });
    if let Some(c) = quoted {
        return c.to_string();
    }
    // "replace it: keywarden set staging --generate" — the command from its name on.
    match fix.find("keywarden ") {
        Some(at) if at == 0 || fix[..at].ends_with(' ') => {
            let command = &fix[at..];
            // Up to a note in parentheses or the next clause.
            let end = [" (", "; ", ", "]
                .iter()
                .filter_map(|sep| command.find(sep))
                .min()
                .unwrap_or(command.len());
            command[..end].trim_end_matches(['.', ' ']).to_string()
        }
        _ => fix.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::fix_command;

    #[test]
    fn the_command_of_a_fix() {
        assert_eq!(
            fix_command(
                "git rm it, and replace the key: keywarden set development --generate (the old key stays in history)"
            ),
            "keywarden set development --generate"
        );
        assert_eq!(
            fix_command("keywarden fix staging"),
            "keywarden fix staging"
        );
        assert_eq!(
            fix_command("untrack it: `git rm --cached .env` then rotate"),
            "git rm --cached .env"
        );
        assert_eq!(
            fix_command("replace it: keywarden set development --generate"),
            "keywarden set development --generate"
        );
        assert_eq!(
            fix_command("fix the file; it stays untouched until then"),
            "fix the file; it stays untouched until then"
        );
    }
}
