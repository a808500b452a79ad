//! `keywarden audit`: the project's audit trail, and its verification.

use super::common;
use super::output::{self, Style};
use crate::error::{Result, exit};

/// Show the audit trail (who did what, when, to which key — by fingerprint), or check that
/// no line was changed, removed or reordered.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check the hash chain; exit 1 at the first line that was changed, removed or reordered.
    #[arg(long)]
    verify: bool,
    /// Print the events (or the verification) as JSON.
    #[arg(long)]
    json: bool,
    /// After reviewing a log whose end is not the one recorded (lines cut, added or
    /// rewritten, or audit.head gone), record what was lost and let keywarden act again.
    /// Until then every action refuses: the trail fails closed.
    #[arg(long, conflicts_with = "verify")]
    accept: bool,
}

pub fn run(args: Args, project: Option<&std::path::Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let log = opened.project.audit();
    if args.accept {
        let what = log.accept()?;
        output::emit(&format!(
            "accepted, and recorded in the trail as audit.accept: {what}\n"
        ))?;
        return Ok(exit::OK);
    }
    if args.verify {
        let v = log.verify()?;
        if args.json {
            output::print_json(&serde_json::json!({
                "lines": v.lines,
                "valid": v.problem.is_none(),
                "problem": v.problem.as_ref().map(|p| serde_json::json!({"line": p.line, "message": p.message})),
            }))?;
        } else {
            match &v.problem {
                None => output::emit(&format!(
                    "ok: {} line(s), the chain is intact ({})\n",
                    v.lines,
                    log.path().display()
                ))?,
                Some(p) => output::emit(&format!(
                    "TAMPERED: {}: line {}: {}\n",
                    log.path().display(),
                    p.line,
                    p.message
                ))?,
            }
        }
        return Ok(if v.problem.is_none() {
            exit::OK
        } else {
            exit::FAILED
        });
    }
    let events = log.read()?;
    if args.json {
        return output::print_json(&events).map(|_| exit::OK);
    }
    if events.is_empty() {
        output::emit("the audit trail is empty\n")?;
        return Ok(exit::OK);
    }
    let style = Style::detect();
    let mut text = String::new();
    for e in &events {
        let fps = e
            .fingerprints
            .as_ref()
            .map(|f| match (&f.old, &f.new) {
                (Some(o), Some(n)) => format!("{o} -> {n}"),
                (None, Some(n)) => format!("-> {n}"),
                (Some(o), None) => o.to_string(),
                (None, None) => String::new(),
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "{} {:<10} {:<12} {:<18} {:<8} {}{}\n",
            style.dim(&e.ts.strftime("%Y-%m-%d %H:%M:%S").to_string()),
            e.user,
            e.environment.as_deref().unwrap_or("-"),
            e.action,
            format!("{:?}", e.result).to_lowercase(),
            fps,
            e.detail
                .as_deref()
                .map(|d| format!("  {d}"))
                .unwrap_or_default()
        ));
    }
    output::emit(&text)?;
    Ok(exit::OK)
}
