//! Small text helpers for views: wrapping and shortening to a width in columns.

use ratatui::text::{Line, Span};

/// The display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Splits `text` into lines of at most `max` columns, at spaces where possible. A
/// paragraph's leading spaces indent all its lines.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let body = paragraph.trim_start_matches(' ');
        let indent = &paragraph[..paragraph.len() - body.len()];
        let room = max.saturating_sub(indent.len()).max(1);
        lines.extend(
            wrap_hanging(body, room, room)
                .into_iter()
                .map(|l| format!("{indent}{l}")),
        );
    }
    lines
}

/// Greedy wrapping of one paragraph: the first line holds `first` columns, the others
/// `rest`. A word longer than a line is cut.
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(1), rest.max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let room = |lines: &Vec<String>| if lines.is_empty() { first } else { rest };
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if width(&line) + sep + width(word) <= room(&lines) {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut word = word;
        while width(word) > room(&lines) {
            let cut = cut_at(word, room(&lines));
            lines.push(word[..cut].to_string());
            word = &word[cut..];
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// `s` cut every `max` columns, keeping every character (spaces included): for keys.
/// The pieces borrow from `s`: cutting a key copies none of it.
pub fn chunks(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let cut = cut_at(rest, max.max(1));
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// The byte index where `s` reaches `max` columns.
fn cut_at(s: &str, max: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w > max {
            // Always move on, even past a character wider than the line.
            return if i == 0 { c.len_utf8() } else { i };
        }
        used += w;
    }
    s.len()
}

/// `s` shortened to `max` columns with `…` in the middle (paths keep both ends).
pub fn shorten(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let keep = max - 1;
    let head = keep / 2;
    let tail = keep - head;
    let chars: Vec<char> = s.chars().collect();
    let start: String = chars[..head.min(chars.len())].iter().collect();
    let end: String = chars[chars.len().saturating_sub(tail)..].iter().collect();
    format!("{start}…{end}")
}

/// `s` cut to `max` columns with `…` at the end, padded with spaces to exactly `max`.
pub fn fit_end(s: &str, max: usize) -> String {
    let s = if width(s) <= max {
        s.to_string()
    } else {
        let cut = cut_at(s, max.saturating_sub(1));
        format!("{}…", &s[..cut])
    };
    let pad = max.saturating_sub(width(&s));
    format!("{s}{}", " ".repeat(pad))
}

/// `s` padded with spaces (or shortened) to exactly `n` columns.
pub fn fit(s: &str, n: usize) -> String {
    let s = shorten(s, n);
    let pad = n.saturating_sub(width(&s));
    format!("{s}{}", " ".repeat(pad))
}

/// Wrapped lines of `text` in `style`: the first after the spans `first`, the others
/// after `indent` spaces.
pub fn hanging<'a>(
    first: Vec<Span<'a>>,
    text: &str,
    style: ratatui::style::Style,
    max: usize,
    indent: usize,
) -> Vec<Line<'a>> {
    let lead: usize = first.iter().map(Span::width).sum();
    let body = wrap_hanging(
        text,
        max.saturating_sub(lead).max(8),
        max.saturating_sub(indent).max(8),
    );
    let mut out = Vec::with_capacity(body.len());
    let mut first = Some(first);
    for chunk in body {
        let mut spans = first
            .take()
            .unwrap_or_else(|| vec![Span::raw(" ".repeat(indent))]);
        spans.push(Span::styled(chunk, style));
        out.push(Line::from(spans));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("one\ntwo", 10), ["one", "two"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("  • a bb", 5), ["  • a", "  bb"]);
        assert_eq!(wrap_hanging("aa bb cc dd", 5, 8), ["aa bb", "cc dd"]);
        assert_eq!(chunks("ab cd e", 3), ["ab ", "cd ", "e"]);
    }

    #[test]
    fn chunks_of_a_key_borrow_it_and_copy_nothing() {
        let key = "Qw7!eR4@tY1#uI8$oP5%aS2^dF9&gH6*";
        let range = key.as_bytes().as_ptr_range();
        let pieces = chunks(key, 10);
        assert_eq!(pieces.concat(), key);
        for p in pieces {
            assert!(
                range.contains(&p.as_ptr()),
                "a piece that is not a slice of the key"
            );
        }
    }

    #[test]
    fn shortens_in_the_middle() {
        assert_eq!(shorten("deploy/production/.env", 12), "deplo…n/.env");
        assert_eq!(width(&shorten("deploy/production/.env", 12)), 12);
        assert_eq!(shorten(".env", 12), ".env");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit_end("abcdef", 4), "abc…");
        assert_eq!(fit_end("ab", 4), "ab  ");
    }
}
