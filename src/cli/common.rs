//! What most commands start with: the project, the state home, the pepper; and the
//! housekeeping every run does (ending grace periods, pointing at unfinished rotations).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::keys::fingerprint::Pepper;
use crate::ops::rotation;
use crate::project::Project;
use crate::project::home::Home;
use std::path::Path;

pub struct Opened {
    pub project: Project,
    pub pepper: Pepper,
}

/// Opens the project, ends expired grace periods, and warns (on stderr) about unfinished
/// rotations other than `quiet_for`'s.
pub fn open_for(project: Option<&Path>, quiet_for: Option<&str>) -> Result<Opened> {
    // The command line's one view of the outside world: this process.
    let context = Context::process();
    let home = Home::locate(&context.env)?;
    let pepper = Pepper::load_or_create(&home)?;
    let project = Project::open(project, home, context)?;
    // Housekeeping must not stop the command the user asked for: a failure is a warning.
    match rotation::expire_grace(&project, &pepper, &project.audit(), project.context.now()) {
        Ok(ended) => {
            for env in ended {
                eprintln!(
                    "keywarden: {env}: the grace period ended; the old key left the fallback"
                );
            }
        }
        Err(e) => eprintln!(
            "keywarden: warning: could not end a grace period: {}",
            super::words::error(&e)
        ),
    }
    let state = project.load_state()?;
    if state
        .rotations
        .keys()
        .any(|e| Some(e.as_str()) != quiet_for)
    {
        // A journal under a held lock is a rotation still running, not an interrupted one.
        let running = match project.lock() {
            Err(Error::Locked { pid, .. }) => Some(pid),
            _ => None,
        };
        for (env, j) in state
            .rotations
            .iter()
            .filter(|(e, _)| Some(e.as_str()) != quiet_for)
        {
            match running {
                Some(pid) => eprintln!(
                    "keywarden: note: a rotation is running{} ({})",
                    pid.map(|p| format!(" in pid {p}")).unwrap_or_default(),
                    j.describe()
                ),
                None => eprintln!(
                    "keywarden: warning: unfinished rotation of {}\n  run `keywarden rotate {env} --resume` to finish it or `--rollback` to undo it",
                    j.describe()
                ),
            }
        }
    }
    Ok(Opened { project, pepper })
}

/// Before a command that may run restart, verify or notify commands (`run_commands`):
/// opens the backups' identity so that their retired and revoked keys are hidden from
/// the commands' output — asking once at a terminal when no keyring or passphrase file
/// opens it — and says on stderr what will not be hidden (a backup that cannot be read,
/// or no passphrase to open them). A wrong passphrase stops here, before any change.
pub fn prepare_hiding(opened: &Opened, run_commands: bool) -> Result<()> {
    let runs_any = opened
        .project
        .manifest
        .environments
        .iter()
        .any(|e| e.restart.is_some() || e.verify.is_some() || e.notify.is_some());
    if !run_commands || !runs_any {
        return Ok(());
    }
    for note in crate::ops::known::prepare(&opened.project, &opened.pepper)? {
        eprintln!("keywarden: warning: {note}");
    }
    Ok(())
}

pub fn open(project: Option<&Path>) -> Result<Opened> {
    open_for(project, None)
}
