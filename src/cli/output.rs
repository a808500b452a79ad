//! How the command line prints: colour only on a terminal without `NO_COLOR`, JSON on
//! request, findings in one shape everywhere.

use crate::error::{Error, Result};
use crate::finding::{Finding, Severity};
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// Whether stdout gets ANSI colours: a terminal, and `NO_COLOR` unset or empty.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Prints `value` as pretty JSON followed by a newline, in one write (stdout is
/// line-buffered: writing through it directly costs a system call per line).
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut buf = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Failed(format!("cannot encode JSON: {e}")))?;
    buf.push(b'\n');
    emit_bytes(&buf)
}

/// Text styling that disappears when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn detect() -> Style {
        Style {
            color: color_enabled(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Red (overdue), yellow (due soon), green (on schedule).
    pub fn due(&self, days_left: i64, text: &str) -> String {
        let code = if days_left < 0 {
            "31"
        } else if days_left <= 14 {
            "33"
        } else {
            "32"
        };
        self.paint(code, text)
    }

    pub fn severity(&self, sev: Severity) -> String {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &format!("{:<8}", sev.as_str()))
    }
}

/// One finding as two lines: severity, code, message; then its fix.
pub fn finding_lines(f: &Finding, style: Style, indent: &str) -> String {
    let mut where_ = String::new();
    if let Some(t) = &f.target {
        where_.push_str(&printable(t));
        if let Some(l) = f.line {
            where_.push_str(&format!(":{l}"));
        }
        where_.push_str(": ");
    }
    let mut s = format!(
        "{indent}{} {} {where_}{}\n",
        style.severity(f.severity),
        f.code,
        f.message
    );
    if let Some(fix) = &f.fix {
        s.push_str(&format!(
            "{indent}{}fix: {}\n",
            " ".repeat(15),
            style.dim(fix)
        ));
    }
    s
}

/// `text` (a path, a name from a file) with its control characters escaped (`\n`,
/// `\u{1b}`): a file named with a newline or a terminal escape cannot forge a line of
/// output or drive the terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `3 critical, 1 high` (only severities present), or `no findings`.
pub fn summary(findings: &[Finding]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|&sev| {
            let n = findings.iter().filter(|f| f.severity == sev).count();
            (n > 0).then(|| format!("{n} {sev}"))
        })
        .collect();
    if parts.is_empty() {
        "no findings".into()
    } else {
        parts.join(", ")
    }
}

/// Writes `text` to stdout; a closed pipe ends quietly.
pub fn emit(text: &str) -> Result<()> {
    emit_bytes(text.as_bytes())
}

fn emit_bytes(bytes: &[u8]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::writing("<stdout>", "write to", e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_nothing_else() {
        assert_eq!(printable("app/é config.py"), "app/é config.py");
        assert_eq!(
            printable("evil\n\u{1b}[2Jkeywarden: ok.txt\r\t\u{7f}"),
            "evil\\n\\u{1b}[2Jkeywarden: ok.txt\\r\\t\\u{7f}"
        );
        let f = Finding::new(
            crate::finding::Code::KeyInFile,
            Severity::Critical,
            "holds it".to_string(),
        )
        .at_target("a\nb".to_string())
        .at_line(3);
        let lines = finding_lines(&f, Style { color: false }, "");
        assert!(
            lines.starts_with("critical KW202 a\\nb:3: holds it"),
            "{lines}"
        );
        assert_eq!(lines.lines().count(), 1);
    }
}
