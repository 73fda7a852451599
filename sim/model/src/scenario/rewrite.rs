//! A scenario's text with overrides written into it (the answer of `ecsim size`, runnable on
//! its own): the file keeps its comments and layout; only the overridden values change.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};

use super::tree::{Kind, Node, Step};

/// `src` with each `(path, value)` override written in; paths as `--set` takes them (missing
/// tables are created, array indexes must exist).
pub fn with_overrides(src: &str, overrides: &[(Vec<Step>, Node)]) -> Result<String, String> {
    let mut doc: DocumentMut = src.parse().map_err(|e| format!("{e}"))?;
    for (steps, value) in overrides {
        set(doc.as_item_mut(), steps, to_value(value))?;
    }
    Ok(doc.to_string())
}

fn set(item: &mut Item, steps: &[Step], value: Value) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        *item = Item::Value(value);
        return Ok(());
    };
    match (first, item) {
        (Step::Key(k), Item::Table(t)) => set_in_table(t, k, rest, value),
        (Step::Key(k), Item::Value(v)) => {
            set_value(v, steps, value).map_err(|e| format!("{k}: {e}"))
        }
        (Step::Index(i), Item::ArrayOfTables(a)) => {
            let len = a.len();
            let t = a
                .get_mut(*i)
                .ok_or_else(|| format!("[{i}]: only {len} entries"))?;
            match rest.split_first() {
                Some((Step::Key(k), rest)) => set_in_table(t, k, rest, value),
                _ => Err(format!("[{i}]: a table entry is replaced only key by key")),
            }
        }
        (Step::Index(_), Item::Value(v)) => set_value(v, steps, value),
        (step, _) => Err(format!("{step:?}: no such place in the file")),
    }
}

fn set_in_table(
    t: &mut toml_edit::Table,
    k: &str,
    rest: &[Step],
    value: Value,
) -> Result<(), String> {
    if rest.is_empty() {
        t.insert(k, Item::Value(value));
        return Ok(());
    }
    if !t.contains_key(k) {
        t.insert(k, Item::Value(Value::InlineTable(InlineTable::new())));
    }
    set(t.get_mut(k).expect("present"), rest, value)
}

fn set_value(v: &mut Value, steps: &[Step], value: Value) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        *v = value;
        return Ok(());
    };
    match (first, v) {
        (Step::Key(k), Value::InlineTable(t)) => {
            if rest.is_empty() {
                t.insert(k, value);
                return Ok(());
            }
            if !t.contains_key(k) {
                t.insert(k, Value::InlineTable(InlineTable::new()));
            }
            set_value(t.get_mut(k).expect("present"), rest, value)
        }
        (Step::Index(i), Value::Array(a)) => {
            let len = a.len();
            let x = a
                .get_mut(*i)
                .ok_or_else(|| format!("[{i}]: only {len} entries"))?;
            set_value(x, rest, value)
        }
        (step, _) => Err(format!("{step:?}: no such place in the file")),
    }
}

fn to_value(n: &Node) -> Value {
    match &n.kind {
        Kind::Str(s) => Value::from(s.as_str()),
        Kind::Int(i) => Value::from(*i),
        Kind::Float(f) => Value::from(*f),
        Kind::Bool(b) => Value::from(*b),
        Kind::Datetime(d) => d
            .parse::<toml_edit::Datetime>()
            .map_or_else(|_| Value::from(d.as_str()), Value::from),
        Kind::Array(a) => Value::Array(a.iter().map(to_value).collect::<Array>()),
        Kind::Table(t) => {
            let mut it = InlineTable::new();
            for (k, _, v) in t {
                it.insert(k, to_value(v));
            }
            Value::InlineTable(it)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::tree::{parse_path, parse_set_value};

    #[test]
    fn overrides_are_written_in_keeping_comments() {
        let src = "# my fleet\nname = \"x\"\n[[clusters]]\nname = \"c\" # the cluster\ncount = 3\ninstance_type = \"m5.large\"\n[[services]]\nname = \"web\"\nplacement_strategy = [{ type = \"spread\", field = \"instanceId\" }]\n";
        let o = |p: &str, v: &str| (parse_path(p).unwrap(), parse_set_value(v, 0));
        let out = with_overrides(
            src,
            &[
                o("clusters[0].count", "7"),
                o("clusters[0].instance_type", "\"c6g.xlarge\""),
                o(
                    "services[0].placement_strategy",
                    "[{ type = \"binpack\", field = \"memory\" }]",
                ),
                o("simulation.duration", "\"1h\""),
            ],
        )
        .unwrap();
        assert!(
            out.contains("# my fleet") && out.contains("# the cluster"),
            "{out}"
        );
        assert!(
            out.contains("count = 7") && out.contains("instance_type = \"c6g.xlarge\""),
            "{out}"
        );
        assert!(out.contains("type = \"binpack\""), "{out}");
        // The result reads back as TOML.
        assert!(crate::scenario::tree::parse(&out).is_ok());
        assert!(with_overrides(src, &[o("clusters[5].count", "1")]).is_err());
    }
}
