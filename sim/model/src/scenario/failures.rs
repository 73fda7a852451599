//! Failures, health and deployments in scenario files: the validated types (read by
//! `read::failures`).

/// What a scripted failure or operation does.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// Instances of a cluster (optionally one group) fail.
    InstanceFailure {
        /// Cluster index.
        cluster: usize,
        /// Group index, if limited to one.
        group: Option<usize>,
        /// How many (the oldest ACTIVE ones first).
        count: u32,
    },
    /// Every instance and Fargate task in an AZ is lost for a while; nothing is placed there.
    AzOutage {
        /// The Availability Zone.
        az: String,
        /// How long.
        duration_ms: u64,
    },
    /// EC2 Spot interruption notices for Spot instances of a cluster (a storm).
    SpotInterruption {
        /// Cluster index.
        cluster: usize,
        /// Group index, if limited to one.
        group: Option<usize>,
        /// Share of the group's running Spot instances, 0..1.
        fraction: f64,
    },
    /// Fargate Spot interruption warnings for a share of the running Fargate Spot tasks.
    FargateSpotInterruption {
        /// Share, 0..1.
        fraction: f64,
    },
    /// One instance fails: a failure row of a machine trace (`[failures] trace`).
    MachineFailure {
        /// Cluster index.
        cluster: usize,
        /// The instance: the k-th the cluster launched (from 0).
        instance: u32,
    },
    /// Instances set to DRAINING by the operator.
    DrainInstances {
        /// Cluster index.
        cluster: usize,
        /// Group index, if limited to one.
        group: Option<usize>,
        /// How many (the oldest ACTIVE ones first).
        count: u32,
    },
}

/// A scripted failure at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedFailure {
    /// When.
    pub at_ms: u64,
    /// What.
    pub kind: FailureKind,
}

/// `[failures]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureSettings {
    /// How long before ECS notices a dead instance (AWS: not documented). Default 1 minute.
    pub detection_delay_ms: u64,
    /// Random Fargate Spot interruptions per task-hour.
    pub fargate_spot_interruptions_per_task_hour: f64,
    /// Scripted failures, sorted by time (those of `trace` included).
    pub scripted: Vec<ScriptedFailure>,
    /// `trace`: the machine failure trace the scripted failures were read from, if any.
    pub trace: Option<FailureTrace>,
    /// The service throttle after repeated launch failures (ECS-DG service-throttle-logic.html):
    /// first delay, growth factor, cap.
    pub throttle_initial_ms: u64,
    /// Growth factor of the throttle delay.
    pub throttle_factor: f64,
    /// Cap of the throttle delay: 15 minutes (2023 guide) by default; the current page says 27.
    pub throttle_cap_ms: u64,
    /// Consecutive failed starts before the throttle applies.
    pub throttle_after_failures: u32,
}

impl Default for FailureSettings {
    fn default() -> Self {
        FailureSettings {
            detection_delay_ms: 60_000,
            fargate_spot_interruptions_per_task_hour: 0.0,
            scripted: Vec::new(),
            trace: None,
            throttle_initial_ms: 10_000,
            throttle_factor: 2.0,
            throttle_cap_ms: 15 * 60_000,
            throttle_after_failures: 3,
        }
    }
}

/// `[failures] trace`: what a machine failure trace gave (its failures are in
/// [`FailureSettings::scripted`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FailureTrace {
    /// The file, as written in the scenario.
    pub file: String,
    /// The cluster whose instances the trace's machines stand for.
    pub cluster: usize,
    /// Failure rows used (each a [`FailureKind::MachineFailure`]).
    pub failures: u64,
    /// `add` rows (they only number machines).
    pub add_rows: u64,
    /// Failure rows of machines beyond the cluster's initial instances (skipped).
    pub beyond_cluster: u64,
    /// Distinct machines mapped onto instances.
    pub machines_mapped: u32,
}

/// The deployment circuit breaker (ECS-DG deployment-circuit-breaker.html).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitBreaker {
    /// Roll back to the last completed deployment when it trips.
    pub rollback: bool,
    /// Lower bound of the threshold: 3 (current API) or 10 (2023 guide).
    pub min_threshold: u32,
    /// Share of the desired count, percent (BOUNDED_PERCENT value, default 50).
    pub percent: u32,
}

impl CircuitBreaker {
    /// Failures that trip it for a desired count: clamp(ceil(pct x desired), min, 200).
    pub fn threshold(&self, desired: u32) -> u32 {
        (u64::from(desired) * u64::from(self.percent))
            .div_ceil(100)
            .clamp(u64::from(self.min_threshold), 200) as u32
    }
}
