/// What is still open at the start of a line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Open {
    pub(crate) at: usize,
    pub(crate) what: &'static str,
}

pub(crate) struct Scan {
    /// Every line start (byte offset after each LF, and 0), with what is open there.
    pub(crate) line_starts: Vec<(usize, Option<Open>)>,
    pub(crate) error: Option<Open>,
    /// Offsets of lines that start a fresh command with `NAME=`, and the name.
    pub(crate) assignments: Vec<(usize, String)>,
}

impl Scan {
    pub(crate) fn pending_at(&self, at: usize) -> Option<Open> {
        let i = self.line_starts.partition_point(|&(s, _)| s <= at);
        match i.checked_sub(1).map(|i| self.line_starts[i]) {
            Some((s, open)) if s == at => open,
            // Not at a line start: part of a longer line.
            Some((s, _)) => Some(Open {
                at: s,
                what: "this line runs on without a line feed",
            }),
            None => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Single,
    AnsiC,
    Double,
    Backtick,
    Paren,
    Brace,
}

const Q1: &str = "this line opens a single quote the shell does not close on it (`\\'` is \
                  no escape inside single quotes in a shell)";
const QA: &str = "this line opens a `$'…'` quote that is not closed on it";
const Q2: &str = "this line opens a double quote the shell does not close on it";
const BT: &str = "this line opens a backtick command substitution that is not closed on it";
const PA: &str = "this line opens a parenthesis (`$(`, `(` or an array) that is not closed on it";
const BR: &str = "this line opens a `${` that is not closed on it";
const BS: &str = "this line ends in a backslash, which joins the next line to it in a shell";
const OP: &str =
    "this line ends in `|`, `&&` or `||`, which continues the command on the next line";
const HD: &str =
    "this line starts a here-document (`<<`), which takes the following lines as its text";
const KW: &str = "this line starts a shell compound command (such as `if`, `for`, `case` or `{`)";

fn what(c: Ctx) -> &'static str {
    match c {
        Ctx::Single => Q1,
        Ctx::AnsiC => QA,
        Ctx::Double => Q2,
        Ctx::Backtick => BT,
        Ctx::Paren => PA,
        Ctx::Brace => BR,
    }
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x == '_' || x.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// Scans `text` as bash (`bash == true`) or dash would.
pub(crate) fn scan(text: &str, bash: bool) -> Scan {
    let b = text.as_bytes();
    let n = b.len();
    let mut stack: Vec<(Ctx, usize)> = Vec::new();
    let mut line_starts = vec![(0usize, None)];
    let mut assignments = Vec::new();
    let mut error: Option<Open> = None;
    let mut carry: Option<Open> = None; // continuation / operator at end of line
    let mut pending_op: Option<usize> = None;
    let mut heredoc: Option<(String, bool, usize)> = None;
    let mut compound: Option<usize> = None;
    let mut word_start = true;
    let mut cmd_start = true;
    let mut word_begin = 0usize;
    let mut i = 0usize;
    let set_err = |error: &mut Option<Open>, at, what| {
        if error.is_none() {
            *error = Some(Open { at, what });
        }
    };
    while i < n {
        let c = b[i];
        let top = stack.last().map(|&(c, _)| c);
        // A line start.
        if i == 0 || b[i - 1] == b'\n' {
            let open = stack
                .first()
                .map(|&(c, at)| Open { at, what: what(c) })
                .or(carry)
                .or(compound.map(|at| Open { at, what: KW }));
            if i > 0 {
                line_starts.push((i, open));
            }
            if open.is_none() {
                // The here-document body, if one was opened on the previous line.
                let rest_end = text[i..].find('\n').map_or(n, |j| i + j);
                let first: String = text[i..rest_end]
                    .trim_start_matches([' ', '\t'])
                    .chars()
                    .take_while(|&ch| ch == '_' || ch.is_ascii_alphanumeric())
                    .collect();
                let after = text[i..rest_end].trim_start_matches([' ', '\t']);
                if is_name(&first) && after[first.len()..].starts_with('=') {
                    assignments.push((i, first));
                }
            }
            // After `|`, `&&` or `||`, blank lines and comments are skipped: the command
            // continues on the next line that has one.
            let rest_end = text[i..].find('\n').map_or(n, |j| i + j);
            let rest = text[i..rest_end].trim_start_matches([' ', '\t']);
            carry = carry.filter(|o| o.what == OP && (rest.is_empty() || rest.starts_with('#')));
            word_start = true;
            if stack.is_empty() {
                cmd_start = true;
            }
        }
        if let Some((delim, _, opened)) = &heredoc
            && stack.is_empty()
            && (i == 0 || b[i - 1] == b'\n')
        {
            // Inside a here-document: lines until the delimiter.
            let opened = *opened;
            let rest_end = text[i..].find('\n').map_or(n, |j| i + j);
            let line = text[i..rest_end].trim_start_matches('\t');
            let done = line == delim;
            if let Some(last) = line_starts.last_mut()
                && last.0 == i
            {
                last.1 = Some(Open {
                    at: opened,
                    what: HD,
                });
            }
            if done {
                heredoc = None;
            }
            i = rest_end + 1;
            if i > n {
                break;
            }
            continue;
        }
        match top {
            Some(Ctx::Single) => {
                if c == b'\'' {
                    stack.pop();
                }
                i += 1;
                continue;
            }
            // `$'…'` and `` `…` ``: a backslash escapes the next byte; the quote closes.
            Some(ctx @ (Ctx::AnsiC | Ctx::Backtick)) => {
                let close = if ctx == Ctx::AnsiC { b'\'' } else { b'`' };
                if c == b'\\' {
                    i += 1;
                } else if c == close {
                    stack.pop();
                }
                i += 1;
                continue;
            }
            Some(Ctx::Double) => {
                match c {
                    b'\\' => i += 1,
                    b'"' => {
                        stack.pop();
                    }
                    b'`' => stack.push((Ctx::Backtick, i)),
                    b'$' if b.get(i + 1) == Some(&b'(') => {
                        stack.push((Ctx::Paren, i));
                        i += 1;
                    }
                    b'$' if b.get(i + 1) == Some(&b'{') => {
                        stack.push((Ctx::Brace, i));
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        // Normal context: the top level, inside `$(`/`(`, or inside `${`.
        if !b" \t\r\n#".contains(&c) && stack.is_empty() {
            pending_op = None;
        }
        let was_word_start = word_start;
        word_start = false;
        match c {
            b'\\' => {
                if b.get(i + 1) == Some(&b'\n') && stack.is_empty() {
                    carry = Some(Open { at: i, what: BS });
                }
                i += 2;
                continue;
            }
            b'\'' => stack.push((Ctx::Single, i)),
            b'"' => stack.push((Ctx::Double, i)),
            b'`' => stack.push((Ctx::Backtick, i)),
            b'$' if bash && b.get(i + 1) == Some(&b'\'') => {
                stack.push((Ctx::AnsiC, i));
                i += 1;
            }
            b'$' if b.get(i + 1) == Some(&b'(') => {
                stack.push((Ctx::Paren, i));
                i += 1;
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                stack.push((Ctx::Brace, i));
                i += 1;
            }
            b'}' if top == Some(Ctx::Brace) => {
                stack.pop();
            }
            b'#' if was_word_start && top != Some(Ctx::Brace) => {
                i = text[i..].find('\n').map_or(n, |j| i + j);
                word_start = true;
                continue;
            }
            b'(' if top != Some(Ctx::Brace) => {
                let word = &text[word_begin..i];
                // A subshell, a nested parenthesis, or (bash) an array `NAME=(`.
                let array = bash && word.ends_with('=') && is_name(&word[..word.len() - 1]);
                if (cmd_start && was_word_start) || top == Some(Ctx::Paren) || array {
                    stack.push((Ctx::Paren, i));
                } else {
                    set_err(&mut error, i, "this line has an unquoted `(`");
                }
            }
            b')' if top == Some(Ctx::Paren) => {
                stack.pop();
            }
            b')' if top != Some(Ctx::Brace) => {
                set_err(&mut error, i, "this line has an unquoted `)`");
            }
            b' ' | b'\t' | b'\n' if top != Some(Ctx::Brace) => {
                word_start = true;
                if c == b'\n' && stack.is_empty() {
                    // `|`, `&&` or `||` at the end of the line.
                    if let Some(at) = pending_op.take() {
                        carry = Some(Open { at, what: OP });
                    }
                }
                i += 1;
                continue;
            }
            b';' | b'&' | b'|' if top != Some(Ctx::Brace) => {
                if c == b';' && b.get(i + 1) == Some(&b';') {
                    set_err(&mut error, i, "this line has an unquoted `;;`");
                }
                let double = b.get(i + 1) == Some(&c);
                pending_op = (c == b'|' || (c == b'&' && double)).then_some(i);
                word_start = true;
                cmd_start = true;
                i += if double && c != b';' { 2 } else { 1 };
                word_begin = i;
                continue;
            }
            b'<' if top.is_none() && b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                let mut j = i + 2;
                let strip = b.get(j) == Some(&b'-');
                if strip {
                    j += 1;
                }
                while j < n && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                let st = j;
                while j < n && !b" \t\n;&|<>()".contains(&b[j]) {
                    j += 1;
                }
                let delim: String = text[st..j]
                    .chars()
                    .filter(|&c| c != '\'' && c != '"' && c != '\\')
                    .collect();
                if delim.is_empty() {
                    set_err(&mut error, i, "this line has a `<<` without a delimiter");
                }
                heredoc = Some((delim, strip, i));
                i = j;
                continue;
            }
            _ => {}
        }
        if was_word_start && top.is_none() && c != b' ' && c != b'\t' && c != b'\n' {
            word_begin = i;
            if cmd_start && compound.is_none() {
                let end = text[i..]
                    .find([' ', '\t', '\n', ';', '&', '|'])
                    .map_or(n, |j| i + j);
                let w = &text[i..end];
                if matches!(
                    w,
                    "if" | "while"
                        | "until"
                        | "for"
                        | "case"
                        | "select"
                        | "function"
                        | "{"
                        | "[["
                        | "!"
                ) {
                    compound = Some(i);
                }
            }
            cmd_start = false;
        }
        i += 1;
    }
    if let Some(&(c, at)) = stack.first() {
        set_err(&mut error, at, what(c));
    }
    if let Some(at) = pending_op.or(carry.filter(|o| o.what == OP).map(|o| o.at)) {
        set_err(&mut error, at, OP);
    }
    Scan {
        line_starts,
        error,
        assignments,
    }
}
