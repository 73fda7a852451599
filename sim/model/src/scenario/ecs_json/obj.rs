//! Reading ECS JSON objects: keys in camelCase (the ECS API) or PascalCase (CloudFormation,
//! Application Auto Scaling) alike, every key accounted for (read, ignored, or warned about),
//! and the scenario values built with the JSON value's position.

use crate::scenario::read::Diagnostic;
use crate::scenario::tree::{Kind, Node, Origin};

/// Warnings found while mapping ECS JSON, in file order.
#[derive(Debug, Default)]
pub struct Notes {
    /// The warnings: fields that would change a simulation but are not modelled, template
    /// expressions, unknown fields.
    pub warnings: Vec<Diagnostic>,
    /// Errors: values that cannot be mapped at all.
    pub errors: Vec<Diagnostic>,
}

/// A diagnostic at a JSON origin.
pub fn diag(origin: &Origin, path: &str, message: impl Into<String>) -> Diagnostic {
    let (file, line, column) = match origin {
        Origin::At(f, l, c) => (f.to_string(), *l as usize, *c as usize),
        _ => (String::new(), 0, 0),
    };
    Diagnostic {
        file,
        line,
        column,
        path: crate::scenario::read::escape_controls(path),
        message: message.into(),
        from_set: None,
    }
}

impl Notes {
    /// Record a warning.
    pub fn warn(&mut self, origin: &Origin, path: &str, message: impl Into<String>) {
        self.warnings.push(diag(origin, path, message));
    }
    /// Record an error.
    pub fn error(&mut self, origin: &Origin, path: &str, message: impl Into<String>) {
        self.errors.push(diag(origin, path, message));
    }
}

/// `name` with its first letter lower case: the ECS API's spelling of a CloudFormation key.
pub fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A JSON object being mapped.
pub struct Obj<'n> {
    entries: &'n [(String, Origin, Node)],
    /// Where the object is.
    pub origin: Origin,
    /// Its path in the JSON file (`containerDefinitions[0]`).
    pub path: String,
    seen: Vec<usize>,
}

impl<'n> Obj<'n> {
    /// The object `n`, or `None` (with an error) if it is not one.
    pub fn new(n: &'n Node, path: &str, notes: &mut Notes) -> Option<Obj<'n>> {
        match &n.kind {
            Kind::Table(entries) => Some(Obj {
                entries,
                origin: n.origin.clone(),
                path: path.to_string(),
                seen: Vec::new(),
            }),
            other => {
                notes.error(
                    &n.origin,
                    path,
                    format!("got {}; expected an object", other.describe()),
                );
                None
            }
        }
    }

    /// The path of a key.
    pub fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _, _)| k == name || camel(k) == name)
    }

    /// Whether `name` (camelCase) is present.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The value of `name` (camelCase, or the same in PascalCase), with its key as written.
    pub fn get(&mut self, name: &str) -> Option<(&'n str, &'n Node)> {
        let i = self.find(name)?;
        self.seen.push(i);
        let (k, _, n) = &self.entries[i];
        Some((k.as_str(), n))
    }

    /// Accept these keys without reading them (they do not affect a simulation).
    pub fn ignore(&mut self, names: &[&str]) {
        for n in names {
            let _ = self.get(n);
        }
    }

    /// Warn about `name` if present: it would change the simulation but is not modelled.
    pub fn unmodelled(&mut self, name: &str, why: &str, notes: &mut Notes) {
        if let Some((k, n)) = self.get(name) {
            notes.warn(
                &n.origin,
                &self.child(k),
                format!("not modelled, ignored: {why}"),
            );
        }
    }

    /// Warn about every key not read, ignored or warned about: not an ECS field ecsim knows.
    pub fn finish(self, notes: &mut Notes) {
        for (i, (k, o, _)) in self.entries.iter().enumerate() {
            if !self.seen.contains(&i) {
                notes.warn(
                    o,
                    &self.child(k),
                    format!("unknown field {}, ignored (not a field of this ECS object that ecsim knows; check its spelling)", crate::scenario::read::shown(k)),
                );
            }
        }
    }

    /// A string field; `None` with a warning for a template expression (`{{ env ... }}`),
    /// with an error for a value that is not a string.
    pub fn string(&mut self, name: &str, notes: &mut Notes) -> Option<(String, Origin)> {
        let (k, n) = self.get(name)?;
        let path = self.child(k);
        string_value(n, &path, notes)
    }

    /// An integer field (a number with no fraction, or a string of digits).
    pub fn int(&mut self, name: &str, notes: &mut Notes) -> Option<(i64, Origin)> {
        let (k, n) = self.get(name)?;
        let path = self.child(k);
        int_value(n, &path, notes)
    }

    /// A number field.
    pub fn number(&mut self, name: &str, notes: &mut Notes) -> Option<(f64, Origin)> {
        let (k, n) = self.get(name)?;
        let path = self.child(k);
        match &n.kind {
            Kind::Int(i) => Some((*i as f64, n.origin.clone())),
            Kind::Float(f) => Some((*f, n.origin.clone())),
            Kind::Str(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                Some((s.trim().parse().expect("checked"), n.origin.clone()))
            }
            other => {
                notes.error(
                    &n.origin,
                    &path,
                    format!("got {}; expected a number", other.describe()),
                );
                None
            }
        }
    }

    /// A boolean field.
    pub fn boolean(&mut self, name: &str, notes: &mut Notes) -> Option<(bool, Origin)> {
        let (k, n) = self.get(name)?;
        match &n.kind {
            Kind::Bool(b) => Some((*b, n.origin.clone())),
            Kind::Str(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                Some((s.eq_ignore_ascii_case("true"), n.origin.clone()))
            }
            other => {
                let path = self.child(k);
                notes.error(
                    &n.origin,
                    &path,
                    format!("got {}; expected true or false", other.describe()),
                );
                None
            }
        }
    }

    /// An array field's items, with its path.
    pub fn array(&mut self, name: &str, notes: &mut Notes) -> Option<(String, &'n [Node])> {
        let (k, n) = self.get(name)?;
        let path = self.child(k);
        match &n.kind {
            Kind::Array(items) => Some((path, items)),
            other => {
                notes.error(
                    &n.origin,
                    &path,
                    format!("got {}; expected an array", other.describe()),
                );
                None
            }
        }
    }

    /// An object field.
    pub fn object(&mut self, name: &str, notes: &mut Notes) -> Option<Obj<'n>> {
        let (k, n) = self.get(name)?;
        let path = self.child(k);
        Obj::new(n, &path, notes)
    }
}

/// Whether a string holds a template expression (ecspresso, Go templates: `{{ env "X" }}`).
pub fn is_template(s: &str) -> bool {
    s.contains("{{") && s.contains("}}")
}

/// A string value (see [`Obj::string`]).
pub fn string_value(n: &Node, path: &str, notes: &mut Notes) -> Option<(String, Origin)> {
    match &n.kind {
        Kind::Str(s) if is_template(s) => {
            notes.warn(&n.origin, path, format!("{} is a template expression (ecspresso or another tool fills it in before calling ECS): left out; render the file first (e.g. `ecspresso render`) or give the value in the scenario", crate::scenario::read::shown(s)));
            None
        }
        Kind::Str(s) => Some((s.clone(), n.origin.clone())),
        other => {
            notes.error(
                &n.origin,
                path,
                format!("got {}; expected a string", other.describe()),
            );
            None
        }
    }
}

/// An integer value: a number with no fraction, or a string of digits (ECS accepts both for
/// task sizes, and CloudFormation writes numbers as strings).
pub fn int_value(n: &Node, path: &str, notes: &mut Notes) -> Option<(i64, Origin)> {
    match &n.kind {
        Kind::Int(i) => Some((*i, n.origin.clone())),
        Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some((*f as i64, n.origin.clone())),
        Kind::Str(s) if is_template(s) => {
            string_value(n, path, notes);
            None
        }
        Kind::Str(s) if s.trim().parse::<i64>().is_ok() => {
            Some((s.trim().parse().expect("checked"), n.origin.clone()))
        }
        other => {
            notes.error(
                &n.origin,
                path,
                format!("got {}; expected an integer", other.describe()),
            );
            None
        }
    }
}

/// Building scenario values: a table under construction.
#[derive(Default)]
pub struct Out {
    entries: Vec<(String, Origin, Node)>,
}

impl Out {
    /// Set `key` to `kind` (from `origin`).
    pub fn set(&mut self, key: &str, kind: Kind, origin: &Origin) {
        self.entries.retain(|(k, _, _)| k != key);
        self.entries.push((
            key.to_string(),
            origin.clone(),
            Node {
                kind,
                origin: origin.clone(),
            },
        ));
    }
    /// Set `key` to a node.
    pub fn put(&mut self, key: &str, node: Node) {
        self.entries.retain(|(k, _, _)| k != key);
        self.entries
            .push((key.to_string(), node.origin.clone(), node));
    }
    /// A string.
    pub fn str(&mut self, key: &str, v: Option<(String, Origin)>) {
        if let Some((s, o)) = v {
            self.set(key, Kind::Str(s), &o);
        }
    }
    /// An integer.
    pub fn int(&mut self, key: &str, v: Option<(i64, Origin)>) {
        if let Some((i, o)) = v {
            self.set(key, Kind::Int(i), &o);
        }
    }
    /// Seconds as a duration string.
    pub fn seconds(&mut self, key: &str, v: Option<(i64, Origin)>) {
        if let Some((i, o)) = v {
            self.set(key, Kind::Str(format!("{i}s")), &o);
        }
    }
    /// Whether nothing was set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The table.
    pub fn node(self, origin: &Origin) -> Node {
        Node {
            kind: Kind::Table(self.entries),
            origin: origin.clone(),
        }
    }
}

/// An array node.
pub fn array(items: Vec<Node>, origin: &Origin) -> Node {
    Node {
        kind: Kind::Array(items),
        origin: origin.clone(),
    }
}

/// The last part of an ARN or a name (`arn:aws:ecs:...:cluster/web` and `web` both give `web`);
/// for a task definition, without its revision (`family:3`).
pub fn short_name(s: &str, strip_revision: bool) -> String {
    let last = s.rsplit('/').next().unwrap_or(s);
    let last = if s.starts_with("arn:") && !s.contains('/') {
        s.rsplit(':').next().unwrap_or(s)
    } else {
        last
    };
    if strip_revision
        && let Some((f, rev)) = last.rsplit_once(':')
        && rev.chars().all(|c| c.is_ascii_digit())
    {
        return f.to_string();
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_arns_and_keys_from_pascal_case() {
        assert_eq!(
            short_name(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
                true
            ),
            "web"
        );
        assert_eq!(short_name("web:12", true), "web");
        assert_eq!(short_name("web", true), "web");
        assert_eq!(
            short_name("arn:aws:ecs:us-east-1:123456789012:cluster/prod", false),
            "prod"
        );
        assert_eq!(short_name("default", false), "default");
        assert_eq!(camel("ContainerDefinitions"), "containerDefinitions");
        assert_eq!(camel("cpu"), "cpu");
        assert!(is_template("{{ must_env `X` }}") && !is_template("a {b}"));
    }
}
