//! Reading a spanned tree into validated values while collecting every problem.
//!
//! Each reader takes the node and its path (`services[2].desired_count`), returns `None` after
//! recording a [`Diagnostic`] when the value is wrong, and never stops at the first error.

use std::fmt;

use crate::scenario::tree::{self, Kind, Node, Origin};

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
    /// The other file that values with [`Origin::Other`] come from (a sweep file), with its
    /// source and line starts.
    other: Option<(&'a str, &'a str, Vec<usize>)>,
    /// Everything found wrong so far.
    pub diags: Vec<Diagnostic>,
    /// Names declared by entries of a list that could not be read (what, name): a reference
    /// to one of them is not reported again, since the entry's own problem already was.
    pub(super) unreadable: Vec<(&'static str, String)>,
    /// Warnings so far (ECS JSON fields not modelled, ...): they do not stop a run.
    pub warnings: Vec<Diagnostic>,
}

impl<'a> Cx<'a> {
    /// Read a file the scenario names (`file`, given at `origin` for field `path`) with the
    /// caller's reader, or record why not. `what` names the kind of file in messages; the file
    /// name and the reader's error are shown with control characters escaped. A leading
    /// byte-order mark is dropped.
    pub(crate) fn read_named(
        &mut self,
        read_file: Option<crate::scenario::FileReader<'_>>,
        origin: &Origin,
        path: &str,
        what: &str,
        file: &str,
    ) -> Option<String> {
        let Some(read) = read_file else {
            self.error(
                origin,
                path,
                format!("{what}s can only be read when the scenario is loaded from a file"),
            );
            return None;
        };
        match read(file) {
            // A byte-order mark (files saved by some Windows tools) is not part of the text.
            Ok(mut text) => {
                if text.starts_with('\u{feff}') {
                    text.drain(..'\u{feff}'.len_utf8());
                }
                Some(text)
            }
            Err(e) => {
                let why = format!(
                    "cannot read {what} {}: {}",
                    shown(file),
                    escape_controls(&e)
                );
                self.error(origin, path, why);
                None
            }
        }
    }

    /// Record every problem a reader found in a file the scenario names (`file`, given at
    /// `origin` for field `path`), each as `FILE:LINE:COLUMN: message`, control characters
    /// escaped.
    pub(crate) fn file_problems<L: std::fmt::Display, C: std::fmt::Display>(
        &mut self,
        origin: &Origin,
        path: &str,
        file: &str,
        problems: impl IntoIterator<Item = (L, C, String)>,
    ) {
        for (line, col, msg) in problems {
            let at = format!(
                "{}:{line}:{col}: {}",
                escape_controls(file),
                escape_controls(&msg)
            );
            self.error(origin, path, at);
        }
    }

    /// A context for one file and its overrides.
    pub fn new(file: &'a str, src: &'a str, sets: &'a [String]) -> Cx<'a> {
        Cx {
            file,
            src,
            sets,
            line_starts: line_starts(src),
            other: None,
            unreadable: Vec::new(),
            diags: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Name the file (and its text) that values with [`Origin::Other`] come from.
    pub fn with_other(mut self, file: &'a str, src: &'a str) -> Cx<'a> {
        self.other = Some((file, src, line_starts(src)));
        self
    }

    /// Parse the source into the spanned tree. On a TOML syntax error, the error (with its
    /// position) is the only diagnostic, and every diagnostic so far is returned.
    pub fn parse_source(&mut self) -> Result<Node, Vec<Diagnostic>> {
        tree::parse(self.src).map_err(|e| {
            let origin = e.span.map_or(Origin::Unknown, Origin::File);
            self.error(&origin, "", format!("TOML syntax: {}", e.message));
            std::mem::take(&mut self.diags)
        })
    }

    /// Line and column (1-based) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        position_in(self.src, &self.line_starts, offset)
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
        let mut file: &str = self.file;
        let (line, column, from_set) = match origin {
            Origin::File(r) => {
                let (l, c) = self.position(r.start);
                (l, c + extra, None)
            }
            Origin::Other(r) => match &self.other {
                Some((f, src, starts)) => {
                    file = f;
                    let (l, c) = position_in(src, starts, r.start);
                    (l, c + extra, None)
                }
                None => (0, 0, None),
            },
            Origin::Set(i) => (0, 0, self.sets.get(*i).map(|s| escape_controls(s))),
            Origin::At(f, l, c) => {
                file = f;
                (*l as usize, *c as usize + extra, None)
            }
            Origin::Unknown => (0, 0, None),
        };
        // Paths and messages quote what the file says: never let it reach a terminal raw (a
        // message may have several lines, as the TOML parser's do).
        self.diags.push(Diagnostic {
            file: file.to_string(),
            line,
            column,
            path: escape_controls(path),
            message: message
                .into()
                .split('\n')
                .map(escape_controls)
                .collect::<Vec<_>>()
                .join("\n"),
            from_set,
        });
    }

    /// A name that reaches file names, CSV cells, charts and the terminal, checked against
    /// `rule` (see [`NameRule`]); the error says the rule and shows the value escaped.
    pub fn name(&mut self, n: &Node, path: &str, rule: NameRule) -> Option<String> {
        let s = self.string(n, path)?;
        match rule.check(&s) {
            Ok(()) => Some(s),
            Err(why) => {
                self.error(&n.origin, path, format!("got {}; {why}", shown(&s)));
                None
            }
        }
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

    /// One of a fixed set of names, each standing for a value: the allowed names and the error
    /// listing them come from the one table, e.g. `&[("random", TieBreak::Random), ...]`.
    pub fn choice<T: Clone>(&mut self, n: &Node, path: &str, choices: &[(&str, T)]) -> Option<T> {
        let names: Vec<&str> = choices.iter().map(|c| c.0).collect();
        self.one_of(n, path, &names).map(|i| choices[i].1.clone())
    }

    /// An array of tables (`[[key]]` or `[{ ... }, ...]`): entry `i` is read as the table
    /// `path[i]` by `read`, which finishes it. Every entry is read, even after a bad one. `None`
    /// if the value is not an array; else the values read and whether every entry was good.
    pub fn tables<'n, T>(
        &mut self,
        n: &'n Node,
        path: &str,
        mut read: impl FnMut(&mut Cx<'a>, Tbl<'n>, usize) -> Option<T>,
    ) -> Option<(Vec<T>, bool)> {
        let items = self.array(n, path)?;
        let mut out = Vec::new();
        let mut all = true;
        for (i, item) in items.iter().enumerate() {
            let value = match self.table(item, &format!("{path}[{i}]")) {
                Some(t) => read(self, t, i),
                None => None,
            };
            match value {
                Some(v) => out.push(v),
                None => all = false,
            }
        }
        Some((out, all))
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

/// The rule a user-given name follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// ECS's own rule for cluster, service, task definition family, container and capacity
    /// provider names: up to 255 letters, digits, hyphens and underscores (ECS-API
    /// CreateCluster, CreateService, RegisterTaskDefinition, CreateCapacityProvider). Jobs and
    /// variants, which have no ECS counterpart, follow it too.
    Ecs,
    /// An EC2 instance type such as `m5.large`: letters, digits, hyphens, underscores and dots,
    /// up to 255, not starting with a dot.
    InstanceType,
    /// A scenario or sweep name, which names the output folder: as [`NameRule::InstanceType`].
    Folder,
    /// CloudWatch alarm and Application Auto Scaling policy names, and sweep labels: AWS allows
    /// any printable characters here (up to 255); printable ASCII only, and not starting with
    /// `=`, `+` or `@`, which a spreadsheet would read as a formula.
    Printable,
}

/// The longest name any rule allows.
pub const MAX_NAME_CHARS: usize = 255;

impl NameRule {
    /// `Ok` if `s` follows the rule, else the rule in words.
    pub fn check(self, s: &str) -> Result<(), String> {
        let count = s.chars().count();
        let ok = count <= MAX_NAME_CHARS
            && match self {
                NameRule::Ecs => s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                NameRule::InstanceType | NameRule::Folder => {
                    !s.starts_with('.')
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                }
                NameRule::Printable => {
                    !s.starts_with(['=', '+', '@'])
                        && s.chars().all(|c| c == ' ' || c.is_ascii_graphic())
                }
            };
        if ok {
            return Ok(());
        }
        let too_long = if count > MAX_NAME_CHARS {
            format!(" (this one has {count})")
        } else {
            String::new()
        };
        Err(match self {
            NameRule::Ecs => format!(
                "a name uses only letters, digits, hyphens (-) and underscores (_), at most 255 characters{too_long}, as ECS requires"
            ),
            NameRule::InstanceType => format!(
                "an instance type name uses only letters, digits, '-', '_' and '.', does not start with '.', at most 255 characters{too_long}"
            ),
            NameRule::Folder => format!(
                "a name uses letters, digits, '-', '_' and '.', does not start with '.', at most 255 characters{too_long} (it names the output folder)"
            ),
            NameRule::Printable => format!(
                "a name uses printable ASCII characters (letters, digits, spaces, punctuation), does not start with '=', '+' or '@', at most 255 characters{too_long}"
            ),
        })
    }
}

/// A user's string for a message: quoted, control and invisible characters escaped, cut after
/// 80 characters.
pub fn shown(s: &str) -> String {
    const MAX: usize = 80;
    let count = s.chars().count();
    let cut: String = s.chars().take(MAX).collect();
    let mut out = format!("\"{}\"", escape_controls(&cut));
    if count > MAX {
        out.push_str(&format!("... ({count} characters)"));
    }
    out
}

/// `s` with control and invisible characters (ESC, NUL, newlines, bidirectional overrides, ...)
/// written as Rust escapes, so that a message cannot move the cursor or hide text.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn line_starts(src: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

fn position_in(src: &str, line_starts: &[usize], offset: usize) -> (usize, usize) {
    let line = line_starts.partition_point(|&s| s <= offset).max(1);
    let start = line_starts[line - 1];
    let col = src
        .get(start..offset.min(src.len()))
        .map_or(1, |s| s.chars().count() + 1);
    (line, col)
}

/// Read a whole TOML document (a sweep, a pricing table, a variants file) with `read`: the parse
/// preamble, then the reader; the value only if nothing at all was found wrong.
pub fn read_document<T>(
    file: &str,
    src: &str,
    read: impl FnOnce(&mut Cx<'_>, &Node) -> Option<T>,
) -> Result<T, Vec<Diagnostic>> {
    let mut cx = Cx::new(file, src, &[]);
    let root = cx.parse_source()?;
    match read(&mut cx, &root) {
        Some(v) if cx.diags.is_empty() => Ok(v),
        _ => Err(cx.diags),
    }
}

/// The values of an optional array of tables read with [`Tbl::tables`]; clears `ok` if an
/// entry was bad.
pub fn entries<T>(read: Option<(Vec<T>, bool)>, ok: &mut bool) -> Vec<T> {
    match read {
        Some((values, all)) => {
            *ok &= all;
            values
        }
        None => Vec::new(),
    }
}

/// An array of strings, read up to the first entry that is not one (only that entry is
/// reported); `None` then.
pub(crate) fn string_array(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<String>> {
    let items = cx.array(n, p)?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| cx.string(x, &format!("{p}[{i}]")))
        .collect()
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

    /// The node at `key`, if present, without marking it read.
    pub fn peek(&self, key: &str) -> Option<&'n Node> {
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

    /// Read an optional array of tables at `key` with [`Cx::tables`].
    pub fn tables<T>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        read: impl FnMut(&mut Cx<'_>, Tbl<'n>, usize) -> Option<T>,
    ) -> Option<(Vec<T>, bool)> {
        self.opt(cx, key, |cx, n, p| cx.tables(n, p, read))
    }

    /// Report that both `a` and `b` are given where only one may be (at `b`); marks both read.
    pub(crate) fn conflict(&mut self, cx: &mut Cx<'_>, a: &'static str, b: &'static str) {
        let _ = (self.get(a), self.get(b));
        cx.error(
            &self.origin,
            &self.child(b),
            format!("give {a} or {b}, not both"),
        );
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

/// The allowed name closest to a misspelt one, if any is close (for "did you mean").
pub fn closest_name<'s>(given: &str, allowed: &[&'s str]) -> Option<&'s str> {
    closest(given, allowed)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(cx: &Cx<'_>) -> Vec<String> {
        cx.diags.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn a_syntax_error_is_the_only_diagnostic_with_its_position() {
        let src = "a = 1\nb = \n";
        let mut cx = Cx::new("x.toml", src, &[]);
        let diags = cx.parse_source().unwrap_err();
        assert_eq!(diags.len(), 1, "{diags:?}");
        let text = diags[0].to_string();
        assert!(text.starts_with("x.toml:2:"), "{text}");
        assert!(text.contains(": TOML syntax: "), "{text}");
        assert!(cx.diags.is_empty(), "the diagnostics are handed over");

        let err = read_document("y.toml", "[a\n", |_, _| Some(())).unwrap_err();
        assert!(err[0].to_string().starts_with("y.toml:1:"), "{err:?}");
        assert!(err[0].message.starts_with("TOML syntax: "), "{err:?}");
    }

    #[test]
    fn a_document_is_returned_only_without_problems() {
        let ok = read_document("d.toml", "n = 3\n", |cx, root| {
            let mut t = cx.table(root, "")?;
            let n = t.req(cx, "n", "a number", |cx, n, p| cx.int(n, p, 0, 9));
            t.finish(cx);
            n
        });
        assert_eq!(ok.unwrap(), 3);
        let err = read_document("d.toml", "n = 3\nm = 1\n", |cx, root| {
            let mut t = cx.table(root, "")?;
            let n = t.req(cx, "n", "a number", |cx, n, p| cx.int(n, p, 0, 9));
            t.finish(cx);
            n
        })
        .unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "d.toml:2:1: m: unknown field \"m\" (did you mean \"n\"?); allowed here: n"
        );
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Tie {
        Random,
        Lowest,
    }
    const TIES: &[(&str, Tie)] = &[("random", Tie::Random), ("lowest_index", Tie::Lowest)];

    #[test]
    fn a_choice_returns_its_value_or_lists_what_is_allowed() {
        let src = "a = \"lowest_index\"\nb = \"lowest\"\nc = 3\n";
        let root = tree::parse(src).unwrap();
        let mut cx = Cx::new("c.toml", src, &[]);
        let mut t = cx.table(&root, "").unwrap();
        assert_eq!(
            t.opt(&mut cx, "a", |cx, n, p| cx.choice(n, p, TIES)),
            Some(Tie::Lowest)
        );
        assert_eq!(t.opt(&mut cx, "b", |cx, n, p| cx.choice(n, p, TIES)), None);
        assert_eq!(t.opt(&mut cx, "c", |cx, n, p| cx.choice(n, p, TIES)), None);
        assert_eq!(
            messages(&cx),
            [
                "c.toml:2:5: b: got the string \"lowest\"; expected one of \"random\" or \"lowest_index\"",
                "c.toml:3:5: c: got the integer 3; expected one of \"random\" or \"lowest_index\"",
            ]
        );
    }

    #[test]
    fn an_array_of_tables_reads_every_entry() {
        let src = "x = 1\n[[item]]\nn = 1\n[[item]]\nn = 99\n[[item]]\nn = 3\nzz = 0\n";
        let root = tree::parse(src).unwrap();
        let mut cx = Cx::new("t.toml", src, &[]);
        let mut t = cx.table(&root, "").unwrap();
        let read = |cx: &mut Cx<'_>, mut e: Tbl<'_>, i: usize| {
            let n = e.req(cx, "n", "a number", |cx, n, p| cx.int(n, p, 0, 9));
            e.finish(cx);
            n.map(|n| (i, n))
        };
        let (values, all) = t.tables(&mut cx, "item", read).unwrap();
        assert_eq!(values, [(0, 1), (2, 3)]);
        assert!(!all, "entry 1 is out of range");
        assert!(t.tables(&mut cx, "x", read).is_none(), "not an array");
        assert!(t.tables(&mut cx, "absent", read).is_none());
        assert_eq!(
            messages(&cx),
            [
                "t.toml:5:5: item[1].n: got the integer 99; expected an integer from 0 to 9",
                "t.toml:8:1: item[2].zz: unknown field \"zz\" (did you mean \"n\"?); allowed here: n",
                "t.toml:1:5: x: got the integer 1; expected an array",
            ]
        );

        let src = "item = [{ n = 1 }, 2]\n";
        let root = tree::parse(src).unwrap();
        let mut cx = Cx::new("t.toml", src, &[]);
        assert!(
            cx.tables(&root, "", |cx, t, i| read(cx, t, i)).is_none(),
            "the root is a table, not an array"
        );
        let mut t = cx.table(&root, "").unwrap();
        let (values, all) = t.tables(&mut cx, "item", read).unwrap();
        assert_eq!((values, all), (vec![(0, 1)], false));
        assert_eq!(
            messages(&cx).last().unwrap(),
            "t.toml:1:20: item[1]: got the integer 2; expected a table"
        );
    }
}
