//! The incident wizard's flows: `i` offers a playbook (or the environment's open
//! incident), start offers open incidents, and the wizard's keys act on the step on
//! screen. Every change goes through [`Incidents`], which saves at once.

use super::action::{Action, StepAction};
use super::app::App;
use super::jobs::Job;
use super::popup::{Confirm, Input, Menu, MenuItem, Popup};
use super::wizard::Wizard;
use crate::incident::playbook::{self, Action as StepKind};
use crate::incident::{Incident, Incidents, Status};
use crate::project::manifest::is_production;

impl App {
    fn incidents(&self) -> Incidents<'_> {
        Incidents::new(&self.session.project)
    }

    /// At start, after any unfinished rotation: the open incidents, to resume.
    pub(crate) fn offer_open_incidents(&mut self) {
        let open: Vec<Incident> = match self.incidents().list() {
            Ok(all) => all.into_iter().filter(|i| i.closed.is_none()).collect(),
            Err(_) => return,
        };
        if open.is_empty() {
            return;
        }
        let mut items: Vec<MenuItem> = open.iter().map(resume_item).collect();
        items.push(MenuItem {
            label: "Later".into(),
            detail: "i on the environment resumes it.".into(),
            action: Action::ClosePopup,
        });
        self.queued.push_back(Popup::Menu(Menu {
            title: if open.len() == 1 {
                "An incident is open".into()
            } else {
                format!("{} incidents are open", open.len())
            },
            intro: "Continue where it stopped: every step done so far is saved.".into(),
            items,
            selected: 0,
        }));
    }

    /// `i`: resume the environment's open incident, or start a playbook.
    pub(crate) fn offer_incidents(&mut self, env: &str) {
        let open: Vec<Incident> = self
            .incidents()
            .list()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.environment == env && i.closed.is_none())
            .collect();
        let mut items: Vec<MenuItem> = open.iter().map(resume_item).collect();
        for name in playbook::names() {
            match playbook::load(&self.session.project, name) {
                Ok(pb) => items.push(MenuItem {
                    label: format!("Start: {} ({name})", pb.title),
                    detail: pb.summary.clone(),
                    action: Action::StartIncident {
                        playbook: name.to_string(),
                        env: env.to_string(),
                    },
                }),
                Err(e) => return self.error("Cannot read a playbook", super::words::error(&e)),
            }
        }
        self.popup = Some(Popup::Menu(Menu {
            title: format!("Incident on {env}"),
            intro: "Follow the guide's checklist step by step; each step is saved at once, with who did it and when.".into(),
            items,
            selected: 0,
        }));
    }

    pub(crate) fn start_incident(&mut self, name: &str, env: &str) {
        let pb = match playbook::load(&self.session.project, name) {
            Ok(pb) => pb,
            Err(e) => return self.error("Cannot read the playbook", super::words::error(&e)),
        };
        // The key the incident is about: what the targets hold now, else what keywarden
        // recorded (as `keywarden incident start`).
        let from_targets = self
            .status
            .environments
            .iter()
            .find(|e| e.name == env)
            .and_then(|e| {
                e.fingerprint
                    .clone()
                    .or_else(|| e.targets.iter().find_map(|t| t.fingerprint.clone()))
            });
        let fingerprint = from_targets.or_else(|| {
            let state = self.session.project.load_state().ok()?;
            state.environments.get(env).map(|e| e.fingerprint.clone())
        });
        match self.incidents().open(&pb, env, fingerprint) {
            Ok(incident) => {
                self.toast(format!("opened {}", incident.id));
                self.read_incidents();
                self.wizard = Some(Wizard::new(incident, pb));
            }
            Err(e) => self.error("Cannot open the incident", super::words::error(&e)),
        }
    }

    pub(crate) fn open_incident(&mut self, id: &str) {
        let opened = self.incidents().load(id).and_then(|incident| {
            let pb = playbook::load(&self.session.project, &incident.playbook)?;
            Ok(Wizard::new(incident, pb))
        });
        match opened {
            Ok(w) => self.wizard = Some(w),
            Err(e) => self.error("Cannot open the incident", super::words::error(&e)),
        }
    }

    /// The wizard's keys, on the step on screen.
    pub(crate) fn step(&mut self, what: StepAction) {
        let Some(w) = &self.wizard else { return };
        let Some(step) = w.step_id().map(str::to_string) else {
            return;
        };
        let id = w.incident.id.clone();
        let title = w
            .playbook
            .step(&step)
            .map_or(step.clone(), |d| d.title.clone());
        match what {
            StepAction::Run => self.run_step(step),
            StepAction::Done => self.record(&step, Status::Done, None),
            StepAction::AskSkip => {
                self.popup = Some(Popup::Input(
                    Input::new(
                        format!("Skip “{title}”?"),
                        "Why is this step skipped? The note is kept with the step and in the report.",
                        |note| Action::Step(StepAction::Skip(note)),
                    )
                    .required("Skipping a step needs a note saying why."),
                ));
            }
            StepAction::Skip(note) => self.record(&step, Status::Skipped, Some(&note)),
            StepAction::AskNote => {
                self.popup = Some(Popup::Input(
                    Input::new(
                        format!("Note on “{title}”"),
                        "What you did, what you found, who you told. Saved at once.",
                        |note| Action::Step(StepAction::Note(note)),
                    )
                    .required("Type a note, or Esc."),
                ));
            }
            StepAction::Note(text) => {
                let store = Incidents::new(&self.session.project);
                let Some(w) = &mut self.wizard else { return };
                match store.note(&mut w.incident, &step, &text) {
                    Ok(()) => self.toast(format!("{id}: note saved on “{title}”")),
                    Err(e) => self.error("Cannot save the note", super::words::error(&e)),
                }
            }
        }
    }

    fn run_step(&mut self, step: String) {
        let Some(w) = &self.wizard else { return };
        let Some(action) = w.action() else {
            return self.toast(format!(
                "`{step}` has no action keywarden runs: do it, then d marks it done"
            ));
        };
        if let Some(requires) = crate::incident::unmet_requirement(&w.incident, &w.playbook, &step)
        {
            return self.error("Not yet", super::words::step_needs(&step, requires));
        }
        let env = w.incident.environment.clone();
        let job = Job::Step {
            incident: w.incident.id.clone(),
            step: step.clone(),
        };
        if !action.changes_keys() {
            return self.start(job);
        }
        let (title, what) = w
            .playbook
            .step(&step)
            .map_or((step.clone(), String::new()), |d| {
                (d.title.clone(), d.what.clone())
            });
        let fp = w.incident.fingerprint.clone();
        let mut body = vec![what];
        let shown = fp
            .as_ref()
            .map_or("the incident's key".to_string(), ToString::to_string);
        match action {
            StepKind::RotateSharing => {
                let others = match &fp {
                    Some(fp) => self.session.project.environments_holding(
                        &self.session.pepper,
                        std::slice::from_ref(fp),
                        &env,
                    ),
                    None => Vec::new(),
                };
                body.push(if others.is_empty() {
                    format!("No other environment holds {shown} now: nothing to rotate.")
                } else {
                    format!("It rotates {} (they hold {shown}).", others.join(", "))
                });
            }
            StepKind::Revoke => body.push(format!("It revokes {shown} in {env}.")),
            StepKind::Rotate => body.push(format!("It rotates {env}'s key.")),
            _ => {}
        }
        body.push(
            "It changes keys: every file is backed up first and each step is journaled.".into(),
        );
        let confirm = Confirm::new(format!("{title} on {env}?"), body, job);
        self.popup = Some(Popup::Confirm(if is_production(&env) {
            confirm.typing(env)
        } else {
            confirm
        }));
    }

    fn record(&mut self, step: &str, status: Status, note: Option<&str>) {
        let store = Incidents::new(&self.session.project);
        let Some(w) = &mut self.wizard else { return };
        let mut incident = w.incident.clone();
        match store.record(&mut incident, &w.playbook, step, status, None, note) {
            Ok(()) => {
                let closed = incident.closed.is_some();
                let id = incident.id.clone();
                w.replace(incident);
                self.read_incidents();
                if closed {
                    self.toast(format!(
                        "{id} is closed; the report: keywarden incident report {id}"
                    ));
                }
            }
            Err(e) => self.error("Cannot record the step", super::words::error(&e)),
        }
    }
}

fn resume_item(i: &Incident) -> MenuItem {
    let (done, total) = i.progress();
    MenuItem {
        label: format!("Resume {} ({done}/{total})", i.id),
        detail: format!(
            "{} on {}, opened {} by {}",
            i.title,
            i.environment,
            i.opened.strftime("%Y-%m-%d %H:%M UTC"),
            i.opened_by
        ),
        action: Action::OpenIncident(i.id.clone()),
    }
}
