//! Availability Zone rebalancing (ecs-semantics 4.8, ECS-DG `service-rebalancing.html`,
//! `track-service-rebalancing.html`): when a service's tasks are unevenly spread over its
//! Availability Zones, ECS starts tasks in the AZ with the fewest and stops tasks in the AZ with
//! the most.
//!
//! AWS documents neither the trigger nor the pacing. ecsim's conventions:
//! * **Which AZs count**: those that can take the service's tasks now: on EC2 the AZs of the
//!   cluster's ACTIVE, healthy instances that satisfy the service's `memberOf` constraints; on
//!   Fargate the service's `availability_zones` that are not down. Tasks are counted where they
//!   run (the instance's AZ, the Fargate task's AZ); only the service's *good* tasks count (not
//!   retiring, not STOPPING).
//! * **Trigger**: the service is at steady state (desired count reached, every task healthy,
//!   no deployment in progress, nothing retiring or STOPPING) and the most loaded AZ has more
//!   than one task more than the least loaded one (`max - min > 1`): an even spread within one
//!   task, which is what `spread(attribute:ecs.availability-zone)` places.
//! * **Move**: one task at a time from the first AZ with the most tasks to the first AZ with the
//!   fewest (AZs in name order). When `maximumPercent` leaves room for one more task, the new
//!   task starts first in the target AZ and one task of the source AZ stops once it is healthy;
//!   otherwise, if `minimumHealthyPercent` allows one task fewer, one task of the source AZ stops
//!   first and its replacement is placed in the target AZ. With neither (100 % and 100 %) the
//!   service cannot rebalance.
//! * **Pacing**: a service is checked when it has been reconciled, when one of its cluster's
//!   instances becomes ACTIVE and when an AZ outage ends, at most once per
//!   `settings.az_rebalancing_interval` (default 1 minute); each check moves at most one task.
//!
//! The decisions here are pure; `sim/services.rs` applies them.

use ecsim_engine::SimTime;

use crate::ids::TaskId;

/// A move of one task between two AZs (indexes into the counts given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) from: usize,
    pub(crate) to: usize,
}

/// Whether a service whose good tasks per AZ (over the AZs that can take tasks, in name order)
/// are `counts` is unbalanced, and if so the move that evens it: from the first AZ with the
/// most tasks to the first with the fewest. Balanced: `max - min <= 1`.
pub(crate) fn unbalanced(counts: &[u32]) -> Option<Move> {
    let max = *counts.iter().max()?;
    let min = *counts.iter().min()?;
    if max - min <= 1 {
        return None;
    }
    Some(Move {
        from: counts.iter().position(|&c| c == max)?,
        to: counts.iter().position(|&c| c == min)?,
    })
}

/// How a move may proceed within the deployment configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Room under `maximumPercent`: start in the target AZ, then stop in the source AZ.
    StartFirst,
    /// No room, but `minimumHealthyPercent` allows one fewer: stop in the source AZ, then start
    /// the replacement in the target AZ.
    StopFirst,
    /// Neither: the service cannot rebalance.
    Blocked,
}

/// The order of a move for a service with `total` live tasks (STOPPING included), `healthy`
/// healthy tasks, and the deployment bounds `max_total` and `min_healthy` (ecs-semantics 4.4).
pub(crate) fn order(total: u32, healthy: u32, max_total: u32, min_healthy: u32) -> Order {
    if total < max_total {
        Order::StartFirst
    } else if healthy > min_healthy {
        Order::StopFirst
    } else {
        Order::Blocked
    }
}

/// One service's rebalancing state.
#[derive(Debug, Clone, Default)]
struct State {
    /// A check is scheduled at this time.
    check_at: Option<SimTime>,
    /// The last check.
    last_check: Option<SimTime>,
    /// Between SERVICE_REBALANCING_STARTED and COMPLETED.
    active: bool,
    /// A task started in the target AZ, waiting to be healthy, and the AZ to stop one in.
    moving: Option<(TaskId, String)>,
    /// The AZ the service's next start goes to (a stop-first move).
    target: Option<String>,
}

/// Every service's rebalancing state.
#[derive(Clone)]
pub(crate) struct Rebalancer {
    states: Vec<State>,
    interval_ms: u64,
}

impl Rebalancer {
    /// No service rebalancing; checks at most every `interval_ms`.
    pub(crate) fn new(services: usize, interval_ms: u64) -> Self {
        Rebalancer {
            states: vec![State::default(); services],
            interval_ms,
        }
    }

    /// When a check asked for now may run: at once, or one interval after the last check.
    /// `None` if a check is already scheduled or a move is under way.
    pub(crate) fn arm(&mut self, s: usize, now: SimTime) -> Option<SimTime> {
        let st = &mut self.states[s];
        if st.check_at.is_some() || st.moving.is_some() || st.target.is_some() {
            return None;
        }
        let at = st
            .last_check
            .map_or(now, |l| l.plus_ms(self.interval_ms).max(now));
        st.check_at = Some(at);
        Some(at)
    }

    /// The scheduled check runs.
    pub(crate) fn checked(&mut self, s: usize, now: SimTime) {
        let st = &mut self.states[s];
        st.check_at = None;
        st.last_check = Some(now);
    }

    /// Whether a rebalancing is under way (STARTED, not yet COMPLETED).
    pub(crate) fn active(&self, s: usize) -> bool {
        self.states[s].active
    }

    /// Mark rebalancing under way; returns whether it just started.
    pub(crate) fn start(&mut self, s: usize) -> bool {
        !std::mem::replace(&mut self.states[s].active, true)
    }

    /// The service is balanced again; returns whether a rebalancing just completed.
    pub(crate) fn complete(&mut self, s: usize) -> bool {
        std::mem::replace(&mut self.states[s].active, false)
    }

    /// A task started in the target AZ; one in `from` stops once it is healthy.
    pub(crate) fn set_moving(&mut self, s: usize, t: TaskId, from: String) {
        self.states[s].moving = Some((t, from));
    }

    /// The task started for a move, and the AZ to stop one in.
    pub(crate) fn moving(&self, s: usize) -> Option<&(TaskId, String)> {
        self.states[s].moving.as_ref()
    }

    /// The move is over (done or abandoned).
    pub(crate) fn clear_moving(&mut self, s: usize) {
        self.states[s].moving = None;
    }

    /// The next start of the service goes to `az` (a stop-first move).
    pub(crate) fn set_target(&mut self, s: usize, az: String) {
        self.states[s].target = Some(az);
    }

    /// Take the AZ the service's next start goes to.
    pub(crate) fn take_target(&mut self, s: usize) -> Option<String> {
        self.states[s].target.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_spread_within_one_task_is_balanced() {
        // ecs-semantics 4.8: ECS rebalances an uneven per-AZ task count; ecsim's trigger is a
        // difference of more than one task (what spread over AZs itself places).
        assert_eq!(unbalanced(&[4, 4, 4]), None);
        assert_eq!(unbalanced(&[4, 3, 3]), None);
        assert_eq!(unbalanced(&[5]), None);
        assert_eq!(unbalanced(&[]), None);
        assert_eq!(unbalanced(&[0, 1]), None);
    }

    #[test]
    fn after_an_az_outage_tasks_move_from_the_fullest_to_the_emptiest_az() {
        // ecs-semantics 4.8: starts tasks in the AZ with the fewest, stops in the AZ with the
        // most. After us-east-1a comes back empty, 12 tasks go 0/6/6 -> 4/4/4 in 4 moves.
        let mut counts = vec![0, 6, 6];
        let mut moves = 0;
        while let Some(m) = unbalanced(&counts) {
            assert!(counts[m.from] > counts[m.to] + 1);
            counts[m.from] -= 1;
            counts[m.to] += 1;
            moves += 1;
        }
        assert_eq!(counts, vec![4, 4, 4]);
        assert_eq!(moves, 4);
        assert_eq!(unbalanced(&[0, 6, 6]), Some(Move { from: 1, to: 0 }));
        assert_eq!(unbalanced(&[3, 1, 3]), Some(Move { from: 0, to: 1 }));
    }

    #[test]
    fn a_move_respects_maximum_and_minimum_healthy_percent() {
        // ecs-semantics 4.4: maximumPercent bounds RUNNING + PENDING + STOPPING tasks,
        // minimumHealthyPercent the healthy ones. D = 4: 200 % leaves room to start first.
        assert_eq!(order(4, 4, 8, 4), Order::StartFirst);
        // maximumPercent 100 and minimumHealthyPercent 50: stop first.
        assert_eq!(order(4, 4, 4, 2), Order::StopFirst);
        // 100 % and 100 %: nothing may move.
        assert_eq!(order(4, 4, 4, 4), Order::Blocked);
    }

    #[test]
    fn checks_are_paced_by_the_interval_and_one_at_a_time() {
        let t = SimTime::from_ms;
        let mut r = Rebalancer::new(1, 60_000);
        assert_eq!(r.arm(0, t(1_000)), Some(t(1_000)));
        assert_eq!(r.arm(0, t(2_000)), None, "already scheduled");
        r.checked(0, t(1_000));
        assert_eq!(r.arm(0, t(5_000)), Some(t(61_000)), "one interval later");
        r.checked(0, t(61_000));
        r.set_moving(0, TaskId(3, 3), "us-east-1b".into());
        assert_eq!(r.arm(0, t(200_000)), None, "a move is under way");
        r.clear_moving(0);
        assert_eq!(r.arm(0, t(200_000)), Some(t(200_000)));
        assert!(r.start(0));
        assert!(!r.start(0));
        assert!(r.complete(0));
        assert!(!r.complete(0));
    }
}
