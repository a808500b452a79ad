//! Which values and lines every reader (python-dotenv, Docker Compose, a POSIX shell)
//! reads back the same: the checks behind [`DotenvFile::set`]'s refusals and
//! [`readers_disagree`]'s warnings.

use super::*;

/// Whether `key` is a name that python-dotenv, Docker Compose and bash all
/// accept as written: ASCII letters, digits and `_`, not starting with a
/// digit.
pub fn is_portable_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Checks that `value`, written as `KEY='value'`, reads back unchanged in
/// python-dotenv (with or without interpolation), Docker Compose and a POSIX
/// shell.
///
/// Refused: `'`, `\`, NUL, CR, LF, any other control character (Unicode
/// category Cc) and any `${…}` form matching python-dotenv's interpolation
/// pattern `\$\{[^}:]*(:-[^}]*)?\}`. Everything else is accepted, including
/// `$`, `${` without a matching form (e.g. `${A:?x}`), `"`, `#`, spaces and
/// non-ASCII text. The empty value is accepted: all three readers read `''`
/// as the empty string (whether an empty secret is acceptable is the
/// caller's policy, not a quoting question).
pub fn check_portable(value: &str) -> Result<(), Unportable> {
    for c in value.chars() {
        match c {
            '\0' => return Err(Unportable::Nul),
            '\'' => return Err(Unportable::SingleQuote),
            '\\' => return Err(Unportable::Backslash),
            '\r' => return Err(Unportable::CarriageReturn),
            '\n' => return Err(Unportable::LineFeed),
            c if c.is_control() => return Err(Unportable::ControlChar),
            _ => {}
        }
    }
    if has_python_variable(value) {
        return Err(Unportable::Interpolation);
    }
    Ok(())
}

/// Whether python-dotenv's interpolation regex
/// `\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}` matches anywhere.
pub(super) fn has_python_variable(value: &str) -> bool {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(off) = value[from..].find("${") {
        let start = from + off;
        let mut j = start + 2;
        while j < b.len() && b[j] != b'}' && b[j] != b':' {
            j += 1;
        }
        match b.get(j) {
            Some(b'}') => return true,
            Some(b':') if b.get(j + 1) == Some(&b'-') && b[j + 2..].contains(&b'}') => {
                return true;
            }
            _ => {}
        }
        from = start + 1;
    }
    false
}

/// Characters an unquoted value may hold and still be read identically by
/// python-dotenv, Docker Compose and bash.
pub(super) fn is_plain_unquoted(c: char) -> bool {
    c.is_alphanumeric() || "_./:@%+,=-#".contains(c)
}

pub(super) fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Says whether python-dotenv (with interpolation), Docker Compose and bash
/// (`set -a; . file`) could read different values for `entry`, and why.
///
/// Conservative: `None` means the three readers agree on this entry; `Some`
/// means at least one of them may read it differently (or not at all). The
/// sentence never contains the value.
pub fn readers_disagree(entry: &Entry) -> Option<String> {
    own_line_reasons(entry, true)
}

/// The reasons of [`readers_disagree`]; without the byte-order mark and the line ending
/// when `file_level` is false (the whole-file model reports those with their own fix).
pub(super) fn own_line_reasons(entry: &Entry, file_level: bool) -> Option<String> {
    let mut reasons: Vec<&'static str> = Vec::new();
    if file_level && entry.first_line_after_bom {
        reasons.push(
            "the file starts with a UTF-8 byte-order mark, which python-dotenv and Docker \
             Compose skip but bash reads as part of this line, so bash never sets the variable",
        );
    }
    match entry.line_ending {
        _ if !file_level => {}
        LineEnding::CrLf => reasons.push(
            "the line ends in CRLF and bash keeps the carriage return at the end of the value",
        ),
        LineEnding::Cr => reasons.push(
            "the line ends in a lone carriage return, which python-dotenv treats as a line \
             break but bash and Docker Compose read as part of the value",
        ),
        LineEnding::Lf | LineEnding::Missing => {}
    }
    if entry.raw[entry.value_raw.clone()].contains('\r') {
        reasons.push(
            "the value spans lines ending in CR or CRLF; python-dotenv reads those line breaks \
             as LF while bash and Docker Compose keep the carriage return",
        );
    }
    if entry.key_quoted {
        reasons.push(
            "the variable name is in quotes, which only python-dotenv accepts (Docker Compose \
             rejects the file and bash runs the line as a command)",
        );
    } else if !is_portable_key(&entry.key) {
        reasons.push(
            "the variable name is not a plain shell name (ASCII letters, digits and `_`, not \
             starting with a digit), so bash does not read the line as an assignment",
        );
    }
    if !entry.indent().chars().all(is_blank) {
        reasons.push(
            "the indentation contains whitespace other than spaces and tabs, which bash does \
             not skip",
        );
    }
    if !entry.export_separator().chars().all(is_blank) {
        reasons.push(
            "the whitespace after `export` is not a plain space or tab, which bash and Docker \
             Compose do not accept",
        );
    }
    if entry.space_before_eq || entry.space_after_eq {
        reasons.push(
            "there is whitespace around `=`, which python-dotenv and Docker Compose skip but \
             bash does not accept in an assignment",
        );
    }
    if entry.empty_then_comment {
        reasons.push(
            "the value is empty and followed by a comment, which Docker Compose reads as the \
             value",
        );
    }
    let inner = if entry.quote == Quote::None {
        &entry.raw[entry.value_raw.clone()]
    } else {
        &entry.raw[entry.value_raw.start + 1..entry.value_raw.end - 1]
    };
    match (entry.quote, entry.value.as_deref()) {
        (_, None) => reasons.push(
            "the line has no `=`: python-dotenv reads no value, Docker Compose copies the \
             variable from its own environment (and rejects the file if a comment follows), and \
             bash runs the name as a command",
        ),
        (Quote::Single, Some(v)) => {
            if inner.contains('\\') {
                reasons.push(
                    "the single-quoted value contains a backslash: python-dotenv reads `\\\\` \
                     and `\\'` as escapes, Docker Compose only `\\'`, and bash neither",
                );
            }
            if has_python_variable(v) {
                reasons.push(
                    "the single-quoted value contains a `${…}` form that python-dotenv expands \
                     (unless interpolation is off) while Docker Compose and bash keep it",
                );
            }
        }
        (Quote::Double, Some(_)) => {
            if inner.contains('\\') {
                reasons.push(
                    "the double-quoted value contains a backslash, and python-dotenv, Docker \
                     Compose and bash each decode backslash escapes differently",
                );
            }
            if inner.contains('$') {
                reasons.push(
                    "the double-quoted value contains `$`: Docker Compose and bash expand \
                     `$NAME` and `${NAME}` forms, python-dotenv only `${NAME}` ones",
                );
            }
            if inner.contains('`') {
                reasons.push(
                    "the double-quoted value contains a backtick, which bash runs as a command \
                     substitution",
                );
            }
        }
        (Quote::None, Some(v)) => {
            if !v.chars().all(is_plain_unquoted) {
                reasons.push(
                    "the unquoted value contains characters that bash or Docker Compose treat \
                     specially (such as whitespace, quotes, `$`, `\\`, `;`, `&`, `|`, `<`, `>`, \
                     `(`, `)`, `~`, `*` or a backtick); single quotes would avoid that",
                );
            }
        }
    }
    if entry.value.is_some() && !entry.empty_then_comment {
        let tail = entry.tail();
        let hash = tail.find('#');
        let space = &tail[..hash.unwrap_or(tail.len())];
        if !space.chars().all(is_blank) {
            reasons.push(
                "the whitespace after the value is not plain spaces or tabs, which bash reads as \
                 part of the value",
            );
        } else if hash.is_some() && space.is_empty() {
            reasons.push(
                "a `#` comment follows the closing quote without a space, so bash reads it as \
                 part of the value",
            );
        } else if hash.is_some() && entry.quote == Quote::None && !space.ends_with(' ') {
            reasons.push(
                "the inline comment is preceded by a tab, and Docker Compose only recognises \
                 ` #` (space, hash) as the start of a comment in an unquoted value",
            );
        }
    }
    if reasons.is_empty() {
        None
    } else {
        let mut s = reasons.join("; ");
        s.push('.');
        Some(s)
    }
}
