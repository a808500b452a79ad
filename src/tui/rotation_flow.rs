//! Rotate (`R`), revoke (`X`), an unfinished rotation (`u`, and first thing at start),
//! backups and restore (`b`), and the audit trail (`a`): what each key asks before a job
//! runs. The jobs themselves call the same core as `keywarden rotate|revoke|restore`.

use super::action::Action;
use super::app::App;
use super::jobs::Job;
use super::popup::{AuditTrail, BackupRow, Backups, Confirm, Input, Popup, Unfinished};
use crate::ops::apply;
use crate::ops::command::CommandRun;
use crate::project::manifest::is_production;
use crate::project::manifest::{Environment, Target};
use crate::records::backup::BackupStore;
use crate::records::journal::{Journal, Step};

impl App {
    /// At start: every unfinished rotation first (the most urgent), then open incidents.
    pub(crate) fn offer_at_start(&mut self) {
        if let Ok(state) = self.session.project.load_state() {
            for j in state.rotations.values() {
                self.queued
                    .push_back(Popup::Unfinished(unfinished(j, None)));
            }
        }
        self.offer_open_incidents();
        if self.popup.is_none() {
            self.popup = self.queued.pop_front();
        }
    }

    /// The environment's file targets, or an error popup saying why there are none.
    fn writable(&mut self, env_name: &str, what: &str) -> Option<Environment> {
        let env = match apply::environment(&self.session.project, env_name) {
            Ok(env) => env.clone(),
            Err(e) => {
                self.error(&format!("Cannot {what}"), super::words::error(&e));
                return None;
            }
        };
        if !env
            .targets
            .iter()
            .any(|t| matches!(t, Target::File { .. } | Target::Vault { .. }))
        {
            let vars: Vec<String> = env.targets.iter().map(Target::label).collect();
            self.error(
                &format!("Cannot {what}"),
                format!(
                    "{env_name} keeps its key only in environment variables ({}), which keywarden does not write; set it where the service runs",
                    vars.join(", ")
                ),
            );
            return None;
        }
        Some(env)
    }

    /// An unfinished rotation is in the way: show it instead.
    fn unfinished_in_the_way(&mut self, env: &str) -> bool {
        let state = self.session.project.load_state().ok();
        match state.as_ref().and_then(|s| s.rotations.get(env)) {
            Some(j) => {
                self.popup = Some(Popup::Unfinished(unfinished(j, None)));
                self.toast(format!("{env}: finish or roll back this rotation first"));
                true
            }
            None => false,
        }
    }

    /// `R` (no reason) or the end of `X` (a reason): the confirmation before the job.
    pub(crate) fn ask_rotate(&mut self, env_name: &str, reason: Option<String>) {
        let what = if reason.is_some() { "revoke" } else { "rotate" };
        let Some(env) = self.writable(env_name, what) else {
            return;
        };
        if self.unfinished_in_the_way(env_name) {
            return;
        }
        let fp = self
            .status
            .environments
            .iter()
            .find(|e| e.name == env_name)
            .and_then(|e| e.fingerprint.as_ref())
            .map_or("the current key".to_string(), ToString::to_string);
        let files = self.diff_lines(
            &env,
            if reason.is_some() {
                super::write_diff::Planned::Revoke
            } else {
                super::write_diff::Planned::Rotate
            },
        );
        let spec = apply::default_spec(&self.session.project)
            .map(|s| apply::describe(&s))
            .unwrap_or_else(|_| "the manifest's defaults".into());
        let mut body = Vec::new();
        if let Some(r) = &reason {
            body.push(format!("Reason: {r}"));
            body.push(format!(
                "{fp} leaves every file and the fallback at once (no grace period) and goes on the revoked list: found anywhere later, it is a critical finding. A new random key ({spec}) is written; what changes (values masked, keys by fingerprint):"
            ));
        } else {
            body.push(format!(
                "{fp} is replaced by a new random key ({spec}); what changes (values masked, keys by fingerprint):"
            ));
        }
        body.extend(files);
        body.push(
            "The old key, the new key and every file are backed up first; each step is journaled, so an interruption can be resumed or rolled back."
                .into(),
        );
        body.push(match (&env.restart, &env.verify) {
            (Some(r), Some(v)) => format!("Then restart: `{r}`, and verify: `{v}`."),
            (Some(r), None) => format!("Then restart: `{r}` (no verify command)."),
            (None, Some(v)) => format!("Then verify: `{v}` (no restart command)."),
            (None, None) => {
                "No restart command in keywarden.toml: restart the application yourself.".into()
            }
        });
        if reason.is_none()
            && env.grace_days > 0
            && let Some(fallback) = &env.fallback
        {
            body.push(format!(
                "The old key stays in {} for {} days, so existing sessions survive.",
                fallback.label(),
                env.grace_days
            ));
        } else {
            body.push("Sessions and tokens signed with the old key stop working.".into());
        }
        let vars: Vec<String> = env
            .targets
            .iter()
            .filter(|t| !matches!(t, Target::File { .. } | Target::Vault { .. }))
            .map(Target::label)
            .collect();
        if !vars.is_empty() {
            body.push(format!(
                "Update {} yourself where the service runs.",
                vars.join(", ")
            ));
        }
        let name = env_name.to_string();
        let (title, job) = match reason {
            Some(reason) => (
                format!("Revoke {env_name}'s key?"),
                Job::Revoke { env: name, reason },
            ),
            None => (
                format!("Rotate {env_name}'s key?"),
                Job::Rotate { env: name },
            ),
        };
        let confirm = Confirm::new(title, body, job);
        self.popup = Some(Popup::Confirm(if is_production(env_name) {
            confirm.typing(env_name)
        } else {
            confirm
        }));
    }

    /// `X`: why? (kept with the revocation and in the audit trail), then the confirmation.
    pub(crate) fn ask_revoke_reason(&mut self, env_name: &str) {
        if self.writable(env_name, "revoke").is_none() || self.unfinished_in_the_way(env_name) {
            return;
        }
        let env = env_name.to_string();
        self.popup = Some(Popup::Input(Input::new(
            format!("Revoke {env_name}'s key?"),
            "Why? The reason is kept with the revocation and in the audit trail (a ticket number helps).",
            move |reason| Action::RevokeBecause { env, reason },
        )));
    }

    /// `u`: the environment's unfinished rotation.
    pub(crate) fn show_unfinished(&mut self, env: &str) {
        let state = match self.session.project.load_state() {
            Ok(s) => s,
            Err(e) => return self.error("Cannot read the state", super::words::error(&e)),
        };
        match state.rotations.get(env) {
            Some(j) => self.popup = Some(Popup::Unfinished(unfinished(j, None))),
            None => self.toast(format!("{env} has no unfinished rotation")),
        }
    }

    /// Restart or verify failed: roll back, or leave it for later.
    pub(crate) fn offer_rollback(&mut self, env: &str, step: &str, run: CommandRun) {
        let state = self.session.project.load_state();
        match state.as_ref().ok().and_then(|s| s.rotations.get(env)) {
            Some(j) => {
                self.popup = Some(Popup::Unfinished(unfinished(
                    j,
                    Some((step.to_string(), run)),
                )));
            }
            None => self.error(
                &format!("{env}: {step} failed"),
                format!("`{}` {}", run.command, run.summary()),
            ),
        }
    }

    /// `b`: the environment's backups, newest first.
    pub(crate) fn show_backups(&mut self, env: &str) {
        let project = &self.session.project;
        let state = project.load_state().ok();
        let rows: Vec<BackupRow> = BackupStore::of(project)
            .list()
            .into_iter()
            .rev()
            .filter(|m| m.environment == env)
            .map(|meta| {
                let revoked = meta
                    .fingerprint
                    .as_ref()
                    .and_then(|fp| state.as_ref()?.is_revoked(fp))
                    .map(|r| format!("{}, {}", r.reason, r.at.strftime("%Y-%m-%d")));
                BackupRow { meta, revoked }
            })
            .collect();
        self.popup = Some(Popup::Backups(Backups::new(env.to_string(), rows)));
    }

    /// Enter in the backups list: refused at once for a revoked key (the list stays
    /// behind the message), else the confirmation.
    pub(crate) fn restore_selected(&mut self, list: Backups) {
        let Some(row) = list.rows.get(list.selected) else {
            self.popup = Some(Popup::Backups(list));
            return;
        };
        let (env, backup) = (list.env.clone(), row.meta.id.clone());
        if let Err(e) =
            crate::ops::restore::check(&self.session.project, &self.session.pepper, &env, &backup)
        {
            self.queued.push_front(Popup::Backups(list));
            return self.error("Cannot restore", super::words::error(&e));
        }
        self.ask_restore(&env, &backup);
    }

    /// The confirmation of a restore (production: type its name).
    pub(crate) fn ask_restore(&mut self, env: &str, backup: &str) {
        let meta = match crate::ops::restore::check(
            &self.session.project,
            &self.session.pepper,
            env,
            backup,
        ) {
            Ok(m) => m,
            Err(e) => return self.error("Cannot restore", super::words::error(&e)),
        };
        let fp = meta
            .fingerprint
            .as_ref()
            .map_or("no key".to_string(), ToString::to_string);
        let mut body = match meta.kind {
            crate::records::backup::Kind::Key => vec![
                format!(
                    "Key {fp} (backed up {}, {}) goes back into every file of {env}, through the journaled rotation: backed up, written, restarted, verified.",
                    meta.created.strftime("%Y-%m-%d %H:%M"),
                    meta.reason
                ),
                "Sessions signed with the current key stop working.".into(),
            ],
            crate::records::backup::Kind::File => vec![
                format!(
                    "{} gets its content of {} back (it held {fp}; {}).",
                    meta.target,
                    meta.created.strftime("%Y-%m-%d %H:%M"),
                    meta.reason
                ),
                "Its current content is backed up first.".into(),
            ],
        };
        if let Ok(environment) = apply::environment(&self.session.project, env) {
            body.push("What changes (values masked, keys by fingerprint):".into());
            let environment = environment.clone();
            body.extend(self.restore_diff(&environment, &meta));
        }
        match self.backup_is_published(env, &meta) {
            Some(true) => body.insert(
                0,
                format!(
                    "Warning: this backup holds a published key ({fp}, KW001): anyone who read it can sign sessions. Restore it only to undo a mistake, then rotate at once."
                ),
            ),
            Some(false) => {}
            None => body.push(
                "Whether it holds a published key (KW001) is not known: the backups are locked until the restore asks for their passphrase.".into(),
            ),
        }
        let confirm = Confirm::new(
            format!("Restore a backup into {env}?"),
            body,
            Job::Restore {
                env: env.to_string(),
                backup: backup.to_string(),
            },
        );
        self.popup = Some(Popup::Confirm(if is_production(env) {
            confirm.typing(env)
        } else {
            confirm
        }));
    }

    /// Once the passphrase has opened the backups for a restore whose confirmation could
    /// not check them: if the backup holds a published key (KW001), the restore does not
    /// run; its confirmation is shown again, with the warning and the change, and
    /// confirming it asks the passphrase once more. `true` when it was stopped.
    pub(crate) fn published_after_unlock(&mut self, job: &Job) -> bool {
        let Job::Restore { env, backup } = job else {
            return false;
        };
        if self.restore_acknowledged.take().as_deref() == Some(backup.as_str()) {
            return false;
        }
        let Ok(meta) =
            crate::ops::restore::check(&self.session.project, &self.session.pepper, env, backup)
        else {
            return false;
        };
        if self.backup_is_published(env, &meta) != Some(true) {
            return false;
        }
        self.ask_restore(env, backup);
        if let Some(Popup::Confirm(c)) = &mut self.popup {
            c.body.insert(
                0,
                "Checked now that the backups are open: nothing was restored yet. Confirm again to restore it anyway (the passphrase is asked once more).".into(),
            );
            self.restore_acknowledged = Some(backup.clone());
        }
        true
    }

    /// Whether backup `meta` holds a published key (strength finding KW001); `None` when
    /// it cannot be read without asking for the backups' passphrase.
    fn backup_is_published(
        &self,
        env: &str,
        meta: &crate::records::backup::BackupMeta,
    ) -> Option<bool> {
        use crate::keys::strength;
        let project = &self.session.project;
        let store = BackupStore::of(project);
        if store.would_ask([&meta.id]) {
            return None;
        }
        let keys: Vec<crate::keys::secret::Secret> = match meta.kind {
            crate::records::backup::Kind::Key => store.key(&meta.id).ok().into_iter().collect(),
            crate::records::backup::Kind::File => {
                let content = store.content(&meta.id).ok()?;
                let text = std::str::from_utf8(&content).ok()?;
                let environment = apply::environment(project, env).ok()?;
                environment
                    .targets
                    .iter()
                    .chain(environment.fallback.iter())
                    .filter(|t| t.label() == meta.target)
                    .filter_map(|t| crate::targets::key_in_text(t, text))
                    .collect()
            }
        };
        Some(keys.iter().any(|k| {
            strength::analyze(k, &strength::Context::new(None, &[]))
                .findings
                .iter()
                .any(|f| f.code == crate::finding::Code::KnownKey)
        }))
    }

    /// `a`: the audit trail and its verification.
    pub(crate) fn show_audit_trail(&mut self) {
        let log = self.session.project.audit();
        self.popup = Some(Popup::Audit(AuditTrail::new(&log)));
    }
}

fn unfinished(j: &Journal, stopped: Option<(String, CommandRun)>) -> Unfinished {
    let just_now = stopped.is_some();
    // Why it stopped, from the journal: the last command's outcome, if one failed.
    let stopped = stopped.or_else(|| {
        [("verify", &j.verify), ("restart", &j.restart)]
            .into_iter()
            .find_map(|(step, run)| {
                run.as_ref()
                    .filter(|r| !r.succeeded())
                    .map(|r| (step.to_string(), r.clone()))
            })
    });
    let why = if stopped.is_some() {
        None
    } else {
        let next = match j.step {
            Step::Created => "writing the new key",
            Step::Set => "the restart",
            Step::Restarted => "the verification",
            Step::Verified => "the last bookkeeping",
        };
        Some(format!(
            "It stopped after step `{}`, before {next}, with no failed command recorded: keywarden was interrupted there (quit, killed, or the machine stopped).",
            j.step.as_str()
        ))
    };
    Unfinished {
        env: j.environment.clone(),
        description: j.describe(),
        written: j.step >= Step::Set,
        stopped,
        just_now,
        why,
    }
}
