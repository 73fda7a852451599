//! The service scheduler: keeps each service at its desired count, places daemon tasks, chooses
//! which task to stop on scale-in, and runs rolling deployments.
//!
//! A service's live tasks are *good* (current task definition, on a usable instance) or
//! *retiring* (an older task definition, a DRAINING instance, a Spot notice). Whenever anything
//! changes it, the scheduler starts good tasks while there are fewer than the desired count D and
//! the total is below `floor(D x maximumPercent / 100)`; stops retiring tasks that are not
//! healthy at once, and healthy ones while the healthy count stays at or above
//! `ceil(D x minimumHealthyPercent / 100)` (ECS-DG deployment-type-ecs.html); scales in from good
//! tasks above D ([`scale_in`]). A task counts as healthy 40 s after RUNNING without health
//! checks, or after its health check's start period and one interval (plus one target health
//! check with a load balancer) (ECS-DG service_definition_parameters.html). When it can neither
//! start nor stop, a deployment stalls with ECS's event text. The decisions are pure functions
//! in [`reconcile`]; `sim` applies them.
//!
//! This module's state: each service's task group and placement-failure streak, and per cluster
//! the services short of tasks, the daemons, and the (daemon, instance) pairs still missing a
//! task. Deployments and the throttle are in [`deployment`].

pub(crate) mod deployment;
pub(crate) mod rebalance;
pub(crate) mod reconcile;
pub(crate) mod scale_in;

use std::collections::BTreeSet;

use ecsim_engine::SimTime;
use ecsim_placement::{GroupId, InstanceId, PlacementFailure};

use crate::core::Core;
use crate::ids::{ClusterId, ServiceId};
use crate::record::Sink;
use crate::scenario::{Scenario, SchedulingStrategy};

/// How long an identical service event is suppressed (ECS-DG service-event-messages.html).
pub(crate) const SAME_EVENT_SUPPRESSED_MS: u64 = 6 * 3_600_000;

#[derive(Clone)]
struct ClusterWork {
    /// REPLICA services with work left (short of good tasks, or retiring tasks to replace).
    deficit: BTreeSet<ServiceId>,
    /// (daemon, instance) pairs without the daemon's task yet.
    daemon_missing: BTreeSet<(ServiceId, InstanceId)>,
    /// The cluster's DAEMON services, in scenario order.
    daemons: Vec<ServiceId>,
}

/// The service scheduler's state.
#[derive(Clone)]
pub(crate) struct ServiceScheduler {
    groups: Vec<GroupId>,
    /// The reason of the last UNABLE_TO_PLACE event and when it was recorded, while it lasts.
    failing: Vec<Option<(PlacementFailure, SimTime)>>,
    /// When a service that could not place a task tries again (one pending retry each).
    retry_at: Vec<Option<SimTime>>,
    clusters: Vec<ClusterWork>,
}

impl ServiceScheduler {
    /// Intern each service's task group (`service:NAME`) and note the work to do at the start.
    pub(crate) fn new<S: Sink>(sc: &Scenario, core: &mut Core<'_, S>) -> Self {
        let mut clusters: Vec<ClusterWork> = sc
            .clusters
            .iter()
            .map(|_| ClusterWork {
                deficit: BTreeSet::new(),
                daemon_missing: BTreeSet::new(),
                daemons: Vec::new(),
            })
            .collect();
        let mut groups = Vec::new();
        for (si, s) in sc.services.iter().enumerate() {
            let c = ClusterId::new(s.cluster);
            groups.push(core.group(c, &format!("service:{}", s.name)));
            let work = &mut clusters[s.cluster];
            match s.scheduling {
                SchedulingStrategy::Daemon => work.daemons.push(ServiceId::new(si)),
                SchedulingStrategy::Replica if s.desired_count > 0 => {
                    work.deficit.insert(ServiceId::new(si));
                }
                SchedulingStrategy::Replica => {}
            }
        }
        ServiceScheduler {
            groups,
            failing: vec![None; sc.services.len()],
            retry_at: vec![None; sc.services.len()],
            clusters,
        }
    }

    /// A service's task group.
    pub(crate) fn group(&self, s: ServiceId) -> GroupId {
        self.groups[s.index()]
    }

    /// Whether anything in the cluster waits for capacity.
    pub(crate) fn has_work(&self, c: ClusterId) -> bool {
        let w = &self.clusters[c.index()];
        !w.deficit.is_empty() || !w.daemon_missing.is_empty()
    }

    /// Services of the cluster with work left, in scenario order.
    pub(crate) fn deficit(&self, c: ClusterId) -> Vec<ServiceId> {
        self.clusters[c.index()].deficit.iter().copied().collect()
    }

    /// Keep (or stop keeping) a service where capacity changes will find it.
    pub(crate) fn set_deficit(&mut self, c: ClusterId, s: ServiceId, short: bool) {
        let d = &mut self.clusters[c.index()].deficit;
        if short {
            d.insert(s);
        } else {
            d.remove(&s);
        }
    }

    /// The cluster's DAEMON services.
    pub(crate) fn daemons(&self, c: ClusterId) -> &[ServiceId] {
        &self.clusters[c.index()].daemons
    }

    /// (daemon, instance) pairs still missing a task, in order.
    pub(crate) fn daemons_missing(&self, c: ClusterId) -> Vec<(ServiceId, InstanceId)> {
        self.clusters[c.index()]
            .daemon_missing
            .iter()
            .copied()
            .collect()
    }

    /// Note whether a daemon's task is missing on an instance; returns whether it was noted as
    /// missing before.
    pub(crate) fn set_daemon_missing(
        &mut self,
        c: ClusterId,
        s: ServiceId,
        i: InstanceId,
        missing: bool,
    ) -> bool {
        let m = &mut self.clusters[c.index()].daemon_missing;
        if missing {
            !m.insert((s, i))
        } else {
            m.remove(&(s, i))
        }
    }

    /// A placement attempt failed: returns whether to record the UNABLE_TO_PLACE event. ECS
    /// suppresses an identical service event until the cause changes or 6 hours pass
    /// (ecs-semantics 1.7, ECS-DG service-event-messages.html).
    pub(crate) fn unable(&mut self, s: ServiceId, why: PlacementFailure, now: SimTime) -> bool {
        let f = &mut self.failing[s.index()];
        if let Some((last, at)) = *f
            && last == why
            && now < at.plus_ms(SAME_EVENT_SUPPRESSED_MS)
        {
            return false;
        }
        *f = Some((why, now));
        true
    }

    /// A service could not place a task at `now`: when it should try again on its own (`None`
    /// if a retry is already pending, or retries are off), ecs-semantics 1.7.
    pub(crate) fn retry_needed(
        &mut self,
        s: ServiceId,
        now: SimTime,
        every_ms: u64,
    ) -> Option<SimTime> {
        let r = &mut self.retry_at[s.index()];
        if every_ms == 0 || r.is_some_and(|t| t > now) {
            return None;
        }
        let at = now.plus_ms(every_ms);
        *r = Some(at);
        Some(at)
    }

    /// The service could place what it wanted: returns whether it had been failing.
    pub(crate) fn steady(&mut self, s: ServiceId) -> bool {
        self.failing[s.index()].take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_unable_to_place_events_are_suppressed_for_six_hours() {
        // ecs-semantics 1.7: duplicate identical service events are suppressed until the cause
        // changes or 6 hours pass. Regression (issue 11): ecsim suppressed them for ever.
        let mut sched = ServiceScheduler {
            groups: vec![GroupId(0)],
            failing: vec![None],
            retry_at: vec![None],
            clusters: Vec::new(),
        };
        let s = ServiceId(0);
        let t = |h: u64| SimTime::from_ms(h * 3_600_000);
        assert!(sched.unable(s, PlacementFailure::Cpu, t(0)));
        assert!(!sched.unable(s, PlacementFailure::Cpu, t(5)));
        assert!(
            sched.unable(s, PlacementFailure::Memory, t(5)),
            "a new cause is recorded"
        );
        assert!(!sched.unable(s, PlacementFailure::Memory, t(10)));
        assert!(
            sched.unable(s, PlacementFailure::Memory, t(11)),
            "6 hours later, again"
        );
        assert!(sched.steady(s));
        assert!(
            sched.unable(s, PlacementFailure::Memory, t(11)),
            "after STEADY, again"
        );
    }
}
