//! Reading a spanned tree into validated values while collecting every problem.
//!
//! Each reader takes the node and its path (`services[2].desired_count`), returns `None` after
//! recording a [`Diagnostic`] when the value is wrong, and never stops at the first error.

use std::fmt;

use crate::scenario::tree::{Kind, Node, Origin};

/// One problem in a scenario, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scenario file as given.
    pub file: String,
    /// 1-based line (0 when the value came from `--set`).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field path, such as `services[2].desired_count`.
    pub path: String,
    /// What was given and what is allowed.
    pub message: String,
    /// The `--set` override the value came from, as typed.
    pub from_set: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.path)
        };
        match &self.from_set {
            Some(set) => write!(f, "{} (--set {set}): {path}{}", self.file, self.message),
            None => write!(
                f,
                "{}:{}:{}: {path}{}",
                self.file, self.line, self.column, self.message
            ),
        }
    }
}

/// The reading context: the source for positions, and the problems found so far.
pub struct Cx<'a> {
    file: &'a str,
    src: &'a str,
    sets: &'a [String],
    line_starts: Vec<usize>,
    /// Everything found wrong so far.
    pub diags: Vec<Diagnostic>,
}

impl<'a> Cx<'a> {
    /// A context for one file and its overrides.
    pub fn new(file: &'a str, src: &'a str, sets: &'a [String]) -> Cx<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Cx {
            file,
            src,
            sets,
            line_starts,
            diags: Vec::new(),
        }
    }

    /// Line and column (1-based) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let col = self
            .src
            .get(start..offset.min(self.src.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// Record a problem at an origin.
    pub fn error(&mut self, origin: &Origin, path: &str, message: impl Into<String>) {
        self.error_at(origin, 0, path, message)
    }

    /// Record a problem `extra` characters into the value at an origin (for errors inside a string).
    pub fn error_at(
        &mut self,
        origin: &Origin,
        extra: usize,
        path: &str,
        message: impl Into<String>,
    ) {
        let (line, column, from_set) = match origin {
            Origin::File(r) => {
                let (l, c) = self.position(r.start);
                (l, c + extra, None)
            }
            Origin::Set(i) => (0, 0, self.sets.get(*i).cloned()),
            Origin::Unknown => (0, 0, None),
        };
        self.diags.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            path: path.to_string(),
            message: message.into(),
            from_set,
        });
    }

    fn wrong(&mut self, n: &Node, path: &str, expected: &str) {
        let msg = format!("got {}; expected {expected}", n.kind.describe());
        self.error(&n.origin, path, msg);
    }

    /// A table.
    pub fn table<'n>(&mut self, n: &'n Node, path: &str) -> Option<Tbl<'n>> {
        match &n.kind {
            Kind::Table(entries) => Some(Tbl {
                entries,
                path: path.to_string(),
                origin: n.origin.clone(),
                seen: Vec::new(),
            }),
            _ => {
                self.wrong(n, path, "a table");
                None
            }
        }
    }

    /// An array.
    pub fn array<'n>(&mut self, n: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &n.kind {
            Kind::Array(items) => Some(items),
            _ => {
                self.wrong(n, path, "an array");
                None
            }
        }
    }

    /// A non-empty string.
    pub fn string(&mut self, n: &Node, path: &str) -> Option<String> {
        match &n.kind {
            Kind::Str(s) if !s.is_empty() => Some(s.clone()),
            _ => {
                self.wrong(n, path, "a non-empty string");
                None
            }
        }
    }

    /// An integer in `[min, max]`.
    pub fn int(&mut self, n: &Node, path: &str, min: i64, max: i64) -> Option<i64> {
        match n.kind {
            Kind::Int(i) if (min..=max).contains(&i) => Some(i),
            _ => {
                self.wrong(n, path, &format!("an integer from {min} to {max}"));
                None
            }
        }
    }

    /// A `u32` in `[min, max]`.
    pub fn u32(&mut self, n: &Node, path: &str, min: u32, max: u32) -> Option<u32> {
        self.int(n, path, i64::from(min), i64::from(max))
            .map(|v| v as u32)
    }

    /// A number (integer or float) in `[min, max]`.
    pub fn number(&mut self, n: &Node, path: &str, min: f64, max: f64) -> Option<f64> {
        let v = match n.kind {
            Kind::Int(i) => Some(i as f64),
            Kind::Float(f) if f.is_finite() => Some(f),
            _ => None,
        };
        match v {
            Some(v) if v >= min && v <= max => Some(v),
            _ => {
                self.wrong(n, path, &format!("a number from {min} to {max}"));
                None
            }
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, n: &Node, path: &str) -> Option<bool> {
        match n.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.wrong(n, path, "true or false");
                None
            }
        }
    }

    /// A duration string such as `"90s"`, `"15m"`, `"24h"`.
    pub fn duration(&mut self, n: &Node, path: &str) -> Option<u64> {
        match &n.kind {
            Kind::Str(s) => match ecsim_engine::parse_duration_ms(s) {
                Ok(ms) => Some(ms),
                Err(e) => {
                    self.error(&n.origin, path, e.0);
                    None
                }
            },
            _ => {
                self.wrong(
                    n,
                    path,
                    "a duration string such as \"90s\", \"15m\" or \"24h\"",
                );
                None
            }
        }
    }

    /// One of a fixed set of strings; returns its index.
    pub fn one_of(&mut self, n: &Node, path: &str, allowed: &[&str]) -> Option<usize> {
        if let Kind::Str(s) = &n.kind
            && let Some(i) = allowed.iter().position(|a| a == s)
        {
            return Some(i);
        }
        self.wrong(n, path, &format!("one of {}", quote_list(allowed)));
        None
    }
}

/// `"a", "b" or "c"`.
pub fn quote_list(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// A table being read: remembers which keys were asked for, so that the rest can be reported
/// as unknown.
pub struct Tbl<'n> {
    entries: &'n [(String, Origin, Node)],
    /// The table's path.
    pub path: String,
    /// Where the table is.
    pub origin: Origin,
    seen: Vec<&'static str>,
}

impl<'n> Tbl<'n> {
    /// The path of a key in this table.
    pub fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The node at `key`, if present.
    pub fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.seen.push(key);
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, n)| n)
    }

    /// Whether `key` is present (does not mark it read).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| k == key)
    }

    /// Read an optional key with `f`.
    pub fn opt<T>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        f: impl FnOnce(&mut Cx<'_>, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        let path = self.child(key);
        self.get(key).and_then(|n| f(cx, n, &path))
    }

    /// Read a required key with `f`; reports it missing if absent.
    pub fn req<T>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        what: &str,
        f: impl FnOnce(&mut Cx<'_>, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        let path = self.child(key);
        match self.get(key) {
            Some(n) => f(cx, n, &path),
            None => {
                let origin = self.origin.clone();
                cx.error(&origin, &path, format!("missing; expected {what}"));
                None
            }
        }
    }

    /// Report every key that was not asked for.
    pub fn finish(self, cx: &mut Cx<'_>) {
        for (k, origin, _) in self.entries {
            if !self.seen.contains(&k.as_str()) {
                let mut allowed: Vec<&str> = self.seen.clone();
                allowed.sort_unstable();
                allowed.dedup();
                let msg = match closest(k, &allowed) {
                    Some(s) => format!(
                        "unknown field \"{k}\" (did you mean \"{s}\"?); allowed here: {}",
                        allowed.join(", ")
                    ),
                    None => format!(
                        "unknown field \"{k}\"; allowed here: {}",
                        allowed.join(", ")
                    ),
                };
                cx.error(origin, &self.child(k), msg);
            }
        }
    }
}

/// The allowed name closest to a misspelt one, if any is close.
fn closest<'s>(given: &str, allowed: &[&'s str]) -> Option<&'s str> {
    fn lev(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    allowed
        .iter()
        .map(|a| (lev(given, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min()
        .map(|(_, a)| a)
}
