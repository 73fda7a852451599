//! Jobs: streams of standalone tasks (RunTask). A job's arrivals come from a list, a period or a
//! Poisson process; each task draws its task definition from the job's weighted mix and its run
//! time from the job's distribution, each from the job's own named stream (`arrivals/<stream>`,
//! `task-mix/<stream>`, `run-times/<stream>`), so jobs sharing a `stream` name see the same
//! workload whatever else differs (common random numbers).

use std::collections::VecDeque;

use ecsim_engine::{Scheduler, SimTime, Stream, Streams};
use ecsim_placement::{Constraint, GroupId};
use rand::RngExt;

use crate::core::Core;
use crate::ids::{ClusterId, DefId, JobId};
use crate::record::Sink;
use crate::scenario::{Arrival, Scenario};
use crate::sim::event::*;

/// One entry of a job's task mix, resolved.
struct Entry {
    def: DefId,
    group: GroupId,
    /// The job's constraints, then the task definition's.
    constraints: Vec<Constraint>,
}

struct JobState {
    arrivals: Stream,
    mix: Stream,
    run_times: Stream,
    emitted: u64,
    next_ms: f64,
    entries: Vec<Entry>,
    cumulative: Vec<f64>,
    /// Arrived tasks whose RunTask call was throttled, in call order.
    deferred: VecDeque<Arrived>,
}

/// A task that has just arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrived {
    pub(crate) entry: u32,
    pub(crate) def: DefId,
    pub(crate) group: GroupId,
    pub(crate) run_ms: u64,
}

/// Every job's arrival process and task mix.
pub(crate) struct Jobs {
    jobs: Vec<JobState>,
    /// Tasks deferred by throttled RunTask calls, over all jobs.
    deferred: u64,
}

impl Jobs {
    /// Resolve the mixes (interning task groups in the core's placement) and derive the streams.
    pub(crate) fn new<S: Sink>(sc: &Scenario, core: &mut Core<'_, S>, streams: &Streams) -> Self {
        let mut jobs = Vec::new();
        for j in &sc.jobs {
            let mut entries = Vec::new();
            let mut cumulative = Vec::new();
            let mut acc = 0.0;
            for &(d, w) in &j.mix {
                let def = &sc.task_definitions[d];
                let name = match &j.group {
                    Some(g) => g.clone(),
                    None => format!("family:{}", def.family),
                };
                let group = core.group(ClusterId::new(j.cluster), &name);
                let mut constraints = j.constraints.clone();
                constraints.extend(def.constraints.iter().map(|c| c.1.clone()));
                entries.push(Entry {
                    def: DefId::new(d),
                    group,
                    constraints,
                });
                acc += w;
                cumulative.push(acc);
            }
            jobs.push(JobState {
                arrivals: streams.stream(&format!("arrivals/{}", j.stream)),
                mix: streams.stream(&format!("task-mix/{}", j.stream)),
                run_times: streams.stream(&format!("run-times/{}", j.stream)),
                emitted: 0,
                next_ms: 0.0,
                entries,
                cumulative,
                deferred: VecDeque::new(),
            });
        }
        Jobs { jobs, deferred: 0 }
    }

    /// Tasks waiting for a throttled RunTask call, over all jobs.
    pub(crate) fn deferred(&self) -> u64 {
        self.deferred
    }

    /// Number of jobs.
    pub(crate) fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Constraints of a job's mix entry.
    pub(crate) fn constraints(&self, j: JobId, entry: u32) -> &[Constraint] {
        &self.jobs[j.index()].entries[entry as usize].constraints
    }

    /// Schedule a job's next arrival, if it has one before the end.
    pub(crate) fn schedule_next<S: Sink>(
        &mut self,
        sc: &Scenario,
        core: &mut Core<'_, S>,
        j: JobId,
        sched: &mut Scheduler<Ev>,
    ) {
        let rt = &mut self.jobs[j.index()];
        let Some(t) = next_arrival(&sc.jobs[j.index()].arrival, rt) else {
            return;
        };
        let t = t.max(sched.now().ms());
        if sc.simulation.duration_ms.is_some_and(|d| t >= d) {
            return;
        }
        core.work_added();
        sched.schedule_at(SimTime::from_ms(t), Ev::Lifecycle(LifecycleEv::Arrival(j)));
    }

    /// Keep an arrived task whose RunTask call was throttled until its retry.
    pub(crate) fn defer(&mut self, j: JobId, a: Arrived) {
        self.jobs[j.index()].deferred.push_back(a);
        self.deferred += 1;
    }

    /// The oldest throttled task of the job, now that its call goes through.
    pub(crate) fn take_deferred(&mut self, j: JobId) -> Arrived {
        self.deferred -= 1;
        self.jobs[j.index()]
            .deferred
            .pop_front()
            .expect("one deferred task per retry event")
    }

    /// A task of the job arrives: draw its mix entry and run time.
    pub(crate) fn arrive(&mut self, sc: &Scenario, j: JobId) -> Arrived {
        let rt = &mut self.jobs[j.index()];
        rt.emitted += 1;
        let k = if rt.entries.len() == 1 {
            0
        } else {
            let total = *rt.cumulative.last().expect("mix");
            let u = rt.mix.random::<f64>() * total;
            rt.cumulative
                .partition_point(|&c| c <= u)
                .min(rt.entries.len() - 1)
        };
        let run_ms = sc.jobs[j.index()].run_time.sample(&mut rt.run_times);
        Arrived {
            entry: k as u32,
            def: rt.entries[k].def,
            group: rt.entries[k].group,
            run_ms,
        }
    }
}

/// When the next task of a job arrives (ms), from its arrival process.
fn next_arrival(arrival: &Arrival, rt: &mut JobState) -> Option<u64> {
    match arrival {
        Arrival::List(times) => times.get(rt.emitted as usize).copied(),
        Arrival::Periodic {
            start_ms,
            every_ms,
            batch,
            batches,
            spread_ms,
        } => {
            let batch = u64::from(*batch);
            let (b, k) = (rt.emitted / batch, rt.emitted % batch);
            if batches.is_some_and(|n| b >= n) {
                None
            } else {
                Some(start_ms + b * every_ms + k * spread_ms / batch)
            }
        }
        Arrival::Poisson {
            rate_per_s,
            start_ms,
            count,
            end_ms,
        } => {
            if count.is_some_and(|c| rt.emitted >= c) {
                return None;
            }
            if rt.emitted == 0 {
                rt.next_ms = *start_ms as f64;
            }
            let gap: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, &mut rt.arrivals);
            rt.next_ms += gap * 1000.0 / rate_per_s;
            let t = rt.next_ms.round() as u64;
            (!end_ms.is_some_and(|e| t > e)).then_some(t)
        }
    }
}
