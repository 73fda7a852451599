//! Rolling deployments, the circuit breaker and the service throttle.
//!
//! # Deployments and the circuit breaker
//! A `deploy` action starts a rolling deployment to a new task definition. It completes when no
//! task of an older definition is left and D new tasks are healthy. The circuit breaker counts
//! new tasks that stop before RUNNING and, after the health check grace period, new tasks that
//! crash; at `clamp(ceil(percent x D), min, 200)` failures (ECS-DG
//! deployment-circuit-breaker.html) the deployment FAILS and, with rollback, a deployment back to
//! the last completed definition starts; without rollback the service launches no more tasks
//! (and replaces none of the older definition) until the next deployment.
//!
//! # The throttle (ECS-DG service-throttle-logic.html)
//! After `after_failures` consecutive failed starts a service waits `initial x factor^k` (k = 0,
//! 1, ...) before launching again, capped at `cap` (15 minutes, the 2023 guide; 27 in the current
//! page); retries never stop. A new task definition resets it, and so (ecsim's convention) does a
//! task reaching RUNNING.

use ecsim_engine::SimTime;

use crate::ids::{DefId, ServiceId};
use crate::scenario::{CircuitBreaker, FailureSettings, Scenario};

/// A deployment's state (ECS `rolloutState`, plus STOPPED for one replaced by a newer one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeploymentState {
    InProgress,
    Completed,
    Failed,
    Stopped,
}

impl DeploymentState {
    /// The name written in deployments.csv and events.csv.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeploymentState::InProgress => "IN_PROGRESS",
            DeploymentState::Completed => "COMPLETED",
            DeploymentState::Failed => "FAILED",
            DeploymentState::Stopped => "STOPPED",
        }
    }
}

/// The deployment in progress of a service.
#[derive(Debug, Clone)]
pub(crate) struct Deploy {
    pub(crate) id: u32,
    pub(crate) def: DefId,
    pub(crate) from_def: DefId,
    pub(crate) failures: u32,
    pub(crate) stalled: bool,
    pub(crate) rollback: bool,
}

/// A deployment, for deployments.csv.
#[derive(Debug, Clone)]
pub(crate) struct DeployRecord {
    pub(crate) service: ServiceId,
    pub(crate) id: u32,
    pub(crate) def: DefId,
    pub(crate) from_def: DefId,
    pub(crate) started: SimTime,
    pub(crate) ended: Option<SimTime>,
    pub(crate) state: DeploymentState,
    pub(crate) failures: u32,
    pub(crate) reason: String,
}

#[derive(Debug, Clone)]
struct ServiceDeployments {
    primary_def: DefId,
    deploy: Option<Deploy>,
    last_completed_def: DefId,
    throttle_count: u32,
    throttle_until: Option<SimTime>,
    wake_at: Option<SimTime>,
    /// The last deployment failed without rollback: no tasks are launched (and none replaced)
    /// until the next deployment.
    halted: bool,
}

/// Tasks that must stay healthy during a deployment: `ceil(D x minimumHealthyPercent / 100)`
/// (ECS-DG deployment-type-ecs.html).
pub(crate) fn min_healthy(desired: u32, minimum_healthy_percent: u32) -> u32 {
    (u64::from(desired) * u64::from(minimum_healthy_percent)).div_ceil(100) as u32
}

/// Most tasks at once during a deployment: `floor(D x maximumPercent / 100)`, at least D
/// (ECS-DG deployment-type-ecs.html).
pub(crate) fn max_total(desired: u32, maximum_percent: u32) -> u32 {
    ((u64::from(desired) * u64::from(maximum_percent)) / 100).max(u64::from(desired)) as u32
}

/// How long the throttle holds launches back after the `k`-th throttled failure (k from 0).
pub(crate) fn throttle_delay_ms(f: &FailureSettings, k: u32) -> u64 {
    (f.throttle_initial_ms as f64 * f.throttle_factor.powi(k.min(60) as i32))
        .min(f.throttle_cap_ms as f64) as u64
}

/// What a failed task did to the circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaker {
    /// Not counted, or below the threshold.
    Holds,
    /// The deployment fails: roll back to `to` if the breaker rolls back.
    Trips {
        failures: u32,
        threshold: u32,
        rollback_to: Option<DefId>,
    },
}

/// Every service's deployments and throttle state.
#[derive(Clone)]
pub(crate) struct Deployments {
    services: Vec<ServiceDeployments>,
    records: Vec<DeployRecord>,
    next_id: u32,
}

impl Deployments {
    /// Each service on its scenario task definition, nothing in progress.
    pub(crate) fn new(sc: &Scenario) -> Self {
        let services = sc
            .services
            .iter()
            .map(|d| ServiceDeployments {
                primary_def: DefId::new(d.task_definition),
                deploy: None,
                last_completed_def: DefId::new(d.task_definition),
                throttle_count: 0,
                throttle_until: None,
                wake_at: None,
                halted: false,
            })
            .collect();
        Deployments {
            services,
            records: Vec::new(),
            next_id: 0,
        }
    }

    /// The task definition new tasks of the service use.
    pub(crate) fn primary_def(&self, s: ServiceId) -> DefId {
        self.services[s.index()].primary_def
    }

    /// The deployment in progress, if any.
    pub(crate) fn in_progress(&self, s: ServiceId) -> Option<&Deploy> {
        self.services[s.index()].deploy.as_ref()
    }

    /// Mark the deployment in progress stalled (once).
    pub(crate) fn set_stalled(&mut self, s: ServiceId) {
        if let Some(d) = self.services[s.index()].deploy.as_mut() {
            d.stalled = true;
        }
    }

    /// Every deployment so far.
    pub(crate) fn records(&self) -> &[DeployRecord] {
        &self.records
    }

    /// Whether launches are held back at `now`.
    pub(crate) fn throttled(&self, s: ServiceId, now: SimTime) -> bool {
        self.services[s.index()]
            .throttle_until
            .is_some_and(|u| now < u)
    }

    /// When a throttled service with work to do must wake, if no wake-up is scheduled for it yet
    /// (the caller schedules it).
    pub(crate) fn wake_needed(&mut self, s: ServiceId, now: SimTime) -> Option<SimTime> {
        let h = &mut self.services[s.index()];
        let until = h.throttle_until.filter(|&u| now < u)?;
        if h.wake_at == Some(until) {
            return None;
        }
        h.wake_at = Some(until);
        Some(until)
    }

    /// Start a deployment to `def`; returns the id and the definition it replaces. A deployment
    /// in progress must have been ended first.
    pub(crate) fn start(
        &mut self,
        s: ServiceId,
        def: DefId,
        now: SimTime,
        rollback: bool,
    ) -> (u32, DefId) {
        let id = self.next_id;
        self.next_id += 1;
        let h = &mut self.services[s.index()];
        assert!(h.deploy.is_none(), "one deployment at a time");
        let from = h.primary_def;
        h.primary_def = def;
        h.throttle_count = 0;
        h.throttle_until = None;
        h.halted = false;
        h.deploy = Some(Deploy {
            id,
            def,
            from_def: from,
            failures: 0,
            stalled: false,
            rollback,
        });
        self.records.push(DeployRecord {
            service: s,
            id,
            def,
            from_def: from,
            started: now,
            ended: None,
            state: DeploymentState::InProgress,
            failures: 0,
            reason: String::new(),
        });
        (id, from)
    }

    /// End the deployment in progress; false if there is none.
    pub(crate) fn end(
        &mut self,
        s: ServiceId,
        now: SimTime,
        state: DeploymentState,
        reason: &str,
    ) -> bool {
        let Some(dep) = self.services[s.index()].deploy.take() else {
            return false;
        };
        if state == DeploymentState::Completed {
            self.services[s.index()].last_completed_def = dep.def;
        }
        if let Some(r) = self
            .records
            .iter_mut()
            .rev()
            .find(|r| r.service == s && r.id == dep.id)
        {
            r.ended = Some(now);
            r.state = state;
            r.failures = dep.failures;
            r.reason = reason.to_string();
        }
        true
    }

    /// The deployment failed and does not roll back: ECS launches no more tasks for it
    /// (ecs-semantics 4.5, ECS-DG deployment-circuit-breaker.html).
    pub(crate) fn halt(&mut self, s: ServiceId) {
        self.services[s.index()].halted = true;
    }

    /// Launches are stopped by a failed deployment.
    pub(crate) fn halted(&self, s: ServiceId) -> bool {
        self.services[s.index()].halted
    }

    /// A task of the service reached RUNNING: the throttle count starts again.
    pub(crate) fn task_running(&mut self, s: ServiceId) {
        self.services[s.index()].throttle_count = 0;
    }

    /// A task failed to start. Returns true when this failure throttles the service for the
    /// first time in the streak (the caller records the THROTTLED event).
    pub(crate) fn failed_start(&mut self, s: ServiceId, f: &FailureSettings, now: SimTime) -> bool {
        let h = &mut self.services[s.index()];
        h.throttle_count += 1;
        if h.throttle_count < f.throttle_after_failures {
            return false;
        }
        let k = h.throttle_count - f.throttle_after_failures;
        h.throttle_until = Some(now.plus_ms(throttle_delay_ms(f, k)));
        k == 0
    }

    /// Count a failed task of definition `def` against the deployment's circuit breaker.
    pub(crate) fn count_failure(
        &mut self,
        s: ServiceId,
        cb: &CircuitBreaker,
        def: DefId,
        desired: u32,
    ) -> Breaker {
        let h = &mut self.services[s.index()];
        let Some(dep) = h.deploy.as_mut() else {
            return Breaker::Holds;
        };
        if def != dep.def {
            return Breaker::Holds;
        }
        dep.failures += 1;
        let threshold = cb.threshold(desired);
        if dep.failures < threshold {
            return Breaker::Holds;
        }
        let rollback_to = (cb.rollback && !dep.rollback).then(|| {
            if h.last_completed_def == h.primary_def {
                dep.from_def
            } else {
                h.last_completed_def
            }
        });
        Breaker::Trips {
            failures: dep.failures,
            threshold,
            rollback_to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_bounds_round_as_ecs_documents() {
        // ECS-DG deployment-type-ecs.html: minimumHealthyPercent rounds up, maximumPercent down.
        assert_eq!(min_healthy(4, 50), 2);
        assert_eq!(min_healthy(3, 50), 2);
        assert_eq!(min_healthy(1, 50), 1);
        assert_eq!(min_healthy(5, 0), 0);
        assert_eq!(max_total(4, 200), 8);
        assert_eq!(max_total(3, 150), 4);
        assert_eq!(max_total(1, 150), 1);
        // A maximum below 100 % never drops under the desired count.
        assert_eq!(max_total(4, 50), 4);
    }

    fn settings() -> FailureSettings {
        FailureSettings {
            detection_delay_ms: 0,
            fargate_spot_interruptions_per_task_hour: 0.0,
            scripted: Vec::new(),
            trace: None,
            throttle_initial_ms: 10_000,
            throttle_factor: 2.0,
            throttle_cap_ms: 900_000,
            throttle_after_failures: 3,
        }
    }

    #[test]
    fn the_throttle_doubles_from_ten_seconds_up_to_its_cap() {
        // ECS-DG service-throttle-logic.html: 10 s, doubling, capped (15 minutes in 2023).
        let f = settings();
        let delays: Vec<u64> = (0..9).map(|k| throttle_delay_ms(&f, k)).collect();
        assert_eq!(
            delays,
            vec![
                10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 900_000, 900_000
            ]
        );
    }

    #[test]
    fn the_throttle_starts_after_the_configured_failures_and_a_running_task_resets_it() {
        let sc_f = settings();
        let mut d = Deployments {
            services: vec![ServiceDeployments {
                primary_def: DefId(0),
                deploy: None,
                last_completed_def: DefId(0),
                throttle_count: 0,
                throttle_until: None,
                wake_at: None,
                halted: false,
            }],
            records: Vec::new(),
            next_id: 0,
        };
        let s = ServiceId(0);
        let t = SimTime::from_ms(1000);
        assert!(!d.failed_start(s, &sc_f, t));
        assert!(!d.failed_start(s, &sc_f, t));
        assert!(!d.throttled(s, t));
        assert!(d.failed_start(s, &sc_f, t), "the third failure throttles");
        assert!(d.throttled(s, t));
        assert!(!d.throttled(s, t.plus_ms(10_000)));
        assert_eq!(d.wake_needed(s, t), Some(t.plus_ms(10_000)));
        assert_eq!(d.wake_needed(s, t), None, "one wake-up per throttle period");
        assert!(
            !d.failed_start(s, &sc_f, t),
            "only the first throttle is announced"
        );
        d.task_running(s);
        assert!(
            !d.failed_start(s, &sc_f, t),
            "the count starts again after RUNNING"
        );
    }

    fn breaker(min_threshold: u32, rollback: bool) -> CircuitBreaker {
        CircuitBreaker {
            rollback,
            min_threshold,
            percent: 50,
        }
    }

    #[test]
    fn the_circuit_breaker_trips_at_its_threshold_and_rolls_back_once() {
        // ECS-DG deployment-circuit-breaker.html: threshold clamp(ceil(0.5 x D), min, 200).
        let sc_like = |def| ServiceDeployments {
            primary_def: def,
            deploy: None,
            last_completed_def: def,
            throttle_count: 0,
            throttle_until: None,
            wake_at: None,
            halted: false,
        };
        let mut d = Deployments {
            services: vec![sc_like(DefId(0))],
            records: Vec::new(),
            next_id: 0,
        };
        let s = ServiceId(0);
        let now = SimTime::ZERO;
        d.start(s, DefId(1), now, false);
        let cb = breaker(3, true);
        // D = 4: ceil(2) clamped up to the minimum 3.
        assert_eq!(d.count_failure(s, &cb, DefId(1), 4), Breaker::Holds);
        assert_eq!(
            d.count_failure(s, &cb, DefId(0), 4),
            Breaker::Holds,
            "old tasks do not count"
        );
        assert_eq!(d.count_failure(s, &cb, DefId(1), 4), Breaker::Holds);
        assert_eq!(
            d.count_failure(s, &cb, DefId(1), 4),
            Breaker::Trips {
                failures: 3,
                threshold: 3,
                rollback_to: Some(DefId(0))
            }
        );
        assert!(d.end(s, now, DeploymentState::Failed, "circuit breaker"));
        // The rollback deployment itself does not roll back again.
        d.start(s, DefId(0), now, true);
        for _ in 0..2 {
            assert_eq!(d.count_failure(s, &cb, DefId(0), 4), Breaker::Holds);
        }
        assert!(matches!(
            d.count_failure(s, &cb, DefId(0), 4),
            Breaker::Trips {
                rollback_to: None,
                ..
            }
        ));
        // D = 20: ceil(10) is above the minimum.
        assert_eq!(cb.threshold(20), 10);
        assert_eq!(cb.threshold(1000), 200, "capped at 200");
    }
}
