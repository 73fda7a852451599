//! `[[clusters]] machines = { file, format, ... }`: a cluster's instance groups sized from a
//! machine trace (see [`crate::trace::machines`]).

use super::prelude::*;
use crate::scenario::MachinesTrace;
use crate::trace::machines::{self, MachineShape};

/// The groups a machine trace gives a cluster, one per shape; each shape's instance type is
/// added to `types`.
pub(super) fn read_machines(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    cluster: &str,
    types: &mut Vec<InstanceType>,
    read_file: Option<FileReader<'_>>,
) -> Option<(Vec<InstanceGroup>, MachinesTrace)> {
    let mut t = cx.table(n, path)?;
    let file = t.req(
        cx,
        "file",
        "a machine_meta CSV file, relative to the scenario",
        |cx, n, p| cx.string(n, p).map(|s| (s, n.origin.clone())),
    );
    let format = t.req(
        cx,
        "format",
        "\"alibaba-v2018-machine-meta\"",
        |cx, n, p| cx.choice(n, p, &[("alibaba-v2018-machine-meta", ())]),
    );
    let per_core = t
        .opt(cx, "cpu_units_per_core", |cx, n, p| cx.u32(n, p, 1, 65_536))
        .unwrap_or(1024);
    let at_100 = t.req(
        cx,
        "memory_mib_at_100",
        "the MiB a normalised mem_size of 100 (the trace's largest machine) stands for",
        |cx, n, p| cx.u32(n, p, 128, u32::MAX / 2),
    );
    let azs = t
        .opt(cx, "availability_zones", read_zones)
        .unwrap_or_else(|| vec!["us-east-1a".into()]);
    t.finish(cx);
    let ((file, origin), (), at_100) = (file?, format?, at_100?);
    let field = format!("{path}.file");
    let text = cx.read_named(read_file, &origin, &field, "machine trace", &file)?;
    let meta = match machines::alibaba_v2018(&text) {
        Ok(m) => m,
        Err(problems) => {
            cx.file_problems(&origin, &field, &file, problems);
            return None;
        }
    };
    let mut groups = Vec::new();
    for s in &meta.shapes {
        let ty = shape_type(cx, &origin, path, cluster, s, per_core, at_100, types)?;
        types.push(ty);
        groups.push(InstanceGroup {
            name: format!("{cluster}-{}c-m{}", s.cpu_num, s.mem_size).replace('.', "_"),
            instance_types: vec![types.len() - 1],
            count: s.count,
            availability_zones: azs.clone(),
            attributes: Vec::new(),
            os: OsFamily::Linux,
            reserved_memory_mib: 0,
            launch_delay: Dist::Fixed(0),
            capacity_provider: None,
            purchase_option: PurchaseOption::OnDemand,
            min_size: s.count,
            max_size: s.count,
            managed_scaling: None,
            time_to_failure: None,
            spot_interruptions_per_hour: 0.0,
            spot_instance_draining: false,
        });
    }
    let trace = MachinesTrace {
        file,
        rows: meta.rows,
        machines: meta.machines,
    };
    Some((groups, trace))
}

/// The instance type of a shape: `cpu_num x cpu_units_per_core` units and
/// `round(mem_size / 100 x memory_mib_at_100)` MiB, all registered, no price.
#[allow(clippy::too_many_arguments)]
fn shape_type(
    cx: &mut Cx<'_>,
    origin: &Origin,
    path: &str,
    cluster: &str,
    s: &MachineShape,
    per_core: u32,
    at_100: u32,
    types: &[InstanceType],
) -> Option<InstanceType> {
    let name = format!("{cluster}.{}c.m{}", s.cpu_num, s.mem_size);
    let cpu_units = u64::from(s.cpu_num) * u64::from(per_core);
    let memory_mib = (s.mem_size / 100.0 * f64::from(at_100)).round() as u32;
    if cpu_units > 1024 * 1024 {
        cx.error(
            origin,
            &format!("{path}.cpu_units_per_core"),
            format!(
                "{} cores x {per_core} = {cpu_units} CPU units; an instance has at most 1048576",
                s.cpu_num
            ),
        );
        return None;
    }
    if memory_mib == 0 {
        cx.error(
            origin,
            &format!("{path}.memory_mib_at_100"),
            format!(
                "mem_size {} gives 0 MiB; raise memory_mib_at_100",
                s.mem_size
            ),
        );
        return None;
    }
    if types.iter().any(|x| x.name == name) {
        cx.error(
            origin,
            path,
            format!("the machine shape's instance type name \"{name}\" is already an instance type; rename that [[instance_types]] entry"),
        );
        return None;
    }
    Some(InstanceType {
        name,
        cpu_units: cpu_units as u32,
        memory_mib,
        registered_memory_mib: Some(memory_mib),
        architecture: "x86_64".into(),
        max_enis: 3,
        price_per_hour_usd: Some(0.0),
        spot_price_per_hour_usd: None,
        trunk_eni_tasks: None,
    })
}
