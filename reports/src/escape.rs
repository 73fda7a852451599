//! Escaping of names and file contents for every output format, so that output code is safe on
//! its own whatever a name or an input file holds:
//!
//! - [`visible`]: control characters (C0, DEL, C1), Unicode bidirectional controls and the
//!   noncharacters U+FFFE / U+FFFF shown as `\u{1b}`: the form every other escape starts from;
//! - [`terminal`]: the same, keeping line breaks, for text printed on a terminal (no ESC sequence
//!   ever reaches it);
//! - [`html`]: [`visible`], then `& < > " '` as entities: safe in HTML text and attribute values,
//!   and in XML (SVG) text, whose 1.0 grammar forbids most control characters even as references;
//! - [`csv_cell`]: [`visible`], then OWASP's advice against CSV injection: a text cell that
//!   starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a spreadsheet
//!   shows it as text instead of evaluating a formula. Quoting is left to the `csv` writer.
//!   A cell that reads as a number (`-1.5`, `+3`) is left as it is: a spreadsheet evaluates it to
//!   itself. Idempotent: an escaped cell starts with `'` and is not escaped again.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown as `\u{..}` rather than written as is.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

fn escape_hidden(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| hidden(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) && !keep(c) {
            let _ = write!(o, "\\u{{{:x}}}", u32::from(c));
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

/// `s` with every control character (line breaks and tabs too), bidirectional control and
/// noncharacter written as `\u{hex}`.
pub fn visible(s: &str) -> Cow<'_, str> {
    escape_hidden(s, |_| false)
}

/// Text for a terminal: like [`visible`], but line breaks stay.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_hidden(s, |c| c == '\n')
}

/// Text for HTML (text or a quoted attribute) and XML/SVG text: [`visible`], then entities.
pub fn html(s: &str) -> String {
    let v = visible(s);
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A text cell of a CSV file: [`visible`], and a leading `'` before a formula prefix
/// (`= + - @`, tab, carriage return), as OWASP advises against CSV injection.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let risky = |s: &str| s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if (!risky(s) && !s.chars().any(hidden)) || s.parse::<f64>().is_ok() {
        return Cow::Borrowed(s);
    }
    let v = visible(s);
    if risky(s) || risky(&v) {
        Cow::Owned(format!("'{v}"))
    } else {
        Cow::Owned(v.into_owned())
    }
}

/// At most `max` characters of `s` for a message, [`visible`], with `...` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut o: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        o.push_str("...");
    }
    visible(&o).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 6] = [
        "<script>alert(1)</script>",
        "a\"b",
        "x & y",
        "\u{1b}[31mred\u{1b}[0m",
        "nul\0here",
        "=cmd|' /C calc'!A0",
    ];

    #[test]
    fn visible_and_terminal() {
        assert_eq!(
            visible("a\u{1b}[2Jb\0\n\t"),
            "a\\u{1b}[2Jb\\u{0}\\u{a}\\u{9}"
        );
        assert_eq!(terminal("a\u{1b}b\nc\u{9b}"), "a\\u{1b}b\nc\\u{9b}");
        assert_eq!(visible("r\u{202e}l"), "r\\u{202e}l");
        assert!(matches!(visible("plain-name_1"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_escapes_markup_and_controls() {
        assert_eq!(
            html("<script>\"&'\u{1b}\0"),
            "&lt;script&gt;&quot;&amp;&#39;\\u{1b}\\u{0}"
        );
        for h in HOSTILE {
            let e = html(h);
            assert!(!e.contains(['<', '>', '"', '\'', '\u{1b}', '\0']), "{e}");
        }
    }

    #[test]
    fn csv_cells_follow_owasp() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for p in ["+a", "-x", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(p).starts_with('\''), "{p:?}");
        }
        assert_eq!(csv_cell("\tx"), "'\\u{9}x");
        assert_eq!(csv_cell("web"), "web");
        assert_eq!(csv_cell("a=b"), "a=b");
        assert_eq!(csv_cell("-1.5"), "-1.5");
        assert_eq!(csv_cell("+3"), "+3");
        assert_eq!(csv_cell("-1+cmd"), "'-1+cmd");
        assert_eq!(csv_cell("esc\u{1b}"), "esc\\u{1b}");
        // idempotent
        let once = csv_cell("=x").into_owned();
        assert_eq!(csv_cell(&once), once);
    }

    #[test]
    fn excerpts_are_short_and_visible() {
        assert_eq!(excerpt("abcdef", 3), "abc...");
        assert_eq!(excerpt("a\u{1b}", 5), "a\\u{1b}");
    }
}
