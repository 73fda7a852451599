//! Snapshot and fork: run a scenario's shared prefix once, copy the whole state at an instant,
//! and continue one branch per variant from that copy.
//!
//! # What a branch may change
//! A branch's scenario must equal the base scenario except where a running cluster can take a
//! change at the fork instant ([`problems`] names every other difference):
//! * a REPLICA service's `desired_count`: set at the fork, as a scripted action would
//!   (a `DesiredCountChanged` event, then the service reconciles);
//! * a service's or job's placement `strategy`: used for every placement from the fork on; and a
//!   service's `az_rebalancing` (which follows the strategy by default): used at its next check;
//! * a service's auto scaling targets, alarms and bounds (the same number of target tracking and
//!   step scaling policies; scheduled actions unchanged): used from the next evaluation on, with
//!   the alarm states, cooldowns and datapoints the prefix left;
//! * the `base` and `weight` of a capacity provider strategy's items (the same providers in the
//!   same order): used for the next task launched;
//! * `actions` and `failures.scripted` at or after the fork (those before it must be the base's);
//! * an instance group's `count`, larger (the extra instances launch at the fork; a smaller one
//!   is refused: drain instances with a scripted `drain-instances` at the fork instead), and
//!   its managed scaling settings and `min_size` / `max_size`;
//! * objectives (they judge results, they do not change them).
//!
//! # Same bytes without changes
//! The prefix stops before the first event at the fork instant; a branch is a copy of every
//! subsystem, the event queue (same sequence numbers) and the streams, writing into its own
//! sink after the prefix's records were written into every branch's sink. A branch without
//! changes therefore processes exactly the events of the plain run and writes the same bytes.
//! Placement indexes and the datapoints kept (service and cluster auto scaling) are those every
//! branch needs (an index only makes placement faster; a datapoint kept longer is never read by
//! the base), so the prefix is the same for every branch.

use ecsim_engine::{Limits, Scheduler, SimTime, StopReason as EngineStop};

use super::event::{Ev, FailureEv, ServiceEv};
use super::{RunOptions, Simulation};
use crate::ids::{ClusterId, ServiceId};
use crate::record::{
    CostRow, DecisionRecord, DeploymentRow, EventRecord, FailureRow, MetricsRow, PlacementRecord,
    RunHeader, ScalingRecord, Sink, Summary, TaskRow,
};
use crate::scenario::{Arrival, LaunchSpec, Scenario, SchedulingStrategy};

/// Why a fork cannot be made: every problem, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkError(pub Vec<String>);

impl std::fmt::Display for ForkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, p) in self.0.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ForkError {}

/// The top-level field in which two values' `{:#?}` texts first differ, if they do.
fn first_difference(a: &impl std::fmt::Debug, b: &impl std::fmt::Debug) -> Option<String> {
    let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
    if a == b {
        return None;
    }
    let mut field = String::new();
    let mut lb = b.lines();
    for la in a.lines() {
        let top = la
            .strip_prefix("    ")
            .filter(|r| !r.starts_with(' '))
            .and_then(|r| r.split_once(':'))
            .map(|(name, _)| name.to_string());
        if let Some(name) = top {
            field = name;
        }
        if lb.next() != Some(la) {
            break;
        }
    }
    Some(field)
}

/// The scenario file's key for a field of the validated types, where the two differ.
fn key(field: &str) -> &str {
    match field {
        "strategy" => "placement_strategy",
        "launch" => "launch_type/capacity_provider_strategy",
        "cpu_units" => "cpu",
        "memory_mib" => "memory",
        "duration_ms" => "duration",
        "at_ms" => "at",
        other => other,
    }
}

/// A message for a field of `name` that differs, or for the section itself.
fn differs(name: &str, field: &str) -> String {
    let at = if field.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{}", key(field))
    };
    format!("{at} differs from the base scenario and cannot change at a fork")
}

/// Element by element: a different length, or the first field that differs in each element.
fn list_problems<T: std::fmt::Debug>(name: &str, base: &[T], variant: &[T], out: &mut Vec<String>) {
    if base.len() != variant.len() {
        out.push(format!(
            "{name}: {} entries instead of {}; their number cannot change at a fork",
            variant.len(),
            base.len()
        ));
        return;
    }
    for (k, (b, v)) in base.iter().zip(variant).enumerate() {
        if let Some(field) = first_difference(b, v) {
            out.push(differs(&format!("{name}[{k}]"), &field));
        }
    }
}

/// Where a branch's scenario differs from the base in a way no running cluster can take: one
/// message per difference, naming the field, or nothing when the branch can fork at `at_ms`.
pub fn problems(base: &Scenario, variant: &Scenario, at_ms: u64) -> Vec<String> {
    let mut out = Vec::new();
    let mut whole = |name: &str, differs: Option<String>| {
        if let Some(field) = differs {
            let at = if field.is_empty() {
                name.to_string()
            } else {
                format!("{name}.{field}")
            };
            out.push(format!(
                "{at} differs from the base scenario and cannot change at a fork"
            ));
        }
    };
    if base.seed != variant.seed {
        whole("seed", Some(String::new()));
    }
    whole(
        "simulation",
        first_difference(&base.simulation, &variant.simulation),
    );
    whole(
        "settings",
        first_difference(&base.settings, &variant.settings),
    );
    whole("fargate", first_difference(&base.fargate, &variant.fargate));
    whole("pricing", first_difference(&base.pricing, &variant.pricing));
    let mut fs = variant.failures.clone();
    fs.scripted = base.failures.scripted.clone();
    whole("failures", first_difference(&base.failures, &fs));
    list_problems(
        "instance_types",
        &base.instance_types,
        &variant.instance_types,
        &mut out,
    );
    list_problems(
        "task_definitions",
        &base.task_definitions,
        &variant.task_definitions,
        &mut out,
    );
    let mut jobs = variant.jobs.clone();
    if jobs.len() == base.jobs.len() {
        for (j, b) in jobs.iter_mut().zip(&base.jobs) {
            j.strategy = b.strategy.clone();
        }
    }
    list_problems("jobs", &base.jobs, &jobs, &mut out);
    clusters_problems(base, variant, &mut out);
    services_problems(base, variant, &mut out);
    before_fork(
        "actions",
        &base.actions,
        &variant.actions,
        |a| a.at_ms,
        at_ms,
        &mut out,
    );
    before_fork(
        "failures.scripted",
        &base.failures.scripted,
        &variant.failures.scripted,
        |f| f.at_ms,
        at_ms,
        &mut out,
    );
    if base
        .jobs
        .iter()
        .any(|j| matches!(j.arrival, Arrival::Trace(..)))
    {
        out.push(
            "jobs: a trace job cannot be forked (its trace is read from an open file as the run goes)"
                .to_string(),
        );
    }
    if let Some(d) = base.simulation.duration_ms
        && at_ms >= d
    {
        out.push(format!(
            "the fork time ({}) is not before the end of the run ({})",
            ecsim_engine::format_duration(at_ms),
            ecsim_engine::format_duration(d)
        ));
    }
    if at_ms == 0 {
        out.push("the fork time must be after time zero".to_string());
    }
    out
}

/// Entries before the fork must be the base's, at the same places (events refer to them by
/// index).
fn before_fork<T: std::fmt::Debug>(
    name: &str,
    base: &[T],
    variant: &[T],
    at: impl Fn(&T) -> u64,
    at_ms: u64,
    out: &mut Vec<String>,
) {
    for k in 0..base.len().max(variant.len()) {
        let (b, v) = (base.get(k), variant.get(k));
        let early = b.is_some_and(|b| at(b) < at_ms) || v.is_some_and(|v| at(v) < at_ms);
        if early && (b.is_none() || v.is_none() || first_difference(&b, &v).is_some()) {
            out.push(format!(
                "{name}[{k}] differs from the base scenario before the fork time; only entries at or after it may change"
            ));
        }
    }
}

fn clusters_problems(base: &Scenario, variant: &Scenario, out: &mut Vec<String>) {
    if base.clusters.len() != variant.clusters.len() {
        out.push("clusters: the number of clusters cannot change at a fork".to_string());
        return;
    }
    for (ci, (b, v)) in base.clusters.iter().zip(&variant.clusters).enumerate() {
        if b.groups.len() != v.groups.len() {
            out.push(format!(
                "clusters[{ci}]: the number of instance groups cannot change at a fork"
            ));
            continue;
        }
        let mut masked = v.clone();
        for (gi, (bg, mg)) in b.groups.iter().zip(masked.groups.iter_mut()).enumerate() {
            let at = format!("clusters[{ci}].groups[{gi}]");
            if mg.count < bg.count {
                out.push(format!(
                    "{at}.count: a smaller group ({} < {}) is not taken at a fork; drain instances with a scripted drain-instances failure at the fork time instead",
                    mg.count, bg.count
                ));
            } else if mg.count > bg.count && bg.managed_scaling.is_some() {
                out.push(format!(
                    "{at}.count: the group's size is managed by cluster auto scaling; change its managed scaling or min_size instead"
                ));
            }
            if bg.managed_scaling.is_some() != mg.managed_scaling.is_some() {
                out.push(format!(
                    "{at}.managed_scaling: managed scaling cannot be switched on or off at a fork"
                ));
            }
            mg.count = bg.count;
            mg.managed_scaling = bg.managed_scaling.clone();
            mg.min_size = bg.min_size;
            mg.max_size = bg.max_size;
            if let Some(field) = first_difference(bg, mg) {
                out.push(differs(&at, &field));
            }
        }
        masked.groups = b.groups.clone();
        if let Some(field) = first_difference(b, &masked) {
            out.push(differs(&format!("clusters[{ci}]"), &field));
        }
    }
}

fn services_problems(base: &Scenario, variant: &Scenario, out: &mut Vec<String>) {
    if base.services.len() != variant.services.len() {
        out.push("services: the number of services cannot change at a fork".to_string());
        return;
    }
    for (si, (b, v)) in base.services.iter().zip(&variant.services).enumerate() {
        let at = format!("services[{si}]");
        let mut m = v.clone();
        if m.desired_count != b.desired_count && b.scheduling == SchedulingStrategy::Daemon {
            out.push(format!(
                "{at}.desired_count: a DAEMON service has one task per instance"
            ));
        }
        m.desired_count = b.desired_count;
        m.strategy = b.strategy.clone();
        // Follows the strategy by default (on for a spread over AZs); read at every check.
        m.az_rebalancing = b.az_rebalancing;
        match (&b.auto_scaling, &v.auto_scaling) {
            (Some(ba), Some(va))
                if ba.target_tracking.len() == va.target_tracking.len()
                    && ba.step_scaling.len() == va.step_scaling.len()
                    && ba.scheduled == va.scheduled =>
            {
                m.auto_scaling = b.auto_scaling.clone();
            }
            (None, None) => {}
            _ => {
                out.push(format!(
                    "{at}.auto_scaling: a fork may change targets, alarms and bounds, not the number of policies, their scheduled actions, or whether the service scales"
                ));
                m.auto_scaling = b.auto_scaling.clone();
            }
        }
        match (&b.launch, &v.launch) {
            (LaunchSpec::Strategy(bi), LaunchSpec::Strategy(vi))
                if bi.len() == vi.len()
                    && bi.iter().zip(vi).all(|(x, y)| x.provider == y.provider) =>
            {
                m.launch = b.launch.clone();
            }
            (x, y) if x == y => {}
            _ => {
                out.push(format!(
                    "{at}.capacity_provider_strategy: a fork may change the base and weight of each item, not the providers, their order or the launch type"
                ));
                m.launch = b.launch.clone();
            }
        }
        if let Some(field) = first_difference(b, &m) {
            out.push(differs(&at, &field));
        }
    }
}

/// A sink that hands every record to several sinks: the prefix writes into every branch's.
pub struct Fanout<S> {
    sinks: Vec<S>,
}

impl<S: Sink> Sink for Fanout<S> {
    fn begin(&mut self, h: &RunHeader<'_>) {
        self.sinks.iter_mut().for_each(|s| s.begin(h));
    }
    fn event(&mut self, e: &EventRecord<'_>) {
        self.sinks.iter_mut().for_each(|s| s.event(e));
    }
    fn metrics(&mut self, m: &MetricsRow<'_>) {
        self.sinks.iter_mut().for_each(|s| s.metrics(m));
    }
    fn task(&mut self, t: &TaskRow<'_>) {
        self.sinks.iter_mut().for_each(|s| s.task(t));
    }
    fn cost(&mut self, c: &CostRow<'_>) {
        self.sinks.iter_mut().for_each(|s| s.cost(c));
    }
    fn scaling(&mut self, r: &ScalingRecord<'_>) {
        self.sinks.iter_mut().for_each(|s| s.scaling(r));
    }
    fn failure(&mut self, f: &FailureRow<'_>) {
        self.sinks.iter_mut().for_each(|s| s.failure(f));
    }
    fn deployment(&mut self, d: &DeploymentRow<'_>) {
        self.sinks.iter_mut().for_each(|s| s.deployment(d));
    }
    fn explains(&self) -> bool {
        self.sinks.iter().any(|s| s.explains())
    }
    fn wants_events(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_events())
    }
    fn wants_tasks(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_tasks())
    }
    fn placement(&mut self, p: &PlacementRecord<'_>) {
        self.sinks.iter_mut().for_each(|s| s.placement(p));
    }
    fn decision(&mut self, d: &DecisionRecord<'_>) {
        self.sinks.iter_mut().for_each(|s| s.decision(d));
    }
}

/// One branch of a fork, ready to run from the fork instant.
pub struct Branch<'s, S: Sink> {
    sim: Simulation<'s, S>,
    sched: Scheduler<Ev>,
    prefix_events: u64,
    seed: u64,
}

impl<S: Sink> Branch<'_, S> {
    /// Run the branch to its end: its summary (with `wall_ms` left at 0) and its sink.
    pub fn run(mut self, progress: Option<&mut dyn super::Progress>) -> (super::Summary, S) {
        let sc = self.sim.core.sc;
        let limits = Limits {
            max_events: sc.simulation.max_events.saturating_sub(self.prefix_events),
            max_time: SimTime::from_ms(sc.simulation.max_time_ms),
        };
        let mut none = super::NoProgress;
        let mut reporting = super::progress::Reporting {
            inner: &mut self.sim,
            progress: progress.unwrap_or(&mut none),
            end_ms: sc.simulation.duration_ms,
            events: self.prefix_events,
        };
        let mut stats = ecsim_engine::run(&mut reporting, &mut self.sched, limits);
        stats.events_processed += self.prefix_events;
        let (mut summary, sink): (Summary, S) = self.sim.finish(stats);
        summary.seed = self.seed;
        (summary, sink)
    }
}

/// Run `base` up to (not including) the instant `at_ms`, once, writing into every sink, then
/// make one branch per `(scenario, sink)`: a copy of the state that goes on with that scenario's
/// changes applied at `at_ms`. Every branch's scenario is checked first ([`problems`]).
pub fn fork<'s, S: Sink>(
    base: &'s Scenario,
    branches: Vec<(&'s Scenario, S)>,
    opts: RunOptions,
    at_ms: u64,
) -> Result<Vec<Branch<'s, S>>, ForkError> {
    let mut all = Vec::new();
    for (k, (sc, _)) in branches.iter().enumerate() {
        all.extend(
            problems(base, sc, at_ms)
                .into_iter()
                .map(|p| format!("branch {} ({}): {p}", k + 1, sc.name)),
        );
    }
    if !all.is_empty() {
        return Err(ForkError(all));
    }
    let (scenarios, sinks): (Vec<&'s Scenario>, Vec<S>) = branches.into_iter().unzip();
    let mut sched = Scheduler::new();
    let mut sim = Simulation::new_for_fork(base, opts, Fanout { sinks }, &mut sched, &scenarios);
    let events = run_prefix(&mut sim, &mut sched, base, at_ms)?;
    let end = PrefixEnd {
        base,
        at_ms,
        events,
        seed: opts.seed,
    };
    let sinks = std::mem::take(&mut sim.core.out.sink.sinks);
    scenarios
        .into_iter()
        .zip(sinks)
        .map(|(sc, sink)| sim.start_branch(&sched, &end, sc, sink))
        .collect()
}

/// A run stopped just before a fork instant, from which branches are made one at a time, as
/// they are needed (`ecsim size --fork-at`: its rounds choose candidates as they go). Each
/// branch starts with a copy of the prefix's sink (with what the prefix wrote into it).
pub struct Prefix<'s, S: Sink + Clone> {
    sim: Simulation<'s, S>,
    sched: Scheduler<Ev>,
    end: PrefixEnd<'s>,
}

/// Where a prefix stopped: its scenario, the fork instant, the events it processed, its seed.
struct PrefixEnd<'s> {
    base: &'s Scenario,
    at_ms: u64,
    events: u64,
    seed: u64,
}

/// Run `base` up to (not including) `at_ms` into `sink`, keeping what any of `branches` will
/// need (placement indexes, datapoints); branches are made later with [`Prefix::branch`].
pub fn prefix<'s, S: Sink + Clone>(
    base: &'s Scenario,
    branches: &[&Scenario],
    opts: RunOptions,
    at_ms: u64,
    sink: S,
) -> Result<Prefix<'s, S>, ForkError> {
    let mut sched = Scheduler::new();
    let mut sim = Simulation::new_for_fork(base, opts, sink, &mut sched, branches);
    let events = run_prefix(&mut sim, &mut sched, base, at_ms)?;
    Ok(Prefix {
        sim,
        sched,
        end: PrefixEnd {
            base,
            at_ms,
            events,
            seed: opts.seed,
        },
    })
}

impl<'s, S: Sink + Clone> Prefix<'s, S> {
    /// A branch that goes on with `sc` from the fork instant (its differences from the base
    /// checked by [`problems`] and applied then).
    pub fn branch<'b>(&self, sc: &'b Scenario) -> Result<Branch<'b, S>, ForkError>
    where
        's: 'b,
    {
        let p = problems(self.end.base, sc, self.end.at_ms);
        if !p.is_empty() {
            return Err(ForkError(p));
        }
        let sink = self.sim.core.out.sink.clone();
        self.sim.start_branch(&self.sched, &self.end, sc, sink)
    }
}

/// Run a fork's prefix: every event before `at_ms`; the events processed, or why the run ended
/// before the fork time.
fn run_prefix<S: Sink>(
    sim: &mut Simulation<'_, S>,
    sched: &mut Scheduler<Ev>,
    base: &Scenario,
    at_ms: u64,
) -> Result<u64, ForkError> {
    let at = SimTime::from_ms(at_ms);
    let limits = Limits {
        max_events: base.simulation.max_events,
        max_time: SimTime::from_ms((at_ms - 1).min(base.simulation.max_time_ms)),
    };
    let stats = ecsim_engine::run(sim, sched, limits);
    let reached = stats.reason == EngineStop::TimeLimit
        && sched.peek_time().is_some_and(|t| t >= at)
        && at_ms - 1 < base.simulation.max_time_ms;
    if reached {
        return Ok(stats.events_processed);
    }
    let why = match stats.reason {
        EngineStop::ModelStopped => "its work was done, or too many tasks waited",
        EngineStop::QueueEmpty => "nothing was left to do",
        EngineStop::EventLimit => "it reached simulation.max_events",
        EngineStop::TimeLimit => "it reached simulation.max_time",
    };
    Err(ForkError(vec![format!(
        "the run ended at {} before the fork time {} ({why}); fork earlier",
        ecsim_engine::format_duration(sched.now().ms()),
        ecsim_engine::format_duration(at_ms),
    )]))
}

impl<'s, S: Sink> Simulation<'s, S> {
    /// A branch from this run's state, stopped at `end`: a copy going on with `sc` into `sink`,
    /// the scenario's changes applied at the fork instant (`sc` checked by [`problems`]).
    fn start_branch<'b, S2: Sink>(
        &self,
        sched: &Scheduler<Ev>,
        end: &PrefixEnd<'_>,
        sc: &'b Scenario,
        sink: S2,
    ) -> Result<Branch<'b, S2>, ForkError> {
        // `problems` refuses trace jobs; this is the same refusal, should one get here.
        let jobs = self.jobs.try_clone().ok_or_else(|| {
            ForkError(vec![
                "a trace job cannot be forked (its trace is read from an open file)".to_string(),
            ])
        })?;
        let mut sim = Simulation {
            core: self.core.fork(sc, sink),
            launcher: self.launcher.clone(),
            jobs,
            scheduler: self.scheduler.clone(),
            deployments: self.deployments.clone(),
            rebalancer: self.rebalancer.clone(),
            autoscaling: self.autoscaling.clone(),
            cluster_autoscaling: self.cluster_autoscaling.clone(),
            failures: self.failures.clone(),
            metrics: self.metrics.clone(),
            retry_scheduled: self.retry_scheduled.clone(),
            check: self.check,
            stop_reason: self.stop_reason,
        };
        let mut sched = sched.clone();
        sim.apply_changes(end.base, SimTime::from_ms(end.at_ms), &mut sched);
        Ok(Branch {
            sim,
            sched,
            prefix_events: end.events,
            seed: end.seed,
        })
    }

    /// Apply, at the fork instant `at`, what the branch's scenario changes from `base`
    /// (checked by [`problems`]). Nothing is done, not even the time integrals brought up to
    /// `at`, for a branch that changes nothing: it stays byte-identical to the plain run.
    fn apply_changes(&mut self, base: &Scenario, at: SimTime, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        let actions = first_difference(&base.actions, &sc.actions).is_some();
        let scripted = first_difference(&base.failures.scripted, &sc.failures.scripted).is_some();
        let grow: Vec<(usize, usize, u32)> = (base.clusters.iter().zip(&sc.clusters))
            .enumerate()
            .flat_map(|(c, (b, v))| {
                (b.groups.iter().zip(&v.groups))
                    .enumerate()
                    .filter(|(_, (bg, vg))| vg.count > bg.count)
                    .map(move |(g, (bg, vg))| (c, g, vg.count - bg.count))
            })
            .collect();
        let desired: Vec<(usize, u32)> = (base.services.iter().zip(&sc.services))
            .enumerate()
            .filter(|(_, (b, v))| b.desired_count != v.desired_count)
            .map(|(s, (_, v))| (s, v.desired_count))
            .collect();
        let reconfigure = first_difference(&base.services, &sc.services).is_some()
            || first_difference(&base.clusters, &sc.clusters).is_some();
        if !(actions || scripted || reconfigure) {
            return;
        }
        self.advance(at);
        if reconfigure {
            self.launcher
                .reconfigure(sc, &self.core.billing.cluster_provider_ids);
            self.autoscaling.reconfigure(sc);
        }
        if actions {
            let dropped = sched.retain(|e| !matches!(e, Ev::Service(ServiceEv::Action(_))));
            for _ in dropped {
                self.core.work_done();
            }
            for (a, act) in sc.actions.iter().enumerate() {
                if act.at_ms >= at.ms() {
                    self.core.work_added();
                    sched.schedule_at(
                        SimTime::from_ms(act.at_ms),
                        Ev::Service(ServiceEv::Action(a as u32)),
                    );
                }
            }
        }
        if scripted {
            sched.retain(|e| !matches!(e, Ev::Failure(FailureEv::Scripted(_))));
            for (k, f) in sc.failures.scripted.iter().enumerate() {
                if f.at_ms >= at.ms() {
                    sched.schedule_at(
                        SimTime::from_ms(f.at_ms),
                        Ev::Failure(FailureEv::Scripted(k as u32)),
                    );
                }
            }
        }
        for (c, g, add) in grow {
            for _ in 0..add {
                self.launch_instance(ClusterId::new(c), g, at, sched);
            }
        }
        for (s, d) in desired {
            self.set_desired(ServiceId::new(s), d, at, sched);
        }
    }
}
