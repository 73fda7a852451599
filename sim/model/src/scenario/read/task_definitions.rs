//! `[[task_definitions]]` and their containers.

use super::prelude::*;

/// What the containers of a task definition add up to.
#[derive(Default)]
struct Containers {
    cpu: u32,
    memory: u32,
    /// A container gives neither `memory` nor `memory_reservation`.
    memory_missing: bool,
    host_ports: Vec<HostPort>,
    ok: bool,
}

pub(super) fn read_task_definition(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<TaskDefinition> {
    let (origin, path) = (t.origin.clone(), t.path.clone());
    let family = t.req(cx, "family", "a family name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
    let task_cpu = t.opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 128, 196_608));
    let task_mem = t.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
    let mode = t
        .opt(cx, "network_mode", |cx, n, p| cx.choice(n, p, NETWORK_MODE))
        .unwrap_or(NetworkMode::Bridge);
    let constraints = t
        .opt(cx, "placement_constraints", |cx, n, p| {
            read_constraints(cx, n, p, false)
        })
        .unwrap_or_default();
    let (os, architecture) = t
        .opt(cx, "runtime_platform", read_runtime_platform)
        .unwrap_or((OsFamily::Linux, None));
    let ephemeral = t
        .opt(cx, "ephemeral_storage_gib", |cx, n, p| {
            cx.u32(n, p, 21, 200)
        })
        .unwrap_or(20);
    let ttf = if t.has("time_to_failure") {
        t.opt(cx, "time_to_failure", read_dist)
    } else {
        None
    };
    let start_fail = t
        .opt(cx, "start_failure_probability", |cx, n, p| {
            cx.number(n, p, 0.0, 1.0)
        })
        .unwrap_or(0.0);
    let stop_timeout = t
        .opt(cx, "stop_timeout", read_stop_timeout)
        .unwrap_or(30_000);
    let health_check = t.opt(cx, "health_check", read_health_check);
    let sums = read_containers(cx, &mut t, mode);
    t.finish(cx);
    let memory = task_memory(cx, &origin, &path, task_mem, &sums)?;
    let mut ok = sums.ok;
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(
            &origin,
            &format!("{path}.placement_constraints"),
            format!("at most {MAX_CONSTRAINTS} constraints per task"),
        );
        ok = false;
    }
    let mut ports = sums.host_ports;
    ports.sort_unstable();
    if !ok {
        return None;
    }
    Some(TaskDefinition {
        family: family?,
        cpu_units: task_cpu.unwrap_or(sums.cpu),
        memory_mib: memory,
        network_mode: mode,
        host_ports: ports,
        constraints: with_architecture(constraints, architecture.as_deref()),
        task_cpu,
        task_memory: task_mem,
        os,
        architecture,
        ephemeral_storage_gb: ephemeral,
        time_to_failure: ttf,
        start_failure_probability: start_fail,
        stop_timeout_ms: stop_timeout,
        health_check_ms: health_check,
    })
}

/// Task-level memory, else the containers' sum, which every container must contribute to.
fn task_memory(
    cx: &mut Cx<'_>,
    origin: &Origin,
    path: &str,
    task_mem: Option<u32>,
    sums: &Containers,
) -> Option<u32> {
    match task_mem {
        Some(m) => Some(m),
        None if sums.memory_missing || sums.memory == 0 => {
            cx.error(origin, &format!("{path}.memory"), "missing; the EC2 launch type needs task-level memory or memory/memory_reservation on every container (ECS-DG task_definition_parameters.html)");
            None
        }
        None => Some(sums.memory),
    }
}

/// On EC2 the image's architecture must match the instance's (ecsim adds this constraint; ECS
/// itself would fail the container start).
fn with_architecture(
    mut constraints: Vec<(String, Constraint)>,
    architecture: Option<&str>,
) -> Vec<(String, Constraint)> {
    if let Some(a) = architecture {
        let e = format!("attribute:ecs.cpu-architecture == {a}");
        constraints.push((
            format!("memberOf({e})"),
            Constraint::MemberOf(Expr::parse(&e).expect("valid")),
        ));
    }
    constraints
}

/// ECS places a task only on instances of its OS family (`runtime_platform.operating_system_family`
/// against the `ecs.os-family` attribute; ecs-semantics 1.5, 2.3), so Linux tasks never land on
/// Windows instances. ecsim adds the rule as a `memberOf` constraint, like the architecture one;
/// Linux tasks get it only when the scenario has Windows instances (elsewhere it always holds).
pub(super) fn restrict_os(defs: &mut [TaskDefinition], any_windows_instance: bool) {
    for d in defs {
        if d.os.is_windows() || any_windows_instance {
            let e = format!("attribute:ecs.os-family == {}", d.os.as_str());
            d.constraints.push((
                format!("memberOf({e})"),
                Constraint::MemberOf(Expr::parse(&e).expect("valid")),
            ));
        }
    }
}

/// `runtime_platform`: operating system family and CPU architecture.
fn read_runtime_platform(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<(OsFamily, Option<String>)> {
    let mut rt = cx.table(n, p)?;
    let os = rt
        .opt(cx, "operating_system_family", |cx, n, p| {
            cx.choice(n, p, OS_FAMILY)
        })
        .unwrap_or(OsFamily::Linux);
    let arch = rt
        .opt(cx, "cpu_architecture", |cx, n, p| {
            cx.choice(n, p, CPU_ARCHITECTURE)
        })
        .map(str::to_string);
    rt.finish(cx);
    if os.is_windows() && arch.as_deref() == Some("arm64") {
        cx.error(&n.origin, p, "Windows tasks run on X86_64 only");
        return None;
    }
    Some((os, arch))
}

/// `stop_timeout`: at most 120 s.
fn read_stop_timeout(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<u64> {
    let d = cx.duration(n, p)?;
    if d > 120_000 {
        cx.error(
            &n.origin,
            p,
            "stopTimeout is at most 120 s (ECS-DG task_definition_parameters.html)",
        );
        return None;
    }
    Some(d)
}

/// `health_check`: RUNNING to HEALTHY takes the start period plus one interval.
/// ECS-DG task_definition_parameters.html: health check interval 30 s (5-300), start period 0-300 s.
fn read_health_check(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<u64> {
    let mut h = cx.table(n, p)?;
    let interval = h
        .opt(cx, "interval", |cx, n, p| cx.duration(n, p))
        .unwrap_or(30_000);
    let start = h
        .opt(cx, "start_period", |cx, n, p| cx.duration(n, p))
        .unwrap_or(0);
    h.finish(cx);
    if !(5_000..=300_000).contains(&interval) || start > 300_000 {
        cx.error(&n.origin, p, "interval is 5 to 300 s and start_period 0 to 300 s (ECS-DG task_definition_parameters.html)");
        return None;
    }
    Some(start + interval)
}

/// `[[task_definitions.containers]]`: CPU and memory sums and static host ports.
fn read_containers(cx: &mut Cx<'_>, t: &mut Tbl<'_>, mode: NetworkMode) -> Containers {
    let mut sums = Containers {
        ok: true,
        ..Containers::default()
    };
    let read = t.tables(cx, "containers", |cx, ct, _| {
        read_container(cx, ct, mode, &mut sums);
        Some(())
    });
    entries(read, &mut sums.ok);
    sums
}

fn read_container(cx: &mut Cx<'_>, mut ct: Tbl<'_>, mode: NetworkMode, sums: &mut Containers) {
    let cp = ct.path.clone();
    let _name = ct.req(cx, "name", "a container name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
    sums.cpu += ct
        .opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 0, 196_608))
        .unwrap_or(0);
    let hard = ct.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
    let soft = ct.opt(cx, "memory_reservation", |cx, n, p| {
        cx.u32(n, p, 6, 4_000_000)
    });
    if let (Some(h), Some(s)) = (hard, soft)
        && h <= s
    {
        cx.error(&ct.origin, &format!("{cp}.memory"), format!("memory ({h}) must be greater than memory_reservation ({s}) (ECS-DG task_definition_parameters.html)"));
        sums.ok = false;
    }
    // ECS-DG task_definition_parameters.html: the soft limit is what placement reserves.
    match soft.or(hard) {
        Some(m) => sums.memory += m,
        None => sums.memory_missing = true,
    }
    let read = ct.tables(cx, "port_mappings", |cx, mt, _| {
        read_port_mapping(cx, mt, mode, sums);
        Some(())
    });
    entries(read, &mut sums.ok);
    ct.finish(cx);
}

/// One port mapping; a static host port is reserved on the instance and may be mapped once.
fn read_port_mapping(cx: &mut Cx<'_>, mut mt: Tbl<'_>, mode: NetworkMode, sums: &mut Containers) {
    let (mp, origin) = (mt.path.clone(), mt.origin.clone());
    let cport = mt.req(
        cx,
        "container_port",
        "a port from 1 to 65535",
        |cx, n, p| cx.u32(n, p, 1, 65535),
    );
    let hport = mt.opt(cx, "host_port", |cx, n, p| cx.u32(n, p, 0, 65535));
    let udp = mt
        .opt(cx, "protocol", |cx, n, p| cx.choice(n, p, PROTOCOL_IS_UDP))
        .unwrap_or(false);
    mt.finish(cx);
    let static_port = match mode {
        NetworkMode::Host | NetworkMode::Awsvpc => cport,
        NetworkMode::Bridge => hport.filter(|&h| h != 0),
        NetworkMode::None => None,
    };
    if let Some(p) = static_port {
        let hp = host_port(p as u16, udp);
        if sums.host_ports.contains(&hp) {
            cx.error(
                &origin,
                &mp,
                format!("host port {p} is mapped twice in this task definition"),
            );
            sums.ok = false;
        }
        sums.host_ports.push(hp);
    }
}
