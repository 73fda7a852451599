//! `--explain`'s `decisions.csv` rows for the stops `sim/` applies: which task a scale-in, a
//! retirement (DRAINING instance, older task definition, Fargate Spot warning), a daemon's
//! instance draining or an Availability Zone rebalancing move stopped, and the rule that chose
//! it. Nothing is formatted unless the sink explains.

use std::fmt::{self, Write as _};

use ecsim_engine::SimTime;

use super::Simulation;
use crate::core::Runs;
use crate::ids::{ServiceId, TaskId};
use crate::record::{DecisionRecord, Sink};

impl<S: Sink> Simulation<'_, S> {
    /// Whether decisions are explained (`--explain`).
    pub(super) fn explains(&self) -> bool {
        self.core.out.sink.explains()
    }

    /// Explain the stop of service `s`'s task `tid` (call it before the stop, with the task as
    /// the rule saw it): `chosen` is the instance it runs on (its AZ on Fargate, empty when not
    /// placed); `details` the rule's numbers, followed by the task's AZ, provider and state.
    pub(super) fn explain_stop(
        &mut self,
        (kind, reason): (&str, &str),
        s: ServiceId,
        tid: TaskId,
        details: fmt::Arguments<'_>,
        now: SimTime,
    ) {
        if !self.explains() {
            return;
        }
        let sc = self.core.sc;
        let t = self.core.task(tid);
        let (chosen, az) = match t.runs {
            Runs::Fargate { az, .. } => {
                let az = sc.services[s.index()].availability_zones[az as usize].as_str();
                (az, az)
            }
            Runs::Ec2 { .. } => match t.instance_ref() {
                Some(r) => {
                    let x = self.core.instance(r);
                    (x.ec2_id.as_str(), x.az.as_str())
                }
                None => ("", ""),
            },
        };
        let provider = &self.core.billing.provider_names[t.provider as usize];
        let mut text = String::new();
        let _ = write!(
            text,
            "{details};az={az};provider={provider};state={}",
            t.state.as_str()
        );
        let chosen = chosen.to_string();
        self.core.out.sink.decision(&DecisionRecord {
            time_ms: now.ms(),
            kind,
            subject: &sc.services[s.index()].name,
            task: Some(tid.index() as u64),
            chosen: &chosen,
            reason,
            details: &text,
        });
    }

    /// Why a live task of service `s` is retiring (see `retiring`): `spot_warning`,
    /// `old_task_definition` or `instance_draining`.
    pub(super) fn retire_reason(&self, s: ServiceId, tid: TaskId) -> &'static str {
        let t = self.core.task(tid);
        if t.retiring {
            "spot_warning"
        } else if t.def != self.deployments.primary_def(s) && !self.deployments.halted(s) {
            "old_task_definition"
        } else {
            "instance_draining"
        }
    }
}
