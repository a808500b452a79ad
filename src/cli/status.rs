//! `keywarden status` (a view) and `keywarden check` (a gate): one status, two faces.

use super::common;
use super::output::{self, Style};
use super::sarif;
use crate::error::{Error, Result, exit};
use crate::finding::{Finding, Severity, worst};
use crate::ops::status::{self, EnvStatus, ProjectStatus};
use serde::Serialize;
use std::path::Path;

/// Show every environment: targets, key fingerprint, age, rotation due, strength, findings.
///
/// Keys are never shown, only their fingerprints (`kw:` + 8 hex digits). A view: exits 0
/// whatever it finds (use `keywarden check` to gate).
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Only this environment.
    env: Option<String>,
    /// Print the status as JSON (fields documented in the README).
    #[arg(long, conflicts_with = "timeline")]
    json: bool,
    /// The rotation calendar: each environment's key age against its rotation schedule,
    /// as a bar (`|` marks the day it is due).
    #[arg(long)]
    timeline: bool,
}

/// Check every environment and exit 1 when a finding is at or above --fail-on.
///
/// For CI, cron and pre-commit hooks.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Print the findings as JSON.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// Print the findings as SARIF 2.1.0 (for code-scanning dashboards).
    #[arg(long)]
    sarif: bool,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    fail_on: Severity,
}

fn collect(project: Option<&Path>) -> Result<ProjectStatus> {
    let opened = common::open(project)?;
    let state = opened.project.load_state()?;
    let st = status::collect(&opened.project, &state, &opened.pepper)?;
    if let Some(why) = &st.git_error {
        eprintln!(
            "keywarden: warning: {why}; which targets git tracks or ignores is unknown, so \
             KW107/KW108 were not checked (repair the repository, e.g. `git status`, and run again)"
        );
    }
    Ok(st)
}

pub fn run_status(args: StatusArgs, project: Option<&Path>) -> Result<u8> {
    let mut st = collect(project)?;
    if let Some(name) = &args.env {
        if !st.environments.iter().any(|e| &e.name == name) {
            let known: Vec<&str> = st.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "no environment `{name}`; this project has: {}",
                known.join(", ")
            )));
        }
        st.environments.retain(|e| &e.name == name);
    }
    if args.json {
        // Thousands of environments are encoded over every core.
        let environments = std::mem::take(&mut st.environments);
        output::print_json_with_list(&st, "environments", &environments)?;
    } else if args.timeline {
        output::emit(&render_timeline(&st, Style::detect()))?;
    } else {
        output::emit(&render_status(&st, Style::detect()))?;
    }
    Ok(exit::OK)
}

pub fn run_check(args: CheckArgs, project: Option<&Path>) -> Result<u8> {
    let st = collect(project)?;
    let findings: Vec<&Finding> = st.environments.iter().flat_map(|e| &e.findings).collect();
    let owned: Vec<Finding> = findings.iter().map(|f| (*f).clone()).collect();
    let failed = worst(&owned).is_some_and(|w| w >= args.fail_on);
    if args.sarif {
        let text = st
            .manifest
            .as_ref()
            .and_then(|m| std::fs::read_to_string(m).ok());
        output::print_json(&sarif::report(&st, text.as_deref()))?;
    } else if args.json {
        #[derive(Serialize)]
        struct CheckReport<'a> {
            fail_on: Severity,
            failed: bool,
            findings: Vec<&'a Finding>,
        }
        output::print_json(&CheckReport {
            fail_on: args.fail_on,
            failed,
            findings,
        })?;
    } else {
        let style = Style::detect();
        let mut text = String::new();
        for f in &owned {
            let env = f.environment.as_deref().unwrap_or("-");
            text.push_str(&format!("{} ", style.bold(env)));
            text.push_str(output::finding_lines(f, style, "").trim_start());
        }
        text.push_str(&format!(
            "{}: {} in {} environment(s); {} at --fail-on {}\n",
            if failed { "FAIL" } else { "ok" },
            output::summary(&owned),
            st.environments.len(),
            if failed { "failing" } else { "passing" },
            args.fail_on
        ));
        output::emit(&text)?;
    }
    Ok(if failed { exit::FAILED } else { exit::OK })
}

fn age_text(e: &EnvStatus) -> String {
    match (e.age_days, e.age_source) {
        (Some(d), "mtime") => format!("≥{d}d"),
        (Some(d), _) => format!("{d}d"),
        (None, _) => "?".into(),
    }
}

fn due_text(e: &EnvStatus) -> String {
    match e.rotation_due_days {
        None if e.rotate_every_days == 0 => "on change".into(),
        None => "?".into(),
        Some(d) if d < 0 => format!("overdue {}d", -d),
        Some(d) => format!("in {d}d"),
    }
}

/// The status as text that fits 80 columns: a summary table, then each environment.
/// Width of the timeline's bar, in characters.
const BAR: usize = 40;

/// The guide's "calendrier de rotation": each environment's key age against its schedule.
/// The bar spans twice the rotation period, so the due day (`|`) sits in the middle and
/// an overdue key runs past it.
pub fn render_timeline(st: &ProjectStatus, style: Style) -> String {
    let width = st
        .environments
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(11)
        .max(11);
    let mut out = format!(
        "{:<width$}  {:>6}  {:>9}  {}\n",
        "ENVIRONMENT", "AGE", "EVERY", "0 … due … 2× the period"
    );
    for e in &st.environments {
        let age = age_text(e);
        let every = match e.rotate_every_days {
            0 => "on change".to_string(),
            d => format!("{d}d"),
        };
        let bar = match (e.age_days, e.rotate_every_days) {
            (Some(age_days), every) if every > 0 => {
                let span = 2.0 * f64::from(every);
                let filled = ((age_days as f64 / span) * BAR as f64).round() as usize;
                let filled = filled.min(BAR);
                let mut cells: Vec<char> = (0..BAR)
                    .map(|i| if i < filled { '█' } else { '·' })
                    .collect();
                cells[BAR / 2] = '|';
                let text: String = cells.into_iter().collect();
                let left = e.rotation_due_days.unwrap_or(0);
                let note = if left < 0 {
                    format!(" overdue by {}d", -left)
                } else {
                    format!(" due in {left}d")
                };
                let over = if filled >= BAR && left < 0 {
                    "▶"
                } else {
                    " "
                };
                style.due(left, &format!("{text}{over}{note}"))
            }
            (None, _) => style.dim("age unknown"),
            _ => style.dim("no schedule (rotate on major changes)"),
        };
        out.push_str(&format!(
            "{:<width$}  {:>6}  {:>9}  {bar}\n",
            e.name, age, every
        ));
    }
    out
}

pub fn render_status(st: &ProjectStatus, style: Style) -> String {
    let mut s = format!(
        "{} {}  {}\n\n",
        style.bold("project"),
        st.project,
        style.dim(&match &st.manifest {
            Some(_) => "(keywarden.toml)".to_string(),
            None => "(discovered: run `keywarden init` to write keywarden.toml)".to_string(),
        })
    );
    if st.environments.is_empty() {
        s.push_str("No environments found: no .env, .env.<name> or .streamlit/secrets.toml here.\nRun `keywarden init` after adding one, or write keywarden.toml.\n");
        return s;
    }
    s.push_str(&style.bold(&format!(
        "{:<14} {:<11} {:>6} {:<12} {:<9} {}",
        "ENVIRONMENT", "KEY", "AGE", "ROTATION", "STRENGTH", "FINDINGS"
    )));
    s.push('\n');
    for e in &st.environments {
        let key = e.fingerprint.as_ref().map_or_else(
            || {
                if e.targets.iter().any(|t| t.fingerprint.is_some()) {
                    "drift".into()
                } else {
                    "none".into()
                }
            },
            |f| f.to_string(),
        );
        let strength = e.strength.as_ref().map_or("-", |x| x.label.as_str());
        s.push_str(&format!(
            "{:<14} {:<11} {:>6} {:<12} {:<9} {}\n",
            truncate(&e.name, 14),
            key,
            age_text(e),
            due_text(e),
            strength,
            output::summary(&e.findings)
        ));
    }
    for e in &st.environments {
        s.push('\n');
        s.push_str(&style.bold(&e.name));
        if let Some(st) = &e.strength {
            s.push_str(&format!(
                "  strength {} (~{:.0} bits)",
                st.label.as_str(),
                st.bits
            ));
        }
        s.push('\n');
        for t in &e.targets {
            let name = match (&t.path, &t.vault) {
                (Some(p), _) => p.clone(),
                (None, Some(v)) => format!("vault:{v}#{}", t.key.as_deref().unwrap_or("")),
                (None, None) => format!("${}", t.env.as_deref().unwrap_or("")),
            };
            let what = match (&t.fingerprint, t.state) {
                (Some(fp), _) => fp.to_string(),
                (None, "missing-file") => "file missing".into(),
                (None, "missing-secret") => "no such secret".into(),
                (None, "missing-key") => format!("no {}", t.key.as_deref().unwrap_or("key")),
                (None, "unset") => "not set".into(),
                (None, _) => "unreadable".into(),
            };
            s.push_str(&format!(
                "  {:<44} {:<6} {:<4} {}\n",
                truncate(&name, 44),
                t.format
                    .unwrap_or(if t.vault.is_some() { "kv2" } else { "env" }),
                t.version
                    .map(|v| format!("v{v}"))
                    .or_else(|| t.mode.clone())
                    .as_deref()
                    .unwrap_or("-"),
                what
            ));
        }
        for f in &e.findings {
            s.push_str(&output::finding_lines(f, style, "  "));
        }
    }
    s
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let keep: String = s
            .chars()
            .rev()
            .take(width - 1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{keep}")
    }
}
