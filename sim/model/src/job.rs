//! Jobs: streams of standalone tasks (RunTask). A job's arrivals come from a list, a period or a
//! Poisson process; each task draws its task definition from the job's weighted mix and its run
//! time from the job's distribution, each from the job's own named stream (`arrivals/<stream>`,
//! `task-mix/<stream>`, `run-times/<stream>`), so jobs sharing a `stream` name see the same
//! workload whatever else differs (common random numbers).
//!
//! A trace job (`arrival.type = "trace"`) takes its tasks from a [`TraceReader`] instead, one row
//! at a time as simulated time reaches it: each task has the row's submit time, size and run
//! time, and its mix entry is interned per (group, constraint) of the rows (entry 0 is the
//! job's own), so a waiting task keeps its constraints without a copy per task.

use std::collections::VecDeque;

use ecsim_engine::{Scheduler, SimTime, Stream, Streams};
use ecsim_placement::{Constraint, GroupId};
use rand::RngExt;

use crate::core::Core;
use crate::ids::{ClusterId, DefId, JobId};
use crate::record::Sink;
use crate::scenario::{Arrival, Scenario};
use crate::sim::event::*;
use crate::trace::{TraceCounts, TraceReader, TraceTask, Traces};

/// One entry of a job's task mix, resolved.
#[derive(Clone)]
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
    /// A trace job's reader and the row being submitted.
    trace: Option<TraceRun>,
}

/// A trace job's state: its reader, the row whose tasks are being submitted (and how many are
/// left), and the mix entry of each of the reader's interned keys.
struct TraceRun {
    reader: TraceReader,
    row: Option<(TraceTask, u64)>,
    entries: Vec<Option<u32>>,
}

/// A task that has just arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrived {
    pub(crate) entry: u32,
    pub(crate) def: DefId,
    pub(crate) group: GroupId,
    pub(crate) run_ms: u64,
    /// CPU units and MiB when not the definition's (a trace row's).
    pub(crate) size: Option<(u32, u32)>,
}

/// Every job's arrival process and task mix.
///
/// Not `Clone`: a trace job reads an open file. [`Jobs::try_clone`] copies jobs without traces.
pub(crate) struct Jobs {
    jobs: Vec<JobState>,
    /// Tasks deferred by throttled RunTask calls, over all jobs.
    deferred: u64,
}

impl Jobs {
    /// A copy that continues exactly as these jobs would, or `None` when a job replays a trace
    /// (its reader is an open file, positioned mid-way).
    pub(crate) fn try_clone(&self) -> Option<Jobs> {
        let jobs = self
            .jobs
            .iter()
            .map(|j| {
                if j.trace.is_some() {
                    return None;
                }
                Some(JobState {
                    arrivals: j.arrivals.clone(),
                    mix: j.mix.clone(),
                    run_times: j.run_times.clone(),
                    emitted: j.emitted,
                    next_ms: j.next_ms,
                    entries: j.entries.clone(),
                    cumulative: j.cumulative.clone(),
                    deferred: j.deferred.clone(),
                    trace: None,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Jobs {
            jobs,
            deferred: self.deferred,
        })
    }

    /// Resolve the mixes (interning task groups in the core's placement) and derive the streams.
    pub(crate) fn new<S: Sink>(
        sc: &Scenario,
        core: &mut Core<'_, S>,
        streams: &Streams,
        traces: &mut Traces,
    ) -> Self {
        let mut jobs = Vec::new();
        for (ji, j) in sc.jobs.iter().enumerate() {
            // A trace job whose trace was not given (`sim::run`) reads an empty one.
            let trace = match &j.arrival {
                Arrival::Trace(spec) => Some(TraceRun {
                    reader: traces.take(ji).unwrap_or_else(|| {
                        TraceReader::new(spec, Box::new(std::io::Cursor::new(Vec::new())))
                    }),
                    row: None,
                    entries: Vec::new(),
                }),
                _ => None,
            };
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
                trace,
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
        let next = match &mut rt.trace {
            Some(tr) => next_row(tr),
            None => next_arrival(&sc.jobs[j.index()].arrival, rt),
        };
        let Some(t) = next else {
            return;
        };
        let t = t.max(sched.now().ms());
        if sc.simulation.duration_ms.is_some_and(|d| t >= d) {
            if let Some(tr) = &mut rt.trace
                && let Some((row, left)) = tr.row.take()
            {
                tr.reader.not_reached(&row, left);
            }
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

    /// A task of the job arrives: draw its mix entry and run time (a trace job: the next task
    /// of its current row).
    pub(crate) fn arrive<S: Sink>(
        &mut self,
        sc: &Scenario,
        core: &mut Core<'_, S>,
        j: JobId,
    ) -> Arrived {
        let rt = &mut self.jobs[j.index()];
        rt.emitted += 1;
        if rt.trace.is_some() {
            return trace_arrival(sc, core, j, rt);
        }
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
            size: None,
        }
    }

    /// Every trace job's counts, once the run is over (the rest of each trace is read to count
    /// the rows never reached): (job index, counts).
    pub(crate) fn finish_traces(&mut self) -> Vec<(usize, TraceCounts)> {
        self.jobs
            .iter_mut()
            .enumerate()
            .filter_map(|(j, rt)| {
                let tr = rt.trace.as_mut()?;
                if let Some((row, left)) = tr.row.take() {
                    tr.reader.not_reached(&row, left);
                }
                Some((j, tr.reader.finish()))
            })
            .collect()
    }
}

/// The submit time of a trace job's next task: the current row's while tasks of it are left,
/// else the next row's.
fn next_row(tr: &mut TraceRun) -> Option<u64> {
    if tr.row.is_none_or(|(_, left)| left == 0) {
        tr.row = tr.reader.next_task().map(|t| (t, t.count));
    }
    tr.row.map(|(t, _)| t.submit_ms)
}

/// The next task of a trace job's current row, with the mix entry of its group and constraint.
fn trace_arrival<S: Sink>(
    sc: &Scenario,
    core: &mut Core<'_, S>,
    j: JobId,
    rt: &mut JobState,
) -> Arrived {
    let tr = rt.trace.as_mut().expect("a trace job");
    let (row, left) = tr.row.as_mut().expect("an arrival has its row");
    *left -= 1;
    let row = *row;
    let k = row.key as usize;
    if tr.entries.len() <= k {
        tr.entries.resize(tr.reader.keys(), None);
    }
    let entry = match tr.entries[k] {
        Some(e) => e,
        None => {
            let e = rt.entries.len() as u32;
            rt.entries.push(trace_entry(
                sc,
                core,
                j,
                &rt.entries[0],
                tr.reader.key(row.key),
            ));
            tr.entries[k] = Some(e);
            e
        }
    };
    let e = &rt.entries[entry as usize];
    Arrived {
        entry,
        def: e.def,
        group: e.group,
        run_ms: row.run_ms,
        size: Some((row.cpu_units, row.memory_mib)),
    }
}

/// The mix entry of a trace key: the row's group (unless the job names one) and the job's
/// constraints plus the row's `memberOf` expression.
fn trace_entry<S: Sink>(
    sc: &Scenario,
    core: &mut Core<'_, S>,
    j: JobId,
    base: &Entry,
    (group, expr): (Option<&str>, Option<&str>),
) -> Entry {
    let job = &sc.jobs[j.index()];
    let group = match (&job.group, group) {
        (None, Some(g)) => core.group(ClusterId::new(job.cluster), g),
        _ => base.group,
    };
    let mut constraints = base.constraints.clone();
    if let Some(e) = expr {
        let e = ecsim_placement::Expr::parse(e).expect("the trace reader checked the expression");
        constraints.insert(job.constraints.len(), Constraint::MemberOf(e));
    }
    Entry {
        def: base.def,
        group,
        constraints,
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
            let t = crate::dist::round_ms(rt.next_ms);
            (!end_ms.is_some_and(|e| t > e)).then_some(t)
        }
        Arrival::Trace(_) => unreachable!("trace jobs read their rows (next_row)"),
    }
}
