//! The simulation's events, grouped by the subsystem that owns them.
//!
//! # Same-instant rules
//! At one instant the engine processes events by rank ([`rank`]), and within a rank in the order
//! they were scheduled. The rules (each holds in every order `ecsim audit` tries):
//! * `End` comes first ([`rank::END`]), so nothing at the end instant is processed;
//! * instances that become ACTIVE at an instant get their daemon tasks at once, before any other
//!   task is retried on them (daemon tasks start first, ECS-DG `ecs_services.html`);
//! * work that waits for capacity is retried by one `Retry` event per cluster and instant, after
//!   every other event of the instant ([`rank::RETRY`]), so it sees all the capacity the instant
//!   freed or added (say, a whole fleet registering at time zero): daemons first, then services
//!   in scenario order, then waiting tasks first come first served; a service's own retry
//!   cadence and the end of its deployment throttle (`Wake`) have the same rank;
//! * the auto scaling sample comes last ([`rank::SAMPLE`]): load, served requests and alarms see
//!   the state the instant ends with.
//!
//! Everything else at one instant ([`ecsim_engine::NORMAL`]) is in scheduling order, an order that
//! results should not depend on; `ecsim audit` checks that by shuffling it.

/// Ranks of the same-instant rules (lower first).
pub mod rank {
    /// The end of the run.
    pub const END: u8 = 0;
    /// The retry of waiting work.
    pub const RETRY: u8 = 2;
    /// The auto scaling sample.
    pub const SAMPLE: u8 = 3;
}

use crate::failures::FailureId;
use crate::ids::{ClusterId, InstanceRef, JobId, ServiceId, TaskId};

/// Every event of a run.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// Task and instance lifecycle (the core, the launcher and jobs).
    Lifecycle(LifecycleEv),
    /// The service scheduler and deployments.
    Service(ServiceEv),
    /// Metrics sampling and auto scaling.
    Scaling(ScalingEv),
    /// Failures.
    Failure(FailureEv),
    /// `simulation.duration` reached.
    End,
}

/// Task and instance lifecycle.
#[derive(Debug, Clone, Copy)]
pub enum LifecycleEv {
    /// A launching instance registers and becomes ACTIVE.
    InstanceRegistered(InstanceRef),
    /// The next task of a job arrives.
    Arrival(JobId),
    /// A Fargate task's ENI is ready: it goes PENDING and its image pull starts.
    FargateProvisioned(TaskId),
    /// A PENDING task reaches RUNNING.
    TaskRunning(TaskId),
    /// A standalone task's run time is over.
    TaskExited(TaskId),
    /// A STOPPING task's stop time is over: it is STOPPED.
    TaskStopped(TaskId),
    /// Retry whatever waits for capacity in a cluster.
    Retry(ClusterId),
    /// A job's throttled RunTask call goes through (its oldest deferred task).
    RunTaskRetry(JobId),
}

/// The service scheduler.
#[derive(Debug, Clone, Copy)]
pub enum ServiceEv {
    /// A service task has been RUNNING long enough to count as healthy.
    TaskHealthy(TaskId),
    /// A throttled service may launch again.
    Wake(ServiceId),
    /// Check a service's spread over Availability Zones (rebalancing).
    Rebalance(ServiceId),
    /// A scripted action (desired count, deployment): index into the scenario's actions.
    Action(u32),
}

/// Metrics and auto scaling.
#[derive(Debug, Clone, Copy)]
pub enum ScalingEv {
    /// Sample load and metrics; at minute boundaries, evaluate alarms and scale.
    Sample,
    /// A scheduled scaling action of a service (index of the action).
    Scheduled(ServiceId, u32),
}

/// Failures.
#[derive(Debug, Clone, Copy)]
pub enum FailureEv {
    /// A task's essential container exits with an error.
    TaskCrash(TaskId),
    /// An instance dies.
    InstanceFailed(InstanceRef),
    /// ECS notices a dead instance (its failure record is kept by `Failures`, so that the
    /// event stays small: the queue moves every event several times).
    Detected(InstanceRef),
    /// An EC2 Spot interruption notice.
    SpotNotice(InstanceRef),
    /// A noticed Spot instance is reclaimed.
    SpotTerminate(InstanceRef),
    /// A Fargate Spot interruption warning.
    FargateSpotNotice(TaskId),
    /// A warned Fargate Spot task stops.
    FargateSpotStop(TaskId),
    /// ECS notices Fargate tasks lost in an AZ outage.
    FargateLost(FailureId),
    /// A scripted failure (index into the scenario's scripted failures).
    Scripted(u32),
    /// An AZ outage ends (index of its scripted failure).
    AzRestored(u32),
}

#[cfg(test)]
mod tests {
    use super::Ev;

    #[test]
    fn an_event_fits_in_16_bytes() {
        // The queue moves each event several times; its entry is (time, sequence, event).
        assert!(
            std::mem::size_of::<Ev>() <= 16,
            "{}",
            std::mem::size_of::<Ev>()
        );
    }
}
