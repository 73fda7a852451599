//! `[[task_definitions]]` and their containers.

use super::prelude::*;

pub(super) fn read_task_definition(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<TaskDefinition> {
    let mut t = cx.table(n, path)?;
    let family = t.req(cx, "family", "a family name", |cx, n, p| cx.string(n, p));
    let task_cpu = t.opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 128, 196_608));
    let task_mem = t.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
    let mode = t
        .opt(cx, "network_mode", |cx, n, p| {
            cx.one_of(n, p, &["bridge", "host", "awsvpc", "none"])
        })
        .map_or(NetworkMode::Bridge, |i| {
            [
                NetworkMode::Bridge,
                NetworkMode::Host,
                NetworkMode::Awsvpc,
                NetworkMode::None,
            ][i]
        });
    let constraints = t
        .opt(cx, "placement_constraints", |cx, n, p| {
            read_constraints(cx, n, p, false)
        })
        .unwrap_or_default();
    let (os, architecture) = t
        .opt(cx, "runtime_platform", |cx, n, p| {
            let mut rt = cx.table(n, p)?;
            const OS: [&str; 5] = [
                "LINUX",
                "WINDOWS_SERVER_2019_FULL",
                "WINDOWS_SERVER_2019_CORE",
                "WINDOWS_SERVER_2022_FULL",
                "WINDOWS_SERVER_2022_CORE",
            ];
            let os = rt
                .opt(cx, "operating_system_family", |cx, n, p| {
                    cx.one_of(n, p, &OS)
                })
                .map_or(OsFamily::Linux, |i| {
                    if i == 0 {
                        OsFamily::Linux
                    } else {
                        OsFamily::Windows
                    }
                });
            let arch = rt
                .opt(cx, "cpu_architecture", |cx, n, p| {
                    cx.one_of(n, p, &["X86_64", "ARM64"])
                })
                .map(|i| ["x86_64", "arm64"][i].to_string());
            rt.finish(cx);
            if os == OsFamily::Windows && arch.as_deref() == Some("arm64") {
                cx.error(&n.origin, p, "Windows tasks run on X86_64 only");
                return None;
            }
            Some((os, arch))
        })
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
        .opt(cx, "stop_timeout", |cx, n, p| {
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
        })
        .unwrap_or(30_000);
    // ECS-DG task_definition_parameters.html: health check interval 30 s (5-300), start period 0-300 s.
    let healthy_after = t
        .opt(cx, "health_check", |cx, n, p| {
            let mut h = cx.table(n, p)?;
            let interval = h.opt(cx, "interval", |cx, n, p| cx.duration(n, p)).unwrap_or(30_000);
            let start = h.opt(cx, "start_period", |cx, n, p| cx.duration(n, p)).unwrap_or(0);
            h.finish(cx);
            if !(5_000..=300_000).contains(&interval) || start > 300_000 {
                cx.error(&n.origin, p, "interval is 5 to 300 s and start_period 0 to 300 s (ECS-DG task_definition_parameters.html)");
                return None;
            }
            Some(start + interval)
        })
        .unwrap_or(40_000);
    let mut cpu_sum = 0u32;
    let mut mem_sum = 0u32;
    let mut mem_missing = false;
    let mut ports: Vec<HostPort> = Vec::new();
    let mut ok = true;
    if let Some(items) = t.opt(cx, "containers", |cx, n, p| cx.array(n, p)) {
        for (i, c) in items.iter().enumerate() {
            let cp = format!("{path}.containers[{i}]");
            let Some(mut ct) = cx.table(c, &cp) else {
                ok = false;
                continue;
            };
            let _name = ct.req(cx, "name", "a container name", |cx, n, p| cx.string(n, p));
            cpu_sum += ct
                .opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 0, 196_608))
                .unwrap_or(0);
            let hard = ct.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
            let soft = ct.opt(cx, "memory_reservation", |cx, n, p| {
                cx.u32(n, p, 6, 4_000_000)
            });
            if let (Some(h), Some(s)) = (hard, soft)
                && h <= s
            {
                cx.error(&c.origin, &format!("{cp}.memory"), format!("memory ({h}) must be greater than memory_reservation ({s}) (ECS-DG task_definition_parameters.html)"));
                ok = false;
            }
            // ECS-DG task_definition_parameters.html: the soft limit is what placement reserves.
            match soft.or(hard) {
                Some(m) => mem_sum += m,
                None => mem_missing = true,
            }
            if let Some(pm) = ct.opt(cx, "port_mappings", |cx, n, p| cx.array(n, p)) {
                for (j, m) in pm.iter().enumerate() {
                    let mp = format!("{cp}.port_mappings[{j}]");
                    let Some(mut mt) = cx.table(m, &mp) else {
                        ok = false;
                        continue;
                    };
                    let cport = mt.req(
                        cx,
                        "container_port",
                        "a port from 1 to 65535",
                        |cx, n, p| cx.u32(n, p, 1, 65535),
                    );
                    let hport = mt.opt(cx, "host_port", |cx, n, p| cx.u32(n, p, 0, 65535));
                    let udp = mt
                        .opt(cx, "protocol", |cx, n, p| cx.one_of(n, p, &["tcp", "udp"]))
                        .is_some_and(|i| i == 1);
                    mt.finish(cx);
                    let static_port = match mode {
                        NetworkMode::Host | NetworkMode::Awsvpc => cport,
                        NetworkMode::Bridge => hport.filter(|&h| h != 0),
                        NetworkMode::None => None,
                    };
                    if let Some(p) = static_port {
                        let hp = host_port(p as u16, udp);
                        if ports.contains(&hp) {
                            cx.error(
                                &m.origin,
                                &mp,
                                format!("host port {p} is mapped twice in this task definition"),
                            );
                            ok = false;
                        }
                        ports.push(hp);
                    }
                }
            }
            ct.finish(cx);
        }
    }
    t.finish(cx);
    let cpu = task_cpu.unwrap_or(cpu_sum);
    let memory = match task_mem {
        Some(m) => m,
        None if mem_missing || mem_sum == 0 => {
            cx.error(&n.origin, &format!("{path}.memory"), "missing; the EC2 launch type needs task-level memory or memory/memory_reservation on every container (ECS-DG task_definition_parameters.html)");
            return None;
        }
        None => mem_sum,
    };
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(
            &n.origin,
            &format!("{path}.placement_constraints"),
            format!("at most {MAX_CONSTRAINTS} constraints per task"),
        );
        ok = false;
    }
    ports.sort_unstable();
    if !ok {
        return None;
    }
    let mut constraints = constraints;
    if let Some(a) = &architecture {
        // On EC2 the image's architecture must match the instance's (ecsim adds this constraint;
        // ECS itself would fail the container start).
        let e = format!("attribute:ecs.cpu-architecture == {a}");
        constraints.push((
            format!("memberOf({e})"),
            Constraint::MemberOf(Expr::parse(&e).expect("valid")),
        ));
    }
    Some(TaskDefinition {
        family: family?,
        cpu_units: cpu,
        memory_mib: memory,
        network_mode: mode,
        host_ports: ports,
        constraints,
        task_cpu,
        task_memory: task_mem,
        os,
        architecture,
        ephemeral_storage_gb: ephemeral,
        time_to_failure: ttf,
        start_failure_probability: start_fail,
        stop_timeout_ms: stop_timeout,
        healthy_after_ms: healthy_after,
    })
}
