//! The names every enum field of a scenario file accepts, each with the value it stands for:
//! one table per field, read with [`Cx::choice`], which lists the names when given another.

use super::prelude::*;

/// A name table for [`Cx::choice`].
pub(super) type Names<T> = &'static [(&'static str, T)];

/// The names of a table, quoted: `"a", "b" or "c"` (for "missing; expected ...").
pub(super) fn quoted<T>(names: Names<T>) -> String {
    let n: Vec<&str> = names.iter().map(|c| c.0).collect();
    quote_list(&n)
}

/// `settings.tie_break`.
pub(super) const TIE_BREAK: Names<TieBreak> = &[
    ("random", TieBreak::Random),
    ("lowest_index", TieBreak::LowestIndex),
];

/// `instance_types[].architecture` (instance attribute spelling).
pub(super) const INSTANCE_ARCHITECTURE: Names<&str> = &[("x86_64", "x86_64"), ("arm64", "arm64")];

/// `purchase_option` of an instance group.
pub(super) const PURCHASE_OPTION: Names<PurchaseOption> = &[
    ("on_demand", PurchaseOption::OnDemand),
    ("spot", PurchaseOption::Spot),
];

/// `network_mode` of a task definition.
pub(super) const NETWORK_MODE: Names<NetworkMode> = &[
    ("bridge", NetworkMode::Bridge),
    ("host", NetworkMode::Host),
    ("awsvpc", NetworkMode::Awsvpc),
    ("none", NetworkMode::None),
];

/// `runtime_platform.operating_system_family`.
pub(super) const OS_FAMILY: Names<OsFamily> = &[
    ("LINUX", OsFamily::Linux),
    ("WINDOWS_SERVER_2019_FULL", OsFamily::WindowsServer2019Full),
    ("WINDOWS_SERVER_2019_CORE", OsFamily::WindowsServer2019Core),
    ("WINDOWS_SERVER_2022_FULL", OsFamily::WindowsServer2022Full),
    ("WINDOWS_SERVER_2022_CORE", OsFamily::WindowsServer2022Core),
];

/// `runtime_platform.cpu_architecture`, as the instance attribute spells it.
pub(super) const CPU_ARCHITECTURE: Names<&str> = &[("X86_64", "x86_64"), ("ARM64", "arm64")];

/// `protocol` of a port mapping: whether it is UDP.
pub(super) const PROTOCOL_IS_UDP: Names<bool> = &[("tcp", false), ("udp", true)];

/// `scheduling_strategy` of a service.
pub(super) const SCHEDULING: Names<SchedulingStrategy> = &[
    ("REPLICA", SchedulingStrategy::Replica),
    ("DAEMON", SchedulingStrategy::Daemon),
];

/// `availability_zone_rebalancing` of a service: whether it is enabled.
pub(super) const AZ_REBALANCING: Names<bool> = &[("ENABLED", true), ("DISABLED", false)];

/// `launch_type` of a service or job.
pub(super) const LAUNCH_TYPE: Names<LaunchType> =
    &[("EC2", LaunchType::Ec2), ("FARGATE", LaunchType::Fargate)];

/// A launch type as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LaunchType {
    /// `EC2`.
    Ec2,
    /// `FARGATE`.
    Fargate,
}

/// `on_no_capacity` of a job.
pub(super) const ON_NO_CAPACITY: Names<OnNoCapacity> =
    &[("fail", OnNoCapacity::Fail), ("wait", OnNoCapacity::Wait)];

/// `dist` of a distribution table.
pub(super) const DIST: Names<DistKind> = &[
    ("fixed", DistKind::Fixed),
    ("exponential", DistKind::Exponential),
    ("lognormal", DistKind::LogNormal),
    ("uniform", DistKind::Uniform),
    ("empirical", DistKind::Empirical),
    ("weibull", DistKind::Weibull),
];

/// A distribution's kind, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DistKind {
    Fixed,
    Exponential,
    LogNormal,
    Uniform,
    Empirical,
    Weibull,
}

/// `type` of a placement strategy.
pub(super) const STRATEGY: Names<StrategyKind> = &[
    ("binpack", StrategyKind::Binpack),
    ("spread", StrategyKind::Spread),
    ("random", StrategyKind::Random),
];

/// A placement strategy's type, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StrategyKind {
    Binpack,
    Spread,
    Random,
}

/// `field` of a binpack strategy.
pub(super) const BINPACK_FIELD: Names<BinpackField> =
    &[("cpu", BinpackField::Cpu), ("memory", BinpackField::Memory)];

/// `type` of a placement constraint of a service or job.
pub(super) const CONSTRAINT: Names<ConstraintKind> = &[
    ("distinctInstance", ConstraintKind::DistinctInstance),
    ("memberOf", ConstraintKind::MemberOf),
];

/// `type` of a placement constraint of a task definition (`memberOf` only, as ECS allows).
pub(super) const TASK_DEFINITION_CONSTRAINT: Names<ConstraintKind> =
    &[("memberOf", ConstraintKind::MemberOf)];

/// A placement constraint's type, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConstraintKind {
    DistinctInstance,
    MemberOf,
}

/// `arrival.type` of a job.
pub(super) const ARRIVAL: Names<ArrivalKind> = &[
    ("list", ArrivalKind::List),
    ("poisson", ArrivalKind::Poisson),
    ("periodic", ArrivalKind::Periodic),
    ("trace", ArrivalKind::Trace),
];

/// An arrival process, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArrivalKind {
    List,
    Poisson,
    Periodic,
    Trace,
}

/// `type` of a scripted action.
pub(super) const ACTION: Names<ActionType> = &[
    ("set_desired_count", ActionType::SetDesiredCount),
    ("deploy", ActionType::Deploy),
];

/// A scripted action's type, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ActionType {
    SetDesiredCount,
    Deploy,
}

/// `type` of a scripted failure.
pub(super) const FAILURE: Names<FailureType> = &[
    ("instance_failure", FailureType::InstanceFailure),
    ("az_outage", FailureType::AzOutage),
    ("spot_interruption", FailureType::SpotInterruption),
    (
        "fargate_spot_interruption",
        FailureType::FargateSpotInterruption,
    ),
    ("drain_instances", FailureType::DrainInstances),
];

/// A scripted failure's type, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureType {
    InstanceFailure,
    AzOutage,
    SpotInterruption,
    FargateSpotInterruption,
    DrainInstances,
}

/// `type` of a load component.
pub(super) const COMPONENT: Names<ComponentKind> = &[
    ("constant", ComponentKind::Constant),
    ("daily", ComponentKind::Daily),
    ("ramp", ComponentKind::Ramp),
    ("step", ComponentKind::Step),
    ("spike", ComponentKind::Spike),
    ("csv", ComponentKind::Csv),
    ("request_log", ComponentKind::RequestLog),
    ("cloudwatch", ComponentKind::CloudWatch),
    ("utilization", ComponentKind::Utilization),
];

/// A load component's type, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ComponentKind {
    Constant,
    Daily,
    Ramp,
    Step,
    Spike,
    Csv,
    RequestLog,
    CloudWatch,
    Utilization,
}

/// `metric` of a target tracking policy (predefined metrics).
pub(super) const PREDEFINED_METRIC: Names<ServiceMetric> = &[
    (
        "ECSServiceAverageCPUUtilization",
        ServiceMetric::CpuUtilization,
    ),
    (
        "ECSServiceAverageMemoryUtilization",
        ServiceMetric::MemoryUtilization,
    ),
    (
        "ALBRequestCountPerTarget",
        ServiceMetric::RequestCountPerTarget,
    ),
];

/// `metric` of an alarm.
pub(super) const METRIC: Names<ServiceMetric> = &[
    ("CPUUtilization", ServiceMetric::CpuUtilization),
    ("MemoryUtilization", ServiceMetric::MemoryUtilization),
    (
        "RequestCountPerTarget",
        ServiceMetric::RequestCountPerTarget,
    ),
    ("RunningTaskCount", ServiceMetric::RunningTaskCount),
];

/// `statistic` of an alarm.
pub(super) const STATISTIC: Names<Statistic> = &[
    ("Average", Statistic::Average),
    ("Sum", Statistic::Sum),
    ("Maximum", Statistic::Maximum),
    ("Minimum", Statistic::Minimum),
    ("SampleCount", Statistic::SampleCount),
];

/// `metric_aggregation` of a step scaling policy.
pub(super) const AGGREGATION: Names<Statistic> = &[
    ("Average", Statistic::Average),
    ("Minimum", Statistic::Minimum),
    ("Maximum", Statistic::Maximum),
];

/// `treat_missing_data` of an alarm.
pub(super) const TREAT_MISSING: Names<TreatMissing> = &[
    ("missing", TreatMissing::Missing),
    ("ignore", TreatMissing::Ignore),
    ("breaching", TreatMissing::Breaching),
    ("notBreaching", TreatMissing::NotBreaching),
];

/// `comparison` of an alarm: symbols or the CloudWatch names.
pub(super) const COMPARISON: Names<Comparison> = &[
    (">", Comparison::GreaterThan),
    (">=", Comparison::GreaterOrEqual),
    ("<", Comparison::LessThan),
    ("<=", Comparison::LessOrEqual),
    ("GreaterThanThreshold", Comparison::GreaterThan),
    ("GreaterThanOrEqualToThreshold", Comparison::GreaterOrEqual),
    ("LessThanThreshold", Comparison::LessThan),
    ("LessThanOrEqualToThreshold", Comparison::LessOrEqual),
];

/// `adjustment_type` of a step scaling policy.
pub(super) const ADJUSTMENT_TYPE: Names<AdjustmentType> = &[
    ("ChangeInCapacity", AdjustmentType::ChangeInCapacity),
    ("ExactCapacity", AdjustmentType::ExactCapacity),
    (
        "PercentChangeInCapacity",
        AdjustmentType::PercentChangeInCapacity,
    ),
];
