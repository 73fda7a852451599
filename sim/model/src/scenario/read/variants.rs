//! `[[variants]]`: named sets of overrides for `ecsim compare`.

use super::prelude::*;

/// Read the `[[variants]]` of a scenario or variants file.
pub fn variants(file: &str, src: &str) -> Result<Vec<Variant>, LoadError> {
    let mut cx = Cx::new(file, src, &[]);
    let root = match tree::parse(src) {
        Ok(r) => r,
        Err(e) => {
            cx.error(
                &e.span.map_or(Origin::Unknown, Origin::File),
                "",
                format!("TOML syntax: {}", e.message),
            );
            return Err(LoadError {
                diagnostics: cx.diags,
            });
        }
    };
    let Kind::Table(entries) = &root.kind else {
        return Ok(Vec::new());
    };
    let Some((_, _, node)) = entries.iter().find(|(k, _, _)| k == "variants") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if let Some(items) = cx.array(node, "variants") {
        for (i, it) in items.iter().enumerate() {
            if let Some(v) = read_variant(&mut cx, it, &format!("variants[{i}]")) {
                out.push(v);
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for v in &out {
        if names.contains(&v.name.as_str()) {
            cx.error(
                &node.origin,
                "variants",
                format!("two variants are named \"{}\"", v.name),
            );
        }
        names.push(&v.name);
    }
    if cx.diags.is_empty() {
        Ok(out)
    } else {
        Err(LoadError {
            diagnostics: cx.diags,
        })
    }
}

pub(super) fn read_variant(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Variant> {
    let mut t = cx.table(n, path)?;
    let name = t.req(cx, "name", "a variant name", |cx, n, p| cx.string(n, p));
    let description = t
        .opt(cx, "description", |cx, n, p| cx.string(n, p))
        .unwrap_or_default();
    let overrides = t
        .opt(cx, "set", |cx, n, p| {
            let Kind::Table(entries) = &n.kind else {
                cx.error(&n.origin, p, "expected a table of \"field.path\" = value, e.g. { \"services[0].launch_type\" = \"FARGATE\" }");
                return None;
            };
            let mut out = Vec::new();
            for (k, o, v) in entries {
                match tree::parse_path(k) {
                    Ok(steps) => out.push((k.clone(), steps, v.clone())),
                    Err(e) => cx.error(o, &format!("{p}.\"{k}\""), e),
                }
            }
            Some(out)
        })
        .unwrap_or_default();
    t.finish(cx);
    Some(Variant {
        name: name?,
        description,
        overrides,
    })
}
