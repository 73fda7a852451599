//! The end of a run: the last metrics rows, billing to the end, the task, cost, failure and
//! deployment tables, and the summary.

use ecsim_engine::{RunStats, SimTime, StopReason as EngineStop};

use super::{Simulation, StopReason};
use crate::record::{
    DeploymentRow, FailureRow, GoalSummary, RecoverySummary, ScalingSummary, ServiceLoadGoals,
    ServiceScalingSummary, Sink, Summary, TraceSummary,
};
use crate::scenario::{Arrival, SchedulingStrategy};

impl<S: Sink> Simulation<'_, S> {
    /// Write the final rows and tables, and return the summary.
    pub fn finish(mut self, stats: RunStats) -> (Summary, S) {
        let end = stats.end;
        self.advance(end);
        while let Some(t) = self.metrics.due(end, true) {
            self.write_metrics(t);
        }
        if !end
            .ms()
            .is_multiple_of(self.core.sc.simulation.metrics_period_ms)
        {
            self.write_metrics(end);
        }
        // The end bills like a stop: instances and Fargate tasks still running are billed to it.
        self.core.bill_to_end(end);
        let stop_reason = match stats.reason {
            EngineStop::EventLimit => "max_events",
            EngineStop::TimeLimit => "max_time",
            EngineStop::QueueEmpty => "no_work_left",
            EngineStop::ModelStopped => match self.stop_reason {
                StopReason::Duration => "duration",
                StopReason::NoWorkLeft => "no_work_left",
                StopReason::MaxWaitingTasks => "max_waiting_tasks",
            },
        };
        let never_placed = self.core.write_task_rows(end);
        let costs = self.core.write_cost_rows();
        let (cpu_pct, mem_pct) = self.metrics.mean_reserved_pct();
        let traces = self
            .jobs
            .finish_traces()
            .into_iter()
            .map(|(j, counts)| {
                let job = &self.core.sc.jobs[j];
                let Arrival::Trace(spec) = &job.arrival else {
                    unreachable!("only trace jobs have counts")
                };
                TraceSummary {
                    job: job.name.clone(),
                    file: spec.file.clone(),
                    format: spec.format.name(),
                    counts,
                }
            })
            .collect();
        let c = &self.core.counters;
        let summary = Summary {
            scenario: self.core.sc.name.clone(),
            seed: 0,
            sim_end_ms: end.ms(),
            stop_reason: stop_reason.to_string(),
            events_processed: stats.events_processed,
            state_changes: self.core.out.state_changes(),
            tasks_created: self.core.tasks_created(),
            tasks_started: c.tasks_started,
            tasks_completed: c.tasks_completed,
            tasks_failed_to_place: c.tasks_failed_to_place,
            tasks_never_placed: never_placed,
            tasks_stopped_by_scheduler: c.tasks_scaled_in,
            tasks_waited_for_capacity: c.tasks_waited,
            run_task_calls_throttled: c.run_task_calls_throttled,
            tasks_waited_by_reason: c
                .waits_by_reason
                .iter()
                .map(|(why, n)| (why.to_string(), *n))
                .collect(),
            service_placement_failures: c.service_failures,
            mean_wait_ms: c.mean_wait_ms(),
            max_wait_ms: c.wait_max_ms,
            mean_cpu_reserved_pct: cpu_pct,
            mean_memory_reserved_pct: mem_pct,
            peak_instances: c.peak_instances,
            instance_hours: self.core.instance_hours(end),
            events_hash: self.core.out.hash_hex(),
            clusters: self
                .metrics
                .cluster_summaries(self.core.sc, &self.core, end),
            costs,
            scaling: self.scaling_summary(),
            recovery: self.recovery_summary(end),
            goals: self.goal_summary(end),
            traces,
            wall_ms: 0,
        };
        (summary, self.core.out.sink)
    }

    fn scaling_summary(&self) -> ScalingSummary {
        let a = &self.autoscaling;
        let (idle, idle_after_drop) = self.metrics.idle_hours();
        let (launched, terminated) = self.cluster_autoscaling.totals();
        ScalingSummary {
            unserved_request_minutes: a.unserved_request_minutes(),
            idle_instance_hours: idle,
            idle_instance_hours_after_load_drop: idle_after_drop,
            scaling_actions: a.actions(),
            instances_launched: launched,
            instances_terminated: terminated,
            services: a
                .per_service()
                .map(|(s, unserved, actions, reactions)| ServiceScalingSummary {
                    name: self.core.sc.services[s.index()].name.clone(),
                    unserved_request_minutes: unserved,
                    scaling_actions: actions,
                    load_changes: reactions
                        .iter()
                        .map(|x| (x.at, x.first_scaling, x.running))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Wait percentiles (every task, as tasks.csv's `wait_ms`: a task never placed waited until
    /// the end, so less capacity never makes them look better), availability per service,
    /// demand and time to serve load changes.
    fn goal_summary(&self, end: SimTime) -> GoalSummary {
        let sc = self.core.sc;
        let tracking = &self.failures.tracking;
        let availability = sc
            .services
            .iter()
            .enumerate()
            .filter(|(_, d)| d.scheduling == SchedulingStrategy::Replica)
            .map(|(s, d)| {
                let h = &tracking.services[s];
                let pct = match h.steady_since {
                    Some(t0) if end > t0 => 100.0 * h.avail_ms as f64 / end.since(t0) as f64,
                    _ => 0.0,
                };
                (d.name.clone(), pct)
            })
            .collect();
        let a = &self.autoscaling;
        let load = a
            .demand()
            .zip(a.per_service())
            .filter(|((s, _), _)| sc.services[s.index()].load.is_some())
            .map(
                |((s, demand), (_, unserved, _, reactions))| ServiceLoadGoals {
                    name: sc.services[s.index()].name.clone(),
                    demand_request_minutes: demand,
                    unserved_request_minutes: unserved,
                    served_after_ms: reactions.iter().map(|r| r.served).collect(),
                    change_at_ms: reactions.iter().map(|r| r.at).collect(),
                },
            )
            .collect();
        GoalSummary {
            // Every task's wait was counted as its row was written (`write_task_rows` ran).
            wait_percentiles_ms: [0.50, 0.95, 0.99].map(|q| self.core.counters.wait_quantile_ms(q)),
            availability,
            load,
        }
    }

    /// Write failures.csv and deployments.csv and sum up recovery.
    fn recovery_summary(&mut self, end: SimTime) -> RecoverySummary {
        let sc = self.core.sc;
        let sink = &mut self.core.out.sink;
        for f in self.failures.records() {
            let mut names: Vec<&str> = f
                .services
                .iter()
                .map(|&s| sc.services[s.index()].name.as_str())
                .collect();
            names.dedup();
            sink.failure(&FailureRow {
                time_ms: f.at.ms(),
                kind: f.kind.as_str(),
                target: &f.target,
                tasks_lost: f.tasks_lost,
                services: &names.join(";"),
                recovered_after_ms: f.recovered,
            });
        }
        for d in self.deployments.records() {
            sink.deployment(&DeploymentRow {
                service: &sc.services[d.service.index()].name,
                deployment_id: d.id,
                task_definition: &sc.task_definitions[d.def.index()].family,
                from_task_definition: &sc.task_definitions[d.from_def.index()].family,
                started_ms: d.started.ms(),
                ended_ms: d.ended.map(SimTime::ms),
                state: d.state.as_str(),
                failed_tasks: d.failures,
                reason: &d.reason,
            });
        }
        let pct = |x: u128, since: Option<SimTime>| match since {
            Some(t0) if end > t0 => 100.0 * x as f64 / end.since(t0) as f64,
            _ => 0.0,
        };
        let tracking = &self.failures.tracking;
        RecoverySummary {
            tasks_lost: self.core.counters.tasks_lost,
            unserved_request_minutes_during_failures: tracking.unserved_during_failures,
            services: sc
                .services
                .iter()
                .enumerate()
                .filter(|(_, d)| d.scheduling == SchedulingStrategy::Replica)
                .map(|(s, d)| {
                    let h = &tracking.services[s];
                    (
                        d.name.clone(),
                        pct(h.avail_ms, h.steady_since),
                        pct(h.min_healthy_ms, h.steady_since),
                        h.tasks_lost,
                        h.missing_task_ms as f64 / 60_000.0,
                    )
                })
                .collect(),
            failures: self
                .failures
                .records()
                .iter()
                .map(|f| (f.kind.as_str().to_string(), f.at.ms(), f.recovered))
                .collect(),
            deployments: self
                .deployments
                .records()
                .iter()
                .map(|d| {
                    (
                        sc.services[d.service.index()].name.clone(),
                        d.id,
                        d.state.as_str().to_string(),
                        d.ended.map(|e| e.since(d.started)),
                    )
                })
                .collect(),
        }
    }
}
