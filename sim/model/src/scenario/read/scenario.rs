//! The whole scenario file: top-level keys, sections in dependency order, and the checks across them.

use super::prelude::*;

pub(super) fn default_service_strategy() -> Vec<Strategy> {
    vec![
        Strategy::Spread(SpreadField::Attribute(ecsim_placement::AZ_ATTRIBUTE.into())),
        Strategy::Spread(SpreadField::Instance),
    ]
}

pub(in crate::scenario) fn read_scenario(
    cx: &mut Cx<'_>,
    root: &Node,
    read_file: Option<FileReader<'_>>,
) -> Option<Scenario> {
    let mut t = cx.table(root, "")?;
    let (has_services, has_jobs) = (t.has("services"), t.has("jobs"));
    let version = t.req(
        cx,
        "schema_version",
        &format!("schema_version = {SCHEMA_VERSION}"),
        |cx, n, p| cx.int(n, p, SCHEMA_VERSION, SCHEMA_VERSION),
    );
    let name = t.req(cx, "name", "a scenario name", |cx, n, p| {
        let s = cx.string(n, p)?;
        if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            Some(s)
        } else {
            cx.error(&n.origin, p, format!("got \"{s}\"; a name uses letters, digits, '-', '_' and '.' (it names the output folder)"));
            None
        }
    });
    let seed = t
        .opt(cx, "seed", |cx, n, p| cx.int(n, p, 0, i64::MAX))
        .map_or(1, |s| s as u64);
    let _description = t.opt(cx, "description", |cx, n, p| cx.string(n, p));
    let simulation = read_simulation(cx, &mut t);
    let settings = read_settings(cx, &mut t);
    let fargate = read_fargate(cx, &mut t);
    let pricing = read_pricing(cx, &mut t, read_file);
    // Variants are for `ecsim compare`; `variants()` reads and checks them.
    let _ = t.get("variants");

    // Instance types: the catalog plus [[instance_types]] (which may shadow catalog names).
    let mut types = catalog::builtin();
    if let Some(items) = t.opt(cx, "instance_types", |cx, n, p| cx.array(n, p)) {
        for (i, n) in items.iter().enumerate() {
            if let Some(ty) = read_instance_type(cx, n, &format!("instance_types[{i}]")) {
                types.retain(|x| x.name != ty.name);
                types.push(ty);
            }
        }
    }

    let task_definitions = read_list(cx, &mut t, "task_definitions", |cx, n, p| {
        read_task_definition(cx, n, p)
    });
    let clusters = read_list(cx, &mut t, "clusters", |cx, n, p| {
        read_cluster(cx, n, p, &types)
    });
    if clusters.as_ref().is_some_and(|c| c.is_empty()) && !t.has("clusters") {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            "clusters",
            "missing; a scenario needs at least one [[clusters]] entry",
        );
    }
    let clusters = clusters.unwrap_or_default();
    let defs = task_definitions.unwrap_or_default();
    let def_names: Vec<&str> = defs.iter().map(|d| d.family.as_str()).collect();
    let services = read_list(cx, &mut t, "services", |cx, n, p| {
        read_service(
            cx,
            n,
            p,
            &clusters,
            &defs,
            simulation
                .as_ref()
                .map_or(60_000, |s| s.metrics_resolution_ms),
            read_file,
        )
    });
    let services = services.unwrap_or_default();
    let default_rt = settings
        .as_ref()
        .map(|s| s.run_task_default_strategy.clone())
        .unwrap_or_default();
    let jobs = read_list(cx, &mut t, "jobs", |cx, n, p| {
        read_job(cx, n, p, &clusters, &def_names, &default_rt)
    });
    let jobs = jobs.unwrap_or_default();
    let failures = read_failures(cx, &mut t, &clusters);
    let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let actions = read_list(cx, &mut t, "actions", |cx, n, p| {
        read_action(cx, n, p, &service_names, &def_names)
    });
    let root_origin = t.origin.clone();
    t.finish(cx);

    check_unique(cx, root, "clusters", "name");
    check_unique(cx, root, "task_definitions", "family");
    check_unique(cx, root, "services", "name");
    check_unique(cx, root, "jobs", "name");

    let simulation = simulation?;
    if !services.is_empty() && simulation.duration_ms.is_none() {
        cx.error(&root_origin, "simulation.duration", "missing; services run until stopped, so a scenario with services needs simulation.duration (e.g. \"2h\")");
    }
    if !has_services && !has_jobs {
        cx.error(
            &root_origin,
            "",
            "the scenario has no [[services]] and no [[jobs]]: nothing would run",
        );
    }
    let settings = settings?;
    check_fits(
        cx, root, &clusters, &types, &defs, &services, &jobs, &settings,
    );

    // Keep only the types in use, in first-use order, and renumber.
    let mut used: Vec<usize> = Vec::new();
    for c in &clusters {
        for g in &c.groups {
            for &ty in &g.instance_types {
                if !used.contains(&ty) {
                    used.push(ty);
                }
            }
        }
    }
    let mut clusters = clusters;
    for c in &mut clusters {
        for g in &mut c.groups {
            for ty in &mut g.instance_types {
                *ty = used.iter().position(|u| u == ty).expect("used");
            }
        }
    }
    let instance_types = used.iter().map(|&u| types[u].clone()).collect();
    let mut actions = actions.unwrap_or_default();
    actions.sort_by_key(|a| a.at_ms);
    version?;
    Some(Scenario {
        failures: failures?,
        fargate: fargate?,
        pricing: pricing?,
        name: name?,
        seed,
        simulation,
        settings,
        instance_types,
        clusters,
        task_definitions: defs,
        services,
        jobs,
        actions,
    })
}

pub(super) fn read_list<T>(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    key: &'static str,
    mut f: impl FnMut(&mut Cx<'_>, &Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(node) = t.get(key) else {
        return Some(Vec::new());
    };
    let items = cx.array(node, key)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, n) in items.iter().enumerate() {
        match f(cx, n, &format!("{key}[{i}]")) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out)
}
