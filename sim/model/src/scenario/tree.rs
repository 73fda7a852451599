//! A TOML document as a tree of values that remember where they came from, so that every
//! validation error can name a line and column; and `--set path=value` overrides applied to it.

use std::ops::Range;

use toml_edit::{Item, Value};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Byte range in the scenario file.
    File(Range<usize>),
    /// The n-th `--set` override (0-based).
    Set(usize),
    /// Byte range in another file that the values were brought in from: a sweep file's
    /// parameter values applied to its base scenario.
    Other(Range<usize>),
    /// A position in a JSON file a scenario entry names with `file = "..."` (ECS JSON), or
    /// that `ecsim import` reads: the file as given, 1-based line and column.
    At(std::sync::Arc<str>, u32, u32),
    /// Nowhere in particular (a table that the file only implies).
    Unknown,
}

/// A value with its origin.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub kind: Kind,
    /// Where it came from.
    pub origin: Origin,
}

/// TOML's value kinds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date or time, kept as written.
    Datetime(String),
    /// An array (or array of tables).
    Array(Vec<Node>),
    /// A table, keys in document order, each with the origin of the key.
    Table(Vec<(String, Origin, Node)>),
}

impl Kind {
    /// A short description for error messages: `a string ("abc")`, `an integer (-1)`, ...
    pub fn describe(&self) -> String {
        match self {
            Kind::Str(s) => format!("the string {}", crate::scenario::read::shown(s)),
            Kind::Int(i) => format!("the integer {i}"),
            Kind::Float(f) => format!("the number {f}"),
            Kind::Bool(b) => format!("the boolean {b}"),
            Kind::Datetime(d) => format!("the date-time {d}"),
            Kind::Array(_) => "an array".into(),
            Kind::Table(_) => "a table".into(),
        }
    }
}

fn origin(span: Option<Range<usize>>) -> Origin {
    span.map_or(Origin::Unknown, Origin::File)
}

fn from_value(v: &Value) -> Node {
    let kind = match v {
        Value::String(s) => Kind::Str(s.value().clone()),
        Value::Integer(i) => Kind::Int(*i.value()),
        Value::Float(f) => Kind::Float(*f.value()),
        Value::Boolean(b) => Kind::Bool(*b.value()),
        Value::Datetime(d) => Kind::Datetime(d.value().to_string()),
        Value::Array(a) => Kind::Array(a.iter().map(from_value).collect()),
        Value::InlineTable(t) => Kind::Table(
            t.iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        origin(t.key(k).and_then(|k| k.span())),
                        from_value(v),
                    )
                })
                .collect(),
        ),
    };
    Node {
        kind,
        origin: origin(v.span()),
    }
}

fn from_table(t: &toml_edit::Table) -> Node {
    let entries = t
        .iter()
        .filter_map(|(k, item)| {
            let key_origin = origin(t.key(k).and_then(|k| k.span()));
            from_item(item).map(|n| (k.to_string(), key_origin, n))
        })
        .collect();
    Node {
        kind: Kind::Table(entries),
        origin: origin(t.span()),
    }
}

fn from_item(item: &Item) -> Option<Node> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(from_value(v)),
        Item::Table(t) => Some(from_table(t)),
        Item::ArrayOfTables(a) => Some(Node {
            kind: Kind::Array(a.iter().map(from_table).collect()),
            origin: origin(a.span()),
        }),
    }
}

/// A TOML syntax error.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Byte range of the error, if known.
    pub span: Option<Range<usize>>,
    /// The parser's message.
    pub message: String,
}

/// Parse TOML text into a tree.
pub fn parse(src: &str) -> Result<Node, SyntaxError> {
    let doc = toml_edit::Document::parse(src).map_err(|e| SyntaxError {
        // The parser gives no position when a key nests too deep: point at the deepest key.
        span: e.span().or_else(|| deepest_key(src)),
        message: e.message().trim().to_string(),
    })?;
    let mut root = from_table(doc.as_table());
    root.origin = Origin::File(0..0);
    Ok(root)
}

/// Where the most deeply dotted key of a document starts (a table header or a `key = value`
/// line), if any key is dotted: the parser's recursion limit names no position.
fn deepest_key(src: &str) -> Option<Range<usize>> {
    let mut best: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let body = line.trim_start();
        let start = offset + (line.len() - body.len());
        offset += line.len();
        let key = if body.starts_with('[') {
            body.split(']').next().unwrap_or("")
        } else {
            body.split('=').next().unwrap_or("")
        };
        let depth = key.matches('.').count();
        if depth > 0 && best.is_none_or(|(d, _)| depth > d) {
            best = Some((depth, start));
        }
    }
    best.map(|(_, at)| at..at)
}

/// One step of a `--set` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.key`
    Key(String),
    /// `[n]`
    Index(usize),
}

/// Parse `clusters[0].count` into steps.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (n, part) in path.split('.').enumerate() {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if name.is_empty() && (n > 0 || rest.is_empty()) {
            return Err(format!("'{path}': empty key"));
        }
        if !name.is_empty() {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "'{path}': '{name}' is not a key (letters, digits, _ and -)"
                ));
            }
            steps.push(Step::Key(name.to_string()));
        }
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("'{path}': missing ']'"))?;
            let idx: usize = rest[1..close]
                .parse()
                .map_err(|_| format!("'{path}': '{}' is not an index", &rest[1..close]))?;
            steps.push(Step::Index(idx));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("'{path}': expected '.' or '[' after ']'"));
            }
        }
    }
    if steps.is_empty() {
        return Err("empty path".into());
    }
    Ok(steps)
}

/// Parse the value side of `--set`: any TOML value (`200`, `"a"`, `[1, 2]`, `{ a = 1 }`,
/// `true`), or else the text itself as a string (`--set name=web`).
pub fn parse_set_value(text: &str, set_index: usize) -> Node {
    let wrapped = format!("v = {text}");
    let mut node = match parse(&wrapped) {
        Ok(Node {
            kind: Kind::Table(mut t),
            ..
        }) if t.len() == 1 => t.remove(0).2,
        _ => Node {
            kind: Kind::Str(text.to_string()),
            origin: Origin::Unknown,
        },
    };
    set_origin(&mut node, set_index);
    node
}

/// Mark a value (and everything in it) as coming from override number `i`.
pub fn relabel(n: &mut Node, i: usize) {
    set_origin(n, i)
}

/// Mark every value of `n` that comes from a file as coming from another file
/// ([`Origin::Other`]): values of a sweep file applied to its base scenario.
pub fn mark_other(n: &mut Node) {
    if let Origin::File(r) = &n.origin {
        n.origin = Origin::Other(r.clone());
    }
    match &mut n.kind {
        Kind::Array(a) => a.iter_mut().for_each(mark_other),
        Kind::Table(t) => t.iter_mut().for_each(|(_, o, c)| {
            if let Origin::File(r) = o {
                *o = Origin::Other(r.clone());
            }
            mark_other(c)
        }),
        _ => {}
    }
}

fn set_origin(n: &mut Node, i: usize) {
    n.origin = Origin::Set(i);
    match &mut n.kind {
        Kind::Array(a) => a.iter_mut().for_each(|c| set_origin(c, i)),
        Kind::Table(t) => t.iter_mut().for_each(|(_, o, c)| {
            *o = Origin::Set(i);
            set_origin(c, i)
        }),
        _ => {}
    }
}

/// Apply one override. Missing tables on the way are created; array indexes must exist.
pub fn apply_set(root: &mut Node, steps: &[Step], value: Node) -> Result<(), String> {
    let mut cur = root;
    let mut walked = String::new();
    for (n, step) in steps.iter().enumerate() {
        let last = n + 1 == steps.len();
        match step {
            Step::Key(k) => {
                let what = cur.kind.describe();
                let Kind::Table(entries) = &mut cur.kind else {
                    return Err(format!(
                        "'{walked}' is {what}, not a table, so it has no key '{k}'"
                    ));
                };
                let pos = match entries.iter().position(|(name, _, _)| name == k) {
                    Some(p) => p,
                    None => {
                        let origin = value.origin.clone();
                        entries.push((
                            k.clone(),
                            origin.clone(),
                            Node {
                                kind: Kind::Table(Vec::new()),
                                origin,
                            },
                        ));
                        entries.len() - 1
                    }
                };
                if walked.is_empty() {
                    walked = k.clone();
                } else {
                    walked = format!("{walked}.{k}");
                }
                if last {
                    entries[pos].2 = value;
                    return Ok(());
                }
                cur = &mut entries[pos].2;
            }
            Step::Index(i) => {
                let what = cur.kind.describe();
                let Kind::Array(items) = &mut cur.kind else {
                    return Err(format!(
                        "'{walked}' is {what}, not an array, so it has no index [{i}]"
                    ));
                };
                let len = items.len();
                let Some(item) = items.get_mut(*i) else {
                    return Err(format!(
                        "'{walked}' has {len} entries, so [{i}] does not exist"
                    ));
                };
                walked = format!("{walked}[{i}]");
                if last {
                    *item = value;
                    return Ok(());
                }
                cur = item;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_overrides() {
        assert_eq!(
            parse_path("clusters[0].count").unwrap(),
            vec![
                Step::Key("clusters".into()),
                Step::Index(0),
                Step::Key("count".into())
            ]
        );
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a[x]").is_err());
        let mut root = parse("[[clusters]]\ncount = 10\n").unwrap();
        apply_set(
            &mut root,
            &parse_path("clusters[0].count").unwrap(),
            parse_set_value("200", 0),
        )
        .unwrap();
        apply_set(
            &mut root,
            &parse_path("simulation.duration").unwrap(),
            parse_set_value("2h", 1),
        )
        .unwrap();
        let Kind::Table(t) = &root.kind else { panic!() };
        let Kind::Array(cl) = &t[0].2.kind else {
            panic!()
        };
        let Kind::Table(c0) = &cl[0].kind else {
            panic!()
        };
        assert!(matches!(c0[0].2.kind, Kind::Int(200)));
        assert!(
            matches!(&t[1].2.kind, Kind::Table(s) if matches!(&s[0].2.kind, Kind::Str(d) if d == "2h"))
        );
        let err = apply_set(
            &mut root,
            &parse_path("clusters[3].count").unwrap(),
            parse_set_value("1", 2),
        )
        .unwrap_err();
        assert!(err.contains("has 1 entries"), "{err}");
    }
}
