//! Applying Availability Zone rebalancing (ecs-semantics 4.8): when to check a service, and the
//! moves [`crate::service::rebalance`] decides. See that module for the conventions.

use std::collections::BTreeMap;

use ecsim_engine::{Scheduler, SimTime};
use ecsim_placement::Constraint;

use super::Simulation;
use super::event::{Ev, ServiceEv};
use crate::core::{InstanceState, Outcome, Runs};
use crate::ids::{ClusterId, ServiceId, TaskId};
use crate::record::Sink;
use crate::scenario::{LaunchSpec, ProviderKind, SchedulingStrategy};
use crate::service::deployment::{max_total, min_healthy};
use crate::service::rebalance::{Order, order, unbalanced};
use crate::service::reconcile::Role;

/// Why a task is stopped by a rebalancing move.
const REASON: &str = "AvailabilityZoneRebalancing";

impl<S: Sink> Simulation<'_, S> {
    /// Whether a service's tasks run on Fargate (launch type or Fargate capacity providers).
    fn on_fargate(&self, s: ServiceId) -> bool {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        match &def.launch {
            LaunchSpec::Ec2 => false,
            LaunchSpec::Fargate => true,
            LaunchSpec::Strategy(items) => items.iter().any(|it| {
                !matches!(
                    sc.clusters[def.cluster].capacity_providers[it.provider].kind,
                    ProviderKind::Asg { .. }
                )
            }),
        }
    }

    /// Steady state: rebalancing on, desired count reached by good tasks that are all healthy,
    /// nothing retiring or STOPPING, no deployment in progress.
    fn rebalance_steady(&self, s: ServiceId, now: SimTime) -> bool {
        let def = &self.core.sc.services[s.index()];
        let t = self.core.service(s);
        def.az_rebalancing
            && def.scheduling == SchedulingStrategy::Replica
            && t.desired > 0
            && t.live.len() as u32 == t.desired
            && self.deployments.in_progress(s).is_none()
            && !self.deployments.halted(s)
            // Newest first: a service still starting up fails fast.
            && t.live.iter().rev().all(|&x| {
                self.core.task(x).healthy(now) && self.role(s, x) == Role::Good
            })
    }

    /// The AZ a live task runs in.
    fn task_az(&self, s: ServiceId, t: TaskId) -> Option<&str> {
        let x = self.core.task(t);
        match x.runs {
            Runs::Fargate { az, .. } => {
                Some(self.core.sc.services[s.index()].availability_zones[az as usize].as_str())
            }
            Runs::Ec2 { .. } => x.instance_ref().map(|r| self.core.instance(r).az.as_str()),
        }
    }

    /// The AZs that can take the service's tasks now, in name order, with its good tasks in
    /// each: on Fargate its AZs that are not down; on EC2 the AZs of ACTIVE, healthy instances
    /// that satisfy its `memberOf` constraints.
    fn az_counts(&self, s: ServiceId) -> (Vec<String>, Vec<u32>) {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        let mut azs: BTreeMap<&str, u32> = BTreeMap::new();
        if self.on_fargate(s) {
            for a in &def.availability_zones {
                if !self.failures.azs_down().contains(a) {
                    azs.insert(a, 0);
                }
            }
        } else {
            let c = ClusterId::new(def.cluster);
            let pc = &self.core.cluster(c).pc;
            for (r, x) in self.core.instances(c) {
                if x.state == InstanceState::Active
                    && !x.failed
                    && !azs.contains_key(x.az.as_str())
                    && def.constraints.iter().all(|k| match k {
                        Constraint::MemberOf(e) => e.eval(&pc.facts(r.id)),
                        Constraint::DistinctInstance => true,
                    })
                {
                    azs.insert(&x.az, 0);
                }
            }
        }
        for &t in &self.core.service(s).live {
            if self.role(s, t) == Role::Good
                && let Some(a) = self.task_az(s, t)
                && let Some(n) = azs.get_mut(a)
            {
                *n += 1;
            }
        }
        let names = azs.keys().map(|a| a.to_string()).collect();
        (names, azs.into_values().collect())
    }

    /// "N tasks in AZ, M tasks in AZ2" for the service events.
    fn spread_text(azs: &[String], counts: &[u32]) -> String {
        azs.iter()
            .zip(counts)
            .map(|(a, n)| format!("{n} tasks in {a}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Schedule a rebalancing check of a service that is at steady state and unbalanced (or
    /// still rebalancing), at most one per interval.
    pub(super) fn rebalance_arm(&mut self, s: ServiceId, now: SimTime, sched: &mut Scheduler<Ev>) {
        if let Some(&(t, _)) = self.rebalancer.moving(s.index())
            && !self.core.service(s).live.contains(&t)
        {
            // The task a move started stopped before it was healthy: the move is abandoned.
            self.rebalancer.clear_moving(s.index());
        }
        if !self.rebalance_steady(s, now) {
            return;
        }
        let (_, counts) = self.az_counts(s);
        if unbalanced(&counts).is_none() && !self.rebalancer.active(s.index()) {
            return;
        }
        if let Some(at) = self.rebalancer.arm(s.index(), now) {
            sched.schedule_at(at, Ev::Service(ServiceEv::Rebalance(s)));
        }
    }

    /// The task a rebalancing move started and that is not healthy yet (it counts above the
    /// desired count until then): 1, else 0.
    pub(super) fn rebalance_extra(&self, s: ServiceId) -> u32 {
        match self.rebalancer.moving(s.index()) {
            Some(&(t, _)) if self.core.service(s).live.contains(&t) => 1,
            _ => 0,
        }
    }

    /// A rebalancing task started in `az`: the service events.
    pub(super) fn rebalance_started(&mut self, s: ServiceId, t: TaskId, az: &str, now: SimTime) {
        let text = format!("started 1 task in {az}: task {}", t.0);
        self.core.service_event(s, now, "", "TASKS_STARTED", &text);
    }

    /// A scheduled check: move one task, or announce the end of a rebalancing.
    pub(super) fn rebalance_check(
        &mut self,
        s: ServiceId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if !self.rebalance_steady(s, now) {
            return; // the next reconcile checks again
        }
        let (azs, counts) = self.az_counts(s);
        let name = &self.core.sc.services[s.index()].name;
        let Some(m) = unbalanced(&counts) else {
            if self.rebalancer.complete(s.index()) {
                let text = format!(
                    "service ({name}) is AZ balanced with {}.",
                    Self::spread_text(&azs, &counts)
                );
                self.core
                    .service_event(s, now, "", "SERVICE_REBALANCING_COMPLETED", &text);
            }
            return;
        };
        let def = &self.core.sc.services[s.index()];
        let d = self.core.service(s).desired;
        let live = self.core.service(s).live.len() as u32;
        // At steady state every live task is healthy.
        let how = order(
            live,
            live,
            max_total(d, def.maximum_percent),
            min_healthy(d, def.minimum_healthy_percent),
        );
        if how == Order::Blocked {
            return;
        }
        let started_text = format!(
            "service ({name}) is not AZ balanced with {}. AZ Rebalancing in progress.",
            Self::spread_text(&azs, &counts)
        );
        let (from, to) = (azs[m.from].clone(), azs[m.to].clone());
        match how {
            Order::StartFirst => {
                let Ok(t) = self.launch_service_task_in(s, Some(&to), now, sched) else {
                    return; // the AZ cannot take the task now: a later check tries again
                };
                if self.rebalancer.start(s.index()) {
                    self.core.service_event(
                        s,
                        now,
                        "",
                        "SERVICE_REBALANCING_STARTED",
                        &started_text,
                    );
                }
                self.rebalance_started(s, t, &to, now);
                self.rebalancer.set_moving(s.index(), t, from);
            }
            Order::StopFirst => {
                if !self.service_task_fits_in(s, &to) {
                    return; // the AZ cannot take the replacement now: a later check tries again
                }
                if self.rebalancer.start(s.index()) {
                    self.core.service_event(
                        s,
                        now,
                        "",
                        "SERVICE_REBALANCING_STARTED",
                        &started_text,
                    );
                }
                self.rebalancer.set_target(s.index(), to);
                self.rebalance_stop(s, &from, None, now, sched);
            }
            Order::Blocked => {}
        }
    }

    /// Stop one good task of a service in AZ `from` (not `except`), chosen as on scale-in; then
    /// reconcile (which starts a stop-first move's replacement in its target AZ).
    fn rebalance_stop(
        &mut self,
        s: ServiceId,
        from: &str,
        except: Option<TaskId>,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let cands: Vec<TaskId> = self
            .core
            .service(s)
            .live
            .iter()
            .copied()
            .filter(|&t| {
                Some(t) != except
                    && self.role(s, t) == Role::Good
                    && self.task_az(s, t) == Some(from)
            })
            .collect();
        if cands.is_empty() {
            self.rebalancer.take_target(s.index());
            return;
        }
        let (t, rule, among) = self.choose_stop_among(s, &cands, false);
        if self.explains() {
            let args = format_args!("from={from};among={among};rule={}", rule.as_str());
            self.explain_stop(("rebalance", "fullest_az"), s, t, args, now);
        }
        let text = format!("stopped 1 task in {from}: task {}", t.0);
        self.core.service_event(s, now, "", "TASKS_STOPPED", &text);
        self.stop_task(t, Outcome::StoppedByScheduler, REASON, now, sched);
        self.reconcile(s, now, sched);
    }

    /// The task a start-first move started is healthy: stop one in the fullest AZ.
    pub(super) fn finish_move(
        &mut self,
        s: ServiceId,
        tid: TaskId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let Some((_, from)) = self.rebalancer.moving(s.index()).cloned() else {
            return;
        };
        self.rebalancer.clear_moving(s.index());
        let ok = self.core.service(s).live.contains(&tid)
            && self.role(s, tid) == Role::Good
            && self.deployments.in_progress(s).is_none()
            && self.good_count(s) > self.core.service(s).desired;
        if ok {
            self.rebalance_stop(s, &from, Some(tid), now, sched);
        } else {
            self.reconcile(s, now, sched);
        }
    }

    fn good_count(&self, s: ServiceId) -> u32 {
        let live = &self.core.service(s).live;
        live.iter()
            .filter(|&&t| self.role(s, t) == Role::Good)
            .count() as u32
    }
}
