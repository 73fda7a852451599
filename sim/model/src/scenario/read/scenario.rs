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
    let (version, name, seed) = read_header(cx, &mut t);
    let simulation = read_simulation(cx, &mut t);
    let settings = read_settings(cx, &mut t);
    let fargate = read_fargate(cx, &mut t);
    let pricing = read_pricing(cx, &mut t, read_file);
    // Variants are for `ecsim compare`; `variants()` reads and checks them.
    let _ = t.get("variants");
    // The search space is for `ecsim size`; `search::read` reads and checks it.
    let _ = t.get("search");
    let objectives = read_objectives(cx, &mut t);
    let mut types = read_instance_types(cx, &mut t);
    let resolution_ms = simulation
        .as_ref()
        .map_or(60_000, |s| s.metrics_resolution_ms);
    let default_rt = settings
        .as_ref()
        .map(|s| s.run_task_default_strategy.clone())
        .unwrap_or_default();
    let sections = read_sections(
        cx,
        &mut t,
        &mut types,
        resolution_ms,
        &default_rt,
        read_file,
    );
    let root_origin = t.origin.clone();
    t.finish(cx);

    check_unique(cx, root, "clusters", "name");
    check_unique(cx, root, "task_definitions", "family");
    check_unique(cx, root, "services", "name");
    check_unique(cx, root, "jobs", "name");

    let simulation = simulation?;
    if !sections.services.is_empty() && simulation.duration_ms.is_none() {
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
    let Sections {
        clusters,
        mut task_definitions,
        services,
        jobs,
        failures,
        actions,
    } = sections;
    check_fits(
        cx,
        root,
        &clusters,
        &types,
        &task_definitions,
        &services,
        &jobs,
        &settings,
    );
    if let Some(p) = &pricing {
        check_prices(cx, root, &clusters, &types, p);
    }
    let any_windows = clusters
        .iter()
        .flat_map(|c| &c.groups)
        .any(|g| g.os.is_windows());
    restrict_os(&mut task_definitions, any_windows);
    let (clusters, instance_types) = keep_used_types(clusters, &types);
    let mut actions = actions.unwrap_or_default();
    actions.sort_by_key(|a| a.at_ms);
    version?;
    let sc = Scenario {
        failures: failures?,
        fargate: fargate?,
        pricing: pricing?,
        name: name?,
        seed,
        simulation,
        settings,
        instance_types,
        clusters,
        task_definitions,
        services,
        jobs,
        actions,
        objectives: objectives.iter().map(|(o, _)| o.clone()).collect(),
        warnings: Vec::new(),
    };
    check_objectives(cx, &objectives, &sc);
    check_fargate_prices(cx, root, &sc);
    Some(sc)
}

/// `schema_version`, `name`, `seed` and `description`.
fn read_header(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> (Option<i64>, Option<String>, u64) {
    let version = t.req(
        cx,
        "schema_version",
        &format!("schema_version = {SCHEMA_VERSION}"),
        |cx, n, p| cx.int(n, p, SCHEMA_VERSION, SCHEMA_VERSION),
    );
    let name = t.req(cx, "name", "a scenario name", |cx, n, p| {
        cx.name(n, p, NameRule::Folder)
    });
    let seed = t
        .opt(cx, "seed", |cx, n, p| cx.int(n, p, 0, i64::MAX))
        .map_or(1, |s| s as u64);
    let _description = t.opt(cx, "description", |cx, n, p| cx.string(n, p));
    (version, name, seed)
}

/// Instance types: the catalog plus `[[instance_types]]` (which may shadow catalog names).
fn read_instance_types(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> Vec<InstanceType> {
    let mut types = catalog::builtin();
    if let Some((defined, _)) =
        t.tables(cx, "instance_types", |cx, it, _| read_instance_type(cx, it))
    {
        for ty in defined {
            types.retain(|x| x.name != ty.name);
            types.push(ty);
        }
    }
    types
}

/// The sections that refer to one another, read in dependency order.
struct Sections {
    clusters: Vec<ClusterDef>,
    task_definitions: Vec<TaskDefinition>,
    services: Vec<ServiceDef>,
    jobs: Vec<JobDef>,
    failures: Option<FailureSettings>,
    actions: Option<Vec<Action>>,
}

/// `[[task_definitions]]`, `[[clusters]]`, `[[services]]`, `[[jobs]]`, `[failures]` and
/// `[[actions]]`; a list with a bad entry is read as empty (the entry was reported).
fn read_sections(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    types: &mut Vec<InstanceType>,
    resolution_ms: u64,
    default_rt: &[Strategy],
    read_file: Option<FileReader<'_>>,
) -> Sections {
    let task_definitions = read_list(cx, t, "task_definitions", read_task_definition);
    unreadable(
        cx,
        t,
        &task_definitions,
        "task_definitions",
        "family",
        "task definition",
    );
    let clusters = read_list(cx, t, "clusters", |cx, c| {
        read_cluster(cx, c, types, read_file)
    });
    unreadable(cx, t, &clusters, "clusters", "name", "cluster");
    if clusters.as_ref().is_some_and(|c| c.is_empty()) {
        match t.get("clusters") {
            None => {
                let origin = t.origin.clone();
                cx.error(
                    &origin,
                    "clusters",
                    "missing; a scenario needs at least one [[clusters]] entry",
                );
            }
            Some(n) => cx.error(
                &n.origin,
                "clusters",
                "got an empty array; a scenario needs at least one [[clusters]] entry (every service and job runs in one)",
            ),
        }
    }
    let clusters = clusters.unwrap_or_default();
    let defs = task_definitions.unwrap_or_default();
    let def_names: Vec<&str> = defs.iter().map(|d| d.family.as_str()).collect();
    let services = read_list(cx, t, "services", |cx, s| {
        read_service(cx, s, &clusters, &defs, resolution_ms, read_file)
    });
    unreadable(cx, t, &services, "services", "name", "service");
    let services = services.unwrap_or_default();
    let jobs = read_list(cx, t, "jobs", |cx, j| {
        read_job(cx, j, &clusters, &def_names, default_rt)
    })
    .unwrap_or_default();
    let mut zones: Vec<&str> = Vec::new();
    let group_zones = clusters
        .iter()
        .flat_map(|c| &c.groups)
        .flat_map(|g| &g.availability_zones);
    let task_zones = services
        .iter()
        .flat_map(|s| &s.availability_zones)
        .chain(jobs.iter().flat_map(|j| &j.availability_zones));
    for z in group_zones.chain(task_zones) {
        if !zones.contains(&z.as_str()) {
            zones.push(z);
        }
    }
    let failures = read_failures(cx, t, &clusters, &zones, read_file);
    let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let actions = read_list(cx, t, "actions", |cx, a| {
        read_action(cx, a, &service_names, &def_names)
    });
    Sections {
        clusters,
        task_definitions: defs,
        services,
        jobs,
        failures,
        actions,
    }
}

/// When the list at `key` could not be read (`read` is `None`), remember the names its entries
/// declare (`field`, a string), so that references to them are not reported as unknown: one
/// mistake, one error.
fn unreadable<T>(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    read: &Option<Vec<T>>,
    key: &'static str,
    field: &str,
    what: &'static str,
) {
    if read.is_some() {
        return;
    }
    let Some(Node {
        kind: Kind::Array(items),
        ..
    }) = t.get(key)
    else {
        return;
    };
    for item in items {
        if let Kind::Table(fields) = &item.kind
            && let Some((
                _,
                _,
                Node {
                    kind: Kind::Str(name),
                    ..
                },
            )) = fields.iter().find(|f| f.0 == field)
        {
            cx.unreadable.push((what, name.clone()));
        }
    }
}

/// Keep only the instance types in use, in first-use order, and renumber the groups' types.
fn keep_used_types(
    mut clusters: Vec<ClusterDef>,
    types: &[InstanceType],
) -> (Vec<ClusterDef>, Vec<InstanceType>) {
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
    for c in &mut clusters {
        for g in &mut c.groups {
            for ty in &mut g.instance_types {
                *ty = used.iter().position(|u| u == ty).expect("used");
            }
        }
    }
    let instance_types = used.iter().map(|&u| types[u].clone()).collect();
    (clusters, instance_types)
}

/// An array of tables at `key`, each entry read by `f`; empty if absent, `None` if not an array
/// or if an entry was bad (every entry is read and reported).
pub(super) fn read_list<'n, T>(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'n>,
    key: &'static str,
    mut f: impl FnMut(&mut Cx<'_>, Tbl<'n>) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(node) = t.get(key) else {
        return Some(Vec::new());
    };
    let (out, ok) = cx.tables(node, key, |cx, item, _| f(cx, item))?;
    ok.then_some(out)
}
