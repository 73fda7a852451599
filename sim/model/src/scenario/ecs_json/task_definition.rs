//! A task definition (`RegisterTaskDefinition` input, `DescribeTaskDefinition` output's
//! `taskDefinition`, CloudFormation `AWS::ECS::TaskDefinition` properties, or a bare
//! `containerDefinitions` array) mapped onto `[[task_definitions]]`.

use super::obj::{Notes, Obj, Out, array, int_value, string_value};
use crate::scenario::tree::{Kind, Node, Origin};

/// Fields of a task definition that do not affect scheduling: accepted and ignored.
const IGNORED: &[&str] = &[
    "taskRoleArn",
    "executionRoleArn",
    "volumes",
    "proxyConfiguration",
    "tags",
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "ipcMode",
    "pidMode",
    "enableFaultInjection",
];

/// Fields of a container that do not affect scheduling.
const CONTAINER_IGNORED: &[&str] = &[
    "image",
    "essential",
    "environment",
    "environmentFiles",
    "secrets",
    "logConfiguration",
    "firelensConfiguration",
    "command",
    "entryPoint",
    "workingDirectory",
    "mountPoints",
    "volumesFrom",
    "links",
    "dependsOn",
    "startTimeout",
    "hostname",
    "user",
    "dnsServers",
    "dnsSearchDomains",
    "extraHosts",
    "dockerLabels",
    "dockerSecurityOptions",
    "ulimits",
    "linuxParameters",
    "privileged",
    "readonlyRootFilesystem",
    "disableNetworking",
    "interactive",
    "pseudoTerminal",
    "systemControls",
    "repositoryCredentials",
    "credentialSpecs",
    "restartPolicy",
    "versionConsistency",
    "memorySwap",
];

/// Map a task definition object; `None` if it is unusable (the errors are in `notes`). The
/// flag says whether `requiresCompatibilities` is FARGATE alone (`ecsim import` runs such a
/// definition on Fargate).
pub fn map(td: &Node, path: &str, notes: &mut Notes) -> Option<(Node, bool)> {
    let mut o = Obj::new(td, path, notes)?;
    let mut out = Out::default();
    let mut fargate_only = false;
    if let Some((_, list)) = o.array("requiresCompatibilities", notes) {
        fargate_only = !list.is_empty()
            && list
                .iter()
                .all(|c| matches!(&c.kind, Kind::Str(s) if s == "FARGATE"));
    }
    out.str("family", o.string("family", notes));
    if let Some((k, n)) = o.get("cpu") {
        let p = o.child(k);
        out.int("cpu", size(n, &p, notes, Unit::Cpu));
    }
    if let Some((k, n)) = o.get("memory") {
        let p = o.child(k);
        out.int("memory", size(n, &p, notes, Unit::Memory));
    }
    if let Some((mode, origin)) = o.string("networkMode", notes) {
        if mode == "default" || mode == "nat" {
            // Windows containers' default mode is NAT, which maps ports as bridge mode does.
            out.set("network_mode", Kind::Str("bridge".into()), &origin);
        } else {
            out.set("network_mode", Kind::Str(mode), &origin);
        }
    }
    if let Some((p, items)) = o.array("placementConstraints", notes) {
        out.put(
            "placement_constraints",
            constraints(items, &p, notes, &o.origin),
        );
    }
    if let Some(mut rt) = o.object("runtimePlatform", notes) {
        let mut r = Out::default();
        r.str(
            "operating_system_family",
            rt.string("operatingSystemFamily", notes),
        );
        r.str("cpu_architecture", rt.string("cpuArchitecture", notes));
        let origin = rt.origin.clone();
        rt.finish(notes);
        out.put("runtime_platform", r.node(&origin));
    }
    if let Some(mut es) = o.object("ephemeralStorage", notes) {
        // 20 GiB is what every Fargate task has; the scenario field is for more.
        if let Some((gib, origin)) = es.int("sizeInGiB", notes)
            && gib != 20
        {
            out.set("ephemeral_storage_gib", Kind::Int(gib), &origin);
        }
        es.finish(notes);
    }
    o.unmodelled(
        "inferenceAccelerators",
        "Elastic Inference accelerators are not placed by ecsim",
        notes,
    );
    o.ignore(IGNORED);
    if let Some((p, items)) = o.array("containerDefinitions", notes) {
        containers(items, &p, notes, &mut out, &o.origin);
    }
    let origin = o.origin.clone();
    o.finish(notes);
    Some((out.node(&origin), fargate_only))
}

/// A bare `containerDefinitions` array (as Terraform's `container_definitions` holds it): a
/// task definition whose family the scenario (or the file name, on import) gives.
pub fn map_containers(items: &[Node], origin: &Origin, notes: &mut Notes) -> Node {
    let mut out = Out::default();
    containers(items, "", notes, &mut out, origin);
    out.node(origin)
}

fn containers(items: &[Node], p: &str, notes: &mut Notes, out: &mut Out, origin: &Origin) {
    let mut list = Vec::new();
    let mut health: Option<(i64, i64, Origin)> = None;
    let mut stop: Option<(i64, Origin)> = None;
    for (i, c) in items.iter().enumerate() {
        let cp = format!("{p}[{i}]");
        let Some(mut co) = Obj::new(c, &cp, notes) else {
            continue;
        };
        let mut ct = Out::default();
        ct.str("name", co.string("name", notes));
        ct.int("cpu", co.int("cpu", notes));
        ct.int("memory", co.int("memory", notes));
        ct.int("memory_reservation", co.int("memoryReservation", notes));
        if let Some((pp, maps)) = co.array("portMappings", notes) {
            let ports: Vec<Node> = maps
                .iter()
                .enumerate()
                .filter_map(|(j, m)| port_mapping(m, &format!("{pp}[{j}]"), notes))
                .collect();
            if !ports.is_empty() {
                ct.put("port_mappings", array(ports, &co.origin));
            }
        }
        if let Some(mut hc) = co.object("healthCheck", notes) {
            let interval = hc.int("interval", notes).map_or(30, |v| v.0);
            let start = hc.int("startPeriod", notes).map_or(0, |v| v.0);
            hc.ignore(&["command", "timeout", "retries"]);
            let ho = hc.origin.clone();
            hc.finish(notes);
            // The task is healthy when its slowest container is.
            if health.as_ref().is_none_or(|h| h.0 + h.1 < interval + start) {
                health = Some((interval, start, ho));
            }
        }
        if let Some((s, so)) = co.int("stopTimeout", notes)
            && stop.as_ref().is_none_or(|x| x.0 < s)
        {
            stop = Some((s, so));
        }
        if let Some((rp, reqs)) = co.array("resourceRequirements", notes) {
            for (j, r) in reqs.iter().enumerate() {
                let Some(mut ro) = Obj::new(r, &format!("{rp}[{j}]"), notes) else {
                    continue;
                };
                let ty = ro.string("type", notes).map(|t| t.0).unwrap_or_default();
                let value = ro.string("value", notes).map(|v| v.0).unwrap_or_default();
                let ro_origin = ro.origin.clone();
                let rpath = ro.path.clone();
                ro.finish(notes);
                notes.warn(&ro_origin, &rpath, format!("not modelled, ignored: resource requirement {ty} = {value}: ecsim does not count GPUs or accelerators, so the task may be placed on an instance without them (restrict it with a memberOf constraint on a GPU instance type)"));
            }
        }
        co.unmodelled("gpu", "GPUs are not counted by ecsim", notes);
        co.ignore(CONTAINER_IGNORED);
        let co_origin = co.origin.clone();
        co.finish(notes);
        list.push(ct.node(&co_origin));
    }
    if let Some((interval, start, o)) = health {
        let mut h = Out::default();
        h.set("interval", Kind::Str(format!("{interval}s")), &o);
        h.set("start_period", Kind::Str(format!("{start}s")), &o);
        out.put("health_check", h.node(&o));
    }
    if let Some((s, o)) = stop {
        out.set("stop_timeout", Kind::Str(format!("{s}s")), &o);
    }
    out.put("containers", array(list, origin));
}

fn port_mapping(m: &Node, p: &str, notes: &mut Notes) -> Option<Node> {
    let mut mo = Obj::new(m, p, notes)?;
    let mut out = Out::default();
    let cport = mo.int("containerPort", notes);
    if cport.is_none() {
        mo.unmodelled(
            "containerPortRange",
            "port ranges are not modelled; the mapping is left out",
            notes,
        );
    }
    out.int("container_port", cport.clone());
    out.int("host_port", mo.int("hostPort", notes));
    out.str("protocol", mo.string("protocol", notes));
    mo.unmodelled("hostPortRange", "port ranges are not modelled", notes);
    mo.ignore(&["name", "appProtocol"]);
    let origin = mo.origin.clone();
    mo.finish(notes);
    cport.map(|_| out.node(&origin))
}

/// `placementConstraints` of a task definition or a service: `{type, expression}` as is.
pub fn constraints(items: &[Node], p: &str, notes: &mut Notes, origin: &Origin) -> Node {
    let mut out = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let Some(mut co) = Obj::new(c, &format!("{p}[{i}]"), notes) else {
            continue;
        };
        let mut t = Out::default();
        t.str("type", co.string("type", notes));
        t.str("expression", co.string("expression", notes));
        let o = co.origin.clone();
        co.finish(notes);
        out.push(t.node(&o));
    }
    array(out, origin)
}

#[derive(Clone, Copy)]
enum Unit {
    Cpu,
    Memory,
}

/// A task size as ECS accepts it: a number, or a string with a unit (`"1 vcpu"`, `"0.25 vCPU"`,
/// `"2 GB"`, `"2gb"`) or without (`"512"`): CPU units, memory MiB.
fn size(n: &Node, p: &str, notes: &mut Notes, unit: Unit) -> Option<(i64, Origin)> {
    let Kind::Str(_) = &n.kind else {
        return int_value(n, p, notes);
    };
    let (s, _) = string_value(n, p, notes)?;
    let lower = s.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit_text) = (lower[..split].trim(), lower[split..].trim());
    let factor = match (unit, unit_text) {
        (_, "") => Some(1.0),
        (Unit::Cpu, "vcpu" | "vcpus") => Some(1024.0),
        (Unit::Memory, "gb" | "gib") => Some(1024.0),
        (Unit::Memory, "mb" | "mib") => Some(1.0),
        _ => None,
    };
    let value = num.parse::<f64>().ok().zip(factor).map(|(v, f)| v * f);
    match value {
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e12 => {
            Some((v as i64, n.origin.clone()))
        }
        _ => {
            let allowed = match unit {
                Unit::Cpu => "CPU units (\"1024\" or 1024) or vCPUs (\"1 vcpu\", \"0.25 vCPU\")",
                Unit::Memory => "MiB (\"2048\" or 2048) or GB (\"2 GB\", \"0.5GB\")",
            };
            notes.error(
                &n.origin,
                p,
                format!(
                    "got {}; expected {allowed}",
                    crate::scenario::read::shown(&s)
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sz(s: &str, unit: Unit) -> Result<i64, String> {
        let n = Node {
            kind: Kind::Str(s.into()),
            origin: Origin::Unknown,
        };
        let mut notes = Notes::default();
        size(&n, "cpu", &mut notes, unit)
            .map(|v| v.0)
            .ok_or_else(|| notes.errors[0].message.clone())
    }

    #[test]
    fn sizes_as_ecs_writes_them() {
        // ECS-DG task_definition_parameters.html: "1 vcpu" or "1024"; "1 GB" or "1024".
        assert_eq!(sz("1 vcpu", Unit::Cpu), Ok(1024));
        assert_eq!(sz("0.25 vCPU", Unit::Cpu), Ok(256));
        assert_eq!(sz("512", Unit::Cpu), Ok(512));
        assert_eq!(sz("2 GB", Unit::Memory), Ok(2048));
        assert_eq!(sz("2gb", Unit::Memory), Ok(2048));
        assert_eq!(sz("0.5 GB", Unit::Memory), Ok(512));
        assert_eq!(sz("3072", Unit::Memory), Ok(3072));
        assert!(
            sz("2 GB", Unit::Cpu)
                .unwrap_err()
                .contains("expected CPU units")
        );
        assert!(
            sz("lots", Unit::Memory)
                .unwrap_err()
                .contains("expected MiB")
        );
        assert!(
            sz("0.3 vcpu", Unit::Cpu).is_err(),
            "not a whole number of units"
        );
    }
}
