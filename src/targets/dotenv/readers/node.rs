use super::Binding;

/// node 20's `Dotenv::ParseContent` (`--env-file`, `util.parseEnv`), ported: every CR is
/// removed first; the content is read as one string, not line by line:
///
/// * a `\n` or `#` at the current position skips to the next line — only there: an
///   indented comment or a line of spaces is not skipped, and a comment on the last line
///   without a line break is read as a name;
/// * otherwise the name runs to the next `=` anywhere, across lines (so a name without `=`
///   swallows the lines up to the next one's), trimmed of spaces, `export ` dropped;
/// * a value (spaces before it dropped) in `"…"` runs to the next `"` (no escapes, `\n`
///   expanded), in `'…'` or `` `…` `` to the next same quote; without a closing quote it is
///   the rest of the line, quote included; an unquoted one is cut at the first `#` and
///   trimmed of spaces. After a quoted value the rest of its line is skipped.
pub(crate) fn bindings(text: &str) -> Vec<Binding> {
    // The kept bytes and each one's offset in `text`.
    let (s, map): (Vec<u8>, Vec<usize>) = text
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b != b'\r')
        .map(|(i, b)| (b, i))
        .unzip();
    let off = |i: usize| map.get(i).copied().unwrap_or(text.len());
    let find = |b: u8, from: usize, to: usize| {
        s.get(from..to)
            .and_then(|r| r.iter().position(|&c| c == b))
            .map(|i| from + i)
    };
    let trim = |mut a: usize, mut z: usize| {
        while a < z && s[a] == b' ' {
            a += 1;
        }
        while z > a && s[z - 1] == b' ' {
            z -= 1;
        }
        (a, z)
    };
    let string = |a: usize, z: usize| String::from_utf8_lossy(&s[a..z]).into_owned();
    // The start of the line (in `text`) holding kept byte `i`.
    let line_start = |i: usize| {
        let o = off(i);
        text[..o].rfind('\n').map_or(0, |j| j + 1)
    };
    let (mut p, end) = trim(0, s.len());
    let mut out = Vec::new();
    while p < end {
        if (s[p] == b'\n' || s[p] == b'#')
            && let Some(nl) = find(b'\n', p, end)
        {
            p = nl + 1;
            continue;
        }
        let Some(eq) = find(b'=', p, end) else {
            break;
        };
        let (ka, kz) = trim(p, eq);
        if ka == kz {
            break;
        }
        let mut key = string(ka, kz);
        if let Some(k) = key.strip_prefix("export ") {
            key = k.to_string();
        }
        let start = line_start(ka);
        let mut c = eq + 1;
        while c < end && s[c] == b' ' {
            c += 1;
        }
        if c >= end {
            out.push(Binding {
                key,
                value: Some(String::new()),
                start,
                end: text.len(),
                key_line_only: false,
            });
            break;
        }
        let q = s[c];
        let after_close = |close: usize| find(b'\n', close + 1, end).unwrap_or(end);
        let (value, stop, next, double) = match q {
            b'"' | b'\'' | b'`' => match find(q, c + 1, end) {
                Some(close) => {
                    let mut v = string(c + 1, close);
                    if q == b'"' {
                        v = v.replace("\\n", "\n");
                    }
                    let nl = after_close(close);
                    (v, nl, nl + 1, q == b'"')
                }
                None => match find(b'\n', c, end) {
                    Some(nl) => (string(c, nl), nl, nl, false),
                    None => break,
                },
            },
            _ => {
                let nl = find(b'\n', c, end).unwrap_or(end);
                let cut = find(b'#', c, nl).unwrap_or(nl);
                let (a, z) = trim(c, cut);
                (string(a, z), nl, nl + 1, false)
            }
        };
        out.push(Binding {
            key,
            value: Some(value),
            start,
            end: off(stop),
            key_line_only: double,
        });
        p = next;
    }
    out
}
