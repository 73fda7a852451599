//! `[[variants]]`: named sets of overrides for `ecsim compare`.

use super::prelude::*;

/// Read the `[[variants]]` of a scenario or variants file.
pub fn variants(file: &str, src: &str) -> Result<Vec<Variant>, LoadError> {
    read_document(file, src, |cx, root| {
        let Kind::Table(entries) = &root.kind else {
            return Some(Vec::new());
        };
        let Some((_, _, node)) = entries.iter().find(|(k, _, _)| k == "variants") else {
            return Some(Vec::new());
        };
        let (out, _) = cx
            .tables(node, "variants", |cx, t, _| read_variant(cx, t))
            .unwrap_or_default();
        check_variant_names(cx, node, &out);
        Some(out)
    })
    .map_err(|diagnostics| LoadError {
        diagnostics,
        warnings: Vec::new(),
    })
}

fn check_variant_names(cx: &mut Cx<'_>, node: &Node, out: &[Variant]) {
    let mut names: Vec<&str> = Vec::new();
    for v in out {
        if names.contains(&v.name.as_str()) {
            cx.error(
                &node.origin,
                "variants",
                format!("two variants are named \"{}\"", v.name),
            );
        }
        names.push(&v.name);
    }
}

/// One variant table: `name`, `description`, `set` (also a search knob's option).
pub(crate) fn read_variant(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<Variant> {
    let name = t.req(cx, "name", "a variant name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
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
