//! Failures: what breaks, when, and the record of each failure until the services it touched
//! recover.
//!
//! Each failure model draws from its own stream (`failures/instances`, `failures/spot`,
//! `failures/tasks`, `failures/fargate-spot`), so adding one leaves the others' timing unchanged.
//! * **Task crashes**: a task definition's `time_to_failure` (exponential, Weibull, ...) from
//!   RUNNING; the essential container exits and the service replaces the task.
//! * **Failed starts**: with `start_failure_probability` a task goes PENDING to STOPPED
//!   (`CannotPullContainerError`) without running; repeated failed starts throttle the service.
//! * **Instance failures**: a group's `time_to_failure`, or scripted. The instance dies at once:
//!   its tasks stop serving and nothing is placed on it, but ECS notices only after
//!   `failures.detection_delay` (AWS does not document it), then stops the tasks, and the Auto
//!   Scaling group launches a replacement.
//! * **AZ outages**: every instance in the AZ fails as above and Fargate tasks there are lost;
//!   for the outage's length nothing is placed or launched in the AZ (replacements go to the
//!   group's other AZs; they are not moved back afterwards).
//! * **EC2 Spot interruptions**: a Spot group's `spot_interruptions_per_hour`, or a scripted
//!   storm. The two-minute notice sets the instance DRAINING when `spot_instance_draining` is on
//!   (`ECS_ENABLE_SPOT_INSTANCE_DRAINING`, agent default off); either way the instance is gone
//!   two minutes later (EC2-UG spot-instance-termination-notices.html).
//! * **Fargate Spot interruptions**: a warning (stop code `TerminationNotice`) and SIGTERM; the
//!   task stops `stopTimeout` later (ECS-DG fargate-capacity-providers.html).
//! * **Draining** started by the scenario (ECS-DG container-instance-draining.html).
//!
//! This module owns the streams, the failure records and the AZs that are down; `sim` applies
//! the failures through the core. [`scripted`] chooses the targets of scripted failures;
//! [`tracking`] integrates availability and marks failures recovered.

pub(crate) mod scripted;
pub(crate) mod tracking;

use std::collections::BTreeMap;

use ecsim_engine::{Scheduler, SimTime, Stream, Streams};
use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::core::{Runs, Task};
use crate::ids::{InstanceRef, ServiceId, TaskId};
use crate::scenario::{PurchaseOption, Scenario};
use crate::sim::event::*;

/// What kind of failure a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    TaskCrash,
    InstanceFailure,
    AzOutage,
    AzOutageFargate,
    SpotInterruption,
    FargateSpotInterruption,
    Drain,
}

impl FailureKind {
    /// The name written in failures.csv.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureKind::TaskCrash => "task_crash",
            FailureKind::InstanceFailure => "instance_failure",
            FailureKind::AzOutage => "az_outage",
            FailureKind::AzOutageFargate => "az_outage_fargate",
            FailureKind::SpotInterruption => "spot_interruption",
            FailureKind::FargateSpotInterruption => "fargate_spot_interruption",
            FailureKind::Drain => "drain",
        }
    }
}

/// One failure, for failures.csv and the recovery summary.
#[derive(Debug, Clone)]
pub(crate) struct FailureRecord {
    pub(crate) at: SimTime,
    pub(crate) kind: FailureKind,
    pub(crate) target: String,
    pub(crate) tasks_lost: u32,
    pub(crate) services: Vec<ServiceId>,
    /// How long after `at` every service touched was back at its desired count.
    pub(crate) recovered: Option<u64>,
    /// ECS has noticed (recovery is measured from then on).
    pub(crate) detected: bool,
}

/// Index of a failure record (an event payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureId(pub(crate) u32);

/// What an instance waits for ECS to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Pending {
    /// A failure ECS has not noticed yet.
    Failure,
    /// A Spot notice whose two minutes are running.
    SpotNotice,
}

/// The failure models' streams and records.
#[derive(Clone)]
pub(crate) struct Failures {
    instances: Stream,
    spot: Stream,
    tasks: Stream,
    fargate: Stream,
    records: Vec<FailureRecord>,
    /// The records not recovered from yet, oldest first (the check after every event reads only
    /// these, not every failure of the run).
    open: Vec<u32>,
    /// The record of each instance failure or Spot notice not yet acted on (an instance has at
    /// most one of each: it fails once and is noticed once).
    pending: BTreeMap<(InstanceRef, Pending), FailureId>,
    az_down: Vec<String>,
    /// Availability and recovery measures.
    pub(crate) tracking: tracking::Tracking,
}

impl Failures {
    /// The streams of a run.
    pub(crate) fn new(sc: &Scenario, streams: &Streams) -> Self {
        Failures {
            instances: streams.stream("failures/instances"),
            spot: streams.stream("failures/spot"),
            tasks: streams.stream("failures/tasks"),
            fargate: streams.stream("failures/fargate-spot"),
            records: Vec::new(),
            open: Vec::new(),
            pending: BTreeMap::new(),
            az_down: Vec::new(),
            tracking: tracking::Tracking::new(sc),
        }
    }

    /// Schedule random failures of a new instance.
    pub(crate) fn arm_instance(
        &mut self,
        sc: &Scenario,
        r: InstanceRef,
        group: usize,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let g = &sc.clusters[r.cluster.index()].groups[group];
        if let Some(d) = &g.time_to_failure {
            let t = d.sample(&mut self.instances);
            sched.schedule_in(t, Ev::Failure(FailureEv::InstanceFailed(r)));
        }
        if g.purchase_option == PurchaseOption::Spot && g.spot_interruptions_per_hour > 0.0 {
            let x: f64 = Exp::new(g.spot_interruptions_per_hour)
                .expect("positive")
                .sample(&mut self.spot);
            let at = now.plus_ms((x * 3_600_000.0) as u64);
            sched.schedule_at(at, Ev::Failure(FailureEv::SpotNotice(r)));
        }
    }

    /// A task reached RUNNING: schedule its crash and its Fargate Spot interruption, if any.
    pub(crate) fn arm_task(
        &mut self,
        sc: &Scenario,
        tid: TaskId,
        t: &Task,
        sched: &mut Scheduler<Ev>,
    ) {
        let d = &sc.task_definitions[t.def.index()];
        if let Some(ttf) = &d.time_to_failure {
            let x = ttf.sample(&mut self.tasks);
            sched.schedule_in(x, Ev::Failure(FailureEv::TaskCrash(tid)));
        }
        let rate = sc.failures.fargate_spot_interruptions_per_task_hour;
        if rate > 0.0 && matches!(t.runs, Runs::Fargate { spot: true, .. }) {
            let x: f64 = Exp::new(rate).expect("positive").sample(&mut self.fargate);
            sched.schedule_in(
                (x * 3_600_000.0) as u64,
                Ev::Failure(FailureEv::FargateSpotNotice(tid)),
            );
        }
    }

    /// Decide at PENDING whether a task will fail to start.
    pub(crate) fn roll_start_failure(&mut self, sc: &Scenario, t: &Task) -> bool {
        let p = sc.task_definitions[t.def.index()].start_failure_probability;
        p > 0.0 && self.tasks.random::<f64>() < p
    }

    /// Record a failure; returns its id.
    pub(crate) fn record(&mut self, r: FailureRecord) -> FailureId {
        let k = u32::try_from(self.records.len()).expect("failure ids fit in 32 bits");
        if r.recovered.is_none() {
            self.open.push(k);
        }
        self.records.push(r);
        FailureId(k)
    }

    /// Keep the record of a failure or notice until ECS acts on it.
    pub(crate) fn set_pending(&mut self, r: InstanceRef, what: Pending, f: FailureId) {
        let old = self.pending.insert((r, what), f);
        assert!(old.is_none(), "{r:?} has one {what:?} at a time");
    }

    /// The record of a failure or notice ECS acts on now.
    pub(crate) fn take_pending(&mut self, r: InstanceRef, what: Pending) -> FailureId {
        self.pending
            .remove(&(r, what))
            .expect("every detection event has its record")
    }

    /// ECS noticed a failure.
    pub(crate) fn detected(&mut self, f: FailureId) {
        if let Some(r) = self.records.get_mut(f.0 as usize) {
            r.detected = true;
        }
    }

    /// Every failure so far.
    pub(crate) fn records(&self) -> &[FailureRecord] {
        &self.records
    }

    /// Some failure is not yet recovered from.
    pub(crate) fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Mark failures recovered once every service they touched is back at its desired count
    /// (`back(s)`).
    pub(crate) fn check_recovery(&mut self, now: SimTime, back: impl Fn(ServiceId) -> bool) {
        let records = &mut self.records;
        self.open.retain(|&k| {
            let f = &mut records[k as usize];
            if f.detected && f.services.iter().all(|&s| back(s)) {
                f.recovered = Some(now.since(f.at));
            }
            f.recovered.is_none()
        });
    }

    /// An AZ goes down.
    pub(crate) fn az_down(&mut self, az: &str) {
        self.az_down.push(az.to_string());
    }

    /// An AZ is back.
    pub(crate) fn az_restored(&mut self, az: &str) {
        self.az_down.retain(|a| a != az);
    }

    /// The AZs that are down.
    pub(crate) fn azs_down(&self) -> &[String] {
        &self.az_down
    }

    /// A seeded shuffle on the Spot stream (which Spot instances a storm hits).
    pub(crate) fn shuffle_spot<T>(&mut self, v: &mut [T]) {
        for j in (1..v.len()).rev() {
            let r = self.spot.random_range(0..=j);
            v.swap(j, r);
        }
    }

    /// A seeded shuffle on the Fargate Spot stream.
    pub(crate) fn shuffle_fargate<T>(&mut self, v: &mut [T]) {
        for j in (1..v.len()).rev() {
            let r = self.fargate.random_range(0..=j);
            v.swap(j, r);
        }
    }
}
