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

/// Prints what [`print_json`] prints for a value whose list field `field` (at the top
/// level) is `items`, encoding the items over every core. `without_items` is the value
/// with that list empty. The items' text is written as it is joined, never copied whole
/// a second time.
pub fn print_json_with_list<T: Serialize, I: Serialize + Sync>(
    without_items: &T,
    field: &str,
    items: &[I],
) -> Result<()> {
    let spliced = Spliced::encode(without_items, field, items)
        .map_err(|e| Error::Failed(format!("cannot encode JSON: {e}")))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 18, stdout.lock());
    let written = spliced
        .write_to(&mut out)
        .and_then(|_| out.write_all(b"\n"));
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::writing("<stdout>", "write to", e))
        }
        _ => Ok(()),
    }
}

/// `serde_json::to_vec_pretty` of a value whose top-level list `field` holds `items`,
/// byte for byte, with the items encoded on every core and spliced in. Pretty JSON has a
/// raw newline only between tokens, never inside a string (it is escaped there), so the
/// empty list's line is found exactly, and an item's lines are put at their depth by
/// indenting each after its newline.
struct Spliced {
    /// The value with the list empty; `list` is where its `[]` is.
    head: Vec<u8>,
    list: Option<std::ops::Range<usize>>,
    /// Each item, indented for its place.
    items: Vec<Vec<u8>>,
}

impl Spliced {
    fn encode<T: Serialize, I: Serialize + Sync>(
        without_items: &T,
        field: &str,
        items: &[I],
    ) -> serde_json::Result<Spliced> {
        let head = serde_json::to_vec_pretty(without_items)?;
        if items.is_empty() {
            return Ok(Spliced {
                head,
                list: None,
                items: Vec::new(),
            });
        }
        let line = format!("\n  {}: []", serde_json::to_string(field)?);
        let Some(at) = head.windows(line.len()).position(|w| w == line.as_bytes()) else {
            return Err(serde::ser::Error::custom(format!(
                "no empty top-level list `{field}` to put the items in"
            )));
        };
        let encoded = crate::ops::parallel::parallel_map(items, |item| {
            serde_json::to_vec_pretty(item).map(|one| {
                let mut out = Vec::with_capacity(one.len() + one.len() / 8);
                let mut from = 0;
                for nl in memchr::memchr_iter(b'\n', &one) {
                    out.extend_from_slice(&one[from..=nl]);
                    out.extend_from_slice(b"    ");
                    from = nl + 1;
                }
                out.extend_from_slice(&one[from..]);
                out
            })
        });
        Ok(Spliced {
            list: Some(at + line.len() - 2..at + line.len()),
            head,
            items: encoded.into_iter().collect::<serde_json::Result<_>>()?,
        })
    }

    /// Writes the whole text, dropping each item once written.
    fn write_to(self, out: &mut impl Write) -> std::io::Result<()> {
        let Some(list) = self.list else {
            return out.write_all(&self.head);
        };
        out.write_all(&self.head[..list.start])?;
        out.write_all(b"[\n")?;
        for (i, item) in self.items.into_iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(b"    ")?;
            out.write_all(&item)?;
        }
        out.write_all(b"\n  ]")?;
        out.write_all(&self.head[list.end..])
    }
}

#[cfg(test)]
fn pretty_with_list<T: Serialize, I: Serialize + Sync>(
    without_items: &T,
    field: &str,
    items: &[I],
) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    Spliced::encode(without_items, field, items)?
        .write_to(&mut out)
        .map_err(serde_json::Error::io)?;
    Ok(out)
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

    #[derive(Serialize, Clone)]
    struct Item {
        name: String,
        nested: Vec<Vec<u8>>,
        empty: Vec<u8>,
        map: std::collections::BTreeMap<String, Option<String>>,
    }

    #[derive(Serialize, Clone)]
    struct Top {
        first: String,
        list: Vec<Item>,
        last: Option<String>,
    }

    /// The spliced encoding is the one-pass encoding, byte for byte: items of every shape,
    /// strings holding newlines, quotes and the very text of the empty list, any count.
    #[test]
    fn a_list_encoded_apart_is_spliced_exactly() {
        let tricky = "a\n  \"list\": []\\\"\t\u{1}é";
        let item = |i: usize| Item {
            name: format!("{tricky}{i}"),
            nested: vec![vec![], vec![i as u8, 2]],
            empty: Vec::new(),
            map: [
                ("k\n".to_string(), Some(tricky.to_string())),
                ("z".into(), None),
            ]
            .into_iter()
            .collect(),
        };
        for n in [1, 2, 15, 16, 17, 100] {
            let full = Top {
                first: tricky.to_string(),
                list: (0..n).map(item).collect(),
                last: Some("\n  \"list\": []".into()),
            };
            let head = Top {
                list: Vec::new(),
                ..full.clone()
            };
            let spliced = pretty_with_list(&head, "list", &full.list).unwrap();
            assert_eq!(
                String::from_utf8(spliced).unwrap(),
                serde_json::to_string_pretty(&full).unwrap(),
                "{n} items"
            );
        }
        let none = Top {
            first: String::new(),
            list: Vec::new(),
            last: None,
        };
        assert_eq!(
            pretty_with_list(&none, "list", &none.list).unwrap(),
            serde_json::to_vec_pretty(&none).unwrap()
        );
        assert!(pretty_with_list(&none, "missing", &[1]).is_err());
    }

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
