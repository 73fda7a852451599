//! `[[services]]`: long-running services.

use ecsim_placement::{Constraint, Strategy};

use super::{CircuitBreaker, LaunchSpec, ServiceScaling};

/// `REPLICA` or `DAEMON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulingStrategy {
    /// Keeps `desired_count` tasks.
    Replica,
    /// One task on every ACTIVE instance that satisfies the constraints.
    Daemon,
}

/// A service.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    /// Name; its task group is `service:NAME`.
    pub name: String,
    /// Index into [`Scenario::clusters`](super::Scenario::clusters).
    pub cluster: usize,
    /// Index into [`Scenario::task_definitions`](super::Scenario::task_definitions).
    pub task_definition: usize,
    /// `REPLICA` or `DAEMON`.
    pub scheduling: SchedulingStrategy,
    /// Initial desired count (REPLICA).
    pub desired_count: u32,
    /// Strategy chain (defaults applied: `[spread AZ, spread instanceId]`, ECS-DG `task-placement.html`).
    pub strategy: Vec<Strategy>,
    /// All constraints: the task definition's, then the service's.
    pub constraints: Vec<Constraint>,
    /// `deployment_configuration.maximum_percent`.
    pub maximum_percent: u32,
    /// `deployment_configuration.minimum_healthy_percent`.
    pub minimum_healthy_percent: u32,
    /// Launch type or capacity provider strategy.
    pub launch: LaunchSpec,
    /// Fargate subnets' Availability Zones.
    pub availability_zones: Vec<String>,
    /// Requests offered to the service.
    pub load: Option<crate::load::LoadModel>,
    /// Name of the load noise's random stream (default: the service's name).
    pub load_stream: String,
    /// Service auto scaling.
    pub auto_scaling: Option<ServiceScaling>,
    /// Deployment circuit breaker.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `healthCheckGracePeriodSeconds`: crashes in this window after RUNNING do not count as
    /// health failures for the circuit breaker.
    pub health_check_grace_ms: u64,
    /// With a load balancer, a new task also needs one passing target health check (interval).
    pub load_balancer_check_ms: Option<u64>,
    /// With a load balancer, the target group's deregistration delay: a task the scheduler
    /// stops is deregistered and waits this long before SIGTERM (0 without one).
    pub deregistration_delay_ms: u64,
    /// `availabilityZoneRebalancing`: whether ECS evens the service's tasks over its
    /// Availability Zones (ecs-semantics 4.8; default on unless the strategy uses binpack).
    pub az_rebalancing: bool,
}
