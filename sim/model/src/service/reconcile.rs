//! The service scheduler's decisions, as pure functions: what one reconcile pass starts and
//! stops, and how a deployment stands afterwards. `sim` applies them (launching and stopping
//! through the core) and repeats passes until nothing changes.

use crate::ids::TaskId;

/// What a live task is to the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// Current task definition on a usable instance: counts towards the desired count.
    Good,
    /// To be replaced (older task definition, DRAINING instance, Spot warning).
    Retiring,
    /// STOPPING: counts towards `maximumPercent` only; never healthy, never stopped again.
    Stopping,
}

/// What a reconcile pass sees of a service.
pub(crate) struct ServiceView<'a> {
    pub(crate) desired: u32,
    /// `floor(D x maximumPercent / 100)`, at least D.
    pub(crate) max_total: u32,
    /// `ceil(D x minimumHealthyPercent / 100)`.
    pub(crate) min_healthy: u32,
    /// Live tasks (STOPPING included), oldest first, each with (role, healthy).
    pub(crate) live: &'a [(TaskId, Role, bool)],
    /// Launches are held back by the throttle.
    pub(crate) throttled: bool,
}

/// One pass: how many good tasks to start, and which retiring tasks to stop, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) starts: u32,
    pub(crate) stops: Vec<TaskId>,
}

/// Start good tasks while fewer than D and the total (RUNNING + PENDING + STOPPING) is below
/// the maximum (unless throttled); stop retiring tasks: those not yet healthy at once, healthy
/// ones while the healthy count stays at or above the minimum (ECS-DG deployment-type-ecs.html,
/// ecs-semantics 4.4). STOPPING tasks only take room.
pub(crate) fn plan(v: &ServiceView<'_>) -> Plan {
    let total = v.live.len() as u32;
    let good = v.live.iter().filter(|t| t.1 == Role::Good).count() as u32;
    let starts = if v.throttled {
        0
    } else {
        v.desired
            .saturating_sub(good)
            .min(v.max_total.saturating_sub(total))
    };
    let mut healthy = v
        .live
        .iter()
        .filter(|t| t.2 && t.1 != Role::Stopping)
        .count() as u32;
    let mut order: Vec<(bool, TaskId)> = v
        .live
        .iter()
        .filter(|t| t.1 == Role::Retiring)
        .map(|t| (t.2, t.0))
        .collect();
    order.sort();
    let mut stops = Vec::new();
    for (is_healthy, t) in order {
        if is_healthy && healthy <= v.min_healthy {
            break;
        }
        if is_healthy {
            healthy -= 1;
        }
        stops.push(t);
    }
    Plan { starts, stops }
}

/// Where a deployment stands after the scheduler's passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// No task of an older definition is left and D new tasks are healthy.
    Completed,
    /// Nothing could start or stop and nothing is on its way: ECS's "unable to stop or start
    /// tasks during a deployment" (announced once).
    Stalled,
    Ongoing,
}

/// What decides a deployment's progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeploymentView {
    pub(crate) desired: u32,
    /// Live tasks of an older definition, STOPPING ones included.
    pub(crate) old_left: u32,
    /// Healthy tasks of the new definition.
    pub(crate) new_healthy: u32,
    /// The passes started or stopped something.
    pub(crate) changed: bool,
    /// A good task is on its way to healthy, or a task to STOPPED (which may make room).
    pub(crate) in_flight: bool,
    /// A start failed for lack of capacity (that is not a stall: capacity may come).
    pub(crate) unable: bool,
    pub(crate) throttled: bool,
    pub(crate) already_stalled: bool,
}

/// The deployment's progress.
pub(crate) fn progress(v: DeploymentView) -> Progress {
    if v.old_left == 0 && v.new_healthy >= v.desired {
        Progress::Completed
    } else if !v.changed && !v.in_flight && !v.unable && !v.throttled && !v.already_stalled {
        Progress::Stalled
    } else {
        Progress::Ongoing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::deployment::{max_total, min_healthy};

    fn view(
        live: &[(TaskId, Role, bool)],
        desired: u32,
        min_pct: u32,
        max_pct: u32,
    ) -> ServiceView<'_> {
        ServiceView {
            desired,
            max_total: max_total(desired, max_pct),
            min_healthy: min_healthy(desired, min_pct),
            live,
            throttled: false,
        }
    }

    fn old_healthy(n: u32) -> Vec<(TaskId, Role, bool)> {
        (0..n)
            .map(|k| (TaskId(k, k), Role::Retiring, true))
            .collect()
    }

    #[test]
    fn rolling_update_with_50_and_200_percent_starts_d_new_and_stops_half_the_old() {
        // ECS-DG deployment-type-ecs.html: with minimumHealthyPercent 50 and maximumPercent 200,
        // a 4-task service may start 4 new tasks and stop 2 old ones at once.
        let live = old_healthy(4);
        let p = plan(&view(&live, 4, 50, 200));
        assert_eq!(p.starts, 4);
        assert_eq!(p.stops, vec![TaskId(0, 0), TaskId(1, 1)]);
    }

    #[test]
    fn with_100_and_100_percent_nothing_can_move() {
        // minimumHealthyPercent 100 and maximumPercent 100: no room to start, nothing may stop.
        let live = old_healthy(4);
        let p = plan(&view(&live, 4, 100, 100));
        assert_eq!(
            p,
            Plan {
                starts: 0,
                stops: vec![]
            }
        );
    }

    #[test]
    fn with_0_percent_minimum_every_old_task_stops_at_once() {
        let live = old_healthy(3);
        let p = plan(&view(&live, 3, 0, 100));
        assert_eq!(p.starts, 0, "no room above 100 %");
        assert_eq!(p.stops.len(), 3);
    }

    #[test]
    fn unhealthy_retiring_tasks_stop_first_and_do_not_count_against_the_minimum() {
        // Task 1 is retiring but not healthy yet: it goes first, at no cost to the minimum.
        let live = vec![
            (TaskId(0, 0), Role::Retiring, true),
            (TaskId(1, 1), Role::Retiring, false),
            (TaskId(2, 2), Role::Retiring, true),
            (TaskId(3, 3), Role::Good, true),
        ];
        let p = plan(&view(&live, 4, 75, 100));
        // Healthy 3, minimum 3: only the unhealthy one may stop.
        assert_eq!(p.stops, vec![TaskId(1, 1)]);
    }

    #[test]
    fn a_throttled_service_starts_nothing() {
        let live: Vec<(TaskId, Role, bool)> = Vec::new();
        let mut v = view(&live, 3, 100, 200);
        assert_eq!(plan(&v).starts, 3);
        v.throttled = true;
        assert_eq!(plan(&v).starts, 0);
    }

    #[test]
    fn stopping_tasks_count_towards_the_maximum_and_are_never_stopped_again() {
        // ecs-semantics 4.4 (ECS-DG deployment-type-ecs.html): maximumPercent bounds the tasks
        // in RUNNING + PENDING + STOPPING. With maximumPercent 100, D = 2, one old task STOPPING
        // and one new task RUNNING, there is no room for the second new task yet.
        let live = vec![
            (TaskId(0, 0), Role::Stopping, false),
            (TaskId(1, 1), Role::Good, true),
        ];
        let p = plan(&view(&live, 2, 50, 100));
        assert_eq!(
            p,
            Plan {
                starts: 0,
                stops: vec![]
            }
        );
        // Once it is STOPPED (gone from the live list), the replacement starts.
        let p = plan(&view(&live[1..], 2, 50, 100));
        assert_eq!(p.starts, 1);
        // With maximumPercent 200 the STOPPING task takes one of the 4 places.
        let live = vec![
            (TaskId(0, 0), Role::Stopping, false),
            (TaskId(1, 1), Role::Stopping, false),
            (TaskId(2, 2), Role::Stopping, false),
            (TaskId(3, 3), Role::Retiring, true),
        ];
        let p = plan(&view(&live, 2, 0, 200));
        assert_eq!(p.starts, 0, "4 places, all taken");
        assert_eq!(
            p.stops,
            vec![TaskId(3, 3)],
            "only the retiring task is stopped"
        );
    }

    #[test]
    fn stopping_tasks_are_not_healthy_for_the_minimum() {
        // A STOPPING task serves nothing: with D = 2 and minimumHealthyPercent 100, one new
        // healthy task and one STOPPING task leave no room to stop the healthy old one.
        let live = vec![
            (TaskId(0, 0), Role::Stopping, true),
            (TaskId(1, 1), Role::Retiring, true),
            (TaskId(2, 2), Role::Good, true),
        ];
        let p = plan(&view(&live, 2, 100, 200));
        assert_eq!(p.stops, Vec::<TaskId>::new());
        assert_eq!(p.starts, 1);
    }

    fn dv() -> DeploymentView {
        DeploymentView {
            desired: 2,
            old_left: 1,
            new_healthy: 1,
            changed: false,
            in_flight: false,
            unable: false,
            throttled: false,
            already_stalled: false,
        }
    }

    #[test]
    fn a_deployment_completes_when_no_old_task_is_left_and_d_new_are_healthy() {
        let mut v = dv();
        v.old_left = 0;
        assert_eq!(progress(v), Progress::Stalled, "one new task is not enough");
        v.new_healthy = 2;
        assert_eq!(progress(v), Progress::Completed);
    }

    #[test]
    fn a_deployment_stalls_only_when_nothing_moves_and_nothing_waits() {
        assert_eq!(progress(dv()), Progress::Stalled);
        for f in [
            |v: &mut DeploymentView| v.changed = true,
            |v: &mut DeploymentView| v.in_flight = true,
            |v: &mut DeploymentView| v.unable = true,
            |v: &mut DeploymentView| v.throttled = true,
            |v: &mut DeploymentView| v.already_stalled = true,
        ] {
            let mut v = dv();
            f(&mut v);
            assert_eq!(progress(v), Progress::Ongoing);
        }
    }
}
