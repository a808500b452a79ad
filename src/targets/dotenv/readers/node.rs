use super::Binding;

pub(crate) fn bindings(text: &str) -> Vec<Binding> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut pos = 0;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = &text[pos..line_end];
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        if body.is_empty() || body.starts_with('#') {
            pos = line_end + 1;
            continue;
        }
        let Some(eq) = body.find('=') else {
            pos = line_end + 1;
            continue;
        };
        let key = body[..eq].trim().to_string();
        let vstart = pos + lead + (trimmed.len() - body.len()) + eq + 1;
        let rest = &text[vstart..];
        let rest_trim = rest.trim_start_matches([' ', '\t']);
        let qpos = vstart + (rest.len() - rest_trim.len());
        let q = b.get(qpos).copied();
        let (value, end) = match q {
            Some(q @ (b'\'' | b'"' | b'`')) => match text[qpos + 1..].find(q as char) {
                Some(i) => {
                    let close = qpos + 1 + i;
                    let end = text[close..].find('\n').map_or(text.len(), |j| close + j);
                    let mut v = text[qpos + 1..close].to_string();
                    if q == b'"' {
                        v = v.replace("\\n", "\n");
                    }
                    (v, end)
                }
                None => (text[qpos..line_end].trim_end().to_string(), line_end),
            },
            _ => {
                let v = &text[qpos..line_end];
                let v = v.find(" #").map_or(v, |i| &v[..i]);
                (v.trim_end().to_string(), line_end)
            }
        };
        let value = value.strip_suffix('\r').unwrap_or(&value).to_string();
        out.push(Binding {
            key,
            value: Some(value),
            start: pos,
            end,
            key_line_only: q == Some(b'"'),
        });
        pos = end + 1;
    }
    out
}
