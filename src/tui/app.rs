//! The TUI's state and its loop: draw, wait for an event or a job (with a timeout, so
//! spinners and countdowns move), turn it into an [`Action`], update, again.

use super::action::{Action, StepAction};
use super::jobs::{Job, Jobs};
use super::keys::{self, Command, Scope};
use super::popup::Popup;
use super::session::Session;
use super::theme::Theme;
use super::wizard::Wizard;
use crate::clipboard::HeldKey;
use crate::error::Result;
use crate::ops::status::{EnvStatus, ProjectStatus};
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the TUI looks and behaves (from the command line and the environment).
#[derive(Debug, Clone)]
pub struct Settings {
    pub theme: Theme,
    /// How long a copied key stays on the clipboard.
    pub clear_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Environments,
    Details,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Running,
    /// Quit asked while a job writes files: leave when it ends.
    Quitting,
    Quit,
}

/// A line of the activity pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// A job's result.
    Done,
    /// More about the line above.
    Detail,
    Failed,
}

/// A short-lived note at the bottom of the screen.
#[derive(Debug, Clone)]
pub struct Toast {
    pub text: String,
    pub until: Instant,
}

/// The key keywarden put on the clipboard.
pub struct Copied {
    pub held: HeldKey,
    /// What it is, for the status line: "production's key", "production's fingerprint".
    pub what: String,
}

/// Rows each environment takes in the list (name and badge; age and rotation): the views
/// draw that many, the mouse maps a clicked row back with it.
pub const ROWS_PER_ENV: usize = 2;

/// Where the last frame put things, for mouse clicks and scroll limits. Written by the
/// views (the only state they touch), read by event handling.
#[derive(Debug, Default)]
pub struct Regions {
    /// The inside of the environments list.
    pub environments: Cell<Rect>,
    /// The details pane, frame included.
    pub details: Cell<Rect>,
    /// The first environment shown (the list scrolls to keep the selection visible).
    pub list_offset: Cell<usize>,
    /// The furthest the details can scroll and still show text.
    pub details_max_scroll: Cell<u16>,
    /// The activity pane, title line included.
    pub activity: Cell<Rect>,
    /// The furthest the activity pane can scroll back.
    pub activity_max_scroll: Cell<u16>,
    /// How far back it shows now (what scrolling starts from).
    pub activity_back: Cell<u16>,
}

pub struct App {
    pub(crate) session: Arc<Session>,
    pub(crate) settings: Settings,
    pub(crate) status: ProjectStatus,
    pub(crate) selected: usize,
    pub(crate) focus: Focus,
    pub(crate) details_scroll: u16,
    pub(crate) popup: Option<Popup>,
    /// Popups waiting for the one in front to close (what start offers, in order).
    pub(crate) queued: VecDeque<Popup>,
    /// The incident wizard, when it is on screen instead of the environments.
    pub(crate) wizard: Option<Wizard>,
    pub(crate) toast: Option<Toast>,
    pub(crate) activity: Vec<(Activity, String)>,
    pub(crate) jobs: Jobs,
    pub(crate) copied: Option<Copied>,
    pub(crate) mode: Mode,
    /// The time of the last tick: views read the clock from here, so a frame is a pure
    /// function of the state.
    pub(crate) now: Instant,
    pub(crate) regions: Regions,
    /// A job panicked: the panic hook restored the terminal, the loop must take it back.
    pub(crate) terminal_lost: bool,
    /// What to print once the screen is restored: how a job that ended after quit was
    /// asked ended (nobody saw it on screen).
    pub(crate) parting: Vec<String>,
    /// The environment list's filter (`/`), if any.
    pub(crate) filter: Option<Filter>,
    /// Environments with an open incident (marked in the list).
    pub(crate) incidents: Vec<String>,
    /// Watches the target files: the view reads them again when one changes.
    pub(crate) autorefresh: super::autorefresh::AutoRefresh,
    /// A file changed while the confirmation on screen was open: Enter reads again first.
    pub(crate) confirm_stale: bool,
    /// What the running refresh says when it ends (which file changed).
    pub(crate) refresh_note: Option<String>,
    /// How many lines the activity pane is scrolled back from the newest (`[`, `]`).
    pub(crate) activity_scroll: u16,
    /// The entry shown at the top of the activity pane until it is scrolled: the first
    /// line of the last job's report.
    pub(crate) activity_top: Option<usize>,
    /// The backup whose published key (KW001) was shown once the backups were unlocked,
    /// and whose restore was then confirmed again (its passphrase is not a second check).
    pub(crate) restore_acknowledged: Option<String>,
    /// A background `watch`'s alerts (`KEYWARDEN_TUI_WATCH=1`), see [`super::alerts`].
    pub(crate) alerts: Option<super::alerts::AlertFeed>,
    /// The alerts a separate `keywarden watch` writes to the audit trail, see
    /// [`super::watch_trail`] (not followed when the view runs its own watch).
    pub(crate) trail: Option<super::watch_trail::TrailFeed>,
    /// The background scan of the project's files ([`App::start_scan`]).
    pub(crate) scan: Option<super::scan_feed::ScanFeed>,
}

/// What `/` typed: environments whose name, or one of whose findings, contains it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: String,
    /// Still typing (Enter keeps it, Esc clears it).
    pub typing: bool,
}

impl App {
    /// Reads the project's status and builds the first state.
    pub fn new(session: Session, settings: Settings) -> Result<App> {
        let status = session.status()?;
        let autorefresh = super::autorefresh::AutoRefresh::watch(&session.project);
        let alerts = super::alerts::AlertFeed::start(&session);
        let (trail, recent_alerts) = if alerts.is_none() {
            let (feed, recent) = super::watch_trail::TrailFeed::start(
                session.project.audit().path(),
                session.project.context.now(),
            );
            (Some(feed), recent)
        } else {
            (None, Vec::new())
        };
        let mut app = App {
            session: Arc::new(session),
            settings,
            status,
            selected: 0,
            focus: Focus::Environments,
            details_scroll: 0,
            popup: None,
            queued: VecDeque::new(),
            wizard: None,
            toast: None,
            activity: Vec::new(),
            jobs: Jobs::default(),
            copied: None,
            mode: Mode::Running,
            now: Instant::now(),
            regions: Regions::default(),
            terminal_lost: false,
            parting: Vec::new(),
            filter: None,
            incidents: Vec::new(),
            autorefresh,
            confirm_stale: false,
            refresh_note: None,
            activity_scroll: 0,
            activity_top: None,
            restore_acknowledged: None,
            alerts,
            trail,
            scan: None,
        };
        for line in recent_alerts {
            app.log(Activity::Failed, line);
        }
        app.read_incidents();
        app.offer_at_start();
        Ok(app)
    }

    pub fn is_running(&self) -> bool {
        self.mode != Mode::Quit
    }

    pub fn status(&self) -> &ProjectStatus {
        &self.status
    }

    pub fn selected_env(&self) -> Option<&EnvStatus> {
        self.status.environments.get(self.selected)
    }

    /// Which keys work now: the popup in front, else the wizard, else the main view.
    pub fn scope(&self) -> Scope {
        match (&self.popup, &self.wizard) {
            (Some(p), _) => p.scope(),
            (None, Some(_)) => Scope::Wizard,
            (None, None) if self.filter.as_ref().is_some_and(|f| f.typing) => Scope::Filter,
            (None, None) => Scope::Main,
        }
    }

    /// The filter typed with `/`, if any.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_ref().map(|f| f.text.as_str())
    }

    /// Whether environment `env` shows with the filter (its name or a finding has it).
    pub fn env_matches(&self, env: &EnvStatus) -> bool {
        let Some(f) = self.filter().filter(|f| !f.is_empty()) else {
            return true;
        };
        let f = f.to_lowercase();
        env.name.to_lowercase().contains(&f) || env.findings.iter().any(|x| finding_matches(x, &f))
    }

    /// The indices of the environments shown (all, without a filter).
    pub fn shown_envs(&self) -> Vec<usize> {
        self.status
            .environments
            .iter()
            .enumerate()
            .filter(|(_, e)| self.env_matches(e))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a finding of the selected environment shows with the filter: all of them
    /// when the environment's name has it, else those that have it.
    pub fn finding_shown(&self, env: &EnvStatus, finding: &crate::finding::Finding) -> bool {
        match self.filter().filter(|f| !f.is_empty()) {
            None => true,
            Some(f) => {
                let f = f.to_lowercase();
                env.name.to_lowercase().contains(&f) || finding_matches(finding, &f)
            }
        }
    }

    /// Reads which environments have an open incident.
    pub(crate) fn read_incidents(&mut self) {
        let store = crate::incident::Incidents::new(&self.session.project);
        self.incidents = store
            .list()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.closed.is_none())
            .map(|i| i.environment)
            .collect();
    }

    /// Whether a target file changed while the confirmation on screen was open (Enter
    /// then reads the files again and asks once more).
    pub fn confirm_is_stale(&self) -> bool {
        self.confirm_stale
    }

    /// The activity pane's lines, oldest first (job output and results).
    /// How many lines the activity pane is scrolled back (0: the newest show).
    pub fn activity_scroll(&self) -> u16 {
        self.activity_scroll
    }

    pub fn activity(&self) -> impl Iterator<Item = &str> {
        self.activity.iter().map(|(_, text)| text.as_str())
    }

    /// The incident wizard, when it is on screen.
    pub fn wizard(&self) -> Option<&Wizard> {
        self.wizard.as_ref()
    }

    /// Whether a job is running (the spinner turns).
    pub fn busy(&self) -> bool {
        self.jobs.running().is_some()
    }

    /// What to print after the screen is restored (see [`App::run`]).
    pub fn parting(&self) -> &[String] {
        &self.parting
    }

    /// Runs until the user quits; returns the lines to print once the screen is restored.
    pub fn run(mut self, terminal: &mut DefaultTerminal) -> std::io::Result<Vec<String>> {
        while self.is_running() {
            terminal.draw(|frame| frame.render_widget(&self, frame.area()))?;
            // Short while something moves on screen; long otherwise, to stay idle.
            let animated = self.busy()
                || self.popup.is_some()
                || self.copied.is_some()
                || self.autorefresh.is_pending();
            let timeout = Duration::from_millis(if animated { 100 } else { 500 });
            if event::poll(timeout)?
                && let Some(action) = self.action_for_event(&event::read()?)
            {
                self.update(action);
            }
            while let Some(ev) = self.jobs.poll() {
                self.update(Action::Job(ev));
            }
            if std::mem::take(&mut self.terminal_lost) {
                super::take_terminal_back(terminal)?;
            }
            self.update(Action::Tick(Instant::now()));
        }
        self.forget_clipboard();
        Ok(self.parting)
    }

    /// Waits until the running job (if any) reports its end, applying every event; for
    /// tests and benchmarks, which have no loop.
    pub fn settle(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.busy() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.jobs.wait(left) {
                Some(ev) => self.update(Action::Job(ev)),
                None => break,
            }
        }
    }

    /// The action a terminal event asks for, if any.
    pub fn action_for_event(&self, event: &Event) -> Option<Action> {
        match event {
            Event::Key(key) if key.is_press() || key.is_repeat() => self.action_for_key(key),
            Event::Mouse(mouse) => self.action_for_mouse(mouse),
            _ => None,
        }
    }

    pub fn action_for_key(&self, key: &KeyEvent) -> Option<Action> {
        let scope = self.scope();
        match keys::lookup(scope, key) {
            Some(command) => self.action_for(command),
            None if scope == Scope::Typing || scope == Scope::Filter => match key.code {
                event::KeyCode::Char(c) => Some(Action::Type(c)),
                _ => None,
            },
            None => None,
        }
    }

    /// What `command` does here and now (on the selected environment).
    pub fn action_for(&self, command: Command) -> Option<Action> {
        let env = || self.selected_env().map(|e| e.name.clone());
        Some(match command {
            Command::Quit => Action::Quit,
            Command::Up => Action::Move(-1),
            Command::Down => Action::Move(1),
            Command::PageUp => Action::Move(-10),
            Command::PageDown => Action::Move(10),
            Command::Top => Action::Jump { end: false },
            Command::Bottom => Action::Jump { end: true },
            Command::SwitchPane => Action::SwitchPane,
            Command::Help => Action::ShowHelp,
            Command::Close if self.popup.is_none() && self.wizard.is_some() => Action::CloseWizard,
            Command::Close if self.popup.is_none() && self.filter.is_some() => Action::ClearFilter,
            Command::Close if self.popup.is_none() => return None,
            Command::Filter => Action::Filter,
            Command::Pager => Action::ShowPager,
            Command::Timeline => Action::ShowTimeline,
            Command::ActivityOlder => Action::ScrollActivity(1),
            Command::ActivityNewer => Action::ScrollActivity(-1),
            Command::Close => Action::ClosePopup,
            Command::Confirm | Command::Yes => Action::Confirm,
            Command::Erase => Action::Erase,
            Command::Generate => Action::Generate(env()?),
            Command::Copy => match &self.popup {
                Some(Popup::Reveal(r)) => Action::Copy(r.env.clone()),
                _ => Action::Copy(env()?),
            },
            Command::Reveal => Action::Reveal(env()?),
            Command::CopyMenu => Action::CopyMenu(env()?),
            Command::FixPermissions => {
                Action::Run(super::jobs::Job::FixPermissions { env: env()? })
            }
            Command::Refresh => Action::Run(super::jobs::Job::Refresh),
            Command::Rotate => Action::Rotate(env()?),
            Command::Revoke => Action::Revoke(env()?),
            Command::Unfinished => Action::Unfinished(env()?),
            Command::Backups => Action::Backups(env()?),
            Command::AuditTrail => Action::AuditTrail,
            Command::Incident => Action::Incident(env()?),
            Command::Resume | Command::Rollback => {
                let Some(Popup::Unfinished(u)) = &self.popup else {
                    return None;
                };
                let env = u.env.clone();
                Action::Run(if command == Command::Resume {
                    Job::Resume { env }
                } else {
                    Job::Rollback { env }
                })
            }
            Command::StepRun => Action::Step(StepAction::Run),
            Command::StepDone => Action::Step(StepAction::Done),
            Command::StepSkip => Action::Step(StepAction::AskSkip),
            Command::StepNote => Action::Step(StepAction::AskNote),
        })
    }

    fn action_for_mouse(&self, mouse: &MouseEvent) -> Option<Action> {
        if self.popup.is_some() || self.wizard.is_some() {
            return None;
        }
        let at = Position::new(mouse.column, mouse.row);
        let list = self.regions.environments.get();
        let details = self.regions.details.get();
        let activity = self.regions.activity.get();
        match mouse.kind {
            MouseEventKind::ScrollUp if activity.contains(at) => Some(Action::ScrollActivity(1)),
            MouseEventKind::ScrollDown if activity.contains(at) => Some(Action::ScrollActivity(-1)),
            MouseEventKind::Down(MouseButton::Left) if list.contains(at) => {
                let row = usize::from(at.y - list.y);
                let shown = self.regions.list_offset.get() + row / ROWS_PER_ENV;
                self.shown_envs()
                    .get(shown)
                    .map(|&index| Action::Select(index))
            }
            MouseEventKind::Down(MouseButton::Left) if details.contains(at) => {
                (self.focus != Focus::Details).then_some(Action::SwitchPane)
            }
            MouseEventKind::ScrollDown if details.contains(at) => Some(Action::ScrollDetails(3)),
            MouseEventKind::ScrollUp if details.contains(at) => Some(Action::ScrollDetails(-3)),
            MouseEventKind::ScrollDown if list.contains(at) => Some(Action::Move(1)),
            MouseEventKind::ScrollUp if list.contains(at) => Some(Action::Move(-1)),
            _ => None,
        }
    }

    /// Clears the clipboard if it still holds our key (on quit, and when its time is up).
    pub(crate) fn forget_clipboard(&mut self) -> Option<Result<crate::clipboard::Cleared, String>> {
        let copied = self.copied.take()?;
        Some(copied.held.clear_if_ours().map_err(|e| e.to_string()))
    }
}

fn finding_matches(f: &crate::finding::Finding, lower: &str) -> bool {
    f.message.to_lowercase().contains(lower)
        || f.code.as_str().to_lowercase().contains(lower)
        || f.target
            .as_ref()
            .is_some_and(|t| t.to_lowercase().contains(lower))
}
