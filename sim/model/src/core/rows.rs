//! The core's tables: one row per task (tasks.csv), written as each task finishes (its record
//! is freed then) and for the tasks still live at the end, and the cost rows (cost.csv) from
//! the ledger.

use ecsim_engine::SimTime;

use super::{Core, FREE, Outcome, Runs, TaskState};
use crate::billing::cost_rows;
use crate::ids::{Owner, TaskId};
use crate::record::{CostSummary, Sink, TaskRow};

impl<S: Sink> Core<'_, S> {
    /// Tasks that finished during the event just handled: write their rows, count their waits
    /// and free their records (their slots are reused by the next tasks created).
    #[inline]
    pub(crate) fn reclaim(&mut self) {
        if !self.ended.is_empty() {
            self.reclaim_ended();
        }
    }

    fn reclaim_ended(&mut self) {
        let rows = self.out.sink.wants_tasks();
        for k in 0..self.ended.len() {
            let tid = self.ended[k];
            // `task_done` without its call: a finished task was placed or stopped (the end of
            // the run plays no part), and nothing reads whether it was never placed.
            if rows {
                self.task_row(tid, SimTime::ZERO);
            }
            let t = &mut self.tasks[tid.index()];
            let waited_to = t.placed().or(t.stopped()).unwrap_or(SimTime::ZERO);
            let waited = waited_to.since(t.created);
            t.seq = FREE;
            self.counters.task_waited(waited);
            self.free.push(tid.1);
        }
        self.ended.clear();
    }

    /// Write the rows of the tasks still live at the end (in creation order, after the rows of
    /// the tasks that finished, written as they finished); returns how many were never placed.
    pub(crate) fn write_task_rows(&mut self, end: SimTime) -> u64 {
        self.reclaim();
        let mut live: Vec<TaskId> = self.live_tasks().map(|(tid, _)| tid).collect();
        live.sort_unstable();
        let rows = self.out.sink.wants_tasks();
        live.into_iter()
            .map(|tid| u64::from(self.task_done(tid, end, rows)))
            .sum()
    }

    /// Count a task's wait (to `end` if it never got placed or stopped) and write its row if
    /// `row`; returns whether it was never placed.
    fn task_done(&mut self, tid: TaskId, end: SimTime, row: bool) -> bool {
        let t = &self.tasks[tid.index()];
        let waited_to = t.placed().or(t.stopped()).unwrap_or(end);
        self.counters.task_waited(waited_to.since(t.created));
        let never_placed = t.outcome == Outcome::Open && t.state == TaskState::Provisioning;
        if row {
            self.task_row(tid, end);
        }
        never_placed
    }

    /// Write one task's row.
    #[inline(never)]
    fn task_row(&mut self, tid: TaskId, end: SimTime) {
        let sc = self.sc;
        let t = &self.tasks[tid.index()];
        let c = &self.clusters[t.cluster.index()];
        let (service, job, azs) = match t.owner {
            Owner::Service(s) => {
                let d = &sc.services[s.index()];
                (d.name.as_str(), "", &d.availability_zones)
            }
            Owner::Job(j, _) => {
                let d = &sc.jobs[j.index()];
                ("", d.name.as_str(), &d.availability_zones)
            }
        };
        let (outcome, reason) = match (t.outcome, t.state) {
            (Outcome::Completed, _) => ("completed", "EssentialContainerExited"),
            (Outcome::Failed(why), _) => ("failed", why),
            (Outcome::FailedToPlace(w), _) => ("failed_to_place", w.code()),
            (Outcome::StoppedByScheduler, _) => {
                ("stopped_by_scheduler", "ServiceSchedulerInitiated")
            }
            (Outcome::Open, TaskState::Provisioning) => ("never_placed", ""),
            (Outcome::Open, TaskState::Running) => ("running_at_end", ""),
            (Outcome::Open, TaskState::Stopping) => ("stopping_at_end", ""),
            (Outcome::Open, _) => ("pending_at_end", ""),
        };
        let (instance, az) = match (t.runs, t.instance) {
            (Runs::Fargate { az, .. }, _) => ("", azs[az as usize].as_str()),
            (Runs::Ec2 { .. }, None) => ("", ""),
            (Runs::Ec2 { .. }, Some(i)) => {
                let i = &c.insts[i.0 as usize];
                (i.ec2_id.as_str(), i.az.as_str())
            }
        };
        let waited_to = t.placed().or(t.stopped()).unwrap_or(end);
        self.out.sink.task(&TaskRow {
            task_id: u64::from(tid.0),
            task_definition: &sc.task_definitions[t.def.index()].family,
            service,
            job,
            group: c.pc.group_name(t.group),
            cluster: &sc.clusters[t.cluster.index()].name,
            instance,
            availability_zone: az,
            created_ms: t.created.ms(),
            pending_ms: t.placed().map(SimTime::ms),
            running_ms: t.running().map(SimTime::ms),
            stopped_ms: t.stopped().map(SimTime::ms),
            wait_ms: waited_to.since(t.created),
            outcome,
            reason,
        });
    }

    /// Instance-hours from launch to stop (or the end).
    pub(crate) fn instance_hours(&self, end: SimTime) -> f64 {
        let ms: u128 = self
            .clusters
            .iter()
            .flat_map(|c| &c.insts)
            .map(|i| {
                u128::from(
                    i.stopped_at
                        .unwrap_or(end)
                        .min(end)
                        .saturating_since(i.launched),
                )
            })
            .sum();
        ms as f64 / 3_600_000.0
    }

    /// Write cost.csv and sum it into the summary's costs.
    pub(crate) fn write_cost_rows(&mut self) -> CostSummary {
        let has_ec2 = self.clusters.iter().any(|c| !c.insts.is_empty());
        let task_hours = self.counters.task_ms as f64 / 3_600_000.0;
        cost_rows(
            self.sc,
            &mut self.billing.ledger,
            &self.billing.provider_names,
            has_ec2,
            task_hours,
            &mut self.out.sink,
        )
    }
}
