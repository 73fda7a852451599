//! `[[clusters]]`: clusters and their groups of container instances.

use super::{CpItem, ManagedScaling, OsFamily, ProviderDef, PurchaseOption};
use crate::dist::Dist;

/// One ECS cluster.
#[derive(Debug, Clone)]
pub struct ClusterDef {
    /// Name.
    pub name: String,
    /// Groups of identical instances.
    pub groups: Vec<InstanceGroup>,
    /// Associated capacity providers: Auto Scaling group providers first, then FARGATE and
    /// FARGATE_SPOT if listed.
    pub capacity_providers: Vec<ProviderDef>,
    /// `default_capacity_provider_strategy`.
    pub default_strategy: Option<Vec<CpItem>>,
    /// `awsvpc_trunking`: ENI trunking for this cluster's instances, overriding
    /// [`Settings::awsvpc_trunking`](super::Settings::awsvpc_trunking); `None`: the setting's.
    pub awsvpc_trunking: Option<bool>,
    /// `machines`: the machine trace its groups were sized from, if any.
    pub machines: Option<MachinesTrace>,
}

/// `machines = { file, format, ... }`: what a machine trace gave a cluster (its groups, one per
/// machine shape, are in [`ClusterDef::groups`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MachinesTrace {
    /// The file, as written in the scenario.
    pub file: String,
    /// Rows read (a machine may have several).
    pub rows: u64,
    /// Distinct machines: the cluster's instances.
    pub machines: u32,
}

/// Identical container instances spread round-robin over AZs.
#[derive(Debug, Clone)]
pub struct InstanceGroup {
    /// Name (the cluster's own for the group given at cluster level).
    pub name: String,
    /// Indexes into [`Scenario::instance_types`](super::Scenario::instance_types); instance k has type `instance_types[k % len]`.
    pub instance_types: Vec<usize>,
    /// How many.
    pub count: u32,
    /// AZs, instance k goes to `availability_zones[k % len]`.
    pub availability_zones: Vec<String>,
    /// Custom attributes.
    pub attributes: Vec<(String, String)>,
    /// The AMI's OS family (`ecs.os-type`, `ecs.os-family`; registered memory overhead).
    pub os: OsFamily,
    /// `ECS_RESERVED_MEMORY`, MiB.
    pub reserved_memory_mib: u32,
    /// Launch to ACTIVE.
    pub launch_delay: Dist,
    /// The Auto Scaling group capacity provider this group is, if any.
    pub capacity_provider: Option<String>,
    /// On-Demand or Spot.
    pub purchase_option: PurchaseOption,
    /// Auto Scaling group minimum size.
    pub min_size: u32,
    /// Auto Scaling group maximum size.
    pub max_size: u32,
    /// Capacity provider managed scaling (cluster auto scaling).
    pub managed_scaling: Option<ManagedScaling>,
    /// Time from launch to an instance failure, if instances fail.
    pub time_to_failure: Option<Dist>,
    /// Random EC2 Spot interruptions per instance-hour (Spot groups).
    pub spot_interruptions_per_hour: f64,
    /// `ECS_ENABLE_SPOT_INSTANCE_DRAINING` (agent default false).
    pub spot_instance_draining: bool,
}
