//! Service auto scaling and cluster auto scaling in scenario files: the validated types (read by
//! `read::scaling`).

use crate::autoscaling::{AdjustmentType, Comparison, Step, TreatMissing};

/// A service metric an alarm can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMetric {
    /// `CPUUtilization` (ECS-DG cloudwatch-metrics.html).
    CpuUtilization,
    /// `MemoryUtilization`.
    MemoryUtilization,
    /// ALB `RequestCountPerTarget` (per minute).
    RequestCountPerTarget,
    /// `RunningTaskCount` (Container Insights).
    RunningTaskCount,
}

/// `Statistic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Average.
    Average,
    /// Sum.
    Sum,
    /// Maximum.
    Maximum,
    /// Minimum.
    Minimum,
    /// SampleCount.
    SampleCount,
}

/// A CloudWatch alarm on one of the service's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDef {
    /// Metric.
    pub metric: ServiceMetric,
    /// Statistic over a period.
    pub statistic: Statistic,
    /// Period, ms (a multiple of the metrics resolution).
    pub period_ms: u64,
    /// EvaluationPeriods.
    pub evaluation_periods: usize,
    /// DatapointsToAlarm.
    pub datapoints_to_alarm: usize,
    /// ComparisonOperator.
    pub comparison: Comparison,
    /// Threshold.
    pub threshold: f64,
    /// TreatMissingData.
    pub treat_missing: TreatMissing,
}

/// A target tracking policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTracking {
    /// Name.
    pub name: String,
    /// Predefined metric.
    pub metric: ServiceMetric,
    /// Target value.
    pub target: f64,
    /// ScaleOutCooldown.
    pub scale_out_cooldown_ms: u64,
    /// ScaleInCooldown.
    pub scale_in_cooldown_ms: u64,
    /// DisableScaleIn.
    pub disable_scale_in: bool,
    /// The alarm ECS creates for scale-out (observed: > target, 3 of 3 one-minute datapoints).
    pub high: AlarmDef,
    /// The alarm for scale-in (observed: < 0.9 x target, 15 of 15).
    pub low: AlarmDef,
}

/// A step scaling policy with its alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct StepScaling {
    /// Name.
    pub name: String,
    /// The alarm that invokes it.
    pub alarm: AlarmDef,
    /// AdjustmentType.
    pub adjustment_type: AdjustmentType,
    /// StepAdjustments.
    pub steps: Vec<Step>,
    /// MinAdjustmentMagnitude.
    pub min_adjustment_magnitude: Option<u32>,
    /// Cooldown.
    pub cooldown_ms: u64,
    /// MetricAggregationType.
    pub aggregation: Statistic,
}

/// A scheduled action: new minimum and/or maximum capacity at a time, optionally recurring.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledAction {
    /// First time.
    pub at_ms: u64,
    /// Repeat period (a daily schedule is `every = "24h"`).
    pub every_ms: Option<u64>,
    /// New MinCapacity.
    pub min_capacity: Option<u32>,
    /// New MaxCapacity.
    pub max_capacity: Option<u32>,
}

/// Service auto scaling (Application Auto Scaling on `ecs:service:DesiredCount`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceScaling {
    /// MinCapacity.
    pub min_capacity: u32,
    /// MaxCapacity.
    pub max_capacity: u32,
    /// Target tracking policies.
    pub target_tracking: Vec<TargetTracking>,
    /// Step scaling policies.
    pub step_scaling: Vec<StepScaling>,
    /// Scheduled actions.
    pub scheduled: Vec<ScheduledAction>,
}

/// Capacity provider managed scaling (ECS-API `ManagedScaling`).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedScaling {
    /// targetCapacity, percent.
    pub target_capacity: f64,
    /// minimumScalingStepSize.
    pub minimum_scaling_step_size: u32,
    /// maximumScalingStepSize.
    pub maximum_scaling_step_size: u32,
    /// instanceWarmupPeriod, ms.
    pub instance_warmup_ms: u64,
    /// Datapoints (one a minute) above target before scaling out.
    pub scale_out_datapoints: usize,
    /// Datapoints below target before scaling in (15, ECS-DG cluster-auto-scaling.html).
    pub scale_in_datapoints: usize,
    /// Share of the group one scale-in step may remove, percent (50 since 2022-09-16).
    pub max_scale_in_pct: u32,
}
