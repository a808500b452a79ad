//! `keywarden scan`: keys in source files and git history.

use super::common;
use super::output::{self, Style};
use super::sarif;
use crate::error::{Error, Result, exit};
use crate::finding::{Finding, Severity, worst};
use crate::scanning::baseline;
use crate::scanning::scan::{Files, History};
use std::path::Path;

/// Look for keys where they do not belong: every key keywarden knows (held by a target, or
/// retired and revoked ones in its backups) in the project's other files, and keys given
/// as string literals in source code (`SECRET_KEY = "…"`, `getenv("SECRET_KEY", "…")`).
///
/// Searches the files git tracks or would add (or, without git, every file outside build
/// and dependency folders), never the targets themselves. Keys are named by fingerprint.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden scan\n  keywarden scan --history --fail-on high\n  keywarden scan --sarif > keywarden.sarif"
)]
pub struct Args {
    /// Also search the git history: every object of the repository (every ref, merges,
    /// unreachable objects, binary files) for the keys keywarden knows and for
    /// hard-coded literals, each reported at the commit that added it.
    #[arg(long)]
    history: bool,
    /// Search what is staged for the next commit instead of the work tree, targets
    /// included (the pre-commit hook): a key pasted into a file and `git add`ed is caught
    /// before it is committed.
    #[arg(long, conflicts_with = "history")]
    staged: bool,
    /// With --history: only what the refs reach and REV does not (incremental CI runs).
    #[arg(long, value_name = "REV", requires = "history")]
    since: Option<String>,
    /// Print the findings as JSON.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// Print the findings as SARIF 2.1.0.
    #[arg(long)]
    sarif: bool,
    /// Exit 1 when a finding is at least this severe (without it, scan is a view: exit 0).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Write the baseline, `.keywarden-scan.toml`, to accept every hard-coded literal found
    /// now (KW201): reasons already given are kept, new entries say `accepted on DATE — say
    /// why`, entries that match nothing are dropped. Keys keywarden manages are never
    /// written to it.
    #[arg(long, conflicts_with = "no_baseline")]
    update_baseline: bool,
    /// Report every finding, ignoring `.keywarden-scan.toml`.
    #[arg(long)]
    no_baseline: bool,
    /// Draw no progress line (it is drawn on stderr only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// The progress line on stderr: one line redrawn with `\r`, at most 10 times a second,
/// cleared when the scan ends.
struct ProgressLine {
    started: std::time::Instant,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl ProgressLine {
    fn draw(&self, p: crate::scanning::scan::Progress) {
        use std::io::Write;
        let now = std::time::Instant::now();
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        if last.is_some_and(|t| now.duration_since(t) < std::time::Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        let secs = now.duration_since(self.started).as_secs_f64().max(0.001);
        let of = p.total.map(|t| format!(" of {t}")).unwrap_or_default();
        let line = format!(
            "\rscanning: {} {}{of}, {:.1} MB, {:.1} MB/s\x1b[K",
            p.done,
            p.phase,
            p.bytes as f64 / 1e6,
            p.bytes as f64 / 1e6 / secs
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    fn clear(&self) {
        use std::io::Write;
        if self.last.lock().map(|l| l.is_some()).unwrap_or(true) {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[K");
            let _ = err.flush();
        }
    }
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let depth = match (&args.since, args.history) {
        (Some(rev), _) => History::Since(rev),
        (None, true) => History::All,
        (None, false) => History::No,
    };
    let files = if args.staged {
        Files::Staged
    } else {
        Files::Tree
    };
    let line =
        (!args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            ProgressLine {
                started: std::time::Instant::now(),
                last: std::sync::Mutex::new(None),
            }
        });
    let draw = |p: crate::scanning::scan::Progress| {
        if let Some(l) = &line {
            l.draw(p);
        }
    };
    let report = crate::scanning::scan::scan_with_progress(
        &opened.project,
        &opened.pepper,
        files,
        depth,
        &draw,
    );
    if let Some(l) = &line {
        l.clear();
    }
    let report = match report {
        Ok(report) => report,
        // A code-scanning upload gets a run that says it failed, never an empty file.
        Err(e) if args.sarif => {
            let why = format!("the scan did not run: {}", super::words::error(&e));
            output::print_json(&sarif::report_findings_suppressed(&[], &[], &[why]))?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let root = &opened.project.root;
    let old = if args.no_baseline {
        None
    } else {
        baseline::load(root)?
    };
    if args.update_baseline {
        let today = opened
            .project
            .context
            .now()
            .strftime("%Y-%m-%d")
            .to_string();
        let entries = baseline::updated(old.as_ref(), &report.findings, &today);
        let path = baseline::write(root, &entries)?;
        eprintln!(
            "keywarden: wrote {} ({} accepted finding(s)); give each new entry its reason, then commit it",
            path.display(),
            entries.len()
        );
    }
    let applied = if args.update_baseline {
        let now = baseline::load(root)?;
        baseline::apply(now.as_ref(), report.findings)
    } else {
        baseline::apply(old.as_ref(), report.findings)
    };
    let findings = applied.reported;
    let accepted = applied.accepted;
    for e in &applied.stale {
        eprintln!(
            "keywarden: warning: {}:{}: the accepted {} in {} ({}) matches no finding now: delete the entry (`scan --update-baseline` drops it)",
            baseline::FILE,
            e.line,
            e.code,
            e.path,
            e.fingerprint
        );
    }
    if let Some(n) = &report.not_searched {
        eprintln!("keywarden: warning: {}", n.message());
    }
    // A file that could not be read is named, never passed over as clean.
    const SHOWN_UNREAD: usize = 10;
    for u in report.unread.iter().take(SHOWN_UNREAD) {
        eprintln!(
            "keywarden: warning: {}: could not be read ({}), so it was not searched",
            output::printable(&u.path),
            u.error
        );
    }
    if report.unread.len() > SHOWN_UNREAD {
        eprintln!(
            "keywarden: warning: and {} more file(s) or folder(s) could not be read (--json lists them all)",
            report.unread.len() - SHOWN_UNREAD
        );
    }
    let unread_gap = (!report.unread.is_empty()).then(|| {
        format!(
            "{} file(s) or folder(s) could not be read and were not searched (the first: {}: {})",
            report.unread.len(),
            output::printable(&report.unread[0].path),
            report.unread[0].error
        )
    });
    let incomplete = report.history.as_ref().and_then(|c| c.incomplete.clone());
    if args.sarif {
        let refs: Vec<&Finding> = findings.iter().collect();
        let mut gaps: Vec<String> = incomplete
            .iter()
            .map(|why| format!("the git history was not fully searched: {why}"))
            .collect();
        if let Some(n) = &report.not_searched {
            gaps.push(n.message());
        }
        gaps.extend(unread_gap.clone());
        let suppressed: Vec<(&Finding, &str)> = accepted
            .iter()
            .map(|a| (&a.finding, a.reason.as_str()))
            .collect();
        output::print_json(&sarif::report_findings_suppressed(
            &refs,
            &suppressed,
            &gaps,
        ))?;
    } else if args.json {
        output::print_json(&serde_json::json!({
            "findings": findings,
            "not_searched": report.not_searched,
            "unread": report.unread,
            "history": report.history,
            "accepted": { "count": accepted.len(), "findings": accepted },
            "stale_baseline_entries": applied.stale,
        }))?;
    } else {
        let style = Style::detect();
        let mut text = String::new();
        for f in &findings {
            text.push_str(&output::finding_lines(f, style, ""));
        }
        let scope = match &report.history {
            Some(c) => format!(
                " (files, and git history: {} blobs, {} MB, {} commits of {} refs)",
                c.blobs,
                c.bytes / 1_000_000,
                c.commits,
                c.refs
            ),
            None if args.staged => " (what is staged for the next commit)".to_string(),
            None => " (files; --history adds git history)".to_string(),
        };
        let unread = match report.unread.len() {
            0 => String::new(),
            n => format!("; {n} file(s) or folder(s) could not be read and were not searched"),
        };
        text.push_str(&format!("{}{scope}{unread}\n", output::summary(&findings)));
        if !accepted.is_empty() {
            text.push_str(&format!(
                "{} finding(s) accepted by {} (--no-baseline shows them)\n",
                accepted.len(),
                baseline::FILE
            ));
        }
        output::emit(&text)?;
    }
    if let Some(why) = incomplete {
        return Err(Error::Failed(format!(
            "the git history was not fully searched: {why}; the findings above cover only \
             what was read. Repair the repository (`git fsck`, or fetch the missing objects) \
             and scan again"
        )));
    }
    if let Some(gap) = unread_gap {
        let fix = if args.staged {
            "Stage them again (`git add`) or repair the repository (`git fsck`)"
        } else {
            "Give keywarden read access to them (or remove them)"
        };
        return Err(Error::Failed(format!(
            "{gap}; the findings above cover only what was read. {fix} and scan again"
        )));
    }
    Ok(match (args.fail_on, worst(&findings)) {
        (Some(gate), Some(w)) if w >= gate => exit::FAILED,
        _ => exit::OK,
    })
}
