//! `App::update`: the one place where actions change the state.

use super::action::Action;
use super::app::{Activity, App, Copied, Focus, Mode, Toast};
use super::jobs::{Job, JobEvent, JobReport, Next};
use super::popup::{Confirm, Help, Message, Passphrase, Popup, REVEAL_FOR, Reveal};
use crate::clipboard::{self, Cleared};
use crate::ops::apply;
use crate::ops::current_key::{self, Handout};
use crate::ops::status::ProjectStatus;
use crate::project::manifest::Target;
use crate::project::manifest::is_production;
use crate::records::audit::{Outcome, Record};
use crate::records::backup::BackupStore;
use crate::records::crypt::identity::Place;
use std::time::Duration;

/// How long a note stays at the bottom of the screen.
const TOAST_FOR: Duration = Duration::from_secs(4);
/// Lines of job output kept for the activity pane.
const ACTIVITY_KEPT: usize = 200;

impl App {
    pub fn update(&mut self, action: Action) {
        // A note is about what was just done: moving on clears it.
        if matches!(
            action,
            Action::Move(_) | Action::Jump { .. } | Action::Select(_) | Action::SwitchPane
        ) {
            self.toast = None;
        }
        match action {
            Action::Quit => self.quit(),
            Action::Tick(now) => self.tick(now),
            Action::Move(by) => self.move_by(by),
            Action::Jump { end } => self.jump(end),
            Action::Select(index) => {
                self.focus = Focus::Environments;
                self.select(index);
            }
            Action::ScrollDetails(by) => self.scroll_details(by),
            Action::SwitchPane => {
                self.focus = match self.focus {
                    Focus::Environments => Focus::Details,
                    Focus::Details => Focus::Environments,
                };
            }
            Action::ShowHelp => self.popup = Some(Popup::Help(Help::default())),
            // Dropping a revealed key wipes it (`Secret` zeroizes).
            Action::ClosePopup => {
                self.popup = None;
                self.restore_acknowledged = None;
            }
            Action::Type(c) => self.type_char(Some(c)),
            Action::Erase => self.type_char(None),
            Action::Confirm => self.confirm(),
            Action::Generate(env) => self.ask_generate(&env),
            Action::Copy(env) => self.copy(&env),
            Action::CopyMenu(env) => self.offer_copies(&env),
            Action::CopyText { what, text } => self.copy_text(what, &text),
            Action::Reveal(env) => self.reveal(&env),
            Action::Rotate(env) => self.ask_rotate(&env, None),
            Action::Revoke(env) => self.ask_revoke_reason(&env),
            Action::RevokeBecause { env, reason } => self.ask_rotate(&env, Some(reason)),
            Action::Unfinished(env) => self.show_unfinished(&env),
            Action::Backups(env) => self.show_backups(&env),
            Action::Restore { env, backup } => self.ask_restore(&env, &backup),
            Action::AuditTrail => self.show_audit_trail(),
            Action::Incident(env) => self.offer_incidents(&env),
            Action::StartIncident { playbook, env } => self.start_incident(&playbook, &env),
            Action::OpenIncident(id) => self.open_incident(&id),
            Action::CloseWizard => self.wizard = None,
            Action::Step(step) => self.step(step),
            Action::ShowPager => self.show_pager(),
            Action::ScrollActivity(by) => {
                if self.activity_top.take().is_some() {
                    self.activity_scroll = self.regions.activity_back.get();
                }
                self.activity_scroll = step(
                    self.activity_scroll,
                    by,
                    self.regions.activity_max_scroll.get(),
                )
            }
            Action::ShowTimeline => {
                self.popup = Some(Popup::Timeline(super::popup::Timeline {
                    rows: (self.status.environments.iter())
                        .map(super::popup::TimelineRow::of)
                        .collect(),
                    ..Default::default()
                }))
            }
            Action::Filter => {
                self.focus = Focus::Environments;
                let text = self.filter.take().map(|f| f.text).unwrap_or_default();
                self.filter = Some(super::app::Filter { text, typing: true });
            }
            Action::ClearFilter => self.filter = None,
            Action::Run(job) => {
                // A key in a popup (resume, roll back) answers it.
                self.popup = None;
                self.start(job);
            }
            Action::Job(JobEvent::Line(text)) => self.log(Activity::Detail, text),
            Action::Job(JobEvent::Finished(report)) => self.finished(*report),
        }
        // What start offered comes once the popup in front is gone.
        if self.popup.is_none() {
            self.popup = self.queued.pop_front();
        }
    }

    fn quit(&mut self) {
        match (self.mode, self.jobs.running()) {
            (Mode::Running, Some(r)) if r.job.changes_files() => {
                self.mode = Mode::Quitting;
                let text = format!(
                    "quitting once {} is done (q again quits now, which may leave it half done)",
                    r.job.describe()
                );
                self.toast(text);
            }
            _ => self.mode = Mode::Quit,
        }
    }

    fn tick(&mut self, now: std::time::Instant) {
        self.now = now;
        self.watch_tick();
        self.drain_alerts();
        self.drain_trail();
        self.drain_scan();
        if let Some(Popup::Reveal(r)) = &self.popup
            && now >= r.until
        {
            self.popup = None;
        }
        if self.toast.as_ref().is_some_and(|t| now >= t.until) {
            self.toast = None;
        }
        if self
            .copied
            .as_ref()
            .is_some_and(|c| now >= c.held.clear_at())
        {
            let what = self
                .copied
                .as_ref()
                .map(|c| c.what.clone())
                .unwrap_or_default();
            match self.forget_clipboard() {
                Some(Ok(Cleared::Cleared)) => self.toast(format!("clipboard cleared ({what})")),
                Some(Ok(Cleared::Replaced)) => {
                    self.toast("clipboard left alone: something else was copied since".into())
                }
                Some(Err(e)) => self.error("Could not clear the clipboard", e),
                None => {}
            }
        }
    }

    fn move_by(&mut self, by: i32) {
        match &mut self.popup {
            Some(Popup::Help(help)) => {
                help.scroll = step(help.scroll, by, help.max_scroll.get());
                return;
            }
            Some(Popup::Audit(a)) => {
                a.scroll = step(a.scroll, by, a.max_scroll.get());
                return;
            }
            Some(Popup::Pager(p)) => {
                p.scroll = step(p.scroll, by, p.max_scroll.get());
                return;
            }
            Some(Popup::Confirm(c)) => {
                c.scroll = step(c.scroll, by, c.max_scroll.get());
                return;
            }
            Some(Popup::Timeline(t)) => {
                t.scroll = step(t.scroll, by, t.max_scroll.get());
                return;
            }
            Some(Popup::Backups(b)) => return b.move_by(by),
            Some(Popup::Menu(m)) => return m.move_by(by),
            _ => {}
        }
        if let Some(w) = &mut self.wizard {
            return w.move_by(by);
        }
        match self.focus {
            Focus::Environments => {
                let shown = self.shown_envs();
                let Some(at) = shown.iter().position(|&i| i == self.selected) else {
                    if let Some(&first) = shown.first() {
                        self.select(first);
                    }
                    return;
                };
                let last = shown.len().saturating_sub(1);
                let to = (at as i64 + i64::from(by)).clamp(0, last as i64);
                self.select(shown[to as usize]);
            }
            Focus::Details => self.scroll_details(by),
        }
    }

    fn jump(&mut self, end: bool) {
        if let Some(Popup::Audit(a)) = &mut self.popup {
            a.scroll = if end { a.max_scroll.get() } else { 0 };
            return;
        }
        match self.focus {
            Focus::Environments => {
                let shown = self.shown_envs();
                let to = if end { shown.last() } else { shown.first() };
                if let Some(&to) = to {
                    self.select(to);
                }
            }
            Focus::Details => {
                self.details_scroll = if end {
                    self.regions.details_max_scroll.get()
                } else {
                    0
                };
            }
        }
    }

    fn select(&mut self, index: usize) {
        if index < self.status.environments.len() && index != self.selected {
            self.selected = index;
            self.details_scroll = 0;
        }
    }

    fn scroll_details(&mut self, by: i32) {
        self.details_scroll = step(
            self.details_scroll,
            by,
            self.regions.details_max_scroll.get(),
        );
    }

    fn type_char(&mut self, c: Option<char>) {
        if let Some(Popup::Passphrase(p)) = &mut self.popup {
            return p.type_char(c);
        }
        if self.popup.is_none()
            && let Some(f) = self.filter.as_mut().filter(|f| f.typing)
        {
            match c {
                Some(c) if !c.is_control() => f.text.push(c),
                Some(_) => {}
                None => {
                    f.text.pop();
                }
            }
            return self.keep_selection_shown();
        }
        let field = match &mut self.popup {
            Some(Popup::Confirm(Confirm { typed: Some(t), .. })) => {
                t.mismatch = false;
                &mut t.input
            }
            Some(Popup::Input(r)) => {
                r.empty = false;
                &mut r.input
            }
            _ => return,
        };
        match c {
            Some(c) if !c.is_control() => field.push(c),
            Some(_) => {}
            None => {
                field.pop();
            }
        }
    }

    /// `o`: the pager, with the whole text of what the panes may cut.
    fn show_pager(&mut self) {
        let activity: Vec<String> = self.activity().map(str::to_string).collect();
        let mut sections = vec![("Activity, oldest first".to_string(), activity)];
        if let Some(problem) = &self.autorefresh.problem {
            // Said here, not on the main screen: the view still works, `r` reads again.
            sections.push((
                "Reading the files again by itself".into(),
                vec![problem.clone()],
            ));
        }
        if let Some(w) = &self.wizard
            && let Some(rec) = w.incident.steps.get(w.cursor)
        {
            let title = w
                .playbook
                .step(&rec.id)
                .map_or(rec.id.clone(), |d| d.title.clone());
            let mut entries: Vec<String> = rec
                .result
                .iter()
                .flat_map(|r| r.lines().map(str::to_string))
                .collect();
            entries.extend(
                rec.notes
                    .iter()
                    .map(|n| format!("{} {}: {}", n.at.strftime("%m-%d %H:%M"), n.by, n.text)),
            );
            sections.push((format!("Step: {title}"), entries));
        }
        if let Some(env) = self.selected_env() {
            let targets = env
                .targets
                .iter()
                .map(|t| {
                    let name = match (&t.path, &t.env, &t.vault) {
                        (Some(p), _, _) => p.clone(),
                        (None, Some(v), _) => format!("${v}"),
                        (None, None, Some(v)) => {
                            format!(
                                "vault:{v}#{} v{}",
                                t.key.as_deref().unwrap_or(""),
                                t.version.unwrap_or(0)
                            )
                        }
                        (None, None, None) => "?".into(),
                    };
                    let state = t
                        .fingerprint
                        .as_ref()
                        .map_or(t.state.to_string(), ToString::to_string);
                    format!(
                        "{name} · {} · {} · {state}",
                        t.format.unwrap_or("env"),
                        t.mode.as_deref().unwrap_or("–")
                    )
                })
                .collect();
            sections.push((format!("{}: targets", env.name), targets));
            let findings = env
                .findings
                .iter()
                .map(super::scan_feed::finding_line)
                .collect();
            sections.push((format!("{}: findings", env.name), findings));
        }
        if let Some(found) = self.scan.as_ref().and_then(|s| s.findings.as_ref()) {
            let lines = if found.is_empty() {
                vec!["no key out of place in the project's files".to_string()]
            } else {
                found.iter().map(super::scan_feed::finding_line).collect()
            };
            sections.push(("scan of the project's files".to_string(), lines));
        }
        self.popup = Some(Popup::Pager(super::popup::Pager {
            sections,
            ..Default::default()
        }));
    }

    /// After the filter changed: the selection moves to the first environment shown if
    /// it is filtered out.
    fn keep_selection_shown(&mut self) {
        let shown = self.shown_envs();
        if !shown.contains(&self.selected)
            && let Some(&first) = shown.first()
        {
            self.selected = first;
            self.details_scroll = 0;
        }
    }

    /// `y` or Enter: whatever the popup in front asks to confirm or choose.
    fn confirm(&mut self) {
        if self.popup.is_none()
            && let Some(f) = &mut self.filter
            && f.typing
        {
            f.typing = false;
            if f.text.is_empty() {
                self.filter = None;
            }
            return;
        }
        match self.popup.take() {
            Some(Popup::Confirm(mut c)) => {
                if self.confirm_stale {
                    return self.ask_again(c);
                }
                if let Some(t) = &mut c.typed
                    && t.input.trim() != t.expected
                {
                    t.mismatch = true;
                    self.popup = Some(Popup::Confirm(c));
                    return;
                }
                self.start(c.then);
            }
            Some(Popup::Input(mut r)) => {
                let text = r.input.trim().to_string();
                if text.is_empty() {
                    r.empty = true;
                    self.popup = Some(Popup::Input(r));
                    return;
                }
                self.update((r.then)(text));
            }
            Some(Popup::Passphrase(p)) => self.unlock(p),
            Some(Popup::Backups(b)) => self.restore_selected(b),
            Some(Popup::Menu(m)) => {
                if let Some(action) = m.choose() {
                    self.update(action);
                }
            }
            other => self.popup = other,
        }
    }

    pub(crate) fn ask_generate(&mut self, env_name: &str) {
        let project = &self.session.project;
        let env = match apply::environment(project, env_name) {
            Ok(env) => env,
            Err(e) => return self.error("Cannot generate a key", super::words::error(&e)),
        };
        let (files, vars): (Vec<&Target>, Vec<&Target>) = env
            .targets
            .iter()
            .partition(|t| matches!(t, Target::File { .. } | Target::Vault { .. }));
        if files.is_empty() {
            return self.error(
                "Cannot generate a key",
                format!(
                    "{env_name} keeps its key only in environment variables ({}), which keywarden does not write; set it where the service runs",
                    vars.iter().map(|t| t.label()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let spec = apply::default_spec(project)
            .map(|s| apply::describe(&s))
            .unwrap_or_else(|_| "the manifest's defaults".into());
        let tracked = apply::tracked_by_git(project, env);
        let mut body = Vec::new();
        if !tracked.is_empty() {
            body.push(format!(
                "Warning: git tracks {}: the next commit would publish the new key. Untrack it first (`git rm --cached {}` and add it to .gitignore), or type the name below to write it anyway.",
                tracked.join(", "),
                tracked[0]
            ));
        }
        body.push(format!(
            "A new random key ({spec}) will be written; what changes in each file (values masked, keys by fingerprint):"
        ));
        body.extend(self.diff_lines(env, super::write_diff::Planned::Set));
        body.push("Each file is backed up first.".into());
        if !vars.is_empty() {
            let names: Vec<String> = vars.iter().map(|t| t.label()).collect();
            body.push(format!(
                "Update {} yourself where the service runs.",
                names.join(", ")
            ));
        }
        body.push(
            "Once the application restarts, sessions and tokens signed with the old key stop working."
                .into(),
        );
        let title = if tracked.is_empty() {
            format!("Generate a new key for {env_name}?")
        } else {
            format!("Git tracks {env_name}'s file: write a key there?")
        };
        let confirm = Confirm::new(
            title,
            body,
            Job::SetKey {
                env: env_name.to_string(),
            },
        );
        // Into a file git tracks, a reflex `y` is not enough: type the name.
        self.popup = Some(Popup::Confirm(
            if is_production(env_name) || !tracked.is_empty() {
                confirm.typing(env_name)
            } else {
                confirm
            },
        ));
    }

    fn copy(&mut self, env: &str) {
        let s = &self.session;
        // The audit trail records the copy before the key leaves memory (fail closed); no
        // clipboard at all is recorded once, as failed.
        let key = match current_key::hand_out_to(&s.project, &s.pepper, env, Handout::Copy, || {
            clipboard::available().map_err(|e| e.to_string())
        }) {
            Ok(k) => k,
            Err(e) => return self.error("Cannot copy", super::words::error(&e)),
        };
        match clipboard::copy(&key.key, self.settings.clear_after) {
            Ok(held) => {
                self.copied = Some(Copied {
                    held,
                    what: format!("{env}'s key"),
                });
                let secs = self.settings.clear_after.as_secs();
                self.toast(format!(
                    "copied {env}'s key ({}); cleared in {secs} s",
                    key.fingerprint
                ));
            }
            Err(e) => {
                // The trail already says "copy": say it did not happen (best effort).
                let _ = s.project.audit().append(
                    Record::new("copy", Outcome::Failed)
                        .env(env)
                        .new_fp(key.fingerprint.clone())
                        .detail(e.to_string()),
                );
                self.error("Cannot copy", e.to_string())
            }
        }
    }

    fn reveal(&mut self, env: &str) {
        let s = &self.session;
        match current_key::hand_out(&s.project, &s.pepper, env, Handout::Reveal) {
            Ok(k) => {
                self.popup = Some(Popup::Reveal(Reveal {
                    env: env.to_string(),
                    source: k.source,
                    fingerprint: k.fingerprint,
                    key: k.key,
                    until: self.now + REVEAL_FOR,
                }));
            }
            Err(e) => self.error("Cannot reveal", super::words::error(&e)),
        }
    }

    /// Starts `job` — after asking for the backups' passphrase when it reads backups and
    /// their identity cannot be opened without it.
    pub(crate) fn start(&mut self, job: Job) {
        if let Some((file, hiding)) = self.passphrase_needed(&job) {
            let popup = Passphrase::new(file, job);
            self.popup = Some(Popup::Passphrase(if hiding {
                popup.for_hiding()
            } else {
                popup
            }));
            return;
        }
        if let Err(e) = self.jobs.start(job, self.session.clone(), self.now) {
            self.toast(e);
        }
    }

    /// The identity file to ask the passphrase of, if `job` reads backups and nothing
    /// else opens it (no keyring, no `KEYWARDEN_PASSPHRASE_FILE`, not open); `true` when
    /// it is asked only so that the retired and revoked keys of the backups are hidden
    /// from the output of the commands the job runs (as the command line does).
    fn passphrase_needed(&self, job: &Job) -> Option<(std::path::PathBuf, bool)> {
        let project = &self.session.project;
        let store = BackupStore::of(project);
        let journal = |env: &str| {
            project
                .load_state()
                .ok()
                .and_then(|mut s| s.rotations.remove(env))
        };
        // The backups the job will read. (An incident step reads none: the lost-key
        // playbook's backup check reads their descriptions, and the restore it points to
        // asks here like any other.)
        let ids: Vec<String> = match job {
            Job::Restore { backup, .. } => vec![backup.clone()],
            Job::Rollback { env } => journal(env)
                .map(|j| j.files.into_values().flatten().collect())
                .unwrap_or_default(),
            Job::Resume { env } => journal(env)
                .map(|j| {
                    let mut ids = vec![j.new_key_backup];
                    ids.extend(j.old_key_backups.into_values());
                    ids.extend(j.files.into_values().flatten());
                    ids
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let reads = store.would_ask(&ids);
        let hiding = !reads
            && self.runs_commands(job)
            && store.would_ask(&crate::ops::known::backups_to_hide(
                project,
                &self.session.pepper,
            ));
        if !reads && !hiding {
            return None;
        }
        match store.crypt().place() {
            Place::File(file) => Some((file, hiding)),
            _ => None,
        }
    }

    /// Whether `job` may run restart, verify or notify commands of the manifest (whose
    /// output must not show a key keywarden knows, retired and revoked ones included).
    fn runs_commands(&self, job: &Job) -> bool {
        use crate::incident::playbook::Action as Step;
        let any = self
            .session
            .project
            .manifest
            .environments
            .iter()
            .any(|e| e.restart.is_some() || e.verify.is_some() || e.notify.is_some());
        any && match job {
            Job::Rotate { .. }
            | Job::Revoke { .. }
            | Job::Resume { .. }
            | Job::Rollback { .. }
            | Job::Restore { .. } => true,
            Job::Step { incident, step } => {
                let action = match &self.wizard {
                    Some(w) if w.incident.id == *incident => {
                        w.playbook.step(step).and_then(|d| d.action)
                    }
                    _ => None,
                };
                // Unknown here: ask, as the command line does before any step runs.
                action.is_none_or(|a| {
                    matches!(
                        a,
                        Step::Revoke
                            | Step::Rotate
                            | Step::RotateSharing
                            | Step::RestartAll
                            | Step::Notify
                    )
                })
            }
            Job::SetKey { .. } | Job::FixPermissions { .. } | Job::Refresh => false,
        }
    }

    /// Enter in the passphrase popup: unlock the identity for the job, or say the
    /// passphrase was wrong and ask again.
    fn unlock(&mut self, mut p: Passphrase) {
        if p.is_empty() {
            p.empty = true;
            self.popup = Some(Popup::Passphrase(p));
            return;
        }
        // Held from here until the job ends: the identity stays open for it alone.
        let held = crate::records::crypt::hold();
        let store = BackupStore::of(&self.session.project);
        match store.crypt().unlock(p.take()) {
            Ok(()) => {
                let job = p.then;
                // Open now: what the restore's confirmation could not check is checked.
                if self.published_after_unlock(&job) {
                    drop(held);
                    return;
                }
                if let Err(e) =
                    self.jobs
                        .start_holding(job, self.session.clone(), self.now, Some(held))
                {
                    self.toast(e);
                }
            }
            Err(e)
                if e.exit_code() == crate::error::exit::BAD_INPUT
                    && e.to_string().contains("does not open this identity file") =>
            {
                drop(held);
                p.wrong += 1;
                p.full = false;
                self.popup = Some(Popup::Passphrase(p));
            }
            Err(e) => {
                drop(held);
                self.error("Cannot unlock the backups", super::words::error(&e));
            }
        }
    }

    fn finished(&mut self, report: JobReport) {
        self.terminal_lost |= report.panicked;
        if report.job.changes_files() {
            // What it wrote is read back below: not a change from outside.
            self.autorefresh.forget();
        }
        let activity_before = self.activity.len();
        self.read_incidents();
        let job_env = report.job.env().map(str::to_string);
        match report.status {
            Some(Ok(status)) => self.replace_status(status),
            Some(Err(e)) => self.error("Could not read the files again", e),
            None => {}
        }
        match (report.outcome, &report.job) {
            (Ok(_), Job::Refresh) => {
                let note = self.refresh_note.take();
                self.toast(note.unwrap_or_else(|| "read every file again".into()))
            }
            (Ok(lines), _) => self.log_lines(lines),
            (Err(e), job) => {
                let mut lines = e.lines();
                let first = lines.next().unwrap_or_default().to_string();
                self.log(Activity::Failed, first);
                for l in lines {
                    self.log(Activity::Detail, l.to_string());
                }
                // What is left to decide takes the screen instead of the error popup; the
                // error stays in the activity pane.
                if report.next.is_none() {
                    self.error(&format!("Failed: {}", job.describe()), e);
                }
            }
        }
        // The report reads from its first line; `[` `]` scroll from there.
        let added = self.activity.len().saturating_sub(activity_before);
        if added > 0 {
            self.activity_top = Some(self.activity.len() - added);
        }
        if let Some(next) = report.next {
            self.follow_up(next);
        }
        if self.mode == Mode::Quitting {
            // Nobody will see the screen again: say how it ended on the terminal.
            let shown: Vec<String> = self
                .activity
                .iter()
                .skip(activity_before)
                .map(|(_, text)| text.clone())
                .collect();
            self.parting = shown;
            if let Ok(state) = self.session.project.load_state()
                && let Some(j) = state.rotations.get(job_env.as_deref().unwrap_or_default())
            {
                self.parting.push(format!(
                    "unfinished rotation of {}; run keywarden again to resume it or roll it back",
                    j.describe()
                ));
            }
            self.mode = Mode::Quit;
        }
    }

    /// A job's summary: the first line done, the others details.
    fn log_lines(&mut self, lines: Vec<String>) {
        for (i, line) in lines.into_iter().enumerate() {
            self.log(
                if i == 0 {
                    Activity::Done
                } else {
                    Activity::Detail
                },
                line,
            );
        }
    }

    /// What a finished job left to the user.
    fn follow_up(&mut self, next: Next) {
        match next {
            Next::Stopped { env, step, run } => self.offer_rollback(&env, step, run),
            Next::AlsoExposed { env, others } => {
                self.popup = Some(Popup::Message(Message::error(
                    "Rotate these environments too",
                    format!(
                        "{} held {env}'s revoked key too: it is compromised there as well. Select each one and rotate it (R).",
                        others.join(", ")
                    ),
                )));
            }
            Next::Incident(incident) => {
                if let Some(w) = &mut self.wizard
                    && w.incident.id == incident.id
                {
                    w.replace(*incident);
                }
            }
        }
    }

    /// Takes a new status, keeping the selection on the same environment.
    pub(crate) fn replace_status(&mut self, status: ProjectStatus) {
        let name = self.selected_env().map(|e| e.name.clone());
        self.status = status;
        let found = name.and_then(|n| self.status.environments.iter().position(|e| e.name == n));
        self.selected = found
            .unwrap_or(0)
            .min(self.status.environments.len().saturating_sub(1));
    }

    pub(crate) fn log(&mut self, kind: Activity, text: String) {
        self.activity.push((kind, text));
        if self.activity.len() > ACTIVITY_KEPT {
            self.activity.remove(0);
            self.activity_top = self.activity_top.map(|t| t.saturating_sub(1));
        }
    }

    pub(crate) fn toast(&mut self, text: String) {
        self.toast = Some(Toast {
            text,
            until: self.now + TOAST_FOR,
        });
    }

    pub(crate) fn error(&mut self, title: &str, text: String) {
        self.popup = Some(Popup::Message(Message::error(title, text)));
    }
}

/// `value + by`, kept within `0..=max`.
fn step(value: u16, by: i32, max: u16) -> u16 {
    (i32::from(value) + by).clamp(0, i32::from(max)) as u16
}
