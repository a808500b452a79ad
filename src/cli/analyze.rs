//! `keywarden analyze`: the strength of one key read from stdin.

use super::input;
use super::output::{self, Style};
use crate::error::{Result, exit};
use crate::finding::{Finding, Severity, worst};
use crate::keys::strength::{self, Label};
use serde::Serialize;

/// Judge the strength of one key read from stdin (never from the command line).
///
/// Prints a label (critical, weak, fair, strong), the estimated entropy in bits and the
/// findings. Exits 1 when a finding is at or above --fail-on, so scripts can gate on it.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden generate | keywarden analyze\n  printf %s \"$SECRET_KEY\" | keywarden analyze --json --fail-on medium"
)]
pub struct Args {
    /// Print `{label, bits, findings}` as JSON.
    #[arg(long)]
    json: bool,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    fail_on: Severity,
    /// A project or environment name to look for inside the key (repeatable).
    #[arg(long, value_name = "NAME")]
    name: Vec<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    label: Label,
    bits: f64,
    findings: &'a [Finding],
}

pub fn run(args: Args) -> Result<u8> {
    let key = input::read_key()?;
    let names: Vec<&str> = args.name.iter().map(String::as_str).collect();
    let ctx = strength::Context::new(None, &names);
    let s = strength::analyze(&key, &ctx);
    drop(key);
    if args.json {
        output::print_json(&Report {
            label: s.label,
            bits: s.bits,
            findings: &s.findings,
        })?;
    } else {
        let style = Style::detect();
        let mut text = format!(
            "{} {} (about {:.0} bits of entropy)\n",
            style.bold("strength:"),
            s.label.as_str(),
            s.bits
        );
        for f in &s.findings {
            text.push_str(&output::finding_lines(f, style, "  "));
        }
        if s.findings.is_empty() {
            text.push_str("  no findings\n");
        }
        output::emit(&text)?;
    }
    Ok(match worst(&s.findings) {
        Some(w) if w >= args.fail_on => exit::FAILED,
        _ => exit::OK,
    })
}
