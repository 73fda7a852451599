//! Availability and recovery measures of services: time at the desired count, time at the
//! minimum healthy count, and the task-minutes below desired, from the first time a service ran
//! its desired count (start-up is not downtime).

use ecsim_engine::SimTime;

use crate::ids::ServiceId;
use crate::scenario::{Scenario, SchedulingStrategy};
use crate::service::deployment::min_healthy;

/// One service's measures.
#[derive(Debug, Default, Clone)]
pub(crate) struct Availability {
    /// From the first time the service ran its desired count.
    pub(crate) steady_since: Option<SimTime>,
    pub(crate) avail_ms: u128,
    /// Integral of (desired - serving tasks) over time, task-ms.
    pub(crate) missing_task_ms: u128,
    pub(crate) min_healthy_ms: u128,
    /// Tasks lost to failures.
    pub(crate) tasks_lost: u64,
}

/// Every service's measures, and the requests unserved while a failure was open.
#[derive(Clone)]
pub(crate) struct Tracking {
    pub(crate) services: Vec<Availability>,
    pub(crate) unserved_during_failures: f64,
}

impl Tracking {
    pub(crate) fn new(sc: &Scenario) -> Self {
        Tracking {
            services: vec![Availability::default(); sc.services.len()],
            unserved_during_failures: 0.0,
        }
    }

    /// Integrate from `from` over `dt` ms; `state(s)` gives (serving, desired).
    pub(crate) fn integrate(
        &mut self,
        sc: &Scenario,
        from: SimTime,
        dt: u64,
        state: impl Fn(ServiceId) -> (u32, u32),
    ) {
        for (s, def) in sc.services.iter().enumerate() {
            if def.scheduling != SchedulingStrategy::Replica {
                continue;
            }
            let (serving, desired) = state(ServiceId::new(s));
            let h = &mut self.services[s];
            if h.steady_since.is_none() {
                if serving >= desired {
                    h.steady_since = Some(from);
                } else {
                    continue;
                }
            }
            if serving >= desired {
                h.avail_ms += u128::from(dt);
            } else {
                h.missing_task_ms += u128::from(desired - serving) * u128::from(dt);
            }
            if serving >= min_healthy(desired, def.minimum_healthy_percent) {
                h.min_healthy_ms += u128::from(dt);
            }
        }
    }

    /// A task of the service was lost to a failure.
    pub(crate) fn task_lost(&mut self, s: ServiceId) {
        self.services[s.index()].tasks_lost += 1;
    }
}
