//! `keywarden incident`: the compromised-key and lost-key playbooks, step by step.

use super::common;
use super::output::{self, Style};
use super::rotate::command_report;
use crate::error::{Error, Result, exit};
use crate::incident::actions::{self, StepCtx};
use crate::incident::playbook::{self, Playbook};
use crate::incident::{Incident, Incidents, Status, report};
use crate::ops::rotation::Progress;
use crate::ops::status;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Follow an incident playbook: `compromised` (a leaked key) or `lost` (a key that is gone).
///
/// At a terminal, `start` and `resume` walk you through every step: what to do, the action
/// keywarden can run for you, a note. Every step is saved at once: close the terminal and
/// `resume` continues where you stopped. Scripts use `--step ID --run|--done|--skip --note`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: IncidentCommand,
}

#[derive(Debug, Subcommand)]
enum IncidentCommand {
    /// Open an incident on an environment and start its checklist.
    Start(StartArgs),
    /// List incidents, newest first.
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Continue an incident at its first open step (or act on one step with --step).
    Resume(ResumeArgs),
    /// Write the incident's Markdown report (timeline, actions, open items).
    Report {
        /// The incident id (see `keywarden incident list`).
        id: String,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// One step's outcome for scripts: the incident, the step, its status and result, and
/// whether the incident is now closed.
fn step_report(
    incident: &crate::incident::Incident,
    step: &str,
    status: Status,
    result: &str,
) -> serde_json::Value {
    serde_json::json!({
        "incident": incident.id,
        "step": step,
        "status": status.as_str(),
        "result": result,
        "closed": incident.closed.is_some(),
    })
}

#[derive(Debug, clap::Args)]
struct StepOpts {
    /// Skip restart and verify commands in the steps that would run them.
    #[arg(long)]
    no_restart: bool,
    /// A log file or glob to search in the audit step, besides the manifest's `logs`.
    #[arg(long = "log", value_name = "PATH")]
    logs: Vec<String>,
    /// Print the incident (or the step's outcome) as JSON; never prompts.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// `compromised` or `lost`.
    playbook: String,
    /// The environment.
    env: String,
    /// Only open the incident and print its checklist (no prompts).
    #[arg(long)]
    no_prompt: bool,
    #[command(flatten)]
    opts: StepOpts,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("act").args(["run", "done", "skip"]))]
struct ResumeArgs {
    /// The incident id (see `keywarden incident list`).
    id: String,
    /// The step to act on (non-interactive).
    #[arg(long, value_name = "STEP")]
    step: Option<String>,
    /// Run the step's action.
    #[arg(long, requires = "step")]
    run: bool,
    /// Mark the step done (you did it yourself).
    #[arg(long, requires = "step")]
    done: bool,
    /// Skip the step (needs --note saying why).
    #[arg(long, requires = "step")]
    skip: bool,
    /// A note for the step.
    #[arg(long, value_name = "TEXT", requires = "step")]
    note: Option<String>,
    #[command(flatten)]
    opts: StepOpts,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let store = Incidents::new(&opened.project);
    match args.command {
        IncidentCommand::Start(a) => {
            let pb = playbook::load(&opened.project, &a.playbook)?;
            crate::ops::apply::environment(&opened.project, &a.env)?;
            let fp = current_fingerprint(&opened, &a.env)?;
            let mut incident = store.open(&pb, &a.env, fp)?;
            if a.opts.json {
                output::print_json(&incident)?;
                return Ok(exit::OK);
            }
            output::emit(&format!("opened {}\n", incident.id))?;
            let ctx = step_ctx(&opened, &a.opts);
            if a.no_prompt || !std::io::stdin().is_terminal() {
                output::emit(&checklist(&incident, &pb, Style::detect()))?;
                output::emit(&next_hint(&incident, &pb))?;
                return Ok(exit::OK);
            }
            common::prepare_hiding(&opened, !a.opts.no_restart)?;
            walk(&store, &mut incident, &pb, &ctx)
        }
        IncidentCommand::List { json } => {
            let all = store.list()?;
            if json {
                return output::print_json(&all).map(|_| exit::OK);
            }
            if all.is_empty() {
                output::emit("no incidents\n")?;
                return Ok(exit::OK);
            }
            let mut text = String::new();
            for i in &all {
                let (done, total) = i.progress();
                text.push_str(&format!(
                    "{:<36} {:<12} {:<12} {}/{} {}\n",
                    i.id,
                    i.playbook,
                    i.environment,
                    done,
                    total,
                    if i.closed.is_some() { "closed" } else { "open" }
                ));
            }
            output::emit(&text)?;
            Ok(exit::OK)
        }
        IncidentCommand::Resume(a) => {
            let mut incident = store.load(&a.id)?;
            let pb = playbook::load(&opened.project, &incident.playbook)?;
            let ctx = step_ctx(&opened, &a.opts);
            let Some(step) = a.step.as_deref() else {
                if a.opts.json {
                    output::print_json(&incident)?;
                    return Ok(exit::OK);
                }
                if !std::io::stdin().is_terminal() {
                    output::emit(&checklist(&incident, &pb, Style::detect()))?;
                    output::emit(&next_hint(&incident, &pb))?;
                    return Ok(exit::OK);
                }
                common::prepare_hiding(&opened, !a.opts.no_restart)?;
                return walk(&store, &mut incident, &pb, &ctx);
            };
            let def = pb
                .step(step)
                .ok_or_else(|| Error::Usage(format!("no step `{step}` in playbook {}", pb.name)))?;
            if a.run {
                common::prepare_hiding(&opened, !a.opts.no_restart)?;
                let action = def.action.ok_or_else(|| {
                    Error::Usage(format!(
                        "step `{step}` has no action: mark it --done (or --skip) with a --note"
                    ))
                })?;
                let ran = actions::run_step(
                    &ctx,
                    &mut incident,
                    &pb,
                    step,
                    action,
                    a.note.as_deref(),
                    &mut print_progress,
                )?;
                // Recorded as failed; the error is this command's outcome.
                if let Some(e) = ran.error {
                    return Err(e);
                }
                let code = if ran.status == Status::Failed {
                    exit::FAILED
                } else {
                    exit::OK
                };
                if a.opts.json {
                    output::print_json(&step_report(&incident, step, ran.status, &ran.result))?;
                    return Ok(code);
                }
                output::emit(&format!(
                    "{step}: {}\n{}\n",
                    ran.status.as_str(),
                    ran.result
                ))?;
                output::emit(&next_hint(&incident, &pb))?;
                return Ok(if ran.status == Status::Failed {
                    exit::FAILED
                } else {
                    exit::OK
                });
            }
            let status = if a.done {
                Status::Done
            } else if a.skip {
                Status::Skipped
            } else {
                let note = a.note.as_deref().ok_or_else(|| {
                    Error::Usage(
                        "say what to do with the step: --run, --done, --skip or --note TEXT".into(),
                    )
                })?;
                store.note(&mut incident, step, note)?;
                if a.opts.json {
                    let now = incident
                        .steps
                        .iter()
                        .find(|s| s.id == step)
                        .map(|s| s.status);
                    output::print_json(&step_report(
                        &incident,
                        step,
                        now.unwrap_or(Status::Pending),
                        "note added",
                    ))?;
                    return Ok(exit::OK);
                }
                output::emit(&format!("{step}: note added\n"))?;
                return Ok(exit::OK);
            };
            store.record(&mut incident, &pb, step, status, None, a.note.as_deref())?;
            if a.opts.json {
                output::print_json(&step_report(&incident, step, status, ""))?;
                return Ok(exit::OK);
            }
            output::emit(&format!("{step}: {}\n", status.as_str()))?;
            output::emit(&next_hint(&incident, &pb))?;
            Ok(exit::OK)
        }
        IncidentCommand::Report { id, output: file } => {
            let incident = store.load(&id)?;
            let text = report::markdown(&incident, &opened.project)?;
            match file {
                Some(path) => {
                    report::write(&path, &text)?;
                    output::emit(&format!("wrote {}\n", path.display()))?;
                }
                None => output::emit(&text)?,
            }
            Ok(exit::OK)
        }
    }
}

fn step_ctx<'a>(opened: &'a common::Opened, opts: &StepOpts) -> StepCtx<'a> {
    StepCtx {
        project: &opened.project,
        pepper: &opened.pepper,
        run_commands: !opts.no_restart,
        extra_logs: opts.logs.clone(),
    }
}

/// The key the incident is about: what the targets hold now, else what keywarden recorded.
fn current_fingerprint(
    opened: &common::Opened,
    env: &str,
) -> Result<Option<crate::keys::fingerprint::Fingerprint>> {
    let state = opened.project.load_state()?;
    let st = status::collect(&opened.project, &state, &opened.pepper)?;
    let from_targets = st
        .environments
        .into_iter()
        .find(|e| e.name == env)
        .and_then(|e| {
            e.fingerprint
                .or_else(|| e.targets.into_iter().find_map(|t| t.fingerprint))
        });
    Ok(from_targets.or_else(|| state.environments.get(env).map(|e| e.fingerprint.clone())))
}

fn check_requires(incident: &Incident, pb: &Playbook, step: &str) -> Result<()> {
    crate::incident::needs_earlier(incident, pb, step)
}

fn print_progress(p: Progress) {
    match p {
        Progress::Step(s) => eprintln!("  {s}"),
        Progress::Command { name, run } => eprint!("{}", command_report(name, &run)),
    }
}

/// The checklist: every step with its status, time and who.
pub fn checklist(incident: &Incident, pb: &Playbook, style: Style) -> String {
    let (done, total) = incident.progress();
    let mut s = format!(
        "{}  {} — {} ({})  {done}/{total}{}\n",
        style.bold(&incident.id),
        incident.title,
        incident.environment,
        incident
            .fingerprint
            .as_ref()
            .map_or("key unknown".into(), |f| f.to_string()),
        if incident.closed.is_some() {
            "  closed"
        } else {
            ""
        }
    );
    let current = incident.current().map(|c| c.id.clone());
    for rec in &incident.steps {
        let mark = match rec.status {
            Status::Done => "[x]",
            Status::Skipped => "[-]",
            Status::Failed => "[!]",
            Status::Pending if Some(&rec.id) == current.as_ref() => "[>]",
            Status::Pending => "[ ]",
        };
        let title = pb
            .step(&rec.id)
            .map_or(rec.id.as_str(), |d| d.title.as_str());
        let when = rec
            .at
            .map(|t| {
                format!(
                    "  {} {}",
                    t.strftime("%m-%d %H:%M"),
                    rec.by.as_deref().unwrap_or("")
                )
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "  {mark} {:<14} {title}{}\n",
            rec.id,
            style.dim(&when)
        ));
    }
    s
}

fn next_hint(incident: &Incident, pb: &Playbook) -> String {
    match incident.current() {
        None => format!(
            "every step is closed; the report: keywarden incident report {}\n",
            incident.id
        ),
        Some(rec) => {
            let def = pb.step(&rec.id);
            let how = match def.and_then(|d| d.action) {
                Some(_) => format!(
                    "keywarden incident resume {} --step {} --run",
                    incident.id, rec.id
                ),
                None => format!(
                    "keywarden incident resume {} --step {} --done --note \"what you did\"",
                    incident.id, rec.id
                ),
            };
            format!(
                "next: {} — {}\n  {how}\n",
                rec.id,
                def.map_or("", |d| d.what.as_str())
            )
        }
    }
}

fn prompt(question: &str) -> Result<String> {
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::reading("<stdin>", "read", e))?;
    if n == 0 {
        return Ok("q".into());
    }
    Ok(line.trim().to_string())
}

/// The interactive walk through the open steps.
fn walk(store: &Incidents, incident: &mut Incident, pb: &Playbook, ctx: &StepCtx) -> Result<u8> {
    let style = Style::detect();
    loop {
        eprint!("\n{}", checklist(incident, pb, style));
        let Some(rec) = incident.current().cloned() else {
            output::emit(&format!(
                "every step is closed. Report: keywarden incident report {}\n",
                incident.id
            ))?;
            return Ok(exit::OK);
        };
        let def = pb
            .step(&rec.id)
            .ok_or_else(|| Error::Failed(format!("step {} is not in the playbook", rec.id)))?;
        let (done, total) = incident.progress();
        eprintln!(
            "\nStep {}/{total}: {}\n  {}",
            done + 1,
            style.bold(&def.title),
            def.what
        );
        if let Some(r) = &rec.result {
            eprintln!("  last result:\n    {}", r.replace('\n', "\n    "));
        }
        let choices = if def.action.is_some() {
            "[r]un it, [d]one by hand, [s]kip, [n]ote, [q]uit: "
        } else {
            "[d]one, [s]kip, [n]ote, [q]uit: "
        };
        match prompt(choices)?.as_str() {
            "r" if def.action.is_some() => {
                if let Err(e) = check_requires(incident, pb, &rec.id) {
                    eprintln!("  {}", super::words::error(&e));
                    continue;
                }
                let action = def.action.expect("checked");
                let ran = actions::attempt(action, ctx, incident, &mut print_progress);
                match &ran.error {
                    None => eprintln!("  {}", ran.result.replace('\n', "\n  ")),
                    Some(e) => eprintln!("  the action failed: {}", super::words::error(e)),
                }
                // A failed action is recorded too, like in the TUI.
                let note = prompt("note (Enter for none): ")?;
                store.record(
                    incident,
                    pb,
                    &rec.id,
                    ran.status,
                    Some(ran.result),
                    Some(&note),
                )?;
            }
            "d" => {
                let note = prompt("note (what you did, Enter for none): ")?;
                if let Err(e) = store.record(incident, pb, &rec.id, Status::Done, None, Some(&note))
                {
                    eprintln!("  {}", super::words::error(&e));
                }
            }
            "s" => {
                let note = prompt("why skip it? ")?;
                if let Err(e) =
                    store.record(incident, pb, &rec.id, Status::Skipped, None, Some(&note))
                {
                    eprintln!("  {}", super::words::error(&e));
                }
            }
            "n" => {
                let note = prompt("note: ")?;
                if !note.is_empty() {
                    store.note(incident, &rec.id, &note)?;
                }
            }
            "q" => {
                output::emit(&format!(
                    "saved. Continue with: keywarden incident resume {}\n",
                    incident.id
                ))?;
                return Ok(exit::OK);
            }
            other => eprintln!("  `{other}`: choose one of the letters in brackets"),
        }
    }
}
