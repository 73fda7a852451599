//! Clusters (`CreateCluster` input, `DescribeClusters`/`PutClusterCapacityProviders` output),
//! capacity providers (`CreateCapacityProvider` input, `DescribeCapacityProviders` output) and
//! container instances (`DescribeContainerInstances` output), mapped onto `[[clusters]]` and
//! `[[clusters.instance_groups]]`.

use super::obj::{Notes, Obj, Out, array};
use super::service::provider_strategy;
use crate::scenario::tree::{Kind, Node};

const CLUSTER_IGNORED: &[&str] = &[
    "clusterArn",
    "status",
    "registeredContainerInstancesCount",
    "runningTasksCount",
    "pendingTasksCount",
    "activeServicesCount",
    "statistics",
    "tags",
    "settings",
    "attachments",
    "attachmentsStatus",
    "configuration",
    "serviceConnectDefaults",
];

/// A cluster.
pub fn map_cluster(n: &Node, path: &str, notes: &mut Notes) -> Option<Node> {
    let mut o = Obj::new(n, path, notes)?;
    let mut out = Out::default();
    out.str("name", o.string("clusterName", notes));
    if let Some((p, items)) = o.array("capacityProviders", notes) {
        let mut names = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if let Some((s, origin)) = super::obj::string_value(it, &format!("{p}[{i}]"), notes) {
                names.push(Node {
                    kind: Kind::Str(s),
                    origin,
                });
            }
        }
        out.put("capacity_providers", array(names, &o.origin));
    }
    if let Some((p, items)) = o.array("defaultCapacityProviderStrategy", notes)
        && !items.is_empty()
    {
        out.put(
            "default_capacity_provider_strategy",
            provider_strategy(items, &p, notes, &o.origin),
        );
    }
    o.ignore(CLUSTER_IGNORED);
    let origin = o.origin.clone();
    o.finish(notes);
    Some(out.node(&origin))
}

/// A capacity provider: an instance group fragment (its `name` and `capacity_provider`, and
/// `managed_scaling` when enabled), or `None` for `FARGATE`/`FARGATE_SPOT` (`Some(name)` in
/// the second place then).
pub fn map_provider(n: &Node, path: &str, notes: &mut Notes) -> Option<(Option<Node>, String)> {
    let mut o = Obj::new(n, path, notes)?;
    let (name, name_origin) = o.string("name", notes)?;
    o.ignore(&[
        "capacityProviderArn",
        "status",
        "tags",
        "updateStatus",
        "updateStatusReason",
        "type",
        "cluster",
    ]);
    let Some(mut asg) = o.object("autoScalingGroupProvider", notes) else {
        o.unmodelled(
            "managedInstancesProvider",
            "ECS Managed Instances capacity providers",
            notes,
        );
        o.finish(notes);
        return Some((None, name));
    };
    let mut g = Out::default();
    g.set("name", Kind::Str(name.clone()), &name_origin);
    g.set("capacity_provider", Kind::Str(name.clone()), &name_origin);
    if let Some(mut ms) = asg.object("managedScaling", notes) {
        let enabled = ms.string("status", notes).is_none_or(|s| s.0 == "ENABLED");
        let mut m = Out::default();
        m.int("target_capacity", ms.int("targetCapacity", notes));
        m.int(
            "minimum_scaling_step_size",
            ms.int("minimumScalingStepSize", notes),
        );
        m.int(
            "maximum_scaling_step_size",
            ms.int("maximumScalingStepSize", notes),
        );
        m.seconds(
            "instance_warmup_period",
            ms.int("instanceWarmupPeriod", notes),
        );
        let mo = ms.origin.clone();
        ms.finish(notes);
        if enabled {
            g.put("managed_scaling", m.node(&mo));
        }
    }
    if let Some((p, origin)) = asg.string("managedTerminationProtection", notes)
        && p == "DISABLED"
    {
        notes.warn(&origin, &asg.child("managedTerminationProtection"), "not modelled: ecsim's cluster auto scaling always protects instances with tasks from scale-in (as ENABLED)");
    }
    asg.ignore(&["autoScalingGroupArn", "managedDraining"]);
    asg.finish(notes);
    o.finish(notes);
    Some((Some(g.node(&n.origin)), name))
}

/// One container instance, as the facts an instance group is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `ecs.instance-type`, if the instance says.
    pub instance_type: Option<String>,
    /// `ecs.availability-zone`.
    pub zone: Option<String>,
    /// `ecs.os-type` is `windows`.
    pub windows: bool,
    /// `ecs.cpu-architecture`.
    pub arm64: bool,
    /// Registered CPU units and memory MiB.
    pub cpu: i64,
    /// Registered memory, MiB.
    pub memory: i64,
    /// Custom attributes (not `ecs.*` or `com.amazonaws.*`), sorted.
    pub attributes: Vec<(String, String)>,
}

/// A container instance from `DescribeContainerInstances`.
pub fn map_instance(n: &Node, path: &str, notes: &mut Notes) -> Option<Instance> {
    let mut o = Obj::new(n, path, notes)?;
    let mut inst = Instance {
        instance_type: None,
        zone: None,
        windows: false,
        arm64: false,
        cpu: 0,
        memory: 0,
        attributes: Vec::new(),
    };
    if let Some((p, res)) = o.array("registeredResources", notes) {
        for (i, r) in res.iter().enumerate() {
            let Some(mut ro) = Obj::new(r, &format!("{p}[{i}]"), notes) else {
                continue;
            };
            let name = ro.string("name", notes).map(|v| v.0).unwrap_or_default();
            let value = ro.int("integerValue", notes).map_or(0, |v| v.0);
            ro.ignore(&["type", "longValue", "doubleValue", "stringSetValue"]);
            ro.finish(notes);
            match name.as_str() {
                "CPU" => inst.cpu = value,
                "MEMORY" => inst.memory = value,
                _ => {}
            }
        }
    }
    if let Some((p, attrs)) = o.array("attributes", notes) {
        for (i, a) in attrs.iter().enumerate() {
            let Some(mut ao) = Obj::new(a, &format!("{p}[{i}]"), notes) else {
                continue;
            };
            let name = ao.string("name", notes).map(|v| v.0).unwrap_or_default();
            let value = ao.string("value", notes).map(|v| v.0);
            ao.ignore(&["targetType", "targetId"]);
            ao.finish(notes);
            match (name.as_str(), value) {
                ("ecs.instance-type", v) => inst.instance_type = v,
                ("ecs.availability-zone", v) => inst.zone = v,
                ("ecs.os-type", Some(v)) => inst.windows = v == "windows",
                ("ecs.cpu-architecture", Some(v)) => inst.arm64 = v == "arm64",
                (n, Some(v)) if !n.starts_with("ecs.") && !n.starts_with("com.amazonaws.") => {
                    inst.attributes.push((n.to_string(), v));
                }
                _ => {}
            }
        }
    }
    inst.attributes.sort();
    o.ignore(&[
        "status",
        "statusReason",
        "ec2InstanceId",
        "agentConnected",
        "containerInstanceArn",
        "pendingTasksCount",
        "runningTasksCount",
        "remainingResources",
        "versionInfo",
        "agentUpdateStatus",
        "registeredAt",
        "tags",
        "attachments",
        "capacityProviderName",
        "healthStatus",
        "version",
    ]);
    o.finish(notes);
    Some(inst)
}
