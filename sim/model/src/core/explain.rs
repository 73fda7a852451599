//! Placement explanations for `--explain`: computed only when the sink asks for them.

use std::fmt::Write;

use ecsim_engine::SimTime;
use ecsim_placement::{
    BinpackField, InstanceId, PlacementFailure, SpreadField, Strategy, TaskRequest,
};

use super::Core;
use crate::ids::{ClusterId, Owner, TaskId};
use crate::record::{PlacementRecord, Sink};

/// The outcome of one placement attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt {
    /// Placed on this instance.
    Placed(InstanceId),
    /// Nothing fits, for this reason.
    Failed(PlacementFailure),
}

/// The name of a task's owner: its service or job.
pub(crate) fn owner_name(sc: &crate::scenario::Scenario, owner: Owner) -> &str {
    match owner {
        Owner::Service(s) => &sc.services[s.index()].name,
        Owner::Job(j, _) => &sc.jobs[j.index()].name,
    }
}

/// A strategy chain as ECS writes it: `spread(attribute:ecs.availability-zone) > binpack(cpu)`.
pub(crate) fn chain_text(chain: &[Strategy]) -> String {
    let mut s = String::new();
    for (k, st) in chain.iter().enumerate() {
        if k > 0 {
            s.push_str(" > ");
        }
        let _ = match st {
            Strategy::Binpack(BinpackField::Cpu) => write!(s, "binpack(cpu)"),
            Strategy::Binpack(BinpackField::Memory) => write!(s, "binpack(memory)"),
            Strategy::Spread(SpreadField::Instance) => write!(s, "spread(instanceId)"),
            Strategy::Spread(SpreadField::Attribute(a)) => write!(s, "spread(attribute:{a})"),
            Strategy::Random => write!(s, "random"),
        };
    }
    s
}

impl<S: Sink> Core<'_, S> {
    /// Explain a placement attempt to the sink, if it wants explanations (`--explain`); costs a
    /// branch otherwise. Call it with the cluster as it was when the choice was made. `only`:
    /// the one instance a daemon's task was tried on.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn explain_placement(
        &mut self,
        now: SimTime,
        c: ClusterId,
        owner: Owner,
        task: Option<TaskId>,
        req: &TaskRequest<'_>,
        attempt: Attempt,
        only: Option<InstanceId>,
    ) {
        if !self.out.sink.explains() {
            return;
        }
        let sc = self.sc;
        let pc = &self.clusters[c.index()].pc;
        let e = match only {
            Some(i) => pc.explain_on(i, req),
            None => pc.explain(req),
        };
        let (service, job) = match owner {
            Owner::Service(s) => (sc.services[s.index()].name.as_str(), ""),
            Owner::Job(j, _) => ("", sc.jobs[j.index()].name.as_str()),
        };
        let (chosen, failure) = match attempt {
            Attempt::Placed(i) => (
                self.clusters[c.index()].insts[i.0 as usize].ec2_id.as_str(),
                "",
            ),
            Attempt::Failed(f) => ("", f.code()),
        };
        let strategy = chain_text(req.strategy);
        self.out.sink.placement(&PlacementRecord {
            time_ms: now.ms(),
            task: task.map(|t| t.index() as u64),
            service,
            job,
            cluster: &sc.clusters[c.index()].name,
            explanation: &e,
            strategy: &strategy,
            chosen,
            failure,
        });
    }
}
