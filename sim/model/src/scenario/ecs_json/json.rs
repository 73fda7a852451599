//! A JSON reader that keeps the position of every value, so that a problem in an ECS JSON file
//! is reported at its line and column. It builds the same spanned tree as TOML files do
//! ([`Node`], with [`Origin::At`]), so the scenario readers check JSON values as they check
//! TOML ones.
//!
//! Hostile input is bounded: nesting deeper than [`MAX_DEPTH`] is an error (no stack overflow),
//! and the whole text is read once. `null` means absent: a key whose value is `null` is dropped,
//! as are `null` array entries.

use std::sync::Arc;

use crate::scenario::read::Diagnostic;
use crate::scenario::tree::{Kind, Node, Origin};

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// Parse JSON text into a spanned tree; `file` names it in positions and messages.
pub fn parse(file: &str, src: &str) -> Result<Node, Diagnostic> {
    let mut p = Parser {
        file: Arc::from(file),
        src: src.as_bytes(),
        text: src,
        at: 0,
        line: 1,
        line_start: 0,
        col_cache: std::cell::Cell::new((0, 1)),
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.at < p.src.len() {
        return Err(p.error("unexpected text after the JSON value"));
    }
    Ok(v.unwrap_or(Node {
        kind: Kind::Table(Vec::new()),
        origin: p.origin_at(0, 1, 0),
    }))
}

struct Parser<'s> {
    file: Arc<str>,
    src: &'s [u8],
    text: &'s str,
    at: usize,
    line: usize,
    line_start: usize,
    col_cache: std::cell::Cell<(usize, usize)>,
}

impl Parser<'_> {
    /// The origin of the value at `offset`. Columns are counted from the last position asked
    /// for on the same line (values come in order), so a file on one long line costs no more
    /// than one with many.
    fn origin_at(&self, offset: usize, line: usize, line_start: usize) -> Origin {
        let (last, last_col) = self.col_cache.get();
        let (from, col) = if last >= line_start && last <= offset {
            (last, last_col)
        } else {
            (line_start, 1)
        };
        let column = col + self.text[from..offset].chars().count();
        self.col_cache.set((offset, column));
        Origin::At(self.file.clone(), line as u32, column as u32)
    }

    fn origin(&self) -> Origin {
        self.origin_at(self.at, self.line, self.line_start)
    }

    fn error(&self, message: impl Into<String>) -> Diagnostic {
        let at = self.at.min(self.src.len());
        let column = self
            .text
            .get(self.line_start..at)
            .map_or(1, |s| s.chars().count() + 1);
        Diagnostic {
            file: self.file.to_string(),
            line: self.line,
            column,
            path: String::new(),
            message: format!("JSON syntax: {}", message.into()),
            from_set: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                _ => break,
            }
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), Diagnostic> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.found())))
        }
    }

    fn found(&self) -> String {
        match self.text.get(self.at..).and_then(|s| s.chars().next()) {
            None => "the end of the file".into(),
            Some(c) => format!("{:?}", c),
        }
    }

    /// A value; `None` for `null`.
    fn value(&mut self, depth: usize) -> Result<Option<Node>, Diagnostic> {
        let origin = self.origin();
        let kind = match self.peek() {
            Some(b'{') => self.object(depth + 1)?,
            Some(b'[') => self.array(depth + 1)?,
            Some(b'"') => Kind::Str(self.string()?),
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => {
                self.literal("null", Kind::Bool(false))?;
                return Ok(None);
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error(format!("expected a value, found {}", self.found()))),
        };
        Ok(Some(Node { kind, origin }))
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Result<Kind, Diagnostic> {
        if self.src[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(kind)
        } else {
            Err(self.error(format!("expected a value, found {}", self.found())))
        }
    }

    fn deeper(&self, depth: usize) -> Result<(), Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Kind, Diagnostic> {
        self.deeper(depth)?;
        self.at += 1;
        let mut entries = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Kind::Table(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!(
                    "expected a key in double quotes, found {}",
                    self.found()
                )));
            }
            let key_origin = self.origin();
            let key_at = (self.at, self.line, self.line_start);
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                (self.at, self.line, self.line_start) = key_at;
                return Err(self.error(format!(
                    "the key {} appears twice in this object; JSON readers differ on which one counts, so ecsim does not guess: keep one",
                    crate::scenario::read::shown(&key)
                )));
            }
            self.skip_ws();
            self.expect(b':', "':' after the key")?;
            self.skip_ws();
            if let Some(v) = self.value(depth)? {
                entries.push((key, key_origin, v));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Kind::Table(entries));
                }
                _ => {
                    return Err(self.error(format!("expected ',' or '}}', found {}", self.found())));
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, Diagnostic> {
        self.deeper(depth)?;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            self.skip_ws();
            if let Some(v) = self.value(depth)? {
                items.push(v);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Kind::Array(items));
                }
                _ => return Err(self.error(format!("expected ',' or ']', found {}", self.found()))),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Diagnostic> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(d) = digits else {
            return Err(self.error("expected 4 hexadecimal digits after \\u"));
        };
        self.at += 4;
        Ok(u32::from_str_radix(d, 16).expect("hex digits"))
    }

    fn string(&mut self) -> Result<String, Diagnostic> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                None => return Err(self.error("a string is not closed (missing '\"')")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let esc = self.peek();
                    self.at += 1;
                    let c = match esc {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => {
                            self.at -= 1;
                            return Err(self.error(format!("unknown escape \\{}", self.found())));
                        }
                    };
                    out.push(c);
                }
                Some(_) => return Err(self.error("a control character (such as a line break) inside a string; write it as an escape (\\n)")),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, Diagnostic> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.src[self.at..].starts_with(b"\\u") {
                return Err(self.error(
                    "a \\u escape of a high surrogate must be followed by its low surrogate",
                ));
            }
            self.at += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.error("expected a low surrogate (\\uDC00 to \\uDFFF)"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code)
            .ok_or_else(|| self.error("a \\u escape that is not a character (a lone surrogate)"))
    }

    fn number(&mut self) -> Result<Kind, Diagnostic> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let s = p.at;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.at += 1;
            }
            p.at - s
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let int_start = self.at;
        let n = digits(self);
        if n == 0 || (n > 1 && self.src[int_start] == b'0') {
            self.at = start;
            return Err(self.error("a number needs digits and no leading zero"));
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            float = true;
            if digits(self) == 0 {
                return Err(self.error("expected digits after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("expected digits in the exponent"));
            }
        }
        let text = &self.text[start..self.at];
        if !float && let Ok(i) = text.parse::<i64>() {
            return Ok(Kind::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Kind::Float(f)),
            _ => {
                self.at = start;
                Err(self.error(format!("the number {text} is too large")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse("f.json", src).unwrap_err().to_string()
    }

    #[test]
    fn values_keep_their_line_and_column() {
        let n = parse(
            "t.json",
            "{\n  \"a\": [1, 2.5, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": null, \"c\": true\n}",
        )
        .unwrap();
        let Kind::Table(t) = &n.kind else { panic!() };
        assert_eq!(t.len(), 2, "null is absent");
        assert_eq!(t[0].0, "a");
        assert_eq!(t[0].1, Origin::At("t.json".into(), 2, 3));
        let Kind::Array(a) = &t[0].2.kind else {
            panic!()
        };
        assert!(matches!(a[0].kind, Kind::Int(1)));
        assert!(matches!(a[1].kind, Kind::Float(f) if f == 2.5));
        assert!(matches!(&a[2].kind, Kind::Str(s) if s == "xé😀"));
        assert_eq!(a[2].origin, Origin::At("t.json".into(), 2, 17));
        assert!(matches!(t[1].2.kind, Kind::Bool(true)));
    }

    #[test]
    fn malformed_json_names_file_line_and_column() {
        assert_eq!(
            err("{\n  \"a\": 1,\n  \"b\" 2\n}"),
            "f.json:3:7: JSON syntax: expected ':' after the key, found '2'"
        );
        assert_eq!(
            err("{\"a\": [1, 2}"),
            "f.json:1:12: JSON syntax: expected ',' or ']', found '}'"
        );
        assert_eq!(
            err("{\"a\": \"x"),
            "f.json:1:9: JSON syntax: a string is not closed (missing '\"')"
        );
        assert_eq!(
            err("{\"a\": 01}"),
            "f.json:1:7: JSON syntax: a number needs digits and no leading zero"
        );
        assert_eq!(
            err("{} x"),
            "f.json:1:4: JSON syntax: unexpected text after the JSON value"
        );
        assert_eq!(
            err(""),
            "f.json:1:1: JSON syntax: expected a value, found the end of the file"
        );
        assert!(err("{\"a\": 1e999}").contains("too large"));
        assert!(err("\"\\ud800\"").contains("low surrogate"));
        assert!(err("{'a': 1}").contains("expected a key in double quotes"));
        assert_eq!(
            err("{\"a\": 1,\n \"a\": 2}"),
            "f.json:2:2: JSON syntax: the key \"a\" appears twice in this object; JSON readers differ on which one counts, so ecsim does not guess: keep one"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(err(&deep).contains("nested deeper than 64 levels"));
        let ok = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(parse("f.json", &ok).is_ok());
    }
}
