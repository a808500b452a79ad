//! `keywarden audit`: the project's audit trail, and its verification.

use super::common;
use super::output::{self, Style};
use crate::error::{Result, exit};

/// Show the audit trail (who did what, when, to which key — by fingerprint), or check that
/// no line was changed, removed or reordered.
///
/// With `[audit] syslog = true` in keywarden.toml, every event is also sent to the system
/// log (/dev/log, tag `keywarden`), and an action whose event the system logger does not
/// take does not happen. `--verify --against FILE` compares the trail with an export of
/// that copy, which a user cannot rewrite: records cut from the trail, and lines the
/// system log never received, are reported.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden audit\n  keywarden audit --verify\n  journalctl -t keywarden -o cat > exported.log && keywarden audit --verify --against exported.log\n  grep keywarden /var/log/auth.log | keywarden audit --verify --against -"
)]
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
    /// With --verify: also compare the trail with FILE, an export of the system log's copy
    /// (`journalctl -t keywarden -o cat`, or syslog lines; `-` reads stdin). Exit 1 when a
    /// record is missing from either side.
    #[arg(long, value_name = "FILE", requires = "verify")]
    against: Option<std::path::PathBuf>,
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
        let against = match &args.against {
            None => None,
            Some(file) => Some(log.compare_with_system_log(&read_export(file)?)?),
        };
        let agrees = against.as_ref().is_none_or(|c| c.agrees());
        if args.json {
            output::print_json(&serde_json::json!({
                "lines": v.lines,
                "valid": v.problem.is_none() && agrees,
                "problem": v.problem.as_ref().map(|p| serde_json::json!({"line": p.line, "message": p.message})),
                "against": against.as_ref().map(|c| serde_json::json!({
                    "file": args.against.as_ref().map(|f| f.display().to_string()),
                    "agrees": c.agrees(),
                    "comparison": c,
                    "messages": c.mismatches.iter().map(|m| m.message()).collect::<Vec<_>>(),
                })),
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
            if let (Some(c), Some(file)) = (&against, &args.against) {
                output::emit(&comparison_text(c, file))?;
            }
        }
        return Ok(if v.problem.is_none() && agrees {
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

/// The export of the system log: a file, or stdin for `-`.
fn read_export(file: &std::path::Path) -> Result<String> {
    let bytes = if file == std::path::Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| crate::error::Error::reading("stdin", "read the system log export", e))?;
        b
    } else {
        std::fs::read(file)
            .map_err(|e| crate::error::Error::reading(file, "read the system log export", e))?
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn comparison_text(
    c: &crate::records::audit::syslog::Comparison,
    file: &std::path::Path,
) -> String {
    let mut text = String::new();
    let from = c
        .first_seq
        .map(|s| format!(", from line {s}"))
        .unwrap_or_default();
    if c.agrees() {
        text.push_str(&format!(
            "ok: the system log ({}) holds all {} record(s) of this project{from}, and the trail holds them all\n",
            file.display(),
            c.system_records
        ));
    } else {
        text.push_str(&format!(
            "MISMATCH: the trail ({} line(s)) and the system log ({}: {} record(s) of this project{from}) disagree:\n",
            c.local_lines,
            file.display(),
            c.system_records
        ));
        if c.system_records == 0 && c.local_lines > 0 {
            text.push_str("  the export holds no record of this project: is it the right file, and is [audit] syslog on?\n");
        }
        for m in &c.mismatches {
            text.push_str(&format!("  {}\n", m.message()));
        }
        for l in &c.unreadable {
            text.push_str(&format!(
                "  line {l} of the export carries a keywarden record that cannot be read (damaged or cut short)\n"
            ));
        }
    }
    if let Some(first) = c.first_seq.filter(|&s| s > 1) {
        text.push_str(&format!(
            "  (lines 1–{} were written before the system log's copy begins)\n",
            first - 1
        ));
    }
    text
}
