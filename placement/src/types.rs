//! Input and output types of the placement library.

use crate::query::Expr;

/// Index of a container instance inside its [`crate::Cluster`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

/// A task group (`service:NAME` or `family:NAME` by default), interned by the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u32);

/// The field a `binpack` strategy packs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinpackField {
    /// CPU units.
    Cpu,
    /// Memory in MiB.
    Memory,
}

/// The field a `spread` strategy spreads over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadField {
    /// `instanceId` or `host`: one value per container instance.
    Instance,
    /// `attribute:NAME`, for example `attribute:ecs.availability-zone`.
    Attribute(String),
}

/// One placement strategy (ECS-API `PlacementStrategy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Least remaining amount of the field that still fits.
    Binpack(BinpackField),
    /// Fewest tasks of the same group per distinct value of the field.
    Spread(SpreadField),
    /// A random candidate.
    Random,
}

/// The largest number of strategy rules ECS accepts per service or RunTask call (ECS-API).
pub const MAX_STRATEGIES: usize = 5;
/// The largest number of constraints per task, task definition and run time together (ECS-DG).
pub const MAX_CONSTRAINTS: usize = 10;

/// The attribute ECS uses for the Availability Zone.
pub const AZ_ATTRIBUTE: &str = "ecs.availability-zone";

/// A compiled placement constraint.
#[derive(Debug, Clone)]
pub enum Constraint {
    /// Each task of the group on a different instance.
    DistinctInstance,
    /// The instance must satisfy the expression.
    MemberOf(Expr),
}

/// Host port and protocol packed into one number: `port | (1 << 16)` for UDP.
pub type HostPort = u32;

/// Encode a host port and protocol as a [`HostPort`].
pub fn host_port(port: u16, udp: bool) -> HostPort {
    u32::from(port) | if udp { 1 << 16 } else { 0 }
}

/// What one task needs, and how it wants to be placed.
#[derive(Debug, Clone, Copy)]
pub struct TaskRequest<'a> {
    /// CPU units to reserve.
    pub cpu_units: u32,
    /// Memory to reserve, MiB (soft limit when set, else hard limit).
    pub memory_mib: u32,
    /// Static host ports (bridge or host networking), each encoded by [`host_port`]. Ignored when
    /// `needs_eni`: an `awsvpc` task's ports are on its own ENI, so they never clash with other
    /// tasks' ports nor count towards the instance's reserved ports (see [`TaskRequest::instance_ports`]).
    pub host_ports: &'a [HostPort],
    /// `awsvpc` networking: the task needs a free ENI attachment.
    pub needs_eni: bool,
    /// The task's group, for `spread`, `distinctInstance` and `task:group`.
    pub group: GroupId,
    /// Constraints, all binding.
    pub constraints: &'a [Constraint],
    /// Strategies in order; empty means "any candidate" (random).
    pub strategy: &'a [Strategy],
    /// Only instances of this pool (a capacity provider's Auto Scaling group); `None`: any.
    pub pool: Option<u32>,
}

impl<'a> TaskRequest<'a> {
    /// The host ports the task reserves on the instance: none in `awsvpc` mode, where every task
    /// has its own ENI and its own ports (ECS-DG `container-instance-eni.html`,
    /// `task-networking.html`; ecs-semantics 2.4, 2.5), else [`TaskRequest::host_ports`].
    pub fn instance_ports(&self) -> &'a [HostPort] {
        if self.needs_eni { &[] } else { self.host_ports }
    }
}

/// Why a task could not be placed. The stage is that of the closest matching instance: the one
/// that passed the most checks of the pipeline (agent, CPU, memory, ports, ENI, constraints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlacementFailure {
    /// No ACTIVE container instance in the cluster.
    NoContainerInstances,
    /// The closest instance's agent is disconnected.
    Agent,
    /// Not enough CPU units.
    Cpu,
    /// Not enough memory.
    Memory,
    /// A static host port is in use, or the instance would pass 100 reserved ports.
    Ports,
    /// No free ENI attachment (awsvpc).
    Eni,
    /// Resources fit but a `distinctInstance` constraint does not.
    DistinctInstance,
    /// Resources fit but a `memberOf` expression does not.
    MemberOf,
}

impl PlacementFailure {
    /// The reason code ECS reports (`RESOURCE:CPU` and so on); constraint failures use
    /// `CONSTRAINT:distinctInstance` / `CONSTRAINT:memberOf`, an ecsim convention.
    pub fn code(self) -> &'static str {
        match self {
            PlacementFailure::NoContainerInstances => "NO_CONTAINER_INSTANCES",
            PlacementFailure::Agent => "AGENT",
            PlacementFailure::Cpu => "RESOURCE:CPU",
            PlacementFailure::Memory => "RESOURCE:MEMORY",
            PlacementFailure::Ports => "RESOURCE:PORTS",
            PlacementFailure::Eni => "RESOURCE:ENI",
            PlacementFailure::DistinctInstance => "CONSTRAINT:distinctInstance",
            PlacementFailure::MemberOf => "CONSTRAINT:memberOf",
        }
    }
}

/// Host ports reserved by the ECS agent on Linux by default (AGENT README, `ECS_RESERVED_PORTS`).
pub const AGENT_RESERVED_TCP_PORTS: [u16; 5] = [22, 2375, 2376, 51678, 51679];
/// Static host ports an instance may have reserved at most (ECS-DG `service-event-messages.html`).
pub const MAX_RESERVED_HOST_PORTS: usize = 100;
